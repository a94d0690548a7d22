"""The attacker's linear model of a release: who holds every published table at once.

Statistical disclosure control for linked tables, as in tau-Argus and sdcTable. Every published
count is the number of subjects of a *population* in a *cell*: a combination of values of
declared dimensions (primary segment, age band, region, cohort month, ...), each at one level of
its hierarchy (age band -> broad band -> any). The same population counted in two tables over
overlapping cells links them: every count is a margin of every finer one, whatever table it is
published in.

The attacker's unknowns are the population's counts in the cells of each maximal (dimension,
level) set that one table uses, at that table's own levels: the profiles by finest region and
the summary by broad region are two grids, not the grid of their common refinement. These are
the cliques of a junction tree, where a clique "knows" a dimension at its level and every
coarser one; neighbouring cliques agree on their sums over the dimensions they share, rolled up
to the coarser of their two levels. Cliques that agree on a tree's separators are the margins of
some table of every dimension at the finest levels (whole-numbered when they are), so the
attacker's feasible set of the published numbers is that of the joint table, at the cost of the
sum of the grids instead of their product. Where the sets do not form a tree, the maximal sets
of dimensions at the finest level any table uses, if those do; else one joint table of every
dimension, so the attacker is never under-estimated. Each released count is a linear equation
over the cells of a clique that holds its dimensions at its levels or finer. A population
contained in another (the recipients of one campaign among the buyers of a segment, the buyers
active in one month of a cohort, a segment whose members all belong to another) counts at most
as many as its container in every common cell.

release_bounds.py bounds cells of this model; release_protection.py reads the release document
and decides what to withhold.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Values that mean "summed over this dimension" (a total row, or the top of a hierarchy).
WILDCARD_VALUES = frozenset({"all", "any"})
MAX_VARIABLES = 2_000_000
EPSILON = 1e-6


class ReleaseModelError(ValueError):
    """The release document cannot be modelled (a message says what and where, never a value of a
    person: dimension values are categories such as age bands)."""


# --------------------------------------------------------------------------------------------
# Hierarchies and populations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """One dimension: its values at every level, finest first (level 0)."""

    name: str
    paths: tuple[tuple[str, ...], ...]  # one per finest value: (value, parent, grandparent...)

    @property
    def depth(self) -> int:
        return len(self.paths[0])

    @functools.cached_property
    def _levels(self) -> dict[str, frozenset[int]]:
        levels: dict[str, set[int]] = defaultdict(set)
        for path in self.paths:
            for level, value in enumerate(path):
                levels[value].add(level)
        return {value: frozenset(found) for value, found in levels.items()}

    @functools.cache  # noqa: B019 (hierarchies live as long as the release)
    def domain(self, level: int) -> list[str]:
        return sorted({path[level] for path in self.paths} - WILDCARD_VALUES)

    def levels_of(self, value: str) -> frozenset[int]:
        levels = self._levels.get(value)
        if not levels:
            raise ReleaseModelError(
                f"dimension {self.name!r}: value {value!r} is not in its hierarchy; add it to the "
                "hierarchy's seed or declare the column's dimension correctly"
            )
        return levels

    def level_of(self, value: str, at_least: int = 0) -> int:
        """The level `value` names: the finest one at or above `at_least` (a value such as
        'unknown' that stands at several levels names the same people at each)."""
        levels = sorted(level for level in self.levels_of(value) if level >= at_least)
        if not levels:
            raise ReleaseModelError(
                f"dimension {self.name!r}: value {value!r} is finer than level {at_least}"
            )
        return levels[0]

    def rollup(self, level_from: int, level_to: int) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for path in self.paths:
            mapping[path[level_from]] = path[level_to]
        return mapping


def dimension_map(within: dict[str, Any]) -> dict[str, str]:
    dimensions = within.get("dimensions", {})
    if isinstance(dimensions, list):
        return {d: d for d in dimensions}
    return dict(dimensions)


def parse_hierarchies(raw: dict[str, Any]) -> dict[str, Hierarchy]:
    hierarchies = {}
    for name, paths in raw.items():
        paths = tuple(tuple(str(v) for v in path) for path in paths)
        if not paths or len({len(p) for p in paths}) != 1:
            raise ReleaseModelError(
                f"dimension {name!r}: every path of its hierarchy must have the same number of "
                "levels (finest value first)"
            )
        hierarchies[name] = Hierarchy(name, paths)
    return hierarchies


@dataclass(frozen=True)
class Within:
    """This population is contained in `population`: in every common cell over `dimensions`
    (with `fixed` values of the container's other dimensions) it counts at most as many."""

    population: str
    dimensions: tuple[tuple[str, str], ...]  # (dimension here, dimension of the container)
    fixed: tuple[tuple[str, str], ...] = ()
    # (dimension here, value): cells with that value are not in the container (e.g. campaign
    # recipients without a primary segment are not among the buyers).
    excluded: tuple[tuple[str, str], ...] = ()

    def covers(self, key: dict[str, str]) -> bool:
        return not any(key.get(d) == v for d, v in self.excluded)

    @property
    def inner(self) -> tuple[str, ...]:
        return tuple(inner for inner, _ in self.dimensions)

    def outer_key(self, key: dict[str, str]) -> dict[str, str]:
        names = dict(self.dimensions)
        return {**{names[d]: v for d, v in key.items()}, **dict(self.fixed)}


# A cell: population and its key, the dimensions present with their values (wildcards dropped).
CellKey = tuple[str, tuple[tuple[str, str], ...]]


def cell_key(population: str, key: dict[str, Any]) -> CellKey:
    items = tuple(
        sorted(
            (str(d), str(v))
            for d, v in key.items()
            if v is not None and str(v) not in WILDCARD_VALUES
        )
    )
    return (population, items)


def describe(cell: CellKey) -> str:
    population, items = cell
    inside = ", ".join(f"{d}={v}" for d, v in items) or "total"
    return f"{population} [{inside}]"


# --------------------------------------------------------------------------------------------
# The attacker's linear model
# --------------------------------------------------------------------------------------------


@dataclass
class _Clique:
    population: str
    dims: tuple[str, ...]
    levels: tuple[int, ...]
    offset: int
    cells: list[tuple[str, ...]]

    _rolled: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.cells)

    def rolled(self, position: int, level: int, hierarchy: Hierarchy) -> np.ndarray:
        """The values of dimension `position` of every cell, rolled up to `level`."""
        cached = self._rolled.get((position, level))
        if cached is None:
            mapping = hierarchy.rollup(self.levels[position], level)
            cached = np.array([mapping[cell[position]] for cell in self.cells], dtype=object)
            self._rolled[(position, level)] = cached
        return cached


@dataclass
class AttackerModel:
    """Variables (finest clique cells per population), fixed constraints (separators and
    containment), and the linear expression of any cell of any population."""

    hierarchies: dict[str, Hierarchy]
    populations: dict[str, tuple[Within, ...]]
    cliques: dict[str, list[_Clique]] = field(default_factory=dict)
    variables: int = 0
    finest: dict[str, dict[str, int]] = field(default_factory=dict)
    structural_rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)
    containment_rows: list[tuple[dict[int, float], dict[int, float]]] = field(default_factory=list)
    _expressions: dict[CellKey, dict[int, float]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        hierarchies: dict[str, Hierarchy],
        populations: dict[str, tuple[Within, ...]],
        signatures: dict[str, set[frozenset[tuple[str, int]]]],
    ) -> AttackerModel:
        """`signatures`: per population, the (dimension, level) sets its cells use."""
        model = cls(hierarchies, populations)
        # Containment references add the container's dimensions at the contained levels.
        for population, withins in populations.items():
            if not signatures.get(population):
                continue
            for within in withins:
                model._reference(population, within, signatures)
        for population in sorted(signatures):
            model._add_population(population, signatures[population])
        for population, withins in sorted(populations.items(), key=lambda item: item[0]):
            if signatures.get(population):
                for within in withins:
                    model._add_containment(population, within, signatures[population])
        return model

    def _reference(
        self,
        population: str,
        within: Within,
        signatures: dict[str, set[frozenset[tuple[str, int]]]],
    ) -> None:
        """A containment refers to the container's cells over the shared dimensions, at the
        contained population's levels: the container's model must have them."""
        if within.population not in self.populations:
            raise ReleaseModelError(
                f"population {population!r} is declared within unknown population "
                f"{within.population!r}"
            )
        contained_levels: dict[str, int] = {}
        for signature in signatures.get(population, ()):
            for dim, level in signature:
                if dim in within.inner:
                    contained_levels[dim] = min(level, contained_levels.get(dim, level))
        outer_names = dict(within.dimensions)
        # Only the dimensions the contained population's cells use: the others are summed.
        reference = {(outer_names[d], level) for d, level in contained_levels.items()}
        reference |= {(d, self.hierarchies[d].level_of(v)) for d, v in within.fixed}
        signatures.setdefault(within.population, set()).add(frozenset(reference))

    def _add_population(self, population: str, signatures: set[frozenset[tuple[str, int]]]) -> None:
        finest: dict[str, int] = {}
        for signature in signatures:
            for dim, level in signature:
                if dim not in self.hierarchies:
                    raise ReleaseModelError(f"population {population!r}: unknown dimension {dim!r}")
                finest[dim] = min(level, finest.get(dim, level))
        self.finest[population] = finest
        cliques = []
        for dims, levels in self._clique_levels(signatures, finest):
            domains = [self.hierarchies[d].domain(lvl) for d, lvl in zip(dims, levels, strict=True)]
            size = math.prod(len(d) for d in domains)
            if self.variables + size > MAX_VARIABLES:
                raise ReleaseModelError(
                    f"population {population!r}: the attacker's model needs more than "
                    f"{MAX_VARIABLES:,} variables (dimensions {', '.join(dims)}); publish "
                    "fewer dimensions together or coarser levels"
                )
            cells = list(itertools.product(*domains))
            cliques.append(_Clique(population, dims, levels, self.variables, cells))
            self.variables += size
        self.cliques[population] = cliques
        # Separators: neighbouring cliques agree on the dimensions they share, summed up to the
        # coarser of their two levels (all either clique knows of what the other knows).
        for left, right in _tree_edges([self._atoms(c.dims, c.levels) for c in cliques]):
            left, right = cliques[left], cliques[right]
            shared = sorted(set(left.dims) & set(right.dims))
            levels = [
                max(left.levels[left.dims.index(d)], right.levels[right.dims.index(d)])
                for d in shared
            ]
            for values in itertools.product(
                *[self.hierarchies[d].domain(lvl) for d, lvl in zip(shared, levels, strict=True)]
            ):
                key = dict(zip(shared, values, strict=True))
                row = self._expression_in(left, key)
                for index, coefficient in self._expression_in(right, key).items():
                    row[index] = row.get(index, 0.0) - coefficient
                self.structural_rows.append((row, 0.0, 0.0))

    def _atoms(self, dims: Sequence[str], levels: Sequence[int]) -> frozenset[tuple[str, int]]:
        """What a clique knows of each dimension: its level and every coarser one. Two cliques
        share exactly the atoms of their separator, so the junction tree of the atom sets is
        that of the cliques (a dimension at one level in every table gives the same atoms in
        every clique: the tree over dimension sets)."""
        return frozenset(
            (d, level)
            for d, finest in zip(dims, levels, strict=True)
            for level in range(finest, self.hierarchies[d].depth)
        )

    def _clique_levels(
        self, signatures: set[frozenset[tuple[str, int]]], finest: dict[str, int]
    ) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
        """The cliques (dimensions, levels) of one population: the maximal signatures, each at
        its own levels, when they form a junction tree; else the maximal dimension sets at the
        finest level any table uses, when those do; else one joint table of every dimension.
        The attacker is never under-estimated: a junction tree's cliques, agreeing on their
        separators, are the margins of some table over every dimension at the finest levels,
        whole-numbered when they are."""

        def maximal(
            candidates: set[tuple[tuple[str, ...], tuple[int, ...]]],
        ) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
            atoms = {c: self._atoms(*c) for c in candidates}
            return sorted(
                (c for c in candidates if not any(atoms[c] < atoms[o] for o in candidates)),
                key=lambda c: (-len(c[0]), sorted(c[0]), c[1]),
            )

        def at(pairs: Iterable[tuple[str, int]]) -> tuple[tuple[str, ...], tuple[int, ...]]:
            ordered = sorted(pairs)
            return tuple(d for d, _ in ordered), tuple(level for _, level in ordered)

        own = maximal({at(s) for s in signatures} or {((), ())})
        if _is_junction_tree([self._atoms(*c) for c in own]):
            return own
        coarse = maximal({at((d, finest[d]) for d, _ in s) for s in signatures} or {((), ())})
        if _is_junction_tree([self._atoms(*c) for c in coarse]):
            return coarse
        return [at(finest.items())]

    def _add_containment(
        self, population: str, within: Within, signatures: set[frozenset[tuple[str, int]]]
    ) -> None:
        levels = {}
        for signature in signatures:
            for dim, level in signature:
                if dim in within.inner:
                    levels[dim] = min(level, levels.get(dim, level))
        dims = tuple(sorted(levels))
        domains = [self.hierarchies[d].domain(levels[d]) for d in dims]
        for values in itertools.product(*domains):
            key = dict(zip(dims, values, strict=True))
            outer_key = within.outer_key(key)
            if not within.covers(key) or not self.in_domain(within.population, outer_key):
                continue
            inner = self.expression(cell_key(population, key))
            outer = self.expression(cell_key(within.population, outer_key))
            self.containment_rows.append((outer, inner))

    def _expression_in(self, clique: _Clique, key: dict[str, str]) -> dict[int, float]:
        """Clique variables whose values roll up to `key` (dims of key must be in the clique)."""
        mask = np.ones(clique.size, dtype=bool)
        for dim, value in key.items():
            position = clique.dims.index(dim)
            hierarchy = self.hierarchies[dim]
            level = hierarchy.level_of(value, at_least=clique.levels[position])
            mask &= clique.rolled(position, level, hierarchy) == value
        return {clique.offset + int(i): 1.0 for i in np.flatnonzero(mask)}

    def _covers(self, clique: _Clique, key: dict[str, str]) -> bool:
        """The clique holds every dimension of `key` at a level no coarser than its value's."""
        for dim, value in key.items():
            if dim not in clique.dims:
                return False
            level = clique.levels[clique.dims.index(dim)]
            if max(self.hierarchies[dim].levels_of(value)) < level:
                return False
        return True

    def in_domain(self, population: str, key: dict[str, str]) -> bool:
        finest = self.finest.get(population, {})
        for dim, value in key.items():
            hierarchy = self.hierarchies[dim]
            try:
                level = hierarchy.level_of(value)
            except ReleaseModelError:
                return False
            if value not in hierarchy.domain(level) or level < finest.get(dim, 0):
                return False
        return True

    def expression(self, cell: CellKey) -> dict[int, float]:
        """The model's variables that make up `cell` (cached: cells recur in every round)."""
        cached = self._expressions.get(cell)
        if cached is not None:
            return cached
        population, items = cell
        key = dict(items)
        # Any clique holding the cell's dimensions at its levels or finer gives the same number
        # (the separators equate them); the first (most dimensions) is taken. The shortest
        # expression gives the same bounds too, but the solver's dual values, and so which
        # released count secondary suppression withholds, depend on the rows' form.
        expression = next(
            (
                self._expression_in(clique, key)
                for clique in self.cliques.get(population, ())
                if self._covers(clique, key)
            ),
            None,
        )
        if expression is None:
            raise ReleaseModelError(f"no table of the model covers the cell {describe(cell)}")
        self._expressions[cell] = expression
        return expression


def _is_junction_tree(cliques: Sequence[frozenset[str]]) -> bool:
    """Running intersection property, checked on a maximum-weight spanning tree."""
    if len(cliques) <= 1:
        return True
    adjacency = _spanning_tree(cliques)
    for dim in set().union(*cliques):
        holders = {i for i, c in enumerate(cliques) if dim in c}
        start = next(iter(holders))
        seen, stack = {start}, [start]
        while stack:
            node = stack.pop()
            for neighbour in adjacency[node]:
                if neighbour in holders and neighbour not in seen:
                    seen.add(neighbour)
                    stack.append(neighbour)
        if seen != holders:
            return False
    return True


def _spanning_tree(cliques: Sequence[frozenset[str]]) -> dict[int, set[int]]:
    edges = sorted(
        ((len(a & b), i, j) for (i, a), (j, b) in itertools.combinations(enumerate(cliques), 2)),
        key=lambda e: (-e[0], e[1], e[2]),
    )
    parent = list(range(len(cliques)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    adjacency: dict[int, set[int]] = defaultdict(set)
    for _, i, j in edges:
        if find(i) != find(j):
            parent[find(i)] = find(j)
            adjacency[i].add(j)
            adjacency[j].add(i)
    return adjacency


def _tree_edges(nodes: Sequence[frozenset]) -> Iterable[tuple[int, int]]:
    adjacency = _spanning_tree(nodes)
    for i, neighbours in sorted(adjacency.items()):
        for j in sorted(neighbours):
            if i < j:
                yield i, j
