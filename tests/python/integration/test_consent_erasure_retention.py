"""Consent, erasure and retention take effect on the very next run, and
each guard fails when the filter it checks is missing. Scenario tests run
dbt several times on their own copy of the raw data."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from dbt_harness import (
    AS_OF,
    WITHOUT_UNIT_TESTS,
    DbtProject,
    append_raw,
    customer_key,
    link_raw,
    project_with_fixtures,
)
from privseg.core.settings import PROJECT_DIR
from privseg.core.warehouse import compact_database

CONSENT_MODELS = [
    "--select",
    "+int_consented_subjects",
    "+int_preferences_consented",
    "--indirect-selection",
    "cautious",
]


def _consented(project: DbtProject, purpose: str) -> set[str]:
    return {
        r[0]
        for r in project.query(
            "select customer_key from consent.int_consented_subjects "
            f"where consent_purpose = '{purpose}'"
        )
    }


@pytest.fixture
def scenario(tmp_path, faulty_raw) -> DbtProject:
    return DbtProject(tmp_path, link_raw(faulty_raw, tmp_path / "raw"))


def test_withdrawal_removes_the_subject_on_the_next_run_and_regrant_brings_them_back(scenario):
    assert scenario.dbt("build", *CONSENT_MODELS).success
    granted = scenario.query(
        "select customers.customer_id from staging.stg_shop__customers as customers "
        "inner join staging.stg_preference_center__consent_events as events "
        "on customers.customer_id = events.customer_id "
        "where events.consent_purpose = 'personalization' and events.consent_action = 'granted' "
        "and events.policy_version = 3 order by 1"
    )
    in_scope = _consented(scenario, "personalization")
    subject = next(cid for (cid,) in granted if customer_key(cid) in in_scope)
    key = customer_key(subject)

    def decide(action: str, event_id: int, at: str) -> None:
        append_raw(
            scenario,
            "consent_events",
            f"select '{event_id}', '{subject}', 'personalization', '{action}', "
            f"'preference_center', '3', '{at}'",
        )

    decide("withdrawn", 990000001, f"{AS_OF} 08:00:00")
    result = scenario.dbt("build", *CONSENT_MODELS)
    assert result.success, result.output[-3000:]
    assert key not in _consented(scenario, "personalization")
    state = scenario.query(
        "select state_reason from consent.int_consent_state "
        f"where customer_key = '{key}' and consent_purpose = 'personalization'"
    )
    assert state == [("withdrawn",)]
    assert scenario.query(
        f"select count(*) from consent.int_preferences_consented where customer_key = '{key}'"
    ) == [(0,)]

    decide("granted", 990000002, f"{AS_OF} 09:00:00")
    assert scenario.dbt("build", *CONSENT_MODELS).success
    assert key in _consented(scenario, "personalization")


def test_grant_under_an_outdated_policy_needs_reconsent_and_region_defaults_apply(scenario):
    """personalization needs policy v2+ (seed consent_purposes); a v1 grant is
    not valid. A US-CA subject who never decided is in analytics scope by the
    opt-out default; a subject elsewhere with no decision is not."""
    assert scenario.dbt("build", *CONSENT_MODELS).success
    regions = dict(
        scenario.query("select customer_key, region from pseudonymized.int_customers_pseudonymized")
    )
    ids = [r[0] for r in scenario.query("select customer_id from staging.stg_shop__customers")]
    ca_subject = next(i for i in sorted(ids) if regions[customer_key(i)] == "US-CA")
    other_subject = next(i for i in sorted(ids) if regions[customer_key(i)].startswith("DE-"))
    outdated = scenario.query(
        "select customer_key from consent.int_consent_state "
        "where consent_purpose = 'personalization' and state_reason = 'outdated_policy'"
    )
    assert outdated, "the demo data has v1 personalization grants in force"
    assert not {k for (k,) in outdated} & _consented(scenario, "personalization")

    # A withdrawal with no grant before it (a first-time refusal) is simply "withdrawn".
    never_granted = scenario.query(
        "select state.state_reason, state.is_granted, count(*) "
        "from consent.int_consent_state as state "
        "where not exists (select 1 from consent.int_consent_intervals as intervals "
        "    where intervals.customer_key = state.customer_key "
        "    and intervals.consent_purpose = state.consent_purpose "
        "    and intervals.consent_action = 'granted') "
        "and exists (select 1 from consent.int_consent_intervals as intervals "
        "    where intervals.customer_key = state.customer_key "
        "    and intervals.consent_purpose = state.consent_purpose) "
        "group by all"
    )
    assert never_granted and all(
        reason == "withdrawn" and not granted for reason, granted, _ in never_granted
    )

    # Remove every decision of both subjects: only defaults remain.
    target = scenario.raw_dir / "consent_events.parquet"
    original = target.resolve()
    staged = scenario.root / "consent_events.next.parquet"
    duckdb.sql(
        f"copy (select * from read_parquet('{original}') "
        f"where customer_id not in ('{ca_subject}', '{other_subject}')) "
        f"to '{staged}' (format parquet)"
    )
    target.unlink()
    staged.rename(target)
    assert scenario.dbt("build", *CONSENT_MODELS).success
    reasons = dict(
        scenario.query(
            "select customer_key, state_reason from consent.int_consent_state "
            "where consent_purpose = 'analytics' "
            f"and customer_key in ('{customer_key(ca_subject)}', '{customer_key(other_subject)}')"
        )
    )
    assert reasons == {
        customer_key(ca_subject): "region_default_granted",
        customer_key(other_subject): "purpose_default_denied",
    }
    assert customer_key(ca_subject) in _consented(scenario, "analytics")
    assert customer_key(other_subject) not in _consented(scenario, "analytics")


def _text_columns(con) -> list[tuple[str, str, str]]:
    return con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' and table_name in "
        "(select table_name from duckdb_tables())"
    ).fetchall()


def test_erasure_removes_the_subject_from_every_table_and_from_the_file(scenario, monkeypatch):
    # Uncompressed storage, so a leftover value would be visible in the bytes.
    monkeypatch.setenv("DUCKDB_FORCE_COMPRESSION", "uncompressed")
    scenario.extra_env["DUCKDB_FORCE_COMPRESSION"] = "uncompressed"
    assert scenario.dbt("build", *WITHOUT_UNIT_TESTS).success
    (subject, *values) = scenario.query(
        "select customers.customer_id, customers.email, customers.phone, "
        "customers.street_address "
        "from staging.stg_shop__customers as customers "
        "where customers.customer_id in (select customer_id from staging.stg_shop__orders) "
        "and customers.customer_id in (select customer_id from staging.stg_web__events) "
        "order by 1 limit 1"
    )[0]
    key = customer_key(subject)
    assert key.encode() in scenario.warehouse.read_bytes(), (
        "with compression off the subject's pseudonym is visible in the file before erasure"
    )

    append_raw(
        scenario,
        "erasure_requests",
        f"select '990000001', '{subject}', '{AS_OF} 07:00:00', 'received'",
    )
    result = scenario.dbt("build", *WITHOUT_UNIT_TESTS)
    assert result.success, result.output[-3000:]
    before, after = compact_database(scenario.warehouse)

    with duckdb.connect(str(scenario.warehouse), read_only=True) as con:
        hits = [
            f"{schema}.{table}.{column}"
            for schema, table, column in _text_columns(con)
            if con.execute(
                f'select count(*) from "{schema}"."{table}" where "{column}" in (?, ?)',
                [key, str(subject)],
            ).fetchone()[0]
        ]
        views_hit = con.execute(
            "select count(*) from staging.stg_shop__customers where customer_id = ?", [subject]
        ).fetchone()[0]
        logged = con.execute(
            "select count(*) from consent.int_erasure_log where fulfilled_date = ?",
            [date.fromisoformat(AS_OF)],
        ).fetchone()[0]
    assert hits == []
    assert views_hit == 0, "staging filters the erased subject too"
    assert logged >= 1
    data = scenario.warehouse.read_bytes()
    assert key.encode() not in data, "compaction leaves no freed block holding the pseudonym"
    # The raw values, long enough that no other bytes match them by chance. (Not the id: six
    # digits turn up by chance in the hex of the session's random-key pseudonyms; the text
    # columns were searched for it above, and a tombstone keeps it only as a number.)
    left = [i for i, value in enumerate(values) if value and value.encode() in data]
    assert left == [], "erased raw values (by position: email, phone, street) left in the file"


def test_a_shifted_as_of_expires_old_rows_everywhere_past_staging(scenario):
    later = (date.fromisoformat(AS_OF) + timedelta(days=120)).isoformat()
    result = scenario.dbt("build", *WITHOUT_UNIT_TESTS, as_of=later)
    assert result.success, result.output[-3000:]  # includes every within_retention test
    (oldest_web,) = scenario.query(
        "select min(occurred_date) from pseudonymized.int_web_events_pseudonymized"
    )[0]
    assert oldest_web >= date.fromisoformat(later) - timedelta(days=395)


def test_consent_and_retention_guards_fail_on_models_without_their_filter(tmp_path, faulty_raw):
    # The macro behind int_preferences_consented (and int_email_preferences_consented) with
    # the consent join and the retention filter removed.
    consented_model = "macros/consent/preferences_consented_for.sql"
    sql = (PROJECT_DIR / consented_model).read_text()
    sql = sql.replace(
        "    inner join consented_subjects\n"
        "        on preferences_keyed.customer_key = consented_subjects.customer_key\n",
        "",
    ).replace("    where updated_at >= {{ retention_start('preferences') }}\n", "")
    project, project_copy = project_with_fixtures(
        tmp_path,
        faulty_raw,
        {
            consented_model: sql,
            # A behavioural mart that forgot to say which consent it needs.
            "models/marts/behavior/fct_unconsented_fixture.sql": (
                "select customer_key from {{ ref('int_customers_pseudonymized') }}\n"
            ),
            "models/marts/behavior/_fixture.yml": (
                "version: 2\nmodels:\n  - name: fct_unconsented_fixture\n"
                "    description: fixture\n"
                "    columns:\n      - name: customer_key\n        data_type: varchar\n"
                "        description: fixture\n        config:\n          meta:\n"
                "            privacy:\n              classification: pseudonym\n"
                "              data_category: user.unique_id.pseudonymous\n"
                "              justification: fixture\n"
                "  - name: dim_unconsented_aggregate_fixture\n"
                "    description: fixture\n"
                "    config:\n      meta:\n        privacy:\n"
                "          consent_purpose: analytics\n"
                "          subject_count_column: customers\n"
                "    columns:\n      - name: customers\n        data_type: bigint\n"
                "        description: fixture\n        config:\n          meta:\n"
                "            privacy:\n              classification: aggregate\n"
                "              data_category: user.unique_id.pseudonymous\n"
                "              justification: fixture\n"
            ),
            # An aggregate that claims a purpose but counts everyone.
            "models/marts/behavior/dim_unconsented_aggregate_fixture.sql": (
                "select count(*) as customers from {{ ref('int_customers_pseudonymized') }}\n"
            ),
            # A release-layer model of one purpose that holds subjects, and another
            # purpose's aggregate over it: the release layer's exception covers its
            # pseudonym-free decisions only, not its subjects.
            "models/marts/release/int_release_subjects_fixture.sql": (
                "select customer_key from {{ ref('int_consented_subjects') }}\n"
                "where consent_purpose = 'analytics'\n"
            ),
            "models/marts/release/_fixture.yml": (
                "version: 2\nmodels:\n  - name: int_release_subjects_fixture\n"
                "    description: fixture\n"
                "    config:\n      meta:\n        privacy:\n"
                "          consent_purpose: analytics\n"
                "    data_tests:\n      - consent_respected:\n          arguments:\n"
                "            purpose: analytics\n"
                "    columns:\n      - name: customer_key\n        data_type: varchar\n"
                "        description: fixture\n        config:\n          meta:\n"
                "            privacy:\n              classification: pseudonym\n"
                "              data_category: user.unique_id.pseudonymous\n"
                "              justification: fixture\n"
                "  - name: rpt_release_reader_fixture\n"
                "    description: fixture\n"
                "    config:\n      meta:\n        privacy:\n"
                "          consent_purpose: marketing_email\n"
                "          subject_count_column: customers\n"
                "    columns:\n      - name: customers\n        data_type: bigint\n"
                "        description: fixture\n        config:\n          meta:\n"
                "            privacy:\n              classification: aggregate\n"
                "              data_category: user.unique_id.pseudonymous\n"
                "              justification: fixture\n"
            ),
            "models/marts/release/rpt_release_reader_fixture.sql": (
                "select count(*) as customers from {{ ref('int_release_subjects_fixture') }}\n"
            ),
        },
    )
    result = project.dbt(
        "build",
        "--select",
        "+int_preferences_consented",
        "+fct_unconsented_fixture",
        "+dim_unconsented_aggregate_fixture",
        "+rpt_release_reader_fixture",
        "--indirect-selection",
        "cautious",
        as_of="2027-06-30",
        project_dir=project_copy,
    )
    assert not result.success
    assert (
        "FAIL" in result.output and "consent_respected_int_preferences_consented" in result.output
    )
    assert "FAIL 1 within_retention_int_preferences_consented" in result.output
    assert "no meta.privacy.consent_purpose in a consent-filtered layer" in result.output
    assert (
        "aggregates over int_customers_pseudonymized, which is not in scope of 'analytics'"
        in result.output
    )
    assert (
        "aggregates over int_release_subjects_fixture, which is not in scope of "
        "'marketing_email'" in result.output
    )
