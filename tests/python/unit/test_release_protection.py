"""The release-level attacker model and secondary suppression, on hand-made releases: each
attack the independent review tried, shown found by attacker_exposures() and defeated by
protect_release()."""

from __future__ import annotations

import pytest

from release_protection import (
    ReleaseModelError,
    attacker_exposures,
    magnitude_primary,
    protect_release,
)

K = 10
SEGMENTS = [["champions"], ["at_risk"], ["no_primary_segment"]]
AGES = [["18-24", "under_35"], ["25-34", "under_35"], ["35-44", "35-54"], ["45-54", "35-54"]]


def count(population, value, **key):
    return {"population": population, "key": key, "value": value}


def row(id_, table, *counts, primary=None, magnitudes=()):
    return {
        "id": id_,
        "table": table,
        "counts": list(counts),
        "primary": primary,
        "magnitudes": list(magnitudes),
    }


def document(rows, populations=(), **hierarchies):
    return {
        "k": K,
        "hierarchies": {"primary_segment": SEGMENTS, "age_band": AGES, **hierarchies},
        "populations": list(populations),
        "rows": rows,
    }


def released(decisions):
    return {d["id"] for d in decisions["rows"] if not d["withheld"]}


def exposed_cells(result):
    return sorted(e["cell"] for e in result["exposures"])


def test_a_segment_total_minus_the_released_rows_of_the_row_level_table_is_found():
    # The review's attack: at_risk has 44 members in the summary; the row-level table releases
    # classes of 20 and 20: the withheld remainder is 4, so the missing class holds 1..9.
    rows = [
        row(
            "summary|at_risk", "rpt_segment_summary", count("buyers", 44, primary_segment="at_risk")
        ),
        row(
            "profiles|at_risk|18-24",
            "fct_segment_profiles",
            count("buyers", 20, primary_segment="at_risk", age_band="18-24"),
        ),
        row(
            "profiles|at_risk|25-34",
            "fct_segment_profiles",
            count("buyers", 20, primary_segment="at_risk", age_band="25-34"),
        ),
    ]
    result = attacker_exposures(document(rows))
    assert "buyers [age_band=35-44, primary_segment=at_risk]" in exposed_cells(result)
    finding = next(e for e in result["exposures"] if "35-44" in e["cell"])
    assert (finding["low"], finding["high"]) == (0, 4)
    # A remainder of k or more is safe.
    rows[0]["counts"][0]["value"] = 40 + K
    assert attacker_exposures(document(rows))["exposures"] == []


def test_protection_withholds_what_pins_the_remainder_and_the_result_passes_the_audit():
    rows = [
        row(
            "summary|at_risk", "rpt_segment_summary", count("buyers", 44, primary_segment="at_risk")
        ),
        row(
            "profiles|at_risk|18-24",
            "fct_segment_profiles",
            count("buyers", 20, primary_segment="at_risk", age_band="18-24"),
        ),
        row(
            "profiles|at_risk|25-34",
            "fct_segment_profiles",
            count("buyers", 22, primary_segment="at_risk", age_band="25-34"),
        ),
        row(
            "profiles|at_risk|35-44",
            "fct_segment_profiles",
            count("buyers", 2, primary_segment="at_risk", age_band="35-44"),
            primary="class_below_k",
        ),
    ]
    decisions = protect_release(document(rows))
    kept = released(decisions)
    assert "profiles|at_risk|35-44" not in kept
    # The cheapest fix: the smaller released class (20 records), not the total.
    assert kept == {"summary|at_risk", "profiles|at_risk|25-34"}
    reasons = {d["id"]: d["reason"] for d in decisions["rows"]}
    assert reasons["profiles|at_risk|18-24"] == "secondary"
    audit = attacker_exposures(document([r for r in rows if r["id"] in kept]))
    assert audit["exposures"] == []


def test_a_coarser_total_in_another_table_pins_a_finer_withheld_cell():
    # Lifetime value by cohort x segment (row totals) and segment totals from the summary
    # (column totals): a lone withheld cell in a column is recovered exactly.
    hierarchies = {"cohort_month": [["2026-01"], ["2026-02"]]}
    rows = [
        row("ltv|2026-01", "rpt_lifetime_value", count("buyers", 30, cohort_month="2026-01")),
        row(
            "ltv|2026-01|champions",
            "rpt_lifetime_value",
            count("buyers", 25, cohort_month="2026-01", primary_segment="champions"),
        ),
        row(
            "ltv|2026-02|champions",
            "rpt_lifetime_value",
            count("buyers", 15, cohort_month="2026-02", primary_segment="champions"),
        ),
        row(
            "summary|at_risk", "rpt_segment_summary", count("buyers", 25, primary_segment="at_risk")
        ),
        row(
            "ltv|2026-02|at_risk",
            "rpt_lifetime_value",
            count("buyers", 20, cohort_month="2026-02", primary_segment="at_risk"),
        ),
    ]
    result = attacker_exposures(document(rows, **hierarchies))
    # Cohort 2026-01 at_risk = 30 - 25 = 5 (from the cohort total) and 25 - 20 = 5 (from the
    # segment total): pinned.
    assert "buyers [cohort_month=2026-01, primary_segment=at_risk]" in exposed_cells(result)


def test_nested_populations_differing_by_fewer_than_k_are_found_and_fixed():
    # Every high-value repeat buyer is a champion (one rule implies the other): 46 of 50.
    populations = [
        {
            "name": "segment:high_value",
            "within": {
                "population": "buyers",
                "dimensions": [],
                "fixed": {"primary_segment": "champions"},
            },
        }
    ]
    rows = [
        row(
            "summary|champions",
            "rpt_segment_summary",
            count("buyers", 50, primary_segment="champions"),
        ),
        row("summary|high_value", "rpt_segment_summary", count("segment:high_value", 46)),
    ]
    result = attacker_exposures(document(rows, populations))
    assert [e["kind"] for e in result["exposures"]] == ["remainder"]
    assert result["exposures"][0]["low"] == result["exposures"][0]["high"] == 4
    decisions = protect_release(document(rows, populations))
    assert released(decisions) == {"summary|champions"}


def test_campaign_recipients_without_a_segment_are_not_taken_for_buyers():
    populations = [
        {
            "name": "campaign:7",
            "within": {
                "population": "buyers",
                "dimensions": ["primary_segment"],
                "except": {"primary_segment": ["no_primary_segment"]},
            },
        }
    ]
    rows = [
        row(
            "summary|champions",
            "rpt_segment_summary",
            count("buyers", 50, primary_segment="champions"),
        ),
        row(
            "campaign|7|champions",
            "rpt_campaign_performance",
            count("campaign:7", 48, primary_segment="champions"),
        ),
        row(
            "campaign|7|none",
            "rpt_campaign_performance",
            count("campaign:7", 90, primary_segment="no_primary_segment"),
        ),
    ]
    result = attacker_exposures(document(rows, populations))
    # 2 champions did not receive campaign 7: the remainder is found ...
    assert [e["kind"] for e in result["exposures"]] == ["remainder"]
    # ... and the 90 prospects are not held against the buyers (the model stays feasible).
    assert "no_primary_segment" not in result["exposures"][0]["cell"]


def test_a_campaign_total_minus_released_cells_isolating_one_converters_revenue():
    # Revenue is published per campaign and per segment; one segment's cell has one converter.
    def revenue(total, contributors, top1, top2, primary=None, **key):
        return {
            "measure": "revenue_eur",
            "population": "campaign:7",
            "key": key,
            "sum": total,
            "contributors": contributors,
            "top1": top1,
            "top2": top2,
            "primary": primary,
        }

    populations = [{"name": "campaign:7"}]
    rows = [
        row(
            "campaign|7",
            "rpt_campaign_performance",
            count("campaign:7", 60),
            magnitudes=[revenue(1000.0, 12, 120.0, 110.0)],
        ),
        row(
            "campaign|7|champions",
            "rpt_campaign_performance",
            count("campaign:7", 30, primary_segment="champions"),
            magnitudes=[revenue(700.0, 11, 90.0, 80.0, primary_segment="champions")],
        ),
        row(
            "campaign|7|at_risk",
            "rpt_campaign_performance",
            count("campaign:7", 30, primary_segment="at_risk"),
            magnitudes=[
                revenue(
                    300.0, 1, 300.0, 0.0, "magnitude_few_contributors", primary_segment="at_risk"
                )
            ],
        ),
    ]
    decisions = protect_release(document(rows, populations))
    withheld = {(m["id"], m["measure"]): m["reason"] for m in decisions["magnitudes"]}
    assert withheld[("campaign|7|at_risk", "revenue_eur")] == "magnitude_few_contributors"
    # Total minus the champions cell gives the one converter's 300 EUR: one more is withheld.
    assert "magnitude_secondary" in withheld.values()
    # The audit: the publication shows both released revenues; the warehouse tells it the
    # withheld cell's true sum and why it was withheld.
    for r in rows:
        for m in r["magnitudes"]:
            m["released"] = m["primary"] is None
    unprotected = attacker_exposures(document(rows, populations))
    # Both ways an attacker gets the one converter: bounds on the cell, and the remainder.
    assert sorted(e["kind"] for e in unprotected["exposures"]) == [
        "magnitude",
        "magnitude_remainder",
    ]


@pytest.mark.parametrize(
    ("contributors", "total", "top1", "top2", "rule", "expected"),
    [
        (9, 900.0, 100.0, 100.0, {}, "magnitude_few_contributors"),
        (10, 1000.0, 100.0, 100.0, {}, None),
        # p% rule (p = 10): the others add 20 < 10% of 900.
        (10, 1000.0, 900.0, 80.0, {}, "magnitude_dominated"),
        (10, 1000.0, 800.0, 80.0, {}, None),
        # (2, 85)-dominance: the two largest hold 86%.
        (
            12,
            1000.0,
            500.0,
            360.0,
            {"dominance": "nk", "n": 2, "k_percent": 85},
            "magnitude_dominated",
        ),
        (12, 1000.0, 500.0, 340.0, {"dominance": "nk", "n": 2, "k_percent": 85}, None),
        (3, 300.0, 100.0, 100.0, {"min_contributors": 3}, None),
    ],
)
def test_magnitude_rules(contributors, total, top1, top2, rule, expected):
    assert magnitude_primary(contributors, total, top1, top2, K, rule) == expected


def test_released_counts_that_contradict_each_other_are_refused():
    rows = [
        row("a", "t1", count("buyers", 40, primary_segment="at_risk")),
        row("b", "t2", count("buyers", 41, primary_segment="at_risk")),
    ]
    with pytest.raises(ReleaseModelError, match="two different values"):
        attacker_exposures(document(rows))


def test_a_value_outside_its_hierarchy_is_named():
    rows = [row("a", "t1", count("buyers", 40, primary_segment="gold"))]
    with pytest.raises(ReleaseModelError, match="'gold' is not in its hierarchy"):
        attacker_exposures(document(rows))


def test_tables_whose_dimensions_form_a_cycle_get_one_joint_model():
    # age x segment, segment x cohort, cohort x age: no junction tree; the joint table is
    # bounded instead, so the attacker is not under-estimated.
    hierarchies = {"cohort_month": [["2026-01"], ["2026-02"]]}
    rows = [
        row("as|18|c", "t1", count("buyers", 20, age_band="18-24", primary_segment="champions")),
        row(
            "sc|c|01",
            "t2",
            count("buyers", 20, primary_segment="champions", cohort_month="2026-01"),
        ),
        row("ca|01|18", "t3", count("buyers", 20, cohort_month="2026-01", age_band="18-24")),
        row("total", "t4", count("buyers", 21)),
    ]
    result = attacker_exposures(document(rows, **hierarchies))
    # champions aged 18-24 of cohort 2026-01: the three 20s within a total of 21 force at least
    # 19 of them together; the variables are those of the joint age x segment x cohort table.
    assert result["variables"] == 4 * 3 * 2
    assert result["exposures"], "the joint model finds cells narrowed below k"


def test_two_tables_of_one_population_at_different_levels_are_modelled_apart_and_linked():
    # Profiles: segment x broad age band x tenure; summary: segment x age band. The attacker's
    # model holds each table's own grid, linked on segment x broad age band (3 x 2 x 3 + 3 x 4
    # variables), not their common refinement segment x age band x tenure (3 x 4 x 3).
    hierarchies = {
        "tenure_band": [
            ["0-89 days", "under 1 year"],
            ["90-364 days", "under 1 year"],
            ["1-2 years", "1 year or more"],
        ]
    }

    def profile(tenure, value):
        return row(
            f"profiles|champions|under_35|{tenure}",
            "fct_segment_profiles",
            count(
                "buyers",
                value,
                primary_segment="champions",
                age_band="under_35",
                tenure_band=tenure,
            ),
        )

    rows = [
        profile("0-89 days", 20),
        profile("90-364 days", 24),
        profile("1-2 years", 11),
        row(
            "summary|champions|18-24",
            "rpt_segment_summary",
            count("buyers", 51, primary_segment="champions", age_band="18-24"),
        ),
        row(
            "summary|champions|25-34",
            "rpt_segment_summary",
            count("buyers", 4, primary_segment="champions", age_band="25-34"),
            primary="class_below_k",
        ),
    ]
    withheld = [dict(r, released=r["primary"] is None) for r in rows]
    result = attacker_exposures(document(withheld, **hierarchies))
    assert result["variables"] == 3 * 2 * 3 + 3 * 4
    # Under 35 in the profiles (20 + 24 + 11 = 55) minus 18-24 in the summary (51): the
    # withheld 25-34 class is pinned to 4 across the two levels.
    assert exposed_cells(result) == ["buyers [age_band=25-34, primary_segment=champions]"]
    finding = result["exposures"][0]
    assert (finding["low"], finding["high"]) == (4, 4)
    assert finding["tables"] == ["rpt_segment_summary"]
    # Protection withholds a second number, and what is left passes the audit.
    decisions = protect_release(document(rows, **hierarchies))
    kept = released(decisions)
    assert "summary|champions|25-34" not in kept
    assert len(kept) < len(rows) - 1
    audit = attacker_exposures(document([r for r in rows if r["id"] in kept], **hierarchies))
    assert audit["exposures"] == []
