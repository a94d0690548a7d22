"""Run dbt on Spark: `python scripts/spark_build.py [dbt arguments]` (docs/spark.md)."""

from privseg.spark.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
