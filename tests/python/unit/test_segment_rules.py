"""Segment rules: user-written SQL conditions are parsed and checked against an allowlist."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb
import pytest
import yaml

from segment_rules import (
    ALLOWED_FUNCTIONS,
    normalized_sql,
    register_functions,
    rule_problems,
    validate_rules,
)

COLUMNS = frozenset(
    {
        "recency_score",
        "frequency_score",
        "monetary_score",
        "recency_days",
        "lifecycle_stage",
        "lifetime_value_eur",
        "top_category",
        "is_seasonal_shopper",
        "carts_abandoned",
        "orders_in_window",
    }
)

VALID_RULES = [
    # RFM-style segments
    "recency_score >= 4 and frequency_score >= 4 and monetary_score >= 4",
    "recency_score <= 2 and frequency_score >= 4",
    "recency_score = 5 and frequency_score = 1",
    "lifecycle_stage in ('at_risk', 'lapsed') and lifetime_value_eur > 500",
    "(recency_score >= 3 or frequency_score >= 3) and not is_seasonal_shopper",
    "monetary_score <> 1 and monetary_score != 2",
    "lifecycle_stage not in ('new')",
    "recency_days in (7, 14, -1)",
    "recency_days between 30 and 90",
    "recency_days not between 30 and 90",
    "top_category is null",
    "top_category is not null and carts_abandoned > 0",
    "is_seasonal_shopper",
    "is_seasonal_shopper = true or carts_abandoned >= 2",
    "is_seasonal_shopper is not false",
    "lifetime_value_eur / orders_in_window > 50",
    "lifetime_value_eur - 2 * carts_abandoned >= -10",
    "-recency_days < -30",
    "abs(recency_days - 30) < 7",
    "least(recency_score, frequency_score) >= 3",
    "greatest(recency_score, frequency_score, monetary_score) = 5",
    "coalesce(top_category, 'none') = 'books'",
    "round(lifetime_value_eur, 2) > 99.5",
    "floor(lifetime_value_eur) = 100 and ceil(lifetime_value_eur) = 101",
    "top_category = 'a;b'",
    "top_category = '-- not a comment /* either */'",
    "top_category = 'it''s'",
    '"Recency_Score" >= 4',
    "RECENCY_SCORE >= 4",
]


@pytest.mark.parametrize("rule", VALID_RULES)
def test_valid_rules_have_no_problems(rule: str) -> None:
    assert rule_problems(rule, COLUMNS) == []


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("1=1; drop table x", "only one expression allowed: found ';'"),
        ("recency_score > 3;", "only one expression allowed: found ';'"),
        ("recency_score > 3 -- comment", "comments are not allowed"),
        ("/* x */ recency_score > 3", "comments are not allowed"),
        ("-- only a comment", "comments are not allowed"),
        (
            "customer_key in (select customer_key from staging.stg_shop__customers)",
            "subqueries are not allowed (select)",
        ),
        ("recency_days in (select 1)", "subqueries are not allowed (select)"),
        ("exists (select 1)", "subqueries are not allowed (exists)"),
        ("random() < 0.5", "function 'random' is not allowed"),
        ("md5(top_category) = 'x'", "function 'md5' is not allowed"),
        ("my_udf(recency_days) > 1", "function 'my_udf' is not allowed"),
        ("email = 'a@b.c'", "unknown column 'email'"),
        ("staging.x = 1", "table-qualified column 'staging.x' is not allowed"),
        ("cast(recency_days as int) > 3", "'cast' is not allowed"),
        ("recency_days::int > 3", "'cast' is not allowed"),
        ("case when is_seasonal_shopper then 1 else 0 end = 1", "'case' is not allowed"),
        ("top_category like 'a%'", "'like' is not allowed"),
        ("row_number() over () > 1", "window functions are not allowed"),
        ("recency_days = ?", "placeholders are not allowed ('?')"),
        ("*", "'*' is not allowed"),
        ("drop table x", "'drop' is not allowed"),
        ("recency_days in (recency_score)", "IN list may contain only literals"),
        ("recency_days is 1", "IS must be followed by NULL, TRUE or FALSE"),
        ("recency_score > 3 foo", "unexpected text after the condition: 'foo'"),
        (
            "recency_days + 1",
            "rule must be a condition (true/false), got arithmetic (+): recency_days + 1",
        ),
        ("recency_score > 3 and 5", "rule must be a condition (true/false), got a number: 5"),
        ("", "rule is empty"),
        ("   \n", "rule is empty"),
    ],
)
def test_invalid_rule_is_rejected_naming_the_construct(rule: str, expected: str) -> None:
    problems = rule_problems(rule, COLUMNS)
    assert problems, f"{rule!r} was accepted"
    assert any(problem.startswith(expected) for problem in problems), problems


def test_subquery_reports_each_construct_once() -> None:
    rule = "customer_key in (select customer_key from staging.stg_shop__customers)"
    assert rule_problems(rule, COLUMNS) == [
        "unknown column 'customer_key'",
        "subqueries are not allowed (select)",
    ]


def test_repeated_unknown_column_is_reported_once() -> None:
    assert rule_problems("email = 'a' or email = 'b'", COLUMNS) == ["unknown column 'email'"]


def test_semicolon_and_comment_are_rejected_before_parsing() -> None:
    assert rule_problems("1=1; drop table x -- bye", COLUMNS) == [
        "comments are not allowed",
        "only one expression allowed: found ';'",
    ]


@pytest.mark.parametrize("rule", ["recency_score >", "recency_score > 3)", "top_category = 'a"])
def test_unparseable_rule_gives_short_message(rule: str) -> None:
    problems = rule_problems(rule, COLUMNS)
    assert len(problems) == 1
    assert problems[0].startswith("cannot parse: ")
    assert "Traceback" not in problems[0] and "\x1b" not in problems[0]
    assert "\n" not in problems[0]


def test_parse_error_message_is_readable() -> None:
    assert rule_problems("recency_score >", COLUMNS) == [
        "cannot parse: Required keyword: 'expression' missing for GT (line 1, col 15)"
    ]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (None, "rule is empty"),
        (42, "rule must be text, got int"),
        ("(" * 600 + "recency_days" + ")" * 600 + " > 1", "cannot parse: "),
        ("recency_days > 1 and " * 200 + "true", "rule is too long"),
    ],
    ids=["none", "int", "deeply-nested", "too-long"],
)
def test_bad_input_never_raises(rule: object, expected: str) -> None:
    problems = rule_problems(rule, COLUMNS)  # type: ignore[arg-type]
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_column_match_is_case_insensitive_both_ways() -> None:
    assert rule_problems("recency_score > 1", {"Recency_Score"}) == []


def test_allowed_functions() -> None:
    assert {"abs", "least", "greatest", "coalesce", "round", "floor", "ceil"} <= ALLOWED_FUNCTIONS
    assert "random" not in ALLOWED_FUNCTIONS


def test_validate_rules_prefixes_segment_name_in_input_order() -> None:
    definitions = [
        ("champions", "recency_score >= 4 and frequency_score >= 4 and monetary_score >= 4"),
        ("leaky", "email = 'a@b.c' and random() < 0.5"),
        ("at_risk", "lifecycle_stage in ('at_risk', 'lapsed') and lifetime_value_eur > 500"),
        ("broken", ""),
    ]
    assert validate_rules(definitions, COLUMNS) == [
        "segment 'leaky': unknown column 'email'",
        "segment 'leaky': function 'random' is not allowed",
        "segment 'broken': rule is empty",
    ]


def test_validate_rules_all_valid() -> None:
    assert validate_rules([("vip", "monetary_score = 5")], COLUMNS) == []


def test_normalized_sql_round_trips_a_valid_rule() -> None:
    rule = "lifecycle_stage in ('at_risk','lapsed')  and lifetime_value_eur>500"
    sql = normalized_sql(rule)
    assert sql == "lifecycle_stage IN ('at_risk', 'lapsed') AND lifetime_value_eur > 500"
    assert normalized_sql(sql) == sql
    assert rule_problems(sql, COLUMNS) == []


def test_normalized_sql_keeps_string_literals_intact() -> None:
    assert normalized_sql("top_category = 'a;b'", COLUMNS) == "top_category = 'a;b'"


@pytest.mark.parametrize("rule", ["random() < 0.5", "1=1; drop table x", "recency_days + 1", ""])
def test_normalized_sql_raises_value_error_for_invalid_rule(rule: str) -> None:
    with pytest.raises(ValueError, match="invalid segment rule"):
        normalized_sql(rule)


def test_normalized_sql_checks_columns_when_given() -> None:
    assert normalized_sql("email = 'x'") == "email = 'x'"
    with pytest.raises(ValueError, match="unknown column 'email'"):
        normalized_sql("email = 'x'", COLUMNS)


def test_normalized_sql_in_the_spark_dialect_is_the_same_checked_rule_in_spark_sql() -> None:
    # Read as DuckDB SQL (the seed's), written as Spark SQL: quotes, backslashes and quoted
    # names in Spark's spelling; the same allowlist whatever the dialect.
    rule = "top_category = 'it''s' and top_category <> 'a\\b' and \"recency_score\" >= 4"
    assert normalized_sql(rule, COLUMNS, "spark") == (
        "top_category = 'it\\'s' AND top_category <> 'a\\\\b' AND `recency_score` >= 4"
    )
    for invalid in ("random() < 0.5", "1=1; drop table x", "email = 'x'"):
        with pytest.raises(ValueError, match="invalid segment rule"):
            normalized_sql(invalid, COLUMNS, "spark")
    with pytest.raises(ValueError, match="Unknown dialect"):
        normalized_sql("recency_score = 1", COLUMNS, "no_such_dialect")


def test_registered_functions_validate_in_sql_on_the_connection_and_its_cursors():
    con = duckdb.connect()
    register_functions(con)
    columns = "['recency_score', 'frequency_score']"
    problems, sql = con.execute(
        f"select segment_rule_problems('1=1; drop table x', {columns}), "
        f"segment_rule_sql('recency_score >= 4 AND frequency_score in (4, 5)', {columns})"
    ).fetchone()
    assert problems == "only one expression allowed: found ';'"
    assert sql == "recency_score >= 4 AND frequency_score IN (4, 5)"
    cursor = con.cursor()  # dbt-duckdb runs models on cursors
    rows = cursor.execute(
        f"select segment_rule_problems(null, {columns}), "
        f"segment_rule_sql('customer_key = 1', {columns})"
    ).fetchall()
    assert rows == [("rule is empty", None)]


def test_the_documented_example_segment_is_one_valid_line_of_the_seed():
    root = Path(__file__).resolve().parents[3]
    guide = (root / "docs/analytics-engineers.md").read_text()
    block = re.search(r"## Add a segment.*?```csv\n(.*?)```", guide, re.S).group(1)
    header = (root / "seeds/segments/segment_definitions.csv").read_text().splitlines()[0]
    rows = list(csv.DictReader(io.StringIO(header + "\n" + block)))
    assert len(rows) == 1
    models = yaml.safe_load((root / "models/marts/behavior/_behavior__models.yml").read_text())
    behavior = next(m for m in models["models"] if m["name"] == "fct_customer_behavior")
    columns = [
        c["name"]
        for c in behavior["columns"]
        if c["config"]["meta"]["privacy"]["classification"] != "pseudonym"
    ]
    assert rule_problems(rows[0]["rule"], columns) == []
