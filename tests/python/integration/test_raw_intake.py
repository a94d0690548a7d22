"""Raw intake: the partitioned layout (one folder per load day) is read like the single-file
layout, every raw row is typed and checked once (typed_ models, incremental by source file),
and a changed or deleted raw file is read again or removed, with a log line naming it."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from dbt_harness import END_DATE, DbtProject
from privseg.datagen import cli as generate_data

AS_OF = END_DATE
TYPED = [
    "typed_shop__customers",
    "typed_shop__products",
    "typed_shop__orders",
    "typed_shop__order_items",
    "typed_web__events",
    "typed_email__campaigns",
    "typed_email__events",
    "typed_preference_center__consent_events",
    "typed_preference_center__preferences",
    "typed_preference_center__erasure_requests",
]


def _generate(out: Path, *extra: str) -> dict:
    argv = ["--customers", "150", "--days", "30", "--seed", "11", "--faults", "0.05"]
    assert generate_data.main([*argv, "--end-date", END_DATE, *extra, "--out", str(out)]) == 0
    return json.loads((out / "generation_manifest.json").read_text())


def _quarantined(project: DbtProject) -> dict[tuple[str, str], int]:
    return {
        (table, reason): count
        for table, reason, count in project.query(
            "select source_table, reject_reason, rejected_row_count "
            "from staging.stg_quarantine__summary"
        )
    }


def _injected(manifest: dict) -> dict[tuple[str, str], int]:
    return {
        (table, kind): count
        for table, spec in manifest["tables"].items()
        for kind, count in spec["faults"].items()
        if count
    }


def _files(project: DbtProject, model: str) -> dict[str, int]:
    return dict(
        project.query(f"select _source_file, count(*) from staging.{model} group by 1 order by 1")
    )


@pytest.fixture(scope="module")
def loads(tmp_path_factory) -> tuple[DbtProject, Path]:
    raw = tmp_path_factory.mktemp("raw_loads") / "raw"
    _generate(raw, "--layout", "partitioned", "--hold-back-days", "2")
    project = DbtProject(tmp_path_factory.mktemp("intake"), raw)
    result = project.dbt("build", "--select", "staging", as_of="2026-06-28")
    assert result.success, result.output[-3000:]
    return project, raw


def test_partitioned_loads_are_validated_and_quarantined_as_the_manifest_says(loads):
    project, raw = loads
    manifest = json.loads((raw / "generation_manifest.json").read_text())
    assert _injected(manifest), "no faults injected: the test would prove nothing"
    assert _quarantined(project) == _injected(manifest)
    # each load's file is named by its path below the table's folder
    orders = _files(project, "typed_shop__orders")
    assert orders and all(name.startswith("load_date=") for name in orders)
    (clean,) = project.query(
        "select count(*) from staging.base_shop__orders where _reject_reason is null"
    )[0]
    assert clean == manifest["tables"]["orders"]["rows_clean"]


def test_a_new_load_is_read_alone_and_a_changed_or_deleted_file_again(loads):
    project, raw = loads
    before = {model: _files(project, model) for model in TYPED}
    assert generate_data.main(["--append-day", "--out", str(raw)]) == 0
    new_load = "load_date=2026-06-29/part-0.parquet"

    # change one old file (a value, so its size changes) and delete another
    changed = raw / "orders" / sorted(p.name for p in (raw / "orders").iterdir())[3]
    changed_file = next(changed.iterdir())
    old = f"read_parquet('{changed_file}')"
    duckdb.sql(
        f"copy (select * replace ('returned' as status) from {old}) to '{changed_file}.next' "
        "(format parquet)"
    )
    Path(f"{changed_file}.next").replace(changed_file)
    gone = raw / "web_events" / sorted(p.name for p in (raw / "web_events").iterdir())[2]
    gone_name = f"{gone.name}/part-0.parquet"
    shutil.rmtree(gone)

    result = project.dbt("run", "--select", "staging", as_of="2026-06-29")
    assert result.success, result.output[-3000:]
    changed_name = f"{changed.name}/part-0.parquet"
    assert f"raw file orders/{changed_name} changed since it was read" in result.output
    assert f"raw file web_events/{gone_name} is gone" in result.output
    after = {model: _files(project, model) for model in TYPED}
    for model in TYPED:
        kept = {
            f: n
            for f, n in before[model].items()
            if not (model == "typed_web__events" and f == gone_name)
        }
        assert {f: n for f, n in after[model].items() if f != new_load} == kept, model
    assert new_load in after["typed_shop__orders"]
    assert gone_name not in after["typed_web__events"]
    statuses = project.query(
        f"select distinct status from staging.typed_shop__orders where _source_file = "
        f"'{changed_name}' and _row_reason is null and _value_reason is null"
    )
    assert statuses == [("returned",)]

    # the incremental typed rows equal a rebuild from scratch, row for row
    fresh = DbtProject(project.root.parent / "fresh", raw)
    fresh.root.mkdir()
    assert fresh.dbt("run", "--select", "staging", as_of="2026-06-29").success
    for model in [*TYPED, "base_shop__orders", "stg_quarantine__rejected_rows"]:
        ours = Counter(project.query(f"select * from staging.{model}"))
        theirs = Counter(fresh.query(f"select * from staging.{model}"))
        assert ours == theirs, model


def test_a_table_in_both_layouts_stops_the_run_naming_it(loads, tmp_path):
    project, raw = loads
    mixed = tmp_path / "raw"
    shutil.copytree(raw, mixed)
    duckdb.sql(
        f"copy (select * from read_parquet('{mixed}/products/*/*.parquet', "
        f"hive_partitioning = false)) to '{mixed}/products.parquet' (format parquet)"
    )
    other = DbtProject(tmp_path / "run", mixed)
    other.root.mkdir()
    result = other.dbt("build", "--select", "staging", as_of="2026-06-29")
    assert not result.success
    assert "raw table 'products' is in both layouts" in result.output
