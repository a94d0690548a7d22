"""Invariant 9 end to end, on copies of the session warehouse. A primary segment is made skewed:
all its members but one share one top category, so that knowing someone is in it gives their
top category with over 90% confidence. Distinct 2-diversity (the only rule before diversity
kinds were declared) publishes that release: the class holds two values. The default
declaration, recursive (9, 2)-diversity, withholds the segment (class_not_diverse) and its
l_diversity test passes on what is left; the audit's attribute_disclosure check names the first
release and passes the second."""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict

import duckdb
import pytest
import yaml

from dbt_harness import DbtProject, project_with_fixtures
from privseg.audit.checks.attribute_disclosure import check_attribute_disclosure
from privseg.core.settings import PROJECT_DIR

PROFILE_CLASS = ["primary_segment", "age_band", "region", "tenure_band", "lifetime_value_band"]
DEFAULT_DIVERSITY = "diversity:\n            kind: recursive\n            l: 2\n            c: 9\n"
DISTINCT_DIVERSITY = "diversity:\n            kind: distinct\n            l: 2\n"
MODELS_YML = "models/marts/segments/_segments__models.yml"
# The profiles' candidates, the release's decision over them (with every other table's rows,
# as built), and the published profiles.
SELECTED = (
    "int_segment_profiles_generalized",
    "int_release_rows",
    "int_release_decisions",
    "fct_segment_profiles",
)


def _plant(warehouse, segment: str) -> int:
    """Every primary member of `segment` but one takes its most frequent top category; returns
    the segment's primary members."""
    with duckdb.connect(str(warehouse)) as con:
        (frequent,) = con.execute(
            "select top_category from segments.int_segment_members_described "
            "where is_primary and segment_name = ? group by top_category "
            "order by count(*) desc, top_category limit 1",
            [segment],
        ).fetchone()
        con.execute(
            "update segments.int_segment_members_described set top_category = ? "
            "where is_primary and segment_name = ? and customer_key <> ("
            "select min(customer_key) from segments.int_segment_members_described "
            "where is_primary and segment_name = ? and top_category <> ?)",
            [frequent, segment, segment, frequent],
        )
        ((members, values),) = con.execute(
            "select count(*), count(distinct top_category) "
            "from segments.int_segment_members_described where is_primary and segment_name = ?",
            [segment],
        ).fetchall()
    assert values == 2
    return members


def _published_classes(project: DbtProject) -> dict[tuple, Counter]:
    classes: dict[tuple, Counter] = defaultdict(Counter)
    for *qi, value in project.query(
        f"select {', '.join(PROFILE_CLASS)}, top_category from segments.fct_segment_profiles"
    ):
        classes[tuple(qi)][value] += 1
    return classes


def _audit(project: DbtProject) -> list[str]:
    manifest = json.loads((project.target_dir / "manifest.json").read_text())
    variables = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return check_attribute_disclosure(con, manifest, variables, {})


@pytest.fixture(scope="module")
def releases(tmp_path_factory, built) -> dict[str, tuple[DbtProject, str]]:
    """{declaration: (project, its dbt output)} after planting the skewed segment: the smallest
    primary segment released by the session build with at least two k of members."""
    ((segment, members),) = built.query(
        "select primary_segment, count(*) from segments.int_segment_profiles_generalized "
        "group by primary_segment having count(*) >= 20 and bool_and(not is_suppressed) "
        "order by count(*), primary_segment limit 1"
    )
    results = {}
    for declaration in ("distinct", "default"):
        tmp_path = tmp_path_factory.mktemp(f"diversity_{declaration}")
        project, project_copy = project_with_fixtures(tmp_path, built.raw_dir, {})
        if declaration == "distinct":
            yml = project_copy / MODELS_YML
            text = yml.read_text()
            assert text.count(DEFAULT_DIVERSITY) == 1
            yml.write_text(text.replace(DEFAULT_DIVERSITY, DISTINCT_DIVERSITY))
        shutil.copy(built.warehouse, project.warehouse)
        assert _plant(project.warehouse, segment) == members
        result = project.dbt("build", "--select", *SELECTED, project_dir=project_copy)
        assert result.success, result.output[-3000:]
        results[declaration] = (project, segment)
    return results


def test_distinct_l_diversity_publishes_the_skewed_segment(releases):
    project, segment = releases["distinct"]
    classes = _published_classes(project)
    skewed = [c for qi, c in classes.items() if qi[0] == segment]
    assert skewed, "distinct 2-diversity releases the planted segment"
    # Two values in every released class of it, so distinct l = 2 holds...
    assert all(len(values) >= 2 for values in skewed)
    # ...yet one value holds over 90% of a class.
    assert max(max(c.values()) / c.total() for c in skewed) > 0.9
    findings = _audit(project)
    assert len(findings) == 1 and findings[0].startswith("fct_segment_profiles: 1 classes"), (
        findings
    )
    assert "more than 90% confidence" in findings[0]


def test_the_default_recursive_diversity_withholds_the_skewed_segment(releases):
    project, segment = releases["default"]
    classes = _published_classes(project)
    assert classes, "the other segments are still published"
    assert not [qi for qi in classes if qi[0] == segment]
    for values in classes.values():
        ranked = sorted(values.values(), reverse=True)
        assert len(ranked) >= 2 and ranked[0] < 9 * sum(ranked[1:])
    reasons = dict(
        project.query(
            "select suppression_reason, count(*) from segments.int_segment_profiles_generalized "
            "where primary_segment = ? group by all",
            [segment],
        )
    )
    assert reasons.get("class_not_diverse", 0) > 0, reasons
    assert None not in reasons, "no member of the skewed segment is released"
    assert _audit(project) == []
