"""The subject access report as one self-contained HTML page in plain language:
`render_subject_access(report)` fills templates/subject_access.html.j2 (the audit report's
Jinja2 environment and style sheet: every value escaped, nothing loaded from outside)."""

from __future__ import annotations

from typing import Any

from privseg.report.environment import TEMPLATES, environment
from privseg.report.html import CSP

# How each layer's tables are introduced to the person (the layers: docs/architecture.md).
LAYER_HEADINGS = {
    "pseudonymized": "Your account and activity, under a pseudonym",
    "consent": "Your consent decisions and stated preferences",
    "behavior": "What we derived from your purchases, browsing and emails",
    "segments": "Segments you belong to",
    "audiences": "Email audiences from the interests you told us",
    "measurement": "Campaign measurement",
    "contextual": "Visits counted in contextual audiences (never as you)",
    "release": "Checks before anything is published",
}


def render_subject_access(report: dict[str, Any]) -> str:
    layers: dict[str, list[dict]] = {}
    for table in report.get("tables", []):
        layers.setdefault(table["layer"], []).append(table)
    ordered = [
        (LAYER_HEADINGS.get(layer, layer), layers[layer])
        for layer in [*LAYER_HEADINGS, *sorted(set(layers) - set(LAYER_HEADINGS))]
        if layer in layers
    ]
    return (
        environment()
        .get_template("subject_access.html.j2")
        .render(
            report=report,
            layers=ordered,
            csp=CSP,
            style=(TEMPLATES / "report.css").read_text(),
        )
    )
