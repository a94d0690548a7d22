"""Column-level lineage of every model, from dbt's compiled SQL back to source columns.

    python scripts/lineage.py [--target-dir DIR] [--format text|json] [--model NAME ...]

Prints one line per (model column, source column) path, or everything as JSON (models, columns,
findings); logs the findings. The semantics are in the package docstring (privseg.lineage).

Exit codes: 0 no findings, 1 findings, 2 the dbt artifacts cannot be read.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from privseg.core.settings import Settings
from privseg.lineage.model import ProjectLineage
from privseg.lineage.paths import model_summary
from privseg.lineage.project import read_artifacts, trace_project


def _text_report(project: ProjectLineage, names: list[str] | None) -> Iterator[str]:
    for model_name, columns in project.columns.items():
        if names and model_name not in names:
            continue
        for column, paths in columns.items():
            if not paths:
                yield f"{model_name}.{column}  (no upstream column)"
            for entry in paths:
                value = "" if entry["carries_value"] else ", selects only"
                yield (
                    f"{model_name}.{column} <- {entry['source']} "
                    f"[{', '.join(entry['steps'])}{value}] ({entry['source_classification']})"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=None,
        help="dbt target folder with manifest.json and catalog.json (default DBT_TARGET_PATH)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--model", action="append", help="print only these models (text)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

    target_dir = args.target_dir or Settings.from_env().target_dir
    try:
        manifest, catalog = read_artifacts(target_dir)
    except (OSError, ValueError) as error:
        logging.error("lineage: cannot read the dbt artifacts in %s: %s", target_dir, error)
        return 2
    started = time.monotonic()
    project = trace_project(manifest, catalog, target_dir=target_dir)
    columns, findings = project.columns, project.findings
    logging.info(
        "lineage: %d models parsed in %.1f s; %d past staging with %d columns traced to "
        "sources in %.1f s in all; %d unparsed, %d findings",
        len(project.models),
        project.seconds,
        len(columns),
        sum(len(c) for c in columns.values()),
        time.monotonic() - started,
        sum(1 for m in project.models.values() if m.unparsed),
        len(findings),
    )
    if args.format == "json":
        document = {"models": model_summary(project), "columns": columns, "findings": findings}
        print(json.dumps(document, indent=2, sort_keys=True))
    else:
        for line in _text_report(project, args.model):
            print(line)
        for finding in findings:
            logging.error("  %s", finding)
    return 1 if findings else 0
