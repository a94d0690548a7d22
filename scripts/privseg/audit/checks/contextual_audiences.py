"""contextual_audiences: a published model that declares meta.privacy.data_basis `contextual`
(the contextual audiences) cannot be joined back to a person or a visit, counts at least k visits
and k distinct visitors in every row, and holds anonymous visits only where its purpose's legal
basis allows them.

Non-joinability, from the manifest and the column-level lineage: no column is a pseudonym, none
carries a keyed hash (a customer or session key) that is not aggregated (a count of distinct
visits reads the session key, and shows none), none is a date or time of the visits (a published
date may only be non-personal, such as the as-of date), and every identifying value (a direct
or quasi-identifier) reaches it generalized or aggregated: a behavioural category such as the
product category a visit looked at may be a published category, counted over k visits.

k, from the warehouse: every published row is matched against the visits of the model it
declares in meta.privacy.visits_model (one row per visit, with session_key and customer_key) on
every published context column (a value 'all' matches any), and must count at least k distinct
visits and k distinct visitors (the logged-in customer, or the visit itself when anonymous).

Basis, from the seed consent_purposes: a purpose whose legal basis is consent has nobody to ask
in anonymous traffic, so its visits model must hold no visit without a customer_key.
Findings are counts per table, never a value or a key."""

from __future__ import annotations

import duckdb

from privseg.audit.catalog import warehouse_catalog
from privseg.audit.context import AuditRun
from privseg.core.manifest import models, privacy_meta, relation
from privseg.lineage.model import (
    AGGREGATED,
    DIRECT_IDENTIFIER,
    GENERALIZED,
    HASHED,
    NON_PERSONAL,
    ProjectLineage,
)
from privseg.lineage.paths import trace_column
from privseg.lineage.project import trace_project

DATA_BASIS = "contextual"
# Source classifications that single out a person or a device: never published as they are.
IDENTIFYING = {DIRECT_IDENTIFIER, "quasi_identifier", "pseudonym"}
# Published columns that say which rows are totals; they are not matched against visits.
BOOKKEEPING = {"cell_level"}
ALL = "all"


def contextual_models(manifest: dict) -> list[dict]:
    return [
        node
        for node in models(manifest)
        if privacy_meta(node).get("data_basis") == DATA_BASIS
        and privacy_meta(node).get("published")
    ]


def _node(manifest: dict, name: str) -> dict | None:
    for node in models(manifest):
        if node["name"] == name:
            return node
    return None


def check_not_joinable(manifest: dict, lineage: ProjectLineage) -> list[str]:
    """No key, no visit date or time, and no personal value that is not generalized or
    aggregated, in any column of a contextual model."""
    findings = []
    for node in contextual_models(manifest):
        for name, column in node["columns"].items():
            privacy = privacy_meta(column)
            data_type = (column.get("data_type") or "").lower()
            if privacy.get("classification") == "pseudonym":
                findings.append(f"{node['name']}.{name}: a pseudonym (a key to a person)")
            if "time" in data_type or (
                data_type == "date" and privacy.get("classification") != NON_PERSONAL
            ):
                findings.append(f"{node['name']}.{name}: a {data_type} of the visits")
            for path in trace_column(lineage, node["unique_id"], name):
                source = path.source
                if not path.carries_value or source.classification == NON_PERSONAL:
                    continue
                if HASHED in path.steps and AGGREGATED not in path.steps:
                    findings.append(
                        f"{node['name']}.{name}: carries a keyed hash of {source.label}"
                    )
                elif source.classification in IDENTIFYING and not path.steps & {
                    GENERALIZED,
                    AGGREGATED,
                }:
                    findings.append(
                        f"{node['name']}.{name}: carries {source.label} "
                        f"({source.classification or 'unclassified'}) as it is"
                    )
    return sorted(set(findings))


def check_visits_and_visitors(con: duckdb.DuckDBPyConnection, manifest: dict, k: int) -> list[str]:
    """Published rows matching fewer than k visits or k distinct visitors, per table."""
    findings = []
    for node in contextual_models(manifest):
        meta = privacy_meta(node)
        table_k = int(meta.get("k", k))
        visits = _node(manifest, meta.get("visits_model") or "")
        if visits is None:
            findings.append(
                f"{node['name']}: meta.privacy.visits_model names no model of this project"
            )
            continue
        context = [c for c in meta.get("quasi_identifiers") or [] if c not in BOOKKEEPING]
        missing = [
            c for c in [*context, "session_key", "customer_key"] if c not in visits["columns"]
        ]
        if not context or missing:
            findings.append(
                f"{node['name']}: its visits model {visits['name']} lacks {', '.join(missing)}"
                if missing
                else f"{node['name']}: no context columns (meta.privacy.quasi_identifiers)"
            )
            continue
        matches = " and ".join(
            f"(published.{c} = '{ALL}' or published.{c} = visits.{c})" for c in context
        )
        published_columns = ", ".join(f"published.{c}" for c in context)
        (rows, below_visits, below_visitors) = con.execute(
            f"""
            with matched as (
                select
                    {published_columns},
                    count(distinct visits.session_key) as visit_count,
                    count(distinct coalesce(visits.customer_key, visits.session_key))
                        as visitor_count
                from {relation(node)} as published
                left join {relation(visits)} as visits on {matches}
                group by all
            )
            select count(*), count(*) filter (where visit_count < ?),
                count(*) filter (where visitor_count < ?)
            from matched
            """,
            [table_k, table_k],
        ).fetchone()
        if below_visits:
            findings.append(
                f"{node['name']}: {below_visits} of {rows} rows match fewer than k={table_k} visits"
            )
        if below_visitors:
            findings.append(
                f"{node['name']}: {below_visitors} of {rows} rows match fewer than k={table_k} "
                "distinct visitors"
            )
    return findings


def check_basis(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[str]:
    """Anonymous visits in a visits model whose purpose rests on consent."""
    findings = []
    for node in contextual_models(manifest):
        meta = privacy_meta(node)
        visits = _node(manifest, meta.get("visits_model") or "")
        purpose = meta.get("consent_purpose")
        if visits is None or "customer_key" not in visits["columns"]:
            continue
        row = con.execute(
            "select legal_basis from reference.consent_purposes where consent_purpose = ?",
            [purpose],
        ).fetchone()
        if row is None:
            findings.append(f"{node['name']}: purpose '{purpose}' is not in consent_purposes")
            continue
        if row[0].strip().lower().startswith("consent"):
            (anonymous,) = con.execute(
                f"select count(*) from {relation(visits)} where customer_key is null"
            ).fetchone()
            if anonymous:
                findings.append(
                    f"{visits['name']}: {anonymous} anonymous visits under '{purpose}', "
                    "whose legal basis is consent"
                )
    return findings


def run(audit: AuditRun) -> list[str]:
    if audit.lineage is None:
        catalog = warehouse_catalog(audit.connection, audit.manifest)
        audit.lineage = trace_project(audit.manifest, catalog, target_dir=audit.settings.target_dir)
    return (
        check_not_joinable(audit.manifest, audit.lineage)
        + check_visits_and_visitors(audit.connection, audit.manifest, audit.k)
        + check_basis(audit.connection, audit.manifest)
    )
