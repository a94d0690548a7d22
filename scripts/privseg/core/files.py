"""Atomic writes: a reader sees the old file or the new one, never half of one. The files are
created readable by their owner only (invariant 10); the publication widens its own."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_json_atomically(path: Path, data: object) -> None:
    """Write `data` as JSON atomically (see write_text_atomically)."""
    write_text_atomically(path, json.dumps(data, indent=2, default=str) + "\n")


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path` (mode 600), fsync it, then rename it over
    `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        os.fchmod(fd, 0o600)  # a leftover file of that name keeps its own mode
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
