"""Validate marketing segment rules before they are spliced into generated SQL.

A segment definition is data: a row of a CSV seed whose `rule` column holds a SQL boolean
expression over the columns of the mart `fct_customer_behavior`, for example

    recency_score >= 4 and frequency_score >= 4 and monetary_score >= 4
    lifecycle_stage in ('at_risk', 'lapsed') and lifetime_value_eur > 500

Whoever edits the seed therefore writes SQL that dbt pastes into a model. Left unchecked, a rule
could read other tables (`customer_key in (select ... from staging.stg_shop__customers)`),
reach columns that the mart deliberately does not expose, call arbitrary functions, or end the
statement and start another one. This module parses each rule with sqlglot (dialect duckdb) and
accepts it only if every node of the syntax tree is on an explicit allowlist: unqualified
columns of the mart, literals, comparisons, AND/OR/NOT, arithmetic, IN (literal list),
BETWEEN, IS [NOT] NULL and a handful of numeric functions. It is an allowlist, not a denylist,
because SQL (and sqlglot, which grows new expression types with every release) has far more
constructs than anyone can enumerate; anything not known to be harmless is rejected by name.

Callers should splice `normalized_sql(rule)`, the SQL regenerated from the validated tree, so
that what runs is exactly what was checked, never the raw seed text. A rule is always read as
DuckDB SQL (the seed's dialect); `normalized_sql(rule, columns, dialect="spark")` writes the same
checked tree as Spark SQL, for a build on Spark (scripts/privseg/spark/functions.py).

Public API (only `normalized_sql` raises, and only ValueError; the rest never raise on any rule):

    ALLOWED_FUNCTIONS                 the function names a rule may call
    ALLOWED_NODE_TYPES                the sqlglot expression classes a rule may contain
    rule_problems(rule, columns)      problems with one rule ([] = valid)
    validate_rules(defs, columns)     "segment '<name>': <problem>" for each (name, rule) pair
    normalized_sql(rule[, columns[, dialect]])
                                      the regenerated SQL of a valid rule, or ValueError
    register_functions(connection)    make both available to SQL as DuckDB functions (below)

Standard library + sqlglot only. The dbt-duckdb plugin (pseudonym_key.py) calls
`register_functions` on its connection, so that the macro `segment_rules()` can validate the
seed `segment_definitions` with a query while dbt runs, and fail the model naming the segment:

    segment_rule_problems(rule VARCHAR, columns VARCHAR[]) -> VARCHAR   '' when valid, else the
                                                                        problems, one per line
    segment_rule_sql(rule VARCHAR, columns VARCHAR[])      -> VARCHAR   normalized_sql, or NULL
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.tokens import Token, TokenType

DIALECT = "duckdb"
MAX_RULE_LENGTH = 2000  # a rule is a one-line condition; this bounds parse time and recursion

ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    {"abs", "least", "greatest", "coalesce", "round", "floor", "ceil"}
)

# sqlglot parses the allowed functions into dedicated classes (e.g. ceiling(x) -> exp.Ceil,
# ifnull(x, 0) -> exp.Coalesce); a name it does not know becomes exp.Anonymous, checked by name.
_FUNCTION_CLASSES: frozenset[type[exp.Expr]] = frozenset(
    {exp.Abs, exp.Least, exp.Greatest, exp.Coalesce, exp.Round, exp.Floor, exp.Ceil}
)
_COMPARISONS: frozenset[type[exp.Expr]] = frozenset(
    {exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE}
)
_ARITHMETIC: dict[type[exp.Expr], str] = {
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Neg: "unary -",
}
_CONNECTIVES: frozenset[type[exp.Expr]] = frozenset({exp.And, exp.Or, exp.Not})
_PREDICATES: frozenset[type[exp.Expr]] = _COMPARISONS | {exp.In, exp.Between, exp.Is}
_VALUES: frozenset[type[exp.Expr]] = frozenset({exp.Literal, exp.Boolean, exp.Null})

# Every node type a rule may contain (exact class match, so subclasses are not let in).
# exp.Column is checked separately (unqualified, known name) and its children are not walked.
ALLOWED_NODE_TYPES: frozenset[type[exp.Expr]] = (
    _PREDICATES
    | _CONNECTIVES
    | _VALUES
    | frozenset(_ARITHMETIC)
    | _FUNCTION_CLASSES
    | {exp.Column, exp.Paren, exp.Anonymous}
)

# A rule (and each operand of its AND/OR/NOT) must be one of these: a true/false condition.
_CONDITION_TYPES: frozenset[type[exp.Expr]] = _PREDICATES | {exp.Boolean, exp.Column}

# Tokens whose text is quoted and may legitimately contain ';', '--' or '/*'.
_QUOTED_TOKEN_TYPES: frozenset[TokenType] = frozenset(
    getattr(TokenType, name)
    for name in (
        "STRING",
        "IDENTIFIER",
        "BIT_STRING",
        "BYTE_STRING",
        "HEX_STRING",
        "NATIONAL_STRING",
        "RAW_STRING",
        "HEREDOC_STRING",
        "UNICODE_STRING",
    )
    if hasattr(TokenType, name)
)

# Friendlier names than sqlglot's class keys for constructs people are likely to try.
_CONSTRUCT_NAMES: dict[type[exp.Expr], str] = {
    exp.Cast: "cast",
    exp.TryCast: "try_cast",
    exp.Case: "case",
    exp.Like: "like",
    exp.ILike: "ilike",
    exp.Glob: "glob",
    exp.Mod: "%",
    exp.IntDiv: "//",
    exp.DPipe: "||",
    exp.NullSafeEQ: "is not distinct from",
    exp.NullSafeNEQ: "is distinct from",
    exp.Bracket: "[]",
    exp.Interval: "interval",
}

_DIALECT = Dialect.get_or_raise(DIALECT)
_CLASS_REPR = re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>")
_FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def rule_problems(rule: str, columns: Iterable[str]) -> list[str]:
    """Return the problems of one rule over the given columns; an empty list means valid.

    Column names match case-insensitively. Never raises for any `rule` value.
    """
    problems, _ = _analyse(rule, _column_set(columns))
    return problems


def validate_rules(definitions: Iterable[tuple[str, str]], columns: Iterable[str]) -> list[str]:
    """Check (segment_name, rule) pairs; return "segment '<name>': <problem>" messages in order."""
    known = _column_set(columns)
    messages: list[str] = []
    for name, rule in definitions:
        problems, _ = _analyse(rule, known)
        messages.extend(f"segment '{name}': {problem}" for problem in problems)
    return messages


def normalized_sql(rule: str, columns: Iterable[str] | None = None, dialect: str = DIALECT) -> str:
    """Return sqlglot's regenerated SQL for a valid rule; raise ValueError otherwise.

    Splice this, not the raw rule: it is generated from the tree that was validated (without
    comments). Without `columns`, column names are not checked, everything else is.
    The result is not parenthesized: wrap it in ( ) when combining it with other conditions.
    The rule is read as DuckDB SQL whatever `dialect` is; `dialect` (a sqlglot dialect name,
    default duckdb, "spark" for Spark SQL) is the one the result is written in, and the result
    is parsed again in it and must pass the same allowlist.
    """
    known = None if columns is None else _column_set(columns)
    problems, tree = _analyse(rule, known)
    if problems or tree is None:
        raise ValueError("invalid segment rule: " + "; ".join(problems or ["rule is empty"]))
    try:
        sql = tree.sql(dialect=dialect, comments=False, unsupported_level=ErrorLevel.RAISE)
    except Exception as error:  # the documented error is ValueError
        raise ValueError(f"invalid segment rule: cannot generate SQL: {error}") from None
    recheck, _ = _analyse(sql, known, Dialect.get_or_raise(dialect))
    if recheck:  # defence in depth: the spliced text itself must pass the same checks
        raise ValueError("invalid segment rule: regenerated SQL fails: " + "; ".join(recheck))
    return sql


PROBLEMS_FUNCTION = "segment_rule_problems"
SQL_FUNCTION = "segment_rule_sql"


def _problems_udf(rule: str | None, columns: list[str] | None) -> str:
    return "\n".join(rule_problems(rule, columns or []))


def _sql_udf(rule: str | None, columns: list[str] | None) -> str | None:
    return rule_sql_or_none(rule, columns)


def rule_sql_or_none(
    rule: str | None, columns: list[str] | None, dialect: str = DIALECT
) -> str | None:
    """SQL_FUNCTION: `normalized_sql` in `dialect`, or None for an invalid or NULL rule."""
    try:
        return normalized_sql(rule, columns or [], dialect)
    except ValueError:
        return None


def register_functions(connection) -> None:
    """Register the validator as the DuckDB scalar functions PROBLEMS_FUNCTION and SQL_FUNCTION.

    Functions registered on a connection are visible to its cursors. NULL arguments reach the
    Python code (null_handling='special'), so a NULL rule is reported as empty, not skipped.
    Idempotent: a connection configured twice gets the functions replaced, not an error.
    """
    for name, function in ((PROBLEMS_FUNCTION, _problems_udf), (SQL_FUNCTION, _sql_udf)):
        # Not registered yet: DuckDB raises InvalidInputException, nothing to remove.
        with contextlib.suppress(Exception):
            connection.remove_function(name)
        connection.create_function(
            name, function, ["VARCHAR", "VARCHAR[]"], "VARCHAR", null_handling="special"
        )


# --- analysis ------------------------------------------------------------------------------


def _column_set(columns: Iterable[str]) -> frozenset[str]:
    if isinstance(columns, str):  # a single name, not an iterable of characters
        columns = [columns]
    return frozenset(column.lower() for column in columns if isinstance(column, str))


def _analyse(
    rule: object, columns: frozenset[str] | None, dialect: Dialect = _DIALECT
) -> tuple[list[str], exp.Expr | None]:
    """Return (problems, parsed tree), `rule` read in `dialect` (the seed's, duckdb, unless a
    regenerated text is checked again). The tree is None whenever there are problems."""
    if rule is None or (isinstance(rule, str) and not rule.strip()):
        return ["rule is empty"], None
    if not isinstance(rule, str):
        return [f"rule must be text, got {type(rule).__name__}"], None
    if len(rule) > MAX_RULE_LENGTH:
        return [f"rule is too long ({len(rule)} characters, at most {MAX_RULE_LENGTH})"], None

    try:
        tokens = dialect.tokenize(rule)
    except Exception as error:  # TokenError, or anything else the lexer hits
        return [f"cannot parse: {_short_error(error)}"], None

    problems = _lexical_problems(rule, tokens)
    if problems:
        return problems, None
    if not tokens:
        return ["rule is empty"], None

    try:
        trees = dialect.parser().parse(tokens, rule)
    except Exception as error:  # ParseError, RecursionError on deep nesting, ...
        return [f"cannot parse: {_short_error(error)}"], None
    trees = [tree for tree in trees if tree is not None]
    if len(trees) != 1:
        return [f"only one expression allowed: found {len(trees)}"], None

    tree = trees[0]
    problems = _dedupe([*_node_problems(tree, columns), *_condition_problems(tree)])
    return problems, (None if problems else tree)


def _lexical_problems(rule: str, tokens: list[Token]) -> list[str]:
    """Comments and ';' outside quoted literals: in the raw text and in sqlglot's tokens."""
    outside_quotes = list(rule)
    for token in tokens:
        if token.token_type in _QUOTED_TOKEN_TYPES:
            outside_quotes[token.start : token.end + 1] = " " * (token.end + 1 - token.start)
    text = "".join(outside_quotes)

    problems = []
    if "--" in text or "/*" in text or any(token.comments for token in tokens):
        problems.append("comments are not allowed")
    if ";" in text or any(token.token_type == TokenType.SEMICOLON for token in tokens):
        problems.append("only one expression allowed: found ';'")
    return problems


def _node_problems(tree: exp.Expr, columns: frozenset[str] | None) -> Iterator[str]:
    """Walk the tree (depth first, so roughly in reading order) and check every node.

    A node that is rejected, or fully checked on its own (a column), is not descended into:
    one message per offending construct.
    """
    pruned: set[int] = set()
    for node in tree.walk(bfs=False, prune=lambda node: id(node) in pruned):
        if isinstance(node, exp.Column):
            pruned.add(id(node))
            problem = _column_problem(node, columns)
        elif type(node) not in ALLOWED_NODE_TYPES or (
            isinstance(node, exp.Anonymous) and node.name.lower() not in ALLOWED_FUNCTIONS
        ):
            pruned.add(id(node))
            problem = _rejection(node)
        elif isinstance(node, exp.In):
            problem = _in_problem(node, pruned)
        elif isinstance(node, exp.Is) and type(node.expression) not in (exp.Null, exp.Boolean):
            problem = f"IS must be followed by NULL, TRUE or FALSE, found '{_sql(node.expression)}'"
        else:
            problem = None
        if problem:
            yield problem


def _column_problem(column: exp.Column, columns: frozenset[str] | None) -> str | None:
    if isinstance(column.this, exp.Star):
        return "'*' is not allowed"
    if any(column.args.get(part) for part in ("table", "db", "catalog")):
        return f"table-qualified column '{_sql(column)}' is not allowed"
    if not isinstance(column.this, exp.Identifier):
        return f"'{_sql(column)}' is not allowed"
    if columns is not None and column.name.lower() not in columns:
        return f"unknown column '{column.name}'"
    return None


def _in_problem(node: exp.In, pruned: set[int]) -> str | None:
    if node.args.get("query") or node.args.get("unnest"):
        return None  # the subquery / unnest node itself is rejected by the walk
    if node.args.get("field") or not node.expressions:
        return f"IN must be followed by a list of literals, e.g. x in ('a', 'b'): '{_sql(node)}'"
    for item in node.expressions:
        if not _is_literal(item):
            pruned.add(id(item))
            return f"IN list may contain only literals, found '{_sql(item)}'"
    return None


def _is_literal(node: exp.Expr) -> bool:
    if isinstance(node, exp.Neg):  # a negative number
        return isinstance(node.this, exp.Literal) and not node.this.is_string
    return type(node) in _VALUES


def _condition_problems(node: exp.Expr) -> list[str]:
    """The rule, and each operand of AND/OR/NOT, must be a true/false condition."""
    node = node.unnest()
    if type(node) in (exp.And, exp.Or):
        return _condition_problems(node.this) + _condition_problems(node.expression)
    if type(node) is exp.Not:
        return _condition_problems(node.this)
    if type(node) in _CONDITION_TYPES or type(node) not in ALLOWED_NODE_TYPES:
        return []  # a condition, or already reported as not allowed
    got = "NULL" if isinstance(node, exp.Null) else f"{_kind(node)}: {_sql(node)}"
    return [f"rule must be a condition (true/false), got {got}"]


# --- messages ------------------------------------------------------------------------------


def _rejection(node: exp.Expr) -> str:
    """Name a construct that is not on the allowlist."""
    if isinstance(node, exp.Query | exp.Exists):
        inner = node.this if isinstance(node, exp.Subquery) and node.this else node
        return f"subqueries are not allowed ({inner.key})"
    if isinstance(node, exp.Window):
        return f"window functions are not allowed ({_function_name(node.this)} ... over)"
    if isinstance(node, exp.Star):
        return "'*' is not allowed"
    if isinstance(node, exp.Placeholder):
        return f"placeholders are not allowed ('{_sql(node)}')"
    if isinstance(node, exp.Alias):
        return f"unexpected text after the condition: '{node.alias}' (read as an alias)"
    name = _CONSTRUCT_NAMES.get(type(node))
    if name:
        return f"'{name}' is not allowed"
    if isinstance(node, exp.Func):
        return f"function '{_function_name(node)}' is not allowed"
    return f"'{node.key}' is not allowed"


def _function_name(node: exp.Expr | None) -> str:
    """The function's name as DuckDB spells it (random() parses to exp.Rand)."""
    if node is None:
        return "?"
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    match = _FUNCTION_NAME.match(_sql(node))
    return match.group(0).lower() if match else node.key


def _kind(node: exp.Expr) -> str:
    if type(node) in _ARITHMETIC:
        return f"arithmetic ({_ARITHMETIC[type(node)]})"
    if isinstance(node, exp.Literal):
        return "a string" if node.is_string else "a number"
    if isinstance(node, exp.Func):
        return f"function '{_function_name(node)}'"
    return node.key


def _sql(node: exp.Expr, limit: int = 60) -> str:
    """Short SQL text of a node for messages; never raises."""
    try:
        text = node.sql(dialect=DIALECT, comments=False, unsupported_level=ErrorLevel.IGNORE)
    except Exception:  # messages must not fail
        text = node.key
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short_error(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "the rule is nested too deeply"
    if isinstance(error, ParseError) and error.errors:
        first = error.errors[0]
        message = f"{first.get('description')} (line {first.get('line')}, col {first.get('col')})"
    else:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
    return _CLASS_REPR.sub(r"\1", message)[:200]


def _dedupe(problems: list[str]) -> list[str]:
    return list(dict.fromkeys(problems))
