"""One hop inside an expression: which step a parent expression adds to a column below it, and
whether the column carries its value or only selects the output (see the package docstring,
"Steps" and "Value or selector")."""

from __future__ import annotations

from sqlglot import exp

from privseg.lineage.model import (
    AGGREGATED,
    DIALECT,
    GENERALIZED,
    HASHED,
    Flow,
    normalise_steps,
)

_HASH_TYPES: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name)
    for name in (
        "SHA",
        "SHA2",
        "MD5",
        "MD5Digest",
        "SHA1Digest",
        "SHA2Digest",
        "StandardHash",
        "CityHash64",
        "MD5NumberLower64",
        "MD5NumberUpper64",
    )
    if hasattr(exp, name)
)


_HASH_NAMES = frozenset(
    {
        "hash",
        "hmac",
        "md5",
        "md5_number",
        "md5_number_lower",
        "md5_number_upper",
        "murmurhash3",
        "sha1",
        "sha256",
        "sha512",
        "xxhash32",
        "xxhash64",
    }
)

# DuckDB aggregates sqlglot leaves as anonymous functions.
_AGGREGATE_NAMES = frozenset(
    {
        "arbitrary",
        "bitstring_agg",
        "entropy",
        "favg",
        "fsum",
        "histogram",
        "kurtosis",
        "mad",
        "product",
        "reservoir_quantile",
        "skewness",
    }
)

# Aggregates that return some of their input values unchanged.
_VALUE_PICKING_AGGREGATES: tuple[type[exp.Expr], ...] = (
    exp.Min,
    exp.Max,
    exp.AnyValue,
    exp.First,
    exp.Last,
    exp.ArrayAgg,
    exp.GroupConcat,
    exp.Mode,
    exp.ArgMin,
    exp.ArgMax,
)

_NAVIGATION = (exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.NthValue)
_VALUE_PRESERVING: tuple[type[exp.Expr], ...] = (
    exp.Alias,
    exp.Paren,
    exp.Coalesce,
    exp.Trim,
    exp.Lower,
    exp.Upper,
    exp.Distinct,
    exp.Order,
    exp.Ordered,
    exp.Struct,
    exp.PropertyEQ,
    exp.Array,
    exp.Dot,
    exp.Explode,
    exp.IgnoreNulls,
    exp.RespectNulls,
    exp.Subquery,
    *_NAVIGATION,
)

# Functions that return a boolean about their argument: the argument only selects.
_SELECTOR_FUNCTIONS: tuple[type[exp.Expr], ...] = (
    exp.Predicate,
    exp.StartsWith,
    exp.EndsWith,
    exp.Contains,
    exp.IsNan,
)

_SECRET_READERS = frozenset({"getvariable"})

_TIMESTAMP_TYPES = tuple(
    getattr(exp.DataType.Type, name)
    for name in (
        "TIMESTAMP",
        "TIMESTAMPTZ",
        "TIMESTAMPLTZ",
        "TIMESTAMPNTZ",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "DATETIME",
        "DATETIME64",
    )
    if hasattr(exp.DataType.Type, name)
)

_FLOAT_TYPES = (exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE)

# (the step a parent adds, whether the child only selects); None: not part of the value.
_Verdict = tuple[str | None, bool]


def table_key(table: exp.Table) -> str | None:
    """'catalog.db.table' (lowercase) of a table; 'function:...' for a file-reading table
    function that was not replaced by a source; None for a generator like range()."""
    if isinstance(table.this, exp.Identifier):
        return ".".join(part.lower() for part in (table.catalog, table.db, table.name) if part)
    function = table.this
    name = function.name if isinstance(function, exp.Anonymous) else type(function).__name__
    if name.lower().startswith("read") or "scan" in name.lower():
        return "function:" + function.sql(dialect=DIALECT)
    return None


def local_flow(node: exp.Expr, projection: exp.Expr) -> Flow | None:
    """Steps between a column (or subquery) and the output expression's root; None when the
    occurrence does not feed the value at all (a window's partition by)."""
    steps: set[str] = set()
    carries_value = True
    child, parent = node, node.parent
    while child is not projection and parent is not None:
        verdict = _classify(parent, child.arg_key)
        if verdict is None:
            return None
        step, selects = verdict
        if step:
            steps.add(step)
        carries_value = carries_value and not selects
        child, parent = parent, parent.parent
    return Flow(normalise_steps(steps), carries_value)


def _classify(parent: exp.Expr, arg_key: str) -> _Verdict | None:
    """(step or None, whether the child only selects) for a child of `parent` at `arg_key`;
    None for a window's partition by, which groups rows but is not part of the value."""
    if isinstance(parent, exp.Window):
        if arg_key == "partition_by":
            return None
        if arg_key == "order":
            return (AGGREGATED if _is_aggregate(parent.this) else GENERALIZED), True
        return None, False
    if isinstance(parent, exp.Filter):
        return (AGGREGATED, False) if arg_key == "expression" else (None, False)
    if isinstance(parent, exp.Case):
        # The operand of `case x when ...` selects; a branch (`ifs`, `default`) returns a value.
        return (GENERALIZED, True) if arg_key == "this" else (None, False)
    if isinstance(parent, exp.If):
        # A condition selects; `then`/`else` return their value as it is.
        return (GENERALIZED, True) if arg_key == "this" else (None, False)
    if isinstance(parent, _NAVIGATION):
        return None, False
    if _is_hash(parent):
        return (HASHED if _is_keyed(parent) else GENERALIZED), False
    if _is_aggregate(parent):
        selects = isinstance(parent, (exp.ArgMin, exp.ArgMax)) and arg_key == "expression"
        # min, max, any_value, first, list... return one row's value (or all of them):
        # an aggregate in form, a copy in effect, so they protect nothing.
        return (None if _picks_values(parent) else AGGREGATED), selects
    if isinstance(parent, exp.Cast):
        return (GENERALIZED if _coarsens(parent) else None), False
    if isinstance(parent, exp.Nullif):
        return (None, False) if arg_key == "this" else (GENERALIZED, True)
    if isinstance(parent, _SELECTOR_FUNCTIONS):
        return GENERALIZED, True
    if isinstance(parent, _VALUE_PRESERVING):
        return None, False
    return GENERALIZED, False


def _function_name(node: exp.Expr) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else ""


def _is_hash(node: exp.Expr) -> bool:
    return isinstance(node, _HASH_TYPES) or _function_name(node) in _HASH_NAMES


def _is_keyed(node: exp.Expr) -> bool:
    """Whether a hash reads a secret: hmac(), getvariable(...) or a query parameter inside."""
    if _function_name(node) == "hmac":
        return True
    return any(
        _function_name(inner) in _SECRET_READERS
        or isinstance(inner, (exp.Parameter, exp.Placeholder))
        for inner in node.walk()
    )


def _is_aggregate(node: exp.Expr | None) -> bool:
    while isinstance(node, (exp.Filter, exp.IgnoreNulls, exp.RespectNulls)):
        node = node.this
    if node is None or isinstance(node, _NAVIGATION):
        return False
    return isinstance(node, exp.AggFunc) or _function_name(node) in _AGGREGATE_NAMES


def _picks_values(node: exp.Expr) -> bool:
    """Whether an aggregate returns input values as they are rather than a summary."""
    while isinstance(node, (exp.Filter, exp.IgnoreNulls, exp.RespectNulls)):
        node = node.this
    return isinstance(node, _VALUE_PICKING_AGGREGATES) or _function_name(node) in {
        "arbitrary",
        "any_value",
        "histogram",
    }


def _coarsens(cast: exp.Cast) -> bool:
    """A cast that loses precision: timestamp -> date/time/integer, fractional -> integer,
    fewer decimal places, float -> decimal. Unknown input types pass through."""
    source, target = cast.this.type, cast.to
    if source is None or target is None or source.is_type(exp.DataType.Type.UNKNOWN):
        return False
    decimal = exp.DataType.Type.DECIMAL
    integer_types = tuple(exp.DataType.INTEGER_TYPES)
    if source.is_type(*_TIMESTAMP_TYPES):
        return target.is_type(exp.DataType.Type.DATE, exp.DataType.Type.TIME, *integer_types)
    if source.is_type(*_FLOAT_TYPES):
        return target.is_type(decimal, *integer_types)
    if source.is_type(decimal):
        source_scale = _decimal_scale(source)
        if target.is_type(*integer_types):
            return bool(source_scale)
        target_scale = _decimal_scale(target)
        if target.is_type(decimal) and source_scale is not None and target_scale is not None:
            return target_scale < source_scale
    return False


def _decimal_scale(data_type: exp.DataType) -> int | None:
    params = data_type.expressions
    if len(params) < 2:
        return None
    try:
        return int(params[1].name)
    except ValueError:
        return None
