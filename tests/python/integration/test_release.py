"""The release as a whole on the session build: the attacks an outside reviewer tried on the
published tables, recomputed here from the published tables alone (independently of the
engine that decided them): a segment total minus its released rows, a cell minus its released
classes, a campaign or cohort total minus its released cells, a segment's size minus its
lifetime value cells, a cohort minus its active buyers, and a withheld sum recovered from a
total. Each must leave nobody or at least k people; every published sum or mean comes from at
least k contributors and is not dominated."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

K = 10  # var segments_k (default)
P = 0.10  # var release_magnitude_rule (p% rule, p = 10)


def small(remainder: int) -> bool:
    """A remainder an attacker can compute that holds 1 to k-1 people."""
    return 0 < remainder < K


@pytest.fixture(scope="module")
def exclusive(built) -> set[str]:
    return {
        row[0]
        for row in built.query(
            "select segment_name from segments.segment_definitions where is_exclusive"
        )
    }


@pytest.fixture(scope="module")
def segment_totals(built, exclusive) -> dict[str, int]:
    return {
        segment: count
        for segment, count in built.query(
            "select segment_name, member_count from segments.rpt_segment_summary "
            "where cell_level = 'segment_total'"
        )
        if segment in exclusive
    }


def test_every_candidate_row_is_decided_and_only_released_rows_are_published(built):
    (candidates,) = built.query("select count(*) from release.int_release_rows")[0]
    decided = built.query(
        "select count(*), count(*) filter (where not is_withheld) "
        "from release.int_release_decisions where measure is null"
    )[0]
    assert decided[0] == candidates > 0
    published = (
        sum(
            built.query(f"select count(*) from {relation}")[0][0]
            for relation in (
                "segments.rpt_segment_summary",
                "measurement.rpt_campaign_performance",
                "measurement.rpt_cohort_retention",
                "measurement.rpt_lifetime_value",
                "contextual.rpt_contextual_audiences",
            )
        )
        + built.query(
            "select count(distinct [primary_segment, age_band, region, tenure_band, "
            "lifetime_value_band]) from segments.fct_segment_profiles"
        )[0][0]
    )
    assert published == decided[1]


def test_a_segment_total_minus_its_released_profiles_leaves_nobody_or_k(built, segment_totals):
    released = dict(
        built.query(
            "select primary_segment, count(*) from segments.fct_segment_profiles group by 1"
        )
    )
    assert segment_totals, "the summary publishes exclusive segments"
    for segment, total in segment_totals.items():
        assert not small(total - released.get(segment, 0)), segment


def test_a_summary_cell_minus_its_released_profile_classes_leaves_nobody_or_k(built, exclusive):
    cells = built.query(
        "select segment_name, age_band, region, member_count from segments.rpt_segment_summary "
        "where cell_level = 'cell'"
    )
    released = defaultdict(int)
    for segment, age, region, count in built.query(
        "select primary_segment, age_band, region, count(*) "
        "from segments.fct_segment_profiles group by all"
    ):
        released[(segment, age, region)] += count
    compared = 0
    for segment, age, region, count in cells:
        # Comparable where both tables show the cell at the same levels.
        if segment in exclusive and (segment, age, region) in released:
            compared += 1
            assert not small(count - released[(segment, age, region)])
    assert compared


def test_a_total_minus_its_released_cells_leaves_nobody_or_k(built):
    checks = [
        (
            "measurement.rpt_campaign_performance",
            "campaign_id",
            "recipient_count",
            "campaign_total",
        ),
        ("measurement.rpt_lifetime_value", "cohort_month", "member_count", "cohort_total"),
    ]
    for relation, group, count, total_level in checks:
        totals = dict(
            built.query(
                f"select {group}, {count} from {relation} where cell_level = '{total_level}'"
            )
        )
        cells = dict(
            built.query(
                f"select {group}, sum({count}) from {relation} where cell_level = 'cell' group by 1"
            )
        )
        assert totals, relation
        for key, total in totals.items():
            assert not small(total - cells.get(key, 0)), (relation, key)


def test_a_segment_size_minus_its_released_lifetime_value_cells_leaves_nobody_or_k(
    built, segment_totals
):
    cells = dict(
        built.query(
            "select segment_name, sum(member_count) from measurement.rpt_lifetime_value "
            "where cell_level = 'cell' group by 1"
        )
    )
    for segment, total in segment_totals.items():
        assert not small(total - cells.get(segment, 0)), segment


def test_a_cohort_minus_its_active_buyers_leaves_nobody_or_k_and_sizes_agree(built):
    rows = built.query(
        "select cohort_month, cohort_size, active_subjects from measurement.rpt_cohort_retention"
    )
    assert rows
    for _, size, active in rows:
        assert not small(size - active)
        assert active == 0 or active >= K
    lifetime = dict(
        built.query(
            "select cohort_month, member_count from measurement.rpt_lifetime_value "
            "where cell_level = 'cohort_total'"
        )
    )
    for cohort, size, _ in rows:
        if cohort in lifetime:
            assert lifetime[cohort] == size


def _passes(statistics: dict) -> bool:
    contributors = statistics.get("contributors") or 0
    top1, top2 = statistics.get("top1") or 0.0, statistics.get("top2") or 0.0
    return contributors >= K and statistics["sum"] - top1 - top2 >= P * top1


def test_published_revenue_comes_from_k_converters_none_dominant(built):
    candidates = {
        (campaign, level, segment): json.loads(stats)
        for campaign, level, segment, stats in built.query(
            "select campaign_id, cell_level, segment_name, magnitude_statistics "
            "from measurement.int_campaign_cells_suppressed"
        )
    }
    published = built.query(
        "select campaign_id, cell_level, segment_name, revenue_eur, conversion_count "
        "from measurement.rpt_campaign_performance"
    )
    for campaign, level, segment, revenue, conversions in published:
        statistics = candidates[(campaign, level, segment)]
        if revenue is not None:
            assert _passes(statistics["attributed_revenue_eur"])
        if conversions is not None:
            assert _passes(statistics["converted"])


def test_a_withheld_revenue_cannot_be_recovered_from_its_campaign_total(built):
    """Total revenue minus the released cells' revenue is the revenue of the withheld cells:
    wherever it can be computed, those cells together must pass the magnitude rules."""
    candidates = defaultdict(dict)
    for campaign, level, segment, stats in built.query(
        "select campaign_id, cell_level, segment_name, magnitude_statistics "
        "from measurement.int_campaign_cells_suppressed"
    ):
        candidates[campaign][(level, segment)] = json.loads(stats).get("attributed_revenue_eur")
    published = defaultdict(dict)
    for campaign, level, segment, revenue in built.query(
        "select campaign_id, cell_level, segment_name, revenue_eur "
        "from measurement.rpt_campaign_performance"
    ):
        published[campaign][(level, segment)] = revenue
    for campaign, rows in published.items():
        if rows.get(("campaign_total", "all")) is None:
            continue  # no total to subtract from
        withheld = [
            candidates[campaign][key]
            for key in candidates[campaign]
            if key[0] == "cell" and rows.get(key) is None
        ]
        withheld = [stats for stats in withheld if stats and stats["sum"] > 0]
        if not withheld:
            continue
        union = {
            "sum": sum(s["sum"] for s in withheld),
            "contributors": sum(s["contributors"] for s in withheld),
        }
        tops = sorted(
            [s.get("top1") or 0.0 for s in withheld] + [s.get("top2") or 0.0 for s in withheld],
            reverse=True,
        )
        union["top1"], union["top2"] = tops[0], tops[1] if len(tops) > 1 else 0.0
        assert _passes(union), campaign
