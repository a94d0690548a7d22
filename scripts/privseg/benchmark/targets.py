"""The performance targets, judged on the measured figures, and the table of the results."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import duckdb

GIB = 1024**3
TARGETS = {
    "throughput_rows_per_s": 400_000,  # full build at the largest scale, raw rows per second
    "dbt_overhead_ratio": 1.3,  # dbt run / replayed SQL
    "incremental_ratio": 0.25,  # one-day incremental build / full build, wall time
    "incremental_model_node_ratio": 0.10,  # the same, model node time only
    "memory_headroom_bytes": GIB,  # peak RSS < DuckDB memory limit + 1 GiB
}


def evaluate(results: list[dict], memory_limit: int) -> list[dict]:
    """Each target: met or not, with the figure it was judged on."""
    checks = []
    largest = max(results, key=lambda r: r["customers"])
    checks.append(
        {
            "target": f"full build >= 400k raw rows/s at {largest['customers']:,} customers",
            "value": largest["throughput_rows_per_s"],
            "met": largest["throughput_rows_per_s"] >= TARGETS["throughput_rows_per_s"],
        }
    )
    for result in results:
        if result.get("dbt_overhead_ratio") is not None:
            checks.append(
                {
                    "target": f"dbt overhead <= 1.3x at {result['customers']:,}",
                    "value": result["dbt_overhead_ratio"],
                    "met": result["dbt_overhead_ratio"] <= TARGETS["dbt_overhead_ratio"],
                }
            )
        checks.append(
            {
                "target": f"one-day incremental <= 25% of full at {result['customers']:,}",
                "value": result["incremental_ratio"],
                "met": result["incremental_ratio"] <= TARGETS["incremental_ratio"],
            }
        )
        node_ratio = result.get("incremental_model_node_ratio")
        if node_ratio is not None:
            checks.append(
                {
                    "target": f"its model node time <= 10% of full at {result['customers']:,}",
                    "value": node_ratio,
                    "met": node_ratio <= TARGETS["incremental_model_node_ratio"],
                }
            )
        peak = max(result["full_build_peak_rss_bytes"], result["incremental_peak_rss_bytes"])
        checks.append(
            {
                "target": f"peak RSS < memory limit + 1 GiB at {result['customers']:,}",
                "value": peak,
                "met": peak < memory_limit + TARGETS["memory_headroom_bytes"],
            }
        )
    by_size = {r["customers"]: r for r in results}
    if 100_000 in by_size and 1_000_000 in by_size:
        small, big = by_size[100_000], by_size[1_000_000]
        time_ratio = big["full_build_s"] / small["full_build_s"]
        rows_ratio = big["raw_rows"] / small["raw_rows"]
        checks.append(
            {
                "target": "full build time grows no faster than raw rows, 100k -> 1M",
                "value": round(time_ratio / rows_ratio, 2),
                "met": time_ratio <= rows_ratio,
            }
        )
    return checks


def markdown(report: dict) -> str:
    results = report["scales"]
    header = "| figure | " + " | ".join(f"{r['customers']:,}" for r in results) + " |"
    lines = [header, "|---|" + "---:|" * len(results)]

    def row(label: str, key: str, fmt) -> None:
        shown = (fmt(r[key]) if r.get(key) is not None else "not run" for r in results)
        lines.append(f"| {label} | " + " | ".join(shown) + " |")

    if all("layout" in r for r in results):
        lines.append("| raw layout | " + " | ".join(r["layout"] for r in results) + " |")
    row("raw rows", "raw_rows", lambda v: f"{v:,}")
    row("generate (s)", "generate_s", str)
    row("full build, models + tests (s)", "full_build_s", str)
    row("peak RSS, full build (GB)", "full_build_peak_rss_bytes", lambda v: f"{v / 1e9:.2f}")
    row("throughput (raw rows/s)", "throughput_rows_per_s", lambda v: f"{v:,}")
    row("engine floor, read every raw row once (s)", "engine_floor_s", str)
    row("full build / engine floor", "full_build_to_floor_ratio", lambda v: f"{v}x")
    row("dbt run, models only (s)", "dbt_run_s", str)
    row("same compiled SQL replayed in DuckDB (s)", "replay_s", str)
    row("dbt overhead (run / replay)", "dbt_overhead_ratio", lambda v: f"{v}x")
    row("incremental build, one new day (s)", "incremental_build_s", str)
    row("incremental / full", "incremental_ratio", lambda v: f"{v:.0%}")
    if all(r.get("incremental_model_node_ratio") is not None for r in results):
        row("incremental / full, model node time", "incremental_model_node_ratio",
            lambda v: f"{v:.0%}")  # fmt: skip
        layers = sorted({layer for r in results for layer in r["full_build_node_s_by_layer"]})
        for layer in layers:
            lines.append(
                f"| node time, {layer}: full / incremental (s) | "
                + " | ".join(
                    f"{r['full_build_node_s_by_layer'].get(layer, 0)} / "
                    f"{r['incremental_node_s_by_layer'].get(layer, 0)}"
                    for r in results
                )
                + " |"
            )
    compared = [r for r in results if r.get("spark")]
    if compared:
        lines.append("")
        lines.append(spark_markdown(compared))
    lines.append("")
    lines.append("| target | value | met |")
    lines.append("|---|---:|:---:|")
    for check in report["targets"]:
        value = check["value"]
        shown = f"{value / 1e9:.2f} GB" if value > 1e6 and "RSS" in check["target"] else value
        lines.append(f"| {check['target']} | {shown} | {'yes' if check['met'] else 'no'} |")
    spill = report.get("spill_check")
    if spill:
        lines.append("")
        lines.append(
            f"Spill check: full build at {spill['customers']:,} customers with a "
            f"{spill['memory_limit']} DuckDB memory limit "
            f"{'succeeded' if spill['succeeded'] else 'FAILED'} in {spill['wall_s']} s, "
            f"peak temp space {spill['peak_temp_bytes'] / 1e9:.2f} GB."
        )
    return "\n".join(lines)


def spark_markdown(results: list[dict]) -> str:
    """The Spark comparison: the selection built by DuckDB and by Spark, per scale."""
    header = "| selector spark, from scratch | " + " | ".join(
        f"{r['customers']:,}" for r in results
    )
    lines = [header + " |", "|---|" + "---:|" * len(results)]
    comparisons = [r["spark"] for r in results]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("nodes", [str(c["nodes"]) for c in comparisons])
    row("DuckDB build (s)", [str(c["duckdb_s"]) for c in comparisons])
    row("Spark build, local session (s)", [str(c["spark_s"]) for c in comparisons])
    row("Spark / DuckDB", [f"{c['spark_to_duckdb_ratio']}x" for c in comparisons])
    layers = sorted({layer for c in comparisons for layer in c["spark_node_s_by_layer"]})
    for layer in layers:
        row(
            f"node time, {layer}: DuckDB / Spark (s)",
            [
                f"{c['duckdb_node_s_by_layer'].get(layer, 0)} / "
                f"{c['spark_node_s_by_layer'].get(layer, 0)}"
                for c in comparisons
            ],
        )
    return "\n".join(lines)


def machine() -> dict:
    memory = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        memory = int(match.group(1)) * 1024 if match else 0
    return {
        "cpus": os.cpu_count(),
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }
