"""What one audit run works on (the build's artifacts, the warehouse, the key, k and l) and what
its checks leave behind for the report besides their findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from privseg.core.settings import Settings

if TYPE_CHECKING:
    from privseg.lineage.model import ProjectLineage

# Size histogram of a published table's classes, and its risk figures (see facts.class_sizes).
ClassSizes = tuple[list[dict[str, int]], dict[str, Any]]


class AuditError(Exception):
    """The audit cannot run (exit 2)."""


@dataclass
class AuditRun:
    """The inputs of one audit, and what its checks computed that the report shows."""

    settings: Settings
    manifest: dict
    results: dict
    key: str
    k: int
    l_diverse: int
    # The project's vars (dbt_project.yml): the defaults of what published models declare.
    variables: dict[str, Any] = field(default_factory=dict)
    # The warehouse, opened read-only, while the checks that query it run.
    con: duckdb.DuckDBPyConnection | None = None
    as_of: str | None = None
    class_sizes: dict[str, ClassSizes] = field(default_factory=dict)
    # Per published table with a sensitive attribute: its diversity, recomputed (see
    # checks.attribute_disclosure.table_summary).
    attribute_disclosure: dict[str, dict[str, Any]] = field(default_factory=dict)
    erasure_counts: dict[str, int] = field(default_factory=dict)
    lineage: ProjectLineage | None = None
    # What the release checks found, for the report's release section.
    release: dict[str, Any] = field(default_factory=dict)

    @property
    def magnitude_rule(self) -> dict[str, Any] | None:
        """The release's magnitude rule (var release_magnitude_rule; None: the engine's default)."""
        return self.variables.get("release_magnitude_rule")

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            raise RuntimeError("this check queries the warehouse: run it while it is open")
        return self.con
