"""Privacy audit of a built warehouse, independent of the dbt tests that built it.

    python scripts/audit_privacy.py [--out target/privacy_audit.json] [--verbose]
    python scripts/audit_privacy.py --list-checks [--format text|json|markdown] [--write FILE]

Reads the last build's dbt artifacts (DBT_TARGET_PATH, default target/: manifest.json and
build_results.json, the pipeline's copy of the build's run_results.json) and the warehouse
(WAREHOUSE_PATH, read-only), and recomputes what the privacy invariants promise with its own
queries. The checks (name, claim, method, invariant) are declared in privseg.audit.registry;
`--list-checks` prints them, and `--write docs/auditors.md` (markdown) regenerates the table
between the page's audit-checks markers.

Writes a JSON report (build id, as-of date, status, one entry per check with its findings, the
published tables with their class sizes, risk and column lineage, segment sizes, consent coverage,
quarantine counts and the Record of Processing Activities) and the same as a self-contained HTML
page beside it (privacy_audit.html), and logs one line per check. Findings name tables, columns,
files and counts, never values.

Exit codes: 0 every check passed, 1 findings, 2 the audit cannot run (no build artifacts, no
warehouse, no key) or a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from privseg.audit import registry
from privseg.audit.context import AuditError
from privseg.audit.runner import REPORT, run_audit
from privseg.core.logs import setup_logging
from privseg.core.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help=f"report path (default <target>/{REPORT})")
    parser.add_argument(
        "--list-checks", action="store_true", help="print the checks the audit runs, and exit"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="format of --list-checks (default text)",
    )
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="with --list-checks --format markdown: replace the table between the "
        "audit-checks markers of FILE (e.g. docs/auditors.md) instead of printing it",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if args.list_checks:
        return _list_checks(args.format, args.write)
    if args.write:
        parser.error("--write goes with --list-checks --format markdown")
    settings = Settings.from_env()
    try:
        report = run_audit(settings, args.out or settings.target_dir / REPORT)
    except AuditError as error:
        logging.error("audit cannot run: %s", error)
        return 2
    return 0 if report["status"] == "pass" else 1


def _list_checks(format_: str, write: Path | None) -> int:
    if write is None:
        sys.stdout.write(registry.render(format_))
        return 0
    if format_ != "markdown":
        logging.error("--write writes the markdown table: add --format markdown")
        return 2
    try:
        registry.write_docs_block(write)
    except (OSError, ValueError) as error:
        logging.error("cannot write the checks table: %s", error)
        return 2
    logging.info("wrote the audit checks table into %s", write)
    return 0
