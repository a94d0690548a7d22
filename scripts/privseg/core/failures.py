"""Failures as one line: what went wrong, and in which file, table or step; never a value.

DuckDB's and dbt's messages name files and relations in quotes, and sometimes quote a value
too (a string that did not convert). A quoted text that is not a path on this machine, a
relation of the project or a known word is replaced by '...', so a personal value never
reaches the terminal or a log through an error message.
"""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path

QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
# Messages of the faults the pipeline names itself: errno -> cause.
RESOURCE_ERRNOS = {
    errno.ENOSPC: "disk full",
    errno.EFBIG: "file size limit reached (disk full for this process)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.ENOMEM: "out of memory",
}


def _keep(text: str) -> bool:
    if not text or len(text) > 300:
        return not text
    if text.startswith("/") or text.startswith("."):
        path = Path(text)
        return path.exists() or path.parent.exists()
    # Relation and column names: identifiers, possibly dotted.
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", text) is not None


def redact(message: str) -> str:
    """The message with every quoted text that could be a value replaced by '...'."""

    def replace(match: re.Match[str]) -> str:
        text = match.group(1) if match.group(1) is not None else match.group(2)
        return match.group(0) if _keep(text) else "'...'"

    return QUOTED.sub(replace, message)


def first_line(message: str, limit: int = 400) -> str:
    line = next((part.strip() for part in str(message).splitlines() if part.strip()), "")
    line = redact(line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_os_error(error: OSError) -> str:
    cause = RESOURCE_ERRNOS.get(error.errno or 0, error.strerror or type(error).__name__)
    where = f" writing {error.filename}" if error.filename else ""
    return f"{cause}{where}"


def resource_cause(message: str) -> str | None:
    """A resource fault named in a DuckDB or dbt message, or None."""
    lowered = message.lower()
    for needle, cause in (
        ("no space left on device", "disk full"),
        ("file too large", "file size limit reached (disk full for this process)"),
        ("out of memory", "out of memory (DUCKDB_MEMORY_LIMIT, DUCKDB_TEMP_DIR)"),
        ("disk quota", "disk quota exceeded"),
    ):
        if needle in lowered:
            return cause
    return None


def failed_dbt_nodes(results_path: Path, since: float) -> list[tuple[str, str]]:
    """(node name, first line of its message) of the nodes that errored or failed in the
    run_results.json written after `since` (a time.time()), in run order."""
    try:
        if results_path.stat().st_mtime < since:
            return []
        results = json.loads(results_path.read_text())
    except (OSError, ValueError):
        return []
    failed = []
    for result in results.get("results", []):
        if result.get("status") in ("error", "fail", "runtime error"):
            name = result.get("unique_id", "?").split(".")[-1]
            message = result.get("message") or result["status"]
            failed.append((name, error_line(message) or first_line(message)))
    return failed


# dbt's framing around an error: "Runtime Error in model x (path)", "Encountered an error ...".
FRAMING = re.compile(
    r"^(\d\d:\d\d:\d\d\s+)?("
    r"(Runtime|Compilation|Database|Parsing|Dependency|Internal) Error( in \w+ .*)?"
    r"|Encountered an error.*|Error in (hook|model|macro|test) .*|Database Error in .*)\s*$"
)


def error_line(text: str) -> str | None:
    """The first line of an error text that says what went wrong, past dbt's framing."""
    for line in str(text).splitlines():
        stripped = re.sub(r"^\d\d:\d\d:\d\d\s+", "", line.strip())
        if stripped and not FRAMING.match(stripped):
            return first_line(stripped)
    return None


def dbt_error_line(output: str) -> str | None:
    """The first line of dbt's own error in its output (a hook or an operation: no node)."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if FRAMING.match(line.strip()) and "Error" in line or "Encountered an error" in line:
            found = error_line("\n".join(lines[index + 1 : index + 12]))
            if found:
                return found
    return None
