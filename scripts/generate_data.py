"""Synthetic raw data for the demo and the tests: `python scripts/generate_data.py --help`
(privseg.datagen)."""

from privseg.datagen.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
