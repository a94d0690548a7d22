"""The project's SQL functions in a Spark session: the ones the dbt-duckdb plugin registers on
DuckDB (plugins/pseudonym_key.py, `configure_connection`), with the same names, arguments, NULL
handling and results, computed by the same Python code in Spark's Python workers:

    segment_rule_problems(rule string, columns array<string>) -> string   segment_rules.py
    segment_rule_sql(rule string, columns array<string>)      -> string   ... as Spark SQL
    dp_noisy_count(value bigint, sensitivity double, epsilon double) -> bigint   dp_noise.py
    dp_noisy_sum(value double, sensitivity double, epsilon double)   -> double
    dp_noise_scale(kind string, sensitivity double, epsilon double)  -> double
    dp_error_bound(kind string, scale double, alpha double)          -> double
    release_protection(document string) -> string                  release_protection.py

- segment_rule_sql validates the rule exactly as on DuckDB (read as DuckDB SQL, the plugin's
  allowlist) and returns the checked tree written as Spark SQL (`dialect="spark"`).
- NULL handling as on DuckDB: the segment functions see NULL (a NULL rule is "rule is empty");
  the others return NULL when any argument is NULL, without calling the plugin.
- Argument types as DuckDB binds them: a double parameter takes any number (a Spark decimal
  literal such as 0.5 becomes a float), a bigint parameter only a whole-number type (DuckDB has
  no implicit cast from double or decimal to bigint either); anything else fails the query
  naming the function. A plugin error (epsilon 0, an invalid document) fails the query as on
  DuckDB.
- dp_noisy_count and dp_noisy_sum are non-deterministic UDFs (`asNondeterministic()`, DuckDB's
  side_effects=True): Spark's optimizer then never copies the call into a second place of the
  plan (a filter pushed below the projection, a collapsed projection), which would draw a second
  noise for one cell, so a noisy column read twice is one value.

The Python workers import the plugin modules: `register_functions` ships them to the session
(SparkContext.addPyFile; over Spark Connect, addArtifacts(pyfile=True)), so a worker runs the
launcher's copy of the plugin code. The wrappers below are closures, which cloudpickle sends by
value: a worker needs the plugin modules and their dependencies (sqlglot, opendp, numpy,
highspy at the versions of requirements.txt), never this package or dbt.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dp_noise
import release_bounds
import release_model
import release_protection
import segment_rules

SPARK_DIALECT = "spark"
# Every plugin module the functions import on a worker (release_protection imports the other
# two release_ modules).
PLUGIN_MODULES = (segment_rules, dp_noise, release_model, release_bounds, release_protection)

# Parameter types, as DuckDB declares them.
STRING = "string"
STRINGS = "array<string>"
DOUBLE = "double"
BIGINT = "bigint"


@dataclass(frozen=True)
class SparkFunction:
    name: str
    function: Callable[..., Any]
    parameters: tuple[str, ...]
    returns: str
    deterministic: bool = True
    nulls_reach_function: bool = False  # DuckDB's null_handling="special"

    def wrapped(self) -> Callable[..., Any]:
        """The Python function Spark calls: DuckDB's argument binding and NULL handling, then
        the plugin's own function."""
        return _bound(self.name, self.function, self.parameters, self.nulls_reach_function)


def spark_functions() -> tuple[SparkFunction, ...]:
    """What `register_functions` registers: the names and types of the plugin's DuckDB ones."""
    return (
        SparkFunction(
            segment_rules.PROBLEMS_FUNCTION,
            segment_rules._problems_udf,
            (STRING, STRINGS),
            STRING,
            nulls_reach_function=True,
        ),
        SparkFunction(
            segment_rules.SQL_FUNCTION,
            functools.partial(segment_rules.rule_sql_or_none, dialect=SPARK_DIALECT),
            (STRING, STRINGS),
            STRING,
            nulls_reach_function=True,
        ),
        SparkFunction(
            dp_noise.COUNT_FUNCTION,
            dp_noise._noisy_count,
            (BIGINT, DOUBLE, DOUBLE),
            BIGINT,
            deterministic=False,
        ),
        SparkFunction(
            dp_noise.SUM_FUNCTION,
            dp_noise._noisy_sum,
            (DOUBLE, DOUBLE, DOUBLE),
            DOUBLE,
            deterministic=False,
        ),
        SparkFunction(
            dp_noise.SCALE_FUNCTION, dp_noise.noise_scale, (STRING, DOUBLE, DOUBLE), DOUBLE
        ),
        SparkFunction(
            dp_noise.BOUND_FUNCTION, dp_noise.error_bound, (STRING, DOUBLE, DOUBLE), DOUBLE
        ),
        SparkFunction(
            release_protection.FUNCTION_NAME, release_protection._protect_json, (STRING,), STRING
        ),
    )


def register_functions(
    session: Any, functions: tuple[SparkFunction, ...] | None = None
) -> list[str]:
    """Ship the plugin modules to `session` and register the functions as its temporary
    functions (this session only, like the pads view); return their names."""
    from pyspark.sql.functions import udf

    ship_plugin_modules(session)
    names = []
    for function in spark_functions() if functions is None else functions:
        # Plain (pickled rows) UDFs, not Arrow ones, whose argument conversion differs, on
        # every cluster alike whether or not it has pyarrow.
        registered = udf(function.wrapped(), function.returns, useArrow=False)
        if not function.deterministic:
            registered = registered.asNondeterministic()
        session.udf.register(function.name, registered)
        names.append(function.name)
    return names


def plugin_files() -> list[Path]:
    return [Path(module.__file__).resolve() for module in PLUGIN_MODULES]


def ship_plugin_modules(session: Any) -> None:
    """Make the session's Python workers import the plugin modules from the launcher's copy:
    added to the SparkContext (local or a cluster master), or as Python artifacts of a Spark
    Connect session."""
    paths = [str(path) for path in plugin_files()]
    if _is_connect(session):
        session.addArtifacts(*paths, pyfile=True)
        return
    context = session.sparkContext
    for path in paths:
        context.addPyFile(path)


def _is_connect(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


# --- DuckDB's binding, in the worker ---------------------------------------------------------


def _bound(
    name: str,
    function: Callable[..., Any],
    parameters: tuple[str, ...],
    nulls_reach_function: bool,
) -> Callable[..., Any]:
    """The function Spark calls. Everything it uses is inside it (closures, which cloudpickle
    sends by value) or in the plugin and standard library: a worker never imports this module."""
    bigint, double, string, strings = BIGINT, DOUBLE, STRING, STRINGS

    def argument(position: int, kind: str, value: Any) -> Any:
        """`value` as DuckDB binds a parameter of type `kind`; TypeError (naming the function
        and the type, never the value) where DuckDB finds no matching function."""
        if value is None:
            return None
        whole = isinstance(value, int) and not isinstance(value, bool)
        if kind == bigint and whole:
            return value
        if kind == double and (whole or isinstance(value, float | decimal.Decimal)):
            return float(value)
        if kind == string and isinstance(value, str):
            return value
        if kind == strings and isinstance(value, list | tuple):
            return list(value)
        hint = " (cast it to bigint)" if kind == bigint else ""
        raise TypeError(
            f"{name}(): argument {position} must be {kind}, got {type(value).__name__}{hint}"
        )

    def call(*arguments: Any) -> Any:
        if len(arguments) != len(parameters):
            raise TypeError(f"{name}() takes {len(parameters)} arguments, got {len(arguments)}")
        if not nulls_reach_function and any(value is None for value in arguments):
            return None
        return function(
            *(
                argument(position, kind, value)
                for position, (kind, value) in enumerate(
                    zip(parameters, arguments, strict=True), start=1
                )
            )
        )

    return call
