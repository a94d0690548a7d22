"""Self-contained HTML rendering of the privacy audit report, for auditors who read it offline.

    python scripts/audit_report.py [--report target/privacy_audit.json] [--out FILE] [--verbose]

Re-renders the page the audit writes beside its JSON report (privseg.report.html), from a saved
JSON report, writing it atomically (temp file in the target folder, then rename). Exit codes:
0 written, 2 the report is missing or is not an audit report.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from privseg.core.files import write_text_atomically
from privseg.core.logs import setup_logging
from privseg.core.settings import Settings
from privseg.report.html import render_html

REPORT = "privacy_audit.json"


class ReportError(Exception):
    """The input is missing or is not an audit report (exit 2)."""


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
