"""A failed compaction names the copy it was writing and leaves no half-written copy."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from privseg.core import warehouse
from privseg.core.warehouse import CompactionError, compact_database
from privseg.pipeline.cli import failure_line


def make_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create table t as select range as id from range(1000)")
    con.execute("delete from t where id < 500")
    con.close()


def test_compaction_rewrites_the_file_with_only_live_rows(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    make_warehouse(path)
    compact_database(path)
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("select count(*), min(id) from t").fetchone() == (500, 500)
    con.close()
    assert not (tmp_path / "warehouse.compacting.duckdb").exists()


def test_a_failed_copy_is_named_in_the_step_error_and_removed(tmp_path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    make_warehouse(path)
    real_connect = duckdb.connect

    class FailingDetach:
        """A connection whose detach of the copy fails the way a full disk made it fail."""

        def __init__(self, con):
            self.con = con

        def execute(self, sql):
            if sql == "detach compacting":
                raise duckdb.IOException(
                    "IO Error: Detached database 'compacting', but CHECKPOINT during DETACH failed."
                )
            return self.con.execute(sql)

        def close(self):
            self.con.close()

    monkeypatch.setattr(
        warehouse.duckdb, "connect", lambda *a, **k: FailingDetach(real_connect(*a, **k))
    )
    copy = tmp_path / "warehouse.compacting.duckdb"
    with pytest.raises(CompactionError) as raised:
        compact_database(path)
    assert not copy.exists(), "the half-written copy is removed"
    line = failure_line(raised.value, "build")
    assert str(copy) in line
    assert line.startswith("step build failed: CompactionError: writing the compacted copy")
