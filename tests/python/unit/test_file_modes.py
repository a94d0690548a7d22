"""Invariant 10 in the helpers: what the commands create is owner-only whatever the caller's
umask, the publication gets the modes PUBLISH_MODE and PUBLISH_GROUP ask for (refused when they
cannot be applied), and raw data readable by others is reported. The modes of a real pipeline
run are checked in tests/python/integration/test_pipeline.py."""

from __future__ import annotations

import grp
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from privseg.core.files import write_json_atomically
from privseg.core.modes import (
    ModeError,
    PublicationModes,
    owner_only,
    restrict_umask,
    shared_beyond_owner,
)
from privseg.datagen import cli as generator_cli
from privseg.pipeline.steps import warn_if_shared


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def permissive_umask() -> Iterator[None]:
    """umask 022, as on most machines: files 644 unless the code sets their modes itself."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_owner_only_makes_private_files_and_restores_the_umask(tmp_path):
    with permissive_umask():
        with owner_only():
            (tmp_path / "folder").mkdir()
            (tmp_path / "folder" / "file").write_text("x")
        (tmp_path / "after").write_text("x")
        assert os.umask(0o022) == 0o022, "the caller's umask is back"
    assert mode(tmp_path / "folder") == 0o700
    assert mode(tmp_path / "folder" / "file") == 0o600
    assert mode(tmp_path / "after") == 0o644


def test_restrict_umask_returns_the_previous_one():
    with permissive_umask():
        assert restrict_umask() == 0o022
        assert os.umask(0o022) == 0o077


def test_atomic_writes_are_owner_only_even_over_a_shared_leftover(tmp_path):
    target = tmp_path / "report.json"
    with permissive_umask():
        leftover = tmp_path / "report.json.tmp"
        leftover.write_text("stale")
        assert mode(leftover) == 0o644
        write_json_atomically(target, {"status": "pass"})
    assert mode(target) == 0o600
    assert not leftover.exists()


def test_demo_data_is_owner_only_whatever_the_umask(tmp_path):
    out = tmp_path / "data" / "raw"
    with permissive_umask():
        argv = ["--customers", "20", "--days", "5", "--seed", "1", "--end-date", "2026-06-30"]
        assert generator_cli.main([*argv, "--out", str(out)]) == 0
        assert os.umask(0o022) == 0o022, "the generator restores the caller's umask"
    assert mode(out.parent) == 0o700 and mode(out) == 0o700
    files = sorted(out.iterdir())
    assert len(files) == 11  # ten raw tables and generation_manifest.json
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def test_publication_modes_default_to_group_readable():
    modes = PublicationModes.resolve(None, None)
    assert (modes.mode, modes.directory, modes.file, modes.gid) == ("group", 0o750, 0o640, None)
    owner = PublicationModes.resolve("owner", None)
    assert (owner.directory, owner.file) == (0o700, 0o600)


@pytest.mark.parametrize(
    ("mode_name", "group", "message"),
    [
        ("world", None, "PUBLISH_MODE must be one of group, owner, got 'world'"),
        ("owner", "staff", "PUBLISH_GROUP applies to PUBLISH_MODE=group, not owner"),
        ("group", "no-such-group-here", "no group named 'no-such-group-here'"),
    ],
)
def test_publication_modes_that_cannot_be_applied_are_refused(mode_name, group, message):
    with pytest.raises(ModeError, match=message):
        PublicationModes.resolve(mode_name, group)


def _other_group() -> grp.struct_group | None:
    """A group this user may give files to, other than its own primary group."""
    mine = set(os.getgroups()) if os.geteuid() != 0 else {g.gr_gid for g in grp.getgrall()}
    return next((g for g in grp.getgrall() if g.gr_gid in mine and g.gr_gid != os.getegid()), None)


def _release(root: Path) -> Path:
    release = root / "release"
    (release / "parquet").mkdir(parents=True)
    (release / "segments.duckdb").write_bytes(b"db")
    (release / "parquet" / "fct.parquet").write_bytes(b"pq")
    (release / "current").symlink_to("parquet")
    return release


def test_apply_gives_a_release_the_modes_and_the_group(tmp_path):
    other = _other_group()
    if other is None:
        pytest.skip("this user belongs to no group besides its primary one")
    with owner_only():
        release = _release(tmp_path)
    PublicationModes.resolve("group", other.gr_name).apply(release)
    for path in [release, release / "parquet"]:
        assert mode(path) == 0o750 and path.stat().st_gid == other.gr_gid, path
    for path in [release / "segments.duckdb", release / "parquet" / "fct.parquet"]:
        assert mode(path) == 0o640 and path.stat().st_gid == other.gr_gid, path


def test_apply_keeps_a_folders_setgid_bit_and_can_make_a_release_owner_only(tmp_path):
    with permissive_umask():
        release = _release(tmp_path)
    os.chmod(release, 0o2755)
    PublicationModes.resolve("owner", None).apply(release)
    assert mode(release) == 0o2700, "a setgid publication folder stays setgid"
    assert mode(release / "parquet") == 0o700
    assert mode(release / "segments.duckdb") == 0o600
    group = PublicationModes.resolve("group", None)
    group.apply(release, recursive=False)
    assert mode(release) == 0o2750 and mode(release / "segments.duckdb") == 0o600


def test_the_group_may_search_but_not_list_the_folders_down_to_the_publication(tmp_path):
    project = tmp_path / "project"
    with owner_only():
        (project / "data" / "published").mkdir(parents=True)
        (project / "data" / "raw").mkdir()
    PublicationModes.resolve("owner", None).open_path_to(project / "data" / "published", project)
    assert mode(project / "data") == 0o700
    PublicationModes.resolve("group", None).open_path_to(project / "data" / "published", project)
    assert mode(project / "data") == 0o710, "search only: the group cannot list data/"
    assert mode(project / "data" / "raw") == 0o700
    assert mode(project) == 0o700, "the project folder itself is the operator's"
    # A publication outside the project: its folders are the operator's to open.
    elsewhere = tmp_path / "srv" / "published"
    with owner_only():
        elsewhere.mkdir(parents=True)
    PublicationModes.resolve("group", None).open_path_to(elsewhere, project)
    assert mode(tmp_path / "srv") == 0o700


def test_raw_data_readable_by_others_is_reported_with_the_fix(tmp_path, caplog):
    raw = tmp_path / "raw"
    with owner_only():
        raw.mkdir()
        (raw / "customers.parquet").write_bytes(b"x")
    assert shared_beyond_owner([raw, tmp_path / "missing"]) == []
    with caplog.at_level(logging.WARNING):
        warn_if_shared(raw)
    assert not caplog.records
    os.chmod(raw / "customers.parquet", 0o644)
    assert shared_beyond_owner([raw]) == [(raw / "customers.parquet", 0o644)]
    with caplog.at_level(logging.WARNING):
        warn_if_shared(raw)
    (record,) = caplog.records
    assert "raw data readable beyond its owner: 1 files or folders" in record.getMessage()
    assert f"chmod -R go-rwx {raw}" in record.getMessage()
