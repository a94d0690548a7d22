"""Running dbt from the scripts: one command at a time, in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from privseg.core.settings import PROJECT_DIR


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
    capture=True the output is returned instead of shown.
    """
    return subprocess.run(
        [
            dbt_executable(),
            *args,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
        ],
        cwd=project_dir,
        env={**os.environ, **(env or {})},
        text=True,
        capture_output=capture,
        check=False,
    )
