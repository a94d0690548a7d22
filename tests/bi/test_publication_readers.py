"""The publication opens in DuckDB 1.x, what BI tools bundle: DuckDB 1.0.0 (the oldest 1.x, in a
throwaway venv cached under target/bi/) and the DuckDB of Superset's venv read every table,
row for row as the project's DuckDB 2.x does. A file in DuckDB 2.0's own format is refused by
the same 1.x client (the check can fail)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from privseg.core.settings import PROJECT_DIR

OLDEST_1X = "1.0.0"
CLIENT_CACHE = PROJECT_DIR / "target" / "bi" / f"duckdb-{OLDEST_1X}"

# Runs in the other interpreter: every table of the file, rows as JSON (values as text).
TABLES = "select table_name from duckdb_tables() order by 1"
READER = f"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [t for (t,) in con.execute("{TABLES}").fetchall()]
rows = {{t: con.execute(f'select * from "{{t}}" order by all').fetchall() for t in tables}}
print(json.dumps({{"version": duckdb.__version__, "rows": rows}}, default=str))
"""


def _oldest_client() -> Path:
    """A venv with duckdb==1.0.0 only, made once (PyPI) and kept under target/bi/."""
    python = CLIENT_CACHE / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CLIENT_CACHE)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            + [f"duckdb=={OLDEST_1X}"],
            check=True,
        )
    return python


def _read_with(python: Path, database: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-c", READER, str(database)], capture_output=True, text=True, check=False
    )


def _read_here(database: Path) -> dict:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall()
        ]
        rows = {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in tables}
    return json.loads(json.dumps(rows, default=str))


@pytest.mark.parametrize("client", ["oldest 1.x", "superset"])
def test_duckdb_1x_clients_read_every_published_table(bi, client):
    python = _oldest_client() if client == "oldest 1.x" else bi.venv / "bin" / "python"
    done = _read_with(python, bi.publication)
    assert done.returncode == 0, done.stderr[-2000:]
    read = json.loads(done.stdout)
    assert read["version"].startswith("1."), read["version"]
    expected = _read_here(bi.publication)
    assert set(expected) == {
        "fct_segment_profiles",
        "publication_info",
        "rpt_campaign_performance",
        "rpt_cohort_retention",
        "rpt_contextual_audiences",
        "rpt_lifetime_value",
        "rpt_segment_summary",
    }
    for table, rows in expected.items():
        assert rows, f"{table} is empty"
        assert read["rows"][table] == rows, table


def test_duckdb_1x_refuses_a_file_in_duckdb_2_format(tmp_path):
    """The control: written without a storage version, a file needs DuckDB 2.x."""
    database = tmp_path / "latest.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table t as select 1 as x")
    done = _read_with(_oldest_client(), database)
    assert done.returncode != 0
    assert "Trying to read a database file with version number" in done.stderr
