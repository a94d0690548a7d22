"""The build benchmark (scripts/benchmark.py): runs.py (the measured runs of one scale),
targets.py (targets and the results table), cli.py."""
