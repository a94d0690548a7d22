"""The Spark target: a SparkSession with the key pads and the raw tables registered, and dbt
run in-process against it (docs/spark.md)."""
