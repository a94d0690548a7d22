"""The project's SQL functions in a Spark session (privseg.spark.functions, registered by the
launcher) against the dbt-duckdb plugin's DuckDB functions, on the same inputs: segment rule
validation (and the Spark SQL of a valid rule selecting the rows DuckDB selects), the DP noise
functions (NULLs, exact scales and error bounds, the noise's distribution, one draw per cell)
and the release engine, and a missing registration failing the query by the function's name.

One local Spark session for the module (started as the launcher starts one), with no dbt and
no key; and, first (so that its build never runs beside that session), what dbt got when it
called them in the tier's Spark build (spark_job.py).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import importlib.util
import inspect
import json
import math
import random
import re
from pathlib import Path

import duckdb
import pytest

import dp_noise
import release_protection
import segment_rules
from privseg.core.settings import PROJECT_DIR
from privseg.spark.functions import (
    PLUGIN_MODULES,
    register_functions,
    spark_functions,
)
from privseg.spark.session import SparkPaths, start_session

SEED_RULES = PROJECT_DIR / "seeds" / "segments" / "segment_definitions.csv"
RELEASE_UNIT_TESTS = PROJECT_DIR / "tests" / "python" / "unit" / "test_release_protection.py"

# The columns of the small table the rules run over (fct_customer_behavior's and the contextual
# audience's names, as the seed's rules use them).
COLUMN_TYPES = {
    "recency_score": "int",
    "frequency_score": "int",
    "monetary_score": "int",
    "buyer_type": "string",
    "is_seasonal_shopper": "boolean",
    "carts_abandoned": "int",
    "email_open_rate": "double",
    "affinity_cluster_id": "int",
    "lifetime_value_eur": "double",
    "referrer_class": "string",
    "daypart": "string",
}
COLUMNS = list(COLUMN_TYPES)

EXTRA_VALID_RULES = [
    "buyer_type = 'it''s'",
    "buyer_type = 'back\\slash' or buyer_type = 'repeat'",
    "lifetime_value_eur / 2 > 150.5 and coalesce(email_open_rate, 0) >= round(0.449, 1)",
    '"recency_score" between 2 and 4 and not (frequency_score = 1)',
    "monetary_score is not null and carts_abandoned is null",
    "least(recency_score, frequency_score) >= 3 or greatest(abs(-monetary_score), 1) = 5",
    "floor(lifetime_value_eur) <> ceil(lifetime_value_eur) and -recency_score < -2",
    "daypart in ('evening', 'night') and referrer_class <> 'social'",
    "is_seasonal_shopper = false or email_open_rate * 100 > 75",
]
INVALID_RULES = [
    None,
    "",
    "   ",
    # Injection attempts: another statement, a subquery, another table, comments.
    "recency_score = 5; drop table staging.stg_shop__customers",
    "recency_score = 5 union select customer_id from staging.stg_shop__customers",
    "recency_score in (select recency_score from fct_customer_behavior)",
    "exists (select 1 from staging.stg_shop__customers)",
    "staging.stg_shop__customers.email = 'a@example.com'",
    "fct_customer_behavior.recency_score = 5",
    "recency_score = 5 -- and everything else",
    "recency_score = 5 /* hidden */",
    # Columns and functions off the allowlist.
    "email = 'a@example.com'",
    "customer_key = 'abc'",
    "random() > 0.5",
    "read_parquet('/etc/passwd') is not null",
    "cast(recency_score as string) = '5'",
    "case when recency_score = 5 then true else false end",
    "buyer_type like 'rep%'",
    "recency_score + 1",
    "recency_score = 5 and",
]


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    session = start_session(SparkPaths(tmp_path_factory.mktemp("spark_functions")))
    register_functions(session)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def duck():
    """A DuckDB connection with the functions the dbt-duckdb plugin registers on every one."""
    connection = duckdb.connect()
    segment_rules.register_functions(connection)
    dp_noise.register_functions(connection)
    release_protection.register_functions(connection)
    yield connection
    connection.close()


def seed_rules() -> list[str]:
    with SEED_RULES.open(newline="") as handle:
        return [row["rule"] for row in csv.DictReader(handle)]


def spark_column_list(columns: list[str] | None) -> str:
    if columns is None:
        return "cast(null as array<string>)"
    return "array(" + ", ".join(f"'{name}'" for name in columns) + ")"


def duck_column_list(columns: list[str] | None) -> str:
    if columns is None:
        return "cast(null as varchar[])"
    return "[" + ", ".join(f"'{name}'" for name in columns) + "]::varchar[]"


def checked_on_spark(spark, rules: list[str | None], columns: list[str] | None) -> list[tuple]:
    frame = spark.createDataFrame(list(enumerate(rules)), "i int, rule string")
    frame.createOrReplaceTempView("rules_under_test")
    listed = spark_column_list(columns)
    rows = spark.sql(
        f"select i, segment_rule_problems(rule, {listed}) as problems, "
        f"segment_rule_sql(rule, {listed}) as rule_sql from rules_under_test order by i"
    ).collect()
    return [(row["problems"], row["rule_sql"]) for row in rows]


def checked_on_duckdb(duck, rules: list[str | None], columns: list[str] | None) -> list[tuple]:
    listed = duck_column_list(columns)
    return [
        duck.execute(
            f"select segment_rule_problems(?, {listed}), segment_rule_sql(?, {listed})",
            [rule, rule],
        ).fetchone()
        for rule in rules
    ]


# --- the launcher ----------------------------------------------------------------------------


def test_the_launcher_registers_them_in_the_session_dbt_runs_in(spark_build):
    """In the tier's Spark build: dbt, run by the launcher, calls them in its session."""
    assert spark_build.report["probes"]["functions"] == [
        segment_rules.normalized_sql("recency_score = 5", ["recency_score"], "spark"),
        dp_noise.noise_scale("count", 1, 0.5),
    ]


# --- segment rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [COLUMNS, ["recency_score"], [], None])
def test_segment_rule_problems_are_duckdbs_and_invalid_rules_get_no_sql(spark, duck, columns):
    rules = [*seed_rules(), *EXTRA_VALID_RULES, *INVALID_RULES]
    on_spark = checked_on_spark(spark, rules, columns)
    on_duckdb = checked_on_duckdb(duck, rules, columns)
    assert [problems for problems, _ in on_spark] == [problems for problems, _ in on_duckdb]
    for rule, (problems, spark_sql), (_, duckdb_sql) in zip(
        rules, on_spark, on_duckdb, strict=True
    ):
        if problems:
            assert spark_sql is None and duckdb_sql is None, rule
        else:
            assert spark_sql == segment_rules.normalized_sql(rule, columns or [], "spark")
            assert duckdb_sql == segment_rules.normalized_sql(rule, columns or [])
    if columns == COLUMNS:
        # Every seed and extra rule is valid, every invalid one is not, whatever the engine.
        valid = [not problems for problems, _ in on_spark]
        expected = len(seed_rules()) + len(EXTRA_VALID_RULES)
        assert valid == [True] * expected + [False] * len(INVALID_RULES)


def behavior_rows(count: int = 300) -> list[tuple]:
    """Rows of every column type, with NULLs and strings holding a quote and a backslash."""
    draw = random.Random(19)

    def maybe(value):
        return None if draw.random() < 0.08 else value

    rows = []
    for i in range(count):
        rows.append(
            (
                i,
                maybe(draw.randint(1, 5)),
                maybe(draw.randint(1, 5)),
                maybe(draw.randint(1, 5)),
                maybe(draw.choice(["repeat", "one_time", "it's", "back\\slash"])),
                maybe(draw.random() < 0.3),
                maybe(draw.randint(0, 3)),
                maybe(round(draw.random(), 3)),
                maybe(draw.randint(1, 6)),
                maybe(round(draw.uniform(0, 900), 2)),
                maybe(draw.choice(["social", "search", "direct"])),
                maybe(draw.choice(["morning", "afternoon", "evening", "night"])),
            )
        )
    return rows


def test_the_spark_sql_of_each_valid_rule_selects_the_rows_duckdb_selects(spark, duck):
    rules = [*seed_rules(), *EXTRA_VALID_RULES]
    schema = "id int, " + ", ".join(f"{name} {kind}" for name, kind in COLUMN_TYPES.items())
    rows = behavior_rows()
    spark.createDataFrame(rows, schema).createOrReplaceTempView("behavior_under_test")
    duck.execute(f"create or replace temp table behavior_under_test ({schema})")
    duck.executemany(
        f"insert into behavior_under_test values ({', '.join('?' * (len(COLUMNS) + 1))})", rows
    )
    spark_sql = [rule_sql for _, rule_sql in checked_on_spark(spark, rules, COLUMNS)]
    duckdb_sql = [rule_sql for _, rule_sql in checked_on_duckdb(duck, rules, COLUMNS)]
    selected_sizes = []
    for rule, on_spark, on_duckdb in zip(rules, spark_sql, duckdb_sql, strict=True):
        spark_ids = {
            row.id
            for row in spark.sql(f"select id from behavior_under_test where {on_spark}").collect()
        }
        duckdb_ids = {
            row[0]
            for row in duck.execute(
                f"select id from behavior_under_test where {on_duckdb}"
            ).fetchall()
        }
        assert spark_ids == duckdb_ids, rule
        selected_sizes.append(len(spark_ids))
    # The comparison means something: most rules select some rows and none selects them all.
    assert sum(1 for size in selected_sizes if size > 0) >= len(rules) - 2
    assert max(selected_sizes) < len(rows)
    # The rules whose text differs between the dialects ran as Spark SQL, not as DuckDB's.
    assert any(s != d for s, d in zip(spark_sql, duckdb_sql, strict=True))


# --- DP noise --------------------------------------------------------------------------------

NULL_CALLS = [
    "dp_noisy_count(cast(null as bigint), 1.0, 1.0)",
    "dp_noisy_count(5, cast(null as double), 1.0)",
    "dp_noisy_count(5, 1.0, cast(null as double))",
    "dp_noisy_sum(cast(null as double), 1.0, 1.0)",
    "dp_noisy_sum(5.0, 1.0, cast(null as double))",
    "dp_noise_scale(cast(null as string), 1.0, 1.0)",
    "dp_noise_scale('count', cast(null as double), 1.0)",
    "dp_error_bound('sum', cast(null as double), 0.05)",
    "dp_error_bound('count', 2.0, cast(null as double))",
    "release_protection(cast(null as string))",
]


@pytest.mark.parametrize("call", NULL_CALLS)
def test_null_in_gives_null_out_as_on_duckdb(spark, duck, call):
    duckdb_call = call.replace("as string", "as varchar")
    assert duck.execute(f"select {duckdb_call}").fetchone()[0] is None
    assert spark.sql(f"select {call} as v").collect()[0]["v"] is None


SCALE_ARGUMENTS = [
    ("count", 1, 0.1),
    ("count", 1, 1.0),
    ("count", 24, 1.0),
    ("count", 3, 0.7),
    ("sum", 100.0, 0.5),
    ("sum", 2.5, 1.3),
    ("sum", 1e-3, 3.0),
]


def test_noise_scales_and_error_bounds_equal_duckdbs_exactly(spark, duck):
    for kind, sensitivity, epsilon in SCALE_ARGUMENTS:
        for alpha in (0.05, 0.01, 0.5):
            select = (
                f"select dp_noise_scale('{kind}', {sensitivity}, {epsilon}) as scale, "
                f"dp_error_bound('{kind}', dp_noise_scale('{kind}', {sensitivity}, {epsilon}), "
                f"{alpha}) as bound"
            )
            on_duckdb = duck.execute(select).fetchone()
            on_spark = spark.sql(select).collect()[0]
            assert (on_spark["scale"], on_spark["bound"]) == on_duckdb, (kind, sensitivity)
            assert on_spark["scale"] == dp_noise.noise_scale(kind, sensitivity, epsilon)


def test_result_types_are_duckdbs(spark):
    frame = spark.sql(
        "select dp_noisy_count(5, 1, 1.0) as c, dp_noisy_sum(5, 1, 1.0) as s, "
        "dp_noise_scale('sum', 1, 1) as scale, dp_error_bound('sum', 1, 0.05) as bound, "
        "segment_rule_sql('recency_score = 1', array('recency_score')) as rule_sql, "
        "release_protection('{}') as decisions"
    )
    types = {field.name: field.dataType.simpleString() for field in frame.schema.fields}
    assert types == {
        "c": "bigint",
        "s": "double",
        "scale": "double",
        "bound": "double",
        "rule_sql": "string",
        "decisions": "string",
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("dp_noise_scale('count', 1.0, 0.0)", "epsilon must be a positive finite number"),
        ("dp_noise_scale('count', 1.5, 1.0)", "a count's sensitivity must be a whole number"),
        ("dp_noise_scale('median', 1.0, 1.0)", "kind must be one of"),
        ("dp_error_bound('count', 0.0, 0.05)", "alpha must be in (0, 1) and scale positive"),
        ("dp_noisy_count(5, 1.0, -1.0)", "epsilon must be a positive finite number"),
    ],
)
def test_invalid_arguments_fail_the_query_with_the_plugins_message(spark, duck, call, message):
    with pytest.raises(duckdb.Error, match=re.escape(message)):
        duck.execute(f"select {call}").fetchall()
    with pytest.raises(Exception, match=re.escape(message)):
        spark.sql(f"select {call} as v").collect()


def test_a_count_takes_only_whole_numbers_as_duckdb_binds_bigint(spark, duck):
    with pytest.raises(duckdb.BinderException, match="dp_noisy_count"):
        duck.execute("select dp_noisy_count(2.5, 1, 1e9)").fetchall()
    with pytest.raises(Exception, match=r"dp_noisy_count\(\): argument 1 must be bigint"):
        spark.sql("select dp_noisy_count(2.5, 1, 1e9) as v").collect()
    # At epsilon 1e9 the noise is 0 but for a probability below exp(-1e9): the value itself.
    select = (
        "select dp_noisy_count(7, 1, 1e9) as c, dp_noisy_sum(7, 1, 1e9) between 6.9 and 7.1 as near"
    )
    assert duck.execute(select).fetchone() == (7, True)
    row = spark.sql(select).collect()[0]
    assert (row["c"], row["near"]) == (7, True)


# Three frequency checks per mechanism, each with Hoeffding's bound
# P(|observed - expected| >= t) <= 2 exp(-2 n t^2): together they fail by chance with
# probability at most FALSE_ALARM.
DRAWS = 20_000
FALSE_ALARM = 1e-6
CHECKS = 3
TOLERANCE = math.sqrt(math.log(2 * CHECKS / FALSE_ALARM) / (2 * DRAWS))  # about 0.0198


def frequencies(values: list[float], threshold: float) -> tuple[float, float, float]:
    """Share of values equal to 0 (|x| < 1e-12), beyond +-threshold, and above 0 minus below."""
    n = len(values)
    return (
        sum(1 for v in values if abs(v) < 1e-12) / n,
        sum(1 for v in values if abs(v) > threshold) / n,
        (sum(1 for v in values if v > 0) - sum(1 for v in values if v < 0)) / n,
    )


def test_noisy_counts_are_integers_spread_as_discrete_laplace_of_the_scale(spark):
    sensitivity, epsilon = 1, 0.5
    scale = dp_noise.noise_scale("count", sensitivity, epsilon)  # 2.0
    rows = spark.sql(
        f"select dp_noisy_count(100, {sensitivity}, {epsilon}) as n from range({DRAWS})"
    ).collect()
    values = [row["n"] for row in rows]
    assert all(isinstance(v, int) for v in values)
    noise = [v - 100 for v in values]
    # Discrete Laplace, P(x) = (1 - q) / (1 + q) q^|x|, q = exp(-1 / scale):
    # P(0) = (1 - q) / (1 + q); P(|X| > t) = 2 q^(t + 1) / (1 + q) for whole t; symmetric.
    q = math.exp(-1 / scale)
    threshold = 3
    expected = ((1 - q) / (1 + q), 2 * q ** (threshold + 1) / (1 + q), 0.0)
    observed = frequencies(noise, threshold)
    for got, want in zip(observed, expected, strict=True):
        assert abs(got - want) < TOLERANCE, (observed, expected)


def test_noisy_sums_are_spread_as_laplace_of_the_scale(spark):
    sensitivity, epsilon = 10.0, 2.0
    scale = dp_noise.noise_scale("sum", sensitivity, epsilon)  # 5.0
    rows = spark.sql(
        f"select dp_noisy_sum(1000.0, {sensitivity}, {epsilon}) as s from range({DRAWS})"
    ).collect()
    noise = [row["s"] - 1000.0 for row in rows]
    # Laplace: P(|X| > t) = exp(-t / scale), P(|X| > 0.2 scale) = exp(-0.2); no mass at 0.
    share_zero, share_beyond, skew = frequencies(noise, scale)
    share_near = sum(1 for v in noise if abs(v) <= 0.2 * scale) / DRAWS
    for got, want in (
        (share_beyond, math.exp(-1)),
        (share_near, 1 - math.exp(-0.2)),
        (skew, 0.0),
    ):
        assert abs(got - want) < TOLERANCE, (got, want)
    assert share_zero < TOLERANCE


ONE_CELL_QUERIES = {
    # A filter on the noisy column: pushed below the projection, a deterministic call would be
    # drawn once for the filter and again for the value shown.
    "filter": (
        "select n, n from (select id, dp_noisy_count(0, 1, 0.5) as n from range(2000)) where n > 0"
    ),
    # The same column read twice, and an expression over it.
    "two reads": (
        "select n, n + 0 from (select id, dp_noisy_sum(0.0, 1.0, 0.5) as n from range(2000)) "
        "where n > 0 or n <= 0"
    ),
}


def inconsistent_rows(session) -> dict[str, int]:
    """Per query, the rows whose two reads of one noisy cell differ (or that the filter let in
    with a value it should have rejected)."""
    found = {}
    for name, query in ONE_CELL_QUERIES.items():
        rows = session.sql(query).collect()
        bad = sum(1 for first, second in rows if first != second)
        if name == "filter":
            bad += sum(1 for first, _ in rows if first <= 0)
        found[name] = bad
    return found


def test_a_noisy_cell_read_twice_is_one_value(spark):
    # Without the guard, Spark 4.3 still evaluates "two reads" once (it neither collapses a
    # Python UDF into two places of one projection nor evaluates it twice there); the filter
    # pushed below the projection is where it draws twice (next test).
    assert inconsistent_rows(spark) == {"filter": 0, "two reads": 0}


def test_without_the_non_determinism_guard_spark_draws_a_cell_twice(spark):
    """The guard's own test: the same functions registered as deterministic UDFs (the guard
    removed) give rows whose noisy cell has two values, on the same queries."""
    unguarded = spark.newSession()
    broken = tuple(dataclasses.replace(f, deterministic=True) for f in spark_functions())
    register_functions(unguarded, broken)
    found = inconsistent_rows(unguarded)
    assert found["filter"] > 100, found


# --- release protection ----------------------------------------------------------------------


def release_documents() -> list[dict]:
    """Every document the plugin's own unit tests (tests/python/unit/test_release_protection.py)
    pass to protect_release, recorded by running those tests."""
    spec = importlib.util.spec_from_file_location("_release_unit_tests", RELEASE_UNIT_TESTS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recorded: list[dict] = []

    def recording(document):
        recorded.append(json.loads(json.dumps(document)))
        return release_protection.protect_release(document)

    module.protect_release = recording
    for name, test in vars(module).items():
        if name.startswith("test_") and not inspect.signature(test).parameters:
            test()
    return recorded


def test_release_protection_on_spark_equals_duckdbs_on_the_plugins_documents(spark, duck):
    # Four documents: counts at two levels of a hierarchy, populations, magnitudes (revenue).
    documents = [json.dumps(document) for document in release_documents()]
    assert len(documents) >= 4
    frame = spark.createDataFrame(list(enumerate(documents)), "i int, document string")
    on_spark = frame.selectExpr("release_protection(document) as decisions").collect()
    for document, row in zip(documents, on_spark, strict=True):
        expected = duck.execute("select release_protection(?)", [document]).fetchone()[0]
        assert row["decisions"] == expected
        assert json.loads(expected)["rows"]


def test_an_invalid_release_document_fails_the_query_as_on_duckdb(spark, duck):
    refused = release_documents()[0]  # a segment outside its hierarchy: ReleaseModelError
    refused["rows"][0]["counts"][0]["key"]["primary_segment"] = "no_such_segment"
    document = json.dumps(refused)
    with pytest.raises(duckdb.Error) as on_duckdb:
        duck.execute("select release_protection(?)", [document]).fetchall()
    # The plugin's own error (class and message), as DuckDB reports it.
    message = str(on_duckdb.value).split("while executing the UDF: ", 1)[1]
    assert message.startswith("ReleaseModelError: dimension 'primary_segment'")
    frame = spark.createDataFrame([(document,)], "document string")
    with pytest.raises(Exception, match=re.escape(message)):
        frame.selectExpr("release_protection(document) as decisions").collect()


# --- registration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "segment_rule_problems('recency_score = 1', array('recency_score'))",
        "segment_rule_sql('recency_score = 1', array('recency_score'))",
        "dp_noisy_count(5, 1.0, 1.0)",
        "dp_noisy_sum(5.0, 1.0, 1.0)",
        "dp_noise_scale('count', 1.0, 1.0)",
        "dp_error_bound('count', 2.0, 0.05)",
        "release_protection('{}')",
    ],
)
def test_without_the_registration_a_query_fails_naming_the_function(spark, call):
    unregistered = spark.newSession()  # same Spark, no temporary functions
    name = call.split("(")[0]
    with pytest.raises(Exception, match=name) as failure:
        unregistered.sql(f"select {call} as v").collect()
    assert "UNRESOLVED_ROUTINE" in str(failure.value)


def test_every_function_the_duckdb_plugin_registers_is_registered_with_its_arity(duck):
    on_duckdb = {
        name: count
        for name, count in duck.execute(
            "select function_name, len(parameters) from duckdb_functions() "
            "where function_type = 'scalar' and function_name in "
            "('segment_rule_problems', 'segment_rule_sql', 'dp_noisy_count', 'dp_noisy_sum', "
            "'dp_noise_scale', 'dp_error_bound', 'release_protection')"
        ).fetchall()
    }
    assert {f.name: len(f.parameters) for f in spark_functions()} == on_duckdb


def test_workers_run_the_shipped_copy_of_the_plugin_modules(spark):
    """What a cluster relies on: the workers import the plugin modules the launcher shipped
    (SparkContext.addPyFile), byte for byte the launcher's, not some other copy."""
    names = [module.__name__ for module in PLUGIN_MODULES]

    def where(_row):  # a closure: sent to the worker by value
        import hashlib as hashing
        import importlib as importing
        from pathlib import Path as FilePath

        found = []
        for name in names:
            path = FilePath(importing.import_module(name).__file__)
            found.append((name, str(path), hashing.sha256(path.read_bytes()).hexdigest()))
        return found

    on_worker = spark.sparkContext.parallelize([0], 1).map(where).collect()[0]
    for name, path, digest in on_worker:
        local = Path(importlib.import_module(name).__file__).resolve()
        assert Path(path).resolve() != local, name
        assert Path(path).name == local.name
        assert digest == hashlib.sha256(local.read_bytes()).hexdigest(), name
