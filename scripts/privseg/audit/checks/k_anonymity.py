"""published_k_anonymity: every published table is k-anonymous (or every cell counts >= k
subjects). Its sensitive attribute's diversity is the check attribute_disclosure's."""

from __future__ import annotations

import duckdb

from privseg.audit.context import AuditRun, ClassSizes
from privseg.audit.facts import class_sizes
from privseg.core.manifest import privacy_meta, published_models


def check_published_k_anonymity(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    default_k: int,
    sizes: dict[str, ClassSizes],
) -> list[str]:
    """Findings for every published table below its k: the one it declares (meta.privacy.k, as
    the dbt macro published_privacy reads it), else the default (var segments_k). Fills `sizes`
    (class size histogram and risk per table) for the report."""
    findings = []
    for node in published_models(manifest):
        meta = privacy_meta(node)
        k = int(meta.get("k", default_k))
        quasi = meta.get("quasi_identifiers") or []
        count_column = meta.get("subject_count_column")
        if not quasi and not count_column:
            findings.append(f"{node['name']}: published without quasi_identifiers")
            continue
        histogram, risk = sizes[node["name"]] = class_sizes(con, node)
        below = sum(h["classes"] for h in histogram if h["size"] < k)
        if below and count_column:
            findings.append(f"{node['name']}: {below} cells count fewer than k={k} subjects")
        elif below:
            findings.append(
                f"{node['name']}: {below} equivalence classes below k={k} "
                f"(smallest {risk['smallest_class']})"
            )
    return findings


def run(audit: AuditRun) -> list[str]:
    return check_published_k_anonymity(audit.connection, audit.manifest, audit.k, audit.class_sizes)
