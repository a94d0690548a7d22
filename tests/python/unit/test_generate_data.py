"""Tests for scripts/generate_data.py (the synthetic raw-data generator, privseg.datagen).

The generator runs in-process on small inputs in tmp dirs, and once as the command line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
import yaml

from privseg.core.settings import RAW_TABLES
from privseg.datagen import cli as generator_cli

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "generate_data.py"
AREAS_CSV = ROOT / "seeds" / "reference" / "postcode_areas.csv"
END_DATE = "2026-06-30"
SMALL = {"customers": 300, "days": 60}


def _source_columns() -> dict[str, list[str]]:
    """The raw contract as the dbt sources declare it: the generator must match it."""
    columns: dict[str, list[str]] = {}
    for path in sorted((ROOT / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                columns[table["name"]] = [column["name"] for column in table["columns"]]
    return {table: columns[table] for table in RAW_TABLES}


COLUMNS: dict[str, list[str]] = _source_columns()
TIMESTAMP_COLUMN = {
    "customers": "signup_at",
    "orders": "ordered_at",
    "web_events": "occurred_at",
    "campaigns": "launched_at",
    "email_events": "occurred_at",
    "consent_events": "recorded_at",
    "preferences": "updated_at",
    "erasure_requests": "requested_at",
}
AMOUNT_COLUMN = {"products": "list_price", "orders": "total_amount", "order_items": "unit_price"}
ENUMS: dict[str, dict[str, list[str]]] = {
    "orders": {
        "status": ["completed", "shipped", "cancelled", "returned"],
        "channel": ["web", "app", "marketplace", "store"],
        "currency": ["EUR", "GBP", "USD"],
    },
    "web_events": {
        "event_type": ["page_view", "product_view", "add_to_cart", "checkout_start", "purchase"],
        "geo_country": ["DE", "ES", "FR", "GB", "IT", "NL", "US"],
    },
    "campaigns": {
        "channel": ["email"],
        "objective": ["promotion", "newsletter", "winback", "product_launch"],
    },
    "email_events": {"event_type": ["send", "open", "click", "unsubscribe"]},
    "consent_events": {
        "purpose": ["analytics", "personalization", "marketing_email", "contextual_advertising"],
        "action": ["granted", "withdrawn"],
        "source": ["preference_center", "checkout", "cookie_banner", "import"],
    },
    "preferences": {
        "preferred_channel": ["email", "sms", "app", "none"],
        "preferred_frequency": ["daily", "weekly", "monthly"],
    },
    "erasure_requests": {"status": ["received", "completed", "rejected"]},
}
PRIMARY_ID = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "web_events": "event_id",
    "campaigns": "campaign_id",
    "email_events": "email_event_id",
    "consent_events": "consent_event_id",
    "preferences": "customer_id",
    "erasure_requests": "request_id",
}
# integer-typed columns (the staging layer casts them)
INTEGER_COLUMNS = {
    "customers": ["customer_id"],
    "products": ["product_id"],
    "orders": ["order_id", "customer_id"],
    "order_items": ["order_item_id", "order_id", "product_id", "quantity"],
    "web_events": ["event_id", "customer_id", "product_id"],
    "campaigns": ["campaign_id"],
    "email_events": ["email_event_id", "campaign_id", "customer_id"],
    "consent_events": ["consent_event_id", "customer_id"],
    "preferences": ["customer_id"],
    "erasure_requests": ["request_id", "customer_id"],
}
FOREIGN_KEYS = {  # table -> [(column, parent table, parent id)]
    "orders": [("customer_id", "customers", "customer_id")],
    "order_items": [("order_id", "orders", "order_id"), ("product_id", "products", "product_id")],
    "web_events": [
        ("customer_id", "customers", "customer_id"),
        ("product_id", "products", "product_id"),
    ],
    "email_events": [
        ("campaign_id", "campaigns", "campaign_id"),
        ("customer_id", "customers", "customer_id"),
    ],
    "consent_events": [("customer_id", "customers", "customer_id")],
    "preferences": [("customer_id", "customers", "customer_id")],
    "erasure_requests": [("customer_id", "customers", "customer_id")],
}
KIND_ORDER = [
    "null_id",
    "wrong_type",
    "unparseable_timestamp",
    "future_timestamp",
    "non_numeric_amount",
    "negative_amount",
    "unknown_enum",
    "orphan_fk",
    "duplicate_id",
]


def applicable(table: str) -> list[str]:
    kinds = ["null_id", "wrong_type"]
    if table in TIMESTAMP_COLUMN:
        kinds += ["unparseable_timestamp", "future_timestamp"]
    if table in AMOUNT_COLUMN:
        kinds += ["non_numeric_amount", "negative_amount"]
    if table in ENUMS:
        kinds.append("unknown_enum")
    if table in FOREIGN_KEYS:
        kinds.append("orphan_fk")
    return kinds + ["duplicate_id"]


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return generator_cli


@pytest.fixture(scope="module")
def run(gen: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    cache: dict[tuple[object, ...], Path] = {}

    def _run(seed: int = 7, faults: float = 0.0, copy: int = 0, **kw: int) -> Path:
        opts = {**SMALL, **kw}
        key = (seed, faults, copy, tuple(sorted(opts.items())))
        if key not in cache:
            out = tmp_path_factory.mktemp("gen") / "raw"
            argv = [
                "--customers",
                str(opts["customers"]),
                "--days",
                str(opts["days"]),
                "--seed",
                str(seed),
                "--faults",
                str(faults),
                "--end-date",
                END_DATE,
                "--out",
                str(out),
            ]
            assert gen.main(argv) == 0
            cache[key] = out
        return cache[key]

    return _run


def con_for(out: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for table in COLUMNS:
        path = str(out / f"{table}.parquet")
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}', file_row_number = true)"
        ).fetchall()
    return con


def q(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(sql).fetchall()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return q(con, sql)[0][0]


def digests(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


# ---------------------------------------------------------------------------------------------
# Shape and determinism
# ---------------------------------------------------------------------------------------------
def test_all_files_with_exact_varchar_columns(run: Callable[..., Path]) -> None:
    out = run()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t}.parquet" for t in COLUMNS] + ["generation_manifest.json"]
    )
    con = duckdb.connect()
    for table, cols in COLUMNS.items():
        desc = q(con, f"DESCRIBE SELECT * FROM read_parquet('{out / (table + '.parquet')}')")
        assert [r[0] for r in desc] == cols, table
        assert {r[1] for r in desc} == {"VARCHAR"}, table
    # no temp folders left next to the output directory
    assert [p.name for p in out.parent.iterdir()] == ["raw"]


def test_same_arguments_give_byte_identical_files(run: Callable[..., Path]) -> None:
    assert digests(run()) == digests(run(copy=1))
    assert digests(run(faults=0.05)) == digests(run(faults=0.05, copy=1))


def test_different_seed_gives_different_data(run: Callable[..., Path]) -> None:
    a, b = digests(run()), digests(run(seed=8))
    for table in ["customers", "orders", "web_events", "consent_events"]:
        assert a[f"{table}.parquet"] != b[f"{table}.parquet"], table


def test_manifest_matches_files(run: Callable[..., Path]) -> None:
    out = run()
    manifest = json.loads((out / "generation_manifest.json").read_text())
    assert manifest["generator"] == "scripts/generate_data.py"
    assert (manifest["seed"], manifest["customers"], manifest["days"]) == (7, 300, 60)
    assert manifest["end_date"] == END_DATE and manifest["fault_rate"] == 0
    assert list(manifest["tables"]) == list(COLUMNS)
    con = con_for(out)
    for table, info in manifest["tables"].items():
        n = one(con, f"SELECT count(*) FROM {table}")
        assert info["rows_clean"] == info["rows_total"] == n, table
        assert info["faults"] == dict.fromkeys(applicable(table), 0), table
    assert manifest["tables"]["customers"]["rows_clean"] == 300
    assert manifest["tables"]["products"]["rows_clean"] == 2000


# ---------------------------------------------------------------------------------------------
# Clean data is valid and plausible
# ---------------------------------------------------------------------------------------------
def test_clean_run_has_no_defects(run: Callable[..., Path]) -> None:
    con = con_for(run())
    for table in COLUMNS:
        counts = classify(con, table)
        assert counts == {}, (table, counts)


def test_clean_timestamps_strictly_before_end_date(run: Callable[..., Path]) -> None:
    con = con_for(run())
    window_start = "2026-05-01"  # 60 days before 2026-06-30
    for table, col in TIMESTAMP_COLUMN.items():
        lo, hi, bad = q(
            con,
            f"""SELECT min(try_cast({col} AS TIMESTAMP)),
                                       max(try_cast({col} AS TIMESTAMP)),
                                       count(*) FILTER (try_cast({col} AS TIMESTAMP) IS NULL)
                                FROM {table}""",
        )[0]
        assert bad == 0, table
        assert str(hi) < END_DATE, (table, hi)
        if table in ("orders", "web_events", "campaigns", "email_events", "erasure_requests"):
            assert str(lo) >= window_start, (table, lo)
    assert one(
        con, f"SELECT max(birth_date::DATE) < DATE '{END_DATE}' - INTERVAL 18 YEAR FROM customers"
    )
    # web events use ISO 'T'/'Z' style with milliseconds, the rest 'YYYY-MM-DD HH:MM:SS'
    assert one(
        con,
        "SELECT bool_and(regexp_full_match(occurred_at, "
        "'\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z')) FROM web_events",
    )
    assert one(
        con,
        "SELECT bool_and(regexp_full_match(ordered_at, "
        "'\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d')) FROM orders",
    )


def test_referential_and_business_rules(run: Callable[..., Path]) -> None:
    con = con_for(run(customers=600, days=120))
    # ids are decimal strings; customers from 100001, products from 1001, campaigns from 501
    assert q(con, "SELECT min(customer_id::INT), max(customer_id::INT) FROM customers") == [
        (100001, 100600)
    ]
    assert one(con, "SELECT min(product_id::INT) FROM products") == 1001
    assert one(con, "SELECT min(campaign_id::INT) FROM campaigns") == 501
    assert one(con, "SELECT min(request_id::INT) FROM erasure_requests") == 1
    # order totals are exactly the sum of their items
    assert (
        one(
            con,
            """SELECT count(*) FROM orders o JOIN (
            SELECT order_id, sum(quantity::INT * unit_price::DECIMAL(12, 2)) AS s
            FROM order_items GROUP BY order_id) i USING (order_id)
        WHERE o.total_amount::DECIMAL(14, 2) <> i.s""",
        )
        == 0
    )
    assert (
        one(
            con,
            "SELECT count(*) FROM orders WHERE order_id NOT IN (SELECT order_id FROM order_items)",
        )
        == 0
    )
    # orders happen after the customer's signup
    assert (
        one(
            con,
            """SELECT count(*) FROM orders o JOIN customers c USING (customer_id)
                       WHERE o.ordered_at::TIMESTAMP <= c.signup_at::TIMESTAMP""",
        )
        == 0
    )
    # emails unique and only in reserved domains; currency follows country
    assert one(con, "SELECT count(DISTINCT email) = count(*) FROM customers")
    assert one(
        con,
        "SELECT bool_and(regexp_full_match(email, "
        "'[a-z0-9._]+@example\\.(com|org|net)')) FROM customers",
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM orders o JOIN customers c USING (customer_id)
        WHERE o.currency <> CASE c.country WHEN 'GB' THEN 'GBP' WHEN 'US' THEN 'USD'
                                           ELSE 'EUR' END""",
        )
        == 0
    )
    # postcode starts with a prefix of the reference file, and the city matches it
    with AREAS_CSV.open(encoding="utf-8") as fh:
        areas = list(csv.DictReader(fh))
    con.execute("CREATE TABLE areas (cc VARCHAR, prefix VARCHAR, city VARCHAR)").fetchall()
    con.executemany(
        "INSERT INTO areas VALUES (?, ?, ?)",
        [(a["country_code"], a["postcode_prefix"], a["city"]) for a in areas],
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM customers c WHERE NOT EXISTS (
        SELECT 1 FROM areas a WHERE a.cc = c.country AND a.city = c.city
           AND starts_with(c.postcode, a.prefix))""",
        )
        == 0
    )
    # web events: product only on product views / cart adds; events inside known sessions
    assert (
        one(
            con,
            """SELECT count(*) FROM web_events WHERE (product_id IS NOT NULL)
        <> (event_type IN ('product_view', 'add_to_cart'))""",
        )
        == 0
    )
    assert (
        one(
            con,
            "SELECT count(*) FROM web_events WHERE NOT regexp_full_match(session_id, "
            "'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')",
        )
        == 0
    )
    # email funnel: each open/click/unsubscribe follows a send of the same campaign
    assert (
        one(
            con,
            """SELECT count(*) FROM email_events e WHERE event_type <> 'send'
        AND NOT EXISTS (SELECT 1 FROM email_events s WHERE s.event_type = 'send'
            AND s.campaign_id = e.campaign_id AND s.customer_id = e.customer_id
            AND s.occurred_at::TIMESTAMP < e.occurred_at::TIMESTAMP)""",
        )
        == 0
    )
    # consent: first decision per purpose at/after signup, versions follow the policy dates
    assert (
        one(
            con,
            """SELECT count(*) FROM consent_events e JOIN customers c USING (customer_id)
        WHERE e.recorded_at::TIMESTAMP < c.signup_at::TIMESTAMP""",
        )
        == 0
    )
    assert (
        one(
            con,
            """SELECT count(*) FROM consent_events WHERE policy_version <> CASE
        WHEN recorded_at::TIMESTAMP >= DATE '2026-05-01' THEN '3'
        WHEN recorded_at::TIMESTAMP >= DATE '2025-12-12' THEN '2' ELSE '1' END""",
        )
        == 0
    )
    assert one(con, "SELECT count(*) = count(DISTINCT customer_id) FROM preferences")


def test_order_counts_have_a_heavy_tail(run: Callable[..., Path]) -> None:
    con = con_for(run(customers=2000, days=365))
    n, zero, ones, ten = q(
        con,
        """WITH n AS (
            SELECT c.customer_id, count(o.order_id) AS n
            FROM customers c LEFT JOIN orders o USING (customer_id) GROUP BY 1)
        SELECT avg(n), avg((n = 0)::INT), avg((n = 1)::INT) / avg((n > 0)::INT),
               count(*) FILTER (n >= 10) FROM n""",
    )[0]
    assert 1.7 <= n <= 3.0
    assert 0.15 <= zero <= 0.35
    assert 0.4 <= ones <= 0.75
    assert ten >= 10


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------
def classify(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """Assign each row the first failing staging check (as the dbt staging layer does)."""
    pk = PRIMARY_ID[table]
    checks = [f"{pk} IS NULL OR trim({pk}) = ''"]
    checks.append(
        " OR ".join(
            f"({c} IS NOT NULL AND try_cast({c} AS BIGINT) IS NULL)" for c in INTEGER_COLUMNS[table]
        )
    )
    ts = TIMESTAMP_COLUMN.get(table)
    checks.append(f"try_cast({ts} AS TIMESTAMP) IS NULL" if ts else "FALSE")
    checks.append(f"try_cast({ts} AS TIMESTAMP) >= DATE '{END_DATE}'" if ts else "FALSE")
    amount = AMOUNT_COLUMN.get(table)
    checks.append(f"try_cast({amount} AS DECIMAL(18, 2)) IS NULL" if amount else "FALSE")
    checks.append(f"try_cast({amount} AS DECIMAL(18, 2)) < 0" if amount else "FALSE")
    enums = ENUMS.get(table, {})
    checks.append(
        " OR ".join(f"{c} NOT IN ({', '.join(repr(v) for v in vals)})" for c, vals in enums.items())
        or "FALSE"
    )
    fks = FOREIGN_KEYS.get(table, [])
    checks.append(
        " OR ".join(
            f"({c} IS NOT NULL AND {c} NOT IN (SELECT {pid} FROM {parent} WHERE {pid} IS NOT NULL))"
            for c, parent, pid in fks
        )
        or "FALSE"
    )
    checks.append("row_number() OVER (PARTITION BY " + pk + " ORDER BY file_row_number) > 1")
    case = " ".join(
        f"WHEN {c} THEN '{k}'" for c, k in zip(checks[:-1], KIND_ORDER[:-1], strict=True)
    )
    rows = q(
        con,
        f"""WITH d AS (SELECT *, {checks[-1]} AS dup FROM {table})
        SELECT kind, count(*) FROM (
            SELECT CASE {case} WHEN dup THEN 'duplicate_id' END AS kind FROM d)
        WHERE kind IS NOT NULL GROUP BY kind""",
    )
    return {str(k): int(n) for k, n in rows}


def test_faults_each_trip_exactly_their_own_check(run: Callable[..., Path]) -> None:
    out = run(faults=0.05)
    clean = json.loads((run() / "generation_manifest.json").read_text())
    manifest = json.loads((out / "generation_manifest.json").read_text())
    assert manifest["fault_rate"] == 0.05
    con = con_for(out)
    for table, info in manifest["tables"].items():
        kinds = applicable(table)
        assert list(info["faults"]) == kinds, table
        assert info["rows_clean"] == clean["tables"][table]["rows_clean"], table
        expected = -(-5 * info["rows_clean"] // (100 * len(kinds)))  # ceil(0.05 * n / k)
        for kind, n in info["faults"].items():
            assert n >= 1, (table, kind)
            if table != "preferences" or kind not in (
                "unparseable_timestamp",
                "future_timestamp",
                "unknown_enum",
            ):
                assert n == expected, (table, kind, n, expected)
        assert info["rows_total"] == info["rows_clean"] + sum(info["faults"].values())
        assert one(con, f"SELECT count(*) FROM {table}") == info["rows_total"], table
        assert classify(con, table) == info["faults"], table


def test_faulty_rows_are_added_not_mutations(run: Callable[..., Path]) -> None:
    """Every clean row is still present, unchanged, in the faulty run."""
    clean, faulty = con_for(run()), run(faults=0.05)
    for table, cols in COLUMNS.items():
        path = faulty / f"{table}.parquet"
        cl = ", ".join(cols)
        missing = one(
            clean,
            f"""SELECT count(*) FROM (
            SELECT {cl} FROM {table} EXCEPT ALL SELECT {cl} FROM read_parquet('{path}'))""",
        )
        assert missing == 0, table


def test_duplicates_conflict_but_keep_the_clean_row_latest(run: Callable[..., Path]) -> None:
    """A duplicate copy differs in non-key values; where a table has a timestamp (preferences
    excepted) the copy is older, so a "latest row wins" dedupe keeps the clean original."""
    con, clean = con_for(run(faults=0.05)), run()
    for table, cols in COLUMNS.items():
        pk, ts = PRIMARY_ID[table], TIMESTAMP_COLUMN.get(table)
        path = clean / f"{table}.parquet"
        rows = q(
            con,
            f"""WITH d AS (
                SELECT *, row_number() OVER (PARTITION BY {pk} ORDER BY file_row_number) AS k
                FROM {table} WHERE try_cast({pk} AS BIGINT) IS NOT NULL)
            SELECT d.{ts or pk}, c.{ts or pk},
                   ({" OR ".join(f"d.{c} IS DISTINCT FROM c.{c}" for c in cols)}) AS differs
            FROM d JOIN read_parquet('{path}') c USING ({pk}) WHERE d.k > 1""",
        )
        assert rows, table
        assert all(r[2] for r in rows), table
        if ts and table != "preferences":
            assert all(str(r[0]).replace("T", " ") < str(r[1]).replace("T", " ") for r in rows)
        elif ts:
            assert all(r[0] == r[1] for r in rows), table


def test_faulty_rows_are_interleaved(run: Callable[..., Path]) -> None:
    con = con_for(run(faults=0.05))
    pos = q(
        con,
        """SELECT min(file_row_number), max(file_row_number), count(*)
                    FROM web_events WHERE try_cast(event_id AS BIGINT) >= 800000000
                       OR try_cast(event_id AS BIGINT) IS NULL""",
    )[0]
    total = one(con, "SELECT count(*) FROM web_events")
    assert pos[2] > 10
    assert pos[0] < total * 0.2 and pos[1] > total * 0.8


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["--customers", "0", "--days", "10", "--seed", "1"],
        ["--customers", "10", "--days", "0", "--seed", "1"],
        ["--customers", "ten", "--days", "10", "--seed", "1"],
        ["--customers", "10", "--days", "10", "--seed", "-1"],
        ["--customers", "10", "--days", "10", "--seed", "1", "--faults", "1.5"],
        ["--customers", "10", "--days", "10", "--seed", "1", "--end-date", "2026-02-30"],
        ["--customers", "10", "--days", "10", "--seed", "1", "--end-date", "30/06/2026"],
        ["--days", "10", "--seed", "1"],
    ],
)
def test_bad_arguments_exit_2(
    gen: ModuleType, tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert gen.main([*args, "--out", str(tmp_path / "out")]) == 2
    assert "error" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_entry_point(tmp_path: Path) -> None:
    bad = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--customers",
            "0",
            "--days",
            "5",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "N must be >= 1" in bad.stderr
    ok = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--customers",
            "20",
            "--days",
            "5",
            "--seed",
            "1",
            "--end-date",
            END_DATE,
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "table=web_events rows=" in ok.stderr
    assert "@example" not in ok.stderr  # no personal values in logs


# ---------------------------------------------------------------------------------------------
# Partitioned layout (one folder per load day) and --append-day
# ---------------------------------------------------------------------------------------------
def _partitioned(gen: ModuleType, out: Path, *extra: str) -> Path:
    argv = ["--customers", "200", "--days", "30", "--seed", "7", "--faults", "0.05"]
    assert gen.main([*argv, "--end-date", END_DATE, *extra, "--out", str(out)]) == 0
    return out


def tree_digests(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*.parquet"))
    }


def test_partitioned_loads_hold_exactly_the_single_layout_rows(
    gen: ModuleType, tmp_path: Path
) -> None:
    """Every row lands in one load; all loads together (up to the last late row, LATE_DAYS_MAX
    after the end date) are the single-file layout's rows, a folder per load day."""
    single = _partitioned(gen, tmp_path / "single")
    loads = _partitioned(gen, tmp_path / "loads", "--layout", "partitioned")
    assert not list(loads.glob("*.parquet"))
    for _ in range(3):  # the late rows of the last days
        assert gen.main(["--append-day", "--out", str(loads)]) == 0
    con = duckdb.connect()
    late = 0
    for table in COLUMNS:
        days = sorted(p.name for p in (loads / table).iterdir())
        assert days and all(d.startswith("load_date=") for d in days), table
        in_loads = f"read_parquet('{loads / table}/*/*.parquet', hive_partitioning = false)"
        in_single = f"read_parquet('{single / table}.parquet')"
        for a, b in ((in_loads, in_single), (in_single, in_loads)):
            assert one(con, f"select count(*) from (from {a} except all from {b})") == 0, table
        if table in TIMESTAMP_COLUMN:
            column = TIMESTAMP_COLUMN[table]
            # a row lands no earlier than the day after its own time; some land later
            rows = q(
                con,
                f"select try_cast(left({column}, 10) as date), "
                f"cast(regexp_extract(filename, 'load_date=([0-9-]+)', 1) as date) "
                f"from read_parquet('{loads / table}/*/*.parquet', filename = true, "
                "hive_partitioning = false)",
            )
            first = min(load for _, load in rows)
            end = date.fromisoformat(END_DATE)
            own = [(day, load) for day, load in rows if day is not None and first <= day < end]
            assert all(load > day for day, load in own), table  # (a future_timestamp fault
            late += sum(1 for day, load in own if (load - day).days > 1)  # lands with its row)
    assert late > 0, "no late row: the partitioned layout would not test late data"
    manifest = json.loads((loads / "generation_manifest.json").read_text())
    assert manifest["layout"] == "partitioned" and manifest["loaded_through"] == "2026-07-03"
    single_manifest = json.loads((single / "generation_manifest.json").read_text())
    assert manifest["tables"] == single_manifest["tables"]


def test_append_day_adds_the_held_back_loads_byte_for_byte(gen: ModuleType, tmp_path: Path) -> None:
    """--hold-back-days 3 then three --append-day: the same files as writing every load at once
    (deterministic given the seed), and the manifest counts what is loaded."""
    whole = _partitioned(gen, tmp_path / "whole", "--layout", "partitioned")
    grown = _partitioned(
        gen, tmp_path / "grown", "--layout", "partitioned", "--hold-back-days", "3"
    )
    manifest = json.loads((grown / "generation_manifest.json").read_text())
    assert manifest["loaded_through"] == "2026-06-27"
    held = json.loads((whole / "generation_manifest.json").read_text())["tables"]
    assert manifest["tables"]["orders"]["rows_total"] < held["orders"]["rows_total"]
    for day in ("2026-06-28", "2026-06-29", "2026-06-30"):
        assert gen.main(["--append-day", "--out", str(grown)]) == 0
        manifest = json.loads((grown / "generation_manifest.json").read_text())
        assert manifest["loaded_through"] == day
        assert (grown / "orders" / f"load_date={day}").is_dir()
    assert tree_digests(grown) == tree_digests(whole)
    assert manifest["tables"] == held


def test_append_day_refuses_what_it_cannot_do(
    gen: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    single = _partitioned(gen, tmp_path / "single")
    assert gen.main(["--append-day", "--out", str(single)]) == 2
    assert "single-file layout" in capsys.readouterr().err
    assert gen.main(["--append-day", "--out", str(tmp_path / "nothing")]) == 2
    assert "generation_manifest.json not found" in capsys.readouterr().err
    loads = _partitioned(gen, tmp_path / "loads", "--layout", "partitioned")
    assert gen.main(["--append-day", "--seed", "3", "--out", str(loads)]) == 2
    assert "takes only --out" in capsys.readouterr().err
    # past the last late row of the generation there is no load to add
    for _ in range(3):
        assert gen.main(["--append-day", "--out", str(loads)]) == 0
    assert gen.main(["--append-day", "--out", str(loads)]) == 1
    assert "no load after 2026-07-03" in capsys.readouterr().err
    assert gen.main(["--customers", "10", "--days", "5", "--seed", "1", "--hold-back-days", "2",
                     "--out", str(tmp_path / "x")]) == 2  # fmt: skip
