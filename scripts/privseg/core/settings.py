"""Where things live: the project folder, the raw tables, and the paths of one run.

Every default of the env vars documented in docs/operations.md exists here and only here
(the dashboard's own SUPERSET_* variables: privseg.dashboard.settings).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# scripts/privseg/core/settings.py -> the project folder (the dbt project).
PROJECT_DIR = Path(__file__).resolve().parents[3]

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

# DuckDB storage format of the publication's segments.duckdb (PUBLISH_STORAGE_VERSION). BI
# tools bundle DuckDB 1.x, and no 1.x client opens a file in DuckDB 2.0's own format. Measured
# with the clients' Python packages: v1.0.0 is read by 1.0.0, 1.1.3, 1.2.2, 1.3.2, 1.4.4, 1.5.6
# and 2.0.1; v1.2.0 ... v1.5.0 need that client release or newer; "latest" (2.0) needs 2.0.
DEFAULT_STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class Settings:
    """Paths of one run, resolved against the project directory."""

    raw_data_dir: Path
    warehouse_path: Path
    publish_dir: Path
    target: str
    target_dir: Path
    log_dir: Path
    publish_storage_version: str
    # How the publication is shared (privseg.core.modes): PUBLISH_MODE, PUBLISH_GROUP.
    publish_mode: str = "group"
    publish_group: str | None = None

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
            publish_storage_version=(
                os.environ.get("PUBLISH_STORAGE_VERSION") or DEFAULT_STORAGE_VERSION
            ),
            publish_mode=os.environ.get("PUBLISH_MODE") or "group",
            publish_group=os.environ.get("PUBLISH_GROUP") or None,
        )

    def export(self) -> None:
        """Put the resolved paths into the environment that profiles.yml reads."""
        os.environ["RAW_DATA_DIR"] = str(self.raw_data_dir)
        os.environ["WAREHOUSE_PATH"] = str(self.warehouse_path)
        os.environ["PUBLISH_DIR"] = str(self.publish_dir)
        os.environ["DBT_TARGET"] = self.target
        os.environ["DBT_TARGET_PATH"] = str(self.target_dir)
        os.environ["DBT_LOG_PATH"] = str(self.log_dir)


def missing_raw_tables(raw_data_dir: Path) -> list[str]:
    """Raw tables with neither a <table>.parquet file or folder nor a <table> folder (the
    partitioned layout, <table>/load_date=YYYY-MM-DD/*.parquet)."""
    return [
        t
        for t in RAW_TABLES
        if not (raw_data_dir / f"{t}.parquet").exists() and not (raw_data_dir / t).is_dir()
    ]


def raw_table_read(raw_data_dir: Path, table: str) -> str:
    """A read_parquet(...) of one raw table in whichever layout it is in, for scripts that read
    raw data without dbt (the dbt models decide the same in macro raw_table_files)."""
    single = raw_data_dir / f"{table}.parquet"
    if single.is_dir():
        pattern = f"{single}/**/*.parquet"
    elif not single.exists() and (raw_data_dir / table).is_dir():
        pattern = f"{raw_data_dir / table}/**/*.parquet"
    else:
        pattern = str(single)
    quoted = pattern.replace("'", "''")
    return f"read_parquet('{quoted}', hive_partitioning = false)"


def project_vars() -> dict[str, Any]:
    """The dbt project's vars as dbt_project.yml declares them (the defaults of a build)."""
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text()).get("vars") or {}
