"""One pipeline per warehouse: an OS file lock on `<warehouse>.lock`, next to the warehouse.

The pipeline (and the tools that read the warehouse: the audience export and the subject access
request) holds an exclusive `flock` on the lock file for its whole run. The kernel releases it
when the process ends, however it ends (SIGKILL included), so a lock file left behind never
blocks the next run: what it holds (PID, host, step, since) is advisory, shown to whoever
waits. The holder's dbt children are let through by a token in their environment
(LOCK_TOKEN_ENV_VAR), which the dbt plugin compares with the file's (see
plugins/pseudonym_key.py: a `dbt build` by hand during a run stops with one line).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

# The pipeline's dbt children carry the token of the lock their parent holds.
LOCK_TOKEN_ENV_VAR = "PRIVSEG_WAREHOUSE_LOCK_TOKEN"
# How often a waiting run looks again, and says that it still waits.
POLL_SECONDS = 0.5
REPORT_EVERY_SECONDS = 10.0


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def read_holder(path: Path) -> dict:
    """What the lock file says about its holder ({} when empty or unreadable)."""
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def describe(holder: dict) -> str:
    return "PID {} on {}, step {} since {}".format(
        holder.get("pid", "?"),
        holder.get("host", "?"),
        holder.get("step", "?"),
        holder.get("since", "?"),
    )


def held_by_another(path: Path) -> dict | None:
    """The holder's record when another open file (another process) holds the lock, else None."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(path)
    finally:
        os.close(fd)  # closing releases a lock this probe took
    return None


class LockBusy(Exception):
    """Another run holds the warehouse (exit 2): the message is the one line the user sees."""


class WarehouseLock:
    """The exclusive lock of one warehouse, held from acquire() to release() (or process end)."""

    def __init__(self, warehouse: Path) -> None:
        self.path = lock_path(warehouse)
        self.token = secrets.token_hex(16)
        self._fd: int | None = None
        self._record: dict = {}

    def acquire(
        self,
        step: str,
        wait: float = 0.0,
        report: Callable[[str], None] = logging.info,
        how_to_wait: str = "--wait SECONDS (make run WAIT=SECONDS)",
    ) -> None:
        """Take the lock, waiting up to `wait` seconds (saying who holds it while waiting);
        raise LockBusy naming the holder when it is still held."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        started = time.monotonic()
        last_report = -REPORT_EVERY_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                holder = read_holder(self.path)
                if waited >= wait:
                    os.close(fd)
                    raise LockBusy(
                        f"the warehouse {self.path.with_suffix('')} is in use by another "
                        f"pipeline run ({describe(holder)}); nothing was done: run again when "
                        f"it ends, or wait for it with {how_to_wait}"
                    ) from None
                if waited - last_report >= REPORT_EVERY_SECONDS:
                    report(
                        f"waiting for the warehouse lock {self.path}: held by "
                        f"{describe(holder)}; waited {waited:.0f} s of {wait:.0f} s"
                    )
                    last_report = waited
                time.sleep(POLL_SECONDS)
        self._fd = fd
        self._record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "token": self.token,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.set_step(step)
        os.environ[LOCK_TOKEN_ENV_VAR] = self.token

    def set_step(self, step: str) -> None:
        """Record the step the holder is in (advisory, for whoever waits)."""
        if self._fd is None:
            return
        self._record["step"] = step
        data = json.dumps(self._record).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        if self._fd is None:
            return
        os.environ.pop(LOCK_TOKEN_ENV_VAR, None)
        os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the only descriptor releases the flock
        self._fd = None

    def __enter__(self) -> WarehouseLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def add_wait_argument(parser: argparse.ArgumentParser) -> None:
    """--wait SECONDS for a tool that reads the warehouse under reading()."""
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when a pipeline run holds the warehouse, wait up to this long for it (else exit 2)",
    )


@contextmanager
def reading(warehouse: Path, tool: str, wait: float = 0.0) -> Iterator[None]:
    """The warehouse's lock around a tool that reads it (never a warehouse a run is rebuilding,
    compacting or publishing): taken when the warehouse exists (else the tool says what is
    missing), released at the end; LockBusy when a run still holds it after `wait` seconds."""
    lock = WarehouseLock(warehouse)
    if warehouse.is_file():
        lock.acquire(tool, wait=wait, how_to_wait="--wait SECONDS")
    try:
        yield
    finally:
        lock.release()
