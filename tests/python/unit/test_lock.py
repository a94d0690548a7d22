"""One pipeline per warehouse (privseg.core.lock): the lock names its holder, a second taker
waits or is refused with one line, a killed holder never blocks, and the dbt plugin refuses a
dbt command by hand while a run holds the warehouse but lets the run's own dbt through. Also
the one-line failure helpers (no value reaches a message) and the publish gate's build id."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from privseg.core.failures import first_line, redact
from privseg.core.lock import LOCK_TOKEN_ENV_VAR, LockBusy, WarehouseLock, held_by_another
from privseg.publication.gate import refusals
from pseudonym_key import WarehouseInUseError, refuse_if_pipeline_holds

HOLDER = """
import sys, time
from pathlib import Path
from privseg.core.lock import WarehouseLock
lock = WarehouseLock(Path(sys.argv[1]))
lock.acquire("build")
print("held", lock.token, flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
"""


def _holder(warehouse: Path, seconds: float) -> tuple[subprocess.Popen, str]:
    """Another process holding the warehouse's lock for `seconds`; returns it and its token."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().split()
    assert line[0] == "held"
    return process, line[1]


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return tmp_path / "warehouse.duckdb"


def test_the_lock_file_names_pid_host_step_and_since_and_is_owner_only(warehouse):
    lock = WarehouseLock(warehouse)
    lock.acquire("generate")
    lock.set_step("build")
    record = json.loads(lock.path.read_text())
    assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
    assert record["step"] == "build" and record["since"].endswith("+00:00")
    assert lock.path.stat().st_mode & 0o077 == 0
    assert os.environ[LOCK_TOKEN_ENV_VAR] == lock.token
    lock.release()
    assert lock.path.read_text() == "" and LOCK_TOKEN_ENV_VAR not in os.environ
    assert held_by_another(lock.path) is None


def test_a_second_taker_is_refused_with_one_line_naming_the_holder(warehouse):
    process, _ = _holder(warehouse, 30)
    try:
        started = time.monotonic()
        with pytest.raises(LockBusy) as refused:
            WarehouseLock(warehouse).acquire("build")
        assert time.monotonic() - started < 2, "no wait asked: refused at once"
        message = str(refused.value)
        assert "\n" not in message
        assert f"PID {process.pid} on {socket.gethostname()}, step build since " in message
        assert "--wait SECONDS" in message and str(warehouse) in message
    finally:
        process.kill()
        process.wait()


def test_a_waiting_taker_says_who_holds_it_and_gets_it_when_released(warehouse):
    process, _ = _holder(warehouse, 1.5)
    said: list[str] = []
    lock = WarehouseLock(warehouse)
    started = time.monotonic()
    lock.acquire("publish", wait=60, report=said.append)
    waited = time.monotonic() - started
    lock.release()
    process.wait()
    assert 0.5 < waited < 30
    assert said and f"held by PID {process.pid}" in said[0] and "waited 0 s of 60 s" in said[0]


def test_waiting_gives_up_after_wait_seconds(warehouse):
    process, _ = _holder(warehouse, 30)
    try:
        started = time.monotonic()
        with pytest.raises(LockBusy):
            WarehouseLock(warehouse).acquire("build", wait=1.0, report=lambda _: None)
        assert 1.0 <= time.monotonic() - started < 5
    finally:
        process.kill()
        process.wait()


def test_a_killed_holder_never_blocks_the_next_run(warehouse):
    process, _ = _holder(warehouse, 60)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert (
        json.loads(warehouse.with_name("warehouse.duckdb.lock").read_text())["pid"] == process.pid
    )
    lock = WarehouseLock(warehouse)
    lock.acquire("build")  # the stale record is advisory: the kernel released the lock
    assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    lock.release()


def test_dbt_by_hand_is_refused_while_a_run_holds_the_warehouse(warehouse, monkeypatch):
    refuse_if_pipeline_holds(str(warehouse))  # no lock file: nothing to refuse
    process, token = _holder(warehouse, 30)
    try:
        monkeypatch.delenv(LOCK_TOKEN_ENV_VAR, raising=False)
        with pytest.raises(WarehouseInUseError) as refused:
            refuse_if_pipeline_holds(str(warehouse))
        assert f"in use by a pipeline run (PID {process.pid}" in str(refused.value)
        # A DbtRuntimeError: dbt prints its message, no traceback.
        assert "Traceback" not in str(refused.value)
        # The run's own dbt children carry its token.
        monkeypatch.setenv(LOCK_TOKEN_ENV_VAR, token)
        refuse_if_pipeline_holds(str(warehouse))
        monkeypatch.setenv(LOCK_TOKEN_ENV_VAR, "another-token")
        with pytest.raises(WarehouseInUseError):
            refuse_if_pipeline_holds(str(warehouse))
    finally:
        process.kill()
        process.wait()
    refuse_if_pipeline_holds(str(warehouse))  # released by the kernel


def test_messages_keep_paths_and_names_and_drop_quoted_values(tmp_path):
    existing = tmp_path / "orders.parquet"
    existing.write_text("")
    message = (
        f"Conversion Error: Could not convert string 'jane.doe@example.com' to INT32 in "
        f"'{existing}' column \"customer_id\" of 'staging.stg_shop__orders'"
    )
    redacted = redact(message)
    assert "jane.doe" not in redacted and "'...'" in redacted
    assert str(existing) in redacted and "customer_id" in redacted
    assert "staging.stg_shop__orders" in redacted
    assert redact("name 'Jane Doe' too long") == "name '...' too long"
    assert first_line("first 'x y'\nsecond") == "first '...'"


def _gate_inputs(warehouse_build: str | None) -> tuple[dict, dict, dict]:
    model = {
        "unique_id": "model.p.rpt",
        "name": "rpt",
        "resource_type": "model",
        "config": {"meta": {"privacy": {"published": True}}},
        "meta": {"privacy": {"published": True}},
    }
    test = {"resource_type": "test", "depends_on": {"nodes": ["model.p.rpt"]}}
    manifest = {"nodes": {"model.p.rpt": model, "test.p.t": test}}
    results = {
        "metadata": {"invocation_id": "build-1"},
        "results": [
            {"unique_id": "model.p.rpt", "status": "success"},
            {"unique_id": "test.p.t", "status": "pass"},
        ],
    }
    audit = {"build_id": "build-1", "warehouse_build_id": warehouse_build, "status": "pass"}
    return manifest, results, audit


def test_publish_refuses_an_audit_of_a_warehouse_that_held_another_build():
    assert refusals(*_gate_inputs("build-1")) == []
    (problem,) = refusals(*_gate_inputs("build-2"))
    assert "held build build-2, not build build-1" in problem
    assert refusals(*_gate_inputs(None)), "a warehouse without a build id is not published"
