"""One Spark session for the Spark tier, in its own process (its output is scanned for the key):
a build through the launcher, then what the tests read from it.

    python tests/spark/spark_job.py OUT_DIR RELATIONS_JSON [BROKEN_PROJECT UNFILTERED_PROJECT]
        -- DBT_ARGS...

After the build (privseg.spark.cli.run, in this session) it writes to OUT_DIR:
- parquet/<schema>.<name>/: every relation of RELATIONS_JSON, as Spark reads it;
- probes.json: what the project's functions return when dbt calls them in this session; what
  spark__pseudonymize does without the pads view, with an empty one, and with the launcher's
  (the pseudonyms of the customers it built, to Parquet as well).
- import/: the build imported into a DuckDB warehouse (`spark_build.py warehouse`, which reads
  the session's warehouse folder, so before the copies below overwrite it): import/target/ a
  copy of the build's target/, import/warehouse.duckdb, and in report.json "import" the import's
  summary or why it was refused.
- parquet/broken.typed_shop__customers/ and parquet/broken.<schema>.<name>/ of every
  pseudonymized and consent relation: with BROKEN_PROJECT (a project copy whose erasure and
  consent guards are disabled, conftest.broken_purge_copy), those tables as the copy's run
  (`run`, built last, in the same warehouse) leaves them.
- parquet/unfiltered.<schema>.<name>/: with UNFILTERED_PROJECT (a copy whose staging lets
  erased subjects through, its Spark purges intact), the customers' staging view and the
  pseudonymized customers and orders as its run of just these leaves them, run after that.
No value is printed: the tests compare the files.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from dbt.cli.main import dbtRunner

from privseg.core.settings import PROJECT_DIR, Settings
from privseg.spark.cli import in_project_dir, run, spark_paths
from privseg.spark.session import PADS_VIEW, register_pads, start_session
from privseg.spark.warehouse import ImportRefused, import_build

# The project's functions (privseg.spark.functions), called by dbt in the launcher's session.
FUNCTIONS_PROBE = (
    "select segment_rule_sql('recency_score = 5', array('recency_score')) as rule_sql, "
    "dp_noise_scale('count', 1, 0.5) as scale"
)
BROKEN_EXPORTED_SCHEMAS = ("pseudonymized", "consent")
# What the broken copy runs instead of the whole selection: these layers and their parents.
BROKEN_LAYERS = ["path:models/staging", "+path:models/pseudonymized", "+path:models/consent"]
# The unfiltered copy's run: staging views of customers and orders again (without the erasure
# filter), then the two pseudonymized tables, whose Spark purge hooks must remove the erased.
UNFILTERED_MODELS = [
    "stg_shop__customers",
    "stg_shop__orders",
    "int_customers_pseudonymized",
    "int_orders_pseudonymized",
]
UNFILTERED_EXPORTED = [
    "staging.stg_shop__customers",
    "pseudonymized.int_customers_pseudonymized",
    "pseudonymized.int_orders_pseudonymized",
]
PSEUDONYM_PROBE = (
    "select customer_id, {{ pseudonymize('customer', 'customer_id') }} as customer_key "
    "from {{ ref('stg_shop__customers') }}"
)


def probe(session, out: Path, dbt_common: list[str]) -> dict[str, object]:
    """Run the functions probe, then the pseudonym probe three ways, through dbt in this
    session."""

    def show() -> str:
        """'succeeded', or 'failed: <which of the expected messages the error has>'."""
        result = dbtRunner().invoke(["show", "--inline", PSEUDONYM_PROBE, *dbt_common])
        if result.success:
            return "succeeded"
        text = str(result.exception or "") + "".join(
            str(getattr(r, "message", "")) for r in getattr(result.result, "results", []) or []
        )
        named = [m for m in (PADS_VIEW, "pseudonym key not in this Spark session") if m in text]
        return "failed: " + ", ".join(named)

    outcomes: dict[str, object] = {}
    shown = dbtRunner().invoke(["show", "--inline", FUNCTIONS_PROBE, *dbt_common])
    if shown.success:
        row = shown.result.results[0].agate_table.rows[0]
        outcomes["functions"] = [row[0], float(row[1])]
    else:
        outcomes["functions"] = "failed"
    session.catalog.dropTempView(PADS_VIEW)
    outcomes["without_view"] = show()
    empty = session.createDataFrame([], "ipad binary, opad binary, key_fingerprint string")
    empty.createOrReplaceTempView(PADS_VIEW)
    outcomes["empty_view"] = show()
    register_pads(session, os.environ["DBT_ENV_SECRET_PSEUDONYM_KEY"])
    compiled = dbtRunner().invoke(["compile", "--inline", PSEUDONYM_PROBE, *dbt_common])
    sql = compiled.result.results[0].node.compiled_code if compiled.success else None
    if sql is None:
        outcomes["with_view"] = "failed"
    else:
        session.sql(sql).write.parquet(str(out / "parquet" / "probe.customer_keys"))
        outcomes["with_view"] = "succeeded"
    return outcomes


def import_warehouse(root: Path, dbt_args: list[str]) -> dict:
    """The build, just made, imported into root/warehouse.duckdb from a copy of its target/."""
    target = root / "target"
    shutil.copytree(Path(dbt_args[dbt_args.index("--target-path") + 1]), target)
    settings = replace(
        Settings.from_env(), warehouse_path=root / "warehouse.duckdb", target_dir=target
    )
    try:
        return {"imported": import_build(settings, spark_paths())}
    except ImportRefused as error:
        return {"refused": str(error)}


def main(argv: list[str]) -> int:
    out, relations_file = Path(argv[0]), Path(argv[1])
    split = argv.index("--")
    broken = Path(argv[2]) if split > 2 else None
    unfiltered = Path(argv[3]) if split > 3 else None
    dbt_args = argv[split + 1 :]
    relations = json.loads(relations_file.read_text())
    with in_project_dir():
        session = start_session(spark_paths())
    try:
        success = run(dbt_args, session=session)
        report: dict[str, object] = {"build_succeeded": success}
        if success:
            for relation in relations:
                session.table(relation).write.parquet(str(out / "parquet" / relation))
            report["import"] = import_warehouse(out / "import", dbt_args)
            common_args = ["--target", "spark", "--project-dir", str(PROJECT_DIR)]
            common_args += ["--profiles-dir", str(PROJECT_DIR)]
            for flag in ("--target-path", "--log-path", "--vars"):
                if flag in dbt_args:
                    common_args += [flag, dbt_args[dbt_args.index(flag) + 1]]
            with in_project_dir():
                report["probes"] = probe(session, out, common_args)
            if broken is not None:
                # `run`: the copy's models only (its broken guards would fail data tests), and
                # only the layers whose tables the tests read from it (the marts would only
                # add minutes).
                options = dbt_args[1:]
                if "--selector" in options:
                    at = options.index("--selector")
                    options = options[:at] + ["--select", *BROKEN_LAYERS] + options[at + 2 :]
                # --full-refresh: the typed_ tables read raw again without the purge (an
                # incremental run would read no new file and keep the build's tombstones).
                copy_args = ["run", "--full-refresh", *options]
                copy_args += ["--project-dir", str(broken), "--profiles-dir", str(broken)]
                report["broken_build_succeeded"] = run(copy_args, session=session)
                session.table("staging.typed_shop__customers").write.parquet(
                    str(out / "parquet" / "broken.typed_shop__customers")
                )
                for relation in relations:
                    if relation.split(".")[0] in BROKEN_EXPORTED_SCHEMAS:
                        session.table(relation).write.parquet(
                            str(out / "parquet" / f"broken.{relation}")
                        )
            if unfiltered is not None:
                options = dbt_args[1:]
                if "--selector" in options:  # the models above instead of the selection
                    at = options.index("--selector")
                    options = options[:at] + options[at + 2 :]
                copy_args = ["run", "--select", *UNFILTERED_MODELS, *options]
                copy_args += ["--project-dir", str(unfiltered), "--profiles-dir", str(unfiltered)]
                report["unfiltered_build_succeeded"] = run(copy_args, session=session)
                for relation in UNFILTERED_EXPORTED:
                    session.table(relation).write.parquet(
                        str(out / "parquet" / f"unfiltered.{relation}")
                    )
        (out / "report.json").write_text(json.dumps(report))
        return 0 if success else 1
    finally:
        session.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
