"""Bounding cells of the attacker's model (release_model.py) with HiGHS.

For every cell the release does not show (a withheld row, or a combination no row shows), the
attacker can compute the smallest and largest count consistent with everything published: two
linear programs, whose optimum is checked to be integral (else a mixed-integer program decides,
since the attacker knows counts are whole). A cell is exposed when its largest count is at least
1, its smallest is below k, and the interval is narrower than k: the attacker can then pin a
group that may hold people to fewer than k possible sizes, not all of them k or more. The same
holds for the remainder a contained population leaves in its container.

highspy is HiGHS's own interface: one model per independent part of the release, re-solved warm
for each objective (primal simplex from the last basis), about ten times faster than rebuilding
the model per bound. Most cells never need their own program: every solution found is a
feasible point that may already prove other cells safe, and interchangeable cells share one.
"""

from __future__ import annotations

import math
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from release_model import EPSILON, AttackerModel, ReleaseModelError


def _first_solver_quietly() -> None:
    """HiGHS writes its banner to the process's standard output when the first solver of the
    process is made, before any option can silence it; in dbt that would land among the log
    lines. Make that first one at import (before dbt starts threads) with the output pointed at
    /dev/null."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_first_solver_quietly()


class Solver:
    """One HiGHS model of the attacker (structural rows, then one row per released value); the
    objective changes per bound, and each solve starts from the last basis."""

    def __init__(
        self,
        variables: int,
        structural: list[tuple[dict[int, float], float, float]],
        released: list[tuple[dict[int, float], float, float]],
        integral: bool = True,
    ) -> None:
        self.variables = variables
        self.released_offset = len(structural)
        rows = structural + released
        self.rows = len(rows)
        self.highs = highspy.Highs()
        for option, value in (
            ("output_flag", False),
            ("presolve", "off"),
            # Primal simplex without bound perturbation: after an objective change the last
            # basis stays feasible, so each bound is a few pivots (measured 4x faster).
            ("simplex_strategy", 4),
            ("primal_simplex_bound_perturbation_multiplier", 0.0),
        ):
            self.highs.setOptionValue(option, value)
        lp = highspy.HighsLp()
        lp.num_col_ = variables
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(variables)
        lp.col_lower_ = np.zeros(variables)
        lp.col_upper_ = np.full(variables, highspy.kHighsInf)
        lp.row_lower_ = np.array([low for _, low, _ in rows], dtype=float)
        lp.row_upper_ = np.array([high for _, _, high in rows], dtype=float)
        lengths = np.fromiter((len(row) for row, _, _ in rows), dtype=np.int32, count=len(rows))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
        lp.a_matrix_.index_ = np.fromiter(
            (i for row, _, _ in rows for i in row), dtype=np.int32, count=int(lengths.sum())
        )
        lp.a_matrix_.value_ = np.fromiter(
            (v for row, _, _ in rows for v in row.values()), dtype=float, count=int(lengths.sum())
        )
        self.highs.passModel(lp)
        self.integral = integral
        self._columns = np.arange(variables, dtype=np.int32)

    def optimize(
        self, expression: dict[int, float], sign: float
    ) -> tuple[float, np.ndarray, list[int]]:
        """min (sign=1) or max (sign=-1) of the expression: the value, a solution, and the
        released rows (indices) binding at the optimum."""
        cost = np.zeros(self.variables)
        for index, coefficient in expression.items():
            cost[index] = sign * coefficient
        self.highs.changeColsCost(self.variables, self._columns, cost)
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return (math.inf if sign < 0 else -math.inf), np.zeros(0), []
        if status != highspy.HighsModelStatus.kOptimal:
            raise ReleaseModelError(
                f"the attacker's model has no solution ({self.highs.modelStatusToString(status)}): "
                "the released numbers contradict each other or the declared structure"
            )
        solution = self.highs.getSolution()
        value = sign * self.highs.getInfo().objective_function_value
        x = np.asarray(solution.col_value)
        if self.integral and np.max(np.abs(x - np.round(x)), initial=0.0) > EPSILON:
            value, x = self._integer_optimum(cost, sign, value, x)
        duals = np.asarray(solution.row_dual)[self.released_offset :]
        return value, x, [int(i) for i in np.flatnonzero(np.abs(duals) > EPSILON)]

    def _integer_optimum(
        self, cost: np.ndarray, sign: float, relaxed: float, relaxed_x: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """The relaxation's optimum is fractional: the attacker, who knows counts are whole,
        may do better. A mixed-integer program decides (HiGHS too)."""
        mip = highspy.Highs()
        mip.setOptionValue("output_flag", False)
        mip.setOptionValue("time_limit", 60.0)
        mip.passModel(self.highs.getLp())
        mip.changeColsCost(self.variables, self._columns, cost)
        mip.changeColsIntegrality(
            self.variables,
            self._columns,
            np.full(self.variables, highspy.HighsVarType.kInteger),
        )
        mip.run()
        if mip.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise ReleaseModelError(
                "a mixed-integer bound did not finish in 60 s; the attacker's model is too large "
                "for an exact answer (publish fewer dimensions together)"
            )
        return sign * mip.getInfo().objective_function_value, np.asarray(
            mip.getSolution().col_value
        )


class Observations:
    """Cells to bound, as one sparse matrix, so that every solution the solver returns tightens
    what is known of every target at once (a feasible point proves hi >= its value and
    lo <= its value): most targets are proven safe without a linear program of their own."""

    def __init__(self, expressions: Sequence[dict[int, float]], variables: int) -> None:
        self.count = len(expressions)
        self.rows = np.repeat(np.arange(self.count), [len(e) for e in expressions]).astype(np.int64)
        self.columns = np.fromiter(
            (i for e in expressions for i in e),
            dtype=np.int64,
            count=int(sum(len(e) for e in expressions)),
        )
        self.values = np.fromiter(
            (c for e in expressions for c in e.values()),
            dtype=float,
            count=int(sum(len(e) for e in expressions)),
        )
        self.variables = variables
        self.best_high = np.full(self.count, -math.inf)
        self.best_low = np.full(self.count, math.inf)

    def observe(self, x: np.ndarray) -> None:
        if x.size != self.variables:
            return
        values = np.bincount(self.rows, weights=self.values * x[self.columns], minlength=self.count)
        np.maximum(self.best_high, values, out=self.best_high)
        np.minimum(self.best_low, values, out=self.best_low)


def count_exposed(low: float, high: float, k: int) -> bool:
    """The attacker narrows a group that may hold people to fewer than k possible sizes, not
    all of them k or more."""
    return high >= 1 - EPSILON and low < k - EPSILON and high - low < k - EPSILON


def count_proven_safe(best_low: float, best_high: float, k: int) -> bool:
    """From feasible points alone (best_high <= high, best_low >= low)."""
    return best_high >= 2 * k - 1 - EPSILON or best_high - best_low >= k - EPSILON


@dataclass
class Bounded:
    low: float
    high: float
    binding: list[int]


@dataclass
class Target:
    expression: dict[int, float]
    constant: float = 0.0


def difference(outer: dict[int, float], inner: dict[int, float]) -> dict[int, float]:
    row = dict(outer)
    for index, coefficient in inner.items():
        row[index] = row.get(index, 0.0) - coefficient
    return {i: c for i, c in row.items() if c != 0.0}


class Components:
    """The attacker's model cut into independent parts, one small solver each.

    A containment row whose container is itself a released count (the recipients of a campaign
    in a segment, at most the published segment total) becomes an upper bound on the contained
    cell alone, which cuts the contained population loose from its container: a campaign's
    cells are then bounded in a model of a dozen variables, not of the whole release."""

    def __init__(
        self,
        model: AttackerModel,
        released: list[tuple[dict[int, float], float, float]],
        targets: list[Target],
        integral: bool = True,
    ) -> None:
        fixed = {
            frozenset(e): low
            for e, low, high in released
            if low == high and all(c == 1.0 for c in e.values())
        }
        rows: list[tuple[dict[int, float], float, float, int | None]] = [
            (e, low, high, None) for e, low, high in model.structural_rows
        ]
        for outer, inner in model.containment_rows:
            value = fixed.get(frozenset(outer)) if all(c == 1.0 for c in outer.values()) else None
            if value is not None:
                rows.append((inner, -highspy.kHighsInf, value, None))
            else:
                rows.append((difference(outer, inner), 0.0, highspy.kHighsInf, None))
        rows += [(e, low, high, i) for i, (e, low, high) in enumerate(released)]
        # Remainders whose container is a released count: that count minus the contained cell.
        self.targets = []
        for target in targets:
            self.targets.append(target)
        parent = list(range(model.variables))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def join(indices: Iterable[int]) -> None:
            first = None
            for index in indices:
                if first is None:
                    first = find(index)
                else:
                    other = find(index)
                    if other != first:
                        parent[other] = first

        for row, _, _, _ in rows:
            join(row)
        for target in self.targets:
            join(target.expression)
        groups: dict[int, list[int]] = defaultdict(list)
        for variable in range(model.variables):
            groups[find(variable)].append(variable)
        self.component_of = np.empty(model.variables, dtype=np.int64)
        self.local = np.empty(model.variables, dtype=np.int64)
        self.members: list[np.ndarray] = []
        for c, (_, variables) in enumerate(sorted(groups.items())):
            self.members.append(np.array(variables, dtype=np.int64))
            self.component_of[variables] = c
            self.local[variables] = np.arange(len(variables))
        structural: list[list[tuple[dict[int, float], float, float]]] = [[] for _ in self.members]
        known: list[list[tuple[dict[int, float], float, float]]] = [[] for _ in self.members]
        self.released_index: list[list[int]] = [[] for _ in self.members]
        # A part whose rows all have bounds 0 or infinite holds no published number: its
        # cells can be anything from 0 up, with no program to solve.
        self.homogeneous = [True] * len(self.members)
        for row, low, high, index in rows:
            if not row:
                continue
            c = int(self.component_of[next(iter(row))])
            local = {int(self.local[i]): v for i, v in row.items()}
            if index is None:
                structural[c].append((local, low, high))
            else:
                known[c].append((local, low, high))
                self.released_index[c].append(index)
            if index is not None or any(b not in (0.0, math.inf, -math.inf) for b in (low, high)):
                self.homogeneous[c] = False
        # Solvers are made when a part first needs a bound: most parts never do.
        self._rows_of = list(zip(structural, known, strict=True))
        self._integral = integral
        self._solvers: dict[int, Solver] = {}
        # Columns with the same entries in every row are interchangeable: two targets made of
        # interchangeable columns have the same bounds, so one linear program serves both.
        patterns: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for r, (row, _, _, _) in enumerate(rows):
            for index, coefficient in row.items():
                patterns[index].append((r, coefficient))
        ids: dict[tuple[tuple[int, float], ...], int] = {}
        self.pattern = np.array(
            [ids.setdefault(tuple(patterns.get(v, ())), len(ids)) for v in range(model.variables)],
            dtype=np.int64,
        )

    def solver(self, c: int) -> Solver:
        if c not in self._solvers:
            structural, known = self._rows_of[c]
            self._solvers[c] = Solver(len(self.members[c]), structural, known, self._integral)
        return self._solvers[c]

    def signature(self, target: Target) -> tuple:
        return (
            self.component(target),
            target.constant,
            tuple(sorted((int(self.pattern[i]), c) for i, c in target.expression.items())),
        )

    def component(self, target: Target) -> int | None:
        if not target.expression:
            return None
        return int(self.component_of[next(iter(target.expression))])

    def optimize(
        self, target: Target, sign: float
    ) -> tuple[float, np.ndarray, list[int], int | None]:
        c = self.component(target)
        if c is None:
            return target.constant, np.zeros(0), [], None
        if self.homogeneous[c] and all(v >= 0 for v in target.expression.values()):
            return target.constant + (0.0 if sign > 0 else math.inf), np.zeros(0), [], c
        local = {int(self.local[i]): v for i, v in target.expression.items()}
        value, x, binding = self.solver(c).optimize(local, sign)
        return (
            target.constant + value,
            x,
            [self.released_index[c][b] for b in binding],
            c,
        )

    def parts(self) -> Iterable[tuple[int, list[int], Observations]]:
        """Per part holding targets, in order: its index, the indices of its targets, and an
        Observations over them in the part's own columns. Targets without variables (a
        constant the attacker knows, published as such) belong to no part and are left out."""
        by_component: dict[int, list[int]] = defaultdict(list)
        for t, target in enumerate(self.targets):
            c = self.component(target)
            if c is not None:
                by_component[c].append(t)
        for c, indices in sorted(by_component.items()):
            expressions = [
                {int(self.local[i]): v for i, v in self.targets[t].expression.items()}
                for t in indices
            ]
            yield c, indices, Observations(expressions, len(self.members[c]))

    def globalize(self, c: int | None, x: np.ndarray, into: np.ndarray) -> None:
        if c is not None and x.size:
            into[self.members[c]] = x


def bound_counts(
    components: Components,
    k: int,
    truth: np.ndarray | None = None,
) -> list[Bounded | None]:
    """For each target, None when proven not exposed, else its exact interval and the indices
    of the released counts that pin it. Targets are taken component by component; every
    solution found is a feasible point that may prove later targets safe on its own."""
    results: list[Bounded | None] = [None] * len(components.targets)
    for c, indices, observed in components.parts():
        members = components.members[c]
        constants = np.array([components.targets[t].constant for t in indices], dtype=float)
        if truth is not None and truth.size:
            observed.observe(truth[members])
        solved: dict[tuple, Bounded | None] = {}
        for position, t in enumerate(indices):
            best_low = observed.best_low[position] + constants[position]
            best_high = observed.best_high[position] + constants[position]
            if count_proven_safe(best_low, best_high, k):
                continue
            target = components.targets[t]
            signature = components.signature(target)
            if signature in solved:
                results[t] = solved[signature]
                continue
            high, x, binding_high, _ = components.optimize(target, -1.0)
            observed.observe(x)
            if high < 1 - EPSILON or high >= 2 * k - 1 - EPSILON:
                solved[signature] = None
                continue
            low, x, binding_low, _ = components.optimize(target, 1.0)
            observed.observe(x)
            if count_exposed(low, high, k):
                results[t] = Bounded(low, high, sorted(set(binding_high) | set(binding_low)))
            solved[signature] = results[t]
    return results


def bound_magnitudes(
    components: Components, above: np.ndarray, below: np.ndarray
) -> list[Bounded | None]:
    """For each target (a withheld sum), None when the attacker can neither bound it below
    above[t] nor above below[t] (its true value plus and minus p%), else its exact interval
    and the released sums that pin it. As in bound_counts, every solution is a feasible point
    that may settle other targets without a program of their own, and targets made of
    interchangeable columns share one interval."""
    results: list[Bounded | None] = [None] * len(components.targets)
    for _, indices, observed in components.parts():
        solved: dict[tuple, tuple[float, float, list[int], list[int]]] = {}
        for position, t in enumerate(indices):
            target = components.targets[t]
            if (
                observed.best_high[position] >= above[t] - EPSILON
                and observed.best_low[position] <= below[t] + EPSILON
            ):
                continue
            signature = components.signature(target)
            if signature not in solved:
                high, x, binding_high, _ = components.optimize(target, -1.0)
                observed.observe(x)
                low, x, binding_low, _ = components.optimize(target, 1.0)
                observed.observe(x)
                solved[signature] = (low, high, binding_low, binding_high)
            low, high, binding_low, binding_high = solved[signature]
            too_low = high < above[t] - EPSILON
            too_high = low > below[t] + EPSILON
            if too_low or too_high:
                binding = (binding_high if too_low else []) + (binding_low if too_high else [])
                results[t] = Bounded(low, high, binding)
    return results
