"""The audit's check registry is the one description of the checks: the docs page, the command
line and the HTML report's method section all show what it declares."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from privseg.audit import registry
from privseg.audit.registry import CHECKS, DOCS_BEGIN, DOCS_COMMAND, DOCS_END
from privseg.core.settings import PROJECT_DIR
from privseg.report import render_html

AUDITORS_PAGE = PROJECT_DIR / "docs" / "auditors.md"
# Numbered as in docs/architecture.md.
INVARIANTS = range(1, 11)


def test_the_auditors_page_holds_the_registry_table() -> None:
    block = registry.docs_block(AUDITORS_PAGE.read_text(encoding="utf-8"))
    assert block is not None, f"{AUDITORS_PAGE} lacks the lines {DOCS_BEGIN!r} and {DOCS_END!r}"
    assert block == registry.checks_as_markdown(), (
        "the audit checks table in docs/auditors.md differs from the check registry "
        f"(privseg/audit/registry.py); regenerate it with: {DOCS_COMMAND}"
    )


def test_every_check_is_fully_declared() -> None:
    names = [check.name for check in CHECKS]
    assert len(names) == len(set(names)), "check names must be unique"
    for check in CHECKS:
        assert check.claim and check.method, check.name
        assert check.invariants and set(check.invariants) <= set(INVARIANTS), check.name
        assert "(invariant" not in check.method, f"{check.name}: invariants have their own field"
        assert callable(check.run), check.name
    # The files the last checks read must not be open in the audit's own connection.
    assert [c.name for c in CHECKS if c.reads_warehouse_file] == [
        "raw_identifiers",
        "secret_hygiene",
    ]


def test_the_claim_names_k_and_l_in_the_docs_and_their_values_in_a_report() -> None:
    check = registry.BY_NAME["published_k_anonymity"]
    assert check.claim_for() == "published tables are k-anonymous"
    assert check.claim_for(10, 2) == "published tables are 10-anonymous"
    diversity = registry.BY_NAME["attribute_disclosure"]
    assert "(at least l values)" in diversity.claim_for()
    assert "(at least 2 values)" in diversity.claim_for(10, 2)
    assert diversity.invariants == (9,)


def test_writing_the_table_replaces_only_the_block(tmp_path: Path) -> None:
    page = tmp_path / "auditors.md"
    page.write_text(f"# Title\n\nBefore.\n\n{DOCS_BEGIN}\nstale\n{DOCS_END}\n\nAfter.\n")
    registry.write_docs_block(page)
    text = page.read_text()
    assert text.startswith("# Title\n\nBefore.\n\n") and text.endswith("\n\nAfter.\n")
    assert "stale" not in text
    assert registry.docs_block(text) == registry.checks_as_markdown()
    page.write_text("# No markers\n")
    with pytest.raises(ValueError, match="audit-checks:begin"):
        registry.write_docs_block(page)


def test_the_command_line_lists_the_checks() -> None:
    def list_checks(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(PROJECT_DIR / "scripts" / "audit_privacy.py"), "--list-checks"]
            + list(args),
            capture_output=True,
            text=True,
            check=False,
        )

    listed = json.loads(list_checks("--format", "json").stdout)
    assert [entry["name"] for entry in listed] == [check.name for check in CHECKS]
    assert all(entry["invariants"] and entry["method"] for entry in listed)
    assert list_checks("--format", "markdown").stdout == registry.checks_as_markdown()
    text = list_checks().stdout
    assert all(f"{check.name} (invariant" in text for check in CHECKS)
    refused = list_checks("--format", "json", "--write", "docs/auditors.md")
    assert refused.returncode == 2 and "--format markdown" in refused.stderr


def test_the_report_method_section_reads_the_registry() -> None:
    page = render_html({"status": "pass", "checks": [{"name": "consent", "status": "pass"}]})
    method = page.split('<section id="method">')[1].split("</section>")[0]
    for check in CHECKS:
        assert f"<code>{check.name}</code>" in method
    consent = registry.BY_NAME["consent"]
    assert f"{consent.method} (invariant 3)".replace("'", "&#x27;") in method
    assert method.count("(not in this report)") == len(CHECKS) - 1
