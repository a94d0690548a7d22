"""Contextual audiences (rpt_contextual_audiences): no row can be joined back to a customer or a
visit. The table has no key-like column and no date of the visits; every row, recomputed from the
pseudonymized events on its own (not through the project's session model), counts at least k
visits and k distinct visitors, so joining on every published column never isolates one person.
The legal basis is honoured: an objection removes a customer's visits, and under a consent basis
anonymous visits drop out. The guards are shown failing: without the visitor check, one customer's
dozen visits in a rare context are published, and the audit's contextual_audiences check finds
them; the check also finds a key column and anonymous visits under a consent basis.
Failures report counts and column names, never a key."""

from __future__ import annotations

import copy
import json
import shutil

import duckdb
import pytest

from dbt_harness import (
    WITHOUT_UNIT_TESTS,
    DbtProject,
    append_raw,
    customer_key,
    generate,
    link_raw,
    project_with_fixtures,
)
from privseg.audit.catalog import warehouse_catalog
from privseg.audit.checks.contextual_audiences import (
    check_basis,
    check_not_joinable,
    check_visits_and_visitors,
    contextual_models,
)
from privseg.lineage.project import trace_project

K = 10  # var segments_k: rpt_contextual_audiences declares no k of its own
PUBLISHED = "contextual.rpt_contextual_audiences"
CONTEXT = ["referrer_class", "landing_campaign", "device_class", "daypart", "market_region"]
PUBLISHED_COLUMNS = [
    "context_name", *CONTEXT, "interest_category", "cell_level", "session_count",
    "conversion_rate", "as_of_date",
]  # fmt: skip
MODEL = "model.privacy_segmentation.rpt_contextual_audiences"
SUPPRESSION = "models/marts/contextual/int_contextual_cells_suppressed.sql"
GUARD = "primary_suppressed='least(session_count, visitor_count) between 1 and ' ~ (k - 1),"

# Sessions rebuilt from the pseudonymized events by this test's own rules (the session model is
# not read): a visit's context is its landing page's (the one event with an outside referrer, or
# none: internal), its interest the product category it has most events in (first by name).
SESSIONS_FROM_EVENTS = """
    with events as (
        select * from pseudonymized.int_web_events_pseudonymized
        where occurred_date > date '2026-06-30' - 365
    ),
    landing as (
        select session_key,
            max(customer_key) as customer_key,
            coalesce(min(referrer_class) filter (where referrer_class <> 'internal'), 'internal')
                as referrer_class,
            coalesce(min(landing_campaign) filter (where landing_campaign <> 'none'), 'none')
                as landing_campaign,
            min(device_class) as device_class,
            arg_min(occurred_daypart, occurred_date + occurred_hour * interval 1 hour) as daypart,
            min(market_region) as market_region
        from events group by session_key
    ),
    interest_per_session as (
        select session_key, interest_category from (
            select session_key, page_category as interest_category,
                row_number() over (
                    partition by session_key order by count(*) desc, page_category
                ) as rank_in_session
            from events
            where page_category not in ('home', 'search', 'account', 'checkout')
            group by session_key, page_category
        ) where rank_in_session = 1
    )
    select landing.*, coalesce(interest_per_session.interest_category, 'none') as interest_category
    from landing left join interest_per_session using (session_key)
    where landing.customer_key is null or landing.customer_key in (
        select customer_key from consent.int_consented_subjects
        where consent_purpose = 'contextual_advertising'
    )
"""


@pytest.fixture(scope="module")
def traffic(tmp_path_factory) -> DbtProject:
    """A year of traffic of 1,500 customers and their anonymous visitors (the session build's
    120 days of 400 customers hold no context of k visitors), built with every dbt test."""
    tmp = tmp_path_factory.mktemp("contextual_traffic")
    generate(tmp / "raw", customers=1500, days=365, seed=11)
    project = DbtProject(tmp / "run", tmp / "raw")
    project.root.mkdir()
    result = project.dbt("build", *WITHOUT_UNIT_TESTS)
    assert result.success, "\n".join(
        line for line in result.output.splitlines() if "ERROR" in line or "FAIL" in line
    )[-3000:]
    return project


def published_rows(project: DbtProject) -> list[dict]:
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        cursor = con.execute(f"select * from {PUBLISHED}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def matched_counts(project: DbtProject) -> list[tuple[int, int, int, int]]:
    """Per published row: its session_count, and the visits, distinct visitors and distinct
    customers of the sessions rebuilt from the events that match it on every published context
    column."""
    matches = " and ".join(
        f"(published.{c} = 'all' or published.{c} = sessions.{c})"
        for c in [*CONTEXT, "interest_category"]
    )
    return project.query(f"""
        with sessions as ({SESSIONS_FROM_EVENTS})
        select any_value(published.session_count), count(distinct sessions.session_key),
            count(distinct coalesce(sessions.customer_key, sessions.session_key)),
            count(distinct sessions.customer_key)
        from {PUBLISHED} as published
        left join sessions on {matches}
        group by published.context_name, published.interest_category
    """)


def test_the_published_table_holds_no_key_and_no_time_of_a_visit(traffic):
    rows = published_rows(traffic)
    assert len(rows) > 50, "a year of traffic publishes contextual audiences"
    assert list(rows[0]) == PUBLISHED_COLUMNS
    key_like = [c for c in rows[0] if c.endswith(("_key", "_id")) or c.startswith("session_id")]
    assert key_like == []
    with duckdb.connect(str(traffic.warehouse), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'contextual' and table_name = 'rpt_contextual_audiences'"
            ).fetchall()
        )
    dated = sorted(c for c, t in types.items() if "DATE" in t or "TIME" in t)
    assert dated == ["as_of_date"], "the run's date only, no day or hour of a visit"
    assert {row["as_of_date"].isoformat() for row in rows} == {"2026-06-30"}


def test_every_row_counts_k_visits_and_k_visitors_recomputed_from_the_events(traffic):
    counts = matched_counts(traffic)
    assert len(counts) == len(published_rows(traffic))
    assert min(visits for _, visits, _, _ in counts) >= K
    assert min(visitors for _, _, visitors, _ in counts) >= K
    # Every published volume is the recomputed one: the model and this test agree on each visit.
    assert [published for published, _, _, _ in counts] == [visits for _, visits, _, _ in counts]


def test_joining_on_every_published_column_never_isolates_one_person(traffic):
    """The published columns an attacker can join on are context categories only; matched to
    the pseudonymized events and their visits, each row stands for k or more people."""
    with duckdb.connect(str(traffic.warehouse), read_only=True) as con:
        event_columns = {
            c for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_name = 'int_web_events_pseudonymized'"
            ).fetchall()
        }  # fmt: skip
    shared = set(PUBLISHED_COLUMNS) & event_columns
    assert shared == {"referrer_class", "landing_campaign", "device_class", "market_region"}
    for _published, _visits, visitors, customers in matched_counts(traffic):
        assert visitors >= K
        assert not (customers == 1 and visitors == 1), "a row that stands for one person"


def test_anonymous_traffic_is_counted_and_nothing_links_a_visit(traffic):
    (anonymous, sessions, customers) = traffic.query(
        "select count(*) filter (where customer_key is null), count(*), "
        "count(distinct customer_key) from contextual.int_web_sessions_contextualized"
    )[0]
    assert 0 < anonymous < sessions, "anonymous and logged-in visits both count"
    assert customers < sessions - anonymous, "a customer's visits count once as a visitor"


def customer_in_scope(built: DbtProject) -> str:
    """The smallest customer number with visits in the contextual session model."""
    customer_ids = [
        i for (i,) in duckdb.sql(
            f"select distinct customer_id from '{built.raw_dir}/web_events.parquet' "
            "where customer_id is not null order by 1"
        ).fetchall()
    ]  # fmt: skip
    in_scope = {
        k for (k,) in built.query(
            "select distinct customer_key from contextual.int_web_sessions_contextualized"
        )
    }  # fmt: skip
    return next(i for i in customer_ids if customer_key(i) in in_scope)


# The legal basis is honoured: an objection under legitimate interest, and a consent basis.


@pytest.fixture(scope="module")
def objected(tmp_path_factory, built) -> tuple[DbtProject, str]:
    """The session build plus one customer's objection (a withdrawal of contextual_advertising)."""
    tmp = tmp_path_factory.mktemp("contextual_objection")
    project = DbtProject(tmp / "run", link_raw(built.raw_dir, tmp / "raw"))
    project.root.mkdir()
    shutil.copy(built.warehouse, project.warehouse)
    objector = customer_in_scope(built)
    append_raw(
        project,
        "consent_events",
        f"select '990000001', '{objector}', 'contextual_advertising', 'withdrawn', "
        "'preference_center', '3', '2026-06-29T10:00:00Z'",
    )
    result = project.dbt(
        "run", "--select", "+int_web_sessions_contextualized", "--exclude", "test_type:unit"
    )
    assert result.success, result.output[-2000:]
    return project, customer_key(objector)


def test_an_objection_removes_the_customers_visits(objected, built):
    project, objector = objected
    sql = "select count(*) from contextual.int_web_sessions_contextualized where customer_key = ?"
    assert built.query(sql, [objector])[0][0] > 0
    assert project.query(sql, [objector])[0][0] == 0
    state = project.query(
        "select is_granted, state_reason from consent.int_consent_state "
        "where customer_key = ? and consent_purpose = 'contextual_advertising'",
        [objector],
    )
    assert state == [(False, "withdrawn")]
    everyone_else = "select count(*) from contextual.int_web_sessions_contextualized"
    assert (
        project.query(everyone_else)[0][0]
        == built.query(everyone_else)[0][0] - built.query(sql, [objector])[0][0]
    )


def test_under_a_consent_basis_anonymous_visits_drop_out(tmp_path, built):
    project, project_copy = project_with_fixtures(tmp_path, built.raw_dir, {})
    purposes = project_copy / "seeds/reference/consent_purposes.csv"
    lines = purposes.read_text().splitlines()
    lines = [
        line.replace("legitimate interest (GDPR art. 6(1)(f); objection under art. 21 honoured)",
                     "consent (GDPR art. 6(1)(a))").replace(",granted,1", ",denied,1")
        if line.startswith("contextual_advertising,") else line
        for line in lines
    ]  # fmt: skip
    purposes.write_text("\n".join(lines) + "\n")
    shutil.copy(built.warehouse, project.warehouse)
    result = project.dbt(
        "build", "--select", "consent_purposes",
        "int_consent_state+,+int_web_sessions_contextualized",
        "--exclude", "test_type:unit", project_dir=project_copy,
    )  # fmt: skip
    assert result.success, result.output[-2000:]
    (anonymous, customers) = project.query(
        "select count(*) filter (where customer_key is null), count(distinct customer_key) "
        "from contextual.int_web_sessions_contextualized"
    )[0]
    assert anonymous == 0
    granted = project.query(
        "select count(*) from consent.int_consented_subjects "
        "where consent_purpose = 'contextual_advertising'"
    )[0][0]
    assert granted == 0 and customers == 0, "nobody granted it: no visit counts"


# The guards, shown failing


def rare_context_visits(customer_id: str) -> str:
    """Twelve visits of one customer in a context no one else has: a tablet at night from
    Pinterest, landing on a seasonal sale, in southern Europe, looking at garden pages. Dated
    in the last days before as_of, inside the late-data window, as a daily load brings them
    (the incremental web events take a single file's added rows from that window only)."""
    agent = "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    rows = [
        f"select '{990000100 + n}', '{customer_id}', 'rare-visit-{n}', 'page_view', 'garden', "
        f"null, '2026-06-{27 + n % 3}T03:{10 + n:02d}:00Z', '10.0.0.1', '{agent}', "
        "'https://www.pinterest.com/', 'IT', 'spring_sale'"
        for n in range(12)
    ]
    return " union all ".join(rows)


def build_with_rare_context(tmp_path, built, files: dict[str, str]) -> DbtProject:
    project, project_copy = project_with_fixtures(tmp_path, built.raw_dir, files)
    project.raw_dir = link_raw(built.raw_dir, tmp_path / "raw")
    append_raw(project, "web_events", rare_context_visits(customer_in_scope(built)))
    shutil.copy(built.warehouse, project.warehouse)
    result = project.dbt("run", "--exclude", "test_type:unit", project_dir=project_copy)
    assert result.success, result.output[-2000:]
    return project


RARE = (
    "referrer_class = 'social' and landing_campaign = 'seasonal_sale' and device_class = 'tablet' "
    "and daypart = 'night' and market_region = 'southern_europe'"
)


@pytest.fixture(scope="module")
def without_visitor_guard(tmp_path_factory, built) -> DbtProject:
    tmp = tmp_path_factory.mktemp("contextual_no_guard")
    source = (
        (built_project_file(SUPPRESSION))
        .replace(GUARD, "primary_suppressed='session_count between 1 and ' ~ (k - 1),")
        .replace("total_count_column='subject_floor',", "")
    )
    return build_with_rare_context(tmp, built, {SUPPRESSION: source})


def built_project_file(relative: str) -> str:
    from privseg.core.settings import PROJECT_DIR

    text = (PROJECT_DIR / relative).read_text()
    assert GUARD in text, "the visitor guard is where this test removes it"
    return text


def test_one_customers_visits_in_a_rare_context_are_withheld(tmp_path, built):
    project = build_with_rare_context(tmp_path, built, {})
    (sessions, visitors, reason) = project.query(
        "select session_count, visitor_count, suppression_reason "
        "from contextual.int_contextual_cells_suppressed "
        f"where {RARE} and cell_level = 'context_total'"
    )[0]
    assert sessions >= 12 and visitors < K and reason == "context_below_k"
    assert project.query(f"select count(*) from {PUBLISHED} where {RARE}") == [(0,)]


def test_without_the_visitor_check_one_customer_is_published_and_the_audit_finds_it(
    without_visitor_guard,
):
    project = without_visitor_guard
    assert project.query(f"select count(*) from {PUBLISHED} where {RARE}")[0][0] >= 1
    manifest = json.loads((project.target_dir / "manifest.json").read_text())
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        findings = check_visits_and_visitors(con, manifest, K)
    assert [f for f in findings if f.endswith("match fewer than k=10 distinct visitors")]
    assert all(f.startswith("rpt_contextual_audiences: ") for f in findings)


def traced(project: DbtProject, manifest: dict):
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        catalog = warehouse_catalog(con, manifest)
    return trace_project(manifest, catalog, target_dir=project.target_dir)


def test_the_audit_check_passes_on_the_project(traffic):
    manifest = json.loads((traffic.target_dir / "manifest.json").read_text())
    assert [n["name"] for n in contextual_models(manifest)] == ["rpt_contextual_audiences"]
    assert check_not_joinable(manifest, traced(traffic, manifest)) == []
    with duckdb.connect(str(traffic.warehouse), read_only=True) as con:
        assert check_visits_and_visitors(con, manifest, K) == []
        assert check_basis(con, manifest) == []


def test_the_audit_check_fails_on_a_key_and_on_a_visit_date(built):
    manifest = copy.deepcopy(json.loads((built.target_dir / "manifest.json").read_text()))
    columns = manifest["nodes"][MODEL]["columns"]
    columns["context_name"]["config"]["meta"]["privacy"]["classification"] = "pseudonym"
    columns["as_of_date"]["config"]["meta"]["privacy"]["classification"] = "behavioral"
    findings = check_not_joinable(manifest, traced(built, manifest))
    assert "rpt_contextual_audiences.context_name: a pseudonym (a key to a person)" in findings
    assert "rpt_contextual_audiences.as_of_date: a date of the visits" in findings


def test_the_audit_check_fails_on_anonymous_visits_under_a_consent_basis(built, tmp_path):
    manifest = json.loads((built.target_dir / "manifest.json").read_text())
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update reference.consent_purposes set legal_basis = 'consent (GDPR art. 6(1)(a))' "
            "where consent_purpose = 'contextual_advertising'"
        )
        findings = check_basis(con, manifest)
    assert len(findings) == 1
    assert findings[0].startswith("int_web_sessions_contextualized: ")
    assert findings[0].endswith(
        "anonymous visits under 'contextual_advertising', whose legal basis is consent"
    )


# Contextual rules in segments-as-data (seed segment_definitions, purpose contextual_advertising)


def test_a_contextual_segment_maps_to_the_released_rows_its_rule_matches(traffic):
    rules = traffic.query(
        "select segment_name, rule from segments.segment_definitions "
        "where consent_purpose = 'contextual_advertising'"
    )
    assert rules, "the seed ships a contextual segment"
    for segment, rule in rules:
        # The seed's own text, trusted here: the test evaluates it on the publication directly.
        expected = set(
            traffic.query(f"select context_name, interest_category from {PUBLISHED} where ({rule})")
        )
        mapped = set(
            traffic.query(
                "select context_name, interest_category "
                "from contextual.int_contextual_segment_contexts where segment_name = ?",
                [segment],
            )
        )
        assert expected and mapped == expected, segment
    members = traffic.query(
        "select count(*) from segments.fct_segment_membership as membership "
        "inner join segments.segment_definitions as definitions using (segment_name) "
        "where definitions.consent_purpose = 'contextual_advertising'"
    )
    assert members == [(0,)], "a contextual rule never makes a person a member"


# name, rule, the problem the build must report for it
BAD_CONTEXTUAL_RULES = {
    "ctx_key": ("referrer_class = 'social' and session_key = 'x'", "unknown column 'session_key'"),
    "ctx_behaviour": ("recency_score >= 4", "unknown column 'recency_score'"),
    "ctx_day": ("session_date > '2026-01-01'", "unknown column 'session_date'"),
    "ctx_count": ("session_count > 100", "unknown column 'session_count'"),
    "ctx_function": ("read_text('/etc/passwd') is not null", "function 'read_text'"),
}


def test_a_contextual_rule_outside_the_allowlist_fails_naming_segment_and_token(tmp_path, built):
    project, project_copy = project_with_fixtures(tmp_path, built.raw_dir, {})
    definitions = project_copy / "seeds/segments/segment_definitions.csv"
    with definitions.open("a") as handle:
        for number, (name, (rule, _)) in enumerate(BAD_CONTEXTUAL_RULES.items()):
            quoted = rule.replace('"', '""')
            handle.write(
                f'{name},fixture,"{quoted}",contextual_advertising,,{950 + number},false\n'
            )
    shutil.copy(built.warehouse, project.warehouse)
    result = project.dbt(
        "build", "--select", "segment_definitions", "fct_segment_membership",
        "int_contextual_segment_contexts", *WITHOUT_UNIT_TESTS, project_dir=project_copy,
    )  # fmt: skip
    assert not result.success
    for name, (_, problem) in BAD_CONTEXTUAL_RULES.items():
        assert f"segment '{name}': {problem}" in result.output, name
    assert "segment 'social_evening_browsers'" not in result.output, "the shipped rule is valid"
    # The behavioural segments do not read the contextual rules: their model still builds.
    assert "OK created sql table model segments.fct_segment_membership" in result.output
