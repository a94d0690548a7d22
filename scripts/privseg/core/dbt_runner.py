"""Running dbt from the scripts: one command at a time, in a child process."""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

from privseg.core.failures import first_line, redact
from privseg.core.settings import PROJECT_DIR

# How long a dbt child may take to stop cleanly (it cancels its queries) after we were stopped.
STOP_GRACE_SECONDS = 30
# dbt output lines kept for the failure summary when the output is shown, not captured.
KEPT_LINES = 200
# Python's own reports, printed by dbt's process when it crashes or cannot write its log file
# (a full disk): a traceback, or the logging module's "--- Logging error ---" block.
CRASH_START = ("Traceback (most recent call last):", "--- Logging error ---")
# dbt's own lines start with a time; a crash report runs until the next one. (dbt prints its
# own stack trace as one of its lines, the trace's lines following without a time.)
DBT_LINE = re.compile(r"^\d\d:\d\d:\d\d\s+")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*")
# The one line a withheld crash report becomes (build_failure_line looks for it).
CRASH_SUMMARY = "dbt's Python error, traceback withheld:"


class CrashReports:
    """Shows dbt's output line by line, with Python's crash reports (a traceback, or logging's
    "--- Logging error ---" block) replaced by one line for each exception they name that was
    not named before: a full log disk makes the logging module report every log line it could
    not write, hundreds of thousands of lines, and a traceback may quote source text with
    values in it. A report runs until dbt's next line; its exception lines are redacted like
    any other line. One instance per stream: dbt writes its lines to stdout and Python writes
    its reports to stderr, and the two would interleave mid-report if merged."""

    def __init__(self) -> None:
        self.inside = False
        self.shown: set[str] = set()
        self.repeats = 0

    def feed(self, line: str) -> list[str]:
        """The lines to show for one line of dbt's output."""
        text = line.rstrip("\n")
        timed = DBT_LINE.match(text)
        if (text[timed.end() :] if timed else text).startswith(CRASH_START):
            self.inside = True
        elif timed:
            self.inside = False
        if not self.inside:
            return [line]
        if not EXCEPTION_LINE.match(text):
            return []
        summary = first_line(text)
        if summary in self.shown:
            self.repeats += 1
            return []
        self.shown.add(summary)
        return [f"{CRASH_SUMMARY} {summary}\n"]

    def close(self) -> list[str]:
        """The lines still to show when dbt's output ends."""
        if not self.repeats:
            return []
        return [f"({self.repeats} repeats of these errors withheld)\n"]


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
        stderr=subprocess.PIPE,
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
            writing = threading.Lock()

            def show(stream) -> None:
                crashes = CrashReports()
                for line in itertools.chain(stream, [None]):
                    # DuckDB quotes the value it chokes on (say a name that is not UTF-8): only
                    # paths and names of relations pass (dbt's own log file keeps it,
                    # owner-only).
                    lines = crashes.close() if line is None else crashes.feed(redact(line))
                    with writing:
                        for shown in lines:
                            sys.stdout.write(shown)
                            kept.append(shown)
                        sys.stdout.flush()

            errors = threading.Thread(target=show, args=(process.stderr,), daemon=True)
            errors.start()
            show(process.stdout)
            errors.join()
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
