"""The hashing and minimization layer: pseudonyms are the documented HMAC,
nothing identifying passes, the key never leaks, and each guard is shown to
fail when the thing it guards against happens."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil

import duckdb
import pytest

from dbt_harness import TEST_KEY, DbtProject, project_with_fixtures
from privseg.audit.checks.raw_identifiers import (
    direct_identifier_source_columns,
    scan_for_raw_identifiers,
)
from privseg.audit.checks.secret_hygiene import files_containing
from privseg.core.settings import PROJECT_DIR


def _hmac(key: str, entity: str, raw_id: object) -> str:
    return hmac.new(key.encode(), f"{entity}:{raw_id}".encode(), hashlib.sha256).hexdigest()


def _manifest(project: DbtProject) -> dict:
    return json.loads((project.target_dir / "manifest.json").read_text())


def test_customer_keys_are_exactly_the_hmac_of_the_valid_customer_ids(built):
    ids = [r[0] for r in built.query("select customer_id from staging.stg_shop__customers")]
    keys = {
        r[0]
        for r in built.query("select customer_key from pseudonymized.int_customers_pseudonymized")
    }
    assert len(ids) > 100
    assert keys == {_hmac(TEST_KEY, "customer", i) for i in ids}


def test_entities_use_separate_hash_domains(built):
    """Order 5 and customer 5 never share a pseudonym: the entity is in the message."""
    order_ids = [
        r[0] for r in built.query("select order_id from staging.stg_shop__orders limit 20")
    ]
    order_keys = {
        r[0] for r in built.query("select order_key from pseudonymized.int_orders_pseudonymized")
    }
    assert {_hmac(TEST_KEY, "order", i) for i in order_ids} <= order_keys
    assert not {_hmac(TEST_KEY, "customer", i) for i in order_ids} & order_keys


def test_every_pseudonymized_table_has_an_enforced_contract(built):
    nodes = [
        n
        for n in _manifest(built)["nodes"].values()
        if n["resource_type"] == "model"
        and n["config"]["meta"]["privacy"]["layer"] == "pseudonymized"
    ]
    assert len(nodes) == len(list((PROJECT_DIR / "models" / "pseudonymized").glob("*.sql")))
    assert all(n["config"]["contract"]["enforced"] for n in nodes)
    # Physical tables, never views: the key is a per-connection variable (dbt_project.yml).
    assert all(n["config"]["materialized"] in {"table", "incremental"} for n in nodes)


def test_no_raw_identifier_value_appears_past_staging(built):
    columns = direct_identifier_source_columns(_manifest(built))
    assert {"email", "first_name", "phone", "street_address"} <= set(columns["customers"])
    assert "ip_address" in columns["web_events"]
    assert scan_for_raw_identifiers(built.warehouse, built.raw_dir, columns) == []


def test_value_scan_finds_a_planted_email(built, tmp_path):
    """The scan is not vacuous: a copy of the warehouse with one leaked email fails it."""
    leaky = tmp_path / "leaky.duckdb"
    shutil.copy(built.warehouse, leaky)
    (email,) = duckdb.sql(
        f"select email from '{built.raw_dir}/customers.parquet' limit 1"
    ).fetchall()[0]
    with duckdb.connect(str(leaky)) as con:
        con.execute("create table pseudonymized.leak as select ? as contact", [email.upper()])
    columns = direct_identifier_source_columns(_manifest(built))
    leaks = scan_for_raw_identifiers(leaky, built.raw_dir, columns)
    assert [(leak.relation, leak.column) for leak in leaks] == [("pseudonymized.leak", "contact")]


def test_the_key_appears_in_no_artifact_log_database_or_output(built):
    assert files_containing(TEST_KEY, [built.target_dir, built.log_dir, built.warehouse]) == []
    assert all(TEST_KEY not in output for output in built.outputs)


def test_secret_scan_finds_a_planted_key(built, tmp_path):
    (tmp_path / "debug.log").write_text(f"oops {TEST_KEY} oops")
    assert files_containing(TEST_KEY, [built.target_dir, tmp_path]) == [tmp_path / "debug.log"]


# --- scenario tests: each runs dbt on its own warehouse -----------------------


@pytest.fixture
def fresh(tmp_path, faulty_raw) -> DbtProject:
    return DbtProject(tmp_path, faulty_raw)


CUSTOMERS = [
    "--select",
    "+int_customers_pseudonymized",
    "int_pseudonym_key_registry",
    "--indirect-selection",
    "cautious",
]


def _customer_keys(project: DbtProject) -> set[str]:
    return {
        r[0]
        for r in project.query("select customer_key from pseudonymized.int_customers_pseudonymized")
    }


@pytest.mark.parametrize("key", ["", "   ", "too-short"])
def test_a_missing_or_unusable_key_stops_the_build_naming_the_variable(fresh, key):
    fresh.key = key
    result = fresh.dbt("build", *CUSTOMERS)
    assert not result.success
    assert "DBT_ENV_SECRET_PSEUDONYM_KEY" in result.output
    if fresh.warehouse.exists():  # nothing keyed was written, NULL or otherwise
        with duckdb.connect(str(fresh.warehouse), read_only=True) as con:
            tables = con.sql(
                "select table_name from duckdb_tables() where schema_name = 'pseudonymized'"
            )
            assert tables.fetchall() == []


def test_key_rotation_stops_until_a_full_refresh_then_changes_every_pseudonym(fresh):
    assert fresh.dbt("build", *CUSTOMERS).success
    first = _customer_keys(fresh)
    assert fresh.dbt("build", *CUSTOMERS).success
    assert _customer_keys(fresh) == first, "same key, same pseudonyms"

    fresh.key = TEST_KEY + "-rotated"
    refused = fresh.dbt("build", *CUSTOMERS)
    assert not refused.success
    assert "The pseudonymization key changed since the last build" in refused.output
    assert "--full-refresh" in refused.output
    assert _customer_keys(fresh) == first, "a refused run must leave the tables as they were"

    assert fresh.dbt("build", "--full-refresh", *CUSTOMERS).success
    rotated = _customer_keys(fresh)
    assert len(rotated) == len(first) and not rotated & first
    assert fresh.key not in "".join(fresh.outputs) and TEST_KEY not in "".join(fresh.outputs)


def test_identifier_guard_fails_and_drops_models_that_leak_identifiers(tmp_path, faulty_raw):
    """A model past staging that selects email (its contract switched off, as a
    careless edit would) fails the build, and the leaky table is not kept; and
    documenting a leak does not make it pass: direct_identifier is refused."""
    project, project_copy = project_with_fixtures(
        tmp_path,
        faulty_raw,
        {
            "models/pseudonymized/int_leaky_fixture.sql": (
                "{{ config(contract={'enforced': false}) }}\n"
                "select customer_id, email from {{ ref('stg_shop__customers') }}\n"
            ),
            "models/pseudonymized/int_documented_leak_fixture.sql": (
                "select email from {{ ref('stg_shop__customers') }}\n"
            ),
            "models/pseudonymized/_leaky_fixture.yml": (
                "version: 2\nmodels:\n  - name: int_documented_leak_fixture\n"
                "    description: leak\n"
                "    columns:\n      - name: email\n        data_type: varchar\n"
                "        description: leak\n        config:\n          meta:\n"
                "            privacy:\n              classification: direct_identifier\n"
                "              data_category: user.contact.email\n"
                "              justification: none\n"
            ),
        },
    )
    result = project.dbt(
        "run",
        "--select",
        "+int_leaky_fixture",
        "int_documented_leak_fixture",
        project_dir=project_copy,
    )
    assert not result.success
    assert "Privacy check failed for" in result.output
    assert "customer_id: undocumented column" in result.output
    assert "email: undocumented column" in result.output
    assert "email: direct identifier past staging" in result.output
    assert "@example" not in result.output, "the failure names columns, never values"
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        left = con.sql(
            "select count(*) from duckdb_tables() "
            "where table_name in ('int_leaky_fixture', 'int_documented_leak_fixture')"
        )
        assert left.fetchall() == [(0,)]
