"""A Spark build and a DuckDB build of the same data with the same key hold the same rows: every
relation of the project both engines build (typed_ tables, base_/stg_ views, quarantine, seeds,
the pseudonymized and consent tables, every mart, the release chain and the published reports),
compared row for row after reading Spark's copy from Parquet, and Spark's pseudonyms equal to
HMAC-SHA256 recomputed in Python. No column is left out for differential privacy: its noise is
off by default (meta.privacy.differential_privacy.enabled), so the build draws none."""

from __future__ import annotations

import duckdb
import pytest

from dbt_harness import customer_key

# Differ by engine and by nothing in the data: when the build ran, and the file modification
# time (Spark's has milliseconds, DuckDB's listing seconds). Compared elsewhere or not at all.
ENGINE_COLUMNS = {"built_at", "finished_at", "_source_file_modified"}
# JSON texts the release engine parses (magnitude statistics, the release document's rows and
# containers): compared as JSON, written again by DuckDB's JSON writer, since the engines write
# some numbers differently (Spark 1.0E7, DuckDB 10000000.0). Keys and their order must agree.
JSON_COLUMNS = {"magnitude_statistics", "counts", "magnitudes", "containers"}


def differences(duckdb_build, spark_build, relation: str) -> tuple[int, int, int]:
    """(rows only in DuckDB, rows only in Spark, rows) of `relation`, as multisets."""
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{duckdb_build.warehouse}' as wh (read_only)")
        columns = [
            row[0]
            for row in con.execute(f"describe wh.{relation}").fetchall()
            if row[0] not in ENGINE_COLUMNS
        ]
        listed = ", ".join(
            f'json("{c}")::varchar as "{c}"' if c in JSON_COLUMNS else f'"{c}"' for c in columns
        )
        spark = f"read_parquet('{spark_build.export_dir / relation}/*.parquet')"
        ours = f"(select {listed} from wh.{relation})"
        theirs = f"(select {listed} from {spark})"
        only_duckdb = con.execute(f"select count(*) from ({ours} except all {theirs})").fetchone()
        only_spark = con.execute(f"select count(*) from ({theirs} except all {ours})").fetchone()
        rows = con.execute(f"select count(*) from wh.{relation}").fetchone()
    return only_duckdb[0], only_spark[0], rows[0]


def test_the_spark_selection_is_the_whole_project(built_relations):
    # What the selection holds: a change to selectors.yml that drops a layer shows here.
    assert "staging.typed_shop__customers" in built_relations
    assert "staging.stg_quarantine__summary" in built_relations
    assert "behavior.fct_customer_affinity" in built_relations  # k-means, one query a step
    layers = {
        "pseudonymized": 8,
        "consent": 6,
        "behavior": 9,
        "audiences": 4,  # with the seed trigger_definitions
        "contextual": 4,  # sessions, release cells, rpt_contextual_audiences, segment contexts
        "measurement": 8,  # three cells models, three reports, recipient outcomes, DP ledger
        "segments": 8,  # membership to rpt_reidentification_risk, the seed segment_definitions
        "release": 4,  # rows, hierarchies, populations, decisions
    }
    for layer, models in layers.items():
        built = [r for r in built_relations if r.startswith(layer + ".")]
        assert len(built) == models, f"{layer}: {len(built)} relations, expected {models}"
    # The release chain's end: the decisions, the published reports and the risk report.
    for relation in (
        "release.int_release_decisions",
        "segments.fct_segment_profiles",
        "segments.rpt_reidentification_risk",
        "measurement.fct_dp_release_ledger",
        "contextual.int_contextual_segment_contexts",
    ):
        assert relation in built_relations
    assert len(built_relations) >= 95


def test_every_ported_relation_is_equal_row_for_row(duckdb_build, spark_build, built_relations):
    unequal = {}
    for relation in built_relations:
        only_duckdb, only_spark, rows = differences(duckdb_build, spark_build, relation)
        if only_duckdb or only_spark:
            unequal[relation] = (only_duckdb, only_spark, rows)
    # Counts only, never values: (rows only in DuckDB, rows only in Spark, rows).
    assert not unequal, f"relations that differ between the engines: {unequal}"


def test_every_raw_row_and_every_reject_reason_reached_both_engines(duckdb_build, spark_build):
    # Not vacuous: the data has rows of every table and rejected rows of several kinds.
    rows = duckdb_build.query(
        "select count(*), count(distinct reject_reason) from staging.stg_quarantine__rejected_rows"
    )[0]
    assert rows[0] > 50 and rows[1] >= 8
    assert differences(duckdb_build, spark_build, "staging.stg_quarantine__rejected_rows")[:2] == (
        0,
        0,
    )


def test_spark_pseudonyms_equal_hmac_of_every_customer(duckdb_build, spark_build):
    assert spark_build.report["probes"]["with_view"] == "succeeded"
    with duckdb.connect() as con:
        pairs = con.execute(
            f"select customer_id, customer_key from read_parquet("
            f"'{spark_build.export_dir / 'probe.customer_keys'}/*.parquet')"
        ).fetchall()
    expected = duckdb_build.query("select count(*) from staging.stg_shop__customers")[0][0]
    assert len(pairs) == expected > 300
    wrong = sum(1 for customer_id, key in pairs if key != customer_key(customer_id))
    assert wrong == 0, f"{wrong} of {len(pairs)} Spark pseudonyms differ from HMAC-SHA256"


def test_the_key_fingerprint_is_the_same_on_both_engines(duckdb_build, spark_build):
    with duckdb.connect() as con:
        spark = con.execute(
            "select key_fingerprint from read_parquet("
            f"'{spark_build.export_dir / 'pseudonymized.int_pseudonym_key_registry'}/*.parquet')"
        ).fetchall()
    ours = duckdb_build.query(
        "select key_fingerprint from pseudonymized.int_pseudonym_key_registry"
    )
    assert spark == ours and len(ours) == 1


@pytest.mark.parametrize("relation", ["staging.base_shop__products", "staging.base_shop__orders"])
def test_duplicate_ids_resolve_to_the_same_winner(duckdb_build, spark_build, relation):
    # Products' duplicates tie on every ordering column but the row fingerprint: the winner
    # depends on it alone, so an engine-specific hash would pick differently.
    duplicates = duckdb_build.query(
        f"select count(*) from {relation} where _reject_reason = 'duplicate_id'"
    )[0][0]
    assert duplicates > 0
    assert differences(duckdb_build, spark_build, relation)[:2] == (0, 0)


def test_erased_subjects_raw_rows_are_tombstones_on_spark_and_stay_without_the_purge(
    spark_build, erased_customer_ids
):
    """The Spark purge (spark__purge_erased_raw_rows, INSERT OVERWRITE) leaves only tombstones
    of erased customers in typed_shop__customers; the project copy without it keeps their
    names and emails. Counts only."""
    erased = erased_customer_ids
    assert spark_build.report["broken_build_succeeded"]
    listed = ", ".join(str(int(customer_id)) for customer_id in erased)
    counts = {}
    with duckdb.connect() as con:
        for name in ("staging.typed_shop__customers", "broken.typed_shop__customers"):
            files = spark_build.export_dir / name / "*.parquet"
            counts[name] = con.execute(
                "select count(*) filter (where not _erased), count(*) filter (where email is "
                f"not null), count(*) from read_parquet('{files}') where customer_id in ({listed})"
            ).fetchone()
    kept, with_email, rows = counts["staging.typed_shop__customers"]
    assert rows >= len(erased) and kept == 0 and with_email == 0
    kept, with_email, rows = counts["broken.typed_shop__customers"]
    assert kept == rows >= len(erased) and with_email > 0
