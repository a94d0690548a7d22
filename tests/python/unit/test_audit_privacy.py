"""The audit's k-anonymity and attribute-disclosure checks read k and the diversity from each
published model's meta.privacy, as the dbt tests do, and fall back to the project defaults only
when a model declares none. The attribute-disclosure check also holds every table to the bound
of invariant 9, whatever kind it declares."""

from __future__ import annotations

import math

import duckdb
import pytest

from privseg.audit.checks.attribute_disclosure import (
    ClassMeasures,
    DeclarationError,
    Diversity,
    check_attribute_disclosure,
    class_measures,
    declared_diversity,
)
from privseg.audit.checks.k_anonymity import check_published_k_anonymity

# The defaults of dbt_project.yml.
VARIABLES = {
    "segments_k": 10,
    "segments_l": 2,
    "segments_diversity_kind": "recursive",
    "segments_diversity_c": 9,
    "segments_max_inference_confidence": 0.9,
}


def published(name: str, **declared: object) -> dict:
    return {
        "resource_type": "model",
        "name": name,
        "schema": "segments",
        "alias": "profiles",
        "config": {
            "meta": {"privacy": {"published": True, "quasi_identifiers": ["band"], **declared}}
        },
    }


def manifest_of(*nodes: dict) -> dict:
    return {"nodes": {f"model.p.{node['name']}": node for node in nodes}}


def profiles(classes: dict[str, dict[str, int]]) -> duckdb.DuckDBPyConnection:
    """segments.profiles with one row per record: {band: {category: records}}."""
    con = duckdb.connect()
    con.execute("create schema segments")
    con.execute("create table segments.profiles (band varchar, category varchar)")
    for band, counts in classes.items():
        for category, records in counts.items():
            con.executemany(
                "insert into segments.profiles values (?, ?)", [[band, category]] * records
            )
    return con


def test_each_published_table_is_checked_with_its_own_k():
    # Class 'a': 3 rows; class 'b': 2 rows.
    con = profiles({"a": {"books": 2, "toys": 1}, "b": {"books": 1, "toys": 1}})
    manifest = manifest_of(published("declares_nothing"), published("declares_k", k=3))
    sizes: dict = {}
    findings = check_published_k_anonymity(con, manifest, 2, sizes)
    assert findings == ["declares_k: 1 equivalence classes below k=3 (smallest 2)"]
    assert set(sizes) == {"declares_nothing", "declares_k"}


# A skewed class that distinct l = 2 lets through: 19 of its 20 records share one value.
SKEWED = {"books": 19, "toys": 1}
# 50/50: entropy exactly ln 2.
EVEN = {"books": 6, "toys": 6}
# 9 of 10: recursive (9, 2) needs a share below 90%, the bound allows up to 90%.
NINE_OF_TEN = {"books": 9, "toys": 1}


def test_a_skewed_class_fails_the_default_but_passes_a_distinct_declaration():
    con = profiles({"even": EVEN, "skewed": SKEWED})
    manifest = manifest_of(
        published("default", sensitive_attribute="category"),
        published("distinct", sensitive_attribute="category", diversity={"kind": "distinct"}),
        published("entropy", sensitive_attribute="category", diversity={"kind": "entropy"}),
    )
    summaries: dict = {}
    findings = check_attribute_disclosure(con, manifest, VARIABLES, summaries)
    bound = (
        "let one category value be inferred with more than 90% confidence "
        "(highest share 0.95: 19 of 20 records)"
    )
    assert findings == [
        "default: 1 classes (20 records) are not recursive (c=9, l=2)-diverse in category",
        f"default: 1 classes (20 records) {bound}",
        # Distinct l-diversity lets it through: only the bound of invariant 9 catches it.
        f"distinct: 1 classes (20 records) {bound}",
        "entropy: 1 classes (20 records) are not entropy (l=2)-diverse in category",
        f"entropy: 1 classes (20 records) {bound}",
    ]
    distinct = summaries["distinct"]
    assert distinct["declared"] == "distinct (l=2)"
    assert distinct["not_declared"] == {"classes": 0, "records": 0}
    # Every kind is recomputed whatever the declaration; the even class passes them all.
    for kind in ("not_distinct", "not_entropy", "not_recursive", "above_bound"):
        expected = {"classes": 0, "records": 0} if kind == "not_distinct" else None
        assert distinct[kind] == (expected or {"classes": 1, "records": 20}), kind
    assert distinct["highest_share"] == 0.95
    assert distinct["highest_share_records"] == [19, 20]
    # The findings and the summary hold counts and shares, never a value.
    assert "books" not in repr(findings) + repr(summaries)
    assert "toys" not in repr(findings) + repr(summaries)


def test_declared_c_and_l_are_used_and_the_bound_is_not_the_rule():
    con = profiles({"nine": NINE_OF_TEN, "three": {"books": 4, "toys": 4, "garden": 2}})
    manifest = manifest_of(
        published("default", sensitive_attribute="category"),
        published("loose_c", sensitive_attribute="category", diversity={"c": 10}),
        published("three_values", sensitive_attribute="category", diversity={"l": 3}),
    )
    findings = check_attribute_disclosure(con, manifest, VARIABLES, {})
    assert findings == [
        # 9 < 9 x 1 is false: recursive (9, 2) refuses a 90% share, the bound (> 90%) does not.
        "default: 1 classes (10 records) are not recursive (c=9, l=2)-diverse in category",
        # l = 3: the 9-of-10 class has two values; the other: 4 < 9 x 2.
        "three_values: 1 classes (10 records) are not recursive (c=9, l=3)-diverse in category",
    ]


def test_aggregated_tables_and_tables_without_a_sensitive_attribute_are_not_checked():
    con = profiles({"skewed": SKEWED})
    manifest = manifest_of(
        published("no_sensitive"),
        published("aggregated", sensitive_attribute="category", subject_count_column="n"),
    )
    summaries: dict = {}
    assert check_attribute_disclosure(con, manifest, VARIABLES, summaries) == []
    assert summaries == {}


def test_a_null_value_is_a_value_like_any_other():
    con = duckdb.connect()
    con.execute("create schema segments")
    con.execute(
        "create table segments.profiles as select 'a' as band, "
        "case when i = 0 then 'books' end as category from range(20) as t(i)"
    )
    manifest = manifest_of(published("nulls", sensitive_attribute="category"))
    findings = check_attribute_disclosure(con, manifest, VARIABLES, {})
    # 19 missing values and one 'books': the attacker learns "missing" with 95% confidence.
    assert findings[0] == (
        "nulls: 1 classes (20 records) are not recursive (c=9, l=2)-diverse in category"
    )


def test_an_invalid_declaration_is_a_finding():
    con = profiles({"even": EVEN})
    manifest = manifest_of(
        published("typo", sensitive_attribute="category", diversity={"kind": "recursiv"})
    )
    assert check_attribute_disclosure(con, manifest, VARIABLES, {}) == [
        "typo: meta.privacy.diversity.kind must be one of distinct, entropy, recursive, "
        "got 'recursiv'"
    ]


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({}, Diversity("recursive", 2, 9.0)),
        ({"kind": "entropy", "l": 3}, Diversity("entropy", 3, None)),
        ({"kind": "recursive", "c": 4.5}, Diversity("recursive", 2, 4.5)),
        ({"kind": "distinct"}, Diversity("distinct", 2, None)),
    ],
)
def test_declared_diversity_fills_the_defaults(declared, expected):
    assert declared_diversity({"diversity": declared}, VARIABLES) == expected


@pytest.mark.parametrize(
    "declared",
    [{"kind": "t_closeness"}, {"l": 0}, {"l": 2.5}, {"c": 0}, {"c": "nine"}, ["l"]],
)
def test_declared_diversity_refuses_what_the_dbt_macro_refuses(declared):
    with pytest.raises(DeclarationError):
        declared_diversity({"diversity": declared}, VARIABLES)


@pytest.mark.parametrize("l_values", [1, 2, 3])
def test_the_measures_follow_the_definitions(l_values):
    counts = {"a": [5, 3, 2], "b": [4, 4, 2, 1], "c": [7]}
    con = profiles(
        {band: {f"v{i}": n for i, n in enumerate(values)} for band, values in counts.items()}
    )
    measured = class_measures(con, "segments.profiles", ["band"], "category", l_values)
    expected = []
    for values in counts.values():
        size = sum(values)
        ranked = sorted(values, reverse=True)
        expected.append(
            (size, len(values), ranked[0], -sum(n / size * math.log(n / size) for n in values),
             sum(ranked[l_values - 1:]))
        )  # fmt: skip
    got = sorted((m.size, m.values, m.top, m.entropy, m.tail) for m in measured)
    assert [g[:3] + g[4:] for g in got] == [e[:3] + e[4:] for e in sorted(expected)]
    assert [g[3] for g in got] == pytest.approx([e[3] for e in sorted(expected)])


def test_the_rules_at_their_edges():
    even = ClassMeasures(size=12, values=2, top=6, entropy=math.log(2) - 1e-15, tail=6)
    assert even.entropy_ok(2), "an even split passes entropy l = 2 despite rounding"
    assert not even.entropy_ok(3) and not even.distinct_ok(3)
    nine_of_ten = ClassMeasures(size=10, values=2, top=9, entropy=0.325, tail=1)
    assert not nine_of_ten.recursive_ok(9, 2) and nine_of_ten.recursive_ok(9.5, 2)
    assert nine_of_ten.top_share == 0.9
    assert nine_of_ten.satisfies(Diversity("distinct", 2))
    assert not nine_of_ten.satisfies(Diversity("entropy", 2))
    assert not nine_of_ten.satisfies(Diversity("recursive", 2, 9.0))
    assert Diversity("recursive", 2, 9.0).label == "recursive (c=9, l=2)"
    assert Diversity("entropy", 3).label == "entropy (l=3)"
