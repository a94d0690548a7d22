"""release_differencing: an attacker who holds every published table of the release at once can
narrow no cell, no remainder of a contained population, and no withheld sensitive sum too far.

The publication is turned into the release document (privseg.audit.release_document: every
published row released, the withheld candidate rows only named), and the attacker model of
plugins/release_protection.py bounds, with linear programs, every cell of every published grid
that no released row shows, every remainder of a contained population in its container, and
every withheld sum with a primary reason (too few contributors, dominated). A finding per
exposure names the tables, the cell (dimension values are categories) and, for counts, the
interval the attacker can pin it to; for a sum, only that the estimate comes too close (its
interval would be close to a withheld value).
"""

from __future__ import annotations

import copy
import logging
import re
import time
from typing import Any

import duckdb

from privseg.audit.context import AuditRun
from privseg.audit.release_document import DeclarationError, ReleaseDocument, build_document
from release_protection import ReleaseModelError, attacker_exposures

# Findings listed one by one; the rest are counted (the report's release section lists all).
MAX_FINDINGS = 50
CELL = re.compile(r"^(?:(?P<measure>\S+) of )?(?P<population>\S+) \[(?P<inside>[^\]]*)\]")


def _dimensions(inside: str) -> frozenset[str]:
    if inside == "total":
        return frozenset()
    return frozenset(part.split("=", 1)[0] for part in inside.split(", ") if "=" in part)


def tables_of(exposure: dict[str, Any], built: ReleaseDocument) -> list[str]:
    """The published tables an exposure concerns: those with a row on its cell, else those whose
    counts span the grid it belongs to (a combination of values no table shows as a row), else
    those that count its population."""
    if exposure.get("tables"):
        return sorted(exposure["tables"])
    match = CELL.match(str(exposure.get("cell", "")))
    if not match:
        return []
    population, dimensions = match["population"], _dimensions(match["inside"])
    exact = [t for t, grids in built.grids.items() if (population, dimensions) in grids]
    if exact:
        return sorted(exact)
    return sorted(t for t, grids in built.grids.items() if any(p == population for p, _ in grids))


def finding(exposure: dict[str, Any], tables: list[str]) -> str:
    where = ", ".join(tables) or "the release"
    required = exposure.get("required", "")
    if exposure.get("kind") == "magnitude":
        return (
            f"{where}: {exposure['cell']} is withheld, but the published sums let an attacker "
            f"estimate it too closely (required: {required})"
        )
    if exposure.get("kind") == "magnitude_remainder":
        return (
            f"{where}: {exposure['cell']} is given exactly by the published sums and breaks "
            f"the magnitude rules (required: {required})"
        )
    low, high = exposure.get("low"), exposure.get("high")
    return (
        f"{where}: {exposure['cell']} can be narrowed to {_count(low)}..{_count(high)} subjects "
        f"(required: {required})"
    )


def _count(value: Any) -> str:
    if isinstance(value, int | float) and float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}" if isinstance(value, int | float) else str(value)


def public_exposure(exposure: dict[str, Any], tables: list[str]) -> dict[str, Any]:
    """An exposure as the report keeps it: a count's interval is a count of subjects; a sum's
    interval would be close to a withheld value, so it is left out."""
    magnitude = str(exposure.get("kind")).startswith("magnitude")
    return {
        "kind": exposure.get("kind"),
        "cell": exposure.get("cell"),
        "tables": tables,
        "low": None if magnitude else exposure.get("low"),
        "high": None if magnitude else exposure.get("high"),
        "required": exposure.get("required"),
    }


def contradicting_tables(document: dict[str, Any]) -> list[str]:
    """The published tables without whose numbers the attacker's model has a solution again
    (each table's rows taken as not released in turn): where the contradiction lies."""
    tables = sorted({str(row.get("table")) for row in document["rows"]})
    named = []
    for table in tables:
        trial = copy.deepcopy(document)
        for row in trial["rows"]:
            if row.get("table") == table:
                row["released"] = False
        try:
            attacker_exposures(trial)
        except ReleaseModelError:
            continue
        named.append(table)
    return named


def check_release_differencing(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    default_k: int,
    magnitude_rule: dict | None,
    section: dict[str, Any],
) -> list[str]:
    """Findings for every exposure of the publication as one release; fills `section` (the
    report's release section: the attacker model's size, timings, exposures, per table)."""
    started = time.monotonic()
    try:
        built = build_document(con, manifest, default_k, magnitude_rule)
    except (DeclarationError, ReleaseModelError) as error:
        return [f"the release cannot be read: {error}"]
    rows = built.document["rows"]
    released = sum(1 for row in rows if row.get("released", True))
    read_seconds = round(time.monotonic() - started, 2)
    logging.info(
        "release_differencing: the publication as a release: %d rows of %d tables released, "
        "%d withheld rows and sums named (read in %.1f s)",
        released,
        len(built.tables),
        len(rows) - released,
        read_seconds,
    )
    findings = list(built.problems)
    section.update(
        {
            "k": built.document["k"],
            "magnitude_rule": built.document["magnitude_rule"],
            "tables": {name: summary.as_dict() for name, summary in built.tables.items()},
        }
    )
    started = time.monotonic()
    try:
        result = attacker_exposures(built.document)
    except ReleaseModelError as error:
        message = str(error)
        if "no solution" in message:
            tables = contradicting_tables(built.document)
            where = f" (without {' or '.join(tables)} it has one)" if tables else ""
            message = f"the published numbers contradict each other{where}: {message}"
        findings.append(f"the attacker's model of the release cannot be solved: {message}")
        section.update({"status": "error", "error": message, "exposures": []})
        return findings
    seconds = round(time.monotonic() - started, 2)
    exposures, listed = [], []
    for exposure in result["exposures"]:
        tables = tables_of(exposure, built)
        exposures.append(public_exposure(exposure, tables))
        listed.append(finding(exposure, tables))
    findings += listed[:MAX_FINDINGS]
    if len(listed) > MAX_FINDINGS:
        findings.append(
            f"... and {len(listed) - MAX_FINDINGS} more exposures (the report's release section "
            "lists every one)"
        )
    for name, summary in section["tables"].items():
        summary["exposures"] = sum(1 for e in exposures if name in e["tables"])
    section.update(
        {
            "status": "fail" if findings else "pass",
            "variables": result["variables"],
            "released_counts": result["released_counts"],
            "count_targets": result["count_targets"],
            "magnitude_targets": result["magnitude_targets"],
            "exposures": exposures,
            "seconds": {"read": read_seconds, "bound": seconds},
        }
    )
    logging.info(
        "release_differencing: %d variables, %d released counts; %d cells and remainders and "
        "%d withheld sums bounded in %.1f s: %d exposures",
        result["variables"],
        result["released_counts"],
        result["count_targets"],
        result["magnitude_targets"],
        seconds,
        len(exposures),
    )
    return findings


def run(audit: AuditRun) -> list[str]:
    return check_release_differencing(
        audit.connection,
        audit.manifest,
        audit.k,
        audit.magnitude_rule,
        audit.release.setdefault("differencing", {}),
    )
