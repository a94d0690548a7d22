"""Triggered audiences on the session build: the daily trigger feed holds a trigger and its
date, nothing else; each row's customer holds every purpose its trigger lists; the export
leaves exactly the due members with an address. A bad trigger definition fails the build
naming the row, and the feed's consent test fails when a row lacks a grant its trigger needs
(on a copy of the session warehouse, reporting counts, never a pseudonym); so does the audit's
check triggered_audiences, which also fails when the feed carries an undeclared input."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dbt_harness import DbtProject, customer_key, project_with_fixtures
from privseg.audit.catalog import warehouse_catalog
from privseg.audit.checks.triggered_audiences import (
    check_minimal_inputs,
    check_trigger_consent,
    triggered_models,
)
from privseg.core.keys import KEY_ENV_VAR
from privseg.export import cli as export_audience
from privseg.lineage.project import trace_project

FEED = "model.privacy_segmentation.fct_triggered_audience"
BAD_TRIGGERS = [
    # trigger_type, description, trigger_kind, consent_purposes, days, order_count, window_days,
    # campaign_objective: each passes the seed's not_null tests, so the model's check sees it.
    ("typo_kind", "x", "cart_abandonned", "marketing_email analytics", 1, "", 1, "cart"),
    ("cart_without_analytics", "x", "cart_abandoned", "marketing_email", 1, "", 1, "cart"),
    ("same_day", "x", "days_after_purchase", "marketing_email", 0, 3, 1, "post"),
    ("unknown_purpose", "x", "order_milestone", "marketing_email newsletters", 1, 5, 0, "m"),
]
EXPECTED_PROBLEMS = [
    "trigger 'typo_kind': unknown trigger_kind 'cart_abandonned'; known kinds: cart_abandoned, "
    "days_after_purchase, order_milestone, repeat_purchase_due",
    "trigger 'cart_without_analytics': consent_purposes must include analytics (cart_abandoned "
    "reads browsing (web events))",
    "trigger 'same_day': days must be a whole number from 1 to 3650 for days_after_purchase, got 0",
    "trigger 'same_day': order_count must be empty for days_after_purchase",
    "trigger 'unknown_purpose': unknown consent purpose 'newsletters' (seed consent_purposes)",
    "trigger 'unknown_purpose': window_days must be a whole number from 1 to 366, got 0",
]


def grants_of(built) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for key, purpose in built.query(
        "select customer_key, consent_purpose from consent.int_consented_subjects"
    ):
        grants.setdefault(key, set()).add(purpose)
    return grants


def test_the_feed_holds_a_trigger_and_its_date_only(built):
    columns = built.query(
        "select column_name from information_schema.columns "
        "where table_schema = 'audiences' and table_name = 'fct_triggered_audience' "
        "order by ordinal_position"
    )
    assert [c for (c,) in columns] == ["customer_key", "trigger_type", "trigger_date", "as_of_date"]


def test_every_row_holds_every_purpose_its_trigger_lists(built):
    purposes = dict(
        built.query("select trigger_type, consent_purposes from audiences.trigger_definitions")
    )
    rows = built.query(
        "select customer_key, trigger_type, trigger_date, as_of_date "
        "from audiences.fct_triggered_audience"
    )
    assert rows, "the session data set fires triggers"
    grants = grants_of(built)
    for key, trigger, trigger_date, as_of in rows:
        assert set(purposes[trigger].split()) <= grants.get(key, set())
        assert trigger_date <= as_of


def test_the_export_leaves_the_due_members_with_an_address(built, monkeypatch, tmp_path):
    monkeypatch.setenv("WAREHOUSE_PATH", str(built.warehouse))
    monkeypatch.setenv(KEY_ENV_VAR, built.key)
    ((trigger, count),) = built.query(
        "select trigger_type, count(distinct customer_key) from audiences.fct_triggered_audience "
        "group by 1 order by 2 desc, 1 limit 1"
    )
    members = {k for (k,) in built.query(
        "select customer_key from audiences.fct_triggered_audience where trigger_type = ?",
        [trigger],
    )}  # fmt: skip
    not_due = {k for (k,) in built.query(
        "select customer_key from audiences.int_email_contact_schedule where not is_contact_due"
    )}  # fmt: skip
    email_of = {
        customer_key(customer_id, built.key): email
        for customer_id, email in built.query(
            "select customer_id, email from staging.stg_shop__customers where email is not null"
        )
    }
    out = tmp_path / "triggered.csv"
    code = export_audience.main(
        ["--trigger", trigger, "--purpose", "marketing_email", "--out", str(out)]
    )
    assert code == 0
    assert out.stat().st_mode & 0o777 == 0o600
    with out.open(newline="") as handle:
        exported = [row[0] for row in list(csv.reader(handle))[1:]]
    assert exported == sorted({email_of[k] for k in members - not_due if k in email_of})
    assert len(members) == count


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, built) -> tuple[DbtProject, Path, str]:
    """A copy of the project with the bad trigger definitions, built on a copy of the session
    warehouse: the model fails and keeps its built rows, which the test then breaks."""
    tmp_path = tmp_path_factory.mktemp("trigger_guards")
    project, project_copy = project_with_fixtures(tmp_path, built.raw_dir, {})
    definitions = project_copy / "seeds/audiences/trigger_definitions.csv"
    with definitions.open("a", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(BAD_TRIGGERS)
    shutil.copy(built.warehouse, project.warehouse)
    result = project.dbt(
        "build", "--select", "trigger_definitions", "fct_triggered_audience",
        "--exclude", "test_type:unit", project_dir=project_copy,
    )  # fmt: skip
    assert not result.success
    return project, project_copy, result.output


def test_a_bad_trigger_definition_fails_the_build_naming_the_row(guarded):
    _, _, output = guarded
    for problem in EXPECTED_PROBLEMS:
        assert problem in output, problem
    assert "trigger 'cart_abandoned'" not in output, "the project's own triggers are valid"


def test_the_consent_test_fails_for_a_row_without_a_grant_its_trigger_needs(guarded, built):
    """The guard: a customer with marketing_email but no analytics in the cart trigger's feed."""
    project, project_copy, _ = guarded
    grants = grants_of(built)
    outsider = min(k for k, p in grants.items() if "marketing_email" in p and "analytics" not in p)
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(
            "insert into audiences.fct_triggered_audience values (?, 'cart_abandoned', ?, ?)",
            [outsider, "2026-06-30", "2026-06-30"],
        )
    result = project.dbt(
        "test", "--select", "fct_triggered_audience,test_name:trigger_consent_respected",
        project_dir=project_copy,
    )  # fmt: skip
    assert not result.success
    assert "Failure in test trigger_consent_respected_fct_triggered_audience" in result.output
    assert outsider not in result.output
    assert "Got 1 result, configured to fail if != 0" in result.output, "one trigger x purpose"


# The audit's check triggered_audiences


def traced(built, manifest: dict):
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        catalog = warehouse_catalog(con, manifest)
    return trace_project(manifest, catalog, target_dir=built.target_dir)


def test_the_audit_check_passes_on_the_project(built):
    manifest = json.loads((built.target_dir / "manifest.json").read_text())
    assert [n["name"] for n in triggered_models(manifest)] == ["fct_triggered_audience"]
    assert check_minimal_inputs(manifest, traced(built, manifest)) == []
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        assert check_trigger_consent(con, manifest) == []


def test_the_audit_check_fails_on_an_undeclared_input(built):
    """Without web events among its declared inputs, the cart trigger's date is a finding."""
    manifest = copy.deepcopy(json.loads((built.target_dir / "manifest.json").read_text()))
    meta = manifest["nodes"][FEED]["config"]["meta"]["privacy"]
    meta["trigger_inputs"] = ["shop.orders.ordered_at"]
    assert check_minimal_inputs(manifest, traced(built, manifest)) == [
        "fct_triggered_audience.trigger_date: carries web.web_events.occurred_at (behavioral), "
        "which is not the subject's pseudonym nor a declared trigger input made a date"
    ]


def test_the_audit_check_fails_on_a_subject_without_a_grant_the_trigger_needs(built, tmp_path):
    manifest = json.loads((built.target_dir / "manifest.json").read_text())
    grants = grants_of(built)
    outsider = min(k for k, p in grants.items() if "marketing_email" in p and "analytics" not in p)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into audiences.fct_triggered_audience values (?, 'cart_abandoned', ?, ?)",
            [outsider, "2026-06-30", "2026-06-30"],
        )
        findings = check_trigger_consent(con, manifest)
    assert findings == [
        "fct_triggered_audience: 1 subjects of trigger 'cart_abandoned' without a valid "
        "'analytics' grant"
    ]
