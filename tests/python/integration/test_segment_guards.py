"""The segment guards fail when they should, in one dbt run on a copy of the
session warehouse: malicious segment rules, a fixture that breaks
k-anonymity, minimum cell size and l-diversity (the tests read what the
fixture declares in meta.privacy, its own k and diversity included), a
skewed class that distinct l-diversity lets through and the default
recursive (c, l)-diversity refuses, a diversity declaration with a typo, a
published model without its protecting test that the risk report does not
cover, one whose test repeats what meta.privacy declares, one that does not
say how its rows enter the release, and one that publishes a mean it does
not declare as a magnitude.
The failing tests report class sizes and counts, never the values."""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest

from dbt_harness import DbtProject, project_with_fixtures

# Values that must never appear in a test's failure output (they stand for
# quasi-identifier and sensitive values of real people).
SECRET_VALUES = [
    "QI_RARE_AGE",
    "QI_RARE_REGION",
    "SENSITIVE_ONLY_VALUE",
    "QI_SKEWED_AGE",
    "SENSITIVE_SKEWED_VALUE",
]

MALICIOUS_RULES = {
    "sneaky_drop": ("1=1; drop table behavior.fct_customer_behavior", "found ';'"),
    "sneaky_subquery": (
        "recency_score in (select 1 from staging.stg_shop__customers)",
        "subqueries are not allowed",
    ),
    "sneaky_key": ("customer_key = 'abc'", "unknown column 'customer_key'"),
    "sneaky_function": ("read_text('/etc/passwd') is not null", "function 'read_text'"),
    "sneaky_comment": ("recency_score > 1 -- and more", "comments are not allowed"),
}

FIXTURE_ROWS = (
    # A fine class, split evenly: entropy exactly ln 2, which entropy 2-diversity accepts.
    [("25-34", "DE-BE", category, 12) for category in ["books", "toys"] * 6]
    + [("QI_RARE_AGE", "QI_RARE_REGION", "SENSITIVE_ONLY_VALUE", 2)] * 2  # k, cell size, l
    + [("", "DE-BE", "books", 12)] * 3  # NULL age: a class of its own, below k
    # A skewed class: two values, so distinct 2-diversity lets it through, but 19 of its 20
    # records hold SENSITIVE_SKEWED_VALUE: knowing someone is in it gives their value at 95%.
    + [("QI_SKEWED_AGE", "DE-BE", "SENSITIVE_SKEWED_VALUE", 12)] * 19
    + [("QI_SKEWED_AGE", "DE-BE", "toys", 12)]
)

# k = 4, not var segments_k (10): the tests must read the fixture's own declaration.
# The failing classes and cells are the same under both.
FIXTURE_K = 4

# The same rows under each diversity a model may declare (none = the default, recursive
# (c=9, l=2)), and under a declaration with a typo in its kind. The distinct one is the test's
# own argument, as a fixture that declares nothing passes it (a published model may not).
DIVERSITY_FIXTURES = {
    "privacy_guard_fixture": None,
    "privacy_distinct_fixture": "{kind: distinct}",
    "privacy_entropy_fixture": "{kind: entropy}",
    "privacy_typo_fixture": "{kind: recursiv}",
}
DIVERSITY_ARGUMENT = {"privacy_distinct_fixture"}


def _fixture_seed(name: str, diversity: str | None) -> str:
    declared = (
        f"          diversity: {diversity}\n"
        if diversity and name not in DIVERSITY_ARGUMENT
        else ""
    )
    if diversity is None:
        tests = "[k_anonymity, min_cell_size, l_diversity]"
    elif name in DIVERSITY_ARGUMENT:
        tests = f"[{{l_diversity: {{arguments: {{diversity: {diversity}}}}}}}]"
    else:
        tests = "[l_diversity]"
    return f"""  - name: {name}
    description: fixture
    config:
      meta:
        privacy:
          quasi_identifiers: [age_band, region]
          sensitive_attribute: top_category
          subject_count_column: member_count
          k: {FIXTURE_K}
{declared}    data_tests: {tests}
"""


FIXTURE_SEEDS = "".join(_fixture_seed(name, d) for name, d in DIVERSITY_FIXTURES.items())

FIXTURE_YML = f"""version: 2
seeds:
{FIXTURE_SEEDS}models:
  - name: rpt_unprotected_fixture
    description: fixture
    config:
      meta:
        privacy:
          layer: segments
          consent_purpose: analytics
          published: true
          subject_count_column: member_count
          quasi_identifiers: [segment_name]
    columns:
      - name: segment_name
        data_type: varchar
        description: fixture
        config:
          meta:
            privacy:
              classification: non_personal
              data_category: system.operations
              justification: fixture
      - name: member_count
        data_type: integer
        description: fixture
        config:
          meta:
            privacy:
              classification: aggregate
              data_category: system.operations
              justification: fixture
  - name: rpt_undeclared_mean_fixture
    description: fixture
    config:
      meta:
        privacy:
          layer: segments
          consent_purpose: analytics
          published: true
          subject_count_column: member_count
          quasi_identifiers: [segment_name]
          release:
            candidates: int_segment_cells_suppressed
            counts:
              - column: member_count
                population: analytics_buyers
                dimensions: {{segment_name: primary_segment}}
    data_tests: [min_cell_size]
    columns:
      - name: segment_name
        data_type: varchar
        description: fixture
        config:
          meta:
            privacy:
              classification: non_personal
              data_category: system.operations
              justification: fixture
      - name: member_count
        data_type: integer
        description: fixture
        config:
          meta:
            privacy:
              classification: aggregate
              data_category: system.operations
              justification: fixture
      - name: avg_spend_eur
        data_type: double
        description: fixture
        config:
          meta:
            privacy:
              classification: aggregate
              data_category: user.behavior.purchase_history
              justification: fixture
  - name: rpt_repeating_fixture
    description: fixture
    config:
      meta:
        privacy:
          layer: segments
          consent_purpose: analytics
          published: true
          subject_count_column: member_count
          quasi_identifiers: [segment_name]
    data_tests:
      - min_cell_size:
          arguments:
            k: 2
    columns:
      - name: segment_name
        data_type: varchar
        description: fixture
        config:
          meta:
            privacy:
              classification: non_personal
              data_category: system.operations
              justification: fixture
      - name: member_count
        data_type: integer
        description: fixture
        config:
          meta:
            privacy:
              classification: aggregate
              data_category: system.operations
              justification: fixture
"""


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, built) -> tuple[DbtProject, str]:
    tmp_path = tmp_path_factory.mktemp("segment_guards")
    fixture_csv = "age_band,region,top_category,member_count\n" + "".join(
        ",".join(map(str, row)) + "\n" for row in FIXTURE_ROWS
    )
    project, project_copy = project_with_fixtures(
        tmp_path,
        built.raw_dir,
        {
            **{f"seeds/fixtures/{name}.csv": fixture_csv for name in DIVERSITY_FIXTURES},
            "seeds/fixtures/_fixtures.yml": FIXTURE_YML,
            "models/marts/segments/rpt_unprotected_fixture.sql": (
                "select 'champions' as segment_name, 12 as member_count"
            ),
            "models/marts/segments/rpt_repeating_fixture.sql": (
                "select 'champions' as segment_name, 12 as member_count"
            ),
            "models/marts/segments/rpt_undeclared_mean_fixture.sql": (
                "select 'champions' as segment_name, 12 as member_count, "
                "99.5::double as avg_spend_eur"
            ),
        },
    )
    definitions = project_copy / "seeds/segments/segment_definitions.csv"
    with definitions.open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for number, (name, (rule, _)) in enumerate(MALICIOUS_RULES.items()):
            writer.writerow([name, "fixture", rule, "analytics", "", 900 + number, "false"])
    shutil.copy(built.warehouse, project.warehouse)
    result = project.dbt(
        "build",
        "--select",
        "segment_definitions",
        "fct_segment_membership",
        *DIVERSITY_FIXTURES,
        "rpt_unprotected_fixture",
        "rpt_repeating_fixture",
        "rpt_undeclared_mean_fixture",
        project_dir=project_copy,
    )
    assert not result.success
    # The risk report, compiled on its own (in the build its parents fail first).
    report = project.dbt(
        "compile", "--select", "rpt_reidentification_risk", project_dir=project_copy
    )
    assert not report.success
    return project, result.output + report.output


def test_malicious_rules_fail_the_membership_model_naming_segment_and_token(guarded):
    project, output = guarded
    assert "Invalid segment definitions" in output
    for name, (_, problem) in MALICIOUS_RULES.items():
        line = next(
            (line for line in output.splitlines() if f"segment '{name}':" in line),
            None,
        )
        assert line is not None, f"no message for segment {name}"
        assert problem in line, line
    # Nothing ran: the table the rule tried to drop is still there.
    assert project.query("select count(*) from behavior.fct_customer_behavior")[0][0] > 0


@pytest.mark.parametrize(
    ("test_name", "columns"),
    [
        ("k_anonymity", ["class_size", "classes", "records", "k"]),
        ("min_cell_size", ["cell_size", "cells", "k"]),
        (
            "l_diversity",
            [
                "class_size",
                "sensitive_values",
                "top_value_records",
                "classes",
                "records",
                "diversity",
            ],
        ),
    ],
)
def test_privacy_tests_fail_on_the_fixture_and_show_sizes_not_values(guarded, test_name, columns):
    project, output = guarded
    assert any(
        "FAIL" in line and test_name in line and "privacy_guard_fixture" in line
        for line in output.splitlines()
    ), f"{test_name} did not fail"
    compiled = next((project.target_dir / "compiled").rglob(f"{test_name}_privacy_guard_*.sql"))
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        cursor = con.execute(compiled.read_text())
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    assert names == columns
    assert rows, "the failing rows should be returned"
    shown = repr(rows) + output
    for secret in SECRET_VALUES:
        assert secret not in shown


def _failing_rows(project: DbtProject, test_name: str, fixture: str) -> list[tuple]:
    compiled = next((project.target_dir / "compiled").rglob(f"{test_name}_{fixture}_*.sql"))
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return sorted(con.execute(compiled.read_text()).fetchall())


# (class size, distinct values, records of the most frequent value, classes, records): the
# rare class and the NULL-age class have one value each, the skewed class two.
RARE_CLASS = (2, 1, 2, 1, 2)
NULL_AGE_CLASS = (3, 1, 3, 1, 3)
SKEWED_CLASS = (20, 2, 19, 1, 20)


@pytest.mark.parametrize(
    ("fixture", "rule", "failing"),
    [
        # The default, recursive (9, 2): the skewed class fails, 19 >= 9 x 1.
        (
            "privacy_guard_fixture",
            "recursive (c=9, l=2)",
            [RARE_CLASS, NULL_AGE_CLASS, SKEWED_CLASS],
        ),
        # Distinct l-diversity lets the skewed class through: it has two values.
        ("privacy_distinct_fixture", "distinct (l=2)", [RARE_CLASS, NULL_AGE_CLASS]),
        # Entropy: 0.199 < ln 2 for the skewed class; the evenly split class (exactly ln 2) passes.
        ("privacy_entropy_fixture", "entropy (l=2)", [RARE_CLASS, NULL_AGE_CLASS, SKEWED_CLASS]),
    ],
)
def test_l_diversity_checks_the_declared_kind(guarded, fixture, rule, failing):
    project, output = guarded
    assert _failing_rows(project, "l_diversity", fixture) == [(*row, rule) for row in failing]
    assert any(
        "FAIL" in line and "l_diversity" in line and fixture in line for line in output.splitlines()
    )


def test_a_diversity_declaration_with_a_typo_fails_naming_the_key(guarded):
    _, output = guarded
    assert (
        "meta.privacy of privacy_typo_fixture: diversity.kind must be distinct, entropy or "
        "recursive (default var segments_diversity_kind), got 'recursiv'"
    ) in output


def test_k_anonymity_counts_nulls_as_one_class(guarded):
    project, _ = guarded
    compiled = next((project.target_dir / "compiled").rglob("k_anonymity_privacy_guard_*.sql"))
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        rows = con.execute(compiled.read_text()).fetchall()
    # The two-row rare class and the three-row NULL-age class, each below k.
    assert sorted((size, classes) for size, classes, _, _ in rows) == [(2, 1), (3, 1)]
    assert {k for _, _, _, k in rows} == {FIXTURE_K}


def test_a_published_model_without_its_protecting_test_is_dropped(guarded):
    project, output = guarded
    assert "published without a min_cell_size test on member_count" in output
    tables = project.query(
        "select table_name from information_schema.tables "
        "where table_name = 'rpt_unprotected_fixture'"
    )
    assert tables == []


def test_a_published_model_whose_test_repeats_its_declaration_is_dropped(guarded):
    project, output = guarded
    assert (
        "its min_cell_size test passes k; the test reads meta.privacy, declare them there only"
        in output
    )
    tables = project.query(
        "select table_name from information_schema.tables "
        "where table_name = 'rpt_repeating_fixture'"
    )
    assert tables == []


def test_the_risk_report_must_cover_every_published_model(guarded):
    _, output = guarded
    assert "published but not covered by rpt_reidentification_risk" in output
    # The report itself refuses to run without a published model it does not read.
    assert "is published but not read here; add a `-- depends_on:` line" in output


def test_a_published_model_that_does_not_say_how_its_rows_enter_the_release_is_dropped(guarded):
    _, output = guarded
    assert "published without meta.privacy.release (candidates, counts)" in output


def test_a_published_mean_not_declared_as_a_magnitude_is_dropped(guarded):
    project, output = guarded
    assert (
        "avg_spend_eur: a published aggregate that meta.privacy.release declares neither as a "
        "count nor as a magnitude" in output
    )
    tables = project.query(
        "select table_name from information_schema.tables "
        "where table_name = 'rpt_undeclared_mean_fixture'"
    )
    assert tables == []
