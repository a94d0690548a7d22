"""Export a consented audience: `python scripts/export_audience.py --help` (privseg.export)."""

from privseg.export.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
