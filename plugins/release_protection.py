"""Release-level disclosure control: decide what to withhold so that an attacker holding every
published table at once, and the raw demographics of a target, can narrow no withheld cell or
sensitive sum, and check a publication for what such an attacker finds.

- protect_release(document): rows with a primary reason (a class or cell below k, a class not
  diverse enough) are withheld; then, while some cell is exposed (release_bounds.py), the
  released count that pins it (a binding constraint of the attacker's optimum, read from the
  dual values) whose withholding costs the fewest records is withheld too ("secondary"), and the
  model is solved again. Withholding only removes equations, so intervals only widen: the loop
  ends, and a cell found safe stays safe. Then magnitudes (sums and means, e.g. revenue): one
  with fewer than the minimum contributors, or dominated by its largest contributors (the p%
  rule, or (n, k)-dominance), is withheld, and so is every further released magnitude that lets
  the attacker estimate a withheld sensitive sum to within p% of itself.
- attacker_exposures(document): every cell and sensitive magnitude of a release that the
  attacker can narrow too far; the privacy audit builds the document from the publication.
- magnitude_primary(...): the minimum-contributor and dominance rules for one magnitude cell.

The dbt plugin registers protect_release() as the DuckDB function
release_protection(document VARCHAR) -> VARCHAR (JSON in, decisions JSON out); the Spark launcher
registers the same function in its session (scripts/privseg/spark/functions.py).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from release_bounds import (
    Bounded,
    Components,
    Solver,
    Target,
    bound_counts,
    bound_magnitudes,
    difference,
)
from release_model import (
    WILDCARD_VALUES,
    AttackerModel,
    CellKey,
    Hierarchy,
    ReleaseModelError,
    Within,
    cell_key,
    describe,
    dimension_map,
    parse_hierarchies,
)

FUNCTION_NAME = "release_protection"

__all__ = [
    "FUNCTION_NAME",
    "WILDCARD_VALUES",
    "ReleaseModelError",
    "attacker_exposures",
    "magnitude_primary",
    "protect_release",
    "register_functions",
]

# --------------------------------------------------------------------------------------------
# The release document
# --------------------------------------------------------------------------------------------


@dataclass
class _Count:
    cell: CellKey
    value: float
    low: float
    high: float
    levels: tuple[tuple[str, int], ...] = ()


@dataclass
class _Magnitude:
    measure: str
    cell: CellKey
    total: float
    low: float
    high: float
    contributors: int | None
    top1: float | None
    top2: float | None
    primary: str | None
    levels: tuple[tuple[str, int], ...] = ()
    released: bool = True
    rule: dict[str, Any] | None = None
    # False for a mean over a count that is not published (the attacker cannot turn it into
    # a sum): its own rules apply, but it takes no part in differencing.
    linear: bool = True


@dataclass
class _Row:
    id: str
    table: str
    weight: float
    primary: str | None
    counts: list[_Count]
    magnitudes: list[_Magnitude]
    released: bool = True
    # False for a row whose counts are not exact (differentially private noise protects it):
    # the attacker cannot use it as an equation, and only its primary reason withholds it.
    linear: bool = True


def _withins(raw: Any) -> list[Within]:
    """The containers a population declares: none, one ({...}) or several ([{...}, ...])."""
    if not raw:
        return []
    entries = raw if isinstance(raw, list) else [raw]
    for entry in entries:
        if not isinstance(entry, dict) or "population" not in entry:
            raise ReleaseModelError(
                f"a population's container must be an object with a population, got {entry!r}"
            )
    return [
        Within(
            str(entry["population"]),
            tuple(sorted((str(i), str(o)) for i, o in dimension_map(entry).items())),
            tuple(sorted((str(d), str(v)) for d, v in (entry.get("fixed") or {}).items())),
            tuple(
                sorted(
                    (str(d), str(v))
                    for d, values in (entry.get("except") or {}).items()
                    for v in values
                )
            ),
        )
        for entry in entries
    ]


@dataclass
class Release:
    k: int
    p_percent: float
    hierarchies: dict[str, Hierarchy]
    populations: dict[str, tuple[Within, ...]]
    rows: list[_Row]

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Release:
        try:
            k = int(document["k"])
        except (KeyError, TypeError, ValueError) as error:
            raise ReleaseModelError("the release document needs an integer k") from error
        if k < 2:
            raise ReleaseModelError(f"k must be at least 2, got {k}")
        hierarchies = parse_hierarchies(document.get("hierarchies", {}))
        populations: dict[str, list[Within]] = {}
        for entry in document.get("populations", []):
            populations.setdefault(str(entry["name"]), []).extend(_withins(entry.get("within")))
        rows = []
        for raw in document.get("rows", []):
            counts = []
            for count in raw.get("counts", []):
                population = str(count["population"])
                known = populations.setdefault(population, [])
                for within in _withins(count.get("within")):
                    if within not in known:
                        known.append(within)
                value = float(count["value"])
                cell = cell_key(population, count.get("key", {}))
                declared = {str(d): int(v) for d, v in (count.get("levels") or {}).items()}
                counts.append(
                    _Count(
                        cell,
                        value,
                        float(count.get("low", value)),
                        float(count.get("high", value)),
                        tuple(sorted((d, declared[d]) for d, _ in cell[1] if d in declared)),
                    )
                )
            magnitudes = []
            for magnitude in raw.get("magnitudes", []):
                population = str(magnitude["population"])
                populations.setdefault(population, [])
                total = float(magnitude["sum"]) if magnitude.get("sum") is not None else math.nan
                if "primary" in magnitude:
                    primary = magnitude["primary"]
                else:  # the rules decide, from the statistics given
                    primary = magnitude_primary(
                        magnitude.get("contributors"),
                        total,
                        magnitude.get("top1"),
                        magnitude.get("top2"),
                        k,
                        magnitude.get("rule") or document.get("magnitude_rule"),
                    )
                cell = cell_key(population, magnitude.get("key", {}))
                declared = {str(d): int(v) for d, v in (magnitude.get("levels") or {}).items()}
                magnitudes.append(
                    _Magnitude(
                        str(magnitude["measure"]),
                        cell,
                        total,
                        float(magnitude.get("low", total)),
                        float(magnitude.get("high", total)),
                        magnitude.get("contributors"),
                        magnitude.get("top1"),
                        magnitude.get("top2"),
                        primary,
                        tuple(sorted((d, declared[d]) for d, _ in cell[1] if d in declared)),
                        bool(magnitude.get("released", True)),
                        magnitude.get("rule") or document.get("magnitude_rule"),
                        bool(magnitude.get("linear", True)),
                    )
                )
            rows.append(
                _Row(
                    str(raw["id"]),
                    str(raw.get("table", "")),
                    float(raw.get("weight", counts[0].value if counts else 0.0)),
                    raw.get("primary"),
                    counts,
                    magnitudes,
                    bool(raw.get("released", True)),
                    bool(raw.get("linear", True)),
                )
            )
        ids = [row.id for row in rows]
        if len(ids) != len(set(ids)):
            raise ReleaseModelError("row ids of the release document must be unique")
        p_percent = float((document.get("magnitude_rule") or {}).get("p", 10.0))
        frozen = {name: tuple(withins) for name, withins in populations.items()}
        return cls(k, p_percent, hierarchies, frozen, rows)

    # ---- structure -------------------------------------------------------------------------

    def _signature(
        self, cell: CellKey, levels: tuple[tuple[str, int], ...] = ()
    ) -> frozenset[tuple[str, int]]:
        _, items = cell
        declared = dict(levels)
        for dim, _ in items:
            if dim not in self.hierarchies:
                raise ReleaseModelError(f"cell {describe(cell)}: unknown dimension {dim!r}")
        return frozenset(
            (d, declared[d] if d in declared else self.hierarchies[d].level_of(v)) for d, v in items
        )

    def counted(self) -> list[tuple[CellKey, tuple[tuple[str, int], ...]]]:
        return sorted({(c.cell, c.levels) for row in self.rows if row.linear for c in row.counts})

    def grids(
        self, cells: Iterable[tuple[CellKey, tuple[tuple[str, int], ...]]]
    ) -> dict[tuple[str, frozenset], list[CellKey]]:
        """Every cell of every (population, dimensions at levels) that some row publishes."""
        grids: dict[tuple[str, frozenset], list[CellKey]] = {}
        for cell, levels in cells:
            population = cell[0]
            signature = self._signature(cell, levels)
            if (population, signature) in grids:
                continue
            dims = sorted(signature)
            domains = [self.hierarchies[d].domain(level) for d, level in dims]
            grids[(population, signature)] = [
                (population, tuple(zip([d for d, _ in dims], values, strict=True)))
                for values in itertools.product(*domains)
            ]
        return grids

    def model(self, cells: Iterable[tuple[CellKey, tuple[tuple[str, int], ...]]]) -> AttackerModel:
        signatures: dict[str, set[frozenset[tuple[str, int]]]] = defaultdict(set)
        for cell, levels in cells:
            signatures[cell[0]].add(self._signature(cell, levels))
        for population in self.populations:
            signatures.setdefault(population, set())
        return AttackerModel.build(self.hierarchies, dict(self.populations), signatures)


# --------------------------------------------------------------------------------------------
# Exposure
# --------------------------------------------------------------------------------------------


@dataclass
class Exposure:
    kind: str  # 'cell' (an unreleased count), 'remainder' (container minus contained), 'magnitude'
    cell: str
    tables: list[str]
    low: float
    high: float
    required: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "cell": self.cell,
            "tables": self.tables,
            "low": self.low,
            "high": self.high,
            "required": self.required,
        }


class _CountAnalysis:
    """The attacker's view of the released counts: which cells they can narrow below k."""

    def __init__(self, release: Release) -> None:
        """The model of every count any row publishes; which are released is set apart
        (set_released()), so that one model serves every round of secondary suppression."""
        self.release = release
        self.tables_of: dict[CellKey, set[str]] = defaultdict(set)
        for row in release.rows:
            for count in row.counts:
                self.tables_of[count.cell].add(row.table)
        counted = release.counted()
        self.model = release.model(counted)
        self.grids = release.grids(counted)
        self.released: dict[CellKey, _Count] = {}
        self.cells: list[CellKey] = []
        self.released_rows: list[tuple[dict[int, float], float, float]] = []

    def set_released(self, released_rows: set[str]) -> _CountAnalysis:
        """Take the counts of `released_rows` as what the attacker reads."""
        self.released = {}
        for row in self.release.rows:
            if row.id not in released_rows or not row.linear:
                continue
            for count in row.counts:
                known = self.released.get(count.cell)
                if known is not None and (known.low, known.high) != (count.low, count.high):
                    raise ReleaseModelError(
                        f"cell {describe(count.cell)} is published with two different values "
                        f"(tables {', '.join(sorted(self.tables_of[count.cell]))})"
                    )
                self.released[count.cell] = count
        self.cells = sorted(self.released)
        self.released_rows = [
            (self.model.expression(c), self.released[c].low, self.released[c].high)
            for c in self.cells
        ]
        return self

    def components(self, targets: list[tuple[str, CellKey, Target]]) -> Components:
        return Components(self.model, self.released_rows, [t for _, _, t in targets])

    def targets(self) -> list[tuple[str, CellKey, Target]]:
        """Every cell of every published grid that no released row shows, and the remainder of
        every released count of a contained population in its container."""
        targets = []
        for _, grid in sorted(self.grids.items(), key=lambda item: repr(item[0])):
            for cell in grid:
                if cell not in self.released:
                    targets.append(("cell", cell, Target(self.model.expression(cell))))
        contained = [
            (released, within)
            for released in self.cells
            for within in self.release.populations.get(released[0], ())
        ]
        for cell, within in contained:
            items = dict(cell[1])
            if not set(items) <= set(within.inner):
                continue
            outer_key = within.outer_key(items)
            if not within.covers(items) or not self.model.in_domain(within.population, outer_key):
                continue
            outer_cell = cell_key(within.population, outer_key)
            inner = self.model.expression(cell)
            container = self.released.get(outer_cell)
            if container is not None and container.low == container.high:
                # The container is published: the remainder is that number minus the cell.
                negative = {i: -c for i, c in inner.items()}
                targets.append(("remainder", cell, Target(negative, container.value)))
            else:
                outer = self.model.expression(outer_cell)
                targets.append(("remainder", cell, Target(difference(outer, inner))))
        return targets

    def exposure(self, kind: str, cell: CellKey, bounded: Bounded) -> Exposure:
        what = describe(cell) if kind == "cell" else f"{describe(cell)}: remainder in its container"
        return Exposure(
            kind,
            what,
            sorted(self.tables_of.get(cell, ())),
            round(bounded.low, 6),
            round(bounded.high, 6),
            f"0, at least {self.release.k}, or an interval at least {self.release.k} wide",
        )


def attacker_exposures(document: dict[str, Any]) -> dict[str, Any]:
    """Every count and magnitude of `document` the attacker can narrow too far. The audit builds
    the document from the publication; rows and magnitudes marked released: false are what it
    knows was withheld (for the names in findings, and the true sums of sensitive magnitudes,
    which the p% requirement is measured against)."""
    release = Release.from_document(document)
    released = {row.id for row in release.rows if row.released}
    analysis = _CountAnalysis(release).set_released(released)
    targets = analysis.targets()
    exposures = [
        analysis.exposure(kind, cell, bounded).as_dict()
        for (kind, cell, _), bounded in zip(
            targets, bound_counts(analysis.components(targets), release.k), strict=True
        )
        if bounded is not None
    ]
    magnitude_exposures, magnitude_targets = _magnitude_exposures(release, released, {})
    magnitude_exposures += _magnitude_remainders(release, released, {})
    return {
        "k": release.k,
        "count_targets": len(targets),
        "magnitude_targets": magnitude_targets,
        "variables": analysis.model.variables,
        "released_counts": len(analysis.cells),
        "exposures": exposures + [e.as_dict() for e, _ in magnitude_exposures],
    }


# --------------------------------------------------------------------------------------------
# Magnitudes
# --------------------------------------------------------------------------------------------


def magnitude_primary(
    contributors: int | None,
    total: float,
    top1: float | None,
    top2: float | None,
    k: int,
    rule: dict[str, Any] | None = None,
) -> str | None:
    """Why a magnitude cell may not be published on its own, or None: fewer contributors than
    the minimum (k unless set), or dominance by the p% rule (default) or (n, k)-dominance."""
    rule = rule or {}
    minimum = int(rule.get("min_contributors", k))
    if contributors is None or contributors < minimum:
        return "magnitude_few_contributors"
    if top1 is None or total <= 0:
        return None
    kind = rule.get("dominance", "p_percent")
    if kind == "p_percent":
        p = float(rule.get("p", 10.0)) / 100.0
        # The second largest contributor subtracts their own value from the total and learns
        # the largest one to within what the others add: that must be at least p% of it.
        if total - top1 - (top2 or 0.0) < p * top1:
            return "magnitude_dominated"
    elif kind == "nk":
        n = int(rule.get("n", 2))
        share = float(rule.get("k_percent", 85.0)) / 100.0
        if sum([top1, top2 or 0.0][:n]) > share * total:
            return "magnitude_dominated"
    else:
        raise ReleaseModelError(f"unknown dominance rule {kind!r}: use p_percent or nk")
    return None


def _magnitude_exposures(
    release: Release,
    released_rows: set[str],
    withheld: dict[tuple[str, str], str],
    safe: set[tuple[str, CellKey]] | None = None,
) -> tuple[list[tuple[Exposure, list[tuple[str, CellKey]]]], int]:
    """Sensitive magnitude cells (with a primary reason) that the released sums let the
    attacker estimate to within p% of their true value, each with the released (measure, cell)
    pairs that pin it. Cells in `safe` are skipped, and the ones proven safe are added to it:
    withholding more only widens what the attacker can say, so a safe cell stays safe."""
    exposures: list[tuple[Exposure, list[tuple[str, CellKey]]]] = []
    checked = 0
    p = release.p_percent / 100.0
    safe = set() if safe is None else safe
    by_measure: dict[str, list[tuple[_Row, _Magnitude]]] = defaultdict(list)
    for row in release.rows:
        for magnitude in row.magnitudes:
            if magnitude.linear and row.linear:
                by_measure[magnitude.measure].append((row, magnitude))
    for measure in sorted(by_measure):
        entries = by_measure[measure]
        released: dict[CellKey, _Magnitude] = {}
        tables_of: dict[CellKey, set[str]] = defaultdict(set)
        for row, magnitude in entries:
            tables_of[magnitude.cell].add(row.table)
            if (
                row.id in released_rows
                and magnitude.released
                and (row.id, measure) not in withheld
                and not math.isnan(magnitude.low)
            ):
                released[magnitude.cell] = magnitude
        sensitive = {
            magnitude.cell: magnitude
            for _, magnitude in entries
            if magnitude.cell not in released
            and magnitude.primary is not None
            and (measure, magnitude.cell) not in safe
        }
        if not sensitive:
            continue
        model = release.model({(m.cell, m.levels) for _, m in entries})
        ordered = sorted(released)
        cells = sorted(sensitive)
        components = Components(
            model,
            [(model.expression(c), released[c].low, released[c].high) for c in ordered],
            [Target(model.expression(c)) for c in cells],
            integral=False,
        )
        totals = np.array([sensitive[cell].total for cell in cells], dtype=float)
        for t, bounded in enumerate(
            bound_magnitudes(components, totals * (1 + p), totals * (1 - p))
        ):
            cell = cells[t]
            checked += 1
            if bounded is None:
                safe.add((measure, cell))
                continue
            exposures.append(
                (
                    Exposure(
                        "magnitude",
                        f"{measure} of {describe(cell)}",
                        sorted(tables_of[cell]),
                        round(bounded.low, 2),
                        round(bounded.high, 2),
                        f"at least {release.p_percent:g}% either side of the true sum",
                    ),
                    [(measure, ordered[i]) for i in bounded.binding],
                )
            )
    return exposures, checked


# --------------------------------------------------------------------------------------------
# Secondary suppression
# --------------------------------------------------------------------------------------------


def protect_release(document: dict[str, Any]) -> dict[str, Any]:
    """Decide which rows, and which magnitudes of released rows, to withhold so that nothing of
    the release is exposed. Rows with a primary reason are withheld; each further one is the
    released count pinning an exposed cell whose withholding loses the fewest records."""
    release = Release.from_document(document)
    reasons: dict[str, str] = {row.id: row.primary for row in release.rows if row.primary}
    rows_by_cell: dict[CellKey, list[_Row]] = defaultdict(list)
    truth: dict[CellKey, float] = {}
    for row in release.rows:
        for count in row.counts if row.linear else ():
            rows_by_cell[count.cell].append(row)
            truth[count.cell] = count.value
    safe: set[tuple[str, CellKey]] = set()
    rounds = 0
    analysis = _CountAnalysis(release)
    truth_point = _truth_point(analysis, truth)
    while True:
        rounds += 1
        released = {row.id for row in release.rows} - set(reasons)
        analysis.set_released(released)
        pending = [t for t in analysis.targets() if (t[0], t[1]) not in safe]
        bounded = bound_counts(analysis.components(pending), release.k, truth=truth_point)
        fixes: set[CellKey] = set()
        for (kind, cell, _), result in zip(pending, bounded, strict=True):
            if result is None:
                safe.add((kind, cell))
                continue
            candidates = [analysis.cells[i] for i in result.binding]
            if kind == "remainder":
                candidates.append(cell)
            if not candidates:
                raise ReleaseModelError(
                    f"cell {describe(cell)} is exposed and no released count pins it: the "
                    "declared structure is inconsistent"
                )
            # The least loss: the candidate whose released rows hold the fewest records.
            fixes.add(
                min(
                    candidates,
                    key=lambda c, kept=released: (
                        sum(r.weight for r in rows_by_cell[c] if r.id in kept),
                        repr(c),
                    ),
                )
            )
        if not fixes:
            break
        for choice in sorted(fixes, key=repr):
            for row in rows_by_cell[choice]:
                reasons.setdefault(row.id, "secondary")
    released = {row.id for row in release.rows} - set(reasons)
    magnitude_reasons = _protect_magnitudes(release, released)
    return {
        "rows": [
            {"id": row.id, "withheld": row.id in reasons, "reason": reasons.get(row.id)}
            for row in release.rows
        ],
        "magnitudes": [
            {"id": row_id, "measure": measure, "reason": reason}
            for (row_id, measure), reason in sorted(magnitude_reasons.items())
        ],
        "rounds": rounds,
    }


def _truth_point(analysis: _CountAnalysis, truth: dict[CellKey, float]) -> np.ndarray | None:
    """A feasible point from the true counts, when they determine one: the attacker's model
    is solved for the true values of every known cell (withheld ones included). Any feasible
    point will do; it only spares linear programs."""
    rows = [(analysis.model.expression(cell), value, value) for cell, value in truth.items()]
    rows += [
        (difference(outer, inner), 0.0, highspy.kHighsInf)
        for outer, inner in analysis.model.containment_rows
    ]
    solver = Solver(analysis.model.variables, analysis.model.structural_rows, rows)
    try:
        _, x, _ = solver.optimize({}, 1.0)
    except ReleaseModelError:
        return None
    return x


def _magnitude_remainders(
    release: Release,
    released_rows: set[str],
    withheld: dict[tuple[str, str], str],
) -> list[tuple[Exposure, list[tuple[str, CellKey]]]]:
    """Released sums whose withheld parts the attacker gets by subtraction: for every released
    magnitude cell and every table of finer cells under it (the same population and measure,
    its dimensions and more, or finer levels), the cells of that table not released add up to
    the released sum minus the released ones. That remainder must pass the magnitude rules as
    one sum (minimum contributors, dominance), or be 0. Each failure comes with the released
    finer cells (to withhold the one with the fewest contributors) or, when none is left, the
    released sum itself."""
    problems: list[tuple[Exposure, list[tuple[str, CellKey]]]] = []
    by_measure: dict[str, dict[CellKey, list[tuple[_Row, _Magnitude]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in release.rows:
        if not row.linear:
            continue
        for magnitude in row.magnitudes:
            if magnitude.linear:
                by_measure[magnitude.measure][magnitude.cell].append((row, magnitude))
    for measure in sorted(by_measure):
        cells = by_measure[measure]

        def is_released(entries: list[tuple[_Row, _Magnitude]], measure: str = measure) -> bool:
            return any(
                row.id in released_rows and magnitude.released and (row.id, measure) not in withheld
                for row, magnitude in entries
            )

        signature = {
            cell: release._signature(cell, entries[0][1].levels) for cell, entries in cells.items()
        }
        for total in sorted(c for c, entries in cells.items() if is_released(entries)):
            total_levels = dict(signature[total])
            finer: dict[frozenset, list[CellKey]] = defaultdict(list)
            for cell in cells:
                if cell[0] != total[0] or cell == total:
                    continue
                levels = dict(signature[cell])
                if not set(total_levels) <= set(levels) or any(
                    levels[d] > total_levels[d] for d in total_levels
                ):
                    continue
                if signature[cell] == signature[total]:
                    continue
                key = dict(cell[1])
                if all(
                    release.hierarchies[d].rollup(levels[d], total_levels[d])[key[d]] == v
                    for d, v in total[1]
                ):
                    finer[signature[cell]].append(cell)
            for group in finer.values():
                hidden = [c for c in group if not is_released(cells[c])]
                statistics = [m for c in hidden for _, m in cells[c][:1]]
                total_sum = sum(m.total for m in statistics if not math.isnan(m.total))
                if not hidden or total_sum <= 0:
                    continue
                tops = sorted(
                    [m.top1 or 0.0 for m in statistics] + [m.top2 or 0.0 for m in statistics],
                    reverse=True,
                )
                reason = magnitude_primary(
                    sum(m.contributors or 0 for m in statistics),
                    total_sum,
                    tops[0],
                    tops[1] if len(tops) > 1 else 0.0,
                    release.k,
                    statistics[0].rule if statistics else None,
                )
                if reason is None:
                    continue
                candidates = [(measure, c) for c in group if c not in hidden] or [(measure, total)]
                problems.append(
                    (
                        Exposure(
                            "magnitude_remainder",
                            f"{measure} of {describe(total)} minus its released parts "
                            f"({len(hidden)} withheld)",
                            sorted({r.table for c in hidden for r, _ in cells[c]}),
                            round(total_sum, 2),
                            round(total_sum, 2),
                            "a remainder of 0, or one that passes the magnitude rules "
                            f"({reason.replace('magnitude_', '').replace('_', ' ')})",
                        ),
                        candidates,
                    )
                )
    return problems


def _protect_magnitudes(release: Release, released: set[str]) -> dict[tuple[str, str], str]:
    """(row id, measure) -> why that magnitude of a released row is withheld."""
    withheld: dict[tuple[str, str], str] = {}
    rows_by_magnitude: dict[tuple[str, CellKey], list[tuple[_Row, _Magnitude]]] = defaultdict(list)
    for row in release.rows:
        for magnitude in row.magnitudes:
            rows_by_magnitude[(magnitude.measure, magnitude.cell)].append((row, magnitude))
            if row.id in released and magnitude.primary:
                withheld[(row.id, magnitude.measure)] = magnitude.primary
    safe: set[tuple[str, CellKey]] = set()
    while True:
        exposures, _ = _magnitude_exposures(release, released, withheld, safe)
        exposures += _magnitude_remainders(release, released, withheld)
        if not exposures:
            return withheld
        for exposure, binding in exposures:
            if not binding:
                raise ReleaseModelError(
                    f"{exposure.cell} is exposed and no released magnitude pins it: the declared "
                    "structure is inconsistent"
                )
            # The least loss: the released magnitude summing the fewest contributors.
            choice = min(
                binding,
                key=lambda c: (
                    sum(m.contributors or 0 for r, m in rows_by_magnitude[c] if r.id in released),
                    repr(c),
                ),
            )
            for row, magnitude in rows_by_magnitude[choice]:
                if row.id in released:
                    withheld.setdefault((row.id, magnitude.measure), "magnitude_secondary")


# --------------------------------------------------------------------------------------------
# DuckDB
# --------------------------------------------------------------------------------------------


def _protect_json(document: str) -> str:
    return json.dumps(protect_release(json.loads(document)), sort_keys=True)


def register_functions(connection: Any) -> None:
    """release_protection(document VARCHAR) -> VARCHAR on a DuckDB connection. Idempotent."""
    with contextlib.suppress(Exception):  # not registered yet
        connection.remove_function(FUNCTION_NAME)
    connection.create_function(
        FUNCTION_NAME, _protect_json, ["VARCHAR"], "VARCHAR", side_effects=False
    )
