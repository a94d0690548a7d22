"""Shared helpers for the scripts: project paths, settings from env vars, dbt runs.

Everything a script needs to know about where things live comes from here, so
the defaults in README's env var table exist in exactly one place.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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
        )

    def export(self) -> None:
        """Put the resolved paths into the environment that profiles.yml reads."""
        os.environ["RAW_DATA_DIR"] = str(self.raw_data_dir)
        os.environ["WAREHOUSE_PATH"] = str(self.warehouse_path)
        os.environ["PUBLISH_DIR"] = str(self.publish_dir)
        os.environ["DBT_TARGET"] = self.target


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


def dbt_executable() -> str:
    """The dbt installed next to the running Python (the project's .venv)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: list[str], env: dict[str, str] | None = None, capture: bool = False
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
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, **(env or {})},
        text=True,
        capture_output=capture,
        check=False,
    )
