"""The consent and erasure guarantees on Spark, for the pseudonymized and consent layers:

- int_consented_subjects built by Spark holds no subject whose decision in force as of the run
  is a withdrawal or a grant under an outdated policy, the expectation computed here from the
  raw consent events and the seeds, not from the models;
- no pseudonym of an erased subject (customer_key, and order_key of their orders) is in any
  pseudonymized or consent table Spark built.

Each is shown failing on the project copy the Spark job also runs with the guards disabled
(conftest.broken_purge_copy). Counts only, never values."""

from __future__ import annotations

import duckdb

from dbt_harness import AS_OF, customer_key, pseudonym
from privseg.core.settings import PROJECT_DIR

REFERENCE = PROJECT_DIR / "seeds" / "reference"
CONSENTED = "consent.int_consented_subjects"


def parquet(spark_build, relation: str) -> str:
    return f"read_parquet('{spark_build.export_dir / relation}/*.parquet')"


def decisions_that_do_not_grant(raw) -> set[tuple[str, str]]:
    """(customer_key, purpose) whose latest decision as of the end of the as_of day, among the
    raw consent events within the consent retention policy, is a withdrawal (same instant:
    the withdrawal counts as the later) or a grant under a policy version older than the
    purpose's min_policy_version. Faulty rows (unparseable, unknown values) are left out."""
    with duckdb.connect() as con:
        rows = con.execute(
            f"""
            with
            purposes as (
                select consent_purpose, min_policy_version
                from read_csv('{REFERENCE / "consent_purposes.csv"}')
            ),
            retention as (
                select retention_days
                from read_csv('{REFERENCE / "retention_policies.csv"}')
                where data_category = 'consent_events'
            ),
            events as (
                select
                    try_cast(customer_id as bigint) as customer_id,
                    purpose,
                    action,
                    try_cast(policy_version as integer) as policy_version,
                    try_cast(recorded_at as timestamp) as recorded_at
                from read_parquet('{raw / "consent_events.parquet"}')
            ),
            valid as (
                select events.*
                from events
                inner join purposes on events.purpose = purposes.consent_purpose
                where
                    events.customer_id is not null
                    and events.policy_version is not null
                    and events.action in ('granted', 'withdrawn')
                    and events.recorded_at < date '{AS_OF}' + interval 1 day
                    and events.recorded_at >= date '{AS_OF}'
                        - to_days((select max(retention_days) from retention))
            ),
            latest as (
                select
                    *,
                    row_number() over (
                        partition by customer_id, purpose
                        order by recorded_at desc, action = 'withdrawn' desc
                    ) as recency
                from valid
            )
            select latest.customer_id, latest.purpose
            from latest
            inner join purposes on latest.purpose = purposes.consent_purpose
            where
                latest.recency = 1
                and (
                    latest.action = 'withdrawn'
                    or latest.policy_version < purposes.min_policy_version
                )
            """
        ).fetchall()
    return {(customer_key(customer_id), purpose) for customer_id, purpose in rows}


def consented(spark_build, relation: str) -> set[tuple[str, str]]:
    with duckdb.connect() as con:
        rows = con.execute(
            f"select customer_key, consent_purpose from {parquet(spark_build, relation)}"
        ).fetchall()
    return set(rows)


def test_no_withdrawn_or_outdated_grant_is_a_consented_subject_on_spark(spark_raw, spark_build):
    not_granting = decisions_that_do_not_grant(spark_raw)
    with duckdb.connect() as con:
        customers = {
            row[0]
            for row in con.execute(
                "select customer_key from "
                f"{parquet(spark_build, 'pseudonymized.int_customers_pseudonymized')}"
            ).fetchall()
        }
    # Not vacuous: many built customers withdrew a purpose or hold an outdated grant, and
    # many are in scope of some purpose.
    checked = {pair for pair in not_granting if pair[0] in customers}
    subjects = consented(spark_build, CONSENTED)
    assert len(checked) > 50 and len(subjects) > 100
    wrong = checked & subjects
    assert not wrong, f"{len(wrong)} withdrawn or outdated (subject, purpose) pairs are consented"
    # The copy whose decisions never end (a grant stays in force after a withdrawal) fails it.
    assert spark_build.report["broken_build_succeeded"]
    assert checked & consented(spark_build, f"broken.{CONSENTED}")


def erased_pseudonyms(duckdb_build, erased: list) -> set[str]:
    """customer_key of every customer of `erased` (raw ids), and order_key of their orders
    (from the DuckDB build's staging)."""
    listed = ", ".join(str(int(customer_id)) for customer_id in erased)
    orders = duckdb_build.query(
        f"select distinct order_id from staging.typed_shop__orders where customer_id in ({listed})"
    )
    assert orders
    return {customer_key(c) for c in erased} | {pseudonym("order", o[0]) for o in orders}


def erased_rows_by_relation(spark_build, relations: list[str], keys: set[str], prefix: str = ""):
    """{relation: rows holding one of `keys` in a *_key column} over Spark's export."""
    found = {}
    with duckdb.connect() as con:
        con.execute("create temp table erased_keys (k varchar)")
        con.executemany("insert into erased_keys values (?)", [(k,) for k in keys])
        for relation in relations:
            source = parquet(spark_build, prefix + relation)
            columns = [
                row[0]
                for row in con.execute(f"describe select * from {source}").fetchall()
                if row[0] in ("customer_key", "order_key")
            ]
            if not columns:
                continue
            held = " or ".join(f"{c} in (select k from erased_keys)" for c in columns)
            found[relation] = con.execute(f"select count(*) from {source} where {held}").fetchone()[
                0
            ]
    return found


def test_erased_subjects_pseudonyms_are_in_no_pseudonymized_or_consent_table_on_spark(
    duckdb_build, spark_build, built_relations, erased_customer_ids
):
    keys = erased_pseudonyms(duckdb_build, erased_customer_ids)
    relations = [r for r in built_relations if r.split(".")[0] in ("pseudonymized", "consent")]
    found = erased_rows_by_relation(spark_build, relations, keys)
    # Every table keyed by subject or order is checked (the registry and erasure log are not).
    assert len(found) == 12
    assert not any(found.values()), f"rows of erased subjects by relation: {found}"
    # Without staging's filter and the Spark purges, the erased subjects are in the copy's.
    assert spark_build.report["broken_build_succeeded"]
    broken = erased_rows_by_relation(spark_build, relations, keys, prefix="broken.")
    assert broken["pseudonymized.int_customers_pseudonymized"] > 0
    assert broken["pseudonymized.int_orders_pseudonymized"] > 0


def test_the_spark_purges_remove_erased_subjects_that_staging_let_through(
    duckdb_build, spark_build, erased_customer_ids
):
    """The copy whose staging keeps erased subjects: its stg_shop__customers holds them, and
    the Spark purge hooks (spark__delete_where: a copy and INSERT OVERWRITE) leave none in
    the pseudonymized customers and orders. With the purge disabled too (the broken copy
    above) they stay."""
    assert spark_build.report["unfiltered_build_succeeded"]
    erased = [
        row[0]
        for row in duckdb_build.query(
            "select customer_id from staging.stg_preference_center__erasure_requests "
            "where request_status in ('received', 'completed')"
        )
    ]
    listed = ", ".join(str(int(customer_id)) for customer_id in erased)
    with duckdb.connect() as con:
        staged = con.execute(
            f"select count(*) from {parquet(spark_build, 'unfiltered.staging.stg_shop__customers')}"
            f" where customer_id in ({listed})"
        ).fetchone()[0]
    assert staged > 0
    relations = [
        "pseudonymized.int_customers_pseudonymized",
        "pseudonymized.int_orders_pseudonymized",
    ]
    found = erased_rows_by_relation(
        spark_build,
        relations,
        erased_pseudonyms(duckdb_build, erased_customer_ids),
        prefix="unfiltered.",
    )
    assert found == dict.fromkeys(relations, 0)
