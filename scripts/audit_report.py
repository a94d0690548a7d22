"""Re-render the HTML audit report: `python scripts/audit_report.py --help` (privseg.report)."""

from privseg.report.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
