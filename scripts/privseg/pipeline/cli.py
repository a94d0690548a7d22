"""One command for the whole job: demo data, build, audit, publish, docs; each step on its own.

    python scripts/pipeline.py run        # all of the below, in this order
    python scripts/pipeline.py generate   # demo data into RAW_DATA_DIR if it has none
    python scripts/pipeline.py build      # preflight, dbt build (models + every test), compaction
    python scripts/pipeline.py audit      # scripts/audit_privacy.py on the build
    python scripts/pipeline.py publish    # published models -> PUBLISH_DIR (privseg.publication)
    python scripts/pipeline.py docs       # dbt docs generate --static -> one offline HTML file

Write, audit, publish: nothing reaches PUBLISH_DIR unless every dbt test of the build and the
privacy audit of that build passed; BI readers keep the previous publication until then.

Everything it writes (raw demo data, the warehouse and its WAL and spill folder, target/ and
logs/) is readable by its owner only: it sets the umask to 077 before anything runs. The
publication is shared as PUBLISH_MODE says (privseg.core.modes).

One pipeline per warehouse: every step runs under the warehouse's lock (privseg.core.lock). A
second run waits up to --wait seconds, saying who holds it, then exits 2 naming the holder.

Every failure ends with one line naming its cause and the file, table or step (no traceback;
--debug shows it). SIGTERM (or Ctrl-C) stops the run cleanly: dbt is stopped, a compaction copy
or an incomplete release is removed, the lock is released, the publication is unchanged.

Exit codes: 0 success; 1 the build, a test or the audit failed, or a resource ran out (nothing
published); 2 usage or configuration (missing raw tables or columns, unwritable paths, bad key,
bad PUBLISH_MODE or PUBLISH_GROUP, the warehouse held by another run); 130 / 143 stopped by
Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from privseg.core.failures import describe_os_error, first_line, resource_cause
from privseg.core.lock import LockBusy, WarehouseLock
from privseg.core.logs import setup_logging
from privseg.core.modes import restrict_umask
from privseg.core.settings import Settings
from privseg.pipeline.steps import (
    DEMO_CUSTOMERS,
    preflight,
    step_audit,
    step_build,
    step_docs,
    step_generate,
    step_publish,
)
from privseg.pipeline.summary import print_summary

STEPS = ("generate", "build", "audit", "publish", "docs")


class Stopped(BaseException):
    """SIGTERM arrived (a BaseException: nothing on the way catches it as an error)."""


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into Stopped, so every `finally` on the way runs (clean stop)."""

    def handler(signum: int, frame: object) -> None:
        raise Stopped

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["run", *STEPS])
    parser.add_argument("--as-of", help="ISO date the run is as of (dbt var as_of)")
    parser.add_argument("--force", action="store_true", help="generate even if raw data exists")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every table from raw (needed after a key rotation)",
    )
    parser.add_argument(
        "--demo-customers",
        type=int,
        default=DEMO_CUSTOMERS,
        help=f"customers in generated demo data (default {DEMO_CUSTOMERS})",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="when another run holds the warehouse, wait up to this long (default 0: exit 2)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--debug", action="store_true", help="debug logging, and the traceback of a failure"
    )
    args = parser.parse_args(argv)
    setup_logging(args.verbose or args.debug)
    problem = as_of_problem(args.as_of)
    if problem:
        logging.error("--as-of: %s", problem)
        return 2
    # Invariant 10: owner-only files from here on, for dbt and DuckDB too (they inherit it).
    restrict_umask()
    settings = Settings.from_env()
    settings.export()

    plan: dict[str, Callable[[], int]] = {
        "generate": lambda: step_generate(settings, args.demo_customers, args.force),
        "preflight": lambda: preflight(settings, args.as_of),
        "build": lambda: step_build(settings, args.as_of, args.full_refresh),
        "audit": lambda: step_audit(settings),
        "publish": lambda: step_publish(settings),
        "docs": lambda: step_docs(settings),
    }
    if args.step == "run":
        names = ["generate", "preflight", "build", "audit", "publish", "docs"]
    elif args.step == "build":
        names = ["preflight", "build"]
    else:
        names = [args.step]

    lock = WarehouseLock(settings.warehouse_path)
    current = ["lock"]
    try:
        with stop_on_sigterm():
            try:
                lock.acquire(names[0], args.wait)
            except LockBusy as busy:
                logging.error("%s", busy)
                return 2
            try:
                return run_steps(settings, args.step, names, plan, lock, current)
            finally:
                lock.release()
    except (Stopped, KeyboardInterrupt) as stop:
        signal_name = "SIGTERM" if isinstance(stop, Stopped) else "Ctrl-C"
        logging.error(
            "stopped by %s in step %s: nothing was published (the previous publication is "
            "unchanged), the lock is released; run again to finish",
            signal_name,
            current[0],
        )
        return 143 if isinstance(stop, Stopped) else 130
    except Exception as error:
        if args.debug:
            raise
        logging.error("%s", failure_line(error, current[0]))
        return 1


def as_of_problem(as_of: str | None) -> str | None:
    """Why --as-of cannot be used, or None: an ISO date, not after today."""
    if as_of is None:
        return None
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        return f"{as_of!r} is not an ISO date like 2026-06-30"
    today = date.today()
    if day > today:
        return (
            f"{day} is in the future (today is {today}): a run is as of a day whose data has "
            "arrived; leave --as-of out to run as of today"
        )
    return None


def failure_line(error: Exception, step: str) -> str:
    """One line for an unexpected failure: the cause, the file or table, the step."""
    if isinstance(error, OSError):
        cause = describe_os_error(error)
    else:
        message = str(error)
        cause = resource_cause(message) or ""
        cause = f"{cause}: " if cause else ""
        cause += f"{type(error).__name__}: {first_line(message)}"
    published = (
        "the new release is published"
        if step == "docs"
        else "nothing was published (the previous publication is unchanged)"
    )
    return (
        f"step {step} failed: {cause}; {published}; fix the cause and run again "
        "(--debug shows the traceback)"
    )


def run_steps(
    settings: Settings,
    command: str,
    names: list[str],
    plan: dict[str, Callable[[], int]],
    lock: WarehouseLock,
    current: list[str],
) -> int:
    started_all = time.monotonic()
    for position, name in enumerate(names, start=1):
        started = time.monotonic()
        current[0] = name
        lock.set_step(name)
        logging.info("step %d/%d %s: started", position, len(names), name)
        code = plan[name]()
        logging.info(
            "step %d/%d %s: %s in %.1f s",
            position,
            len(names),
            name,
            "ok" if code == 0 else "FAILED",
            time.monotonic() - started,
        )
        if code != 0:
            if name == "audit":
                logging.error(
                    "the privacy audit failed (findings above, %s): nothing was published; "
                    "the previous publication is unchanged",
                    settings.target_dir / "privacy_audit.html",
                )
            return code
    logging.info("done in %.1f s", time.monotonic() - started_all)
    if command in ("run", "build", "publish") and settings.warehouse_path.exists():
        print_summary(settings)
    return 0
