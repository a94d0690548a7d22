"""The benchmark's pure parts: sizes, dependency order, target evaluation, results table."""

from __future__ import annotations

import argparse
import json

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
        "incremental_model_node_ratio": 0.04,
        "dbt_overhead_ratio": 1.1,
        "throughput_rows_per_s": 2_000_000,
    }
    return base | figures


def test_each_target_is_met_or_not_on_its_own_figure():
    results = [
        _scale(100_000, full_build_s=20.0),
        _scale(
            1_000_000,
            full_build_s=300.0,
            incremental_ratio=0.9,
            incremental_model_node_ratio=0.6,
            throughput_rows_per_s=98_000,
        ),
    ]
    checks = {c["target"]: c["met"] for c in targets.evaluate(results, memory_limit=12 * GB)}
    assert checks["full build >= 400k raw rows/s at 1,000,000 customers"] is False
    assert checks["one-day incremental <= 25% of full at 1,000,000"] is False
    assert checks["one-day incremental <= 25% of full at 100,000"] is True
    assert checks["its model node time <= 10% of full at 1,000,000"] is False
    assert checks["its model node time <= 10% of full at 100,000"] is True
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
            "full_build_node_s_by_layer": {"staging": 30.0, "tests": 10.0},
            "incremental_node_s_by_layer": {"staging": 2.0, "tests": 10.0},
        }
    report = {"scales": results, "targets": targets.evaluate(results, 8 * GB)}
    table = targets.markdown(report)
    assert "| figure | 10,000 | 100,000 |" in table
    assert table.count("| dbt overhead <= 1.3x") == 2
    assert "| incremental / full | 5% | 5% |" in table
    assert "| incremental / full, model node time | 4% | 4% |" in table
    assert "| node time, staging: full / incremental (s) | 30.0 / 2.0 | 30.0 / 2.0 |" in table


def test_node_time_is_summed_by_the_models_folder_and_apart_for_seeds_and_tests(tmp_path):
    nodes = {
        "model.p.stg_a": {"resource_type": "model", "original_file_path": "models/staging/a.sql"},
        "model.p.stg_b": {"resource_type": "model", "original_file_path": "models/staging/b.sql"},
        "model.p.fct": {"resource_type": "model", "original_file_path": "models/marts/x/f.sql"},
        "seed.p.s": {"resource_type": "seed", "original_file_path": "seeds/s.csv"},
        "test.p.t": {"resource_type": "test", "original_file_path": "models/x.yml"},
    }
    times = {"model.p.stg_a": 1.25, "model.p.stg_b": 2.0, "model.p.fct": 4.0}
    times |= {"seed.p.s": 0.5, "test.p.t": 3.0, "unit_test.p.fct.u": 0.25}
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {"nodes": nodes, "unit_tests": {"unit_test.p.fct.u": {"resource_type": "unit_test"}}}
        )
    )
    (tmp_path / "run_results.json").write_text(
        json.dumps({"results": [{"unique_id": u, "execution_time": t} for u, t in times.items()]})
    )
    layers = runs.node_seconds_by_layer(tmp_path)
    assert layers == {
        "marts": 4.0, "seeds": 0.5, "staging": 3.2, "tests": 3.0, "unit tests": 0.2
    }  # fmt: skip
    assert runs.model_seconds(layers) == 7.2


def test_a_scale_run_without_the_overhead_runs_says_so_and_is_not_judged_on_them():
    results = [_scale(100_000), _scale(1_000_000)]
    for result in results:
        result |= {
            "generate_s": 1.0,
            "engine_floor_s": 0.1,
            "full_build_to_floor_ratio": 1000.0,
            "dbt_run_s": None,
            "replay_s": None,
            "dbt_overhead_ratio": None,
            "incremental_build_s": 5.0,
            "full_build_node_s_by_layer": {"staging": 30.0},
            "incremental_node_s_by_layer": {"staging": 2.0},
        }
    report = {"scales": results, "targets": targets.evaluate(results, 8 * GB)}
    table = targets.markdown(report)
    assert "| dbt run, models only (s) | not run | not run |" in table
    assert "dbt overhead <= 1.3x" not in table
    assert "| one-day incremental <= 25% of full at 1,000,000 | 0.05 | yes |" in table


def test_the_spark_comparison_has_its_own_table_per_scale_and_layer():
    results = [_scale(100_000)]
    results[0] |= {
        "generate_s": 1.0,
        "engine_floor_s": 0.1,
        "full_build_to_floor_ratio": 1000.0,
        "dbt_run_s": None,
        "replay_s": None,
        "dbt_overhead_ratio": None,
        "incremental_build_s": 5.0,
        "full_build_node_s_by_layer": {"staging": 30.0},
        "incremental_node_s_by_layer": {"staging": 2.0},
        "spark": {
            "nodes": 213,
            "duckdb_s": 20.0,
            "spark_s": 400.0,
            "spark_to_duckdb_ratio": 20.0,
            "duckdb_node_s_by_layer": {"staging": 10.0, "pseudonymized": 5.0},
            "spark_node_s_by_layer": {"staging": 200.0, "pseudonymized": 150.0},
        },
    }
    table = targets.markdown({"scales": results, "targets": targets.evaluate(results, 8 * GB)})
    assert "| Spark / DuckDB | 20.0x |" in table
    assert "| node time, pseudonymized: DuckDB / Spark (s) | 5.0 / 150.0 |" in table


def test_without_the_spark_venv_the_comparison_stops_naming_the_step(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "SPARK_PYTHON", tmp_path / "missing" / "python")
    scale = runs.Scale(tmp_path, 100, "1GB")
    with pytest.raises(runs.BenchmarkError, match=r"make \.venv-spark/\.installed-requirements"):
        runs.spark_comparison(scale, "2026-06-30")
