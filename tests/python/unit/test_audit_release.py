"""The audit's release checks on tiny hand-made publications (a DuckDB file and a manifest, no
dbt): release_differencing finds what an attacker holding every published table recovers, and
nothing when there is nothing to recover; magnitude_rules recomputes the rules of every
published sum or mean; the document builder reads declarations, rounding and levels as the
build's macro release_rows() does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from privseg.audit.checks.magnitude_rules import check_magnitude_rules
from privseg.audit.checks.release_differencing import check_release_differencing
from privseg.audit.release_document import build_document, infer_levels, rounding_half_width
from release_model import parse_hierarchies

K = 10
RULE = {"dominance": "p_percent", "p": 10}
AGES = [["18-24", "under_35"], ["25-34", "under_35"], ["35-44", "35_plus"], ["45-54", "35_plus"]]
SEGMENTS = [["at_risk"], ["champions"], ["no_primary_segment"]]
HIERARCHY_ROWS = [("age_band", path) for path in AGES + [["unknown", "unknown"]]] + [
    ("primary_segment", path) for path in SEGMENTS
]


def _node(name: str, schema: str, privacy: dict | None = None, kind: str = "model") -> dict:
    return {
        "unique_id": f"{kind}.fixture.{name}",
        "name": name,
        "resource_type": kind,
        "schema": schema,
        "alias": name,
        "config": {"meta": {"privacy": privacy}} if privacy else {},
        "columns": {},
        "depends_on": {"nodes": []},
    }


PROFILES = {
    "published": True,
    "quasi_identifiers": ["primary_segment", "age_band"],
    "release": {
        "candidates": "int_profiles",
        "records": True,
        "counts": [
            {
                "population": "analytics_buyers",
                "dimensions": {"primary_segment": "primary_segment", "age_band": "age_band"},
            }
        ],
    },
}
SUMMARY = {
    "published": True,
    "subject_count_column": "member_count",
    "quasi_identifiers": ["segment_name", "cell_level", "age_band"],
    "release": {
        "candidates": "int_cells",
        "counts": [
            {
                "column": "member_count",
                "population": "analytics_buyers",
                "segment_population": "segment_name",
                "dimensions": {"segment_name": "primary_segment", "age_band": "age_band"},
            }
        ],
        "magnitudes": [
            {"column": "avg_value_eur", "measure": "value_eur", "derived": ["value_index"]}
        ],
    },
}


def manifest(differentially_private: bool = False) -> dict:
    summary = json.loads(json.dumps(SUMMARY))
    if differentially_private:
        summary["release"]["differentially_private"] = "is_noisy"
    nodes = [
        _node("fct_segment_profiles", "segments", PROFILES),
        _node("int_profiles", "segments"),
        _node("rpt_segment_summary", "segments", summary),
        _node("int_cells", "segments"),
        _node("int_release_hierarchies", "release"),
        _node("int_release_populations", "release"),
        _node("int_release_decisions", "release"),
        _node("segment_definitions", "segments", kind="seed"),
    ]
    return {"nodes": {node["unique_id"]: node for node in nodes}, "sources": {}}


@dataclass
class Cell:
    """A candidate row of the summary: its members' values, whether it is published, and
    which of its magnitudes are withheld."""

    segment: str
    age_band: str
    values: list[float]
    released: bool = True
    withheld_measures: tuple[str, ...] = ()
    reason: str | None = None
    # A published value other than the true mean (to tamper with the publication).
    published_mean: float | None = None

    @property
    def level(self) -> str:
        return "segment_total" if self.age_band == "all" else "cell"

    @property
    def row_id(self) -> str:
        return f"rpt_segment_summary|{self.segment}|{self.level}|{self.age_band}"


@dataclass
class Publication:
    """Profile classes (segment, age band) -> records and whether released; summary cells."""

    classes: dict[tuple[str, str], tuple[int, bool]] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    # Every summary row differentially private (its flag column is_noisy true).
    noisy: bool = False

    def write(self, path: Path) -> Path:
        con = duckdb.connect(str(path))
        con.execute("create schema segments; create schema release")
        con.execute(
            "create table segments.segment_definitions as select * from (values "
            "('at_risk', true), ('champions', true), ('newsletter', false)) "
            "as t(segment_name, is_exclusive)"
        )
        con.execute(
            "create table release.int_release_hierarchies (dimension varchar, value_path varchar[])"
        )
        con.executemany("insert into release.int_release_hierarchies values (?, ?)", HIERARCHY_ROWS)
        con.execute(
            "create table release.int_release_populations as select * from (values "
            "('analytics_buyers', '[]')) as t(population, containers)"
        )
        con.execute(
            "create table release.int_release_decisions (table_name varchar, row_id varchar, "
            "measure varchar, is_withheld boolean, reason varchar, weight bigint)"
        )
        con.execute(
            "create table segments.int_profiles (release_row_id varchar, customer_key varchar, "
            "primary_segment varchar, age_band varchar, suppression_reason varchar)"
        )
        con.execute(
            "create table segments.fct_segment_profiles (primary_segment varchar, age_band varchar)"
        )
        subject = 0
        for (segment, age), (records, released) in sorted(self.classes.items()):
            row_id = f"fct_segment_profiles|{segment}|{age}"
            reason = None if released else "class_below_k"
            for _ in range(records):
                subject += 1
                con.execute(
                    "insert into segments.int_profiles values (?, ?, ?, ?, ?)",
                    [row_id, f"subject-{subject}", segment, age, reason],
                )
                if released:
                    con.execute(
                        "insert into segments.fct_segment_profiles values (?, ?)", [segment, age]
                    )
            con.execute(
                "insert into release.int_release_decisions values "
                "('fct_segment_profiles', ?, null, ?, ?, ?)",
                [row_id, not released, reason, records],
            )
        con.execute(
            "create table segments.int_cells (release_row_id varchar, segment_name varchar, "
            "cell_level varchar, age_band varchar, member_count integer, "
            "avg_value_eur decimal(14, 2), magnitude_statistics varchar, "
            "suppression_reason varchar, is_noisy boolean)"
        )
        con.execute(
            "create table segments.rpt_segment_summary (segment_name varchar, cell_level varchar, "
            "age_band varchar, member_count integer, avg_value_eur decimal(14, 2), "
            "value_index decimal(10, 4), is_noisy boolean)"
        )
        for cell in self.cells:
            values = sorted(cell.values, reverse=True)
            mean = round(sum(values) / len(values), 2) if values else None
            statistics = {
                "value_eur": {
                    "sum": float(sum(values)),
                    "contributors": sum(1 for v in values if v),
                    "top1": values[0] if values else None,
                    "top2": values[1] if len(values) > 1 else None,
                }
            }
            con.execute(
                "insert into segments.int_cells values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    cell.row_id,
                    cell.segment,
                    cell.level,
                    cell.age_band,
                    len(values),
                    mean,
                    json.dumps(statistics),
                    cell.reason,
                    self.noisy,
                ],
            )
            con.execute(
                "insert into release.int_release_decisions values "
                "('rpt_segment_summary', ?, null, ?, ?, ?)",
                [cell.row_id, not cell.released, cell.reason, len(values)],
            )
            for measure in cell.withheld_measures:
                con.execute(
                    "insert into release.int_release_decisions values "
                    "('rpt_segment_summary', ?, ?, true, 'magnitude_dominated', ?)",
                    [cell.row_id, measure, len(values)],
                )
            if cell.released:
                shown = None if cell.withheld_measures else cell.published_mean or mean
                con.execute(
                    "insert into segments.rpt_segment_summary values (?, ?, ?, ?, ?, ?, ?)",
                    [
                        cell.segment,
                        cell.level,
                        cell.age_band,
                        len(values),
                        shown,
                        None if shown is None else shown / 100,
                        self.noisy,
                    ],
                )
        con.close()
        return path


def differencing(path: Path, noisy: bool = False) -> tuple[list[str], dict]:
    section: dict = {}
    with duckdb.connect(str(path), read_only=True) as con:
        findings = check_release_differencing(con, manifest(noisy), K, RULE, section)
    return findings, section


def magnitudes(path: Path) -> tuple[list[str], dict]:
    section: dict = {}
    with duckdb.connect(str(path), read_only=True) as con:
        findings = check_magnitude_rules(con, manifest(), K, RULE, section)
    return findings, section


def attack_publication(total: int) -> Publication:
    """The review's attack: at_risk has `total` members in the summary; the profiles release
    classes of 20 and 20 and withhold the rest."""
    return Publication(
        classes={
            ("at_risk", "18-24"): (20, True),
            ("at_risk", "25-34"): (20, True),
            ("at_risk", "35-44"): (total - 40, False),
        },
        cells=[Cell("at_risk", "all", [50.0] * total)],
    )


# ---------------------------------------------------------------------------------------------
# release_differencing


def test_a_segment_total_minus_the_released_profile_classes_leaving_4_is_found(tmp_path):
    findings, section = differencing(attack_publication(44).write(tmp_path / "w.duckdb"))
    assert findings, "a remainder of 4 among the withheld classes must be found"
    assert all(f.startswith("fct_segment_profiles") for f in findings), findings
    withheld = next(f for f in findings if "age_band=35-44" in f)
    assert "analytics_buyers [age_band=35-44, primary_segment=at_risk]" in withheld
    assert "can be narrowed to 0..4 subjects" in withheld
    assert section["status"] == "fail"
    assert section["tables"]["fct_segment_profiles"]["rows_withheld"] == 1
    assert section["tables"]["fct_segment_profiles"]["exposures"] == len(findings)
    assert section["exposures"][0]["tables"] == ["fct_segment_profiles"]


def test_a_remainder_of_12_is_not_an_exposure(tmp_path):
    findings, section = differencing(attack_publication(52).write(tmp_path / "w.duckdb"))
    assert findings == []
    assert section["status"] == "pass"
    assert section["count_targets"] > 0 and section["released_counts"] == 3
    assert section["tables"]["fct_segment_profiles"]["rows_published"] == 2


def dominated_cell_publication(total_mean_published: bool) -> Publication:
    """Summary cells of 20, 20 and 12 members by age band and the segment's total: the 35-44
    cell's value is dominated by one member and withheld, the others are published as means
    rounded to cents, so the total's mean minus the other cells' means gives it away."""
    big = [5000.0] + [10.0] * 11
    cells = [
        Cell("at_risk", "18-24", [40.0] * 20),
        Cell("at_risk", "25-34", [30.0] * 20),
        Cell("at_risk", "35-44", big, withheld_measures=("value_eur",)),
        Cell("at_risk", "45-54", []),
        Cell("at_risk", "unknown", []),
    ]
    total = Cell("at_risk", "all", [40.0] * 20 + [30.0] * 20 + big)
    if not total_mean_published:
        total.withheld_measures = ("value_eur",)
    return Publication(cells=[*cells, total])


def test_a_withheld_dominated_sum_recovered_from_the_total_is_found_without_its_value(tmp_path):
    findings, section = differencing(dominated_cell_publication(True).write(tmp_path / "w.duckdb"))
    assert findings == [
        "rpt_segment_summary: value_eur of analytics_buyers [age_band=35-44, "
        "primary_segment=at_risk] is withheld, but the published sums let an attacker estimate "
        "it too closely (required: at least 10% either side of the true sum)",
        # The same leak seen as the total minus its released cells.
        "rpt_segment_summary: value_eur of analytics_buyers [primary_segment=at_risk] minus its "
        "released parts (1 withheld) is given exactly by the published sums and breaks the "
        "magnitude rules (required: a remainder of 0, or one that passes the magnitude rules "
        "(dominated))",
    ]
    assert [e["kind"] for e in section["exposures"]] == ["magnitude", "magnitude_remainder"]
    for exposure in section["exposures"]:  # close to or equal to a withheld value
        assert exposure["low"] is None and exposure["high"] is None
    assert "5110" not in json.dumps(section)
    summary = section["tables"]["rpt_segment_summary"]
    assert summary["statistics"] == {"avg_value_eur": "mean"}
    assert summary["magnitudes_withheld"] == 1


def test_the_same_sum_withheld_from_the_total_too_is_safe(tmp_path):
    findings, section = differencing(dominated_cell_publication(False).write(tmp_path / "w.duckdb"))
    assert findings == []
    assert section["magnitude_targets"] == 1  # the total is not dominated: not sensitive


def test_differentially_private_rows_are_no_equations(tmp_path):
    # The same dominated sum, but every summary row carries noise: not an equation.
    publication = dominated_cell_publication(True)
    publication.noisy = True
    findings, section = differencing(publication.write(tmp_path / "w.duckdb"), noisy=True)
    assert findings == []
    summary = section["tables"]["rpt_segment_summary"]
    assert summary["nonlinear_rows"] == summary["rows_published"] == 6
    assert summary["magnitudes_published"] == 0
    assert section["released_counts"] == 0


def test_published_numbers_that_contradict_each_other_name_the_table(tmp_path):
    publication = attack_publication(52)
    publication.classes[("at_risk", "35-44")] = (20, True)  # 60 released profiles, 52 members
    findings, section = differencing(publication.write(tmp_path / "w.duckdb"))
    (finding,) = findings
    assert finding.startswith(
        "the attacker's model of the release cannot be solved: the "
        "published numbers contradict each other (without "
    )
    assert "fct_segment_profiles" in finding and "rpt_segment_summary" in finding
    assert section["status"] == "error"


def test_a_value_outside_its_hierarchy_is_a_finding_that_does_not_name_it(tmp_path):
    publication = attack_publication(52)
    publication.classes[("at_risk", "tampered-value")] = (12, True)
    findings, _ = differencing(publication.write(tmp_path / "w.duckdb"))
    assert (
        "fct_segment_profiles.age_band: 1 distinct values are not in the hierarchy of age_band "
        "(int_release_hierarchies)" in findings
    )
    assert not [f for f in findings if "tampered-value" in f]


# ---------------------------------------------------------------------------------------------
# magnitude_rules


def test_published_magnitudes_that_pass_their_rules(tmp_path):
    findings, section = magnitudes(dominated_cell_publication(True).write(tmp_path / "w.duckdb"))
    assert findings == []
    assert section["tables"]["rpt_segment_summary"] == {
        "name": "rpt_segment_summary",
        "checked": 3,  # two cells and the total; the cells of nobody publish no mean
        "withheld": 3,
        "broken": 0,
    }


def test_a_dominated_or_small_published_mean_and_a_derived_leak_are_found(tmp_path):
    publication = dominated_cell_publication(True)
    publication.cells[2].withheld_measures = ()  # the dominated mean published
    publication.cells.append(Cell("champions", "all", [10.0] * 3, reason=None))
    path = publication.write(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as con:
        # A rate computed from a withheld mean, published anyway.
        con.execute(
            "update segments.rpt_segment_summary set avg_value_eur = null, value_index = 0.5 "
            "where age_band = '18-24'"
        )
    findings, section = magnitudes(path)
    assert sorted(findings) == [
        "rpt_segment_summary.avg_value_eur: 1 published values dominated by their largest "
        "contributors (p% rule, p = 10)",
        "rpt_segment_summary.avg_value_eur: 1 published values from fewer contributors than 10",
        "rpt_segment_summary.value_index: published in 1 rows where avg_value_eur, which it is "
        "computed from, is withheld",
    ]
    assert section["status"] == "fail"


def test_the_nk_dominance_rule_when_declared(tmp_path):
    path = dominated_cell_publication(True).write(tmp_path / "w.duckdb")
    # 40 + 40 of 800 (the 18-24 cell) is 10%: well within (2, 85%)-dominance.
    section: dict = {}
    rule = {"dominance": "nk", "n": 2, "k_percent": 85}
    with duckdb.connect(str(path), read_only=True) as con:
        assert check_magnitude_rules(con, manifest(), K, rule, section) == []
    assert section["rule"] == rule


# ---------------------------------------------------------------------------------------------
# The document


def test_the_document_reads_rounded_means_as_intervals_and_segments_as_populations(tmp_path):
    publication = dominated_cell_publication(True)
    publication.cells.append(Cell("newsletter", "all", [10.0] * 15))
    path = publication.write(tmp_path / "w.duckdb")
    with duckdb.connect(str(path), read_only=True) as con:
        built = build_document(con, manifest(), K, RULE)
    rows = {
        row["id"]: row for row in built.document["rows"] if row["table"] == "rpt_segment_summary"
    }
    by_key = {
        (row["counts"][0]["population"], row["counts"][0]["key"]["age_band"]): row
        for row in rows.values()
        if row["counts"] and row["released"]
    }
    newsletter = by_key[("segment:newsletter", "all")]
    assert newsletter["counts"][0]["key"] == {"primary_segment": "all", "age_band": "all"}
    (mean,) = newsletter["magnitudes"]
    assert (mean["low"], mean["high"]) == pytest.approx((15 * 9.995, 15 * 10.005))
    nobody = by_key[("analytics_buyers", "45-54")]
    assert nobody["counts"][0]["value"] == 0
    assert (nobody["magnitudes"][0]["low"], nobody["magnitudes"][0]["high"]) == (0.0, 0.0)
    withheld = [m for row in rows.values() for m in row["magnitudes"] if not m["released"]]
    assert [(m["sum"], m["contributors"], m["top1"]) for m in withheld] == [(5110.0, 12, 5000.0)]
    assert "primary" not in withheld[0]  # the engine recomputes it with the rule
    assert built.document["k"] == K and built.document["magnitude_rule"] == RULE


def test_rounding_half_width_of_published_types():
    assert rounding_half_width("DECIMAL(14,2)") == pytest.approx(0.005)
    assert rounding_half_width("DECIMAL(10, 1)") == pytest.approx(0.05)
    assert rounding_half_width("INTEGER") == 0.0
    assert rounding_half_width("DOUBLE") == 0.0


def test_levels_are_inferred_per_column_from_every_value():
    (ages,) = parse_hierarchies({"age_band": AGES + [["unknown", "unknown"]]}).values()
    # A column generalized to broad bands: 'unknown' stands at that level too.
    assert infer_levels(ages, ["under_35", "unknown", "all"]) == {"under_35": 1, "unknown": 1}
    assert infer_levels(ages, ["18-24", "unknown"]) == {"18-24": 0, "unknown": 0}
    assert infer_levels(ages, ["unknown"]) == {"unknown": 0}
    # Levels chosen per group of rows: each value at its own, 'unknown' at the finest used.
    assert infer_levels(ages, ["18-24", "35_plus", "unknown"]) == {
        "18-24": 0,
        "35_plus": 1,
        "unknown": 0,
    }
