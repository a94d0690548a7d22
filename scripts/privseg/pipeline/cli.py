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

Exit codes: 0 success; 1 the build, a test or the audit failed (nothing published); 2 usage
or configuration (missing raw tables or columns, unwritable paths, bad key, bad PUBLISH_MODE or
PUBLISH_GROUP).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable

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
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    # Invariant 10: owner-only files from here on, for dbt and DuckDB too (they inherit it).
    restrict_umask()
    settings = Settings.from_env()
    settings.export()

    plan: dict[str, Callable[[], int]] = {
        "generate": lambda: step_generate(settings, args.demo_customers, args.force),
        "preflight": lambda: preflight(settings),
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

    started_all = time.monotonic()
    for position, name in enumerate(names, start=1):
        started = time.monotonic()
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
            if name in ("build", "audit"):
                logging.error("nothing was published; the previous publication is unchanged")
            return code
    logging.info("done in %.1f s", time.monotonic() - started_all)
    if args.step in ("run", "build", "publish") and settings.warehouse_path.exists():
        print_summary(settings)
    return 0
