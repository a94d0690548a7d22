"""Right of access: `python scripts/subject_access.py --help` (privseg.access)."""

from privseg.access.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
