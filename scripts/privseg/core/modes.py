"""File modes (invariant 10): raw data, the warehouse and everything else the commands write are
readable by their owner only; the publication is readable as configured.

The warehouse holds quasi-identifiers that single most people out, and raw data holds names and
addresses: both are personal data. So the commands that write them set the process umask to
0o077 before anything is created (DuckDB and dbt create their files themselves: the warehouse,
its WAL, the spill folder, target/ and logs/ inherit it), and the demo data generator writes
under the same umask. New folders are then 0700 and new files 0600.

The publication is meant to be read by BI tools, often under a service account of their own.
PUBLISH_MODE says how its releases are shared:

    group (default)  folders 0750, files 0640: readable, not writable, by one group: the
                     group of PUBLISH_GROUP when set, else the owner's group as the files
                     are created (the owner's primary group, or PUBLISH_DIR's group when
                     that folder has the setgid bit)
    owner            folders 0700, files 0600: only the owner (a BI tool running as the
                     same user)

In group mode the folders between the project directory and PUBLISH_DIR that belong to the
owner (data/ for the default PUBLISH_DIR) get the group's search bit, never its read bit: the
group can reach the publication by its path, but cannot list or open anything else there.
"""

from __future__ import annotations

import grp
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
PUBLISH_MODES = {"group": (0o750, 0o640), "owner": (0o700, 0o600)}
DEFAULT_PUBLISH_MODE = "group"


def restrict_umask() -> int:
    """From now on this process (and the dbt and DuckDB it starts) creates owner-only files
    and folders. Returns the previous umask."""
    return os.umask(OWNER_ONLY_UMASK)


@contextmanager
def owner_only() -> Iterator[None]:
    """Owner-only files and folders for what is created inside the block (the umask is
    process-wide: do not write elsewhere from another thread meanwhile)."""
    previous = os.umask(OWNER_ONLY_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


class ModeError(ValueError):
    """PUBLISH_MODE or PUBLISH_GROUP cannot be applied (a configuration error, exit 2)."""


@dataclass(frozen=True)
class PublicationModes:
    """How a release is shared: folder and file modes, and the group id to give it (None =
    the group the files are created with)."""

    mode: str
    directory: int
    file: int
    gid: int | None = None

    @classmethod
    def resolve(cls, mode: str | None, group: str | None) -> PublicationModes:
        """PUBLISH_MODE and PUBLISH_GROUP, checked: a known mode, an existing group that this
        user may give files to (one of its groups, or any as root)."""
        mode = mode or DEFAULT_PUBLISH_MODE
        if mode not in PUBLISH_MODES:
            raise ModeError(f"PUBLISH_MODE must be one of {', '.join(PUBLISH_MODES)}, got {mode!r}")
        directory, file = PUBLISH_MODES[mode]
        if not group:
            return cls(mode, directory, file)
        if mode != "group":
            raise ModeError(f"PUBLISH_GROUP applies to PUBLISH_MODE=group, not {mode}")
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise ModeError(f"PUBLISH_GROUP: no group named {group!r} on this machine") from None
        if os.geteuid() != 0 and gid not in (os.getegid(), *os.getgroups()):
            raise ModeError(
                f"PUBLISH_GROUP: this user is not a member of {group!r}, so it cannot give "
                "the publication to it (add the user to the group, or unset PUBLISH_GROUP)"
            )
        return cls(mode, directory, file, gid)

    def apply(self, path: Path, recursive: bool = True) -> None:
        """Give `path` (a file, or a folder with everything under it unless not `recursive`)
        the modes and group of the publication. Symbolic links are left alone (their modes mean
        nothing)."""
        paths = [path, *path.rglob("*")] if recursive and path.is_dir() else [path]
        for item in paths:
            if item.is_symlink():
                continue
            if self.gid is not None:
                os.chown(item, -1, self.gid)
            if item.is_dir():
                # Keep a folder's setgid bit: new releases then take its group.
                setgid = stat.S_IMODE(item.stat().st_mode) & stat.S_ISGID
                os.chmod(item, self.directory | setgid)
            else:
                os.chmod(item, self.file)

    def open_path_to(self, publish_dir: Path, root: Path) -> None:
        """In group mode, let the group search (never list) the owner's folders from `root`
        (excluded) down to `publish_dir` (excluded), so it can reach the publication."""
        if self.mode != "group":
            return
        try:
            between = publish_dir.resolve().relative_to(root.resolve()).parents
        except ValueError:  # PUBLISH_DIR outside the project: its folders are the operator's
            return
        for relative in between:
            folder = root.resolve() / relative
            if folder == root.resolve() or folder.stat().st_uid != os.geteuid():
                continue
            if self.gid is not None:
                os.chown(folder, -1, self.gid)
            os.chmod(folder, stat.S_IMODE(folder.stat().st_mode) | stat.S_IXGRP)


def shared_beyond_owner(paths: Iterable[Path]) -> list[tuple[Path, int]]:
    """(path, mode) of every existing path (folders with what they hold) that its group or
    others may read or write: raw data or a warehouse made before the pipeline set modes, or by
    another tool."""
    loose = []
    for path in paths:
        if not path.exists():
            continue
        for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
            mode = stat.S_IMODE(item.lstat().st_mode)
            if not item.is_symlink() and mode & 0o066:
                loose.append((item, mode))
    return loose
