"""The audit's release checks on a real build: both pass on what the build publishes, and each
fails on a copy of the warehouse whose publication an attacker could exploit.

- release_differencing, secondary suppression undone: every row the release withheld only to
  protect another (reason 'secondary') is put back into its published table, as a publication
  that applied the primary reasons alone would show it; the cells those rows protected can be
  recovered again.
- release_differencing, the review's attack: one record of a released profile class is
  missing from fct_segment_profiles while rpt_segment_summary still counts its segment; the
  difference lands in the withheld classes (or contradicts the summary outright).
- magnitude_rules: a sum the release withheld for too few contributors is published.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from privseg.audit.checks.magnitude_rules import check_magnitude_rules
from privseg.audit.checks.release_differencing import check_release_differencing
from privseg.audit.release_document import declarations
from privseg.audit.runner import project_vars

VARIABLES = project_vars()
K = int(VARIABLES["segments_k"])
RULE = VARIABLES.get("release_magnitude_rule")


@pytest.fixture(scope="module")
def manifest(built) -> dict:
    return json.loads((built.target_dir / "manifest.json").read_text())


def run_checks(warehouse, manifest: dict) -> tuple[list[str], list[str], dict]:
    sections: dict = {"differencing": {}, "magnitude_rules": {}}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        differencing = check_release_differencing(con, manifest, K, RULE, sections["differencing"])
        magnitudes = check_magnitude_rules(con, manifest, K, RULE, sections["magnitude_rules"])
    return differencing, magnitudes, sections


@pytest.fixture()
def copy(built, tmp_path):
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(built.warehouse, target)
    return target


def test_both_checks_pass_on_what_the_build_publishes(built, manifest):
    differencing, magnitudes, sections = run_checks(built.warehouse, manifest)
    assert differencing == []
    assert magnitudes == []
    published = {d.name for d in declarations(manifest, K)[0]}
    assert set(sections["differencing"]["tables"]) == published
    assert sections["differencing"]["count_targets"] > 0
    assert sections["differencing"]["released_counts"] > 0
    assert set(sections["magnitude_rules"]["tables"]) == {
        d.name for d in declarations(manifest, K)[0] if d.magnitudes and not d.records
    }


def test_a_publication_without_secondary_suppression_is_found(copy, manifest):
    found, _ = declarations(manifest, K)
    restored: dict[str, int] = {}
    with duckdb.connect(str(copy)) as con:
        secondary = {
            table: [row_id for (row_id,) in rows]
            for table in {d.name for d in found}
            if (
                rows := con.execute(
                    "select row_id from release.int_release_decisions "
                    "where table_name = ? and measure is null and reason = 'secondary'",
                    [table],
                ).fetchall()
            )
        }
        assert secondary, "the session build withholds some rows as secondary"
        for declared in found:
            ids = secondary.get(declared.name)
            if not ids:
                continue
            published = [c for (c, *_) in con.execute(f"describe {declared.relation}").fetchall()]
            candidates = {
                c for (c, *_) in con.execute(f"describe {declared.candidates_relation}").fetchall()
            }
            magnitudes = {m.column for m in declared.magnitudes}
            values = [
                f'candidates."{c}"' if c in candidates and c not in magnitudes else "null"
                for c in published
            ]
            # Counts and keys as the candidates hold them; sums and means withheld.
            con.execute(
                f"insert into {declared.relation} select {', '.join(values)} "
                f"from {declared.candidates_relation} as candidates "
                "where candidates.release_row_id in (select unnest(cast(? as varchar[])))",
                [ids],
            )
            restored[declared.name] = len(ids)
    differencing, _, sections = run_checks(copy, manifest)
    exposures = sections["differencing"]["exposures"]
    assert differencing and exposures, "the cells secondary suppression protected are recoverable"
    assert all(e["tables"] for e in exposures), "every exposure names its tables"
    named = {t for e in exposures for t in e["tables"]}
    assert named & set(restored), (named, restored)
    assert all(
        " can be narrowed to " in f or "estimate it too closely" in f or f.startswith("...")
        for f in differencing
    ), differencing


def test_a_profile_record_missing_from_a_summarized_segment_is_found(copy, manifest):
    with duckdb.connect(str(copy)) as con:
        chosen = con.execute(
            "select profiles.primary_segment, profiles.age_band, profiles.region, "
            "profiles.tenure_band, profiles.lifetime_value_band "
            "from segments.fct_segment_profiles as profiles "
            "inner join segments.rpt_segment_summary as summary "
            "on summary.segment_name = profiles.primary_segment "
            "and summary.cell_level = 'segment_total' "
            "group by all order by count(*) desc, 1, 2, 3, 4, 5 limit 1"
        ).fetchone()
        assert chosen, "the session build publishes a profile class of a summarized segment"
        con.execute(
            "delete from segments.fct_segment_profiles where rowid = (select min(rowid) from "
            "segments.fct_segment_profiles where (primary_segment, age_band, region, "
            "tenure_band, lifetime_value_band) = (?, ?, ?, ?, ?))",
            list(chosen),
        )
    differencing, _, _ = run_checks(copy, manifest)
    assert [f for f in differencing if "fct_segment_profiles" in f], differencing


def test_a_published_sum_of_too_few_contributors_is_found(copy, manifest):
    (campaigns,) = [d for d in declarations(manifest, K)[0] if d.name == "rpt_campaign_performance"]
    column_of = {m.measure: m.column for m in campaigns.magnitudes}
    with duckdb.connect(str(copy)) as con:
        chosen = con.execute(
            "select candidates.campaign_id, candidates.cell_level, candidates.segment_name, "
            "decisions.measure from release.int_release_decisions as decisions "
            f"inner join {campaigns.candidates_relation} as candidates "
            "on candidates.release_row_id = decisions.row_id "
            "where decisions.table_name = 'rpt_campaign_performance' "
            "and decisions.reason = 'magnitude_few_contributors' "
            "and candidates.recipient_count > 0 order by decisions.row_id, decisions.measure "
            "limit 1"
        ).fetchone()
        assert chosen, "the session build withholds some campaign sum for few contributors"
        campaign_id, cell_level, segment, measure = chosen
        column = column_of[measure]
        con.execute(
            f'update {campaigns.relation} as published set "{column}" = candidates."{column}" '
            f"from {campaigns.candidates_relation} as candidates "
            "where published.campaign_id = ? and published.cell_level = ? "
            "and published.segment_name = ? and candidates.campaign_id = published.campaign_id "
            "and candidates.cell_level = published.cell_level "
            "and candidates.segment_name = published.segment_name",
            [campaign_id, cell_level, segment],
        )
    _, magnitudes, sections = run_checks(copy, manifest)
    assert f"rpt_campaign_performance.{column}: 1 published values from fewer contributors " in (
        "\n".join(magnitudes)
    ), magnitudes
    assert sections["magnitude_rules"]["tables"]["rpt_campaign_performance"]["broken"] >= 1
