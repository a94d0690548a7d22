"""Running dbt from the scripts: one command at a time, in a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import deque
from pathlib import Path

from privseg.core.failures import redact
from privseg.core.settings import PROJECT_DIR

# How long a dbt child may take to stop cleanly (it cancels its queries) after we were stopped.
STOP_GRACE_SECONDS = 30
# dbt output lines kept for the failure summary when the output is shown, not captured.
KEPT_LINES = 200


def dbt_executable() -> str:
    """The dbt installed next to the running Python (the project's .venv)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: list[str],
    env: dict[str, str] | None = None,
    capture: bool = False,
    project_dir: Path = PROJECT_DIR,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command in a child process from the project directory.

    A child process, not dbtRunner: dbt-duckdb keeps the database open in the
    process that ran it, which would stop the caller (or a test) from opening
    the warehouse afterwards. dbt prints one progress line per node; with
    capture=True the output is returned instead of shown. Shown output is passed
    through line by line, quoted values withheld (privseg.core.failures.redact),
    and its last lines are returned as stdout too (for a one-line summary of a
    failure). If we are interrupted (SIGTERM, Ctrl-C), dbt is
    asked to stop as on Ctrl-C (it cancels its queries; DuckDB rolls back what
    was not committed), killed if it does not within STOP_GRACE_SECONDS, and the
    interruption goes on.
    """
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
    ]
    process = subprocess.Popen(
        command,
        cwd=project_dir,
        env={**os.environ, **(env or {})},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if capture else subprocess.STDOUT,
        errors="replace",
        # A run started in the background of a script ignores SIGINT, and so would dbt: give
        # it back dbt's Ctrl-C handling, which stop() relies on.
        preexec_fn=_default_sigint,
    )
    try:
        if capture:
            stdout, stderr = process.communicate()
        else:
            kept: deque[str] = deque(maxlen=KEPT_LINES)
            assert process.stdout is not None
            for line in process.stdout:
                # DuckDB quotes the value it chokes on (say a name that is not UTF-8): only
                # paths and names of relations pass (dbt's own log file keeps it, owner-only).
                shown = redact(line)
                sys.stdout.write(shown)
                sys.stdout.flush()
                kept.append(shown)
            process.wait()
            stdout, stderr = "".join(kept), ""
    except BaseException:
        stop(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop(process: subprocess.Popen) -> None:
    """Ask dbt to stop as on Ctrl-C; kill it if it does not in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
