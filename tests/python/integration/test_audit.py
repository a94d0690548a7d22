"""The privacy audit catches each deliberate break, independently of the dbt tests.

One dbt run on a copy of the session warehouse adds fixture models that pass the build but
break the audit's promises (their metadata lies, or their protecting test is filtered away):
a mart that copies an email address under a "behavioral" label, a consent-filtered mart that
skips the consent join, and a model that writes the key. Then the copy is tampered with as a
bypassed pipeline would leave it: a published cell and a published class below k, a published
class skewed so that one top category holds all but one of its records (distinct 2-diversity
lets it through), an erased subject's pseudonym and an expired row (the class moved out of the
age bands also leaves the release unmodellable). The audit must exit 1 and name each check and
table, and its reports must not contain the values it found."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter, defaultdict

import duckdb
import pytest

from dbt_harness import AS_OF, TEST_KEY, customer_key, project_with_fixtures
from privseg.core.settings import PROJECT_DIR

COLUMN = """      - name: {name}
        data_type: varchar
        description: fixture
        config:
          meta:
            privacy:
              classification: {classification}
              data_category: {category}
              justification: fixture
"""


def _model(name: str, columns: list[tuple[str, str, str]], tests: str = "") -> str:
    return (
        f"  - name: {name}\n    description: fixture\n    config:\n      meta:\n"
        "        privacy:\n          layer: behavior\n          consent_purpose: analytics\n"
        + tests
        + "    columns:\n"
        + "".join(
            COLUMN.format(name=n, classification=c, category=category) for n, c, category in columns
        )
    )


CONSENT_TEST = (
    "    data_tests:\n      - consent_respected:\n          arguments:\n"
    "            purpose: analytics\n"
)
# The consent test is there, as the build's guard demands, but filtered to nothing.
FILTERED_CONSENT_TEST = CONSENT_TEST + "          config:\n            where: 1 = 0\n"
PSEUDONYM = ("customer_key", "pseudonym", "user.unique_id.pseudonymous")

FIXTURE_YML = "version: 2\nmodels:\n" + "".join(
    [
        _model(
            "fct_contact_leak",
            [PSEUDONYM, ("contact_hint", "behavioral", "user.behavior")],
            CONSENT_TEST,
        ),
        _model("fct_unconsented_orders", [PSEUDONYM], FILTERED_CONSENT_TEST),
        _model("fct_key_note", [("note", "non_personal", "system.operations")]),
    ]
)

FIXTURE_MODELS = {
    "fct_contact_leak": """
with
customers as (
    select customer_id, email from {{ ref('stg_shop__customers') }}
),
keyed as (
    select
        {{ pseudonymize('customer', 'customers.customer_id') }} as customer_key,
        lower(customers.email) as contact_hint
    from customers
),
consented as (
    select customer_key from {{ ref('int_consented_subjects') }}
    where consent_purpose = 'analytics'
)
select keyed.customer_key, keyed.contact_hint
from keyed
inner join consented on consented.customer_key = keyed.customer_key
""",
    "fct_unconsented_orders": (
        "select distinct customer_key from {{ ref('int_orders_pseudonymized') }}"
    ),
    "fct_key_note": f"select '{TEST_KEY}' as note",
}


@pytest.fixture(scope="module")
def broken_audit(tmp_path_factory, built):
    tmp_path = tmp_path_factory.mktemp("audit_breaks")
    files = {f"models/marts/behavior/{name}.sql": sql for name, sql in FIXTURE_MODELS.items()}
    files["models/marts/behavior/_fixtures.yml"] = FIXTURE_YML
    project, project_copy = project_with_fixtures(tmp_path, built.raw_dir, files)
    shutil.copy(built.warehouse, project.warehouse)
    # The session build's compiled SQL: the audit traces every model, not just these three.
    shutil.copytree(built.target_dir, project.target_dir)
    result = project.dbt("build", "--select", *FIXTURE_MODELS, project_dir=project_copy)
    assert result.success, result.output[-3000:]
    shutil.copy(project.target_dir / "run_results.json", project.target_dir / "build_results.json")

    manifest = json.loads((project.target_dir / "manifest.json").read_text())
    retention = next(
        n
        for n in manifest["nodes"].values()
        if (n.get("test_metadata") or {}).get("name") == "within_retention"
        and n["attached_node"].endswith(".fct_orders")
    )
    erased = project.query(
        "select min(customer_id) from staging.stg_preference_center__erasure_requests "
        "where request_status in ('received', 'completed')"
    )[0][0]
    assert erased is not None, "the faulty data set has erasure requests"
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(
            "update segments.rpt_segment_summary set member_count = 3 "
            "where rowid = (select min(rowid) from segments.rpt_segment_summary)"
        )
        # Two rows of the row-level table moved into a class of their own.
        con.execute(
            "update segments.fct_segment_profiles set age_band = 'tampered' "
            "where rowid in (select rowid from segments.fct_segment_profiles limit 2)"
        )
        _plant_a_skewed_class(con)
        con.execute(
            "update pseudonymized.int_customers_pseudonymized set customer_key = ? "
            "where rowid = (select min(rowid) from pseudonymized.int_customers_pseudonymized)",
            [customer_key(erased)],
        )
        column = retention["column_name"]
        con.execute(
            f"update behavior.fct_orders set {column} = date '{AS_OF}' - 4000 "
            "where rowid = (select min(rowid) from behavior.fct_orders)"
        )
    done = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "audit_privacy.py")],
        env={
            **project.env(),
            "PATH": "/usr/bin:/bin",
            "DBT_TARGET_PATH": str(project.target_dir),
            "DBT_LOG_PATH": str(project.log_dir),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads((project.target_dir / "privacy_audit.json").read_text())
    return project, done, report, column


PROFILE_CLASS = "primary_segment, age_band, region, tenure_band, lifetime_value_band"


def _plant_a_skewed_class(con: duckdb.DuckDBPyConnection) -> None:
    """The largest released class of fct_segment_profiles with two or more top categories keeps
    them all but one row's: its most frequent value then holds all records but one."""
    condition = " and ".join(f"{c} = ?" for c in PROFILE_CLASS.split(", "))
    (*qi, size) = con.execute(
        f"select {PROFILE_CLASS}, count(*) from segments.fct_segment_profiles "
        "where age_band <> 'tampered' group by all having count(distinct top_category) >= 2 "
        f"order by count(*) desc, {PROFILE_CLASS} limit 1"
    ).fetchone()
    assert size > 10, "all records but one of a class above 10 are above the 90% bound"
    (frequent,) = con.execute(
        f"select top_category from segments.fct_segment_profiles where {condition} "
        "group by top_category order by count(*) desc, top_category limit 1",
        qi,
    ).fetchone()
    con.execute(
        f"update segments.fct_segment_profiles set top_category = ? where {condition} "
        "and rowid <> (select min(rowid) from segments.fct_segment_profiles "
        f"where {condition} and top_category <> ?)",
        [frequent, *qi, *qi, frequent],
    )


def _diversity_findings(project) -> list[str]:
    """The attribute_disclosure findings recomputed here, independently of the audit: recursive
    (9, 2)-diversity and the 90% bound, over the published rows."""
    classes: dict[tuple, Counter] = defaultdict(Counter)
    for *qi, value in project.query(
        f"select {PROFILE_CLASS}, top_category from segments.fct_segment_profiles"
    ):
        classes[tuple(qi)][value] += 1
    not_diverse = [
        c
        for c in classes.values()
        if len(c) < 2 or max(c.values()) >= 9 * (c.total() - max(c.values()))
    ]
    above = [c for c in classes.values() if max(c.values()) / c.total() > 0.9]
    findings = []
    if not_diverse:
        findings.append(
            f"fct_segment_profiles: {len(not_diverse)} classes "
            f"({sum(c.total() for c in not_diverse)} records) are not recursive (c=9, l=2)-diverse "
            "in top_category"
        )
    if above:
        top = max(classes.values(), key=lambda c: (max(c.values()) / c.total(), c.total()))
        findings.append(
            f"fct_segment_profiles: {len(above)} classes ({sum(c.total() for c in above)} records) "
            "let one top_category value be inferred with more than 90% confidence (highest share "
            f"{max(top.values()) / top.total():.2f}: {max(top.values())} of {top.total()} records)"
        )
    return findings


def _findings(report: dict, check: str) -> list[str]:
    (entry,) = [c for c in report["checks"] if c["name"] == check]
    assert entry["status"] == ("fail" if entry["findings"] else "pass")
    return entry["findings"]


def test_the_audit_fails_naming_each_broken_check_and_table(broken_audit):
    project, done, report, retention_column = broken_audit
    assert done.returncode == 1, done.stderr[-3000:]
    assert report["status"] == "fail"
    lineage = _findings(report, "lineage")
    assert any(
        f.startswith("fct_contact_leak.contact_hint") and "shop.customers.email" in f
        for f in lineage
    ), lineage
    assert not [f for f in lineage if "fct_contact_leak" not in f], lineage
    assert [f.split(":")[0] for f in _findings(report, "consent")] == ["fct_unconsented_orders"]
    k_anonymity = _findings(report, "published_k_anonymity")
    assert {f.split(":")[0] for f in k_anonymity} == {"fct_segment_profiles", "rpt_segment_summary"}
    assert "fct_segment_profiles: 1 equivalence classes below k=10 (smallest 2)" in k_anonymity
    assert "rpt_segment_summary: 1 cells count fewer than k=10 subjects" in k_anonymity
    # The release as a whole cannot be modelled with a value outside its declared hierarchy.
    assert (
        "fct_segment_profiles.age_band: 1 distinct values are not in the hierarchy of age_band "
        "(int_release_hierarchies)"
    ) in _findings(report, "release_differencing")
    # The skewed class is large enough and holds two values: only the diversity check sees it.
    diversity = _findings(report, "attribute_disclosure")
    assert len(diversity) == 2, diversity
    assert diversity == _diversity_findings(project), diversity
    assert [f.split(":")[0] for f in _findings(report, "erasure")] == [
        "pseudonymized.int_customers_pseudonymized.customer_key"
    ]
    assert [f.split(":")[0] for f in _findings(report, "retention")] == [
        f"fct_orders.{retention_column}"
    ]
    assert {f.split(":")[0] for f in _findings(report, "pii_patterns")} == {
        "behavior.fct_contact_leak.contact_hint"
    }
    assert {f.split(":")[0] for f in _findings(report, "raw_identifiers")} == {
        "behavior.fct_contact_leak.contact_hint"
    }
    secret = [f.split(":")[0] for f in _findings(report, "secret_hygiene")]
    assert any(s.endswith("fct_key_note.sql") for s in secret), secret
    assert any(s.endswith("warehouse.duckdb") for s in secret), secret
    assert _findings(report, "build_results") == []
    for check in ("lineage", "consent", "erasure", "retention", "secret_hygiene"):
        assert f"audit {check}" in done.stderr


def test_the_reports_name_findings_without_the_values_found(broken_audit):
    project, done, _, _ = broken_audit
    emails = [
        e
        for (e,) in project.query(
            "select lower(email) from staging.stg_shop__customers where email is not null"
        )
    ]
    assert emails
    html = (project.target_dir / "privacy_audit.html").read_text()
    outputs = {
        "json": (project.target_dir / "privacy_audit.json").read_text(),
        "html": html,
        "log": done.stdout + done.stderr,
    }
    for name, text in outputs.items():
        assert TEST_KEY not in text, name
        leaked = [e for e in emails if e in text.lower()]
        assert not leaked, f"{name} holds {len(leaked)} email addresses"
    assert "fct_contact_leak.contact_hint" in html
