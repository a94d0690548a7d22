"""`make run`'s job end to end: demo data when there is none, a build, and a
summary that says where everything is. Bad set-ups exit 2 with a message."""

from __future__ import annotations

import subprocess
import sys

from common import PROJECT_DIR


def _pipeline(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": str(PROJECT_DIR / ".venv" / "bin") + ":/usr/bin:/bin",
        "RAW_DATA_DIR": str(tmp_path / "raw"),
        "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "DBT_TARGET": "ci",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DUCKDB_TEMP_DIR": str(tmp_path / "tmp"),
        # No DBT_ENV_SECRET_PSEUDONYM_KEY: the pipeline must make a local key file.
        "PSEUDONYM_KEY_FILE": str(tmp_path / "secrets" / "pseudonym.key"),
    }
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "pipeline.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_run_generates_demo_data_builds_and_says_where_outputs_are(tmp_path):
    done = _pipeline(tmp_path, "run", "--demo-customers", "300")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "raw" / "customers.parquet").exists()
    assert (tmp_path / "warehouse.duckdb").exists()
    assert f"warehouse:  {tmp_path / 'warehouse.duckdb'}" in done.stdout
    assert "quarantine: 0 rejected raw rows" in done.stdout
    assert "step build: ok" in done.stderr
    assert "compacted" in done.stderr, "every build ends with a compacted warehouse file"

    key_file = tmp_path / "secrets" / "pseudonym.key"
    assert key_file.stat().st_mode & 0o777 == 0o600, "the key file is readable by its owner only"
    key = key_file.read_text().strip()
    assert len(key) == 64
    assert key not in done.stdout + done.stderr
    assert "created" in done.stderr and str(key_file) in done.stderr

    again = _pipeline(tmp_path, "run")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "raw data found" in again.stderr, "existing raw data must not be regenerated"
    assert key_file.read_text().strip() == key, "the key is made once and then reused"


def test_build_without_raw_data_exits_2_naming_the_tables(tmp_path):
    done = _pipeline(tmp_path, "build")
    assert done.returncode == 2
    assert "raw tables missing in" in done.stderr and "customers" in done.stderr


def test_partial_raw_folder_is_never_overwritten_with_demo_data(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "customers.parquet").write_bytes(b"someone's real export")
    done = _pipeline(tmp_path, "generate")
    assert done.returncode == 2
    assert "incomplete" in done.stderr
    assert sorted(p.name for p in raw.iterdir()) == ["customers.parquet"]
    assert (raw / "customers.parquet").read_bytes() == b"someone's real export"
