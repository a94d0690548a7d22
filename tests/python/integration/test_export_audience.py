"""The audience export: only members with a valid grant for the campaign's purpose leave, as
a one-column CSV readable by its owner; every refusal is exit 2 with one line and no file;
nothing the export prints names a person.

Most tests read a small hand-made warehouse (no dbt): the segment models are not built yet.
`test_built_warehouse_...` exports from the session build (select the fast ones with
`-k 'not built'`).
"""

from __future__ import annotations

import csv
import json
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dbt_harness import AS_OF as AS_OF_BUILD
from dbt_harness import TEST_KEY, customer_key, script_runner
from privseg.core.keys import KEY_ENV_VAR, KEY_FILE_ENV_VAR, pseudonymizer
from privseg.core.settings import project_vars
from privseg.export import cli as export_audience
from privseg.export import files as export_files
from privseg.export.audience import select_audience
from privseg.export.files import summary_path
from pseudonym_key import key_fingerprint

# Eight-digit ids, so a leaked id cannot be mistaken for a count or a time of day in the logs.
ID_BASE = 70_000_000
CUSTOMERS = {ID_BASE + n: f"contact{n}@example.test" for n in range(1, 12)}
NO_EMAIL = ID_BASE + 5  # a member with a grant but no address
NOT_IN_STAGING = ID_BASE + 9  # a member with a grant whose customer row is gone (e.g. erased)
NO_ANALYTICS = ID_BASE + 10  # marketing_email granted, analytics not: stated audiences only
NOT_DUE = ID_BASE + 11  # both grants, but emailed more recently than their frequency asks
CUSTOMERS[NO_EMAIL] = None
del CUSTOMERS[NOT_IN_STAGING]

MEMBERS = {
    "cart_abandoners": [ID_BASE + n for n in (1, 2, 3, 4, 5, 9, 10, 11)],
    "high_value": [ID_BASE + n for n in (2, 6)],
    "internal_only": [ID_BASE + n for n in (1, 2)],
}
GRANTS = {
    # 4 is a member without the grant (it has analytics only), 7 has the grant but is no member.
    "marketing_email": [ID_BASE + n for n in (1, 2, 3, 5, 7, 9, 10, 11)],
    "analytics": [ID_BASE + n for n in (1, 2, 3, 4, 6, 11)],
}
# Stated interests (audiences.fct_stated_interest_audience): 4 has no marketing_email grant (the
# model would not hold them; the export checks again), 11 is not due.
INTERESTS = {"books": [ID_BASE + n for n in (1, 4, 10, 11)]}
# The trigger feed (audiences.fct_triggered_audience) and each trigger's consent_purposes: the
# model holds only members with every grant; the export checks again (4 has no marketing_email,
# 10 no analytics, 11 is not due).
TRIGGERS = {
    "cart_abandoned": ("marketing_email analytics", [ID_BASE + n for n in (1, 4, 10, 11)]),
    "post_purchase_follow_up": ("marketing_email", [ID_BASE + n for n in (4, 10, 11)]),
}
DEFINITIONS = [
    ("cart_abandoners", "analytics", "marketing_email"),
    ("high_value", "analytics", "marketing_email personalization"),
    ("internal_only", "analytics", None),
]
AS_OF = date(2026, 6, 30)
EXPECTED_CART_ABANDONERS = [
    "contact1@example.test",
    "contact2@example.test",
    "contact3@example.test",
]


def make_warehouse(path: Path, *, fingerprint: str | None = None, skip: str = "") -> Path:
    """The relations the export reads, with the hand-made rows above (pseudonyms by TEST_KEY).
    `skip` names one relation to leave out."""
    tables = {
        "segments.segment_definitions": """
            create table segments.segment_definitions (
                segment_name varchar, description varchar, rule varchar,
                consent_purpose varchar, activation_purposes varchar,
                priority integer, is_exclusive boolean)""",
        "segments.fct_segment_membership": """
            create table segments.fct_segment_membership (
                customer_key varchar, segment_name varchar, consent_purpose varchar,
                segment_priority integer, is_exclusive boolean, is_primary boolean,
                as_of_date date)""",
        "consent.int_consented_subjects": """
            create table consent.int_consented_subjects (
                customer_key varchar, consent_purpose varchar, state_reason varchar)""",
        "staging.stg_shop__customers": """
            create table staging.stg_shop__customers (
                customer_id bigint, first_name varchar, email varchar, phone varchar)""",
        "pseudonymized.int_pseudonym_key_registry": """
            create table pseudonymized.int_pseudonym_key_registry (
                key_fingerprint varchar, as_of_date date, built_at timestamp)""",
        "audiences.int_email_contact_schedule": """
            create table audiences.int_email_contact_schedule (
                customer_key varchar, preferred_frequency varchar, is_contact_due boolean)""",
        "audiences.fct_stated_interest_audience": """
            create table audiences.fct_stated_interest_audience (
                customer_key varchar, interest varchar, is_contact_due boolean)""",
        "audiences.trigger_definitions": """
            create table audiences.trigger_definitions (
                trigger_type varchar, trigger_kind varchar, consent_purposes varchar)""",
        "audiences.fct_triggered_audience": """
            create table audiences.fct_triggered_audience (
                customer_key varchar, trigger_type varchar, trigger_date date,
                as_of_date date)""",
    }
    with duckdb.connect(str(path)) as con:
        for schema in ("segments", "consent", "staging", "pseudonymized", "audiences"):
            con.execute(f"create schema {schema}")
        for name, ddl in tables.items():
            if name != skip:
                con.execute(ddl)
        if skip != "segments.segment_definitions":
            for priority, (name, purpose, activation) in enumerate(DEFINITIONS, start=1):
                con.execute(
                    "insert into segments.segment_definitions values (?, ?, ?, ?, ?, ?, false)",
                    [name, f"{name} segment", "true", purpose, activation, priority],
                )
        if skip != "segments.fct_segment_membership":
            for priority, (segment, ids) in enumerate(MEMBERS.items(), start=1):
                for customer_id in ids:
                    con.execute(
                        "insert into segments.fct_segment_membership "
                        "values (?, ?, 'analytics', ?, false, true, ?)",
                        [customer_key(customer_id), segment, priority, AS_OF],
                    )
        if skip != "consent.int_consented_subjects":
            for purpose, ids in GRANTS.items():
                for customer_id in ids:
                    con.execute(
                        "insert into consent.int_consented_subjects values (?, ?, 'granted')",
                        [customer_key(customer_id), purpose],
                    )
        if skip != "staging.stg_shop__customers":
            # Reverse id order, so a sorted file is the export's doing.
            for customer_id, email in sorted(CUSTOMERS.items(), reverse=True):
                con.execute(
                    "insert into staging.stg_shop__customers values (?, 'Ann', ?, '+44 1234')",
                    [customer_id, email],
                )
        if skip != "audiences.int_email_contact_schedule":
            for customer_id in GRANTS["marketing_email"]:
                con.execute(
                    "insert into audiences.int_email_contact_schedule values (?, 'weekly', ?)",
                    [customer_key(customer_id), customer_id != NOT_DUE],
                )
        if skip != "audiences.fct_stated_interest_audience":
            for interest, ids in INTERESTS.items():
                for customer_id in ids:
                    con.execute(
                        "insert into audiences.fct_stated_interest_audience values (?, ?, ?)",
                        [customer_key(customer_id), interest, customer_id != NOT_DUE],
                    )
        if skip != "audiences.trigger_definitions":
            for trigger, (purposes, _) in TRIGGERS.items():
                con.execute(
                    "insert into audiences.trigger_definitions values (?, 'fixture', ?)",
                    [trigger, purposes],
                )
        if skip != "audiences.fct_triggered_audience":
            for trigger, (_, ids) in TRIGGERS.items():
                for customer_id in ids:
                    con.execute(
                        "insert into audiences.fct_triggered_audience values (?, ?, ?, ?)",
                        [customer_key(customer_id), trigger, AS_OF, AS_OF],
                    )
        if skip != "pseudonymized.int_pseudonym_key_registry":
            con.execute(
                "insert into pseudonymized.int_pseudonym_key_registry "
                "values (?, ?, current_timestamp)",
                [fingerprint or key_fingerprint(TEST_KEY.encode()), AS_OF],
            )
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return make_warehouse(tmp_path_factory.mktemp("export") / "warehouse.duckdb")


@pytest.fixture
def env(monkeypatch, warehouse, tmp_path):
    monkeypatch.setenv("WAREHOUSE_PATH", str(warehouse))
    monkeypatch.setenv(KEY_ENV_VAR, TEST_KEY)
    # Never fall back to the developer's key file.
    monkeypatch.setenv(KEY_FILE_ENV_VAR, str(tmp_path / "no-such.key"))
    return monkeypatch


def personal_values() -> list[str]:
    """Everything about a customer of the fixture that must never be printed."""
    ids = [*CUSTOMERS, NOT_IN_STAGING]
    values = [str(i) for i in ids]
    values += [customer_key(i) for i in ids] + [customer_key(i)[:16] for i in ids]
    values += [email for email in CUSTOMERS.values() if email]
    return [*values, "@example.test"]


@pytest.fixture
def run(env, capsys, caplog):
    """Run main() in-process; return (exit code, everything it printed or logged)."""
    return script_runner(export_audience.main, capsys, caplog, personal_values)


def read_audience(path: Path) -> list[str]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["email"], "a header with the single column `email`"
    assert all(len(row) == 1 for row in rows), "one column only: data minimization"
    return [row[0] for row in rows[1:]]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# Pure functions


def test_bulk_pseudonymizer_matches_hmac_for_short_and_long_keys():
    for key in (TEST_KEY, "k" * 100):  # a key longer than the 64-byte block is hashed first
        pseudonym = pseudonymizer(key.encode())
        for customer_id in (0, 7, ID_BASE + 1, 2**62, "x"):
            assert pseudonym(customer_id) == customer_key(customer_id, key)
    assert pseudonymizer(TEST_KEY.encode())("42") == customer_key(42)


def test_select_audience_counts_members_without_grant_or_address():
    key = TEST_KEY.encode()
    members = [customer_key(i) for i in (1, 2, 3, 4)]
    granted = [customer_key(i) for i in (1, 2, 3, 9)]  # 9 is no member: ignored
    customers = [(1, "b@x.test"), (2, "a@x.test"), (3, None), (4, "d@x.test"), (9, "z@x.test")]
    audience = select_audience(key, members, granted, customers)
    assert audience.emails == ["a@x.test", "b@x.test"]
    assert (audience.members_in_segment, audience.members_with_grant) == (4, 3)
    assert audience.members_without_contact == 1
    assert audience.exported == 2


# The CLI on a hand-made warehouse


def test_exports_members_with_a_grant_and_an_address_only(run, tmp_path):
    out = tmp_path / "audience.csv"
    code, output = run(
        "--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out)
    )
    assert code == 0, output
    assert read_audience(out) == EXPECTED_CART_ABANDONERS, (
        "members 1-3 only: 4 lacks the grant, 5, 9 and 10 lack the analytics grant a segment "
        "needs (10 has an address), 11 is not due, 7 has the grant but is no member"
    )
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_text().startswith("email\n")

    summary_file = tmp_path / "audience.csv.summary.json"
    summary = json.loads(summary_file.read_text())
    created_at = datetime.fromisoformat(summary.pop("created_at"))
    assert abs(datetime.now(UTC) - created_at) < timedelta(minutes=5)
    assert summary == {
        "segment": "cart_abandoners",
        "purpose": "marketing_email",
        "as_of_date": "2026-06-30",
        "key_fingerprint": key_fingerprint(TEST_KEY.encode()),
        "members_in_audience": 8,
        "members_with_grant": 7,
        "members_without_analytics_grant": 3,
        "members_contacted_recently": 1,
        "members_without_contact": 0,
        "exported": 3,
        "output_file": "audience.csv",
    }
    assert summary_file.stat().st_mode & 0o777 == 0o600
    assert files_in(tmp_path) == ["audience.csv", "audience.csv.summary.json"], "no .tmp left"
    assert (
        "8 members, 7 with a valid 'marketing_email' grant, 3 of those without the 'analytics' "
        "grant a behaviour-derived segment needs (skipped), 1 of those emailed more recently"
    ) in output
    assert "exported 3 addresses" in output


def test_a_stated_interest_audience_needs_no_analytics_grant(run, tmp_path):
    out = tmp_path / "books.csv"
    code, output = run("--interest", "books", "--purpose", "marketing_email", "--out", str(out))
    assert code == 0, output
    assert read_audience(out) == ["contact10@example.test", "contact1@example.test"], (
        "1 and 10 (no analytics grant: not needed for what they stated); 4 lacks the "
        "marketing_email grant, 11 was emailed too recently"
    )
    summary = json.loads((tmp_path / "books.csv.summary.json").read_text())
    assert summary["interest"] == "books" and "segment" not in summary
    assert summary["members_in_audience"] == 4
    assert summary["members_with_grant"] == 3
    assert summary["members_without_analytics_grant"] is None
    assert summary["members_contacted_recently"] == 1
    assert summary["exported"] == 2
    assert "stated-interest audience 'books'" in output


def test_a_segment_member_without_the_analytics_grant_is_not_exported(run, tmp_path):
    """The guard: a behaviour-derived segment leaves only with the analytics grant (10 holds
    marketing_email and has an address, but never granted analytics)."""
    out = tmp_path / "audience.csv"
    code, _ = run("--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out))
    assert code == 0
    assert "contact10@example.test" not in read_audience(out)
    assert (
        json.loads((tmp_path / "audience.csv.summary.json").read_text())[
            "members_without_analytics_grant"
        ]
        == 3
    )


def test_a_member_emailed_too_recently_is_skipped(run, tmp_path):
    out = tmp_path / "audience.csv"
    code, _ = run("--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out))
    assert code == 0
    assert "contact11@example.test" not in read_audience(out)


@pytest.mark.parametrize(
    ("interest", "purpose", "message"),
    [
        ("books", "analytics", "stated-interest audiences may be exported for: marketing_email"),
        ("astrology", "marketing_email", "no stated-interest audience 'astrology'; stated "),
    ],
)
def test_refuses_a_stated_interest_export_it_may_not_make(
    run, tmp_path, interest, purpose, message
):
    code, output = run(
        "--interest", interest, "--purpose", purpose, "--out", str(tmp_path / "a.csv")
    )
    assert code == 2 and message in output
    assert files_in(tmp_path) == []


def test_a_triggered_audience_needs_every_purpose_its_trigger_lists(run, tmp_path):
    """cart_abandoned lists analytics: 10 (marketing_email only) stays home; the purchase-date
    trigger does not: 10 leaves. 4 lacks marketing_email, 11 is not due, in both."""
    results = {}
    for trigger in TRIGGERS:
        out = tmp_path / f"{trigger}.csv"
        code, output = run("--trigger", trigger, "--purpose", "marketing_email", "--out", str(out))
        assert code == 0, output
        assert out.stat().st_mode & 0o777 == 0o600
        results[trigger] = (read_audience(out), json.loads(summary_path(out).read_text()), output)
    audience, summary, output = results["cart_abandoned"]
    assert audience == ["contact1@example.test"]
    assert summary["trigger"] == "cart_abandoned" and "segment" not in summary
    assert (summary["members_in_audience"], summary["members_with_grant"]) == (4, 3)
    assert summary["members_without_analytics_grant"] == 1
    assert summary["members_contacted_recently"] == 1
    assert "grant this trigger needs (skipped)" in output
    audience, summary, _ = results["post_purchase_follow_up"]
    assert audience == ["contact10@example.test"]
    assert summary["members_without_analytics_grant"] is None
    assert summary["members_contacted_recently"] == 1


@pytest.mark.parametrize(
    ("trigger", "purpose", "message"),
    [
        ("cart_abandoned", "analytics", "triggered audiences may be exported for: marketing_email"),
        ("birthday", "marketing_email", "unknown trigger 'birthday'; known triggers: "),
    ],
)
def test_refuses_a_triggered_export_it_may_not_make(run, tmp_path, trigger, purpose, message):
    code, output = run("--trigger", trigger, "--purpose", purpose, "--out", str(tmp_path / "a.csv"))
    assert code == 2 and message in output, output
    assert files_in(tmp_path) == []


def test_a_trigger_export_needs_the_trigger_feed(run, env, tmp_path):
    partial = make_warehouse(tmp_path / "partial.duckdb", skip="audiences.fct_triggered_audience")
    env.setenv("WAREHOUSE_PATH", str(partial))
    code, output = run(
        "--trigger", "cart_abandoned", "--purpose", "marketing_email",
        "--out", str(tmp_path / "a.csv"),
    )  # fmt: skip
    assert code == 2 and "audiences.fct_triggered_audience" in output
    code, _ = run(
        "--interest", "books", "--purpose", "marketing_email", "--out", str(tmp_path / "b.csv")
    )
    assert code == 0, "the other audiences do not read the trigger feed"


def test_segment_and_interest_exclude_each_other(run, tmp_path):
    code, output = run(
        "--segment", "cart_abandoners", "--interest", "books", "--purpose", "marketing_email",
        "--out", str(tmp_path / "a.csv"),
    )  # fmt: skip
    assert code == 2 and "not allowed with argument" in output


def test_the_purpose_decides_who_is_exported(run, tmp_path):
    out = tmp_path / "high_value.csv"
    code, output = run("--segment", "high_value", "--purpose", "personalization", "--out", str(out))
    assert code == 0, output
    assert read_audience(out) == [], "nobody holds a personalization grant"
    assert "audience is empty" in output
    assert json.loads((tmp_path / "high_value.csv.summary.json").read_text())["exported"] == 0

    code, output = run("--segment", "high_value", "--purpose", "marketing_email", "--out", str(out))
    assert code == 0, output
    assert read_audience(out) == ["contact2@example.test"], "6 is a member without the grant"


def test_an_existing_export_is_replaced(run, tmp_path):
    out = tmp_path / "audience.csv"
    out.write_text("email\nstale@example.org\n")
    out.chmod(0o644)
    code, output = run(
        "--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out)
    )
    assert code == 0, output
    assert read_audience(out) == EXPECTED_CART_ABANDONERS
    assert out.stat().st_mode & 0o777 == 0o600


def test_purpose_is_required(run, tmp_path):
    code, output = run("--segment", "cart_abandoners", "--out", str(tmp_path / "a.csv"))
    assert code == 2
    assert "usage:" in output and "--purpose" in output
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("segment", "purpose", "message"),
    [
        (
            "cart_abandoners",
            "analytics",
            "segment 'cart_abandoners' may be exported for: marketing_email (not 'analytics')",
        ),
        ("internal_only", "marketing_email", "segment 'internal_only' is not exportable"),
        (
            "no_such_segment",
            "marketing_email",
            "unknown segment 'no_such_segment'; known segments: cart_abandoners, high_value, "
            "internal_only",
        ),
    ],
)
def test_refuses_what_the_segment_definitions_do_not_allow(
    run, tmp_path, segment, purpose, message
):
    code, output = run("--segment", segment, "--purpose", purpose, "--out", str(tmp_path / "a.csv"))
    assert code == 2
    assert message in output
    assert files_in(tmp_path) == [], "a refused export writes no file"


def test_refuses_a_missing_output_folder(run, tmp_path):
    out = tmp_path / "missing" / "a.csv"
    code, output = run(
        "--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out)
    )
    assert code == 2
    assert f"output folder {out.parent} does not exist" in output
    assert not out.parent.exists()


def test_refuses_a_missing_warehouse(run, env, tmp_path):
    env.setenv("WAREHOUSE_PATH", str(tmp_path / "nowhere.duckdb"))
    code, output = run(
        "--segment",
        "cart_abandoners",
        "--purpose",
        "marketing_email",
        "--out",
        str(tmp_path / "a.csv"),
    )
    assert code == 2
    assert "nowhere.duckdb not found" in output and "make run" in output
    assert files_in(tmp_path) == []


def test_refuses_a_warehouse_without_the_segment_tables(run, env, tmp_path):
    partial = make_warehouse(tmp_path / "partial.duckdb", skip="segments.fct_segment_membership")
    env.setenv("WAREHOUSE_PATH", str(partial))
    out = tmp_path / "a.csv"
    code, output = run(
        "--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out)
    )
    assert code == 2
    assert "segments.fct_segment_membership" in output and "dbt build" in output
    assert not out.exists()


def test_refuses_a_key_other_than_the_builds(run, env, tmp_path):
    other = "other-" + secrets.token_hex(24)
    env.setenv(KEY_ENV_VAR, other)
    out = tmp_path / "a.csv"
    code, output = run(
        "--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out)
    )
    assert code == 2
    assert "key differs from the one that built" in output
    assert key_fingerprint(TEST_KEY.encode()) in output, "fingerprints help; keys never shown"
    assert other not in output
    assert not out.exists()


def test_refuses_a_warehouse_without_a_recorded_key(run, env, tmp_path):
    partial = make_warehouse(
        tmp_path / "old.duckdb", skip="pseudonymized.int_pseudonym_key_registry"
    )
    env.setenv("WAREHOUSE_PATH", str(partial))
    code, output = run(
        "--segment",
        "cart_abandoners",
        "--purpose",
        "marketing_email",
        "--out",
        str(tmp_path / "a.csv"),
    )
    assert code == 2
    assert "pseudonymized.int_pseudonym_key_registry" in output


def test_without_a_key_refuses_and_creates_no_key_file(run, env, tmp_path):
    env.delenv(KEY_ENV_VAR)
    key_file = tmp_path / "secrets" / "pseudonym.key"
    env.setenv(KEY_FILE_ENV_VAR, str(key_file))
    code, output = run(
        "--segment",
        "cart_abandoners",
        "--purpose",
        "marketing_email",
        "--out",
        str(tmp_path / "a.csv"),
    )
    assert code == 2
    assert "no pseudonymization key" in output and KEY_ENV_VAR in output
    assert not key_file.exists() and not key_file.parent.exists()


def test_reads_the_key_file_when_the_variable_is_unset(run, env, tmp_path):
    env.delenv(KEY_ENV_VAR)
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(TEST_KEY + "\n")
    env.setenv(KEY_FILE_ENV_VAR, str(key_file))
    out = tmp_path / "a.csv"
    code, output = run(
        "--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out)
    )
    assert code == 0, output
    assert read_audience(out) == EXPECTED_CART_ABANDONERS


def test_refuses_an_invalid_key(run, env, tmp_path):
    env.setenv(KEY_ENV_VAR, "too-short-key")
    code, output = run(
        "--segment",
        "cart_abandoners",
        "--purpose",
        "marketing_email",
        "--out",
        str(tmp_path / "a.csv"),
    )
    assert code == 2
    assert "shorter than 16 characters" in output
    assert "too-short-key" not in output


def test_a_failed_write_leaves_no_file(run, monkeypatch, tmp_path):
    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_files.os, "replace", fail)
    out = tmp_path / "a.csv"
    code, output = run(
        "--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out)
    )
    assert code == 1
    assert "could not write" in output and "No space left on device" in output
    assert files_in(tmp_path) == [], "the .tmp files are removed"


def test_verbose_logs_name_nobody(run, tmp_path):
    out = tmp_path / "a.csv"
    code, output = run(
        "--segment",
        "cart_abandoners",
        "--purpose",
        "marketing_email",
        "--out",
        str(out),
        "--verbose",
    )
    assert code == 0, output
    assert "pseudonymization key: from" in output  # the debug lines were captured and scanned


# The real project


def test_built_warehouse_exports_members_with_a_marketing_email_grant(built, monkeypatch, tmp_path):
    monkeypatch.setenv("WAREHOUSE_PATH", str(built.warehouse))
    monkeypatch.setenv(KEY_ENV_VAR, built.key)
    out = tmp_path / "cart_abandoners.csv"
    code = export_audience.main(
        ["--segment", "cart_abandoners", "--purpose", "marketing_email", "--out", str(out)]
    )
    assert code == 0

    members = {
        row[0]
        for row in built.query(
            "select customer_key from segments.fct_segment_membership "
            "where segment_name = 'cart_abandoners'"
        )
    }
    granted = {
        row[0]
        for row in built.query(
            "select customer_key from consent.int_consented_subjects "
            "where consent_purpose = 'marketing_email'"
        )
    }
    email_of = {
        customer_key(customer_id, built.key): email
        for customer_id, email in built.query(
            "select customer_id, email from staging.stg_shop__customers where email is not null"
        )
    }
    not_due = {
        row[0]
        for row in built.query(
            "select customer_key from audiences.int_email_contact_schedule where not is_contact_due"
        )
    }
    exported = read_audience(out)
    assert exported, "the session data set has cart abandoners with a marketing_email grant"
    allowed = {email_of[k] for k in (members & granted) - not_due if k in email_of}
    assert set(exported) <= allowed, "only members with a marketing_email grant are exported"
    assert sorted(allowed) == exported, "every member with the grant and an address is exported"
    summary = json.loads((tmp_path / "cart_abandoners.csv.summary.json").read_text())
    assert summary["members_in_audience"] == len(members)
    assert summary["members_with_grant"] == len(members & granted)
    assert summary["exported"] == len(exported)


def test_built_warehouse_stated_interest_export_honours_the_stated_frequency(
    built, monkeypatch, tmp_path
):
    """Recomputed from the staged raw rows (typed, quarantine and erasures applied) with the
    key, not from the audience models: who stated the interest on email with a marketing_email
    grant, and who of them was sent an email fewer days ago than their frequency asks."""
    monkeypatch.setenv("WAREHOUSE_PATH", str(built.warehouse))
    monkeypatch.setenv(KEY_ENV_VAR, built.key)
    days = project_vars()["audiences_contact_interval_days"]
    as_of = date.fromisoformat(AS_OF_BUILD)
    granted = {
        row[0]
        for row in built.query(
            "select customer_key from consent.int_consented_subjects "
            "where consent_purpose = 'marketing_email'"
        )
    }
    last_send = {
        customer_key(customer_id, built.key): last
        for customer_id, last in built.query(
            "select customer_id, max(cast(occurred_at as date)) from staging.stg_email__events "
            "where event_type = 'send' and cast(occurred_at as date) <= ? group by 1",
            [as_of],
        )
    }
    email_of = {
        customer_key(customer_id, built.key): email
        for customer_id, email in built.query(
            "select customer_id, email from staging.stg_shop__customers where email is not null"
        )
    }
    by_interest: dict[str, dict[str, bool]] = {}
    for customer_id, interests, channel, frequency in built.query(
        "select customer_id, stated_interests, preferred_channel, preferred_frequency "
        "from staging.stg_preference_center__preferences"
    ):
        key = customer_key(customer_id, built.key)
        if key not in granted or channel != "email":
            continue
        last = last_send.get(key)
        due = last is None or (as_of - last).days >= days[frequency]
        for interest in interests.split("|"):
            by_interest.setdefault(interest, {})[key] = due
    interest = max(by_interest, key=lambda i: (sum(not d for d in by_interest[i].values()), i))
    members = by_interest[interest]

    out = tmp_path / "interest.csv"
    code = export_audience.main(
        ["--interest", interest, "--purpose", "marketing_email", "--out", str(out)]
    )
    assert code == 0
    expected = sorted({email_of[k] for k, due in members.items() if due and k in email_of})
    assert read_audience(out) == expected
    summary = json.loads((tmp_path / "interest.csv.summary.json").read_text())
    assert summary["members_in_audience"] == len(members)
    assert summary["members_contacted_recently"] == sum(not due for due in members.values())
    assert summary["members_contacted_recently"] > 0, "the data set has someone emailed too soon"
