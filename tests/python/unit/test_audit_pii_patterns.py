"""pii_patterns on values made up here: what it must find, and what it must not mistake for a
phone number (dbt's invocation ids, hex pseudonyms, dates)."""

from __future__ import annotations

import duckdb
import pytest

from privseg.audit.checks.pii_patterns import scan_for_pii_patterns

# A UUID whose middle groups are all digits reads as a national phone number
# ("0123-4567-8901"): the audit of a CI run once failed on such a build id.
PHONE_SHAPED_UUID = "5f2c1e0a-0123-4567-8901-a1b2c3d4e5f6"


def _scan(values: list[str | None]) -> dict[str, int]:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.t (v varchar)")
    con.executemany("insert into marts.t values (?)", [[v] for v in values])
    return {m.pattern: m.matches for m in scan_for_pii_patterns(con)}


@pytest.mark.parametrize(
    "value",
    [
        PHONE_SHAPED_UUID,
        PHONE_SHAPED_UUID.upper(),
        f"run {PHONE_SHAPED_UUID} done",
        "9b1f0c3e2a7d4e8f0123456789abcdef0123456789abcdef0123456789abcdef",
        "2026-12-03 15:30:51",
    ],
)
def test_ids_dates_and_pseudonyms_are_not_phone_numbers(value):
    assert _scan([value]) == {}


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("+447700900123", "phone"),
        ("020 7946 0018", "phone"),
        ("call 0123-4567-8901 today", "phone"),
        (f"{PHONE_SHAPED_UUID} +33612345678", "phone"),
        (f"{PHONE_SHAPED_UUID}@example.com", "email"),
        ("203.0.113.7", "ipv4"),
        ("2001:db8::1", "ipv6"),
    ],
)
def test_personal_values_are_found_next_to_a_uuid_or_alone(value, pattern):
    assert _scan([value, PHONE_SHAPED_UUID, None]) == {pattern: 1}
