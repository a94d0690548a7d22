"""The Spark tier (`make test-spark`): one generated data set and key, one DuckDB build and one
Spark build of the models ported to Spark (selector `spark`), shared by every test.

Slow (a Spark session starts in about 25 s and a dbt-spark node costs seconds): not part of
`make test`. Runs in .venv-spark (requirements-spark.txt), one process (`-n 0`): one Spark
session at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dbt_harness import AS_OF, TEST_KEY, DbtProject, generate, project_with_fixtures
from privseg.core.settings import PROJECT_DIR

SELECTOR = ("--selector", "spark")
JOB = Path(__file__).with_name("spark_job.py")
PURGE_MACRO = "macros/staging/purge_erased_raw_rows.sql"
# The guards the broken copy lacks. The Spark purge of erased subjects' raw rows:
SPARK_PURGE = "{% macro spark__purge_erased_raw_rows(tables, relations, erased_ids) -%}"
# Erased subjects out of the pseudonymized and consent tables: staging's filter and the Spark
# purges of the incremental tables (delete_where), both disabled, so that the erased subjects
# reach every table of the copy's build.
NOT_ERASED_MACRO = "macros/consent/not_erased.sql"
NOT_ERASED = "{% macro not_erased(customer_id_column) -%}"
DELETE_MACRO = "macros/incremental/delete_where.sql"
SPARK_DELETE = "{% macro spark__delete_where(relation, predicate) -%}"
# Consent: a decision is in force only until the subject's next one for the purpose. Without
# that bound, a grant followed by a withdrawal still grants.
CONSENT_STATE_MODEL = "models/consent/int_consent_state.sql"
DECISION_ENDS = "and (valid_to is null or valid_to >= {{ as_of_date() }} + interval 1 day)"


@dataclass
class SparkBuild:
    root: Path
    returncode: int
    report: dict

    @property
    def spark_dir(self) -> Path:
        return self.root / "spark"

    @property
    def export_dir(self) -> Path:
        return self.root / "export" / "parquet"

    @property
    def output(self) -> str:
        return (self.root / "output.txt").read_text(errors="replace")

    def written(self) -> list[Path]:
        """Everything the Spark side wrote: its session folder (warehouse, metastore, Derby
        log, event log, scratch), dbt's target/ and logs/, and the captured output."""
        folders = [self.spark_dir, self.root / "target", self.root / "logs"]
        files = [p for folder in folders if folder.exists() for p in folder.rglob("*")]
        return [p for p in files if p.is_file()] + [self.root / "output.txt"]


@pytest.fixture(scope="session")
def spark_raw(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("spark_raw")
    generate(raw, customers=400, days=120, seed=7, faults=0.02)
    return raw


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory, spark_raw) -> DbtProject:
    project = DbtProject(tmp_path_factory.mktemp("duckdb_build"), spark_raw)
    result = project.dbt("build", *SELECTOR)
    if not result.success:
        failures = [m for m in result.output.splitlines() if "ERROR" in m or "FAIL" in m]
        pytest.fail("DuckDB build of the Spark selection failed:\n" + "\n".join(failures[-30:]))
    return project


@pytest.fixture(scope="session")
def built_relations(duckdb_build) -> list[str]:
    """schema.name of every model and seed the DuckDB build of the selection wrote."""
    manifest = json.loads((duckdb_build.target_dir / "manifest.json").read_text())
    results = json.loads((duckdb_build.target_dir / "run_results.json").read_text())
    relations = []
    for result in results["results"]:
        node = manifest["nodes"].get(result["unique_id"], {})
        if node.get("resource_type") in ("model", "seed") and result["status"] == "success":
            relations.append(f"{node['schema']}.{node.get('alias') or node['name']}")
    return sorted(relations)


@pytest.fixture(scope="session")
def spark_build(tmp_path_factory, spark_raw, built_relations) -> SparkBuild:
    """The same selection built on Spark by the launcher, in a child process whose output is
    kept; the relations exported to Parquet by that session."""
    root = tmp_path_factory.mktemp("spark_build")
    (root / "relations.json").write_text(json.dumps(built_relations))
    broken = broken_purge_copy(root, spark_raw)
    unfiltered = unfiltered_staging_copy(root, spark_raw)
    env = {
        "RAW_DATA_DIR": str(spark_raw),
        "SPARK_BUILD_DIR": str(root / "spark"),
        "DBT_ENV_SECRET_PSEUDONYM_KEY": TEST_KEY,
        # The warehouse import's dbt runs on DuckDB (spark_job.import_warehouse).
        "DBT_LOG_PATH": str(root / "logs" / "import"),
        "DUCKDB_TEMP_DIR": str(root / "duckdb_tmp"),
    }
    command = [
        sys.executable, str(JOB), str(root / "export"), str(root / "relations.json"),
        str(broken), str(unfiltered), "--",
        "build", *SELECTOR,
        "--target-path", str(root / "target"),
        "--log-path", str(root / "logs"),
        "--vars", f"{{as_of: '{AS_OF}'}}",
    ]  # fmt: skip
    with (root / "output.txt").open("w") as output:
        done = subprocess.run(
            command,
            cwd=PROJECT_DIR,
            env={**_base_env(), **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    report_file = root / "export" / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    build = SparkBuild(root, done.returncode, report)
    if done.returncode != 0 or not report.get("build_succeeded"):
        lines = [m for m in build.output.splitlines() if "ERROR" in m or "Error" in m]
        pytest.fail("Spark build failed:\n" + "\n".join(lines[-30:]))
    return build


def broken_purge_copy(root: Path, raw: Path) -> Path:
    """A copy of the project without the guards above: spark__purge_erased_raw_rows purges
    nothing, not_erased keeps every row, spark__delete_where deletes nothing, and
    int_consent_state keeps every decision in force."""
    files = {
        PURGE_MACRO: _disabled_macro(PURGE_MACRO, SPARK_PURGE, "{{ return('select 1') }}"),
        NOT_ERASED_MACRO: _disabled_macro(NOT_ERASED_MACRO, NOT_ERASED, "true"),
        DELETE_MACRO: _disabled_macro(DELETE_MACRO, SPARK_DELETE, "{{ return('select 1') }}"),
    }
    state = (PROJECT_DIR / CONSENT_STATE_MODEL).read_text()
    assert DECISION_ENDS in state, f"{CONSENT_STATE_MODEL} changed: update DECISION_ENDS"
    files[CONSENT_STATE_MODEL] = state.replace(DECISION_ENDS, "")
    _, copy = project_with_fixtures(root / "broken", raw, files)
    return copy


def unfiltered_staging_copy(root: Path, raw: Path) -> Path:
    """A copy of the project whose staging lets erased subjects through (not_erased keeps
    every row) and whose Spark purges work: what removes them is spark__delete_where."""
    files = {NOT_ERASED_MACRO: _disabled_macro(NOT_ERASED_MACRO, NOT_ERASED, "true")}
    _, copy = project_with_fixtures(root / "unfiltered", raw, files)
    return copy


def _disabled_macro(path: str, opening: str, body: str) -> str:
    """The text of macro file `path` with the macro that starts with `opening` reduced to
    `body`."""
    text = (PROJECT_DIR / path).read_text()
    start = text.index(opening)
    end = text.index("{%- endmacro %}", start)
    return text[:start] + opening + "\n    " + body + "\n" + text[end:]


def _base_env() -> dict[str, str]:
    import os

    keep = ("PATH", "HOME", "JAVA_HOME", "LANG", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}


@pytest.fixture(scope="session")
def base_env() -> dict[str, str]:
    """What a child process of the tier inherits: the tools' paths, nothing of the project."""
    return _base_env()


@pytest.fixture(scope="session")
def erased_customer_ids(duckdb_build) -> list:
    """Raw customer_id of every customer with an accepted erasure request (the DuckDB build's
    staging); never empty: the generated data has erasures."""
    erased = [
        row[0]
        for row in duckdb_build.query(
            "select customer_id from staging.stg_preference_center__erasure_requests "
            "where request_status in ('received', 'completed')"
        )
    ]
    assert erased
    return erased
