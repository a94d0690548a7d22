"""The SQL and YAML linters, run with the project's config, lint something and catch style errors.

`make lint` runs sqlfluff and yamllint over the tree. On copies of one real model and one real
yml (no dbt, no warehouse), these tests show that the model renders with the project's macros
and vars and parses without a templating or parse error, that the untouched copies pass, and
that each deliberate house-style error makes the linter report it where it was made.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]
# Renders only when the project's macros and dbt's context work: var() and modules (as_of_date),
# adapter.dispatch (pseudonymize, age_in_years) and ref().
MODEL = PROJECT_DIR / "models/pseudonymized/int_customers_pseudonymized.sql"
YML = PROJECT_DIR / "models/staging/email/_email__sources.yml"
LONG_LINE = 130


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", tool, *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def sqlfluff_lint(*paths: Path) -> dict[str, dict]:
    """sqlfluff's JSON report per file name, linted with the project's .sqlfluff."""
    result = run(
        "sqlfluff",
        "lint",
        "--config",
        str(PROJECT_DIR / ".sqlfluff"),
        "--format",
        "json",
        "--disable-progress-bar",
        *map(str, paths),
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return {Path(entry["filepath"]).name: entry for entry in json.loads(result.stdout)}


def codes_by_line(entry: dict) -> set[tuple[str, int]]:
    return {(v["code"], v["start_line_no"]) for v in entry["violations"]}


def line_of(text: str, fragment: str) -> int:
    """1-based number of the only line containing `fragment`."""
    numbers = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(numbers) == 1, (fragment, numbers)
    return numbers[0]


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.fixture(scope="module")
def sql_reports(tmp_path_factory) -> tuple[dict[str, dict], str]:
    """One sqlfluff run over a clean copy of the model and a copy with four style errors."""
    folder = tmp_path_factory.mktemp("lint_sql")
    clean = MODEL.read_text(encoding="utf-8")
    broken = replace_once(
        clean, "    select\n        customer_id,\n", "    SELECT\n        customer_id,\n"
    )
    broken = replace_once(broken, "'unknown') as postcode_area", "'unknown') postcode_area")
    broken = replace_once(broken, "    inner join customer_keys", "    join customer_keys")
    expression = " " * 8 + "cast(customers.signed_up_at as date) as "
    alias = "signed_up_date" + "_at_the_shop" * 10
    long_line = expression + alias[: LONG_LINE - len(expression)]
    assert len(long_line) == LONG_LINE
    broken = replace_once(broken, expression + "signed_up_date", long_line)
    (folder / "clean_model.sql").write_text(clean, encoding="utf-8")
    (folder / "broken_model.sql").write_text(broken, encoding="utf-8")
    return sqlfluff_lint(folder / "clean_model.sql", folder / "broken_model.sql"), broken


def test_sqlfluff_renders_and_parses_the_real_model_and_it_passes(sql_reports):
    reports, _ = sql_reports
    clean = reports["clean_model.sql"]
    assert clean["violations"] == [], "a templating (TMP) or parse (PRS) error, or a style error"
    stats = clean["statistics"]
    # Rendered to SQL of about the source's size (not an empty or placeholder render) and
    # parsed into a full tree: the linter saw the model, it did not lint nothing.
    assert stats["templated_chars"] > 0.8 * stats["source_chars"]
    assert stats["segments"] > 300


def test_sqlfluff_reports_each_deliberate_style_error(sql_reports):
    reports, broken = sql_reports
    found = codes_by_line(reports["broken_model.sql"])
    expected = {
        ("CP01", line_of(broken, "SELECT")),  # uppercase keyword
        ("AL02", line_of(broken, "'unknown') postcode_area")),  # column alias without `as`
        ("AM05", line_of(broken, "    join customer_keys")),  # join type not explicit
        ("LT05", line_of(broken, "_at_the_shop")),  # 130 characters, limit 100
    }
    assert expected <= found, f"missing: {sorted(expected - found)}"


def test_yamllint_passes_the_real_yml_and_reports_deliberate_errors(tmp_path):
    clean = YML.read_text(encoding="utf-8")
    # Three spaces per level instead of two.
    indented = "".join(
        re.sub(r"^( +)", lambda m: " " * (len(m.group(1)) * 3 // 2), line)
        for line in clean.splitlines(keepends=True)
    )
    # A YAML 1.1 boolean other than true/false.
    truthy = replace_once(clean, "\n    schema: raw\n", "\n    schema: raw\n    quoting: yes\n")
    for name, text in {"clean": clean, "indented": indented, "truthy": truthy}.items():
        (tmp_path / f"{name}.yml").write_text(text, encoding="utf-8")
    yamllint = ("yamllint", "--strict", "-c", str(PROJECT_DIR / ".yamllint"), "-f", "parsable")

    passed = run(*yamllint, str(tmp_path / "clean.yml"))
    assert passed.returncode == 0, passed.stdout

    failed = run(*yamllint, str(tmp_path / "indented.yml"), str(tmp_path / "truthy.yml"))
    assert failed.returncode == 1, failed.stdout
    problems = failed.stdout.splitlines()
    assert any(
        "indented.yml:4:4:" in line and "expected 2 but found 3 (indentation)" in line
        for line in problems
    ), problems
    truthy_line = line_of(truthy, "quoting: yes")
    assert [line for line in problems if "truthy.yml" in line] == [
        f"{tmp_path / 'truthy.yml'}:{truthy_line}:14: [warning] "
        "truthy value should be one of [false, true] (truthy)"
    ]
