"""The incremental Spark run of the Spark tier (test_spark_incremental), in its own process and one
Spark session:

    python tests/spark/incremental_job.py OUT_DIR RAW_DIR BROKEN_PROJECT FIRST_AS_OF AS_OF

1. builds staging, pseudonymized, consent and the behaviour event facts (LAYERS, with their
   seeds, no tests) as of FIRST_AS_OF
   from RAW_DIR (partitioned layout, one load held back), through the launcher;
2. delivers the next day (deliver_day: the held-back load, with late rows, plus a withdrawal and
   an erasure request in a second file of that load) and writes which raw ids it chose to
   OUT_DIR/chosen.json (read by the test, never printed);
3. runs the same layers again as of AS_OF, incrementally (no --full-refresh): the typed_
   tables read only the new files, the purge overwrites the partitions holding the erased
   subject's rows;
4. exports every relation of these layers to OUT_DIR/parquet/<schema>.<name>/ and lists in
   report.json the warehouse files holding the erased subject's email (none expected) and a
   kept customer's (found: the scan sees values, Parquet being written uncompressed);
5. the guard: delivers an erasure request of that kept customer in one more new file, runs
   staging of BROKEN_PROJECT (a copy whose Spark purge of erased raw rows is disabled)
   incrementally in the same warehouse, lists the files then holding their email, and
   removes that file again (RAW_DIR as the incremental run read it).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

from privseg.datagen import cli as generate_data
from privseg.spark.cli import in_project_dir, run, spark_paths
from privseg.spark.session import start_session

LAYERS = [
    "path:models/staging",
    "+path:models/pseudonymized",
    "+path:models/consent",
    "+path:models/marts/behavior/events",
]
SCHEMAS = ("staging", "pseudonymized", "consent", "behavior")


def _add_rows(raw: Path, table: str, load: str, rows_sql: str, part: str = "part-1") -> None:
    """Another file in the load's folder of `table` (rows as raw text columns)."""
    folder = raw / table / load
    folder.mkdir(exist_ok=True)
    first = next(raw.glob(f"{table}/*/part-0.parquet"))
    duckdb.sql(
        f"copy ((select * from read_parquet('{first}', hive_partitioning = false) limit 0) "
        f"union all {rows_sql}) to '{folder / (part + '.parquet')}' (format parquet)"
    )


def deliver_day(raw: Path, first_as_of: str) -> dict:
    """The held-back load (late rows included), a withdrawal of the analytics grant of a
    customer whose latest analytics decision is a grant, and an erasure request of another
    buyer; returns the raw ids chosen and the new load's folder name."""
    assert generate_data.main(["--append-day", "--out", str(raw)]) == 0
    load = sorted(p.name for p in (raw / "orders").iterdir())[-1]
    rows = f"read_parquet('{raw}/{{}}/*/*.parquet', hive_partitioning = false)"
    granted = duckdb.sql(
        f"""
        select customer_id from (
            select customer_id, action, row_number() over (
                partition by customer_id order by recorded_at desc) as recency
            from {rows.format("consent_events")}
            where purpose = 'analytics' and try_cast(recorded_at as timestamp) is not null
                and try_cast(customer_id as bigint) is not null
        ) where recency = 1 and action = 'granted'
        intersect
        select customer_id from {rows.format("orders")}
        order by 1
        """
    ).fetchall()
    emails = dict(
        duckdb.sql(
            f"select customer_id, email from {rows.format('customers')} where email like '%@%'"
        ).fetchall()
    )
    chosen = [c for (c,) in granted if c in emails][:3]
    withdrawn, erased, kept = chosen
    at = f"{first_as_of} 10:00:00"
    _add_rows(
        raw,
        "consent_events",
        load,
        f"select '990000001', '{withdrawn}', 'analytics', 'withdrawn', 'preference_center', "
        f"'3', '{at}'",
    )
    _add_rows(raw, "erasure_requests", load, f"select '990000003', '{erased}', '{at}', 'received'")
    new_files = {
        table.name: len(list((table / load).glob("*.parquet")))
        for table in raw.iterdir()
        if (table / load).is_dir()
    }
    return {
        "load": load,
        "new_files": new_files,
        "withdrawn": withdrawn,
        "erased": erased,
        "kept": kept,
        "erased_email": emails[erased],
        "kept_email": emails[kept],
    }


def files_holding(folder: Path, value: str) -> list[str]:
    needle = value.encode()
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and needle in p.read_bytes()
    )


def statements_by_model(run_dir: Path) -> dict[str, str]:
    """How the last run wrote each model: the first word of its main statement in dbt's
    target/run (`insert` for an incremental run's append or overwrite, `create` for a build
    in full)."""
    written = {}
    for path in run_dir.rglob("*.sql"):
        words = path.read_text().split()
        if words and path.parent.name != "tests":
            written[path.stem] = words[0].lower()
    return written


def dbt_args(command: str, select: list[str], out: Path, as_of: str, *extra: str) -> list[str]:
    return [
        command, "--select", *select, *extra,
        "--target-path", str(out / "target"),
        "--log-path", str(out / "logs"),
        "--vars", f"{{as_of: '{as_of}'}}",
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    out, raw, broken = Path(argv[0]), Path(argv[1]), Path(argv[2])
    first_as_of, as_of = argv[3], argv[4]
    report: dict[str, object] = {}
    with in_project_dir():
        session = start_session(spark_paths())
    # Uncompressed Parquet: the byte scan below sees the values a file holds.
    session.conf.set("spark.sql.parquet.compression.codec", "uncompressed")
    warehouse = spark_paths().warehouse
    no_tests = ("--exclude", "resource_type:test", "resource_type:unit_test")
    try:
        report["first_succeeded"] = run(
            dbt_args("build", LAYERS, out, first_as_of, *no_tests), session=session
        )
        if not report["first_succeeded"]:
            return 1
        chosen = deliver_day(raw, first_as_of)
        (out / "chosen.json").write_text(json.dumps(chosen))
        started = time.monotonic()
        report["incremental_succeeded"] = run(
            dbt_args("build", LAYERS, out, as_of, *no_tests), session=session
        )
        report["incremental_seconds"] = round(time.monotonic() - started, 1)
        if not report["incremental_succeeded"]:
            return 1
        report["written_by"] = statements_by_model(out / "target" / "run")
        relations = [
            f"{schema}.{row.tableName}"
            for schema in SCHEMAS
            for row in session.sql(f"show tables in {schema}").collect()
            if not row.isTemporary
        ]
        for relation in relations:
            session.table(relation).write.parquet(str(out / "parquet" / relation))
        report["relations"] = relations
        report["files_with_erased"] = files_holding(warehouse, chosen["erased_email"])
        report["files_with_kept"] = files_holding(warehouse, chosen["kept_email"])
        # The guard: an erasure request of the kept customer in one more new file, read by the
        # typed_ models of the copy whose Spark purge is disabled.
        _add_rows(
            raw,
            "erasure_requests",
            chosen["load"],
            f"select '990000005', '{chosen['kept']}', '{first_as_of} 11:00:00', 'received'",
            part="part-2",
        )
        broken_args = dbt_args("run", ["path:models/staging"], out / "broken", as_of)
        broken_args += ["--project-dir", str(broken), "--profiles-dir", str(broken)]
        report["broken_succeeded"] = run(broken_args, session=session)
        report["broken_files_with_kept"] = files_holding(warehouse, chosen["kept_email"])
        # The raw data as the incremental run read it, for the test's full refresh on DuckDB.
        (raw / "erasure_requests" / chosen["load"] / "part-2.parquet").unlink()
        (out / "report.json").write_text(json.dumps(report))
        return 0 if report["incremental_succeeded"] else 1
    finally:
        (out / "report.json").write_text(json.dumps(report))
        session.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
