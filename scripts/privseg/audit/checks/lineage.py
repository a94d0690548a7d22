"""lineage: every column past staging traces to classified source columns, and a mart or
published column reaches a direct identifier only through a keyed hash or an aggregate."""

from __future__ import annotations

from privseg.audit.catalog import warehouse_catalog
from privseg.audit.context import AuditRun
from privseg.lineage.project import trace_project


def run(audit: AuditRun) -> list[str]:
    """Trace the project against the warehouse's columns; keep the lineage for the report."""
    catalog = warehouse_catalog(audit.connection, audit.manifest)
    audit.lineage = trace_project(audit.manifest, catalog, target_dir=audit.settings.target_dir)
    return audit.lineage.findings
