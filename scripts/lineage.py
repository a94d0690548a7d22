"""Column-level lineage of every model, from dbt's compiled SQL back to source columns.

    python scripts/lineage.py [--target-dir DIR] [--format text|json] [--model NAME ...]

Reads manifest.json (compiled SQL, sources with their column meta.privacy, seeds, layers) and
catalog.json (or the warehouse's columns in catalog.json's shape) and, for every model, parses
its compiled SQL once with sqlglot (DuckDB dialect), qualifies it against the columns of its
inputs (which expands `select *` and `* exclude (...)`), and walks the qualified AST: for each
output column, which columns of the model's direct inputs (models, seeds, sources) flow into
it and how. Chaining these hops across models traces any model column down to source columns
(and seed columns, the non-personal reference data). Nothing is read from dbt docs; no data
value is ever read or printed, only SQL and metadata.

API (pure functions over parsed artifacts; every result is JSON-ready or has `to_dict`):

    trace_project(manifest, catalog, target_dir=None) -> ProjectLineage   parse every model once
    trace_column(project, model, column) -> list[LineagePath]             paths to the leaves
    lineage_findings(project) -> list[str]          (also `project.findings`)
    lineage_summary(project) -> {model: {column: [entry]}}   (also `project.columns`), entry =
        {source, source_kind, source_classification, data_category, steps, carries_value, path}
    model_summary(project) -> {model: {layer, published, consent_filtered, parsed, ...}}
    sql_lineage(sql, schema, lookup_relations=, consent_relations=) -> SqlLineage   one query

Models without compiled_code in the manifest (a `dbt build --select` leaves it only on the
selected nodes) are read from target_dir/compiled/<package>/<path> (target_dir defaults to
DBT_TARGET_PATH, else target/), then from compiled_path. Paths are memoized per model column
and kept once per (leaf, steps, carries_value), the shortest, so diamonds stay linear.

Sources: each source's `relation_name` (e.g. `read_parquet('.../customers.parquet', ...)`)
appears verbatim in the compiled SQL of its base model; it is replaced by
`"__source__"."<source_name>"."<table>"` so the schema can describe it. Its columns are the
ones declared in the yml plus `filename` and `file_row_number`, which `read_parquet` adds:
technical columns, non_personal unless the yml says otherwise.

Steps (the classification of one hop, or of a whole path; a set):

    hashed            the value passes through a *keyed* hash: sha256/md5/sha1/hash/hmac... over
                      an expression that reads a secret (`getvariable(...)`, as the project's
                      HMAC does, or a query parameter). An unkeyed hash of an identifier can
                      be reversed by hashing candidate values, so it counts as generalized.
    aggregated        the value passes through an aggregate function that summarizes (count,
                      count distinct, sum, avg, bool_or, stddev, ...), the filter clause of
                      one, or the order of a window aggregate. Aggregates that return input
                      values as they are (min, max, any_value, first, last, list/array_agg,
                      string_agg, mode, min_by/max_by) are passed_through: `max(email)` is
                      an email. A window's partition by only groups rows and is not lineage;
                      count(*) has no upstream column.
    generalized       any other derivation: the conditions of a case/if, arithmetic,
                      date_trunc/extract, string functions, comparisons, casts to a coarser
                      type (timestamp -> date, decimal -> integer, fewer decimal places,
                      double -> decimal), ranking windows (row_number, ntile...), and
                      lookups (see below).
    passed_through    a bare column, a rename, a cast that loses nothing (or whose input type
                      is unknown), a column returned by a then/else branch of a case/if (the
                      value is returned as it is; the case's conditions are what generalize),
                      or a value-preserving wrapper: coalesce, nullif's first argument,
                      trim/lower/upper (normalization, not coarsening), distinct, struct/list
                      constructors, unnest, lag/lead/first_value/last_value.
    consent_filtered  the model joins or filters on a consent-layer model (meta.privacy.layer
                      `consent`): the consent relation is the FROM side of a join, is joined
                      with an inner/right/semi/anti join, or is read by a subquery in a
                      where/having/qualify/on clause. Every hop into such a model carries it.
                      A model that only selects from a consent model (no join) does not.

Nested transforms keep the strongest ones: hashed and/or aggregated if present, else
generalized, else passed_through (consent_filtered is kept alongside). Along a path the steps
of the hops are united and reduced the same way.

Value or selector: each occurrence of an input column in an output expression either carries
its value (possibly transformed) or only *selects* the output: the condition of a case/if, a
comparison or other predicate (x is null, x > 5, starts_with...), the order of a window, the
ordering argument of min_by/max_by, a lookup key. `carries_value` is false on a path as soon as
one hop only selects. When one input column occurs several times in one output expression,
the occurrences that carry its value decide, and among them the weakest protection (so
`case when id is null then null else sha256(key || id) end` is hashed, while
`coalesce(sha256(key || email), email)` is passed_through); selector-only occurrences count
only when there is no value occurrence.

Lookups: a value taken from a relation whose columns all come from seeds (e.g. `age_band` of
the seed age_bands, joined on an age computed from the birth date) has two upstreams: the seed
column, as projected (usually passed_through), and every column of another relation used in
the ON condition of the join that brings the lookup in (the conjuncts that mention the lookup;
if the lookup is the FROM relation, the conjuncts of every join that mention it). Those join
keys are `generalized` and are selectors (carries_value false): the key picks a row of
reference data, its value does not reach the output. Aggregates over a lookup's rows (e.g.
min_by over matching patterns) do not count as aggregating the key. USING joins and WHERE
conditions are not treated as lookups.

Findings (`lineage_findings`), one line each, names only:
  - a column of a published model (meta.privacy.published) or a mart model (layer behavior,
    segments, measurement) whose path from a source column classified direct_identifier
    carries the value and has neither hashed nor aggregated;
  - a column of a model past staging that traces to a source column without
    meta.privacy.classification, or to a relation that is not a model, seed or source;
  - a model whose SQL could not be parsed or qualified (its columns, and the lineage of the
    models downstream of it, are untraced), and a model whose lineage is incomplete (a column
    reference that could not be resolved, a `select *` that could not be expanded).

Limitations: lineage is projection lineage, so values chosen by a filter (where, qualify, a
semi-join, the row a k-means assignment keeps) are not lineage; struct fields are traced as
the whole struct; a key kept in a CTE column instead of read in the hash expression itself is
not recognised as a key (the hash then counts as generalized, the conservative side); an
aggregate that returns one row's value (min, max, any_value, list) counts as aggregated, so
`max(email) group by customer` would not be a finding here (the audit's value scans catch it).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import sqlglot
from common import PROJECT_DIR, Settings, privacy_meta
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, ScopeType, build_scope
from sqlglot.schema import MappingSchema, Schema

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
MART_LAYERS = frozenset({"behavior", "segments", "measurement"})
DIRECT_IDENTIFIER = "direct_identifier"
NON_PERSONAL = "non_personal"

# Stands in for each source's relation_name (a read_parquet(...) call) in the compiled SQL.
SOURCE_CATALOG = "__source__"
# Columns read_parquet(..., filename = true, file_row_number = true) adds to every source.
TECHNICAL_SOURCE_COLUMNS = {"filename": "VARCHAR", "file_row_number": "BIGINT"}

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
        return lineage_findings(self)

    @cached_property
    def columns(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return lineage_summary(self)


# --- steps ---------------------------------------------------------------------------------


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


def _add(target: dict[ColumnRef, Flow], ref: ColumnRef, flow: Flow) -> None:
    target[ref] = weakest(target[ref], flow) if ref in target else flow


# --- one query -------------------------------------------------------------------------------


@dataclass
class _Context:
    lookup_relations: frozenset[str]
    scopes: dict[int, Scope]
    memo: dict[tuple[int, int], dict[ColumnRef, Flow]] = field(default_factory=dict)
    lookups: dict[int, bool] = field(default_factory=dict)
    active: set[tuple[int, int]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def sql_lineage(
    sql: str,
    schema: Mapping[str, Any] | Schema,
    *,
    lookup_relations: Iterable[str] = (),
    consent_relations: Iterable[str] = (),
    dialect: str = DIALECT,
) -> SqlLineage:
    """Lineage of one query's output columns into columns of the tables it reads.

    `schema` maps tables to {column: type} (sqlglot's nested form, e.g. {catalog: {db:
    {table: {...}}}}). Tables are named by their dotted, lowercased relation key
    ('warehouse.reference.age_bands'); `lookup_relations` are the keys of reference tables
    (seeds), `consent_relations` those of consent-layer models. Raises LineageError when the
    SQL cannot be parsed or qualified."""
    if not isinstance(schema, Schema):
        schema = MappingSchema(dict(schema), dialect=dialect)
    try:
        with _quiet_sqlglot():
            parsed = sqlglot.parse_one(sql, dialect=dialect)
    except ParseError as error:
        raise LineageError(_parse_error_reason(error)) from None
    except Exception as error:  # a tokenizer error or worse: the SQL is not SQL we can read
        raise LineageError(_safe_reason(error)) from None
    if not isinstance(parsed, exp.Query):
        raise LineageError(f"not a query ({type(parsed).__name__})")
    try:
        qualified = qualify(
            parsed,
            dialect=dialect,
            schema=schema,
            validate_qualify_columns=False,
            identify=False,
        )
        root = build_scope(qualified)
    except Exception as error:
        raise LineageError(f"could not qualify: {_safe_reason(error)}") from None
    if root is None:
        raise LineageError("no select scope")
    try:
        annotate_types(qualified, schema=schema, dialect=dialect)
    except Exception:  # types only refine cast classification; without them casts pass through
        logging.debug("lineage: type annotation failed", exc_info=True)

    context = _Context(
        lookup_relations=frozenset(lookup_relations),
        scopes={id(scope.expression): scope for scope in root.traverse()},
    )
    columns: dict[str, dict[ColumnRef, Flow]] = {}
    for index, name in enumerate(_output_names(root)):
        if name == "*":
            context.problems.append("an output `select *` could not be expanded")
            continue
        columns.setdefault(name.lower(), dict(_trace_output(context, root, index)))
    return SqlLineage(
        columns=columns,
        consent_filtered=_consent_filtered(root, frozenset(consent_relations)),
        problems=sorted(set(context.problems)),
    )


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot warns about DuckDB's 1-based list indexes on every parse; not our finding."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _parse_error_reason(error: ParseError) -> str:
    details = error.errors[0] if error.errors else {}
    description = str(details.get("description") or "syntax error").splitlines()[0]
    return (
        f"parse error at line {details.get('line')}, column {details.get('col')}: "
        + (_strip_literals(description)[:160])
    )


def _safe_reason(error: BaseException) -> str:
    """The error's class and first line, without quoted literals (they could hold values)."""
    first_line = (str(error).splitlines() or [""])[0]
    return f"{type(error).__name__}: {_strip_literals(first_line)[:160]}".rstrip(": ")


def _strip_literals(text: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "'…'", text)


def _output_names(scope: Scope) -> list[str]:
    if scope.outer_columns:
        return list(scope.outer_columns)
    expression = scope.expression
    if isinstance(expression, exp.SetOperation):
        if scope.set_operation_scopes:
            return _output_names(scope.set_operation_scopes[0])
        return list(expression.named_selects)
    if isinstance(expression, exp.Select):
        return [select.alias_or_name for select in expression.selects]
    return []


def _output_index(scope: Scope, name: str) -> int | None:
    wanted = name.lower()
    for index, candidate in enumerate(_output_names(scope)):
        if candidate.lower() == wanted:
            return index
    return None


def _trace_output(context: _Context, scope: Scope, index: int) -> dict[ColumnRef, Flow]:
    """Upstream of the index-th output column of a scope (memoized per scope and index)."""
    key = (id(scope), index)
    if key in context.memo:
        return context.memo[key]
    if key in context.active:
        context.problems.append("a query scope refers to itself")
        return {}
    context.active.add(key)
    try:
        result = _trace_scope_output(context, scope, index)
    finally:
        context.active.discard(key)
    context.memo[key] = result
    return result


def _trace_scope_output(context: _Context, scope: Scope, index: int) -> dict[ColumnRef, Flow]:
    expression = scope.expression
    result: dict[ColumnRef, Flow] = {}
    if isinstance(expression, exp.SetOperation):
        by_name = bool(expression.args.get("by_name"))
        name = _output_names(scope)[index] if by_name else None
        for branch in scope.set_operation_scopes:
            branch_index = _output_index(branch, name) if name is not None else index
            if branch_index is None:
                continue  # `union by name`: a branch without the column gives nulls
            for ref, flow in _trace_output(context, branch, branch_index).items():
                _add(result, ref, flow)
    elif isinstance(expression, exp.Select):
        selects = expression.selects
        if index < len(selects):
            result = _trace_projection(context, scope, selects[index])
        else:
            context.problems.append("a union's branches have different numbers of columns")
    elif isinstance(expression, exp.Values):
        pass  # literal rows
    elif scope.scope_type == ScopeType.UDTF:
        # unnest(...) / a lateral table function: its values come from the columns it reads.
        for column in expression.find_all(exp.Column):
            for ref, flow in _resolve(context, scope, column, Flow(frozenset())).items():
                _add(result, ref, flow)
    else:
        context.problems.append(f"unsupported relation in FROM ({type(expression).__name__})")
    return result


def _trace_projection(
    context: _Context, scope: Scope, projection: exp.Expr
) -> dict[ColumnRef, Flow]:
    result: dict[ColumnRef, Flow] = {}
    for node in projection.walk(prune=lambda n: isinstance(n, exp.Query)):
        if isinstance(node, exp.Query):
            upstream = _trace_subquery(context, node, projection)
        elif isinstance(node, exp.Columns):
            context.problems.append("a COLUMNS(...) expression could not be expanded")
            continue
        elif isinstance(node, exp.Column) and not _is_lambda_variable(node):
            if isinstance(node.this, exp.Star):
                context.problems.append("a `select *` could not be expanded")
                continue
            local = _local_flow(node, projection)
            if local is None:
                continue
            upstream = _resolve(context, scope, node, local)
        else:
            continue
        for ref, flow in upstream.items():
            _add(result, ref, flow)
    return result


def _trace_subquery(
    context: _Context, query: exp.Expr, projection: exp.Expr
) -> dict[ColumnRef, Flow]:
    """A scalar, IN or EXISTS subquery inside an output expression: its own outputs."""
    sub_scope = context.scopes.get(id(query.unnest() if isinstance(query, exp.Subquery) else query))
    local = _local_flow(query, projection)
    if sub_scope is None or local is None:
        return {}
    result: dict[ColumnRef, Flow] = {}
    for index in range(len(_output_names(sub_scope))):
        for ref, flow in _trace_output(context, sub_scope, index).items():
            _add(result, ref, compose(local, flow))
    return result


def _is_lambda_variable(column: exp.Column) -> bool:
    if column.table:
        return False
    lambda_ = column.find_ancestor(exp.Lambda)
    while lambda_ is not None:
        if column.name in {variable.name for variable in lambda_.expressions}:
            return True
        lambda_ = lambda_.find_ancestor(exp.Lambda)
    return False


def _resolve(
    context: _Context,
    scope: Scope,
    column: exp.Column,
    local: Flow,
    visiting: frozenset[str] = frozenset(),
) -> dict[ColumnRef, Flow]:
    """Upstream of one column reference, through `local` (its place in the expression)."""
    found = _find_source(scope, column.table)
    if found is None:
        context.problems.append(f"column reference {column.sql(dialect=DIALECT)} not resolved")
        return {}
    owner, source = found
    upstream = _source_column(context, source, column.name)
    result = {ref: compose(local, flow) for ref, flow in upstream.items()}
    if column.table not in visiting and _is_lookup(context, source):
        key_local = Flow(
            normalise_steps((local.steps - {AGGREGATED, PASSED_THROUGH}) | {GENERALIZED}),
            carries_value=False,
        )
        for key in _lookup_keys(owner, column.table):
            for ref, flow in _resolve(
                context, owner, key, key_local, visiting | {column.table}
            ).items():
                _add(result, ref, flow)
    return result


def _is_lookup(context: _Context, source: exp.Table | Scope) -> bool:
    """A seed, or a query whose every output column comes from seeds only."""
    if id(source) in context.lookups:
        return context.lookups[id(source)]
    if isinstance(source, exp.Table):
        result = table_key(source) in context.lookup_relations
    else:
        refs = {
            ref
            for index in range(len(_output_names(source)))
            for ref in _trace_output(context, source, index)
        }
        result = bool(refs) and all(ref.relation in context.lookup_relations for ref in refs)
    context.lookups[id(source)] = result
    return result


def _find_source(scope: Scope, alias: str) -> tuple[Scope, exp.Table | Scope] | None:
    """The scope that defines a table alias and its source; correlated subqueries look out."""
    current: Scope | None = scope
    while current is not None:
        if alias in current.sources:
            return current, current.sources[alias]
        if not alias and len(current.selected_sources) == 1:
            (_, source), *_ = current.selected_sources.values()
            return current, source
        if current.scope_type not in (ScopeType.SUBQUERY, ScopeType.SET_OPERATION):
            return None
        current = current.parent
    return None


def _source_column(
    context: _Context, source: exp.Table | Scope, name: str
) -> dict[ColumnRef, Flow]:
    if isinstance(source, Scope):
        index = _output_index(source, name)
        if index is None:
            context.problems.append(f"column {name} not found in the relation that should have it")
            return {}
        return _trace_output(context, source, index)
    key = table_key(source)
    if key is None:
        return {}  # a generator such as range(): constants
    return {ColumnRef(key, name.lower()): Flow(frozenset({PASSED_THROUGH}))}


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


def _lookup_keys(scope: Scope, alias: str) -> list[exp.Column]:
    """Columns of other relations in the ON conjuncts that mention a lookup relation."""
    select = scope.expression
    if not isinstance(select, exp.Select):
        return []
    from_ = select.args.get("from_")
    from_alias = from_.this.alias_or_name if from_ is not None else None
    keys: dict[tuple[str, str], exp.Column] = {}
    for join in select.args.get("joins") or []:
        on = join.args.get("on")
        if on is None or (join.this.alias_or_name != alias and from_alias != alias):
            continue
        for conjunct in _conjuncts(on):
            columns = list(conjunct.find_all(exp.Column))
            if any(column.table == alias for column in columns):
                for column in columns:
                    if column.table and column.table != alias:
                        keys.setdefault((column.table, column.name), column)
    return list(keys.values())


def _conjuncts(condition: exp.Expr) -> list[exp.Expr]:
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return [part for child in condition.flatten() for part in _conjuncts(child)]
    return [condition]


# (the step a parent adds, whether the child only selects); None: not part of the value.
_Verdict = tuple[str | None, bool]


def _local_flow(node: exp.Expr, projection: exp.Expr) -> Flow | None:
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


# --- consent ------------------------------------------------------------------------------


def _consent_filtered(root: Scope, consent_relations: frozenset[str]) -> bool:
    """Whether the query joins or filters on one of `consent_relations` (see module doc)."""
    if not consent_relations:
        return False
    bases: dict[int, frozenset[str]] = {}
    for scope in root.traverse():
        select = scope.expression
        if not isinstance(select, exp.Select):
            continue
        if (
            scope.is_subquery
            and _in_filter_clause(select)
            and _base_relations(scope, bases) & consent_relations
        ):
            return True
        for alias in _filtering_aliases(select):
            source = scope.sources.get(alias)
            if source is not None and _base_relations(source, bases) & consent_relations:
                return True
    return False


def _base_relations(source: exp.Table | Scope, memo: dict[int, frozenset[str]]) -> frozenset[str]:
    """The tables a FROM/JOIN source reads rows from, through CTEs, derived tables, unions."""
    if isinstance(source, exp.Table):
        key = table_key(source)
        return frozenset({key}) if key else frozenset()
    if id(source) in memo:
        return memo[id(source)]
    memo[id(source)] = frozenset()
    found: set[str] = set()
    if isinstance(source.expression, exp.SetOperation):
        for branch in source.set_operation_scopes:
            found |= _base_relations(branch, memo)
    else:
        for _, inner in source.selected_sources.values():
            found |= _base_relations(inner, memo)
    memo[id(source)] = frozenset(found)
    return memo[id(source)]


def _filtering_aliases(select: exp.Select) -> list[str]:
    """Sources whose rows restrict the result: the FROM side of a join that keeps only its
    matches or rows, and relations joined with inner, right, semi or anti joins."""
    joins = select.args.get("joins") or []
    aliases: list[str] = []
    from_ = select.args.get("from_")
    from_kept = any(
        (join.kind or "").upper() != "CROSS" and (join.side or "").upper() not in ("RIGHT", "FULL")
        for join in joins
    )
    if from_ is not None and from_kept:
        aliases.append(from_.this.alias_or_name)
    for join in joins:
        kind, side = (join.kind or "").upper(), (join.side or "").upper()
        if kind in ("SEMI", "ANTI") or (kind != "CROSS" and side not in ("LEFT", "FULL")):
            aliases.append(join.this.alias_or_name)
    return aliases


def _in_filter_clause(query: exp.Expr) -> bool:
    node = query
    while node.parent is not None and not isinstance(node.parent, exp.Select):
        node = node.parent
    return node.arg_key in ("where", "having", "qualify", "joins")


# --- the project -----------------------------------------------------------------------------


def read_artifacts(target_dir: Path) -> tuple[dict, dict]:
    """manifest.json and catalog.json of a target folder; a missing catalog reads as empty
    (the yml's declared columns are used instead)."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    catalog_path = target_dir / "catalog.json"
    if catalog_path.is_file():
        catalog = json.loads(catalog_path.read_text())
    else:
        logging.warning("lineage: %s not found; using the columns declared in yml", catalog_path)
        catalog = {"nodes": {}, "sources": {}}
    return manifest, catalog


def model_sql(node: Mapping[str, Any], target_dir: Path | None = None) -> str | None:
    """A node's compiled SQL: compiled_code from the manifest, else the compiled file (under
    target_dir/compiled, or at compiled_path), else None."""
    if node.get("compiled_code"):
        return str(node["compiled_code"])
    candidates: list[Path] = []
    if target_dir is not None and node.get("original_file_path"):
        candidates.append(
            target_dir / "compiled" / node["package_name"] / node["original_file_path"]
        )
    if node.get("compiled_path"):
        path = Path(node["compiled_path"])
        candidates.append(path if path.is_absolute() else PROJECT_DIR / path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_text()
    return None


def _traced_nodes(manifest: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for unique_id, node in manifest.get("nodes", {}).items():
        if node.get("resource_type") in ("model", "snapshot", "seed") and (
            node.get("config", {}).get("enabled", True)
        ):
            yield unique_id, node


def _relation_key(*parts: str | None) -> str:
    return ".".join(part.lower() for part in parts if part)


def _relations(manifest: Mapping[str, Any]) -> tuple[dict[str, Relation], dict[str, str]]:
    """Relations by unique_id, and unique_id by the relation key compiled SQL uses."""
    relations: dict[str, Relation] = {}
    by_key: dict[str, str] = {}
    for unique_id, node in _traced_nodes(manifest):
        kind = "seed" if node["resource_type"] == "seed" else "model"
        columns = {name.lower(): privacy_meta(column) for name, column in node["columns"].items()}
        relations[unique_id] = Relation(unique_id, kind, node["name"], columns)
        alias = node.get("alias") or node["name"]
        by_key[_relation_key(node.get("database"), node.get("schema"), alias)] = unique_id
    for unique_id, source in manifest.get("sources", {}).items():
        columns = {name.lower(): privacy_meta(column) for name, column in source["columns"].items()}
        label = f"{source['source_name']}.{source['name']}"
        relations[unique_id] = Relation(unique_id, "source", label, columns)
        by_key[_relation_key(SOURCE_CATALOG, source["source_name"], source["name"])] = unique_id
        if source.get("relation_name"):
            # A source that is a real table is read by its relation name, not a function.
            try:
                table = exp.to_table(source["relation_name"], dialect=DIALECT)
                by_key[_relation_key(table.catalog, table.db, table.name)] = unique_id
            except Exception:
                pass
    return relations, by_key


def _source_replacements(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(relation_name text, stand-in table name), longest first."""
    pairs = [
        (
            source["relation_name"],
            f'"{SOURCE_CATALOG}"."{source["source_name"]}"."{source["name"]}"',
        )
        for source in manifest.get("sources", {}).values()
        if source.get("relation_name")
    ]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def _usable_type(data_type: Any) -> str:
    if not data_type:
        return "UNKNOWN"
    try:
        exp.DataType.build(str(data_type), dialect=DIALECT)
    except Exception:
        return "UNKNOWN"
    return str(data_type)


def build_schema(manifest: Mapping[str, Any], catalog: Mapping[str, Any]) -> MappingSchema:
    """Column types of every model, seed (catalog, else yml) and source (yml + technical)."""
    nested: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    catalog_nodes = catalog.get("nodes") or {}

    def put(catalog_name: str, db: str, table: str, columns: dict[str, str]) -> None:
        if columns:
            nested.setdefault(catalog_name.lower(), {}).setdefault(db.lower(), {})[
                table.lower()
            ] = columns

    for unique_id, node in _traced_nodes(manifest):
        built = (catalog_nodes.get(unique_id) or {}).get("columns") or {}
        columns = {
            name.lower(): _usable_type(column.get("type")) for name, column in built.items()
        } or {
            name.lower(): _usable_type(column.get("data_type"))
            for name, column in node["columns"].items()
        }
        put(node["database"], node["schema"], node.get("alias") or node["name"], columns)
    for source in manifest.get("sources", {}).values():
        columns = {
            name.lower(): _usable_type(column.get("data_type"))
            for name, column in source["columns"].items()
        }
        for name, data_type in TECHNICAL_SOURCE_COLUMNS.items():
            columns.setdefault(name, data_type)
        put(SOURCE_CATALOG, source["source_name"], source["name"], columns)
    return MappingSchema(nested, dialect=DIALECT)


def trace_project(
    manifest: Mapping[str, Any],
    catalog: Mapping[str, Any],
    *,
    target_dir: Path | None = None,
) -> ProjectLineage:
    """Parse every model once and record its hops; paths are traced on demand.

    `catalog` has catalog.json's shape ({"nodes": {unique_id: {"columns": {name: {"type"}}}}}).
    `target_dir` is where to find compiled files for nodes without compiled_code in the
    manifest (default: DBT_TARGET_PATH, else target/). A model that cannot be parsed is
    recorded as unparsed, never skipped."""
    started = time.monotonic()
    if target_dir is None:
        target_dir = Settings.from_env().target_dir
    relations, by_key = _relations(manifest)
    schema = build_schema(manifest, catalog)
    replacements = _source_replacements(manifest)
    key_of = {unique_id: key for key, unique_id in by_key.items()}
    seed_keys = frozenset(key for key, uid in by_key.items() if relations[uid].kind == "seed")
    consent_keys = {
        key
        for key, unique_id in by_key.items()
        if privacy_meta(manifest["nodes"].get(unique_id, {})).get("layer") == CONSENT_LAYER
    }
    models: dict[str, ModelLineage] = {}
    for unique_id, node in _traced_nodes(manifest):
        if node["resource_type"] == "seed":
            continue
        trace = partial(
            _trace_model_sql,
            replacements=replacements,
            schema=schema,
            lookup_relations=seed_keys,
            # an incremental consent model reading its own rows does not filter on consent
            consent_relations=frozenset(consent_keys - {key_of.get(unique_id)}),
        )
        models[unique_id] = _model_lineage(
            unique_id, node, model_sql(node, target_dir), catalog, trace, by_key
        )
    return ProjectLineage(models, relations, seconds=time.monotonic() - started)


def _trace_model_sql(
    sql: str,
    *,
    replacements: list[tuple[str, str]],
    schema: Schema,
    lookup_relations: frozenset[str],
    consent_relations: frozenset[str],
) -> SqlLineage:
    for old, new in replacements:
        sql = sql.replace(old, new)
    return sql_lineage(
        sql, schema, lookup_relations=lookup_relations, consent_relations=consent_relations
    )


def _model_lineage(
    unique_id: str,
    node: Mapping[str, Any],
    sql: str | None,
    catalog: Mapping[str, Any],
    trace: Callable[[str], SqlLineage],
    by_key: Mapping[str, str],
) -> ModelLineage:
    meta = privacy_meta(node)
    built = ((catalog.get("nodes") or {}).get(unique_id) or {}).get("columns") or {}
    model = ModelLineage(
        unique_id=unique_id,
        name=node["name"],
        layer=meta.get("layer"),
        published=bool(meta.get("published")),
        columns=[name.lower() for name in (built or node["columns"])],
    )
    if sql is None:
        model.unparsed = "no compiled SQL (compile or build the project first)"
        return model
    try:
        traced: SqlLineage = trace(sql)
    except LineageError as error:
        model.unparsed = str(error)
        return model
    except Exception as error:  # whatever a macro produced, the audit reports it, not crashes
        model.unparsed = _safe_reason(error)
        return model
    model.columns = list(traced.columns)
    model.consent_filtered = traced.consent_filtered
    model.problems = list(traced.problems)
    for column, upstream in traced.columns.items():
        hops: dict[ColumnRef, Flow] = {}
        for ref, flow in upstream.items():
            relation = by_key.get(ref.relation, ref.relation)
            if relation != unique_id:  # an incremental model reading its own rows
                _add(hops, ColumnRef(relation, ref.column), flow)
        model.hops[column] = hops
    return model


# --- paths, findings, summary ------------------------------------------------------------


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


# --- command line ----------------------------------------------------------------------------


def _text_report(project: ProjectLineage, names: list[str] | None) -> Iterator[str]:
    for model_name, columns in project.columns.items():
        if names and model_name not in names:
            continue
        for column, paths in columns.items():
            if not paths:
                yield f"{model_name}.{column}  (no upstream column)"
            for entry in paths:
                value = "" if entry["carries_value"] else ", selects only"
                yield (
                    f"{model_name}.{column} <- {entry['source']} "
                    f"[{', '.join(entry['steps'])}{value}] ({entry['source_classification']})"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=None,
        help="dbt target folder with manifest.json and catalog.json (default DBT_TARGET_PATH)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--model", action="append", help="print only these models (text)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

    target_dir = args.target_dir or Settings.from_env().target_dir
    try:
        manifest, catalog = read_artifacts(target_dir)
    except (OSError, ValueError) as error:
        logging.error("lineage: cannot read the dbt artifacts in %s: %s", target_dir, error)
        return 2
    started = time.monotonic()
    project = trace_project(manifest, catalog, target_dir=target_dir)
    columns, findings = project.columns, project.findings
    logging.info(
        "lineage: %d models parsed in %.1f s; %d past staging with %d columns traced to "
        "sources in %.1f s in all; %d unparsed, %d findings",
        len(project.models),
        project.seconds,
        len(columns),
        sum(len(c) for c in columns.values()),
        time.monotonic() - started,
        sum(1 for m in project.models.values() if m.unparsed),
        len(findings),
    )
    if args.format == "json":
        document = {"models": model_summary(project), "columns": columns, "findings": findings}
        print(json.dumps(document, indent=2, sort_keys=True))
    else:
        for line in _text_report(project, args.model):
            print(line)
        for finding in findings:
            logging.error("  %s", finding)
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
