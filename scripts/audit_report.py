"""Self-contained HTML rendering of the privacy audit report, for auditors who read it offline.

    python scripts/audit_report.py [--report target/privacy_audit.json] [--out FILE] [--verbose]

`render_html(report)` turns the dict that scripts/audit_privacy.py writes to
target/privacy_audit.json into one HTML page: inline CSS, hand-written inline SVG charts, no
JavaScript, no fonts, images or links to anything outside the file. A Content-Security-Policy
meta tag (default-src 'none') makes the browser refuse any load even if a future change adds
one by mistake. Every string from the report (table and column names come from dbt metadata)
is HTML-escaped.

Sections (ids are stable; tests look them up): summary, checks, published-tables, charts,
ropa, method. A partial report (an audit that failed half-way) renders what it holds and says
what is missing.

The command line re-renders the page from a saved JSON report, writing it atomically (temp
file in the target folder, then rename). Exit codes: 0 written, 2 the report is missing or is
not an audit report.
"""

from __future__ import annotations

import argparse
import bisect
import html
import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Settings, setup_logging, write_text_atomically

REPORT = "privacy_audit.json"

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# Section id -> heading. Order is the page order.
SECTIONS = {
    "summary": "Summary",
    "checks": "Checks",
    "published-tables": "Published tables",
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

# What each check of scripts/audit_privacy.py recomputes (shown in the method section).
CHECK_METHODS = {
    "build_results": (
        "Reads the build's run results and fails if any model, seed, snapshot or test did not "
        "succeed (invariant 7: nothing is published from a failed build)."
    ),
    "published_k_anonymity": (
        "For every model marked published, re-runs a GROUP BY over its declared "
        "quasi-identifiers on the warehouse and counts rows per equivalence class; every class "
        "must hold at least k rows, and at least l distinct values of the sensitive attribute. "
        "For aggregated tables, every cell's distinct-subject count must be at least k "
        "(invariant 6). The dbt k-anonymity tests are not consulted."
    ),
    "consent": (
        "For every consent-filtered model, counts subjects that have no valid grant for the "
        "model's purpose as of the run, against the consent ledger (invariant 3)."
    ),
    "raw_identifiers": (
        "Reads the raw source files directly (not through dbt) and searches every table past "
        "staging for any raw value of a column classified direct_identifier (invariant 1)."
    ),
    "secret_hygiene": (
        "Scans every file under the target and log folders and the warehouse file for the "
        "pseudonymization key, byte for byte (invariant 2)."
    ),
    "lineage": (
        "Parses the compiled SQL of every model with sqlglot, qualified against the columns "
        "the warehouse holds, and traces every column past staging hop by hop to source "
        "columns, classifying each hop (hashed, aggregated, generalized, passed through, "
        "consent filtered). Fails when a mart or published column carries a direct "
        "identifier's value without a keyed hash or an aggregate, when a column traces to a "
        "source column without privacy metadata, or when a model cannot be parsed "
        "(invariant 1)."
    ),
    "erasure": (
        "Computes the pseudonym of every subject with an accepted erasure request itself, "
        "from the staged requests and the key, and searches every text column of every table "
        "past staging for them (invariant 4)."
    ),
    "retention": (
        "Recomputes every within_retention test: counts the rows of the tested column dated "
        "before the as-of date minus the retention days of its category, read from the "
        "retention_policies seed (invariant 5)."
    ),
    "pii_patterns": (
        "Matches every text column of every table past staging against patterns of email "
        "addresses, phone numbers and IPv4/IPv6 addresses, whatever the column is called or "
        "classified as; counts only (invariant 1)."
    ),
}

# Optional top-level sections and how the page refers to them when they are absent.
OPTIONAL_PARTS = {
    "checks": "check results",
    "published_tables": "published table facts",
    "segment_sizes": "segment sizes",
    "consent_coverage": "consent coverage",
    "quarantine": "quarantine counts",
    "erasure": "erasure counts",
    "ropa": "record of processing activities",
}


class ReportError(Exception):
    """The input is missing or is not an audit report (exit 2)."""


# ---------------------------------------------------------------------------------------------
# Small formatting helpers


def esc(value: Any) -> str:
    """HTML-escape any value (quotes too, so the result is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt_number(value: Any, digits: int = 3) -> str:
    """1234 -> '1,234'; 0.01923 -> '0.019'; None or junk -> an em dash."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "—"
        if value.is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        return f"{value:,.{digits}g}" if abs(value) < 1 else f"{value:,.{digits}f}".rstrip("0")
    return esc(value)


def number(value: Any) -> float | None:
    """A finite number or None (bools and strings are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def dicts(value: Any) -> list[dict]:
    return [item for item in as_list(value) if isinstance(item, dict)]


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def slug(value: Any) -> str:
    text = "".join(ch if ch.isalnum() else "-" for ch in str(value).lower()).strip("-")
    return text or "unnamed"


def missing_note(what: str) -> str:
    return f'<p class="missing">Not available: this report holds no {esc(what)}.</p>'


def badge(text: Any, css: str, title: str = "") -> str:
    title_attr = f' title="{esc(title)}"' if title else ""
    return f'<span class="badge {css}"{title_attr}>{esc(text)}</span>'


def status_badge(status: Any) -> str:
    if status == "pass":
        return badge("PASS", "status-pass")
    if status == "fail":
        return badge("FAIL", "status-fail")
    return badge(status or "unknown", "status-unknown")


def definition_list(items: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{esc(term)}</dt><dd>{value}</dd>" for term, value in items)
    return f'<dl class="facts">{rows}</dl>'


def text_or_dash(value: Any) -> str:
    return esc(value) if value not in (None, "") else '<span class="muted">—</span>'


def bullet_list(items: Iterable[Any], css: str = "") -> str:
    rendered = [f"<li>{esc(item)}</li>" for item in items]
    if not rendered:
        return '<span class="muted">none</span>'
    return f'<ul class="{css}">{"".join(rendered)}</ul>' if css else f"<ul>{''.join(rendered)}</ul>"


# ---------------------------------------------------------------------------------------------
# Inline SVG charts (hand-written: no library, no script)

CHART_WIDTH = 900


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: its label, the value that sets its length, and what it says."""

    label: str
    value: float
    text: str
    tooltip: str
    css: str = ""


def no_data_svg(chart_id: str, title: str, message: str = "no data") -> str:
    return (
        f'<svg id="{esc(chart_id)}" class="chart" viewBox="0 0 {CHART_WIDTH} 60" '
        f'width="{CHART_WIDTH}" height="60" role="img" aria-label="{esc(title)}: {esc(message)}">'
        f"<title>{esc(title)}</title>"
        f'<rect class="frame" x="0.5" y="0.5" width="{CHART_WIDTH - 1}" height="59"/>'
        f'<text class="no-data" x="{CHART_WIDTH / 2}" y="35" text-anchor="middle">'
        f"{esc(message)}</text></svg>"
    )


def hbar_chart(chart_id: str, title: str, bars: list[Bar], scale_max: float | None = None) -> str:
    """Horizontal bars scaled to the largest value (or to scale_max, e.g. 1.0 for shares).

    A non-zero value gets at least 2 px so that a tiny bar beside a huge one still shows, and
    every bar carries its value as text, so the reader never has to measure a bar."""
    if not bars:
        return no_data_svg(chart_id, title)
    row, bar_height, top, bottom = 24, 15, 8, 8
    longest = max(len(bar.label) for bar in bars)
    label_width = min(220, max(80, 7 * min(longest, 30) + 12))
    text_width = 200
    plot_width = CHART_WIDTH - label_width - text_width
    top_value = scale_max if scale_max is not None else max(bar.value for bar in bars)
    top_value = top_value if top_value > 0 else 1.0
    height = top + row * len(bars) + bottom
    x0 = label_width
    parts = [
        f'<svg id="{esc(chart_id)}" class="chart" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="{CHART_WIDTH}" height="{height}" role="img" aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
    ]
    for index, bar in enumerate(bars):
        y = top + index * row
        length = max(0.0, min(1.0, bar.value / top_value)) * plot_width
        if bar.value > 0:
            length = max(length, 2.0)
        label = bar.label if len(bar.label) <= 30 else bar.label[:29] + "…"
        css = f"bar {bar.css}".strip()
        parts.append(
            f'<text class="label" x="{x0 - 8}" y="{y + bar_height - 3}" text-anchor="end">'
            f"<title>{esc(bar.label)}</title>{esc(label)}</text>"
        )
        if scale_max is not None:
            parts.append(
                f'<rect class="track" x="{x0}" y="{y}" width="{plot_width}" height="{bar_height}"/>'
            )
        parts.append(
            f'<rect class="{esc(css)}" x="{x0}" y="{y}" width="{length:.1f}" '
            f'height="{bar_height}"><title>{esc(bar.tooltip)}</title></rect>'
        )
        parts.append(
            f'<text class="value" x="{x0 + length + 6:.1f}" y="{y + bar_height - 3}">'
            f"{esc(bar.text)}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{x0}" y1="{top - 3}" x2="{x0}" y2="{height - bottom + 3}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _geometric_edges(low: int, high: int, intervals: int) -> list[int]:
    """Integer edges from low to high (both included), roughly evenly spaced on a log scale."""
    if high <= low:
        return [low]
    intervals = max(1, intervals)
    raw = [round(low * (high / low) ** (i / intervals)) for i in range(intervals + 1)]
    edges: list[int] = []
    for edge in [low, *raw, high]:
        if low <= edge <= high and (not edges or edge > edges[-1]):
            edges.append(edge)
    return edges


def class_size_bins(max_size: int, k: int, max_bins: int = 50) -> list[tuple[int, int]]:
    """Half-open integer bins [low, high) covering sizes 1..max(max_size, k), with k an edge.

    Up to max_bins sizes: one bin per size. Beyond that the bins grow geometrically (a log
    axis), with their own few bins below k, so one class of 5,000 rows does not squash the
    classes of 10 into a single pixel, and no bin straddles k."""
    k = max(1, k)
    end = max(max_size, k) + 1  # exclusive
    if end - 1 <= max_bins:
        return [(size, size + 1) for size in range(1, end)]
    below = list(range(1, k + 1)) if k <= 9 else _geometric_edges(1, k, 8)
    above = _geometric_edges(k, end, max(4, max_bins - (len(below) - 1)))
    edges = below + above[1:]
    return list(zip(edges[:-1], edges[1:], strict=True))


def histogram_chart(
    chart_id: str, title: str, histogram: list[dict], k: int | None, unit: str = "classes"
) -> str:
    """Vertical bars: how many classes (or cells) have each size, with a dashed line at k."""
    counts: dict[int, int] = {}
    for entry in histogram:
        size, classes = number(entry.get("size")), number(entry.get("classes"))
        if size is None or classes is None or size < 1 or classes <= 0:
            continue
        counts[int(size)] = counts.get(int(size), 0) + int(classes)
    if not counts:
        return no_data_svg(chart_id, title)
    threshold = k if isinstance(k, int) and k >= 1 else None
    bins = class_size_bins(max(counts), threshold or 1)
    lows = [low for low, _ in bins]
    binned = [0] * len(bins)
    for size, classes in counts.items():
        binned[bisect.bisect_right(lows, size) - 1] += classes

    left, right, top, bottom = 56, 16, 22, 46
    height = 240
    plot_width = CHART_WIDTH - left - right
    plot_height = height - top - bottom
    slot = plot_width / len(bins)
    gap = min(2.0, slot * 0.15)
    y_max = max(binned)
    parts = [
        f'<svg id="{esc(chart_id)}" class="chart histogram" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="{CHART_WIDTH}" height="{height}" role="img" aria-label="{esc(title)}">',
        f"<title>{esc(title)}</title>",
    ]
    for tick in sorted({0, y_max // 2, y_max}):
        y = top + plot_height - tick / y_max * plot_height
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_width}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{tick:,}</text>"
        )
    label_every = max(1, math.ceil(len(bins) / 16))
    per_size = all(high == low + 1 for low, high in bins)
    for index, ((low, high), classes) in enumerate(zip(bins, binned, strict=True)):
        x = left + index * slot
        sizes = f"size {low:,}" if high == low + 1 else f"sizes {low:,}–{high - 1:,}"
        if classes:
            bar_height = max(2.0, classes / y_max * plot_height)
            css = "bar below-k" if threshold and low < threshold else "bar"
            parts.append(
                f'<rect class="{css}" x="{x + gap / 2:.1f}" '
                f'y="{top + plot_height - bar_height:.1f}" '
                f'width="{slot - gap:.1f}" height="{bar_height:.1f}">'
                f"<title>{sizes}: {classes:,} {esc(unit)}</title></rect>"
            )
        # One bin per size: label the bar. Wider (log-spaced) bins: label their edges, k always.
        label_x = x + slot / 2 if per_size else x
        crowds_end = not per_size and left + plot_width - label_x < 40
        if (index % label_every == 0 and not crowds_end) or (not per_size and low == threshold):
            parts.append(
                f'<line class="axis" x1="{label_x:.1f}" y1="{top + plot_height}" '
                f'x2="{label_x:.1f}" y2="{top + plot_height + 4}"/>'
                f'<text class="tick" x="{label_x:.1f}" y="{top + plot_height + 16}" '
                f'text-anchor="middle">{low:,}</text>'
            )
    if not per_size:
        end_x = left + plot_width
        parts.append(
            f'<text class="tick" x="{end_x:.1f}" y="{top + plot_height + 16}" '
            f'text-anchor="end">{bins[-1][1] - 1:,}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{left}" y1="{top + plot_height}" x2="{left + plot_width}" '
        f'y2="{top + plot_height}"/>'
        f'<text class="axis-title" x="{left + plot_width / 2}" y="{height - 8}" '
        f'text-anchor="middle">class size (rows or subjects per class; log-spaced bins '
        f"when sizes vary widely)</text>"
    )
    if threshold:
        k_index = next((i for i, low in enumerate(lows) if low >= threshold), len(bins))
        x_k = left + k_index * slot
        parts.append(
            f'<line class="k-line" x1="{x_k:.1f}" y1="{top - 6}" x2="{x_k:.1f}" '
            f'y2="{top + plot_height}"><title>k = {threshold}</title></line>'
            f'<text class="k-label" x="{x_k + 4:.1f}" y="{top - 8}">k = {threshold}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Sections


def section(section_id: str, body: str, intro: str = "") -> str:
    intro_html = f'<p class="intro">{intro}</p>' if intro else ""
    return (
        f'<section id="{section_id}"><h2>{esc(SECTIONS[section_id])}</h2>{intro_html}{body}'
        "</section>"
    )


def summary_section(report: dict) -> str:
    status = report.get("status")
    checks = dicts(report.get("checks"))
    failed = [c for c in checks if c.get("status") != "pass"]
    if status == "pass":
        banner_css, headline = "banner-pass", "PASS"
        detail = f"All {len(checks)} checks passed." if checks else "The audit passed."
    elif status == "fail":
        banner_css, headline = "banner-fail", "FAIL"
        detail = (
            f"{len(failed)} of {len(checks)} checks failed: "
            + ", ".join(esc(c.get("name", "unnamed")) for c in failed)
            + "."
            if failed
            else "The audit did not pass."
        )
    else:
        banner_css, headline = "banner-unknown", "INCOMPLETE"
        detail = "The report records no overall status: the audit may not have finished."
    missing = [label for key, label in OPTIONAL_PARTS.items() if key not in report]
    missing_html = (
        '<p class="missing">Not available in this report: ' + esc(", ".join(missing)) + ".</p>"
        if missing
        else ""
    )
    facts = definition_list(
        [
            ("Build id", f"<code>{text_or_dash(report.get('build_id'))}</code>"),
            ("Data as of", text_or_dash(report.get("as_of"))),
            ("Audit generated at", text_or_dash(report.get("generated_at"))),
            ("k (minimum class size)", fmt_number(report.get("k"))),
            ("l (distinct sensitive values)", fmt_number(report.get("l"))),
            ("Warehouse", f"<code>{text_or_dash(report.get('warehouse'))}</code>"),
        ]
    )
    banner = (
        f'<div class="banner {banner_css}" role="status"><span class="verdict">{headline}</span>'
        f'<span class="detail">{detail}</span></div>'
    )
    return section("summary", banner + facts + missing_html)


def checks_section(report: dict) -> str:
    if "checks" not in report:
        return section("checks", missing_note(OPTIONAL_PARTS["checks"]))
    checks = dicts(report.get("checks"))
    if not checks:
        return section("checks", '<p class="muted">The audit ran no checks.</p>')
    rows = []
    for check in checks:
        findings = [str(f) for f in as_list(check.get("findings"))]
        css = "row-fail" if check.get("status") != "pass" else ""
        findings_html = (
            bullet_list(findings, "findings")
            if findings
            else '<span class="muted">no findings</span>'
        )
        seconds = number(check.get("seconds"))
        rows.append(
            f'<tr class="{css}"><td>{status_badge(check.get("status"))}</td>'
            f"<td><code>{esc(check.get('name', 'unnamed'))}</code></td>"
            f"<td>{text_or_dash(check.get('claim'))}</td>"
            f'<td class="num">{"—" if seconds is None else f"{seconds:.1f} s"}</td>'
            f"<td>{findings_html}</td></tr>"
        )
    table = (
        '<table class="grid checks"><thead><tr><th>Status</th><th>Check</th><th>Claim</th>'
        f'<th class="num">Time</th><th>Findings</th></tr></thead><tbody>{"".join(rows)}'
        "</tbody></table>"
    )
    return section(
        "checks",
        table,
        "Each check states a claim about the built warehouse and lists what contradicts it. "
        "Findings name tables, columns and counts, never personal values.",
    )


def lineage_html(column: dict) -> tuple[str, str, bool]:
    """(paths, step badges, alarm) for one published column."""
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
        path = [str(p) for p in as_list(lineage.get("path"))] or [str(lineage.get("source", "?"))]
        source = lineage.get("source")
        source_cls = lineage.get("source_classification")
        note = ""
        if source is not None:
            note = f'<span class="muted"> · source {esc(source)}'
            if source_cls:
                note += f" ({esc(source_cls)})"
            if not carries:
                note += " · decides the value, does not carry it"
            note += "</span>"
        arrow = ' <span class="arrow">←</span> '
        paths.append(
            f'<div class="path{" path-alarm" if leak else ""}"><code>'
            f"{arrow.join(esc(p) for p in path)}</code>{note}</div>"
        )
        for step in steps:
            alarming = leak and step == "passed_through"
            if (step, alarming) in seen_steps:
                continue
            seen_steps.add((step, alarming))
            if alarming:
                badges.append(
                    badge(
                        "⚠ passed_through",
                        "step-alarm",
                        "a direct identifier reaches this column without hashing or aggregation",
                    )
                )
            else:
                badges.append(badge(step, STEP_STYLES.get(step, "step-other")))
    if not paths:
        paths.append('<span class="muted">no lineage recorded</span>')
    return "".join(paths), " ".join(badges) or '<span class="muted">—</span>', alarm


def table_card(table: dict, k: Any) -> str:
    name = table.get("name", "unnamed")
    aggregated = table.get("kind") == "aggregated"
    unit = "cells" if aggregated else "equivalence classes"
    smallest = number(table.get("smallest_class"))
    k_value = number(k)
    below_k = smallest is not None and k_value is not None and smallest < k_value
    smallest_html = fmt_number(table.get("smallest_class"))
    if below_k:
        smallest_html = f'<span class="bad">{smallest_html} (below k={fmt_number(k)})</span>'
    quasi = [str(q) for q in as_list(table.get("quasi_identifiers"))]
    facts = definition_list(
        [
            ("Kind", text_or_dash(table.get("kind"))),
            ("Rows", fmt_number(table.get("rows"))),
            (
                "Quasi-identifiers",
                " ".join(f"<code>{esc(q)}</code>" for q in quasi)
                or '<span class="muted">none declared</span>',
            ),
            ("Sensitive attribute", text_or_dash(table.get("sensitive_attribute"))),
            ("Subject count column", text_or_dash(table.get("subject_count_column"))),
            (unit.capitalize(), fmt_number(table.get("classes"))),
            (f"Smallest of the {unit}", smallest_html),
            ("Max re-identification risk", fmt_number(table.get("max_risk"))),
            ("Average re-identification risk", fmt_number(table.get("avg_risk"))),
        ]
    )
    rows = []
    for column in dicts(table.get("columns")):
        paths, badges, alarm = lineage_html(column)
        classification = column.get("classification")
        cls_html = (
            badge(classification, CLASSIFICATION_STYLES.get(str(classification), "cls-other"))
            if classification
            else '<span class="muted">—</span>'
        )
        category = column.get("data_category")
        rows.append(
            f'<tr class="{"row-alarm" if alarm else ""}">'
            f"<td><code>{esc(column.get('name', '?'))}</code>"
            f'<div class="small">{text_or_dash(column.get("description"))}</div></td>'
            f"<td>{cls_html}"
            f'<div class="small"><code>{text_or_dash(category)}</code></div></td>'
            f"<td>{paths}</td><td>{badges}</td></tr>"
        )
    columns_html = (
        '<table class="grid columns"><thead><tr><th>Column</th><th>Classification</th>'
        f"<th>Lineage (mart ← source)</th><th>Protections</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else missing_note("column lineage for this table")
    )
    description = table.get("description")
    return (
        f'<article class="card" id="table-{esc(slug(name))}">'
        f"<h3><code>{esc(name)}</code>{' ' + badge('below k', 'status-fail') if below_k else ''}"
        f"</h3>"
        f"{f'<p>{esc(description)}</p>' if description else ''}{facts}{columns_html}</article>"
    )


STEP_LEGEND = (
    '<p class="legend">Protections: '
    + " ".join(
        badge(step, css)
        for step, css in [
            ("hashed", "step-hashed"),
            ("generalized", "step-generalized"),
            ("aggregated", "step-aggregated"),
            ("consent_filtered", "step-consent"),
            ("suppressed", "step-suppressed"),
            ("passed_through", "step-passed"),
        ]
    )
    + " "
    + badge("⚠ passed_through", "step-alarm")
    + " = a direct identifier reaches the column unprotected.</p>"
)


def published_tables_section(report: dict) -> str:
    if "published_tables" not in report:
        return section("published-tables", missing_note(OPTIONAL_PARTS["published_tables"]))
    tables = dicts(report.get("published_tables"))
    if not tables:
        return section("published-tables", '<p class="muted">No table is published.</p>')
    body = STEP_LEGEND + "".join(table_card(t, report.get("k")) for t in tables)
    return section(
        "published-tables",
        body,
        "Every table copied to the BI publication, with its k-anonymity facts as recomputed "
        "by the audit, and for each column the paths it takes back to its sources.",
    )


def segment_chart(report: dict) -> str:
    title = "Segment sizes (members)"
    if "segment_sizes" not in report:
        return missing_note(OPTIONAL_PARTS["segment_sizes"])
    bars = []
    for row in dicts(report.get("segment_sizes")):
        members = number(row.get("members")) or 0.0
        published = row.get("published") is not False
        label = str(row.get("segment", "?"))
        text = fmt_number(row.get("members"))
        if not published:
            text += " · withheld"
        bars.append(
            Bar(
                label=label,
                value=members,
                text=text,
                tooltip=f"{label}: {text} members" + ("" if published else " (not published)"),
                css="" if published else "withheld",
            )
        )
    return hbar_chart("chart-segments", title, bars)


def consent_chart(report: dict) -> str:
    title = "Consent coverage per purpose (share of subjects with an active grant)"
    if "consent_coverage" not in report:
        return missing_note(OPTIONAL_PARTS["consent_coverage"])
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
    return hbar_chart("chart-consent", title, bars, scale_max=1.0)


def quarantine_chart(report: dict) -> str:
    title = "Quarantined rows by reason"
    if "quarantine" not in report:
        return missing_note(OPTIONAL_PARTS["quarantine"])
    by_reason: dict[str, dict[str, float]] = {}
    for row in dicts(report.get("quarantine")):
        reason = str(row.get("reason", "?"))
        table = str(row.get("source_table", "?"))
        by_reason.setdefault(reason, {})
        by_reason[reason][table] = by_reason[reason].get(table, 0.0) + (
            number(row.get("rows")) or 0.0
        )
    bars = []
    for reason, tables in sorted(by_reason.items(), key=lambda item: -sum(item[1].values())):
        total = sum(tables.values())
        detail = "; ".join(f"{t}: {fmt_number(int(n))}" for t, n in sorted(tables.items()))
        text = f"{fmt_number(int(total))} {'row' if total == 1 else 'rows'}"
        bars.append(Bar(reason, total, text, f"{reason}: {detail}", "quarantine"))
    if not bars:  # the audit read the summary and it is empty: every raw row was valid
        return no_data_svg("chart-quarantine", title, "no row was quarantined")
    return hbar_chart("chart-quarantine", title, bars)


def class_size_charts(report: dict) -> str:
    if "published_tables" not in report:
        return missing_note(OPTIONAL_PARTS["published_tables"])
    tables = dicts(report.get("published_tables"))
    if not tables:
        return no_data_svg("chart-class-sizes-empty", "Class sizes", "no published table")
    k = report.get("k")
    parts = []
    for table in tables:
        name = str(table.get("name", "unnamed"))
        unit = "cells" if table.get("kind") == "aggregated" else "equivalence classes"
        title = f"{name}: {unit} by size, vs k"
        histogram = dicts(table.get("class_size_histogram"))
        parts.append(
            f'<figure class="chart-figure"><figcaption><code>{esc(name)}</code> '
            f"— number of {esc(unit)} per size</figcaption>"
            + histogram_chart(f"chart-classes-{slug(name)}", title, histogram, k, unit)
            + "</figure>"
        )
    return "".join(parts)


def charts_section(report: dict) -> str:
    blocks = [
        (
            "Segment sizes",
            "Members per segment. Grey dashed bars are withheld from the publication.",
            segment_chart(report),
        ),
        (
            "Equivalence-class size distribution",
            "How many classes (row-level tables) or cells (aggregated tables) have each size. "
            "Bars left of the dashed k line would break k-anonymity and are drawn red.",
            f'<div id="chart-class-sizes">{class_size_charts(report)}</div>',
        ),
        (
            "Consent coverage",
            "Share of subjects with an active grant for each purpose as of the run.",
            consent_chart(report),
        ),
        (
            "Quarantine",
            "Rows that failed validation in staging, by reason (hover for the source tables).",
            quarantine_chart(report),
        ),
    ]
    body = "".join(
        f'<div class="chart-block"><h3>{esc(heading)}</h3><p class="small">{esc(note)}</p>'
        f"{chart}</div>"
        for heading, note, chart in blocks
    )
    return section("charts", body)


def ropa_activity(activity: dict, erasure_html: str) -> str:
    purpose = activity.get("purpose", "unnamed purpose")
    recipients = dicts(activity.get("recipients"))
    recipients_html = (
        '<table class="grid compact"><thead><tr><th>Recipient</th><th>Type</th><th>Owner</th>'
        "<th>Description</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td><code>{esc(r.get('name', '?'))}</code></td>"
            f"<td>{text_or_dash(r.get('type'))}</td><td>{text_or_dash(r.get('owner'))}</td>"
            f"<td>{text_or_dash(r.get('description'))}</td></tr>"
            for r in recipients
        )
        + "</tbody></table>"
        if recipients
        else '<span class="muted">no recipient recorded</span>'
    )
    retention = dicts(activity.get("retention"))
    retention_html = (
        '<table class="grid compact"><thead><tr><th>Data</th><th class="num">Kept for</th>'
        "<th>Basis</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td>{text_or_dash(r.get('data_category'))}</td>"
            f'<td class="num">{retention_days(r.get("retention_days"))}</td>'
            f"<td>{text_or_dash(r.get('basis'))}</td></tr>"
            for r in retention
        )
        + "</tbody></table>"
        if retention
        else '<span class="muted">no retention policy recorded</span>'
    )
    categories = " ".join(
        f"<code>{esc(c)}</code>" for c in as_list(activity.get("data_categories"))
    )
    models = " ".join(f"<code>{esc(m)}</code>" for m in as_list(activity.get("models")))
    facts = definition_list(
        [
            ("Purpose (b)", text_or_dash(activity.get("description"))),
            ("Legal basis", text_or_dash(activity.get("legal_basis"))),
            ("Data use", f"<code>{text_or_dash(activity.get('data_use'))}</code>"),
            ("Data subjects (c)", text_or_dash(activity.get("data_subjects"))),
            ("Personal data categories (c)", categories or '<span class="muted">none</span>'),
            ("Recipients (d)", recipients_html),
            (
                "Transfers to third countries (e)",
                esc(activity["transfers"])
                if activity.get("transfers")
                else '<span class="muted">none recorded in the project metadata</span>',
            ),
            ("Retention / time limits for erasure (f)", retention_html + erasure_html),
            (
                "Technical and organisational measures (g)",
                bullet_list(as_list(activity.get("safeguards"))),
            ),
            ("Models", models or '<span class="muted">none</span>'),
        ]
    )
    return f'<article class="card"><h3>Purpose: {esc(purpose)}</h3>{facts}</article>'


def retention_days(value: Any) -> str:
    days = number(value)
    if days is None:
        return text_or_dash(value)
    years = f" (≈ {days / 365:.1f} years)" if days >= 365 else ""
    return f"{int(days):,} days{years}"


def erasure_summary(report: dict) -> str:
    if "erasure" not in report:
        return missing_note(OPTIONAL_PARTS["erasure"])
    erasure = as_dict(report.get("erasure"))
    found = number(erasure.get("found_after_erasure"))
    found_html = fmt_number(erasure.get("found_after_erasure"))
    if found:
        found_html = f'<span class="bad">{found_html}</span>'
    return (
        '<p class="small">Erasure on request: '
        f"{fmt_number(erasure.get('requests'))} requests, "
        f"{fmt_number(erasure.get('tombstones'))} tombstones, "
        f"{found_html} erased subjects still found after the run.</p>"
    )


def ropa_section(report: dict) -> str:
    intro = (
        "Record of processing activities under GDPR Art. 30(1), generated from the project's "
        "metadata. Letters refer to the paragraphs of Art. 30(1)."
    )
    erasure_html = erasure_summary(report)
    if "ropa" not in report:
        return section("ropa", missing_note(OPTIONAL_PARTS["ropa"]) + erasure_html, intro)
    ropa = as_dict(report.get("ropa"))
    head = definition_list(
        [
            ("Controller (a)", text_or_dash(ropa.get("controller"))),
            ("Generated from", text_or_dash(ropa.get("generated_from"))),
        ]
    )
    activities = dicts(ropa.get("activities"))
    body = (
        "".join(ropa_activity(a, erasure_html) for a in activities)
        if activities
        else missing_note("processing activities") + erasure_html
    )
    return section("ropa", head + body, intro)


def method_section(report: dict) -> str:
    names = [str(c.get("name")) for c in dicts(report.get("checks")) if c.get("name")]
    listed = list(dict.fromkeys([*names, *CHECK_METHODS]))
    claims = {str(c.get("name")): c.get("claim") for c in dicts(report.get("checks"))}
    items = []
    for name in listed:
        text = CHECK_METHODS.get(name) or (
            f"Claim: {claims.get(name)}." if claims.get(name) else "No description."
        )
        ran = "" if name in names else ' <span class="muted">(not in this report)</span>'
        items.append(f"<dt><code>{esc(name)}</code>{ran}</dt><dd>{esc(text)}</dd>")
    body = (
        "<p>The audit (<code>scripts/audit_privacy.py</code>) runs after <code>dbt build</code> "
        "and recomputes each claim itself, with its own queries on the warehouse (opened "
        "read-only), the raw files and dbt's compiled metadata, rather than relying on the dbt "
        "tests that enforce the same rules; only <code>build_results</code> reads dbt's own "
        "results. Nothing is published unless every check passes.</p>"
        f'<dl class="method">{"".join(items)}</dl>'
        "<p><strong>Terms.</strong> An <em>equivalence class</em> is the set of rows of a "
        "published table that share all quasi-identifier values; <em>k-anonymity</em> means "
        "every class holds at least k rows (or, for aggregated tables, every cell counts at "
        "least k distinct subjects); <em>l-diversity</em> means every class holds at least l "
        "distinct values of the sensitive attribute. <em>Re-identification risk</em> of a row "
        "is 1 / its class size: the max risk is 1 / the smallest class, the average risk is "
        "classes / rows.</p>"
        "<p><strong>This file.</strong> Rendered by <code>scripts/audit_report.py</code> from "
        "<code>target/privacy_audit.json</code>. It is self-contained: no script, font, image "
        "or style sheet is loaded from anywhere, and its Content-Security-Policy forbids the "
        "browser to load any.</p>"
    )
    return section("method", body)


STYLE = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --zebra:#f6f8fa; --pass:#1a7f37;
  --fail:#cf222e; --warn:#9a6700; --accent:#0969da; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#fff; line-height:1.45; font-size:14px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
header.page { border-bottom: 3px solid var(--ink); padding-bottom: 8px; margin-bottom: 8px; }
header.page h1 { margin: 0; font-size: 24px; }
header.page p { margin: 2px 0 0; color: var(--muted); }
nav.toc { font-size: 13px; margin: 8px 0 0; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 14px; }
section { margin-top: 28px; }
h2 { font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 4px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
code { font-family: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas,
  monospace; font-size: 12.5px; }
.intro, .muted, .small { color: var(--muted); }
.small { font-size: 12.5px; }
.missing { background:#fff8c5; border:1px solid #d4a72c; border-radius:6px; padding:6px 10px;
  color:#4d2d00; }
.bad { color: var(--fail); font-weight: 600; }
.banner { display:flex; align-items:center; gap:16px; padding:14px 18px; border-radius:8px;
  color:#fff; margin-bottom:12px; }
.banner .verdict { font-size: 26px; font-weight: 700; letter-spacing: .06em; }
.banner .detail { font-size: 15px; }
.banner-pass { background: var(--pass); }
.banner-fail { background: var(--fail); }
.banner-unknown { background: #6e7781; }
dl.facts { display:grid; grid-template-columns: max-content 1fr; gap: 3px 18px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table.grid { width:100%; border-collapse: collapse; margin: 8px 0; }
table.grid th, table.grid td { text-align:left; vertical-align: top; padding: 5px 8px;
  border-bottom: 1px solid var(--line); }
table.grid th { background:#eaeef2; font-weight:600; font-size: 12.5px; }
table.grid tbody tr:nth-child(even) { background: var(--zebra); }
table.grid tr.row-fail td { background:#ffebe9; }
table.grid tr.row-alarm td { background:#ffebe9; }
table.compact { font-size: 12.5px; margin: 2px 0 6px; }
td.num, th.num { text-align: right; white-space: nowrap; }
ul.findings { margin: 0; padding-left: 18px; }
ul.findings li { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.card { border:1px solid var(--line); border-radius:8px; padding: 4px 16px 10px; margin: 12px 0; }
.path { margin: 1px 0; }
.path code { white-space: normal; }
.path-alarm code { color: var(--fail); font-weight: 600; }
.arrow { color: var(--muted); }
.badge { display:inline-block; border-radius: 10px; padding: 1px 8px; font-size: 11.5px;
  font-weight: 600; border: 1px solid transparent; white-space: nowrap; margin: 1px 0; }
.status-pass { background:#dafbe1; color:#116329; border-color:#4ac26b; }
.status-fail { background:#ffebe9; color:#a40e26; border-color:#ff8182; }
.status-unknown { background:#eaeef2; color:#424a53; border-color:#afb8c1; }
.step-hashed { background:#dafbe1; color:#116329; border-color:#4ac26b; }
.step-generalized { background:#ddf4ff; color:#0a3069; border-color:#54aeff; }
.step-aggregated { background:#fbefff; color:#6e40c9; border-color:#c297ff; }
.step-consent { background:#d8f3f0; color:#0b5c55; border-color:#3fb8a9; }
.step-suppressed { background:#fff8c5; color:#7d4e00; border-color:#d4a72c; }
.step-passed { background:#f6f8fa; color:#59636e; border-color:#d1d9e0; }
.step-other { background:#fff; color:#424a53; border-color:#afb8c1; }
.step-alarm { background:#cf222e; color:#fff; border-color:#a40e26; }
.cls-direct { background:#cf222e; color:#fff; }
.cls-quasi { background:#fff1e5; color:#953800; border-color:#fb8f44; }
.cls-sensitive { background:#ffebe9; color:#a40e26; border-color:#ff8182; }
.cls-pseudonym { background:#dafbe1; color:#116329; border-color:#4ac26b; }
.cls-behavioral { background:#ddf4ff; color:#0a3069; border-color:#54aeff; }
.cls-aggregate { background:#fbefff; color:#6e40c9; border-color:#c297ff; }
.cls-non-personal, .cls-other { background:#f6f8fa; color:#59636e; border-color:#d1d9e0; }
.legend { font-size: 12.5px; color: var(--muted); }
.chart-block { margin-bottom: 18px; }
.chart-block p.small { margin: 0 0 4px; }
figure.chart-figure { margin: 6px 0 14px; }
figure.chart-figure figcaption { font-size: 12.5px; color: var(--muted); }
svg.chart { display:block; max-width:100%; height:auto; }
svg.chart text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  font-size: 12px; fill: var(--ink); }
svg.chart .value, svg.chart .tick { fill: var(--muted); font-size: 11px; }
svg.chart .axis-title { fill: var(--muted); font-size: 11px; }
svg.chart .no-data { fill: var(--muted); font-size: 14px; font-style: italic; }
svg.chart .frame { fill: #fafbfc; stroke: var(--line); }
svg.chart .bar { fill: #0969da; }
svg.chart .bar.withheld { fill: #d0d7de; stroke: #6e7781; stroke-dasharray: 3 2; }
svg.chart .bar.quarantine { fill: #bf8700; }
svg.chart .bar.below-k { fill: #cf222e; }
svg.chart .track { fill: #eaeef2; }
svg.chart .axis { stroke: #6e7781; stroke-width: 1; }
svg.chart .grid { stroke: #eaeef2; stroke-width: 1; }
svg.chart .k-line { stroke: #cf222e; stroke-width: 1.5; stroke-dasharray: 5 3; }
svg.chart .k-label { fill: #cf222e; font-weight: 600; }
svg.chart rect.bar:hover { opacity: .8; }
dl.method dt { font-weight: 600; margin-top: 8px; }
dl.method dd { margin: 2px 0 0 0; }
footer { margin-top: 32px; border-top: 1px solid var(--line); padding-top: 8px;
  color: var(--muted); font-size: 12px; }
@page { margin: 14mm 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2, h3 { break-after: avoid; }
  figure, tr, svg, .banner, dl.facts { break-inside: avoid; }
  .chart-block h3, .chart-block p.small, figcaption { break-after: avoid; }
  svg.chart { max-width: 100%; }
}
"""


def render_html(report: dict) -> str:
    """The whole audit report as one self-contained HTML page (no network, no script)."""
    report = as_dict(report)
    build = report.get("build_id")
    title = "Privacy audit report"
    toc = "".join(f'<a href="#{sid}">{esc(heading)}</a>' for sid, heading in SECTIONS.items())
    subtitle = " · ".join(
        part
        for part in (
            f"as of {esc(report['as_of'])}" if report.get("as_of") else "",
            f"build {esc(build)}" if build else "",
            f"status {esc(str(report.get('status', 'unknown')).upper())}",
        )
        if part
    )
    body = "".join(
        [
            summary_section(report),
            checks_section(report),
            published_tables_section(report),
            charts_section(report),
            ropa_section(report),
            method_section(report),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}{' — ' + esc(build) if build else ''}</title>"
        f"<style>{STYLE}</style></head><body><main>"
        f'<header class="page"><h1>{esc(title)}</h1><p>Privacy-respecting customer '
        f"segmentation · {subtitle}</p>"
        f'<nav class="toc">{toc}</nav></header>'
        f"{body}"
        "<footer>Self-contained report: no scripts, fonts, images or style sheets are loaded "
        "from anywhere. Generated by scripts/audit_report.py.</footer>"
        "</main></body></html>\n"
    )


# ---------------------------------------------------------------------------------------------
# Command line


def load_report(path: Path) -> dict:
    if not path.is_file():
        raise ReportError(
            f"no audit report at {path}: run the audit first (scripts/audit_privacy.py)"
        )
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ReportError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(report, dict) or not {"status", "checks"} & report.keys():
        raise ReportError(
            f"{path} is not a privacy audit report (expected an object with 'status' or 'checks')"
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help=f"audit JSON (default <target>/{REPORT})")
    parser.add_argument("--out", type=Path, help="HTML path (default: the report's, .html)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    report_path = args.report or Settings.from_env().target_dir / REPORT
    out = args.out or report_path.with_suffix(".html")
    try:
        report = load_report(report_path)
    except ReportError as error:
        logging.error("cannot render the audit report: %s", error)
        return 2
    write_text_atomically(out, render_html(report))
    logging.info("audit report: wrote %s (status %s)", out, report.get("status", "unknown"))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
