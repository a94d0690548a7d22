"""published_k_anonymity: every published table is k-anonymous (or every cell counts >= k
subjects) and l-diverse in its declared sensitive attribute."""

from __future__ import annotations

import duckdb

from privseg.audit.context import AuditRun, ClassSizes
from privseg.audit.facts import class_sizes
from privseg.core.manifest import privacy_meta, published_models, relation


def check_published_k_anonymity(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    default_k: int,
    default_l: int,
    sizes: dict[str, ClassSizes],
) -> list[str]:
    """Findings for every published table below its k or l: the ones it declares
    (meta.privacy.k and .l, as the dbt macro published_privacy reads them), else the defaults
    (vars segments_k and segments_l). Fills `sizes` (class size histogram and risk per table)
    for the report."""
    findings = []
    for node in published_models(manifest):
        meta = privacy_meta(node)
        k, l_diverse = int(meta.get("k", default_k)), int(meta.get("l", default_l))
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
        sensitive = meta.get("sensitive_attribute")
        if sensitive and not count_column:
            group_by = ", ".join(f'"{q}"' for q in quasi)
            (not_diverse,) = con.execute(
                f"select count(*) filter (where v < ?) from (select count(distinct "
                f'"{sensitive}") as v from {relation(node)} group by {group_by})',
                [l_diverse],
            ).fetchone()
            if not_diverse:
                findings.append(
                    f"{node['name']}: {not_diverse} classes with fewer than l={l_diverse} "
                    f"distinct {sensitive} values"
                )
    return findings


def run(audit: AuditRun) -> list[str]:
    return check_published_k_anonymity(
        audit.connection, audit.manifest, audit.k, audit.l_diverse, audit.class_sizes
    )
