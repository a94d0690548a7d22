"""The raw tables of a Spark build: one temporary view per raw table, registered before dbt.

Spark SQL has no glob() or file listing, so the launcher finds each table's layout (the rules
of the macro raw_table_files, docs/architecture.md "Raw data") with Spark's own reader, which
works on any file system Spark reaches (local, s3a://, abfss://, over Spark Connect too):

    single       RAW_DATA_DIR/<table>.parquet, a file or a folder of Parquet files
    partitioned  RAW_DATA_DIR/<table>/load_date=YYYY-MM-DD/*.parquet (any folders below)
    both         both at once: the build stops (spark__raw_table_files names the table)
    missing      neither: the build stops (check_raw_sources names the path)

and registers RAW_VIEW_PREFIX<table> over its files (every raw column, plus the file's path,
its name in the warehouse, size, modification time and the row's number in the file, as
DuckDB's read_parquet gives them), and LAYOUTS_VIEW (raw_table, layout, location): the
macros read both, and compare `location` with the sources' external_location.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from privseg.core.settings import PROJECT_DIR, RAW_TABLES
from privseg.spark.session import LAYOUTS_VIEW, RAW_VIEW_PREFIX

RAW_DIR_ENV_VAR = "RAW_DATA_DIR"
DEFAULT_RAW_DIR = "data/raw"  # the default of the sources' external_location (dbt_project.yml)


def raw_dir_setting() -> str:
    """RAW_DATA_DIR as the sources' external_location renders it (relative to the project)."""
    return os.environ.get(RAW_DIR_ENV_VAR) or DEFAULT_RAW_DIR


def _absolute(location: str) -> str:
    """A local path relative to the project made absolute; a URI (s3a://...) as it is."""
    if "://" in location or location.startswith("/"):
        return location
    return str(PROJECT_DIR / location)


def _read(session: Any, location: str) -> Any | None:
    """The Parquet files at `location` (a file or every *.parquet below a folder), or None
    when there is none. No partition columns: load_date stays part of the file's name."""
    from pyspark.errors import AnalysisException

    try:
        return (
            session.read.option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.parquet")
            .parquet(_absolute(location))
        )
    except AnalysisException:
        return None


def _file_name(layout: str, table: str) -> str:
    """SQL for a row's file name in the warehouse, from Spark's file path: the basename for a
    single file, else the path below the table's folder (as raw_source_file_name does)."""
    path = "_metadata.file_path"
    if layout == "file":
        return f"regexp_extract({path}, '[^/]+$', 0)"
    folder = f"{table}\\\\.parquet" if layout == "folder" else table
    return f"regexp_extract({path}, '^.*/{folder}/(.+)$', 1)"


def register_raw_views(session: Any, tables: tuple[str, ...] = RAW_TABLES) -> dict[str, str]:
    """Register one view per raw table and LAYOUTS_VIEW; return {table: layout}."""
    raw_dir = raw_dir_setting().rstrip("/")
    layouts: dict[str, str] = {}
    rows = []
    for table in tables:
        location = f"{raw_dir}/{table}.parquet"
        single = _read(session, location)
        partitioned = _read(session, f"{raw_dir}/{table}")
        if single is not None and partitioned is not None:
            layout = "both"
        elif single is not None:
            is_folder = Path(_absolute(location)).is_dir() if "://" not in location else False
            layout = "folder" if is_folder else "file"
        elif partitioned is not None:
            layout = "partitioned"
        else:
            layout = "missing"
        layouts[table] = layout
        rows.append((table, layout, location))
        frame = single if layout in ("file", "folder") else partitioned
        if frame is None or layout == "both":
            continue
        frame.selectExpr(
            "*",
            "_metadata.file_path as _source_file_path",
            f"{_file_name(layout, table)} as _source_file",
            "_metadata.file_size as _source_file_size",
            "_metadata.file_modification_time as _source_file_modified",
            "_metadata.row_index as _source_row_number",
        ).createOrReplaceTempView(RAW_VIEW_PREFIX + table)
    session.createDataFrame(
        rows, "raw_table string, layout string, location string"
    ).createOrReplaceTempView(LAYOUTS_VIEW)
    return layouts
