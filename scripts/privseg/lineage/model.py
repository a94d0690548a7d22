"""The data types of lineage, and the algebra of steps: how the steps of nested transforms and
of the hops along a path combine (see the package docstring for what each step means)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

DIALECT = "duckdb"

HASHED = "hashed"
AGGREGATED = "aggregated"
GENERALIZED = "generalized"
PASSED_THROUGH = "passed_through"
CONSENT_FILTERED = "consent_filtered"
STEPS = (PASSED_THROUGH, GENERALIZED, HASHED, AGGREGATED, CONSENT_FILTERED)
PROTECTING_STEPS = frozenset({HASHED, AGGREGATED})

STAGING_LAYER = "staging"
CONSENT_LAYER = "consent"
MART_LAYERS = frozenset(
    {"behavior", "segments", "audiences", "measurement", "contextual", "release"}
)
DIRECT_IDENTIFIER = "direct_identifier"
NON_PERSONAL = "non_personal"


class LineageError(Exception):
    """SQL that cannot be parsed or qualified; the message names no data value."""


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a relation: a unique_id (or, inside `sql_lineage`, a dotted relation key)."""

    relation: str
    column: str


@dataclass(frozen=True)
class Flow:
    """How an upstream column reaches a column: the steps, and whether its value does."""

    steps: frozenset[str]
    carries_value: bool = True


@dataclass
class SqlLineage:
    """One query's lineage: output column -> {input column: flow}, plus the consent flag."""

    columns: dict[str, dict[ColumnRef, Flow]]
    consent_filtered: bool
    problems: list[str]


@dataclass(frozen=True)
class Relation:
    """A model, seed or source of the manifest, with its columns' meta.privacy."""

    unique_id: str
    kind: str  # model | seed | source
    label: str  # model or seed name; '<source_name>.<table>' for a source
    column_privacy: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Leaf:
    """Where a path ends: a source or seed column, or one that could not be traced further."""

    ref: ColumnRef
    kind: str  # source | seed | unparsed (a model that could not be parsed) | unknown
    label: str  # e.g. 'shop.customers.birth_date', 'age_bands.age_band'
    classification: str | None
    data_category: str | None


@dataclass(frozen=True)
class LineagePath:
    """One path from a model column down to a leaf, with the steps united along it."""

    source: Leaf
    steps: frozenset[str]
    carries_value: bool
    path: tuple[str, ...]  # 'model.column', ..., leaf label

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source.label,
            "source_kind": self.source.kind,
            "source_classification": self.source.classification,
            "data_category": self.source.data_category,
            "steps": sorted(self.steps),
            "carries_value": self.carries_value,
            "path": list(self.path),
        }


@dataclass
class ModelLineage:
    """One model's hops: output column -> {upstream ColumnRef (unique_id, column): flow}."""

    unique_id: str
    name: str
    layer: str | None
    published: bool
    columns: list[str]
    hops: dict[str, dict[ColumnRef, Flow]] = field(default_factory=dict)
    consent_filtered: bool = False
    unparsed: str | None = None  # why the SQL could not be parsed, if it could not
    problems: list[str] = field(default_factory=list)

    @property
    def past_staging(self) -> bool:
        return self.layer != STAGING_LAYER


@dataclass
class ProjectLineage:
    """Every model's hops, the relations they end in, and memoized paths."""

    models: dict[str, ModelLineage]  # by unique_id
    relations: dict[str, Relation]  # models, seeds and sources by unique_id
    seconds: float = 0.0
    _paths: dict[tuple[str, str], dict[tuple[ColumnRef, frozenset[str], bool], tuple[str, ...]]] = (
        field(default_factory=dict, repr=False)
    )

    @cached_property
    def findings(self) -> list[str]:
        from privseg.lineage.paths import lineage_findings  # paths imports this module

        return lineage_findings(self)

    @cached_property
    def columns(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        from privseg.lineage.paths import lineage_summary

        return lineage_summary(self)


def normalise_steps(steps: Iterable[str]) -> frozenset[str]:
    """Keep the strongest transforms (hashed/aggregated > generalized > passed_through)."""
    given = set(steps)
    strong = given & PROTECTING_STEPS
    if strong:
        kept = strong
    elif GENERALIZED in given:
        kept = {GENERALIZED}
    else:
        kept = {PASSED_THROUGH}
    if CONSENT_FILTERED in given:
        kept.add(CONSENT_FILTERED)
    return frozenset(kept)


def _protection(steps: frozenset[str]) -> int:
    if steps & PROTECTING_STEPS:
        return 2
    return 1 if GENERALIZED in steps else 0


def weakest(a: Flow, b: Flow) -> Flow:
    """Two ways one input reaches one output: value beats selector, then the least protected."""
    if a.carries_value != b.carries_value:
        return a if a.carries_value else b
    rank_a, rank_b = _protection(a.steps), _protection(b.steps)
    if rank_a != rank_b:
        return a if rank_a < rank_b else b
    return Flow(normalise_steps(a.steps | b.steps), a.carries_value)


def compose(outer: Flow, inner: Flow) -> Flow:
    """A flow through `inner`, then `outer` (order does not matter for sets)."""
    return Flow(
        normalise_steps(outer.steps | inner.steps), outer.carries_value and inner.carries_value
    )


def add_flow(target: dict[ColumnRef, Flow], ref: ColumnRef, flow: Flow) -> None:
    target[ref] = weakest(target[ref], flow) if ref in target else flow
