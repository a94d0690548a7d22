"""Fault matrix, resources: the disk fills during the build (the warehouse's disk, or the one of
dbt's target and logs folders), the compaction and the publish (a small tmpfs the test mounts,
filled at that moment); DuckDB's memory limit too small with the temp directory full; the key
file unreadable or changed between runs."""

from __future__ import annotations

import time

import pytest
from fault_harness import WITHOUT_ROOT_POWERS, fill, log_says, relocate, small_disk, wait_until

# Room for the recovery after a full disk: the warehouse the failed run left (its deleted blocks
# still in the file), what the recovery build adds to it, and the compacted copy (64 MB was too
# little once the warehouse held the incremental upstream). fill() takes the rest when asked.
DISK_MB = 160


@pytest.mark.parametrize(
    ("moved", "message"),
    [
        (("WAREHOUSE_PATH",), "dbt build failed (disk full)"),
        (("DBT_TARGET_PATH", "DBT_LOG_PATH"), "disk full"),
    ],
    ids=["warehouse_disk", "dbt_target_and_logs_disk"],
)
def test_disk_full_during_the_build(case, tmp_path, moved, message):
    with small_disk(tmp_path / "disk", DISK_MB) as disk:
        for variable in moved:
            relocate(case, variable, disk)
        publication = case.publication()
        started = time.monotonic()
        process = case.start("run")
        wait_until(log_says(case, "START sql table model"), process)
        filler = fill(disk)
        run = case.finish(process, started)
        case.check(run, 1, message)
        assert case.publication() == publication
        filler.unlink(missing_ok=True)  # space freed
        case.recover(what=f"disk full on the disk of {', '.join(moved)} during the build")


def test_disk_full_during_the_compaction(case, tmp_path):
    with small_disk(tmp_path / "disk", DISK_MB) as disk:
        warehouse = relocate(case, "WAREHOUSE_PATH", disk)
        compacting = warehouse.with_name("warehouse.compacting.duckdb")
        publication = case.publication()
        started = time.monotonic()
        process = case.start("run")
        wait_until(compacting.exists, process)
        filler = fill(disk)
        run = case.finish(process, started)
        case.check(run, 1, "step build failed", "disk full", str(compacting))
        assert not compacting.exists(), "the half-written copy is removed"
        assert case.publication() == publication
        assert case.warehouse_build() is not None, "the built warehouse stays, uncompacted"
        filler.unlink(missing_ok=True)
        case.recover(what="disk full during the compaction")


def test_disk_full_during_the_publish(case, tmp_path):
    with small_disk(tmp_path / "disk", 32) as disk:
        published = relocate(case, "PUBLISH_DIR", disk)
        releases = published / "releases"
        publication = case.publication()
        started = time.monotonic()
        process = case.start("publish")
        wait_until(
            lambda: any(p.name.startswith(".incomplete-") for p in releases.iterdir()), process
        )
        filler = fill(disk)
        run = case.finish(process, started)
        case.check(run, 1, "step publish failed", "disk full")
        assert case.publication() == publication
        assert not any(p.name.startswith(".") for p in releases.iterdir()), "nothing half-written"
        filler.unlink(missing_ok=True)
        case.recover("publish", what="disk full during the publish (publish again)")


def test_memory_limit_too_small_with_the_temp_directory_full(case, tmp_path):
    with small_disk(tmp_path / "spill", 1) as spill:
        fill(spill)
        publication = case.publication()
        run = case.run("build", env={"DUCKDB_MEMORY_LIMIT": "24MB", "DUCKDB_TEMP_DIR": str(spill)})
        case.check(run, 1, "dbt build failed (out of memory")
        assert case.publication() == publication
    assert case.warehouse_build() is not None, "the warehouse still opens"
    case.recover(what="memory limit too small, temp directory full")


def test_an_unreadable_key_file_is_named(case):
    key = case.root / "secrets" / "pseudonym.key"
    key.chmod(0)
    publication = case.publication()
    run = case.run(prefix=WITHOUT_ROOT_POWERS)
    case.check(run, 2, "pseudonymization key file", str(key), "Permission denied")
    assert case.publication() == publication
    key.chmod(0o600)
    assert case.warehouse_build() is not None


def test_a_key_changed_between_runs_stops_the_build_before_any_table(case):
    key = case.root / "secrets" / "pseudonym.key"
    old = key.read_text()
    key.write_text("a-different-key-" + "0" * 32)
    publication, build = case.publication(), case.warehouse_build()
    run = case.run()
    case.check(run, 1, "dbt build failed", "pseudonymization key changed")
    assert old.strip() not in run.output and "a-different-key" not in run.output
    assert case.publication() == publication
    assert case.warehouse_build() == build, "no table was touched"
