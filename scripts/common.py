"""Shared helpers for the scripts: project paths, settings from env vars, dbt runs.

Everything a script needs to know about where things live comes from here, so
the defaults in the environment variable table of docs/operations.md exist in exactly one place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parent.parent

# The raw tables the dbt sources read: RAW_DATA_DIR/<table>.parquet.
RAW_TABLES = (
    "customers",
    "products",
    "orders",
    "order_items",
    "web_events",
    "campaigns",
    "email_events",
    "consent_events",
    "preferences",
    "erasure_requests",
)


@dataclass(frozen=True)
class Settings:
    """Paths of one run, resolved against the project directory."""

    raw_data_dir: Path
    warehouse_path: Path
    publish_dir: Path
    target: str
    target_dir: Path
    log_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        def path(var: str, default: str) -> Path:
            value = os.environ.get(var) or default
            candidate = Path(value)
            return candidate if candidate.is_absolute() else PROJECT_DIR / candidate

        return cls(
            raw_data_dir=path("RAW_DATA_DIR", "data/raw"),
            warehouse_path=path("WAREHOUSE_PATH", "data/warehouse.duckdb"),
            publish_dir=path("PUBLISH_DIR", "data/published"),
            target=os.environ.get("DBT_TARGET") or "dev",
            # dbt reads these two itself (and so do the audit and the publication).
            target_dir=path("DBT_TARGET_PATH", "target"),
            log_dir=path("DBT_LOG_PATH", "logs"),
        )

    def export(self) -> None:
        """Put the resolved paths into the environment that profiles.yml reads."""
        os.environ["RAW_DATA_DIR"] = str(self.raw_data_dir)
        os.environ["WAREHOUSE_PATH"] = str(self.warehouse_path)
        os.environ["PUBLISH_DIR"] = str(self.publish_dir)
        os.environ["DBT_TARGET"] = self.target
        os.environ["DBT_TARGET_PATH"] = str(self.target_dir)
        os.environ["DBT_LOG_PATH"] = str(self.log_dir)


KEY_ENV_VAR = "DBT_ENV_SECRET_PSEUDONYM_KEY"
KEY_FILE_ENV_VAR = "PSEUDONYM_KEY_FILE"
DEFAULT_KEY_FILE = ".secrets/pseudonym.key"


def ensure_pseudonym_key() -> None:
    """Make sure dbt will get a pseudonymization key, never printing it.

    Uses DBT_ENV_SECRET_PSEUDONYM_KEY when set. Otherwise reads the local key
    file (PSEUDONYM_KEY_FILE, default .secrets/pseudonym.key), creating it once
    with a random key, readable by its owner only. The file is gitignored:
    lose it and every pseudonym changes (see docs/operations.md, Keys and rotation).
    """
    if os.environ.get(KEY_ENV_VAR, "").strip():
        logging.info("pseudonymization key: from %s", KEY_ENV_VAR)
        return
    key_file = Path(os.environ.get(KEY_FILE_ENV_VAR) or DEFAULT_KEY_FILE)
    if not key_file.is_absolute():
        key_file = PROJECT_DIR / key_file
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        logging.info("pseudonymization key: created %s (mode 600; keep it safe)", key_file)
    else:
        logging.info("pseudonymization key: from %s", key_file)
    os.environ[KEY_ENV_VAR] = key_file.read_text().strip()


def pseudonymizer(key: bytes) -> Callable[[object], str]:
    """customer_key as the project computes it, lower(hex(HMAC-SHA256(key, 'customer:' || id))),
    with the key bound, for many ids: the two HMAC pads are absorbed into SHA-256 states once
    and copied per id (RFC 2104), about 2.5x faster than hmac.digest."""
    # The pads come from the dbt plugin, so scripts and the build make the same pseudonyms.
    sys.path.append(str(PROJECT_DIR / "plugins"))
    from pseudonym_key import hmac_pads

    ipad, opad = hmac_pads(key)
    inner_start, outer_start = hashlib.sha256(ipad), hashlib.sha256(opad)

    def pseudonym(customer_id: object) -> str:
        inner = inner_start.copy()
        inner.update(f"customer:{customer_id}".encode())
        outer = outer_start.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    return pseudonym


def privacy_meta(entry: Mapping) -> dict:
    """meta.privacy of a manifest node, source, column or exposure ({} if none); dbt 1.11 keeps
    meta both under config and at the top level."""
    for meta in ((entry.get("config") or {}).get("meta"), entry.get("meta")):
        if isinstance(meta, Mapping) and isinstance(meta.get("privacy"), Mapping):
            return dict(meta["privacy"])
    return {}


def published_models(manifest: dict) -> list[dict]:
    """Model nodes marked meta.privacy.published, by name."""
    nodes = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and privacy_meta(node).get("published")
    ]
    return sorted(nodes, key=lambda node: node["name"])


def failed_nodes(run_results: dict) -> list[str]:
    """'<unique_id> (<status>)' of every node of a dbt run that did not succeed.

    Exposures are documentation: `dbt build` reports them as no-op."""
    return sorted(
        f"{r['unique_id']} ({r['status']})"
        for r in run_results["results"]
        if r["status"] not in ("success", "pass")
        and not (r["unique_id"].startswith("exposure.") and r["status"] == "no-op")
    )


def write_json_atomically(path: Path, data: object) -> None:
    """Write `data` as JSON atomically (see write_text_atomically)."""
    write_text_atomically(path, json.dumps(data, indent=2, default=str) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path`, fsync it, then rename it over `path`:
    a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".tmp")
    try:
        with staged.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


def missing_raw_tables(raw_data_dir: Path) -> list[str]:
    """Raw tables with neither a <table>.parquet file nor a folder of that name."""
    return [t for t in RAW_TABLES if not (raw_data_dir / f"{t}.parquet").exists()]


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
    os.replace(target, path)
    return before, path.stat().st_size


def dbt_executable() -> str:
    """The dbt installed next to the running Python (the project's .venv)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: list[str],
    env: dict[str, str] | None = None,
    capture: bool = False,
    project_dir: Path = PROJECT_DIR,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command in a child process from the project directory.

    A child process, not dbtRunner: dbt-duckdb keeps the database open in the
    process that ran it, which would stop the caller (or a test) from opening
    the warehouse afterwards. dbt prints one progress line per node; with
    capture=True the output is returned instead of shown.
    """
    return subprocess.run(
        [
            dbt_executable(),
            *args,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
        ],
        cwd=project_dir,
        env={**os.environ, **(env or {})},
        text=True,
        capture_output=capture,
        check=False,
    )
