"""magnitude_rules: every sum or mean a published table shows comes from enough contributors and
is not dominated by its largest ones, and nothing computed from a withheld one is published.

Every non-NULL published magnitude (meta.privacy.release.magnitudes) is matched to its
candidate row (on the declared dimension and population key columns, and cell_level where the
candidates have one, as the dbt test magnitude_protected matches them) and its statistics
(magnitude_statistics: sum, contributors, the largest and second largest single values) are
put through release_protection.magnitude_primary() with the model's k and its declared rule
(var release_magnitude_rule by default: the p% rule with p = 10). A row of nobody (its first
count 0) is not sensitive and not checked. The columns a magnitude declares as derived from it
(a rate from a count of opens) must be NULL wherever it is. Findings name the table, the column
and how many values break which rule, never a value.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import duckdb

from privseg.audit.context import AuditRun
from privseg.audit.release_document import (
    STATISTICS_COLUMN,
    Declaration,
    declarations,
    joined_with_candidates,
)
from release_protection import ReleaseModelError, magnitude_primary

REASONS = {
    "magnitude_few_contributors": "from fewer contributors than {minimum}",
    "magnitude_dominated": "dominated by their largest contributors ({rule})",
}


def rule_text(rule: dict[str, Any]) -> str:
    if rule.get("dominance", "p_percent") == "nk":
        return f"({rule.get('n', 2)}, {rule.get('k_percent', 85)}%)-dominance"
    return f"p% rule, p = {rule.get('p', 10)}"


def check_table(
    con: duckdb.DuckDBPyConnection, declared: Declaration, default_rule: dict | None
) -> tuple[list[str], dict[str, Any]]:
    """Findings for one published aggregated table, and its summary for the report."""
    columns = [m.column for m in declared.magnitudes]
    rows = joined_with_candidates(con, declared, columns)
    (published,) = con.execute(f"select count(*) from {declared.relation}").fetchone()
    findings = []
    if len(rows) != published:
        findings.append(
            f"{declared.name}: {len(rows) - published} more rows matched to its candidates "
            f"({declared.candidates}) than it has: its key columns do not identify a candidate"
        )
    first = declared.counts[0].column
    summary: dict[str, Any] = {"name": declared.name, "checked": 0, "withheld": 0, "broken": 0}
    for magnitude in declared.magnitudes:
        rule = declared.rule_of(magnitude, default_rule)
        minimum = int(rule.get("min_contributors", declared.k))
        broken: Counter[str] = Counter()
        unmatched = 0
        for row in rows:
            value = row[magnitude.column]
            if value is None:
                summary["withheld"] += 1
                continue
            if not row[first]:
                continue  # a row of nobody
            summary["checked"] += 1
            raw = row[STATISTICS_COLUMN]
            stats = (json.loads(raw) if raw else {}).get(magnitude.measure)
            if not isinstance(stats, dict):
                unmatched += 1
                continue
            try:
                reason = magnitude_primary(
                    stats.get("contributors"),
                    float(stats.get("sum") or 0.0),
                    stats.get("top1"),
                    stats.get("top2"),
                    declared.k,
                    rule,
                )
            except ReleaseModelError as error:  # a rule it does not know
                findings.append(f"{declared.name}.{magnitude.column}: {error}")
                break
            if reason:
                broken[reason] += 1
        where = f"{declared.name}.{magnitude.column}"
        if unmatched:
            findings.append(
                f"{where}: {unmatched} published values without statistics of "
                f"{magnitude.measure} in {declared.candidates}"
            )
        for reason, values in sorted(broken.items()):
            text = REASONS.get(reason, reason).format(minimum=minimum, rule=rule_text(rule))
            findings.append(f"{where}: {values} published values {text}")
        summary["broken"] += sum(broken.values()) + unmatched
        for derived in magnitude.derived:
            leaked = sum(
                1 for row in rows if row[magnitude.column] is None and row[derived] is not None
            )
            if leaked:
                findings.append(
                    f"{declared.name}.{derived}: published in {leaked} rows where "
                    f"{magnitude.column}, which it is computed from, is withheld"
                )
                summary["broken"] += leaked
    return findings, summary


def check_magnitude_rules(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    default_k: int,
    magnitude_rule: dict | None,
    section: dict[str, Any],
) -> list[str]:
    """Findings for every published magnitude that breaks its rules; fills `section` (the
    report's per-table counts: values checked, withheld, breaking a rule)."""
    found, findings = declarations(manifest, default_k)
    tables = {}
    for declared in found:
        if declared.records or not declared.magnitudes:
            continue
        table_findings, summary = check_table(con, declared, magnitude_rule)
        findings += table_findings
        tables[declared.name] = summary
        logging.info(
            "magnitude_rules: %s: %d published values checked, %d withheld, %d breaking a rule",
            declared.name,
            summary["checked"],
            summary["withheld"],
            summary["broken"],
        )
    section.update(
        {
            "status": "fail" if findings else "pass",
            "rule": dict(magnitude_rule or {}),
            "tables": tables,
        }
    )
    return findings


def run(audit: AuditRun) -> list[str]:
    return check_magnitude_rules(
        audit.connection,
        audit.manifest,
        audit.k,
        audit.magnitude_rule,
        audit.release.setdefault("magnitude_rules", {}),
    )
