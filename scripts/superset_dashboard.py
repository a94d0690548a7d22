"""Superset on the publication, `make dashboard`: `python scripts/superset_dashboard.py --help`
(privseg.dashboard)."""

from privseg.dashboard.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
