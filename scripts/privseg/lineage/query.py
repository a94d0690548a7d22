"""The lineage of one query: every output column traced through the query's scopes (CTEs,
derived tables, unions, subqueries) to columns of the tables it reads, with lookups (see the
package docstring, "Lookups")."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, ScopeType, build_scope
from sqlglot.schema import MappingSchema, Schema

from privseg.lineage.consent import filters_on_consent
from privseg.lineage.expressions import local_flow, table_key
from privseg.lineage.model import (
    AGGREGATED,
    DIALECT,
    GENERALIZED,
    PASSED_THROUGH,
    ColumnRef,
    Flow,
    LineageError,
    SqlLineage,
    add_flow,
    compose,
    normalise_steps,
)


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
        raise LineageError(safe_reason(error)) from None
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
        raise LineageError(f"could not qualify: {safe_reason(error)}") from None
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
        consent_filtered=filters_on_consent(root, frozenset(consent_relations)),
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


def safe_reason(error: BaseException) -> str:
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
                add_flow(result, ref, flow)
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
                add_flow(result, ref, flow)
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
            local = local_flow(node, projection)
            if local is None:
                continue
            upstream = _resolve(context, scope, node, local)
        else:
            continue
        for ref, flow in upstream.items():
            add_flow(result, ref, flow)
    return result


def _trace_subquery(
    context: _Context, query: exp.Expr, projection: exp.Expr
) -> dict[ColumnRef, Flow]:
    """A scalar, IN or EXISTS subquery inside an output expression: its own outputs."""
    sub_scope = context.scopes.get(id(query.unnest() if isinstance(query, exp.Subquery) else query))
    local = local_flow(query, projection)
    if sub_scope is None or local is None:
        return {}
    result: dict[ColumnRef, Flow] = {}
    for index in range(len(_output_names(sub_scope))):
        for ref, flow in _trace_output(context, sub_scope, index).items():
            add_flow(result, ref, compose(local, flow))
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
                add_flow(result, ref, flow)
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
