"""The export's two files, written atomically (<file>.tmp, then renamed) and readable by their
owner only: the audience CSV and its summary JSON."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO


def summary_path(out: Path) -> Path:
    return out.with_name(out.name + ".summary.json")


def _write_private(path: Path, write: Callable[[TextIO], None]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # a leftover file of that name would keep its own mode
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def write_outputs(out: Path, emails: list[str], summary: dict[str, Any]) -> None:
    """Write the CSV and its summary next to it: both to <name>.tmp first, then rename both."""

    def write_csv(handle: TextIO) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["email"])
        writer.writerows([email] for email in emails)

    def write_json(handle: TextIO) -> None:
        handle.write(json.dumps(summary, indent=2) + "\n")

    files = [(out, write_csv), (summary_path(out), write_json)]
    staged: list[tuple[Path, Path]] = []
    try:
        for target, write in files:
            tmp = target.with_name(target.name + ".tmp")
            staged.append((tmp, target))
            _write_private(tmp, write)
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
