"""Publish the BI tables: write, audit, then publish; readers see the old or the new, never half.

Only models with `meta.privacy.published: true` are published, only when every node of the
build succeeded (every dbt test included) and the privacy audit of that same build passed.
They are copied into a new release folder, and one atomic rename switches readers to it:

    PUBLISH_DIR/
        releases/<release id>/segments.duckdb      the published tables (schema main) and
                                                   publication_info (release, build, as_of),
                                                   in DuckDB storage format `storage_version`
        releases/<release id>/parquet/<model>.parquet
        releases/<release id>/publication.json     as_of, build id, models, row counts, audit
                                                   status, storage version, key fingerprint
        current -> releases/<release id>           swapped with one rename (atomic)
        segments.duckdb -> current/segments.duckdb stable paths for BI tools
        parquet -> current/parquet
        publication.json -> current/publication.json

A release is built in releases/.incomplete-<id>/ and renamed into place only when complete and
fsynced, so a crash or SIGKILL at any moment leaves the previous publication current and
complete; the next run removes the leftovers. A reader that has the old segments.duckdb open
keeps reading it (the file stays until the reader closes it, even once its release is
removed); reconnecting opens the new one. The current and the previous release are kept.
Tables are written ordered by all columns, so the same data gives the same tables.
The release is written owner-only and given the publication's modes (PUBLISH_MODE, see
privseg.core.modes) just before it is fsynced and renamed into place.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from privseg.core.files import write_json_atomically
from privseg.core.manifest import published_models
from privseg.core.modes import PublicationModes, owner_only
from privseg.core.settings import DEFAULT_STORAGE_VERSION
from privseg.core.warehouse import warehouse_build_id
from privseg.publication.gate import PublishRefused, refusals

RELEASES = "releases"
CURRENT = "current"
DATABASE = "segments.duckdb"
PARQUET = "parquet"
MANIFEST = "publication.json"
INCOMPLETE_PREFIX = ".incomplete-"
KEEP_RELEASES = 2


def current_release(publish_dir: Path) -> Path | None:
    link = publish_dir / CURRENT
    return link.resolve() if link.is_symlink() else None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` with one rename (atomic for readers resolving the link)."""
    staged = link.with_name("." + link.name + ".swap")
    if staged.is_symlink() or staged.exists():
        staged.unlink()
    staged.symlink_to(target)
    os.replace(staged, link)


def remove_leftovers(publish_dir: Path) -> list[str]:
    """Remove incomplete releases left by an interrupted run, and releases beyond the newest
    KEEP_RELEASES (the current one is always kept). Returns the names removed."""
    releases = publish_dir / RELEASES
    if not releases.is_dir():
        return []
    current = current_release(publish_dir)
    removed = []
    for path in releases.iterdir():
        if path.name.startswith(INCOMPLETE_PREFIX):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    complete = sorted(
        (p for p in releases.iterdir() if not p.name.startswith(".")),
        key=lambda p: p.name,
        reverse=True,
    )
    for path in complete[KEEP_RELEASES:]:
        if path.resolve() != current:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def storage_version_problem(storage_version: str) -> str | None:
    """Why DuckDB would refuse to write a database in `storage_version`, or None."""
    try:
        duckdb.connect().execute(
            "attach ':memory:' as probe (storage_version ?)", [storage_version]
        ).close()
    except duckdb.Error as error:
        return str(error).split(", valid options", 1)[0]
    return None


def publish(
    warehouse: Path,
    publish_dir: Path,
    manifest: dict,
    results: dict,
    audit: dict,
    modes: PublicationModes,
    storage_version: str = DEFAULT_STORAGE_VERSION,
) -> dict:
    """Copy the published models into a new release and make it current; return its manifest.

    segments.duckdb is written in DuckDB's `storage_version` format (see
    privseg.core.settings.DEFAULT_STORAGE_VERSION). Raises PublishRefused (and writes
    nothing) when `refusals` finds a reason.
    """
    problems = refusals(manifest, results, audit)
    if problems:
        raise PublishRefused("; ".join(problems))
    with owner_only():
        return _publish(warehouse, publish_dir, manifest, results, audit, modes, storage_version)


def _publish(
    warehouse: Path,
    publish_dir: Path,
    manifest: dict,
    results: dict,
    audit: dict,
    modes: PublicationModes,
    storage_version: str,
) -> dict:
    publish_dir.mkdir(parents=True, exist_ok=True)
    (publish_dir / RELEASES).mkdir(exist_ok=True)
    for folder in (publish_dir, publish_dir / RELEASES):
        modes.apply(folder, recursive=False)
    for name in remove_leftovers(publish_dir):
        logging.info("publish: removed %s", name)

    build_id = results["metadata"]["invocation_id"]
    created = datetime.now(UTC)
    release_id = f"{created:%Y%m%dT%H%M%S%fZ}-{build_id[:8]}"
    work = publish_dir / RELEASES / f"{INCOMPLETE_PREFIX}{release_id}"
    (work / PARQUET).mkdir(parents=True)

    try:
        return _write_release(
            warehouse, publish_dir, work, release_id, build_id, created, manifest, audit,
            modes, storage_version,
        )  # fmt: skip
    except BaseException:
        # Nothing half-written: a refused, failed or stopped release leaves no folder behind.
        shutil.rmtree(work, ignore_errors=True)
        raise


def _write_release(
    warehouse: Path,
    publish_dir: Path,
    work: Path,
    release_id: str,
    build_id: str,
    created: datetime,
    manifest: dict,
    audit: dict,
    modes: PublicationModes,
    storage_version: str,
) -> dict:
    tables = []
    # In memory, with the release's file attached in the chosen storage format.
    con = duckdb.connect()
    try:
        con.execute(
            f"attach '{work / DATABASE}' as publication (storage_version ?)", [storage_version]
        )
        con.execute("use publication")
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        # Publish only the build that was audited: a dbt command by hand after the audit
        # (the pipeline's lock keeps other runs out) changes the warehouse's build id.
        held = warehouse_build_id(con, "warehouse")
        if held != audit["build_id"]:
            raise PublishRefused(
                f"the warehouse now holds build {held}, not the audited build "
                f"{audit['build_id']} (a dbt command ran after the audit): run pipeline.py "
                "build, audit and publish again (or make run)"
            )
        fingerprint, as_of = con.execute(
            "select any_value(key_fingerprint), max(as_of_date) "
            "from warehouse.pseudonymized.int_pseudonym_key_registry"
        ).fetchone()
        for node in published_models(manifest):
            name = node["name"]
            source = f'warehouse."{node["schema"]}"."{node.get("alias") or name}"'
            con.execute(f'create table main."{name}" as select * from {source} order by all')
            (rows,) = con.execute(f'select count(*) from main."{name}"').fetchone()
            parquet = work / PARQUET / f"{name}.parquet"
            con.execute(f"copy main.\"{name}\" to '{parquet}' (format parquet)")
            tables.append({"model": name, "rows": rows, "parquet": f"{PARQUET}/{name}.parquet"})
            logging.info("publish: %s (%d rows)", name, rows)
        con.execute("detach warehouse")
        # Which release a BI connection is looking at, from SQL.
        con.execute(
            "create table main.publication_info as select ? as release, ? as build_id, "
            "cast(? as date) as as_of_date, cast(? as timestamp) as published_at",
            [release_id, build_id, as_of, created.replace(tzinfo=None)],
        )
        con.execute("checkpoint")
    finally:
        con.close()

    publication = {
        "release": release_id,
        "build_id": build_id,
        "as_of_date": as_of,
        "published_at": created.isoformat(timespec="seconds"),
        "key_fingerprint": fingerprint,
        "audit_status": audit["status"],
        "storage_version": storage_version,
        "audit_generated_at": audit.get("generated_at"),
        "tables": tables,
    }
    write_json_atomically(work / MANIFEST, publication)
    modes.apply(work)
    for path in [work / DATABASE, *(work / PARQUET).iterdir(), work / PARQUET, work]:
        _fsync(path)

    release = publish_dir / RELEASES / release_id
    os.rename(work, release)
    _fsync(publish_dir / RELEASES)
    _swap_symlink(publish_dir / CURRENT, f"{RELEASES}/{release_id}")
    for stable in (DATABASE, PARQUET, MANIFEST):
        link = publish_dir / stable
        if not link.is_symlink():  # first publication (or a plain file from elsewhere)
            _swap_symlink(link, f"{CURRENT}/{stable}")
    _fsync(publish_dir)
    for name in remove_leftovers(publish_dir):
        logging.info("publish: removed old release %s", name)
    return publication


def read_publication(publish_dir: Path) -> dict | None:
    path = publish_dir / MANIFEST
    return json.loads(path.read_text()) if path.exists() else None
