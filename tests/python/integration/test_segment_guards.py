"""The segment guards fail when they should, in one dbt run on a copy of the
session warehouse: malicious segment rules, a fixture that breaks
k-anonymity, minimum cell size and l-diversity (the tests read what the
fixture declares in meta.privacy, its own k included), a published model
without its protecting test that the risk report does not cover, and one
whose test repeats what meta.privacy declares, one that does not say how its
rows enter the release, and one that publishes a mean it does not declare as a
magnitude.
The failing tests report class sizes and counts, never the values."""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest

from dbt_harness import DbtProject, project_with_fixtures

# Values that must never appear in a test's failure output (they stand for
# quasi-identifier and sensitive values of real people).
SECRET_VALUES = ["QI_RARE_AGE", "QI_RARE_REGION", "SENSITIVE_ONLY_VALUE"]

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
    [("25-34", "DE-BE", category, 12) for category in ["books", "toys"] * 6]  # a fine class
    + [("QI_RARE_AGE", "QI_RARE_REGION", "SENSITIVE_ONLY_VALUE", 2)] * 2  # k, cell size, l
    + [("", "DE-BE", "books", 12)] * 3  # NULL age: a class of its own, below k
)

# k = 4, not var segments_k (10): the tests must read the fixture's own declaration.
# The failing classes and cells are the same under both.
FIXTURE_K = 4

FIXTURE_YML = f"""version: 2
seeds:
  - name: privacy_guard_fixture
    description: fixture
    config:
      meta:
        privacy:
          quasi_identifiers: [age_band, region]
          sensitive_attribute: top_category
          subject_count_column: member_count
          k: {FIXTURE_K}
    data_tests: [k_anonymity, min_cell_size, l_diversity]
models:
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
                dimensions: {segment_name: primary_segment}
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
            "seeds/fixtures/privacy_guard_fixture.csv": fixture_csv,
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
        "privacy_guard_fixture",
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
        ("l_diversity", ["sensitive_values", "classes", "records", "l"]),
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
