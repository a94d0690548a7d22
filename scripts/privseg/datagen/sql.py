"""Python values as SQL text: literals, lists, and the weighted choice every table uses."""

from __future__ import annotations

from collections.abc import Sequence


def sql_literal(value: str | None) -> str:
    """'text' with quotes doubled, or null."""
    if value is None:
        return "null"
    return "'" + value.replace("'", "''") + "'"


def sql_value(value: str | int | float | None) -> str:
    """A literal of a value (a number as Python writes it, so a float keeps every digit)."""
    return sql_literal(value) if value is None or isinstance(value, str) else repr(value)


def sql_list(values: Sequence[str | int | float | None]) -> str:
    """A DuckDB list literal, e.g. ['a', 'b'] or [0.1, 2]."""
    return "[" + ", ".join(sql_value(value) for value in values) + "]"


def weighted_choice(uniform: str, weighted: Sequence[tuple[str | int | None, float]]) -> str:
    """A case expression mapping `uniform` (an SQL expression, uniform in [0, 1)) to one of the
    values, each with probability proportional to its weight."""
    total = sum(weight for _, weight in weighted)
    branches, cumulative = [], 0.0
    for value, weight in weighted[:-1]:
        cumulative += weight / total
        branches.append(f"when {uniform} < {cumulative!r} then {sql_value(value)}")
    return f"(case {' '.join(branches)} else {sql_value(weighted[-1][0])} end)"
