"""build_results: every node of the build succeeded (read from the build's run results)."""

from __future__ import annotations

from privseg.audit.context import AuditRun
from privseg.core.manifest import failed_nodes


def run(audit: AuditRun) -> list[str]:
    return failed_nodes(audit.results)
