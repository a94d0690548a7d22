"""What `make run` prints at the end: where everything is, and what the build, the audit and the
publication hold (counts only)."""

from __future__ import annotations

import duckdb

from privseg.audit.runner import REPORT
from privseg.core.settings import Settings
from privseg.pipeline.steps import read_json
from privseg.publication.release import DATABASE, PARQUET, read_publication


def print_summary(settings: Settings) -> None:
    """Where everything is, and what the build, the audit and the publication hold."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql(
            "select source_table, reject_reason, rejected_row_count "
            "from staging.stg_quarantine__summary order by 1, 2"
        ).fetchall()
        in_scope = con.sql(
            "select consent_purpose, count(*) from consent.int_consented_subjects "
            "group by 1 order by 1"
        ).fetchall()
        (customers,) = con.sql(
            "select count(*) from pseudonymized.int_customers_pseudonymized"
        ).fetchall()[0]
        erasures, overdue = con.sql(
            "select count(*), count(*) filter (where is_overdue) from consent.int_erasure_log"
        ).fetchall()[0]
        segments = con.sql(
            "select segment_name, count(*) from segments.fct_segment_membership "
            "group by 1 order by 1"
        ).fetchall()
        risks = {
            row[0]: row[1:]
            for row in con.sql(
                "select table_name, k, max_prosecutor_risk, suppressed_records, suppressed_cells, "
                "secondary_suppressed_records, secondary_suppressed_cells, withheld_magnitudes "
                "from segments.rpt_reidentification_risk"
            ).fetchall()
        }
    audit = read_json(settings.target_dir / REPORT)
    published = read_publication(settings.publish_dir)
    docs = settings.target_dir / "static_index.html"

    print(f"warehouse:   {settings.warehouse_path}")
    print(f"raw data:    {settings.raw_data_dir}")
    print(
        f"dbt output:  {settings.target_dir} (run_results.json, manifest.json), {settings.log_dir}"
    )
    if audit:
        failing = [c["name"] for c in audit["checks"] if c["status"] != "pass"]
        print(
            f"audit:       {audit['status']}"
            + (f" ({', '.join(failing)})" if failing else "")
            + f", report {settings.target_dir / REPORT}"
            + f" and {(settings.target_dir / REPORT).with_suffix('.html')}"
        )
    if docs.exists():
        print(f"docs:        {docs} (one file, opens offline)")
    if published:
        print(
            f"published:   {settings.publish_dir / DATABASE} and "
            f"{settings.publish_dir / PARQUET}/ (release {published['release']}, "
            f"as of {published['as_of_date']})"
        )
        for table in published["tables"]:
            k, risk, records, cells, more_records, more_cells, magnitudes = risks.get(
                table["model"], (None,) * 7
            )
            print(
                f"  {table['model']:<22} {table['rows']:>8} rows, k={k}, max risk {risk}, "
                f"withheld {records} records in {cells} cells (own size), "
                f"{more_records} records in {more_cells} cells (release), "
                f"{magnitudes} sums or means"
            )
    else:
        print(f"published:   nothing yet in {settings.publish_dir}")
    total = sum(r[2] for r in rows)
    print(f"quarantine:  {total} rejected raw rows (staging.stg_quarantine__rejected_rows)")
    for table, reason, count in rows:
        print(f"  {table:<18} {reason:<22} {count:>8}")
    print(
        f"consent:     subjects in scope of {customers} customers (consent.int_consented_subjects)"
    )
    for purpose, count in in_scope:
        print(f"  {purpose:<18} {count:>8}")
    print(f"erasure:     {erasures} requests fulfilled, {overdue} after their deadline")
    print("segments:    members per segment (segments.fct_segment_membership)")
    for segment, count in segments:
        print(f"  {segment:<26} {count:>8}")
