"""The subject access report's pure parts: the customer number it accepts, the values it writes
as JSON, and the page it renders (every value escaped, nothing loaded from outside)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from privseg.access.cli import AccessError, parse_customer_id
from privseg.access.collect import json_value
from privseg.access.html import render_subject_access


@pytest.mark.parametrize(("given", "expected"), [("1234", "1234"), (" 0042 ", "42"), ("0", "0")])
def test_a_customer_number_is_read_as_the_build_writes_it(given, expected):
    assert parse_customer_id(given) == expected


@pytest.mark.parametrize("given", ["", "12a", "-5", "1.5", "jane@example.test", "1" * 20])
def test_anything_but_a_whole_number_is_refused_without_being_echoed(given):
    with pytest.raises(AccessError) as refused:
        parse_customer_id(given)
    assert refused.value.code == 2
    assert not given.strip() or given not in str(refused.value)


def test_warehouse_values_become_json():
    assert json_value(dt.date(2026, 6, 30)) == "2026-06-30"
    assert json_value(dt.datetime(2026, 6, 30, 8, 5)) == "2026-06-30T08:05:00"
    assert json_value(Decimal("12.50")) == 12.5
    assert json_value([Decimal("1.5"), dt.date(2026, 1, 2)]) == [1.5, "2026-01-02"]
    assert json_value({"a": Decimal("2")}) == {"a": 2.0}


def report(**overrides) -> dict:
    base = {
        "request_id": "r1",
        "requested_at": "2026-12-02T07:00:00+00:00",
        "customer_id": "1234",
        "as_of_date": "2026-06-30",
        "controller": "Shop <Ltd>",
        "held": True,
        "k": 10,
        "purposes": [],
        "published_aggregates": [],
        "exports": {"logged_per_person": False, "note": "counts only"},
        "tables": [
            {
                "table": "int_customers_pseudonymized",
                "layer": "pseudonymized",
                "description": "One row per valid customer.",
                "purposes": [],
                "retention": [],
                "columns": [{"name": "region", "description": "Region.", "data_category": None}],
                "row_count": 1,
                "rows": [{"region": "<script>alert(1)</script>"}],
            }
        ],
    }
    return {**base, **overrides}


def test_the_page_escapes_every_value_and_loads_nothing():
    page = render_subject_access(report())
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Shop &lt;Ltd&gt;" in page
    assert 'http-equiv="Content-Security-Policy" content="default-src' in page
    assert "Your account and activity, under a pseudonym" in page


def test_nothing_held_says_so():
    page = render_subject_access(report(held=False, tables=[]))
    assert "Nothing held" in page and 'id="held"' not in page
