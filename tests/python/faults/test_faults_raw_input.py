"""Fault matrix, raw input: each bad export is refused or absorbed with one line naming the
table and file; the publication stays as it was (or is the new complete release when the
input is usable); the warehouse is untouched by a refused input, or rebuilt by the next run."""

from __future__ import annotations

import hashlib
import shutil

from fault_harness import WITHOUT_ROOT_POWERS, Case


def _digest(case: Case) -> str:
    return hashlib.sha256(case.warehouse.read_bytes()).hexdigest()


def _refused_before_the_build(case: Case, code: int, *names: str) -> None:
    """Refused by the preflight: nothing built, nothing published, warehouse byte for byte."""
    publication, warehouse = case.publication(), _digest(case)
    run = case.run()
    case.check(run, code, *names)
    assert "step 3/6 build: started" not in run.stderr
    assert case.publication() == publication
    assert _digest(case) == warehouse, "the warehouse was not touched"


def test_a_truncated_parquet_file_is_named_before_the_build(case):
    orders = case.raw / "orders.parquet"
    orders.write_bytes(orders.read_bytes()[: orders.stat().st_size // 2])
    _refused_before_the_build(case, 2, "raw data in", str(orders), "No magic bytes")


def test_a_corrupt_parquet_file_stops_the_build_naming_the_file(case):
    orders = case.raw / "orders.parquet"
    data = orders.read_bytes()
    orders.write_bytes(data[:200] + bytes(1000) + data[1200:])  # footer intact, pages not
    publication = case.publication()
    run = case.run()
    case.check(run, 2, "dbt build failed in", str(orders))
    assert case.publication() == publication
    assert case.warehouse_build() is not None, "the warehouse still opens"
    case.restore_raw()
    case.recover(what="corrupt Parquet file, file replaced")


def test_an_empty_table_is_refused_naming_it(case):
    case.rewrite("orders", "select * from {t} where false")
    _refused_before_the_build(case, 2, "raw table 'orders'", "is empty")


def test_a_missing_table_is_refused_naming_it(case):
    (case.raw / "orders.parquet").unlink()
    _refused_before_the_build(case, 2, "missing orders", str(case.raw))


def test_a_missing_column_is_refused_naming_table_and_column(case):
    case.rewrite("orders", "select * exclude (status) from {t}")
    _refused_before_the_build(case, 2, "raw table 'orders'", "lacks column(s) status")


def test_an_extra_column_is_ignored_and_the_run_publishes(case):
    case.rewrite("customers", "select *, 'x' || customer_id as loyalty_note from {t}")
    publication = case.publication()
    run = case.run()
    case.check(run, 0)
    assert case.publication() != publication and set(case.publication()) == set(publication)
    assert "loyalty_note" not in case.publication(), "only the declared columns go on"


def test_a_column_whose_type_changed_is_refused_naming_table_and_column(case):
    case.rewrite(
        "orders", "select * replace (try_cast(total_amount as double) as total_amount) from {t}"
    )
    _refused_before_the_build(case, 2, "raw table 'orders'", "total_amount", "DOUBLE")


def test_duplicate_files_for_one_table_are_deduplicated(case):
    """Two copies of one part in a table's folder: every row twice. The staging layer keeps one
    of each and quarantines the copy; the run publishes the same tables as before."""
    orders = case.raw / "orders.parquet"
    part = case.root / "orders-part.parquet"
    orders.rename(part)
    orders.mkdir()
    shutil.copy(part, orders / "part-0.parquet")
    shutil.copy(part, orders / "part-1.parquet")
    publication = case.publication()
    run = case.run()
    case.check(run, 0)
    after = case.publication()
    assert after != publication
    same_tables = {name for name in after if name.startswith("parquet/")}
    assert {name: after[name] for name in same_tables} == {
        name: publication[name] for name in same_tables
    }, "the same published tables as from one copy"


def test_an_unreadable_file_is_named(case):
    orders = case.raw / "orders.parquet"
    orders.chmod(0)
    # As root, permissions bind only without root's capabilities.
    publication, warehouse = case.publication(), _digest(case)
    run = case.run(prefix=WITHOUT_ROOT_POWERS)
    case.check(run, 2, str(orders), "Permission denied")
    assert case.publication() == publication and _digest(case) == warehouse


def test_non_utf8_text_is_named_without_the_value(case):
    marker = b"QQQQQQQQ"
    case.rewrite(
        "customers",
        "select * replace (case when customer_id = (select min(customer_id) from {t}) "
        f"then '{marker.decode()}' else last_name end as last_name) from {{t}}",
        compression="uncompressed",
    )
    customers = case.raw / "customers.parquet"
    data = customers.read_bytes()
    assert data.count(marker) == 1
    customers.write_bytes(data.replace(marker, b"M\xfcller\xfe\xff"))  # Latin-1, not UTF-8
    publication = case.publication()
    run = case.run()
    case.check(run, 2, str(customers), "not valid UTF8")
    assert "ller" not in run.last_error.split("UTF8")[0].split(str(customers))[-1]
    assert "\\xFCller" not in run.output and "M\\xfc" not in run.output
    assert case.publication() == publication


def test_a_1_mb_string_in_a_text_column_does_not_stop_the_run(case):
    case.rewrite(
        "customers",
        "select * replace (case when customer_id = (select min(customer_id) from {t}) "
        "then repeat('x', 1000000) else first_name end as first_name) from {t}",
    )
    publication = case.publication()
    run = case.run()
    case.check(run, 0)
    assert "x" * 100 not in run.output
    assert case.publication() != publication and set(case.publication()) == set(publication)
