"""secret_hygiene: the pseudonymization key in no file under the dbt target and log folders,
nor in the warehouse file, byte for byte."""

from __future__ import annotations

from pathlib import Path

from privseg.audit.context import AuditRun


def files_containing(secret: str, paths: list[Path]) -> list[Path]:
    """Files under `paths` (files or folders) whose bytes contain `secret`."""
    needle = secret.encode()
    if not needle:
        raise ValueError("an empty secret matches everything")
    hits = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if needle in path.read_bytes():
                hits.append(path)
    return hits


def run(audit: AuditRun) -> list[str]:
    """Reads the warehouse file's bytes: runs once the audit's own connection is closed."""
    settings = audit.settings
    scanned = [settings.target_dir, settings.log_dir, settings.warehouse_path]
    return [
        f"{path}: contains the pseudonymization key"
        for path in files_containing(audit.key, [p for p in scanned if p.exists()])
    ]
