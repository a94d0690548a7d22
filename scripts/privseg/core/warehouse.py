"""Physical erasure: rewrite the DuckDB warehouse file with only its live data."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb


class CompactionError(RuntimeError):
    """The compacted copy could not be written; the message names the copy's file."""


def compact_database(path: Path) -> tuple[int, int]:
    """Rewrite the DuckDB file with only its live data; return (bytes before, after).

    DuckDB's DELETE, DROP and CHECKPOINT free blocks but leave their bytes in
    the file, so an erased subject's rows could still be read from it. Copying
    the database into a new file and renaming it over the old one (atomic)
    leaves nothing behind. The copy is attached under the original file's
    name, so views that name their catalog still bind. On failure the copy is
    removed and CompactionError names it (DuckDB's own message may not: a
    full disk can surface only as a failed checkpoint of the attached alias).
    """
    before = path.stat().st_size
    target = path.with_name(path.stem + ".compacting" + path.suffix)
    target.unlink(missing_ok=True)
    config = {"force_compression": os.environ.get("DUCKDB_FORCE_COMPRESSION") or "auto"}
    con = duckdb.connect(config=config)
    try:
        con.execute(f"attach '{path}' as \"{path.stem}\" (read_only)")
        con.execute(f"attach '{target}' as compacting")
        con.execute(f'copy from database "{path.stem}" to compacting')
        con.execute("detach compacting")
        con.execute(f'detach "{path.stem}"')
    except duckdb.Error as error:
        con.close()
        target.unlink(missing_ok=True)
        raise CompactionError(f"writing the compacted copy {target}: {error}") from error
    except BaseException:
        con.close()
        target.unlink(missing_ok=True)
        raise
    con.close()
    # Owner-only whatever the umask of the caller (invariant 10; the pipeline sets it too).
    os.chmod(target, 0o600)
    os.replace(target, path)
    return before, path.stat().st_size


# Where every dbt build (or run, seed, snapshot) records its invocation id: the on-run-end hook
# record_build_id (macros/utils/record_build_id.sql).
BUILD_ID_TABLE = "main.dbt_build_id"
LOCKED = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def warehouse_build_id(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> str | None:
    """The id of the dbt build that last wrote the warehouse open on `con`, or None."""
    table = f'"{catalog}".{BUILD_ID_TABLE}' if catalog else BUILD_ID_TABLE
    try:
        row = con.execute(f"select any_value(build_id) from {table}").fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None


def writer_holding(path: Path) -> str | None:
    """'PID n (program)' when another process has the DuckDB file open for writing, else None."""
    if not path.is_file():
        return None
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.IOException as error:
        found = LOCKED.search(str(error))
        if found:
            return f"PID {found.group(2)} ({Path(found.group(1)).name})"
        if "lock" in str(error).lower():
            return "another process"
        raise
    return None
