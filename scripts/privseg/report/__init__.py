"""The privacy audit report as one self-contained HTML page, for auditors who read it offline.

`render_html(report)` turns the dict the audit writes to target/privacy_audit.json into one HTML
page from Jinja2 templates (templates/, autoescape on): inline CSS, inline SVG charts, no
JavaScript, no fonts, images or links to anything outside the file. A Content-Security-Policy
meta tag (default-src 'none') makes the browser refuse any load even if a future change adds
one by mistake. Every string from the report (table and column names come from dbt metadata)
is escaped.

Sections (ids are stable; tests look them up): summary, checks, published-tables, release
(the release as a whole: the attacker model, and per table what release_differencing and
magnitude_rules found), charts, ropa, method. A partial report (an audit that failed half-way)
renders what it holds and says what is missing.

Modules: html (the page), charts (SVG geometry), environment (Jinja2), values (reading a
partial report, formatting numbers), cli (scripts/audit_report.py).
"""

from privseg.report.charts import class_size_bins, histogram_chart
from privseg.report.cli import main
from privseg.report.html import OPTIONAL_PARTS, SECTIONS, STEP_STYLES, render_html
from privseg.report.values import slug

__all__ = [
    "OPTIONAL_PARTS",
    "SECTIONS",
    "STEP_STYLES",
    "class_size_bins",
    "histogram_chart",
    "main",
    "render_html",
    "slug",
]
