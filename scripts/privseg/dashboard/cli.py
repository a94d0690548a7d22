"""Apache Superset on the publication: set up, import the dashboard, serve on loopback.

    python scripts/superset_dashboard.py run      # setup, then serve (what `make dashboard` does)
    python scripts/superset_dashboard.py setup    # configure Superset and (re)import the dashboard
    python scripts/superset_dashboard.py serve    # serve on http://127.0.0.1:SUPERSET_PORT/
    python scripts/superset_dashboard.py check    # is there a publication to show?

Setup registers PUBLISH_DIR/segments.duckdb, the stable link that follows every new release,
and imports the dashboard defined in bi/superset/dashboard.yaml (privseg.dashboard.bundle).

Exit codes: 0 ok; 1 a Superset command failed; 2 no publication yet, or no Superset venv.
"""

from __future__ import annotations

import argparse
import logging
import os

from privseg.core.logs import setup_logging
from privseg.dashboard.settings import DashboardSettings
from privseg.dashboard.superset import login_help, server_command, setup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("run", "setup", "serve", "check"))
    args = parser.parse_args(argv)
    setup_logging()
    settings = DashboardSettings.from_env()
    if not settings.publication.exists():
        logging.error("no publication at %s: run `make run` first", settings.publication)
        return 2
    if args.step == "check":
        return 0
    if not (settings.venv / "bin" / "superset").exists():
        logging.error("no Superset in %s: run `make dashboard`, which installs it", settings.venv)
        return 2
    new_password = False
    if args.step in ("run", "setup"):
        try:
            new_password = setup(settings)
        except RuntimeError as error:
            logging.error("%s", error)
            return 1
    if args.step in ("run", "serve"):
        print(login_help(settings, new_password), flush=True)
        os.chdir(settings.state_dir)
        command = server_command(settings)
        os.execve(command[0], command, settings.env())
    else:
        print(login_help(settings, new_password).rsplit("\n", 1)[0])
    return 0
