"""The audit's k-anonymity check reads k and l from each published model's meta.privacy,
as the dbt tests do, and falls back to the project defaults only when a model declares none."""

from __future__ import annotations

import duckdb

from privseg.audit.checks.k_anonymity import check_published_k_anonymity


def published(name: str, **declared: object) -> dict:
    return {
        "resource_type": "model",
        "name": name,
        "schema": "segments",
        "alias": "profiles",
        "config": {
            "meta": {"privacy": {"published": True, "quasi_identifiers": ["band"], **declared}}
        },
    }


def test_each_published_table_is_checked_with_its_own_k_and_l():
    con = duckdb.connect()
    con.execute("create schema segments")
    # Class 'a': 3 rows, 2 categories; class 'b': 2 rows, 2 categories.
    con.execute(
        "create table segments.profiles as select * from (values "
        "('a', 'books'), ('a', 'toys'), ('a', 'books'), ('b', 'books'), ('b', 'toys')"
        ") as t(band, category)"
    )
    nodes = [
        published("declares_nothing", sensitive_attribute="category"),
        published("declares_k_and_l", sensitive_attribute="category", k=3, l=3),
    ]
    manifest = {"nodes": {f"model.p.{node['name']}": node for node in nodes}}
    sizes: dict = {}
    findings = check_published_k_anonymity(con, manifest, 2, 2, sizes)
    assert findings == [
        "declares_k_and_l: 1 equivalence classes below k=3 (smallest 2)",
        "declares_k_and_l: 2 classes with fewer than l=3 distinct category values",
    ]
    assert set(sizes) == {"declares_nothing", "declares_k_and_l"}
