"""The audit report as one self-contained HTML page: `render_html(report)` fills
templates/report.html.j2 with the dict the audit writes to target/privacy_audit.json.

What needs deciding is decided here (which lineage path is a leak, how quarantine rows group,
the charts' geometry in charts.py); the templates only lay it out. The check descriptions of the
method section come from the audit's check registry.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from privseg.audit.registry import BY_NAME, CHECKS, invariant_text
from privseg.report.charts import Bar, hbar_chart, histogram_chart, no_data_svg
from privseg.report.environment import TEMPLATES, environment
from privseg.report.values import as_dict, as_list, dicts, fmt_number, number, slug

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# Section id -> heading. Order is the page order.
SECTIONS = {
    "summary": "Summary",
    "checks": "Checks",
    "published-tables": "Published tables",
    "release": "The release as a whole",
    "charts": "Charts",
    "ropa": "Record of processing activities",
    "method": "Method",
}

# Steps that protect a value on its way from a source column to a mart column, by strength.
STEP_STYLES = {
    "hashed": "step-hashed",
    "pseudonymized": "step-hashed",
    "generalized": "step-generalized",
    "aggregated": "step-aggregated",
    "consent_filtered": "step-consent",
    "suppressed": "step-suppressed",
    "noised": "step-suppressed",
    "passed_through": "step-passed",
}
# A direct identifier is protected only by one of these; anything else is a leak.
PROTECTS_DIRECT_IDENTIFIER = frozenset({"hashed", "pseudonymized", "aggregated"})

CLASSIFICATION_STYLES = {
    "direct_identifier": "cls-direct",
    "quasi_identifier": "cls-quasi",
    "sensitive": "cls-sensitive",
    "pseudonym": "cls-pseudonym",
    "behavioral": "cls-behavioral",
    "aggregate": "cls-aggregate",
    "non_personal": "cls-non-personal",
}

# Optional top-level parts of a report and how the page refers to them when they are absent.
OPTIONAL_PARTS = {
    "checks": "check results",
    "published_tables": "published table facts",
    "segment_sizes": "segment sizes",
    "consent_coverage": "consent coverage",
    "quarantine": "quarantine counts",
    "erasure": "erasure counts",
    "ropa": "record of processing activities",
    "release": "release-level results (differencing and magnitude rules)",
}

# Exposures listed in the release section; the JSON report holds every one.
MAX_EXPOSURES = 100


def render_html(report: dict) -> str:
    """The whole audit report as one self-contained HTML page (no network, no script)."""
    report = as_dict(report)
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        csp=CSP,
        style=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        sections=SECTIONS,
        optional=OPTIONAL_PARTS,
        missing=[label for key, label in OPTIONAL_PARTS.items() if key not in report],
        checks=dicts(report.get("checks")),
        failed=[
            str(check.get("name", "unnamed") or "")
            for check in dicts(report.get("checks"))
            if check.get("status") != "pass"
        ],
        step_styles=STEP_STYLES,
        classification_styles=CLASSIFICATION_STYLES,
        tables=[
            _table(table, report.get("k"), as_dict(report.get("attribute_disclosure")))
            for table in dicts(report.get("published_tables"))
        ],
        charts=_charts(report),
        release=_release(report),
        methods=_methods(report),
    )


def _table(table: dict, k: Any, diversity: dict) -> dict:
    """A published table's card: its facts, the diversity of its sensitive attribute (check
    attribute_disclosure) and, per column, lineage paths and protections."""
    smallest, k_value = number(table.get("smallest_class")), number(k)
    name = table.get("name", "unnamed")
    return {
        "table": table,
        "name": name,
        "diversity": as_dict(diversity.get(name)),
        "unit": "cells" if table.get("kind") == "aggregated" else "equivalence classes",
        "below_k": smallest is not None and k_value is not None and smallest < k_value,
        "columns": [_column(column) for column in dicts(table.get("columns"))],
    }


def _column(column: dict) -> dict:
    """Lineage paths (a path is a leak when it carries a direct identifier's value without a
    protecting step) and the protection badges of one published column."""
    paths, badges, alarm = [], [], False
    seen_steps: set[tuple[str, bool]] = set()
    for lineage in dicts(column.get("lineage")):
        steps = [str(s) for s in as_list(lineage.get("steps"))]
        direct = lineage.get("source_classification") == "direct_identifier"
        # A column that only selects the output (a case condition, a band lookup's join key)
        # does not carry the identifier's value: the lineage marks it carries_value false.
        carries = lineage.get("carries_value", True) is not False
        leak = direct and carries and not PROTECTS_DIRECT_IDENTIFIER.intersection(steps)
        alarm = alarm or leak
        paths.append(
            {
                "parts": [str(p) for p in as_list(lineage.get("path"))]
                or [str(lineage.get("source", "?"))],
                "leak": leak,
                "source": lineage.get("source"),
                "source_classification": lineage.get("source_classification"),
                "carries_value": carries,
            }
        )
        for step in steps:
            alarming = leak and step == "passed_through"
            if (step, alarming) not in seen_steps:
                seen_steps.add((step, alarming))
                badges.append({"step": step, "alarm": alarming})
    return {"column": column, "paths": paths, "badges": badges, "alarm": alarm}


def _release(report: dict) -> dict[str, Any] | None:
    """The release section: the attacker model's parameters and size, per published table what
    the release checks found, and the exposures (None when the report has no release part)."""
    if "release" not in report:
        return None
    release = as_dict(report.get("release"))
    differencing = as_dict(release.get("differencing"))
    magnitudes = as_dict(release.get("magnitude_rules"))
    rule = as_dict(differencing.get("magnitude_rule")) or as_dict(magnitudes.get("rule"))
    exposures = dicts(differencing.get("exposures"))
    counted = as_dict(differencing.get("tables"))
    checked = as_dict(magnitudes.get("tables"))
    tables = []
    for name in sorted(set(counted) | set(checked)):
        document, rules = as_dict(counted.get(name)), as_dict(checked.get(name))
        exposed = number(document.get("exposures")) or 0
        broken = number(rules.get("broken")) or 0
        tables.append(
            {
                "name": name,
                "document": document,
                "rules": rules,
                "has_magnitudes": bool(rules),
                "failed": exposed > 0 or broken > 0,
            }
        )
    seconds = as_dict(differencing.get("seconds"))
    return {
        "status": differencing.get("status"),
        "error": differencing.get("error"),
        "k": differencing.get("k", report.get("k")),
        "rule": rule,
        "rule_text": _rule_text(rule, differencing.get("k", report.get("k"))),
        "variables": differencing.get("variables"),
        "released_counts": differencing.get("released_counts"),
        "count_targets": differencing.get("count_targets"),
        "magnitude_targets": differencing.get("magnitude_targets"),
        "seconds": (number(seconds.get("read")) or 0) + (number(seconds.get("bound")) or 0)
        if seconds
        else None,
        "tables": tables,
        "exposures": exposures[:MAX_EXPOSURES],
        "more_exposures": max(0, len(exposures) - MAX_EXPOSURES),
        "ran_magnitudes": "magnitude_rules" in release,
        "ran_differencing": "differencing" in release,
    }


def _rule_text(rule: dict, k: Any) -> str:
    """The magnitude rules in words: minimum contributors and the dominance rule."""
    minimum = rule.get("min_contributors", k if k is not None else "k")
    if rule.get("dominance", "p_percent") == "nk":
        dominance = (
            f"({rule.get('n', 2)}, {rule.get('k_percent', 85)}%)-dominance: the "
            f"{rule.get('n', 2)} largest contributors hold at most {rule.get('k_percent', 85)}% "
            "of the sum"
        )
    else:
        p = rule.get("p", 10)
        dominance = (
            f"p% rule with p = {p}: the rest of the sum, beyond its two largest contributors, "
            f"is at least {p}% of the largest, so the second largest cannot estimate the "
            f"largest to within {p}%"
        )
    return f"at least {minimum} contributors; {dominance}"


def _charts(report: dict) -> dict[str, Markup | None]:
    """Each chart's SVG; None when the report lacks the part it draws."""
    return {
        "segments": _segment_chart(report) if "segment_sizes" in report else None,
        "consent": _consent_chart(report) if "consent_coverage" in report else None,
        "quarantine": _quarantine_chart(report) if "quarantine" in report else None,
        "class_sizes": _class_size_charts(report) if "published_tables" in report else None,
    }


def _segment_chart(report: dict) -> Markup:
    bars = []
    for row in dicts(report.get("segment_sizes")):
        members = number(row.get("members")) or 0.0
        published = row.get("published") is not False
        label = str(row.get("segment", "?"))
        text = fmt_number(row.get("members")) + ("" if published else " · withheld")
        tooltip = f"{label}: {text} members" + ("" if published else " (not published)")
        bars.append(Bar(label, members, text, tooltip, "" if published else "withheld"))
    return hbar_chart("chart-segments", "Segment sizes (members)", bars)


def _consent_chart(report: dict) -> Markup:
    bars = []
    for row in dicts(report.get("consent_coverage")):
        granted, subjects = number(row.get("granted")), number(row.get("subjects"))
        purpose = str(row.get("purpose", "?"))
        if granted is not None and subjects:
            share = granted / subjects
            of = f"{fmt_number(row.get('granted'))} of {fmt_number(row.get('subjects'))}"
            text = f"{share:.1%} ({of})"
        else:
            share = 0.0
            text = f"{fmt_number(row.get('granted'))} granted, subjects unknown"
        bars.append(Bar(purpose, share, text, f"{purpose}: {text}"))
    title = "Consent coverage per purpose (share of subjects with an active grant)"
    return hbar_chart("chart-consent", title, bars, scale_max=1.0)


def _quarantine_chart(report: dict) -> Markup:
    title = "Quarantined rows by reason"
    by_reason: dict[str, dict[str, float]] = {}
    for row in dicts(report.get("quarantine")):
        tables = by_reason.setdefault(str(row.get("reason", "?")), {})
        table = str(row.get("source_table", "?"))
        tables[table] = tables.get(table, 0.0) + (number(row.get("rows")) or 0.0)
    bars = []
    for reason, tables in sorted(by_reason.items(), key=lambda item: -sum(item[1].values())):
        total = sum(tables.values())
        detail = "; ".join(f"{t}: {fmt_number(int(n))}" for t, n in sorted(tables.items()))
        text = f"{fmt_number(int(total))} {'row' if total == 1 else 'rows'}"
        bars.append(Bar(reason, total, text, f"{reason}: {detail}", "quarantine"))
    if not bars:  # the audit read the summary and it is empty: every raw row was valid
        return no_data_svg("chart-quarantine", title, "no row was quarantined")
    return hbar_chart("chart-quarantine", title, bars)


def _class_size_charts(report: dict) -> list[dict] | Markup:
    """One histogram per published table (a 'no published table' chart when there is none)."""
    tables = dicts(report.get("published_tables"))
    if not tables:
        return no_data_svg("chart-class-sizes-empty", "Class sizes", "no published table")
    figures = []
    for table in tables:
        name = str(table.get("name", "unnamed"))
        unit = "cells" if table.get("kind") == "aggregated" else "equivalence classes"
        histogram = dicts(table.get("class_size_histogram"))
        title = f"{name}: {unit} by size, vs k"
        chart_id = f"chart-classes-{slug(name)}"
        figures.append(
            {
                "name": name,
                "unit": unit,
                "svg": histogram_chart(chart_id, title, histogram, report.get("k"), unit),
            }
        )
    return figures


def _methods(report: dict) -> list[dict]:
    """The registry's checks and any other check the report holds, with how each is checked."""
    names = [str(c.get("name")) for c in dicts(report.get("checks")) if c.get("name")]
    claims = {str(c.get("name")): c.get("claim") for c in dicts(report.get("checks"))}
    methods = []
    for name in dict.fromkeys([*names, *(check.name for check in CHECKS)]):
        check = BY_NAME.get(name)
        if check is not None:
            text = f"{check.method} (invariant {invariant_text(check.invariants)})"
        else:
            text = f"Claim: {claims.get(name)}." if claims.get(name) else "No description."
        methods.append({"name": name, "text": text, "ran": name in names})
    return methods
