"""attribute_disclosure: no released class of a published row-level table lets an attacker who
knows someone's class infer their sensitive attribute with high confidence (invariant 9).

Recomputed from the published rows alone, per equivalence class: its size, its distinct values,
the entropy of its value shares and the records of its most frequent values. A class fails when
it is not as diverse as its table declares (meta.privacy.diversity, read with the defaults the
dbt macro published_privacy uses), or when one value holds more than the audit's bound of it
(var segments_max_inference_confidence), whatever the declared kind: a weak declaration does
not exempt a table from the invariant. Only counts are read; no value of the attribute or of a
quasi-identifier leaves DuckDB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from privseg.audit.context import AuditRun
from privseg.core.manifest import privacy_meta, published_models, relation

KINDS = ("distinct", "entropy", "recursive")
# A class split exactly evenly over l values has entropy ln(l), up to rounding.
ENTROPY_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Diversity:
    """A table's declared diversity: kind, l and (recursive only) c."""

    kind: str
    l_values: int
    c: float | None = None

    @property
    def label(self) -> str:
        """As the dbt tests show it, e.g. 'recursive (c=9, l=2)'."""
        c = f"c={self.c:g}, " if self.c is not None else ""
        return f"{self.kind} ({c}l={self.l_values})"


@dataclass(frozen=True)
class ClassMeasures:
    """One released class: records, distinct values, records of its most frequent value, the
    entropy of its value shares (natural log) and the records outside its l-1 most frequent
    values."""

    size: int
    values: int
    top: int
    entropy: float
    tail: int

    @property
    def top_share(self) -> float:
        return self.top / self.size

    def distinct_ok(self, l_values: int) -> bool:
        return self.values >= l_values

    def entropy_ok(self, l_values: int) -> bool:
        return self.values >= l_values and self.entropy >= math.log(l_values) - ENTROPY_TOLERANCE

    def recursive_ok(self, c: float, l_values: int) -> bool:
        return self.values >= l_values and self.top < c * self.tail

    def satisfies(self, diversity: Diversity) -> bool:
        if diversity.kind == "entropy":
            return self.entropy_ok(diversity.l_values)
        if diversity.kind == "recursive":
            assert diversity.c is not None
            return self.recursive_ok(diversity.c, diversity.l_values)
        return self.distinct_ok(diversity.l_values)


class DeclarationError(ValueError):
    """A diversity declaration the dbt macro would refuse too."""


def declared_diversity(meta: Mapping[str, Any], variables: Mapping[str, Any]) -> Diversity:
    """meta.privacy.diversity of a published model with the vars' defaults, as the dbt macro
    declared_diversity() reads it (the same keys, defaults and limits)."""
    declared = meta.get("diversity") or {}
    if not isinstance(declared, Mapping):
        raise DeclarationError("diversity must be a mapping {kind, l, c}")
    kind = declared.get("kind", variables.get("segments_diversity_kind", "recursive"))
    if kind not in KINDS:
        raise DeclarationError(f"diversity.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    l_values = declared.get("l", variables.get("segments_l", 2))
    if isinstance(l_values, bool) or not isinstance(l_values, int | float) or l_values < 1:
        raise DeclarationError(f"diversity.l must be a whole number of at least 1: {l_values!r}")
    if l_values != int(l_values):
        raise DeclarationError(f"diversity.l must be a whole number of at least 1: {l_values!r}")
    c = None
    if kind == "recursive":
        c = declared.get("c", variables.get("segments_diversity_c", 9))
        if isinstance(c, bool) or not isinstance(c, int | float) or c <= 0:
            raise DeclarationError(f"diversity.c must be a number above 0, got {c!r}")
        c = float(c)
    return Diversity(kind, int(l_values), c)


def class_measures(
    con: duckdb.DuckDBPyConnection,
    table: str,
    quasi_identifiers: list[str],
    sensitive: str,
    l_values: int,
) -> list[ClassMeasures]:
    """The measures of every class of `table` (a quoted relation), counting rows; NULL is a
    value like any other. Returns counts only, never a class's or a value's identity."""
    group_by = ", ".join(f'"{column}"' for column in quasi_identifiers)
    rows = con.execute(
        f"""
        with class_values as (
            select {group_by}, "{sensitive}", count(*) as value_records
            from {table}
            group by all
        ),
        values_ranked as (
            select
                value_records,
                {group_by},
                row_number() over (partition by {group_by} order by value_records desc)
                    as value_rank
            from class_values
        )
        select
            sum(value_records),
            count(*),
            max(value_records),
            ln(cast(sum(value_records) as double))
                - sum(value_records * ln(cast(value_records as double)))
                / cast(sum(value_records) as double),
            coalesce(sum(value_records) filter (where value_rank >= ?), 0)
        from values_ranked
        group by {group_by}
        """,
        [l_values],
    ).fetchall()
    return [
        ClassMeasures(int(size), int(values), int(top), float(entropy), int(tail))
        for size, values, top, entropy, tail in rows
    ]


def table_summary(
    measures: list[ClassMeasures], diversity: Diversity, bound: float, default_c: float
) -> dict[str, Any]:
    """What the report shows of one table: every kind recomputed at the declared l (recursive
    with the declared c, else the default), the highest share of one value, and the classes
    failing the declaration or the bound."""
    l_values = diversity.l_values
    c = diversity.c if diversity.c is not None else default_c

    def failing(ok) -> dict[str, int]:
        bad = [m for m in measures if not ok(m)]
        return {"classes": len(bad), "records": sum(m.size for m in bad)}

    top = max(measures, key=lambda m: (m.top_share, m.size), default=None)
    return {
        "declared": diversity.label,
        "classes": len(measures),
        "records": sum(m.size for m in measures),
        "not_distinct": failing(lambda m: m.distinct_ok(l_values)),
        "not_entropy": failing(lambda m: m.entropy_ok(l_values)),
        "recursive_c": c,
        "not_recursive": failing(lambda m: m.recursive_ok(c, l_values)),
        "not_declared": failing(lambda m: m.satisfies(diversity)),
        "above_bound": failing(lambda m: m.top_share <= bound),
        "highest_share": round(top.top_share, 4) if top else None,
        "highest_share_records": [top.top, top.size] if top else None,
        "lowest_effective_values": (
            round(math.exp(min(m.entropy for m in measures)), 2) if measures else None
        ),
    }


def check_attribute_disclosure(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    variables: Mapping[str, Any],
    summaries: dict[str, dict[str, Any]],
) -> list[str]:
    """Findings for every published row-level table with a sensitive attribute that releases a
    class below its declared diversity or above the bound; fills `summaries` for the report."""
    bound = float(variables.get("segments_max_inference_confidence", 0.9))
    default_c = float(variables.get("segments_diversity_c", 9))
    findings = []
    for node in published_models(manifest):
        meta = privacy_meta(node)
        sensitive = meta.get("sensitive_attribute")
        if not sensitive or meta.get("subject_count_column"):
            continue
        name = node["name"]
        quasi = list(meta.get("quasi_identifiers") or [])
        if not quasi:
            findings.append(f"{name}: a sensitive attribute without quasi_identifiers")
            continue
        try:
            diversity = declared_diversity(meta, variables)
        except DeclarationError as error:
            findings.append(f"{name}: meta.privacy.{error}")
            continue
        measures = class_measures(con, relation(node), quasi, sensitive, diversity.l_values)
        summary = summaries[name] = {
            "sensitive_attribute": sensitive,
            **table_summary(measures, diversity, bound, default_c),
        }
        failed = summary["not_declared"]
        if failed["classes"]:
            findings.append(
                f"{name}: {failed['classes']} classes ({failed['records']} records) are not "
                f"{diversity.label}-diverse in {sensitive}"
            )
        above = summary["above_bound"]
        if above["classes"]:
            top, size = summary["highest_share_records"]
            findings.append(
                f"{name}: {above['classes']} classes ({above['records']} records) let one "
                f"{sensitive} value be inferred with more than {bound:.0%} confidence "
                f"(highest share {summary['highest_share']:.2f}: {top} of {size} records)"
            )
    return findings


def run(audit: AuditRun) -> list[str]:
    return check_attribute_disclosure(
        audit.connection, audit.manifest, audit.variables, audit.attribute_disclosure
    )
