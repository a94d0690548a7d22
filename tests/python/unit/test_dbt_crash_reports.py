"""dbt's Python crash reports (tracebacks, and the logging module's report of every log line
it could not write to a full disk) reach the terminal as one line per distinct error, never
as the report itself: it can run to hundreds of thousands of lines and quote values."""

from __future__ import annotations

from privseg.core.dbt_runner import CRASH_SUMMARY, CrashReports
from privseg.pipeline.steps import build_failure_line

LOGGING_ERROR = """--- Logging error ---
Traceback (most recent call last):
  File "/usr/lib/python3.11/logging/__init__.py", line 1114, in emit
    self.flush()
OSError: [Errno 28] No space left on device
Call stack:
  File "/venv/lib/python3.11/site-packages/dbt/task/run.py", line 297, in _execute_model
Message: 'select * from customers where email = ''jane@example.com'''
Arguments: ()
"""
CRASH = """Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/dbt_common/clients/system.py", line 311, in write_json
    with open(path, "w", encoding='...') as f:
OSError: [Errno 28] No space left on device

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/dbt/cli/requires.py", line 197, in wrapper
    raise ExceptionExit(e)
dbt.cli.exceptions.ExceptionExit: <exception str() failed>
"""


def _shown(output: str) -> list[str]:
    reports = CrashReports()
    shown = []
    for line in output.splitlines(keepends=True):
        shown.extend(reports.feed(line))
    return shown + reports.close()


def test_a_full_log_disk_shows_one_line_per_distinct_error_and_no_value():
    output = (
        "19:33:03  1 of 644 START sql table model pseudonymized.int_key ........ [RUN]\n"
        + LOGGING_ERROR * 500
        + "19:33:04  1 of 644 OK created sql table model pseudonymized.int_key ... [OK in 1s]\n"
        + LOGGING_ERROR * 500
        + CRASH
    )
    shown = _shown(output)
    assert shown == [
        "19:33:03  1 of 644 START sql table model pseudonymized.int_key ........ [RUN]\n",
        f"{CRASH_SUMMARY} OSError: [Errno 28] No space left on device\n",
        "19:33:04  1 of 644 OK created sql table model pseudonymized.int_key ... [OK in 1s]\n",
        f"{CRASH_SUMMARY} dbt.cli.exceptions.ExceptionExit: <exception str() failed>\n",
        "(1000 repeats of these errors withheld)\n",
    ]
    text = "".join(shown)
    assert "jane" not in text and "Traceback" not in text and "Call stack" not in text


def test_dbt_s_own_stack_trace_is_withheld_up_to_its_next_line():
    output = (
        "19:39:59  Encountered an error:\n"
        "[Errno 28] No space left on device\n"
        "19:39:59  Traceback (most recent call last):\n"
        '  File "/venv/lib/python3.11/site-packages/dbt_common/clients/system.py", line 312\n'
        "OSError: [Errno 28] No space left on device\n"
        "19:40:00  Done.\n"
    )
    assert _shown(output) == [
        "19:39:59  Encountered an error:\n",
        "[Errno 28] No space left on device\n",
        f"{CRASH_SUMMARY} OSError: [Errno 28] No space left on device\n",
        "19:40:00  Done.\n",
    ]


def test_output_without_a_crash_is_shown_unchanged():
    output = (
        "19:33:03  Running with dbt=1.11.16\n"
        "19:33:09    Runtime Error in model int_orders (models/int_orders.sql)\n"
        "  Binder Error: column x not found\n"
    )
    assert "".join(_shown(output)) == output


def test_a_build_stopped_by_a_full_disk_names_the_cause(tmp_path):
    # dbt could not write run_results.json: no failing node to name, only its crash.
    output = "".join(_shown(LOGGING_ERROR * 3 + CRASH))
    line = build_failure_line(tmp_path / "run_results.json", 0.0, output)
    assert line.startswith("dbt build failed (disk full): ")
    assert "No space left on device" in line
