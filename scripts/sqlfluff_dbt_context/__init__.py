"""The dbt globals a model's Jinja reads, for linting it with sqlfluff's jinja templater.

sqlfluff's jinja templater (with `apply_dbt_builtins`) renders `ref`, `source`, `config`,
`this` and `is_incremental` like dbt, but not the rest of dbt's Jinja context, and its `var()`
returns a placeholder string, so a model that loops over a list var or calls a dispatched
macro fails to render. `.sqlfluff` loads this package as its `library_path`: every public
name below becomes a Jinja global, so models render to the SQL dbt would compile while it
parses the project (`execute` is false: no macro queries a warehouse or reads the graph),
with no warehouse, no key and no data. Nothing here runs when dbt builds.
"""

from __future__ import annotations

import datetime as _datetime
import itertools as _itertools
import re as _re
import types as _types
from pathlib import Path as _Path
from typing import Any as _Any

import yaml as _yaml
from jinja2 import pass_context as _pass_context
from jinja2.exceptions import TemplateRuntimeError as _TemplateRuntimeError
from jinja2.runtime import Context as _Context

_PROJECT = _yaml.safe_load(
    (_Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text(encoding="utf-8")
)
_VARS: dict[str, _Any] = _PROJECT.get("vars") or {}
_MISSING = object()


class _CompilerError(_TemplateRuntimeError):
    """What `exceptions.raise_compiler_error` raises: sqlfluff reports it as a TMP error."""


def var(name: str, default: _Any = _MISSING) -> _Any:
    """dbt's `var()`: the value in dbt_project.yml's `vars`, else the default, else an error."""
    if name in _VARS:
        return _VARS[name]
    if default is not _MISSING:
        return default
    raise _CompilerError(f"Required var '{name}' not found in dbt_project.yml")


class _Exceptions:
    """dbt's `exceptions` namespace."""

    def raise_compiler_error(self, message: str, node: _Any = None) -> None:
        raise _CompilerError(message)

    def warn(self, message: str, node: _Any = None) -> str:
        return ""


class _Adapter:
    """dbt's `adapter`, for the DuckDB adapter: `dispatch` and `type` (nothing that queries)."""

    def type(self) -> str:
        return "duckdb"

    @_pass_context
    def dispatch(
        self, context: _Context, macro_name: str, macro_namespace: str | None = None
    ) -> _Any:
        """duckdb__<name>, else default__<name>, from the macros the caller can see."""
        for prefix in ("duckdb__", "default__"):
            macro = context.get(prefix + macro_name)
            if macro is not None:
                return macro
        raise _CompilerError(f"No macro duckdb__{macro_name} or default__{macro_name}")


class _DbtMacros:
    """The `dbt.` cross-database macros the project calls, as dbt-duckdb renders them."""

    def date_trunc(self, datepart: str, date: str) -> str:
        return f"date_trunc('{datepart}', {date})"

    def datediff(self, first_date: str, second_date: str, datepart: str) -> str:
        if datepart == "week":
            raise _CompilerError("dbt.datediff(..., 'week') is not emulated for linting")
        return f"(date_diff('{datepart}', {first_date}::timestamp, {second_date}::timestamp))"

    def array_construct(self, inputs: list[str], data_type: str = "integer") -> str:
        if not inputs:
            return f"array[]::{data_type}[]"
        return f"array[ {' , '.join(inputs)} ]"


adapter = _Adapter()
dbt = _DbtMacros()
exceptions = _Exceptions()
modules = _types.SimpleNamespace(datetime=_datetime, itertools=_itertools, re=_re)
project_name: str = _PROJECT["name"]
# As while dbt parses the project: macros that would query the warehouse, read the
# manifest's graph or check the differential-privacy budget return early.
execute = False
graph: dict[str, dict[str, _Any]] = {"nodes": {}, "sources": {}, "exposures": {}}
selected_resources: list[str] = []
flags = _types.SimpleNamespace(WHICH="parse", FULL_REFRESH=False)
target = _types.SimpleNamespace(
    name="lint", type="duckdb", database="lint", schema="main", path=":memory:", threads=1
)
invocation_id = "00000000-0000-0000-0000-000000000000"
run_started_at = _datetime.datetime(2000, 1, 1, tzinfo=_datetime.UTC)
