"""Paths from a model column down to its leaves (source and seed columns), the findings the audit
reports, and the JSON-ready summaries (see the package docstring, "Findings")."""

from __future__ import annotations

from typing import Any

from privseg.lineage.model import (
    CONSENT_FILTERED,
    DIRECT_IDENTIFIER,
    MART_LAYERS,
    NON_PERSONAL,
    PROTECTING_STEPS,
    ColumnRef,
    Flow,
    Leaf,
    LineagePath,
    ModelLineage,
    ProjectLineage,
    compose,
    normalise_steps,
)
from privseg.lineage.project import TECHNICAL_SOURCE_COLUMNS


def _model_id(project: ProjectLineage, model: str) -> str:
    if model in project.models:
        return model
    for unique_id, candidate in project.models.items():
        if candidate.name == model:
            return unique_id
    raise KeyError(f"no model {model!r}")


def leaf(project: ProjectLineage, ref: ColumnRef) -> Leaf:
    """What is known about the column a path ends in."""
    relation = project.relations.get(ref.relation)
    if relation is None:
        return Leaf(ref, "unknown", f"{ref.relation}.{ref.column}", None, None)
    label = f"{relation.label}.{ref.column}"
    if relation.kind == "model":
        model = project.models.get(ref.relation)
        kind = "unparsed" if model is not None and model.unparsed else "unknown"
        return Leaf(ref, kind, label, None, None)
    privacy = relation.column_privacy.get(ref.column) or {}
    classification = privacy.get("classification")
    if classification is None and (
        relation.kind == "seed" or ref.column in TECHNICAL_SOURCE_COLUMNS
    ):
        classification = NON_PERSONAL  # reference data, or read_parquet's own columns
    return Leaf(ref, relation.kind, label, classification, privacy.get("data_category"))


def trace_column(project: ProjectLineage, model: str, column: str) -> list[LineagePath]:
    """Every path from a model column (model name or unique_id) to its leaves, one per
    (leaf, steps, carries_value), the shortest; sorted by leaf label."""
    unique_id = _model_id(project, model)
    paths = _leaf_paths(project, unique_id, column.lower())
    traced = [
        LineagePath(leaf(project, ref), steps, carries_value, path)
        for (ref, steps, carries_value), path in paths.items()
    ]
    return sorted(traced, key=lambda p: (p.source.label, sorted(p.steps), p.path))


def _leaf_paths(
    project: ProjectLineage, unique_id: str, column: str
) -> dict[tuple[ColumnRef, frozenset[str], bool], tuple[str, ...]]:
    key = (unique_id, column)
    if key in project._paths:
        return project._paths[key]
    project._paths[key] = {}  # a cycle (not possible in a dbt DAG) ends here
    model = project.models[unique_id]
    label = f"{model.name}.{column}"
    result: dict[tuple[ColumnRef, frozenset[str], bool], tuple[str, ...]] = {}
    if model.unparsed is not None or column not in model.hops:
        result[(ColumnRef(unique_id, column), frozenset(), True)] = (label,)
    else:
        consent = {CONSENT_FILTERED} if model.consent_filtered else set()
        for ref, flow in model.hops[column].items():
            hop = Flow(normalise_steps(flow.steps | consent), flow.carries_value)
            if ref.relation in project.models:
                for (end, steps, carries), below in _leaf_paths(
                    project, ref.relation, ref.column
                ).items():
                    merged = compose(hop, Flow(steps, carries))
                    _keep_shortest(
                        result, (end, merged.steps, merged.carries_value), (label, *below)
                    )
            else:
                _keep_shortest(
                    result,
                    (ref, hop.steps, hop.carries_value),
                    (label, leaf(project, ref).label),
                )
    project._paths[key] = result
    return result


def _keep_shortest(
    result: dict[tuple[ColumnRef, frozenset[str], bool], tuple[str, ...]],
    key: tuple[ColumnRef, frozenset[str], bool],
    path: tuple[str, ...],
) -> None:
    current = result.get(key)
    if current is None or (len(path), path) < (len(current), current):
        result[key] = path


def is_leak(model: ModelLineage, path: LineagePath) -> bool:
    """A mart or published column carrying a direct identifier's value unhashed, unaggregated."""
    return (
        (model.published or model.layer in MART_LAYERS)
        and path.source.classification == DIRECT_IDENTIFIER
        and path.carries_value
        and not path.steps & PROTECTING_STEPS
    )


def lineage_findings(project: ProjectLineage) -> list[str]:
    """One line per violation (see module doc), naming models, columns and source columns."""
    findings: list[str] = []
    for model in sorted(project.models.values(), key=lambda m: m.name):
        if model.unparsed is not None:
            findings.append(
                f"{model.name}: lineage could not be parsed ({model.unparsed}); its columns and "
                "those of the models downstream of it are untraced"
            )
            continue
        findings.extend(f"{model.name}: lineage incomplete: {p}" for p in model.problems)
        if model.past_staging:
            for column in model.columns:
                findings.extend(_column_findings(project, model, column))
    return list(dict.fromkeys(findings))


def _column_findings(project: ProjectLineage, model: ModelLineage, column: str) -> list[str]:
    findings: list[str] = []
    seen: set[tuple[str, ColumnRef]] = set()
    for path in sorted(trace_column(project, model.unique_id, column), key=lambda p: len(p.path)):
        end = path.source
        route = " <- ".join(path.path)
        if is_leak(model, path) and ("leak", end.ref) not in seen:
            seen.add(("leak", end.ref))
            findings.append(
                f"{model.name}.{column}: carries direct identifier {end.label} without hashing "
                f"or aggregation (steps: {', '.join(sorted(path.steps))}; path: {route})"
            )
        if end.kind == "source" and end.classification is None and ("meta", end.ref) not in seen:
            seen.add(("meta", end.ref))
            findings.append(
                f"{model.name}.{column}: traces to {end.label}, which has no "
                f"meta.privacy classification (path: {route})"
            )
        if end.kind == "unknown" and ("unknown", end.ref) not in seen:
            seen.add(("unknown", end.ref))
            findings.append(
                f"{model.name}.{column}: traces to {end.label}, which is not a model, seed or "
                f"source of this project (path: {route})"
            )
    return findings


def lineage_summary(project: ProjectLineage) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """{model name: {column: [path dicts]}} for every model past staging (JSON-ready)."""
    summary: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for model in sorted(project.models.values(), key=lambda m: m.name):
        if not model.past_staging:
            continue
        summary[model.name] = {
            column: (
                []
                if model.unparsed
                else [path.to_dict() for path in trace_column(project, model.unique_id, column)]
            )
            for column in model.columns
        }
    return summary


def model_summary(project: ProjectLineage) -> dict[str, dict[str, Any]]:
    """{model name: layer, published, consent_filtered, parsed, problems} (JSON-ready)."""
    return {
        model.name: {
            "layer": model.layer,
            "published": model.published,
            "consent_filtered": model.consent_filtered,
            "parsed": model.unparsed is None,
            "unparsed_reason": model.unparsed,
            "problems": list(model.problems),
        }
        for model in sorted(project.models.values(), key=lambda m: m.name)
    }
