"""Fault matrix, processes: SIGKILL in the build, the compaction and the publish; SIGTERM; two
pipelines at once (refused, or waiting); dbt by hand during a run and a run during dbt by
hand; two `make run`s in one project folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from fault_harness import PYTHON, log_says, wait_until

from privseg.core.settings import PROJECT_DIR
from privseg.core.warehouse import writer_holding


def _kill(process: subprocess.Popen, warehouse: Path, sig: int = signal.SIGKILL) -> None:
    """Signal the run's whole process group (as a shell's kill of the job would) and wait
    until every process of the group has exited, dbt included, and the warehouse's DuckDB
    lock is free: a killed process whose main thread is already a zombie still holds its
    files while its other threads finish exiting, and the kernel releases the lock only then."""
    os.killpg(process.pid, sig)
    process.wait()
    deadline = time.monotonic() + 60
    while (_group_alive(process.pid) or writer_holding(warehouse)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies, awaiting their reaper, do not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _incomplete(case) -> bool:
    return any(p.name.startswith(".incomplete-") for p in (case.published / "releases").iterdir())


def test_sigkill_during_the_build(case):
    publication = case.publication()
    process = case.start("run")
    wait_until(log_says(case, "START sql table model"), process)
    _kill(process, case.warehouse)
    assert case.publication() == publication
    assert case.warehouse_build() is not None, "DuckDB's WAL leaves a consistent warehouse"
    case.recover(what="SIGKILL during the build")


def test_sigkill_during_the_compaction(case):
    compacting = case.warehouse.with_name("warehouse.compacting.duckdb")
    publication = case.publication()
    process = case.start("run")
    wait_until(compacting.exists, process)
    _kill(process, case.warehouse)
    assert case.publication() == publication
    assert case.warehouse_build() is not None, "the rename never happened: the build is intact"
    case.recover(what="SIGKILL during the compaction")
    assert not compacting.exists(), "the next compaction replaced the leftover copy"


def test_sigkill_during_the_publish(case):
    publication = case.publication()
    process = case.start("publish")
    wait_until(lambda: _incomplete(case), process)
    _kill(process, case.warehouse)
    assert case.publication() == publication
    case.recover("publish", what="SIGKILL during the publish (publish again)")
    assert not _incomplete(case)


def test_sigterm_stops_cleanly_and_releases_the_lock(case):
    publication = case.publication()
    started = time.monotonic()
    process = case.start("run")
    wait_until(log_says(case, "START sql table model"), process)
    os.kill(process.pid, signal.SIGTERM)  # the pipeline only: it stops its dbt itself
    run = case.finish(process, started)
    case.check(run, 143, "stopped by SIGTERM in step build", "lock is released")
    assert case.publication() == publication
    assert (case.root / "warehouse.duckdb.lock").read_text() == "", "lock released"
    assert not case.warehouse.with_name("warehouse.duckdb.wal").exists(), "dbt ended cleanly"
    assert case.warehouse_build() is not None
    case.recover(what="SIGTERM during the build")


def test_a_second_pipeline_is_refused_naming_the_first(case):
    started = time.monotonic()
    first = case.start("run")
    wait_until(log_says(case, "START sql table model"), first)
    second = case.run("publish")
    case.check(second, 2, "in use by another pipeline run", f"PID {first.pid}", "step build")
    assert len(second.error_lines) == 1
    run = case.finish(first, started)
    case.check(run, 0)


def test_a_second_pipeline_with_wait_runs_after_the_first(case):
    started = time.monotonic()
    first = case.start("run")
    wait_until(log_says(case, "START sql table model"), first)
    second = case.run("publish", "--wait", "900")
    case.check(second, 0)
    assert f"held by PID {first.pid}" in second.stderr and "waited 0 s of 900 s" in second.stderr
    run = case.finish(first, started)
    case.check(run, 0)
    # The waiting publish came after the first run's: the release is of the same build.
    publication = json.loads((case.published / "publication.json").read_text())
    audit = json.loads((case.root / "target" / "privacy_audit.json").read_text())
    assert publication["build_id"] == audit["build_id"] == case.warehouse_build()


def test_dbt_by_hand_during_a_run_is_refused_in_one_line(case):
    started = time.monotonic()
    process = case.start("run")
    wait_until(log_says(case, "START sql table model"), process)
    by_hand = case.dbt("build", "--target", "ci")
    output = by_hand.stdout + by_hand.stderr
    assert by_hand.returncode != 0
    assert "is in use by a pipeline run (PID" in output and "Traceback" not in output
    run = case.finish(process, started)
    case.check(run, 0)


def test_a_run_during_dbt_by_hand_is_refused_in_one_line(case):
    holder = subprocess.Popen(
        [
            PYTHON,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True);"
            " time.sleep(600)",
            str(case.warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        publication = case.publication()
        run = case.run()
        case.check(run, 2, "is open for writing by PID", str(holder.pid), "not a pipeline run")
        assert case.publication() == publication
    finally:
        holder.kill()
        holder.wait()
    case.recover(what="a run refused while dbt by hand held the warehouse")


def test_two_make_runs_in_one_folder_both_end_well(case, tmp_path):
    """`make run` twice at once in one project folder (default paths): the second waits for the
    first (WAIT) and both publish; without WAIT the second is refused in one line."""
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        project,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv*", ".git", "target", "logs", "data", ".secrets"),
    )
    (project / ".venv").symlink_to(PROJECT_DIR / ".venv")
    shutil.copytree(case.raw, project / "data" / "raw")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DBT_TARGET": "ci",
        "DUCKDB_MEMORY_LIMIT": "2GB",
    }

    def make(*args: str) -> subprocess.Popen:
        # Output to files: a pipe nobody reads while the other run goes on would fill up.
        name = tmp_path / f"make-{len(args)}"
        with open(f"{name}.out", "w") as out, open(f"{name}.err", "w") as err:
            process = subprocess.Popen(
                ["make", "--no-print-directory", "run", *args],
                cwd=project,
                env=env,
                stdout=out,
                stderr=err,
                text=True,
            )
        process.output_name = name  # type: ignore[attr-defined]
        return process

    def finish(process: subprocess.Popen) -> str:
        process.wait(timeout=1200)
        return open(f"{process.output_name}.err").read()  # type: ignore[attr-defined]

    first = make()
    lock = project / "data" / "warehouse.duckdb.lock"
    wait_until(lambda: lock.exists() and lock.read_text() != "", first)
    refused = subprocess.run(
        ["make", "--no-print-directory", "run"], cwd=project, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "is in use by another pipeline run" in refused.stderr
    assert "Traceback" not in refused.stderr
    second = make("WAIT=900")
    err1, err2 = finish(first), finish(second)
    assert first.returncode == 0, err1[-3000:]
    assert second.returncode == 0, err2[-3000:]
    assert "waiting for the warehouse lock" in err2
    releases = list((project / "data" / "published" / "releases").iterdir())
    assert len(releases) == 2 and not any(p.name.startswith(".") for p in releases)
