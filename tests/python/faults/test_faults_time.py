"""Fault matrix, time: an as-of date outside the data, and raw timestamps in the future."""

from __future__ import annotations

from datetime import date, timedelta


def test_as_of_in_the_future_is_refused_before_anything_runs(case):
    publication = case.publication()
    future = (date.today() + timedelta(days=30)).isoformat()
    run = case.run("run", "--as-of", future)
    case.check(run, 2, "--as-of", future, "is in the future")
    assert "step 1/" not in run.stderr, "refused before the lock and the first step"
    assert case.publication() == publication


def test_as_of_before_the_first_data_is_refused_naming_the_first_date(case):
    publication = case.publication()
    run = case.run("run", "--as-of", "2001-01-01")
    case.check(run, 2, "--as-of 2001-01-01", "before the first raw data")
    assert case.publication() == publication
    assert case.warehouse_build() is not None


def test_raw_timestamps_in_the_future_go_to_the_quarantine_and_the_run_publishes(case):
    case.rewrite(
        "orders",
        "select * replace (case when order_id in (select order_id from {t} limit 3) "
        "then '2099-01-01 10:00:00' else ordered_at end as ordered_at) from {t}",
    )
    publication = case.publication()
    run = case.run()
    case.check(run, 0)
    assert "future_timestamp" in run.stdout, "the summary counts the quarantined rows"
    assert case.publication() != publication and set(case.publication()) == set(publication)
