"""Keyed pseudonyms: the pseudonym_key plugin + the pseudonymize macro agree with Python's hmac.

The SQL under test is rendered from macros/privacy/*.sql (the source of truth) with plain
jinja2 and a stubbed dbt context, then run on DuckDB connections configured by the plugin.
The last test builds a throwaway dbt project with the same plugin and macros.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import jinja2
import pytest

from pseudonym_key import KEY_ENV_VAR, Plugin, PseudonymKeyError, hmac_pads

PROJECT_DIR = Path(__file__).resolve().parents[3]
MACRO_DIR = PROJECT_DIR / "macros" / "privacy"
PLUGIN_DIR = PROJECT_DIR / "plugins"

SHORT_KEY = "unit-test-key-not-secret"  # 24 bytes: zero-padded to the block
LONG_KEY = "unit-test-long-key/ключ/" + "0123456789abcdef" * 6  # > 64 bytes: hashed first
BLOCK_KEY = "k" * 64  # exactly one block
IDS = ["1", "100042", "abc", "x" * 1000, "José-名前-🙂"]


class CompilerError(Exception):
    pass


class _Return(Exception):  # dbt's {{ return(x) }} unwinds the macro the same way
    def __init__(self, value: Any) -> None:
        self.value = value


def _raise_compiler_error(message: str) -> None:
    raise CompilerError(message)


def _return(value: Any) -> None:
    raise _Return(value)


def _macros(file_name: str) -> Any:
    """The macros of one macros/privacy file as callables, with a minimal duckdb dbt context."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"], undefined=jinja2.StrictUndefined)
    template = env.from_string((MACRO_DIR / file_name).read_text(encoding="utf-8"))
    module: Any = None

    def dispatch(name: str, macro_namespace: str) -> Any:
        assert macro_namespace == "privacy_segmentation"
        macro = getattr(module, f"duckdb__{name}")
        return lambda *args: str(macro(*args))

    context = {
        "adapter": SimpleNamespace(dispatch=dispatch, type=lambda: "duckdb"),
        "exceptions": SimpleNamespace(raise_compiler_error=_raise_compiler_error),
        "modules": SimpleNamespace(re=re),
        "return": _return,
    }
    module = template.make_module(context)
    return module


def _call(macro: Any, *args: Any) -> str:
    try:
        return str(macro(*args))
    except _Return as returned:
        return str(returned.value)


def pseudonymize_sql(entity: Any, id_expression: Any) -> str:
    return _call(_macros("pseudonymize.sql").pseudonymize, entity, id_expression)


def fingerprint_sql() -> str:
    return _call(_macros("pseudonym_key_fingerprint.sql").pseudonym_key_fingerprint)


def python_pseudonym(key: str, entity: str, id_: str) -> str:
    message = f"{entity}:{id_}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def python_fingerprint(key: str) -> str:
    digest = hmac.new(key.encode(), b"pseudonym-key-fingerprint", hashlib.sha256).hexdigest()
    return digest[:16]


def make_plugin(key: Any) -> Plugin:
    return Plugin(name="pseudonym_key", plugin_config={"key": key})


def sql_pseudonyms(con: duckdb.DuckDBPyConnection, entity: str, ids: list[Any]) -> list[Any]:
    expression = pseudonymize_sql(entity, "ids.id")
    rows = con.execute(
        f"select {expression} from unnest(?) with ordinality as ids(id, n) order by n", [ids]
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def connection() -> duckdb.DuckDBPyConnection:
    with duckdb.connect() as con:
        yield con


@pytest.mark.parametrize("key", [SHORT_KEY, BLOCK_KEY, LONG_KEY], ids=["short", "64", "long"])
def test_pseudonyms_match_python_hmac_on_connection_and_cursor(connection, key) -> None:
    plugin = make_plugin(key)
    plugin.configure_connection(connection)
    cursor = connection.cursor()
    plugin.configure_cursor(cursor)
    expected = [python_pseudonym(key, "customer", id_) for id_ in IDS]
    assert sql_pseudonyms(connection, "customer", IDS) == expected
    assert sql_pseudonyms(cursor, "customer", IDS) == expected
    assert all(re.fullmatch("[0-9a-f]{64}", value) for value in expected)


def test_integer_ids_are_hashed_as_their_text(connection) -> None:
    make_plugin(SHORT_KEY).configure_connection(connection)
    expression = pseudonymize_sql("customer", "100042")
    assert connection.execute(f"select {expression}").fetchone()[0] == python_pseudonym(
        SHORT_KEY, "customer", "100042"
    )


def test_null_id_gives_null_not_hash_of_prefix(connection) -> None:
    make_plugin(SHORT_KEY).configure_connection(connection)
    assert sql_pseudonyms(connection, "customer", [None, "1"]) == [
        None,
        python_pseudonym(SHORT_KEY, "customer", "1"),
    ]


def test_different_key_changes_every_pseudonym(connection) -> None:
    make_plugin(SHORT_KEY).configure_connection(connection)
    first = sql_pseudonyms(connection, "customer", IDS)
    make_plugin(SHORT_KEY + "-rotated").configure_connection(connection)
    second = sql_pseudonyms(connection, "customer", IDS)
    assert not set(first) & set(second)


def test_different_entity_gives_different_pseudonym(connection) -> None:
    make_plugin(SHORT_KEY).configure_connection(connection)
    customers = sql_pseudonyms(connection, "customer", IDS)
    orders = sql_pseudonyms(connection, "order", IDS)
    assert orders == [python_pseudonym(SHORT_KEY, "order", id_) for id_ in IDS]
    assert not set(customers) & set(orders)


@pytest.mark.parametrize("entity", ["Customer", "customer:", "1customer", "", "a b", None, 3])
def test_bad_entity_is_a_compiler_error(entity) -> None:
    with pytest.raises(CompilerError, match="entity must be a lowercase name"):
        pseudonymize_sql(entity, "customer_id")


def test_empty_id_expression_is_a_compiler_error() -> None:
    with pytest.raises(CompilerError, match="id_expression must be a SQL expression"):
        pseudonymize_sql("customer", " ")


@pytest.mark.parametrize(
    "key",
    [None, "", "   \t", "short-key-15chr", " " + SHORT_KEY, SHORT_KEY + "\n", 1234567890123456789],
    ids=["missing", "empty", "whitespace", "15-chars", "leading-space", "newline", "number"],
)
def test_unusable_key_fails_naming_env_var_without_echoing_it(key) -> None:
    with pytest.raises(PseudonymKeyError) as raised:
        make_plugin(key)
    message = str(raised.value)
    assert KEY_ENV_VAR in message
    assert "secrets.token_hex(32)" in message
    if key is not None and str(key).strip():
        assert str(key).strip() not in message


def test_unconfigured_connection_raises_instead_of_null(connection) -> None:
    with pytest.raises(duckdb.InvalidInputException, match=KEY_ENV_VAR):
        sql_pseudonyms(connection, "customer", ["1"])
    with pytest.raises(duckdb.InvalidInputException, match=KEY_ENV_VAR):
        connection.sql(f"select {fingerprint_sql()}").fetchall()


def test_cursor_does_not_inherit_connection_variables(connection) -> None:
    # Why the plugin needs configure_cursor: a fresh cursor has no variables.
    make_plugin(SHORT_KEY).configure_connection(connection)
    with pytest.raises(duckdb.InvalidInputException, match=KEY_ENV_VAR):
        sql_pseudonyms(connection.cursor(), "customer", ["1"])


def test_fingerprint_matches_python_and_differs_per_key(connection) -> None:
    fingerprints = []
    for key in (SHORT_KEY, LONG_KEY):
        make_plugin(key).configure_connection(connection)
        fingerprint = connection.execute(f"select {fingerprint_sql()}").fetchone()[0]
        assert fingerprint == python_fingerprint(key)
        fingerprints.append(fingerprint)
    assert re.fullmatch("[0-9a-f]{16}", fingerprints[0])
    assert fingerprints[0] != fingerprints[1]


def test_plugin_repr_does_not_show_key() -> None:
    assert SHORT_KEY not in repr(make_plugin(SHORT_KEY))


# --- dbt level: the real dispatch, profile rendering and secret scrubbing ---------------------

MODEL_SQL = """
{{ config(materialized='table') }}
select
    ids.id,
    {{ pseudonymize('customer', 'ids.id') }} as customer_key,
    {{ pseudonym_key_fingerprint() }} as key_fingerprint
from (values (1), (100042), (null)) as ids (id)
"""


def _write_project(root: Path) -> None:
    (root / "models").mkdir(parents=True)
    shutil.copytree(MACRO_DIR, root / "macros" / "privacy")
    (root / "models" / "customers_pseudonymized.sql").write_text(MODEL_SQL)
    (root / "dbt_project.yml").write_text(
        "name: privacy_segmentation\nversion: '0.1.0'\nconfig-version: 2\n"
        "profile: pseudonym_test\nflags:\n  send_anonymous_usage_stats: false\n"
    )
    (root / "profiles.yml").write_text(
        f"""
pseudonym_test:
  target: test
  outputs:
    test:
      type: duckdb
      path: "{root / "test.duckdb"}"
      threads: 1
      keep_open: false
      module_paths: ["{PLUGIN_DIR}"]
      plugins:
        - module: pseudonym_key
          config:
            key: "{{{{ env_var('{KEY_ENV_VAR}', '') }}}}"
"""
    )


def _dbt(root: Path, *args: str) -> Any:
    from dbt.cli.main import dbtRunner

    cli = [*args, "--project-dir", str(root), "--profiles-dir", str(root)]
    cli += ["--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    return dbtRunner().invoke(cli)


def test_dbt_build_matches_python_and_leaks_no_key(tmp_path, monkeypatch, capfd) -> None:
    root = tmp_path / "project"
    _write_project(root)

    monkeypatch.delenv(KEY_ENV_VAR, raising=False)
    missing = _dbt(root, "build")
    assert not missing.success
    assert KEY_ENV_VAR in str(missing.exception) + capfd.readouterr().out

    key = "dbt-level-test-key-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:20]
    monkeypatch.setenv(KEY_ENV_VAR, key)
    result = _dbt(root, "build")
    output = capfd.readouterr()
    assert result.success, output.out[-3000:]

    with duckdb.connect(str(root / "test.duckdb"), read_only=True) as con:
        rows = con.sql(
            "select id, customer_key, key_fingerprint from customers_pseudonymized order by id"
        ).fetchall()
    assert rows == [
        (1, python_pseudonym(key, "customer", "1"), python_fingerprint(key)),
        (100042, python_pseudonym(key, "customer", "100042"), python_fingerprint(key)),
        (None, None, python_fingerprint(key)),
    ]

    ipad, opad = hmac_pads(key.encode())
    secrets = [key.encode(), ipad.hex().encode(), opad.hex().encode(), ipad, opad]
    scanned = [path for path in root.rglob("*") if path.is_file() and path.parent != root]
    scanned.append(root / "test.duckdb")
    assert any(path.parts[-2] == "target" for path in scanned)
    assert any(path.parts[-2] == "logs" for path in scanned)
    for path in scanned:
        content = path.read_bytes()
        leaked = [n for n, secret in enumerate(secrets) if secret in content]
        assert not leaked, f"key material #{leaked} found in {path.relative_to(root)}"
    assert key not in output.out + output.err
