"""Incremental customer behaviour: fct_customer_behavior_aggregates (running aggregates per
subject) and fct_customer_behavior built from it equal a --full-refresh of the behavioural
layer, row for row, after a day with late orders and web events, a withdrawal and an erasure
(as_of three weeks on: carts leave their window); after as_of moved 300 days on (events leave
the behaviour window) and after as_of moved back (a rebuild). A project copy without the
purge keeps the withdrawn and erased subjects' rows, and one without the expiry recompute
keeps events that left the window."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dbt_harness import (
    AS_OF,
    DbtProject,
    append_raw,
    customer_key,
    link_raw,
    project_with_fixtures,
    table_differences,
)
from privseg.core.settings import PROJECT_DIR

MODELS = ["fct_customer_behavior_aggregates", "fct_customer_behavior"]
EARLIER = (date.fromisoformat(AS_OF) - timedelta(days=21)).isoformat()
LATER = (date.fromisoformat(AS_OF) + timedelta(days=300)).isoformat()
BACKWARDS = (date.fromisoformat(AS_OF) - timedelta(days=28)).isoformat()
BUILD = (
    "build", "--resource-type", "seed", "--resource-type", "model",
    "--select", "+fct_customer_behavior",
)  # fmt: skip
# The behavioural models this scenario builds, facts included, rebuilt from scratch.
FULL_REFRESH = "marts.behavior,+fct_customer_behavior"
REBUILT = "fct_customer_behavior_aggregates: as_of moved back"

# The project without the scope and retention purge of the incremental behavioural tables.
WITHOUT_PURGE = """{% macro purge_out_of_scope(subject_column='customer_key') -%}
    select 1
{%- endmacro %}
"""


def _without_expiry(source: str) -> str:
    """behavior_aggregates_affected without its expiry clause (aggregates_valid_until)."""
    clause = (
        "            or in_scope.customer_key in (\n"
        "                select loaded.customer_key\n"
        "                from {{ this }} as loaded\n"
        "                where loaded.aggregates_valid_until < {{ as_of_date() }}\n"
        "            )\n"
    )
    assert clause in source
    return source.replace(clause, "")


def _full_refresh_of(project: DbtProject, root: Path, as_of: str) -> DbtProject:
    full = DbtProject(root, project.raw_dir)
    full.root.mkdir()
    shutil.copyfile(project.warehouse, full.warehouse)
    result = full.dbt("run", "--full-refresh", "--select", FULL_REFRESH, as_of=as_of)
    assert result.success, result.output[-3000:]
    return full


def _analytics_scope(project: DbtProject) -> set[str]:
    return {
        key
        for (key,) in project.query(
            "select customer_key from consent.int_consented_subjects "
            "where consent_purpose = 'analytics'"
        )
    }


def _the_new_day(project: DbtProject) -> dict:
    """Appends late orders and web events (inside the facts' late-data window), a withdrawal
    and an erasure of two buyers in scope; returns what the tests check."""
    scope = _analytics_scope(project)
    buyers = sorted(
        customer_id
        for (customer_id,) in project.query(
            "select distinct customer_id from staging.stg_shop__orders"
        )
        if customer_key(customer_id) in scope
    )
    withdrawn, erased, late_buyer = buyers[0], buyers[1], buyers[2]
    (newest_order, newest_web) = project.query(
        "select (select max(ordered_date) from behavior.fct_orders), "
        "(select max(occurred_date) from behavior.fct_web_events)"
    )[0]
    late_order_day = (newest_order - timedelta(days=1)).isoformat()
    late_web_day = (newest_web - timedelta(days=1)).isoformat()
    decided = (date.fromisoformat(AS_OF) - timedelta(days=10)).isoformat()
    # A cart session of a subject in scope, replayed late as a new session.
    (session,) = project.query(
        "select min(session_id) from staging.stg_web__events where event_type = 'add_to_cart' "
        "and customer_id in (select unnest(?))",
        [buyers[3:]],
    )[0]
    web_file = (project.raw_dir / "web_events.parquet").resolve()
    append_raw(
        project,
        "orders",
        f"select '990000401', '{late_buyer}', '{late_order_day} 09:00:00', 'completed', 'web', "
        "'EUR', '42.50', '10115', '1234'",
    )
    append_raw(
        project,
        "web_events",
        f"select * replace ('99' || event_id as event_id, session_id || '-late' as session_id, "
        f"'{late_web_day}' || substr(occurred_at, 11) as occurred_at) "
        f"from read_parquet('{web_file}') where session_id = '{session}'",
    )
    append_raw(
        project,
        "consent_events",
        f"select '990000402', '{withdrawn}', 'analytics', 'withdrawn', 'preference_center', "
        f"'3', '{decided} 08:00:00'",
    )
    append_raw(
        project,
        "erasure_requests",
        f"select '990000403', '{erased}', '{decided} 10:00:00', 'received'",
    )
    (lifetime,) = project.query(
        "select lifetime_orders from behavior.fct_customer_behavior_aggregates "
        "where customer_key = ?",
        [customer_key(late_buyer)],
    )[0]
    (web_rows,) = project.query(
        "select count(*) from behavior.fct_web_events where occurred_date = ?", [late_web_day]
    )[0]
    return {
        "late_web_day": late_web_day,
        "web_rows_before": web_rows,
        "withdrawn": customer_key(withdrawn),
        "erased": customer_key(erased),
        "late_buyer": customer_key(late_buyer),
        "lifetime_before": lifetime,
        "purged_before": _rows_of(project, [customer_key(withdrawn), customer_key(erased)]),
    }


def _rows_of(project: DbtProject, keys: list[str]) -> int:
    return project.query(
        "select count(*) from behavior.fct_customer_behavior_aggregates "
        "where customer_key in (select unnest(?))",
        [keys],
    )[0][0]


def _scenario(root: Path, raw: Path, project_dir: Path | None = None) -> tuple[DbtProject, dict]:
    """Built at EARLIER, then the new day at AS_OF, both incremental."""
    project = DbtProject(root, link_raw(raw, root.parent / f"{root.name}_raw"))
    project.root.mkdir()
    first = project.dbt(*BUILD, as_of=EARLIER, project_dir=project_dir)
    assert first.success, first.output[-3000:]
    state = _the_new_day(project)
    second = project.dbt(*BUILD, as_of=AS_OF, project_dir=project_dir)
    assert second.success, second.output[-3000:]
    state["output"] = second.output
    return project, state


def _moved(project: DbtProject, root: Path, as_of: str, project_dir: Path | None = None):
    """A copy of the project's warehouse built incrementally at another as_of."""
    moved = DbtProject(root, project.raw_dir)
    moved.root.mkdir()
    shutil.copyfile(project.warehouse, moved.warehouse)
    result = moved.dbt(*BUILD, as_of=as_of, project_dir=project_dir)
    assert result.success, result.output[-3000:]
    return moved, result.output


@pytest.fixture(scope="module")
def daily(tmp_path_factory, faulty_raw):
    root = tmp_path_factory.mktemp("behavior_aggregates")
    project, state = _scenario(root / "run", faulty_raw)
    full = _full_refresh_of(project, root / "full", AS_OF)
    return project, full, state


@pytest.mark.parametrize("table", MODELS)
def test_the_new_day_equals_a_full_refresh(daily, table):
    project, full, _ = daily
    only_incremental, only_full, rows = table_differences(project, full, f"behavior.{table}")
    assert rows > 0
    assert (only_incremental, only_full) == (0, 0)


def test_the_new_day_took_effect_incrementally(daily):
    """Guards the equality test against passing vacuously: the run was incremental (no
    rebuild), the late order counts, the purged subjects had rows and have none."""
    project, _, state = daily
    assert "recomputing every subject" not in state["output"]
    (lifetime,) = project.query(
        "select lifetime_orders from behavior.fct_customer_behavior_aggregates "
        "where customer_key = ?",
        [state["late_buyer"]],
    )[0]
    assert lifetime > state["lifetime_before"]
    assert state["purged_before"] == 2
    assert _rows_of(project, [state["withdrawn"], state["erased"]]) == 0
    (web_rows,) = project.query(
        "select count(*) from behavior.fct_web_events where occurred_date = ?",
        [state["late_web_day"]],
    )[0]
    assert web_rows > state["web_rows_before"]


def test_as_of_moved_forward_expires_events_like_a_full_refresh(daily, tmp_path):
    project, _, _ = daily
    (expiring,) = project.query(
        "select count(*) from behavior.fct_customer_behavior_aggregates "
        "where aggregates_valid_until < ? and orders_in_window > 0",
        [date.fromisoformat(LATER)],
    )[0]
    assert expiring > 0, "no event leaves the window: the scenario proves less"
    later, output = _moved(project, tmp_path / "later", LATER)
    assert "recomputing every subject" not in output
    full = _full_refresh_of(later, tmp_path / "full", LATER)
    for table in MODELS:
        only_incremental, only_full, rows = table_differences(later, full, f"behavior.{table}")
        assert rows > 0
        assert (table, only_incremental, only_full) == (table, 0, 0)


def test_as_of_moved_back_rebuilds_like_a_full_refresh(daily, tmp_path):
    project, _, _ = daily
    back, output = _moved(project, tmp_path / "back", BACKWARDS)
    assert REBUILT in output
    full = _full_refresh_of(back, tmp_path / "full", BACKWARDS)
    for table in MODELS:
        only_incremental, only_full, rows = table_differences(back, full, f"behavior.{table}")
        assert rows > 0
        assert (table, only_incremental, only_full) == (table, 0, 0)


def test_without_the_purge_and_the_expiry_the_aggregates_go_wrong(tmp_path, faulty_raw):
    """A project copy without the purge keeps the withdrawn and erased subjects' rows after the
    same day; without the expiry recompute, moving as_of on leaves rows of subjects in scope
    that differ from a full refresh (events that left the window still counted)."""
    affected = PROJECT_DIR / "macros/behavior/behavior_aggregates_affected.sql"
    broken, project_copy = project_with_fixtures(
        tmp_path,
        faulty_raw,
        {
            "macros/behavior/purge_out_of_scope.sql": WITHOUT_PURGE,
            "macros/behavior/behavior_aggregates_affected.sql": _without_expiry(
                affected.read_text()
            ),
        },
    )
    shutil.rmtree(broken.root)
    broken, state = _scenario(tmp_path / "broken", faulty_raw, project_dir=project_copy)
    assert _rows_of(broken, [state["withdrawn"], state["erased"]]) == 2
    later, _ = _moved(broken, tmp_path / "later", LATER, project_dir=project_copy)
    full = DbtProject(tmp_path / "full", later.raw_dir)
    full.root.mkdir()
    shutil.copyfile(later.warehouse, full.warehouse)
    result = full.dbt(
        "run", "--full-refresh", "--select", FULL_REFRESH, as_of=LATER,
        project_dir=project_copy,
    )  # fmt: skip
    assert result.success, result.output[-3000:]
    with duckdb.connect() as con:
        con.execute(f"attach '{later.warehouse}' as inc (read_only)")
        con.execute(f"attach '{full.warehouse}' as ful (read_only)")
        (stale,) = con.execute(
            "select count(*) from (select * from inc.behavior.fct_customer_behavior_aggregates "
            "except all select * from ful.behavior.fct_customer_behavior_aggregates) "
            "where customer_key in (select customer_key from ful.consent.int_consented_subjects "
            "where consent_purpose = 'analytics')"
        ).fetchone()
    assert stale > 0
