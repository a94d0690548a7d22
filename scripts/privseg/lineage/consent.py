"""Whether a query filters its rows on a consent-layer model (the consent_filtered step; see the
package docstring)."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from privseg.lineage.expressions import table_key


def filters_on_consent(root: Scope, consent_relations: frozenset[str]) -> bool:
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
