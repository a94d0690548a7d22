"""Segments on the session build: membership follows the seed's rules and
purposes, the published tables are k-anonymous and recursive (c, l)-diverse
(recomputed here, independently of the dbt tests), secondary suppression leaves
nothing to subtract, the generalization is the least one within the suppression
limit, and the risk report agrees with the tables."""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict

import pytest

K = 10  # var segments_k (default)
L = 2  # fct_segment_profiles: meta.privacy.diversity.l
C = 9  # fct_segment_profiles: meta.privacy.diversity.c (kind recursive)
MAX_SUPPRESSED_SHARE = 0.05  # var segments_max_suppressed_share (default)
PROFILE_QUASI_IDENTIFIERS = [
    "primary_segment",
    "age_band",
    "region",
    "tenure_band",
    "lifetime_value_band",
]
SUMMARY_QUASI_IDENTIFIERS = ["segment_name", "cell_level", "age_band", "region"]
PSEUDONYM = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def definitions(built) -> list[dict]:
    columns = ["segment_name", "rule", "consent_purpose", "priority", "is_exclusive"]
    # Contextual rules (purpose contextual_advertising) describe visits, not customers: they
    # are tested with the contextual audiences.
    rows = built.query(
        f"select {', '.join(columns)} from segments.segment_definitions "
        "where consent_purpose <> 'contextual_advertising'"
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_membership_is_exactly_the_rule_matches_with_the_required_grant(built, definitions):
    grants = defaultdict(set)
    for key, purpose in built.query(
        "select customer_key, consent_purpose from consent.int_consented_subjects"
    ):
        grants[purpose].add(key)
    members = defaultdict(set)
    for key, segment in built.query(
        "select customer_key, segment_name from segments.fct_segment_membership"
    ):
        members[segment].add(key)

    narrowed_by_purpose = 0
    for definition in definitions:
        # The seed's own text, trusted here: the test re-evaluates it directly.
        matches = {
            row[0]
            for row in built.query(
                "select customer_key from behavior.fct_customer_behavior "
                f"where ({definition['rule']})"
            )
        }
        expected = matches & grants[definition["consent_purpose"]]
        assert members[definition["segment_name"]] == expected, definition["segment_name"]
        narrowed_by_purpose += len(matches - expected)
    # The data has analytics subjects without the marketing_email grant, so the
    # engaged_email_readers segment (purpose marketing_email) must have lost some.
    assert narrowed_by_purpose > 0
    assert sum(len(m) for m in members.values()) > 0


def test_primary_segment_is_the_first_exclusive_match_by_priority(built, definitions):
    priority = {d["segment_name"]: d["priority"] for d in definitions}
    exclusive = {d["segment_name"] for d in definitions if d["is_exclusive"]}
    by_subject = defaultdict(list)
    for key, segment, is_primary in built.query(
        "select customer_key, segment_name, is_primary from segments.fct_segment_membership"
    ):
        by_subject[key].append((segment, is_primary))
    with_primary = 0
    for memberships in by_subject.values():
        candidates = [s for s, _ in memberships if s in exclusive]
        primaries = [s for s, is_primary in memberships if is_primary]
        expected = [min(candidates, key=priority.get)] if candidates else []
        assert primaries == expected
        with_primary += bool(primaries)
    assert with_primary > 0


def _classes(rows: list[tuple]) -> Counter:
    return Counter(rows)


def _recursive_diverse(values: Counter) -> bool:
    """Recursive (C, L)-diversity of one class: at least L values, and the most frequent one's
    records below C times the records outside the L-1 most frequent values."""
    ranked = sorted(values.values(), reverse=True)
    return len(ranked) >= L and ranked[0] < C * sum(ranked[L - 1 :])


def test_published_row_level_table_is_k_anonymous_and_diverse_without_pseudonyms(built):
    qi = ", ".join(PROFILE_QUASI_IDENTIFIERS)
    rows = built.query(f"select {qi}, top_category from segments.fct_segment_profiles")
    assert rows, "the demo data should leave some profiles published"
    sizes = _classes([row[:-1] for row in rows])
    assert min(sizes.values()) >= K
    diversity: dict[tuple, Counter] = defaultdict(Counter)
    for row in rows:
        diversity[row[:-1]][row[-1]] += 1
    assert all(_recursive_diverse(values) for values in diversity.values())
    # No top category holds 90% or more of a class (invariant 9).
    assert max(max(v.values()) / v.total() for v in diversity.values()) < 0.9
    for row in rows:
        assert not any(isinstance(value, str) and PSEUDONYM.match(value) for value in row)


def test_published_summary_cells_count_at_least_k_and_suppression_cannot_be_subtracted(built):
    released = built.query(
        "select segment_name, cell_level, member_count from segments.rpt_segment_summary"
    )
    assert released
    assert min(count for _, _, count in released) >= K

    totals = {s: c for s, level, c in released if level == "segment_total"}
    released_cells = defaultdict(int)
    for segment, level, count in released:
        if level == "cell":
            released_cells[segment] += count
    withheld = defaultdict(list)
    for segment, count in built.query(
        "select segment_name, member_count from segments.int_segment_cells_suppressed "
        "where cell_level = 'cell' and is_suppressed"
    ):
        withheld[segment].append(count)
    # Among all members of a segment's cells (from the unpublished table).
    all_cells = dict(
        built.query(
            "select segment_name, sum(member_count) from segments.int_segment_cells_suppressed "
            "where cell_level = 'cell' group by segment_name"
        )
    )
    for segment, total in totals.items():
        assert all_cells[segment] == total  # cells partition the segment
        remainder = total - released_cells[segment]  # what BI can compute
        assert remainder == 0 or remainder >= K, segment
        assert len(withheld[segment]) != 1, segment  # a lone withheld cell = its count
    # Segments whose total is withheld publish nothing at all.
    for segment in withheld:
        if segment not in totals:
            assert released_cells[segment] == 0


def _chosen_levels(rows: list[tuple], hierarchies: int) -> tuple[int, ...]:
    """The generalization the macro must pick, computed independently.

    rows: (subject, fixed qi, (level0, level1) per hierarchy..., sensitive)."""
    best = None
    for combo in itertools.product(range(3), repeat=hierarchies):
        classes: dict[tuple, Counter] = defaultdict(Counter)
        for _, fixed, *levels, sensitive in rows:  # one row per subject
            generalized = [lv[c] if c < 2 else "any" for lv, c in zip(levels, combo, strict=True)]
            classes[(fixed, *generalized)][sensitive] += 1
        suppressed = sum(
            values.total()
            for values in classes.values()
            if values.total() < K or not _recursive_diverse(values)
        )
        within = suppressed <= MAX_SUPPRESSED_SHARE * len(rows)
        # Within the limit: the least generalized; else the fewest suppressed.
        rank = (not within, sum(combo) if within else 0, suppressed, sum(combo))
        if best is None or rank < best[0]:
            best = (rank, combo)
    return best[1]


def test_generalization_is_the_least_one_within_the_suppression_limit(built):
    rows = built.query(
        "select customer_key, segment_name, [age_band__detail, age_band__broad], "
        "[region__detail, region__broad], "
        "[tenure_days_band__detail, tenure_days_band__broad], "
        "[lifetime_value_eur_band__detail, lifetime_value_eur_band__broad], top_category "
        "from segments.int_segment_members_described where is_primary"
    )
    expected = _chosen_levels(rows, 4)
    chosen = built.query(
        "select distinct age_band_level, region_level, tenure_band_level, "
        "lifetime_value_band_level from segments.int_segment_profiles_generalized"
    )
    assert chosen == [expected]


def test_risk_report_matches_the_published_tables(built):
    report = {
        row[0]: row[1:]
        for row in built.query(
            "select table_name, k, records, equivalence_classes, smallest_class_size, "
            "max_prosecutor_risk, records_in_classes_below_k, suppressed_records, "
            "suppressed_cells from segments.rpt_reidentification_risk"
        )
    }
    assert set(report) == {
        "fct_segment_profiles",
        "rpt_segment_summary",
        "rpt_campaign_performance",
        "rpt_cohort_retention",
        "rpt_contextual_audiences",
        "rpt_lifetime_value",
    }

    qi = ", ".join(PROFILE_QUASI_IDENTIFIERS)
    sizes = _classes(built.query(f"select {qi} from segments.fct_segment_profiles"))
    ((suppressed_rows,),) = built.query(
        "select count(*) from segments.int_segment_profiles_generalized where is_suppressed"
    )
    k, records, classes, smallest, max_risk, below_k, suppressed, _ = report["fct_segment_profiles"]
    assert (k, records, classes, smallest, below_k) == (
        K,
        sum(sizes.values()),
        len(sizes),
        min(sizes.values()),
        0,
    )
    assert float(max_risk) == pytest.approx(1 / smallest, abs=1e-4)
    assert suppressed == suppressed_rows

    counts = [c for (c,) in built.query("select member_count from segments.rpt_segment_summary")]
    ((withheld_rows,),) = built.query(
        "select count(*) from segments.int_segment_cells_suppressed where is_suppressed"
    )
    _, records, classes, smallest, _, below_k, _, suppressed_cells = report["rpt_segment_summary"]
    assert (records, classes, smallest, below_k, suppressed_cells) == (
        sum(counts),
        len(counts),
        min(counts),
        0,
        withheld_rows,
    )
