"""triggered_audiences: a model that declares meta.privacy.data_basis `triggered` (the trigger
feed) carries only what a trigger needs, and holds only subjects with every grant their trigger
asks for.

Minimization, from the column-level lineage: the value of a personal source column reaches the
model only as the subject's pseudonym (a direct identifier through the keyed hash) or as one of
the dates the model declares in meta.privacy.trigger_inputs (a timestamp generalized to a date).
Columns that only decide which rows are kept (an order's status, an event's type) are allowed;
an amount, a product or a page carried into the feed is a finding.

Consent, from the warehouse: every row's subject holds every purpose its trigger lists in the
seed trigger_definitions (consent_purposes), counted per trigger and purpose, never named."""

from __future__ import annotations

import duckdb

from privseg.audit.catalog import warehouse_catalog
from privseg.audit.context import AuditRun
from privseg.core.manifest import models, privacy_meta, relation
from privseg.lineage.model import (
    DIRECT_IDENTIFIER,
    GENERALIZED,
    HASHED,
    NON_PERSONAL,
    ProjectLineage,
)
from privseg.lineage.paths import trace_column
from privseg.lineage.project import trace_project

DATA_BASIS = "triggered"
DEFINITIONS_SEED = "trigger_definitions"


def triggered_models(manifest: dict) -> list[dict]:
    return [n for n in models(manifest) if privacy_meta(n).get("data_basis") == DATA_BASIS]


def check_minimal_inputs(manifest: dict, lineage: ProjectLineage) -> list[str]:
    """Every value-carrying path of a triggered model ends in a seed or non-personal column, a
    direct identifier through the keyed hash, or a declared trigger input made a date."""
    findings = []
    for node in triggered_models(manifest):
        declared = set(privacy_meta(node).get("trigger_inputs") or [])
        if not declared:
            findings.append(
                f"{node['name']}: data_basis triggered without meta.privacy.trigger_inputs "
                "(the source dates a trigger may carry)"
            )
        for column in node["columns"]:
            for path in trace_column(lineage, node["unique_id"], column):
                source = path.source
                if not path.carries_value or source.classification == NON_PERSONAL:
                    continue
                if source.classification == DIRECT_IDENTIFIER and HASHED in path.steps:
                    continue
                if source.label in declared and GENERALIZED in path.steps:
                    continue
                findings.append(
                    f"{node['name']}.{column}: carries {source.label} "
                    f"({source.classification or 'unclassified'}), which is not the subject's "
                    "pseudonym nor a declared trigger input made a date"
                )
    return sorted(set(findings))


def check_trigger_consent(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[str]:
    """Rows whose subject lacks a purpose their trigger lists, per trigger and purpose."""
    seeds = [
        n
        for n in manifest["nodes"].values()
        if n.get("resource_type") == "seed" and n["name"] == DEFINITIONS_SEED
    ]
    findings = []
    for node in triggered_models(manifest):
        if not seeds:
            findings.append(f"{node['name']}: no seed {DEFINITIONS_SEED} to read its purposes")
            continue
        rows = con.execute(
            f"""
            with purposes as (
                select trigger_type,
                    unnest(string_split(trim(consent_purposes), ' ')) as consent_purpose
                from {relation(seeds[0])}
            )
            select feed.trigger_type, coalesce(purposes.consent_purpose, '(undefined)'),
                count(distinct feed.customer_key)
            from {relation(node)} as feed
            left join purposes on feed.trigger_type = purposes.trigger_type
            where coalesce(purposes.consent_purpose, '-') <> ''
                and not exists (
                    select 1 from consent.int_consented_subjects as granted
                    where granted.customer_key = feed.customer_key
                        and granted.consent_purpose = purposes.consent_purpose
                )
            group by 1, 2
            order by 1, 2
            """
        ).fetchall()
        findings.extend(
            f"{node['name']}: {count} subjects of trigger '{trigger}' without a valid "
            f"'{purpose}' grant"
            for trigger, purpose, count in rows
        )
    return findings


def run(audit: AuditRun) -> list[str]:
    if audit.lineage is None:
        catalog = warehouse_catalog(audit.connection, audit.manifest)
        audit.lineage = trace_project(audit.manifest, catalog, target_dir=audit.settings.target_dir)
    return check_minimal_inputs(audit.manifest, audit.lineage) + check_trigger_consent(
        audit.connection, audit.manifest
    )
