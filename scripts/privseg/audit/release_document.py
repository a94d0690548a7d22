"""The release as an attacker holds it: the release document of plugins/release_protection.py,
built by the audit from the publication itself.

Every published model declares under meta.privacy.release how its rows map to counts of
populations in cells of dimensions, and which of its columns are sums or means of which
measure (docs/analytics-engineers.md, "Add a published table"). The build reads that
declaration through the macro release_rows() (macros/release/release_rows.sql) to decide what
to withhold; the audit reads the same declaration from the manifest and interprets it here, on
its own, over what the published models hold:

- one released row of the document per published row (a row-level table: per class, its
  count the number of records with those values), its counts and, for each linear magnitude,
  the sum the attacker can compute: a published sum, or a published mean times the row's first
  count, as an interval when the value is rounded (a DECIMAL of scale s is known to within
  half a unit of its last digit);
- the candidate rows the release withheld (int_release_decisions), as rows marked
  `"released": false`: their values are not equations for the attacker, they only name the
  cells in findings; and every withheld linear magnitude with its true sum and statistics from
  the candidates, so that the engine can recompute its primary reason and measure how close the
  attacker comes to it (the p% requirement);
- the hierarchies of the dimensions (int_release_hierarchies) and the containment of the
  populations (int_release_populations): declared metadata of the build, read from the
  warehouse;
- the level each dimension column stands at, inferred per table from its values.

Dimension values are categories (bands, segments, months, campaign ids), never a value of a
person; messages about a value outside a hierarchy say how many, not which.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb

from privseg.core.manifest import models, privacy_meta, published_models, relation
from release_model import WILDCARD_VALUES, Hierarchy, parse_hierarchies

HIERARCHIES_MODEL = "int_release_hierarchies"
POPULATIONS_MODEL = "int_release_populations"
DECISIONS_MODEL = "int_release_decisions"
SEGMENTS_SEED = "segment_definitions"
STATISTICS_COLUMN = "magnitude_statistics"
ROW_ID_COLUMN = "release_row_id"
STATISTICS = ("mean", "sum")
# Relative tolerance when a published value is compared with the candidates' statistics.
TOLERANCE = 1e-9


class DeclarationError(ValueError):
    """A published model's meta.privacy.release cannot be read (a message names the model)."""


# --------------------------------------------------------------------------------------------
# The declarations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountSpec:
    """One declared count of a published row: a population in a cell of dimensions."""

    column: str | None  # None in a row-level table: the count is the class's records
    population: str
    dimensions: tuple[tuple[str, str], ...]  # (column, dimension)
    segment_population: str | None = None
    population_key: str | None = None
    within: Any = None


@dataclass(frozen=True)
class MagnitudeSpec:
    """One declared sum or mean of a published row."""

    column: str
    measure: str
    linear: bool = True
    derived: tuple[str, ...] = ()
    rule: dict | None = None
    # 'mean' (over the row's first count) or 'sum'; None: told from the candidates.
    statistic: str | None = None


@dataclass(frozen=True)
class Declaration:
    """A published model's meta.privacy.release, with the relations it names."""

    name: str
    relation: str
    candidates: str
    candidates_relation: str
    records: bool
    counts: tuple[CountSpec, ...]
    magnitudes: tuple[MagnitudeSpec, ...]
    magnitude_rule: dict | None
    differentially_private: str | None
    k: int

    @property
    def dimension_columns(self) -> list[str]:
        return list(dict.fromkeys(c for count in self.counts for c, _ in count.dimensions))

    @property
    def key_columns(self) -> list[str]:
        """Columns that name a row's cells: dimensions and population keys."""
        keys = [count.population_key for count in self.counts if count.population_key]
        return list(dict.fromkeys([*self.dimension_columns, *keys]))

    def rule_of(self, magnitude: MagnitudeSpec, default: dict | None) -> dict:
        return dict(magnitude.rule or self.magnitude_rule or default or {})


def _mapping(value: Any, what: str, model: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeclarationError(f"{model}: meta.privacy.release {what} must be a mapping")
    return value


def declaration(node: dict, nodes_by_name: dict[str, dict], default_k: int) -> Declaration:
    """The release declaration of a published model node."""
    name = node["name"]
    meta = privacy_meta(node)
    release = _mapping(meta.get("release"), "", name)
    candidates = release.get("candidates")
    if not candidates:
        raise DeclarationError(f"{name}: published without meta.privacy.release.candidates")
    candidates_node = nodes_by_name.get(str(candidates))
    if candidates_node is None:
        raise DeclarationError(f"{name}: its candidates model {candidates} is not in the manifest")
    records = bool(release.get("records", False))
    raw_counts = release.get("counts") or []
    if not isinstance(raw_counts, list) or not raw_counts or (records and len(raw_counts) != 1):
        raise DeclarationError(
            f"{name}: meta.privacy.release.counts must list the counts (a row-level table: one)"
        )
    counts = []
    for entry in raw_counts:
        entry = _mapping(entry, "counts entry", name)
        if "population" not in entry or (not records and not entry.get("column")):
            raise DeclarationError(f"{name}: a count needs a population and a column")
        counts.append(
            CountSpec(
                column=None if records else str(entry["column"]),
                population=str(entry["population"]),
                dimensions=tuple(
                    (str(c), str(d))
                    for c, d in _mapping(entry.get("dimensions"), "dimensions", name).items()
                ),
                segment_population=entry.get("segment_population"),
                population_key=entry.get("population_key"),
                within=entry.get("within"),
            )
        )
    magnitudes = []
    for entry in release.get("magnitudes") or []:
        entry = _mapping(entry, "magnitudes entry", name)
        if not entry.get("column") or not entry.get("measure"):
            raise DeclarationError(f"{name}: a magnitude needs a column and a measure")
        statistic = entry.get("statistic")
        if statistic is not None and statistic not in STATISTICS:
            raise DeclarationError(
                f"{name}.{entry['column']}: statistic must be one of {', '.join(STATISTICS)}"
            )
        magnitudes.append(
            MagnitudeSpec(
                column=str(entry["column"]),
                measure=str(entry["measure"]),
                linear=entry.get("linear") is not False,
                derived=tuple(str(d) for d in entry.get("derived") or ()),
                rule=entry.get("rule"),
                statistic=statistic,
            )
        )
    return Declaration(
        name=name,
        relation=relation(node),
        candidates=str(candidates),
        candidates_relation=relation(candidates_node),
        records=records,
        counts=tuple(counts),
        magnitudes=tuple(magnitudes),
        magnitude_rule=release.get("magnitude_rule"),
        differentially_private=release.get("differentially_private"),
        k=int(meta.get("k", default_k)),
    )


def declarations(manifest: dict, default_k: int) -> tuple[list[Declaration], list[str]]:
    """Every published model's declaration, and a problem per model that has none usable."""
    nodes_by_name = {node["name"]: node for node in models(manifest)}
    found, problems = [], []
    for node in published_models(manifest):
        try:
            found.append(declaration(node, nodes_by_name, default_k))
        except DeclarationError as error:
            problems.append(str(error))
    return found, problems


def release_relation(manifest: dict, name: str) -> str:
    """The relation of one of the build's release models or seeds, by name."""
    for node in manifest["nodes"].values():
        if node["name"] == name and node["resource_type"] in ("model", "seed"):
            return relation(node)
    raise DeclarationError(f"the manifest has no model or seed {name}: build the release first")


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column -> DuckDB type of a relation given as '"schema"."table"'."""
    return {
        name: str(data_type) for name, data_type, *_ in con.execute(f"describe {table}").fetchall()
    }


def rounding_half_width(data_type: str) -> float:
    """Half a unit of the last digit a published value of this type keeps: 0 for integers and
    floating point (exact as far as the attacker knows), 0.005 for DECIMAL(p, 2)."""
    match = re.fullmatch(r"DECIMAL\(\d+,\s*(\d+)\)", data_type.upper())
    return 0.5 * 10.0 ** -int(match.group(1)) if match else 0.0


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(value)


# --------------------------------------------------------------------------------------------
# Levels of the dimension values
# --------------------------------------------------------------------------------------------


def infer_levels(hierarchy: Hierarchy, values: Iterable[str]) -> dict[str, int]:
    """The level each value of one dimension column names: the finest level every value of the
    column can stand at (a column generalized to one level, 'unknown' standing at all of them);
    when no level suits every value (levels chosen per group of rows), each value's finest level
    among those the column's single-level values use, else its own finest."""
    levels = {v: hierarchy.levels_of(v) for v in set(values) - WILDCARD_VALUES}
    if not levels:
        return {}
    common = frozenset.intersection(*levels.values())
    if common:
        chosen = min(common)
        return dict.fromkeys(levels, chosen)
    single = {next(iter(found)) for found in levels.values() if len(found) == 1}
    return {value: min(found & single or found) for value, found in levels.items()}


# --------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------


@dataclass
class TableSummary:
    """What the document holds of one published table (for the report)."""

    name: str
    rows_published: int = 0
    rows_withheld: int = 0
    magnitudes_published: int = 0
    magnitudes_withheld: int = 0
    nonlinear_rows: int = 0
    statistics: dict[str, str] = field(default_factory=dict)  # magnitude column -> mean | sum

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows_published": self.rows_published,
            "rows_withheld": self.rows_withheld,
            "magnitudes_published": self.magnitudes_published,
            "magnitudes_withheld": self.magnitudes_withheld,
            "nonlinear_rows": self.nonlinear_rows,
            "statistics": dict(self.statistics),
        }


@dataclass
class ReleaseDocument:
    """The document for attacker_exposures(), what it holds per table, and the problems met
    while reading the publication (each one a finding)."""

    document: dict[str, Any]
    tables: dict[str, TableSummary]
    problems: list[str]
    # Per table, (population, dimensions) of the counts it publishes: names the tables of a
    # cell that no row shows (a combination of values that is in none of them).
    grids: dict[str, set[tuple[str, frozenset[str]]]]


class _Builder:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        manifest: dict,
        default_k: int,
        magnitude_rule: dict | None,
    ) -> None:
        self.con = con
        self.manifest = manifest
        self.default_k = default_k
        self.magnitude_rule = dict(magnitude_rule or {})
        self.problems: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self.tables: dict[str, TableSummary] = {}
        self.grids: dict[str, set[tuple[str, frozenset[str]]]] = defaultdict(set)

    # ---- declared metadata ----------------------------------------------------------------

    def read_metadata(self) -> tuple[dict[str, list[list[str]]], list[dict[str, Any]]]:
        hierarchies: dict[str, list[list[str]]] = defaultdict(list)
        for dimension, path in self.con.execute(
            "select dimension, value_path "
            f"from {release_relation(self.manifest, HIERARCHIES_MODEL)} "
            "order by dimension, value_path"
        ).fetchall():
            hierarchies[str(dimension)].append([str(v) for v in path])
        populations = [
            {"name": str(name), "within": json.loads(containers) if containers else []}
            for name, containers in self.con.execute(
                "select population, containers from "
                f"{release_relation(self.manifest, POPULATIONS_MODEL)} order by population"
            ).fetchall()
        ]
        self.exclusive = {
            str(name): bool(exclusive)
            for name, exclusive in self.con.execute(
                "select segment_name, is_exclusive from "
                f"{release_relation(self.manifest, SEGMENTS_SEED)}"
            ).fetchall()
        }
        return dict(hierarchies), populations

    # ---- one table ------------------------------------------------------------------------

    def add_table(
        self,
        declared: Declaration,
        hierarchies: dict[str, Hierarchy],
        withheld_ids: set[str],
        withheld_measures: dict[str, set[str]],
    ) -> None:
        summary = self.tables[declared.name] = TableSummary(declared.name)
        published_types = columns_of(self.con, declared.relation)
        candidate_types = columns_of(self.con, declared.candidates_relation)
        missing = [
            f"{declared.name}.{c}" for c in _published_columns(declared) if c not in published_types
        ] + [
            f"{declared.candidates}.{c}"
            for c in _candidate_columns(declared)
            if c not in candidate_types
        ]
        if missing:
            self.problems.append(
                f"{declared.name}: declared columns missing: {', '.join(sorted(set(missing)))}"
            )
            return
        published = self._published_rows(declared)
        withheld = self._withheld_rows(declared, withheld_ids)
        extra = self._withheld_magnitude_rows(declared, withheld_measures)
        levels = self._levels(declared, hierarchies, published + withheld + extra)
        if levels is None:
            return
        statistics = self._statistics(declared, published_types)
        summary.statistics = {
            m.column: statistics[m.column] for m in declared.magnitudes if m.column in statistics
        }
        for number, values in enumerate(published):
            row = self._row(declared, values, levels, f"{declared.name}#{number}")
            linear = row["linear"]
            summary.nonlinear_rows += not linear
            count = row["counts"][0]["value"] if row["counts"] else 0
            for magnitude in declared.magnitudes if linear else ():
                entry = self._published_magnitude(
                    magnitude, statistics, published_types, values, count, row["counts"][0]
                )
                if entry is not None:
                    row["magnitudes"].append(entry)
                    summary.magnitudes_published += 1
            summary.rows_published += 1
            self.rows.append(row)
        for values in withheld:
            row = self._row(declared, values, levels, f"{declared.name}|{values[ROW_ID_COLUMN]}")
            row["released"] = False
            if row["linear"]:
                row["magnitudes"] = self._withheld_magnitudes(
                    declared, values, row["counts"][0], set(), summary
                )
            summary.rows_withheld += 1
            self.rows.append(row)
        for values in extra:
            row = self._row(
                declared, values, levels, f"{declared.name}|{values[ROW_ID_COLUMN]}|magnitudes"
            )
            row["released"] = False
            row["magnitudes"] = self._withheld_magnitudes(
                declared,
                values,
                row["counts"][0],
                withheld_measures.get(values[ROW_ID_COLUMN], set()),
                summary,
            )
            row["counts"] = []
            if row["magnitudes"] and row["linear"]:
                self.rows.append(row)

    @staticmethod
    def _select_list(declared: Declaration, source: str, columns: list[str]) -> str:
        """The key columns as text (release_rows() casts them the same way), then the other
        `columns` as they are."""
        keys = [
            f"cast({source}.{_quote(c)} as varchar) as {_quote(c)}" for c in declared.key_columns
        ]
        others = [f"{source}.{_quote(c)}" for c in columns if c not in declared.key_columns]
        return ", ".join(keys + others)

    def _fetch(self, sql: str, parameters: list | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, parameters or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def _published_rows(self, declared: Declaration) -> list[dict[str, Any]]:
        if declared.records:
            keys = ", ".join(
                f"cast(published.{_quote(c)} as varchar) as {_quote(c)}"
                for c in declared.key_columns
            )
            return self._fetch(
                f"select {keys}, count(*) as __records from {declared.relation} as published "
                "group by all order by all"
            )
        return self._fetch(
            f"select {self._select_list(declared, 'published', _published_columns(declared))} "
            f"from {declared.relation} as published order by all"
        )

    def _withheld_rows(self, declared: Declaration, withheld_ids: set[str]) -> list[dict]:
        """The candidate rows the release withheld, one per row of the document (a row-level
        table: per class), with their magnitude statistics."""
        if not withheld_ids:
            return []
        source = (
            f"{declared.candidates_relation} as candidates "
            "inner join (select unnest(cast(? as varchar[])) as row_id) as withheld "
            f"on candidates.{ROW_ID_COLUMN} = withheld.row_id"
        )
        if declared.records:
            keys = ", ".join(
                f"cast(candidates.{_quote(c)} as varchar) as {_quote(c)}"
                for c in declared.key_columns
            )
            sql = (
                f"select candidates.{ROW_ID_COLUMN}, {keys}, count(*) as __records "
                f"from {source} group by all order by all"
            )
        else:
            select = self._select_list(declared, "candidates", _candidate_columns(declared))
            sql = f"select {select} from {source} order by all"
        return self._fetch(sql, [sorted(withheld_ids)])

    def _withheld_magnitude_rows(
        self, declared: Declaration, withheld_measures: dict[str, set[str]]
    ) -> list[dict]:
        """Candidate rows of released rows with withheld magnitudes (their statistics)."""
        if not withheld_measures or not declared.magnitudes or declared.records:
            return []
        return [
            row
            for row in self._withheld_rows(declared, set(withheld_measures))
            if row[ROW_ID_COLUMN] in withheld_measures
        ]

    def _levels(
        self,
        declared: Declaration,
        hierarchies: dict[str, Hierarchy],
        rows: list[dict[str, Any]],
    ) -> dict[str, dict[str, int]] | None:
        """Per dimension column, value -> level; None (and a problem) when a value or a
        dimension is not in the declared hierarchies."""
        levels: dict[str, dict[str, int]] = {}
        ok = True
        for count in declared.counts:
            for column, dimension in count.dimensions:
                if column in levels:
                    continue
                hierarchy = hierarchies.get(dimension)
                if hierarchy is None:
                    self.problems.append(
                        f"{declared.name}.{column}: dimension {dimension} has no hierarchy in "
                        f"{HIERARCHIES_MODEL}"
                    )
                    ok = False
                    continue
                values = {
                    str(row[column])
                    for row in rows
                    if row.get(column) is not None
                    and not (
                        column == count.segment_population and not self._is_exclusive(row[column])
                    )
                }
                unknown = {v for v in values - WILDCARD_VALUES if not _in(hierarchy, v)}
                if unknown:
                    self.problems.append(
                        f"{declared.name}.{column}: {len(unknown)} distinct values are not in "
                        f"the hierarchy of {dimension} ({HIERARCHIES_MODEL})"
                    )
                    ok = False
                    continue
                levels[column] = infer_levels(hierarchy, values)
        return levels if ok else None

    def _is_exclusive(self, segment: Any) -> bool:
        return bool(self.exclusive.get(str(segment), False))

    def _row(
        self,
        declared: Declaration,
        values: dict[str, Any],
        levels: dict[str, dict[str, int]],
        row_id: str,
    ) -> dict[str, Any]:
        counts = []
        for count in declared.counts:
            key: dict[str, str] = {}
            row_levels: dict[str, int] = {}
            segment = values.get(count.segment_population) if count.segment_population else None
            exclusive = self._is_exclusive(segment)
            for column, dimension in count.dimensions:
                value = values.get(column)
                if column == count.segment_population and not exclusive:
                    value = "all"
                text = "all" if value is None else str(value)
                key[dimension] = text
                if text not in WILDCARD_VALUES:
                    row_levels[dimension] = levels[column][text]
            if count.segment_population and not exclusive:
                population = f"segment:{segment}"
            elif count.population_key:
                population = f"{count.population}:{values.get(count.population_key)}"
            else:
                population = count.population
            value = values["__records"] if count.column is None else values.get(count.column)
            entry: dict[str, Any] = {
                "population": population,
                "key": key,
                "levels": row_levels,
                "value": float(value or 0),
            }
            if count.within:
                entry["within"] = count.within
            counts.append(entry)
            self.grids[declared.name].add(
                (population, frozenset(d for d, v in key.items() if v not in WILDCARD_VALUES))
            )
        private = declared.differentially_private
        linear = not (private and bool(values.get(private)))
        return {
            "id": row_id,
            "table": declared.name,
            "weight": counts[0]["value"] if counts else 0.0,
            "primary": None,
            "released": True,
            "linear": linear,
            "counts": counts,
            "magnitudes": [],
        }

    def _published_magnitude(
        self,
        magnitude: MagnitudeSpec,
        statistics: dict[str, str],
        types: dict[str, str],
        values: dict[str, Any],
        count: float,
        first_count: dict[str, Any],
    ) -> dict[str, Any] | None:
        """The sum the attacker reads from a published magnitude: exact, or an interval when the
        value is rounded; a cell of nobody sums to 0. None when it is not published."""
        statistic = statistics.get(magnitude.column)
        if not magnitude.linear or statistic is None:
            return None
        value = _number(values.get(magnitude.column))
        if count == 0:
            low = high = 0.0
        elif value is None:
            return None
        else:
            half = rounding_half_width(types[magnitude.column])
            scale = count if statistic == "mean" else 1.0
            low, high = max(0.0, scale * (value - half)), scale * (value + half)
        return {
            "measure": magnitude.measure,
            "population": first_count["population"],
            "key": first_count["key"],
            "levels": first_count["levels"],
            "sum": (low + high) / 2,
            "low": low,
            "high": high,
            "primary": None,
            "released": True,
            "linear": True,
        }

    def _withheld_magnitudes(
        self,
        declared: Declaration,
        values: dict[str, Any],
        first_count: dict[str, Any],
        only: set[str],
        summary: TableSummary,
    ) -> list[dict[str, Any]]:
        """Withheld linear magnitudes with their true statistics (released: false); the engine
        recomputes their primary reason from them with the declared rule. Sums of 0 are left
        out (nothing to estimate)."""
        raw = values.get(STATISTICS_COLUMN)
        statistics = json.loads(raw) if raw else {}
        entries = []
        for magnitude in declared.magnitudes:
            if not magnitude.linear or (only and magnitude.measure not in only):
                continue
            stats = statistics.get(magnitude.measure)
            # A withheld sum of 0 cannot be estimated too closely: the p% requirement is an
            # interval of width 0 around it, and every estimate is at least 0.
            if not isinstance(stats, dict) or not stats.get("sum"):
                continue
            entries.append(
                {
                    "measure": magnitude.measure,
                    "population": first_count["population"],
                    "key": first_count["key"],
                    "levels": first_count["levels"],
                    "sum": float(stats["sum"]),
                    "contributors": stats.get("contributors"),
                    "top1": stats.get("top1"),
                    "top2": stats.get("top2"),
                    "rule": declared.rule_of(magnitude, self.magnitude_rule),
                    "released": False,
                    "linear": True,
                }
            )
            summary.magnitudes_withheld += 1
        return entries

    # ---- how a published magnitude relates to its measure ----------------------------------

    def _statistics(self, declared: Declaration, types: dict[str, str]) -> dict[str, str]:
        """Per linear magnitude column, 'mean' or 'sum': as declared, else told from the
        candidates (the published value must be the candidate's sum, or its sum over the row's
        first count, up to rounding); a column that is neither is a problem, and takes no part."""
        found: dict[str, str] = {}
        undeclared = [m for m in declared.magnitudes if m.linear and m.statistic is None]
        for magnitude in declared.magnitudes:
            if magnitude.linear and magnitude.statistic:
                found[magnitude.column] = magnitude.statistic
        if not undeclared:
            return found
        joined = joined_with_candidates(self.con, declared, [m.column for m in undeclared])
        first = declared.counts[0].column
        for magnitude in undeclared:
            half = rounding_half_width(types[magnitude.column])
            fits = {"mean": 0, "sum": 0}
            compared = nonzero = 0
            for row in joined:
                if row["__linear"] is False:
                    continue  # noisy: neither, and no equation for the attacker anyway
                value = _number(row[magnitude.column])
                nonzero += bool(value)
                if row.get(STATISTICS_COLUMN) is None:
                    continue
                count = _number(row[first]) or 0.0
                stats = json.loads(row[STATISTICS_COLUMN]).get(magnitude.measure) or {}
                total = _number(stats.get("sum"))
                if value is None or total is None or count <= 0 or total == 0:
                    continue
                compared += 1
                slack = TOLERANCE * max(1.0, abs(total))
                fits["mean"] += abs(value * count - total) <= count * half + slack
                fits["sum"] += abs(value - total) <= half + slack
            if not compared and not nonzero:
                # Every exact published value is 0 (or none is published): 0 either way.
                found[magnitude.column] = "sum"
                continue
            best = max(fits, key=lambda s: fits[s])
            if not compared or fits[best] == 0 or fits["mean"] == fits["sum"]:
                self.problems.append(
                    f"{declared.name}.{magnitude.column}: the published values are neither the "
                    f"sum of {magnitude.measure} nor its mean over {first} in the candidates "
                    "(declare its statistic: mean or sum)"
                )
                continue
            found[magnitude.column] = best
            if fits[best] < compared:
                self.problems.append(
                    f"{declared.name}.{magnitude.column}: {compared - fits[best]} of {compared} "
                    f"published values are not the {best} of {magnitude.measure} over {first} "
                    "that the candidates hold"
                )
        return found


def _published_columns(declared: Declaration) -> list[str]:
    """What the document reads of a published model: key columns, counts, linear magnitudes
    and the differential privacy flag."""
    columns = list(declared.key_columns)
    columns += [c.column for c in declared.counts if c.column]
    columns += [m.column for m in declared.magnitudes if m.linear]
    if declared.differentially_private:
        columns.append(declared.differentially_private)
    return list(dict.fromkeys(columns))


def _candidate_columns(declared: Declaration) -> list[str]:
    """What the document reads of the candidates (as release_rows() does): key columns, counts,
    the differential privacy flag, the row's identity and the magnitude statistics."""
    columns = list(declared.key_columns)
    columns += [c.column for c in declared.counts if c.column]
    if declared.differentially_private:
        columns.append(declared.differentially_private)
    columns.append(ROW_ID_COLUMN)
    if declared.magnitudes:
        columns.append(STATISTICS_COLUMN)
    return list(dict.fromkeys(columns))


def _in(hierarchy: Hierarchy, value: str) -> bool:
    try:
        hierarchy.levels_of(value)
    except ValueError:
        return False
    return True


def joined_with_candidates(
    con: duckdb.DuckDBPyConnection, declared: Declaration, columns: list[str]
) -> list[dict[str, Any]]:
    """Every published row of an aggregated table with `columns`, its first count, its
    derived columns, whether it is an exact (linear) row, and its candidate row's
    magnitude_statistics (NULL when no candidate matches): matched on the key columns, and
    cell_level when the candidates have one (as the dbt test magnitude_protected does)."""
    candidate_columns = columns_of(con, declared.candidates_relation)
    published_columns = columns_of(con, declared.relation)
    join_columns = list(declared.key_columns)
    if "cell_level" in candidate_columns and "cell_level" in published_columns:
        join_columns.append("cell_level")
    wanted = list(
        dict.fromkeys(
            [
                *columns,
                declared.counts[0].column,
                *(d for m in declared.magnitudes if m.column in columns for d in m.derived),
            ]
        )
    )
    private = declared.differentially_private
    linear = (
        f"not coalesce(cast(published.{_quote(private)} as boolean), false)" if private else "true"
    )
    condition = " and ".join(
        f"published.{_quote(c)} is not distinct from candidates.{_quote(c)}" for c in join_columns
    )
    cursor = con.execute(
        f"select {', '.join(f'published.{_quote(c)}' for c in wanted)}, {linear} as __linear, "
        f"candidates.{STATISTICS_COLUMN} "
        f"from {declared.relation} as published "
        f"left join {declared.candidates_relation} as candidates on {condition}"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def build_document(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    default_k: int,
    magnitude_rule: dict | None,
) -> ReleaseDocument:
    """The release document of what the warehouse's published models hold (see the module)."""
    builder = _Builder(con, manifest, default_k, magnitude_rule)
    found, problems = declarations(manifest, default_k)
    builder.problems.extend(problems)
    raw_hierarchies, populations = builder.read_metadata()
    hierarchies = parse_hierarchies(raw_hierarchies)
    withheld_rows: dict[str, set[str]] = defaultdict(set)
    withheld_measures: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for table, row_id, measure in con.execute(
        f"select table_name, row_id, measure from {release_relation(manifest, DECISIONS_MODEL)} "
        "where is_withheld"
    ).fetchall():
        if measure is None:
            withheld_rows[table].add(row_id)
        else:
            withheld_measures[table][row_id].add(measure)
    for declared in found:
        builder.add_table(
            declared,
            hierarchies,
            withheld_rows.get(declared.name, set()),
            withheld_measures.get(declared.name, {}),
        )
    _intersect_magnitude_intervals(builder.rows)
    k = max([d.k for d in found], default=default_k)
    document = {
        "k": k,
        "magnitude_rule": builder.magnitude_rule,
        "hierarchies": raw_hierarchies,
        "populations": populations,
        "rows": builder.rows,
    }
    return ReleaseDocument(document, builder.tables, builder.problems, dict(builder.grids))


def _intersect_magnitude_intervals(rows: list[dict[str, Any]]) -> None:
    """A sum published by two tables (the same measure of the same cell) is known to within the
    narrower of their intervals; the engine reads one, so give each the intersection."""
    seen: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if not row.get("released", True):
            continue
        for magnitude in row["magnitudes"]:
            key = {k: v for k, v in magnitude["key"].items() if v not in WILDCARD_VALUES}
            seen[
                (magnitude["measure"], magnitude["population"], tuple(sorted(key.items())))
            ].append(magnitude)
    for entries in seen.values():
        if len(entries) < 2:
            continue
        low = max(m["low"] for m in entries)
        high = min(m["high"] for m in entries)
        if low <= high + TOLERANCE:
            for magnitude in entries:
                magnitude["low"], magnitude["high"] = low, max(low, high)
                magnitude["sum"] = (magnitude["low"] + magnitude["high"]) / 2
