"""Benchmark the build at growing scale: `python scripts/benchmark.py --help`
(privseg.benchmark)."""

from privseg.benchmark.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
