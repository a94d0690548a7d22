"""The privacy audit: `python scripts/audit_privacy.py --help` (privseg.audit)."""

from privseg.audit.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
