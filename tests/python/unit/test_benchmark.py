"""The benchmark's pure parts: sizes, dependency order, target evaluation, results table."""

from __future__ import annotations

import argparse

import pytest

from privseg.benchmark import cli as benchmark
from privseg.benchmark import runs, targets

GB = 1_000_000_000


@pytest.mark.parametrize(
    ("text", "size"),
    [("8GB", 8 * GB), ("12 gb", 12 * GB), ("1GiB", 1024**3), ("512MB", 512_000_000)],
)
def test_sizes_are_read_like_duckdb_reads_them(text, size):
    assert benchmark.parse_size(text) == size


def test_a_size_without_a_unit_is_refused():
    with pytest.raises(argparse.ArgumentTypeError):
        benchmark.parse_size("8")


def test_models_are_replayed_after_the_models_they_read():
    def model(name, *parents):
        return {
            "resource_type": "model",
            "name": name,
            "depends_on": {"nodes": [f"model.p.{p}" for p in parents] + ["seed.p.s"]},
        }

    nodes = {
        "model.p.a_mart": model("a_mart", "m_int", "z_stg"),
        "model.p.m_int": model("m_int", "z_stg"),
        "model.p.z_stg": model("z_stg"),
        "seed.p.s": {"resource_type": "seed", "name": "s", "depends_on": {"nodes": []}},
    }
    order = [n["name"] for n in runs.topological_models({"nodes": nodes})]
    assert order == ["z_stg", "m_int", "a_mart"]


def _scale(customers: int, **figures) -> dict:
    base = {
        "customers": customers,
        "raw_rows": customers * 28,
        "full_build_s": 100.0,
        "full_build_peak_rss_bytes": 2 * GB,
        "incremental_peak_rss_bytes": 2 * GB,
        "incremental_ratio": 0.05,
        "dbt_overhead_ratio": 1.1,
        "throughput_rows_per_s": 2_000_000,
    }
    return base | figures


def test_each_target_is_met_or_not_on_its_own_figure():
    results = [
        _scale(100_000, full_build_s=20.0),
        _scale(1_000_000, full_build_s=300.0, incremental_ratio=0.9, throughput_rows_per_s=98_000),
    ]
    checks = {c["target"]: c["met"] for c in targets.evaluate(results, memory_limit=12 * GB)}
    assert checks["full build >= 1M raw rows/s at 1,000,000 customers"] is False
    assert checks["daily incremental <= 10% of full at 1,000,000"] is False
    assert checks["daily incremental <= 10% of full at 100,000"] is True
    assert checks["dbt overhead <= 1.3x at 1,000,000"] is True
    assert checks["peak RSS < memory limit + 1 GiB at 1,000,000"] is True
    # 15x the time for 10x the rows is worse than linear.
    assert checks["full build time grows no faster than raw rows, 100k -> 1M"] is False


def test_the_readme_table_has_a_column_per_scale_and_a_row_per_target():
    results = [_scale(10_000), _scale(100_000)]
    for result in results:
        result |= {
            "generate_s": 1.0,
            "engine_floor_s": 0.1,
            "full_build_to_floor_ratio": 1000.0,
            "dbt_run_s": 30.0,
            "replay_s": 10.0,
            "incremental_build_s": 5.0,
        }
    report = {"scales": results, "targets": targets.evaluate(results, 8 * GB)}
    table = targets.markdown(report)
    assert "| figure | 10,000 | 100,000 |" in table
    assert table.count("| dbt overhead <= 1.3x") == 2
    assert "| incremental / full | 5% | 5% |" in table
