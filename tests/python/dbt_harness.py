"""Run dbt and the generator against a throwaway raw folder and warehouse.

Each DbtProject points dbt at its own RAW_DATA_DIR, WAREHOUSE_PATH, target/
and logs/ under a temp folder, so tests never touch the developer's data/
or the repo's target/.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from privseg.core.dbt_runner import run_dbt
from privseg.core.settings import PROJECT_DIR

# Fixed dates keep the generated data and every as-of computation reproducible.
END_DATE = "2026-06-30"
AS_OF = "2026-06-30"

# A throwaway pseudonymization key, new every session: no test can pass
# because a key was hard-coded somewhere, and the secret scans look for it.
TEST_KEY = "test-" + secrets.token_hex(24)

# dbt unit tests do not depend on the data: the session build runs them once,
# scenario builds skip them (about a second each, in every build).
WITHOUT_UNIT_TESTS = ("--exclude", "test_type:unit")


@contextmanager
def environment(**values: str):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def pipeline_environment(root: Path) -> dict[str, str]:
    """Variables that put every file of a `scripts/pipeline.py` run under `root`: raw data,
    warehouse, publication, dbt's target and logs, DuckDB's spill folder and the key file. No
    DBT_ENV_SECRET_PSEUDONYM_KEY: the pipeline must make (or read) its own key file."""
    return {
        "PATH": str(PROJECT_DIR / ".venv" / "bin") + ":/usr/bin:/bin:/usr/sbin:/sbin",
        "RAW_DATA_DIR": str(root / "raw"),
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "PUBLISH_DIR": str(root / "published"),
        "DBT_TARGET": "ci",
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DUCKDB_TEMP_DIR": str(root / "tmp"),
        "PSEUDONYM_KEY_FILE": str(root / "secrets" / "pseudonym.key"),
    }


def script_runner(
    main: Callable[[list[str]], int | None],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    never_printed: Callable[[], list[str]] = list,
) -> Callable[..., tuple[int | str | None, str]]:
    """A function that runs a script's main() in-process and returns (exit code, everything it
    printed or logged), after checking that the output holds no traceback, not the key, and
    none of never_printed() (counted, never quoted, in a failure)."""
    caplog.set_level(logging.DEBUG)

    def run(*argv: str) -> tuple[int | str | None, str]:
        caplog.clear()
        try:
            code = main(list(argv))
        except SystemExit as stop:  # argparse
            code = stop.code
        captured = capsys.readouterr()
        output = captured.out + captured.err + caplog.text
        leaked = [value for value in [TEST_KEY, *never_printed()] if value in output]
        assert not leaked, f"{len(leaked)} personal values (or the key) in the output"
        assert "Traceback" not in output
        return code, output

    return run


@dataclass
class DbtResult:
    success: bool
    output: str


@dataclass
class DbtProject:
    root: Path
    raw_dir: Path
    key: str = TEST_KEY
    extra_env: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def target_dir(self) -> Path:
        return self.root / "target"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    def env(self) -> dict[str, str]:
        return {
            "RAW_DATA_DIR": str(self.raw_dir),
            "WAREHOUSE_PATH": str(self.warehouse),
            "DBT_TARGET": "ci",
            "DUCKDB_TEMP_DIR": str(self.root / "tmp"),
            "DBT_ENV_SECRET_PSEUDONYM_KEY": self.key,
            **self.extra_env,
        }

    def dbt(self, *args: str, as_of: str = AS_OF, project_dir: Path | None = None) -> DbtResult:
        extra = [
            "--target-path", str(self.target_dir),
            "--log-path", str(self.log_dir),
            "--vars", f"{{as_of: '{as_of}'}}",
        ]  # fmt: skip
        done = run_dbt(
            [*args, *extra], env=self.env(), capture=True, project_dir=project_dir or PROJECT_DIR
        )
        self.outputs.append(done.stdout + done.stderr)
        return DbtResult(done.returncode == 0, done.stdout + done.stderr)

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, parameters or []).fetchall()


def generate(out: Path, *, customers: int, days: int, seed: int, faults: float = 0.0) -> None:
    from privseg.datagen import cli as generate_data

    code = generate_data.main(
        [
            "--customers", str(customers),
            "--days", str(days),
            "--seed", str(seed),
            "--faults", str(faults),
            "--end-date", END_DATE,
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0, f"generate_data exited {code}"


def project_with_fixtures(
    tmp_path: Path, raw_dir: Path, files: dict[str, str]
) -> tuple[DbtProject, Path]:
    """A copy of the project plus fixture files (paths relative to it), and a
    DbtProject that builds it into its own warehouse: for showing a guard fail."""
    project_copy = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        project_copy,
        ignore=shutil.ignore_patterns(
            ".venv*", ".git", "target", "logs", "data", ".secrets", "__pycache__"
        ),
    )
    for relative, text in files.items():
        target = project_copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    project = DbtProject(tmp_path / "run", raw_dir)
    project.root.mkdir()
    return project, project_copy


def link_raw(src: Path, dst: Path) -> Path:
    """A raw folder whose files link to src's: tests replace single files in it."""
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).symlink_to(f)
    return dst


def pseudonym(entity: str, identifier: object, key: str = TEST_KEY) -> str:
    """The pseudonym the project gives an id of `entity` (customer, order, consent_event...;
    format in docs/architecture.md), recomputed with hmac, not with the project's code."""
    return hmac.new(key.encode(), f"{entity}:{identifier}".encode(), hashlib.sha256).hexdigest()


def customer_key(customer_id: int | str, key: str = TEST_KEY) -> str:
    """The pseudonym the project gives a customer id."""
    return pseudonym("customer", customer_id, key)


def table_differences(left: DbtProject, right: DbtProject, relation: str) -> tuple[int, int, int]:
    """(rows only in left, rows only in right, rows in left) of `relation` (schema.table) in
    the two projects' warehouses, as multisets (EXCEPT ALL both ways)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{left.warehouse}' as lhs (read_only)")
        con.execute(f"attach '{right.warehouse}' as rhs (read_only)")
        only_left, only_right = (
            con.execute(
                f"select count(*) from (select * from {a}.{relation} "
                f"except all select * from {b}.{relation})"
            ).fetchone()[0]
            for a, b in (("lhs", "rhs"), ("rhs", "lhs"))
        )
        rows = con.execute(f"select count(*) from lhs.{relation}").fetchone()[0]
    return only_left, only_right, rows


def append_raw(project: DbtProject, table: str, rows_sql: str) -> None:
    """Add rows (a SELECT of text columns in the raw order) to a raw table of
    the project's raw folder (a linked copy: the shared files stay intact)."""
    target = project.raw_dir / f"{table}.parquet"
    original = target.resolve()
    staged = project.root / f"{table}.next.parquet"
    duckdb.sql(
        f"copy (select * from read_parquet('{original}') union all {rows_sql}) "
        f"to '{staged}' (format parquet)"
    )
    target.unlink()
    staged.rename(target)
