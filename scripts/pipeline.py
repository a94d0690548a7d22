"""The whole job or one step of it: `python scripts/pipeline.py --help` (privseg.pipeline)."""

from privseg.pipeline.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
