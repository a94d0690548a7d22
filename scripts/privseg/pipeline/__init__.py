"""The pipeline behind `make run`: steps.py (each step), summary.py (the closing summary),
cli.py (scripts/pipeline.py)."""
