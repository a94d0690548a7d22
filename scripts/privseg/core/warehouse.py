"""Physical erasure: rewrite the DuckDB warehouse file with only its live data."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def compact_database(path: Path) -> tuple[int, int]:
    """Rewrite the DuckDB file with only its live data; return (bytes before, after).

    DuckDB's DELETE, DROP and CHECKPOINT free blocks but leave their bytes in
    the file, so an erased subject's rows could still be read from it. Copying
    the database into a new file and renaming it over the old one (atomic)
    leaves nothing behind. The copy is attached under the original file's
    name, so views that name their catalog still bind.
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
    except BaseException:
        con.close()
        target.unlink(missing_ok=True)
        raise
    con.close()
    # Owner-only whatever the umask of the caller (invariant 10; the pipeline sets it too).
    os.chmod(target, 0o600)
    os.replace(target, path)
    return before, path.stat().st_size
