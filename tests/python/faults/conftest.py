"""The fault tier (`make test-faults`): one published demo state per session, shared by the
pytest workers (the first to come makes it, under a file lock), copied for every case."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

import pytest
from fault_harness import DEMO_CUSTOMERS, RECOVERY_LOG_NAME, Case, personal_values, run_command


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory) -> Path:
    # The folder every xdist worker's basetemp lives in (the basetemp itself without xdist).
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    os.environ["FAULTS_SHARED_DIR"] = str(shared)
    return shared


@pytest.fixture(scope="session")
def base_state(shared_dir) -> Path:
    """Demo data (DEMO_CUSTOMERS customers), built, audited and published once."""
    state = shared_dir / "fault_base"
    with (shared_dir / "fault_base.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (state / "published" / "publication.json").exists():
            shutil.rmtree(state, ignore_errors=True)
            state.mkdir()
            done = run_command(state, "run", "--demo-customers", DEMO_CUSTOMERS)
            assert done.code == 0, done.output[-4000:]
    return state


@pytest.fixture(scope="session")
def personal(base_state) -> list[str]:
    values = personal_values(base_state / "raw")
    assert len(values) > 500, "the demo data has names, emails, phones and addresses"
    return values


@pytest.fixture
def case(base_state, personal, tmp_path) -> Case:
    root = tmp_path / "state"
    # Not dbt's log of the base run: cases watch the log of their own run.
    shutil.copytree(
        base_state, root, symlinks=True, ignore=shutil.ignore_patterns("tmp", "dbt.log")
    )
    return Case(root=root, base=base_state, personal=personal)


def pytest_terminal_summary(terminalreporter, config):
    """The recovery times the cases measured (figures for docs/operations.md)."""
    log = config._tmp_path_factory.getbasetemp() / RECOVERY_LOG_NAME
    if not log.exists():
        return
    terminalreporter.section("next-run recovery times")
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        terminalreporter.write_line(
            f"{entry['case']:<45} {entry['command']:<10} {entry['seconds']:7.1f} s"
        )
