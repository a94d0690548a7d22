"""Stated-interest audiences (zero-party first) on the session build: built from what customers
stated, held only for marketing_email grantees, needing no analytics grant; and the audit's
stated_audiences check fails when such an audience reads behaviour or another purpose's model."""

from __future__ import annotations

import copy
import json

from privseg.audit.checks.stated_audiences import check_stated_audiences

STATED = "model.privacy_segmentation.fct_stated_interest_audience"
SCHEDULE = "model.privacy_segmentation.int_email_contact_schedule"


def manifest_of(built) -> dict:
    return json.loads((built.target_dir / "manifest.json").read_text())


def set_category(column: dict, category: str) -> None:
    for meta in (column.get("meta"), (column.get("config") or {}).get("meta")):
        if meta and "privacy" in meta:
            meta["privacy"]["data_category"] = category


def test_the_check_passes_on_the_project(built):
    manifest = manifest_of(built)
    stated = [
        n["name"]
        for n in manifest["nodes"].values()
        if (n.get("config") or {}).get("meta", {}).get("privacy", {}).get("data_basis") == "stated"
    ]
    assert sorted(stated) == ["fct_stated_interest_audience", "int_email_contact_schedule"]
    assert check_stated_audiences(manifest) == []


def test_the_check_fails_when_an_audience_reads_the_behaviour_profile(built):
    manifest = copy.deepcopy(manifest_of(built))
    manifest["nodes"][STATED]["depends_on"]["nodes"].append(
        "model.privacy_segmentation.fct_customer_behavior"
    )
    findings = check_stated_audiences(manifest)
    assert any(
        "reads fct_customer_behavior, gated by 'analytics' (not 'marketing_email')" in f
        for f in findings
    ), findings
    assert any(
        "reads fct_customer_behavior, which holds behavioural columns" in f for f in findings
    )


def test_the_check_fails_when_an_upstream_model_holds_behaviour(built):
    """The send log may say when someone was emailed, never what they did with it."""
    manifest = copy.deepcopy(manifest_of(built))
    send_log = manifest["nodes"]["model.privacy_segmentation.int_email_sends_pseudonymized"]
    set_category(send_log["columns"]["sent_date"], "user.behavior.media_consumption")
    findings = check_stated_audiences(manifest)
    assert findings == [
        "fct_stated_interest_audience: reads int_email_sends_pseudonymized, which holds "
        "behavioural columns (sent_date)",
        "int_email_contact_schedule: reads int_email_sends_pseudonymized, which holds "
        "behavioural columns (sent_date)",
    ]


def test_the_audience_holds_marketing_email_grantees_with_or_without_analytics(built):
    grants = {
        purpose: {key for key, p in built.query(
            "select customer_key, consent_purpose from consent.int_consented_subjects"
        ) if p == purpose}
        for purpose in ("marketing_email", "analytics")
    }  # fmt: skip
    members = {row[0] for row in built.query(
        "select customer_key from audiences.fct_stated_interest_audience"
    )}  # fmt: skip
    assert members, "the session data set has stated interests on email"
    assert members <= grants["marketing_email"]
    assert members - grants["analytics"], "zero-party: some members never granted analytics"
    channels = built.query(
        "select distinct preferences.preferred_channel "
        "from audiences.fct_stated_interest_audience as audience "
        "inner join consent.int_email_preferences_consented as preferences "
        "on audience.customer_key = preferences.customer_key"
    )
    assert channels == [("email",)], "only customers who chose email"
