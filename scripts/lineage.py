"""Column-level lineage of every model: `python scripts/lineage.py --help` (privseg.lineage)."""

from privseg.lineage.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
