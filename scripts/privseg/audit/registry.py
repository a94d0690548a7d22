"""The audit's checks, declared once: name, claim, method, the invariants each proves, and the
function that runs it.

Everything that describes the checks reads this registry: the audit itself (run order, the
claim in its log lines and JSON report), `scripts/audit_privacy.py --list-checks`, the HTML
report's method section, and the table in docs/auditors.md (generated from it and kept equal to
it by a unit test).

Invariants (numbered as in docs/architecture.md): 1 no direct identifier past staging, 2 key
hygiene, 3 consent, 4 erasure, 5 retention, 6 k-anonymity of published tables (each one, and
the release as a whole), 7 nothing published unless every test and the audit passed, 8 no
magnitude from too few or dominated contributors, 9 no confident inference of a sensitive
attribute, 10 owner-only files.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from privseg.audit.checks import (
    attribute_disclosure,
    build_results,
    consent,
    contextual_audiences,
    erasure,
    k_anonymity,
    lineage,
    magnitude_rules,
    pii_patterns,
    raw_identifiers,
    release_differencing,
    retention,
    secret_hygiene,
    stated_audiences,
    triggered_audiences,
)
from privseg.audit.context import AuditRun

DOCS_BEGIN = "<!-- audit-checks:begin (generated from the audit's check registry; do not edit) -->"
DOCS_END = "<!-- audit-checks:end -->"
DOCS_COMMAND = "scripts/audit_privacy.py --list-checks --format markdown --write docs/auditors.md"


@dataclass(frozen=True)
class Check:
    """One check of the audit."""

    name: str
    # What the check asserts about the build; {k} and {l} stand for the project's k and l.
    claim: str
    # How it is checked, for an auditor who wants to know what a pass means.
    method: str
    invariants: tuple[int, ...]
    run: Callable[[AuditRun], list[str]]
    # Checks that read the warehouse file itself run after the audit's read-only connection
    # is closed (DuckDB does not let one process attach a file it already has open).
    reads_warehouse_file: bool = False

    def claim_for(self, k: object = "k", l_diverse: object = "l") -> str:
        return self.claim.format(k=k, l=l_diverse)


CHECKS: tuple[Check, ...] = (
    Check(
        name="build_results",
        claim="every node of the build succeeded",
        method=(
            "Reads the build's run results (target/build_results.json, the pipeline's copy of "
            "dbt's run_results.json) and fails if any model, seed, snapshot or test did not "
            "succeed: nothing is published from a failed build. The only check that relies on "
            "dbt's own results."
        ),
        invariants=(7,),
        run=build_results.run,
    ),
    Check(
        name="lineage",
        claim=(
            "every mart and published column traces to classified source columns, "
            "direct identifiers only through hashing or aggregation"
        ),
        method=(
            "Parses the compiled SQL of every model with sqlglot, qualified against the columns "
            "the warehouse holds, and traces every column past staging hop by hop to source "
            "columns, classifying each hop (hashed, aggregated, generalized, passed through, "
            "consent filtered). Fails when a mart or published column carries a direct "
            "identifier's value without a keyed hash or an aggregate, when a column traces to a "
            "source column without privacy metadata, or when a model cannot be parsed."
        ),
        invariants=(1,),
        run=lineage.run,
    ),
    Check(
        name="published_k_anonymity",
        claim="published tables are {k}-anonymous",
        method=(
            "For every model marked published, re-runs a GROUP BY over its declared "
            "quasi-identifiers on the warehouse and counts rows per equivalence class; every class "
            "must hold at least k rows. For aggregated tables, every cell's distinct-subject count "
            "must be 0 (a cell of nobody) or at least k. k is what each model declares "
            "(meta.privacy.k), else the dbt var segments_k of dbt_project.yml. The dbt "
            "k-anonymity tests are not consulted."
        ),
        invariants=(6,),
        run=k_anonymity.run,
    ),
    Check(
        name="attribute_disclosure",
        claim=(
            "every released class is diverse in its sensitive attribute as declared (at least "
            "{l} values), and no value holds more than the allowed share of one"
        ),
        method=(
            "For every published row-level table with a declared sensitive attribute, counts the "
            "published rows per equivalence class (its declared quasi-identifiers) and value, "
            "and recomputes per class its distinct values, the entropy of its value shares and "
            "recursive (c, l)-diversity, and the highest share of one value. Fails when a class "
            "is not as diverse as the table declares (meta.privacy.diversity: kind distinct, "
            "entropy or recursive, l and c, else the dbt vars segments_diversity_kind, "
            "segments_l and segments_diversity_c), or when one value holds more of a class than "
            "the var segments_max_inference_confidence (default 0.9), whatever kind the table "
            "declares. Reads the published rows only; findings give counts and shares, never a "
            "value. The dbt l_diversity tests are not consulted."
        ),
        invariants=(9,),
        run=attribute_disclosure.run,
    ),
    Check(
        name="release_differencing",
        claim=(
            "no withheld cell, remainder or sensitive sum can be narrowed by combining the "
            "published tables of the release"
        ),
        method=(
            "Builds the attacker's view of the release from what the published models hold "
            "(exactly what the publication copies), read through each model's declaration "
            "(meta.privacy.release in the manifest: which populations and dimensions its counts "
            "are, which columns are sums or means of which measure), with the dimension "
            "hierarchies and the containments of populations the build declares "
            "(int_release_hierarchies, int_release_populations). Every published number is an "
            "equation (a rounded mean an interval); the candidate rows the release withheld "
            "only name cells. Linear programs (HiGHS) then bound every cell of every published "
            "grid no released row shows, every remainder of a contained population in its "
            "container, and every withheld sum from too few or dominated contributors. Fails "
            "when a cell can be pinned to an interval narrower than k that is not all 0 or k "
            "and more, or a withheld sum can be estimated to within p% of itself."
        ),
        invariants=(6, 8),
        run=release_differencing.run,
    ),
    Check(
        name="magnitude_rules",
        claim=(
            "every published sum or mean comes from enough contributors and is not dominated; "
            "nothing derived from a withheld one is published"
        ),
        method=(
            "Matches every published row with sums or means to its candidate row and recomputes, "
            "from the candidate's statistics (sum, contributors, two largest values), the "
            "minimum-contributor rule (k unless declared) and the dominance rule the model "
            "declares (default: the p% rule with p = 10; (n,k)-dominance on request), for every "
            "value that is not NULL. Also fails when a column declared as derived from a "
            "magnitude (a rate from a count) is published where the magnitude is withheld. The "
            "dbt test magnitude_protected is not consulted."
        ),
        invariants=(8,),
        run=magnitude_rules.run,
    ),
    Check(
        name="consent",
        claim="every subject of a consent-filtered model has a valid grant",
        method=(
            "For every model with a consent purpose and a customer_key pseudonym column, counts "
            "the subjects that have no valid grant for the model's purpose as of the run, "
            "against the consent ledger (consent.int_consented_subjects)."
        ),
        invariants=(3,),
        run=consent.run,
    ),
    Check(
        name="stated_audiences",
        claim=(
            "audiences built from what customers stated read no behavioural data and no model "
            "of another consent purpose"
        ),
        method=(
            "For every model declaring meta.privacy.data_basis stated (the stated-interest "
            "audiences and the contact schedule), walks the manifest's lineage upstream: the "
            "model and every model it reads past staging must declare no column of a "
            "behavioural data category (fideslang user.behavior and below) and no consent "
            "purpose other than its own. Such an audience may then be exported under its "
            "purpose (marketing_email) without the analytics grant behaviour needs."
        ),
        invariants=(3,),
        run=stated_audiences.run,
    ),
    Check(
        name="triggered_audiences",
        claim=(
            "the trigger feed carries only the subject's pseudonym and dates, and each of its "
            "subjects holds every purpose their trigger lists"
        ),
        method=(
            "For every model declaring meta.privacy.data_basis triggered (the trigger feed): "
            "follows each column's lineage to the source columns whose value it carries; a "
            "personal one must be a direct identifier through the keyed hash or a date the "
            "model declares in meta.privacy.trigger_inputs, generalized (columns that only "
            "filter rows, such as an order's status, are allowed). Then counts, per trigger and "
            "purpose, the subjects of the warehouse table without a valid grant for a purpose "
            "the trigger lists in consent_purposes of the seed trigger_definitions."
        ),
        invariants=(3,),
        run=triggered_audiences.run,
    ),
    Check(
        name="contextual_audiences",
        claim=(
            "no row of the contextual audiences can be joined back to a person or a visit: no "
            "key, no visit date, at least {k} visits and {k} distinct visitors in every row, and "
            "anonymous visits only where the purpose's legal basis allows them"
        ),
        method=(
            "For every published model declaring meta.privacy.data_basis contextual: no column "
            "is a pseudonym or a date or time of the visits, and the lineage of every column "
            "reaches identifying source columns (direct or quasi-identifiers) only generalized "
            "or aggregated, never through a keyed hash that is not aggregated. Each published "
            "row is matched, on every context column it publishes ('all' matching any value), "
            "against the visits of its declared visits_model, and must count at least k "
            "distinct visits and k distinct visitors (a logged-in customer once, an anonymous "
            "visit as its own visitor). When the purpose's legal basis in the seed "
            "consent_purposes is consent, the visits model must hold no anonymous visit."
        ),
        invariants=(3, 6),
        run=contextual_audiences.run,
    ),
    Check(
        name="erasure",
        claim="no erased subject's pseudonym in any table past staging",
        method=(
            "Computes the pseudonym of every subject with an accepted erasure request itself, "
            "from the staged requests and the key, and searches every text column of every table "
            "past staging for them."
        ),
        invariants=(4,),
        run=erasure.run,
    ),
    Check(
        name="retention",
        claim="no row older than its retention policy past staging",
        method=(
            "Recomputes every within_retention test: counts the rows of the tested column dated "
            "before the as-of date minus the retention days of its category, read from the "
            "retention_policies seed."
        ),
        invariants=(5,),
        run=retention.run,
    ),
    Check(
        name="pii_patterns",
        claim="no email address, phone number or IP address in any text past staging",
        method=(
            "Matches every text column of every table past staging against patterns of email "
            "addresses, phone numbers and IPv4/IPv6 addresses, whatever the column is called or "
            "classified as; counts only. A match names a column to look at, not proof. UUIDs "
            "(dbt's invocation ids, kept as build and release ids) are blanked out before the "
            "phone pattern: their digit groups can read as a phone number."
        ),
        invariants=(1,),
        run=pii_patterns.run,
    ),
    Check(
        name="raw_identifiers",
        claim="no raw identifier value in any table past staging",
        method=(
            "Reads the raw source files directly (not through dbt) and searches every text "
            "column of every table past staging for any raw value (trimmed, case-insensitive) of "
            "a source column classified direct_identifier."
        ),
        invariants=(1,),
        run=raw_identifiers.run,
        reads_warehouse_file=True,
    ),
    Check(
        name="secret_hygiene",
        claim="the key is in no artifact, log or database file",
        method=(
            "Scans every file under the dbt target and log folders and the warehouse file for "
            "the pseudonymization key, byte for byte."
        ),
        invariants=(2,),
        run=secret_hygiene.run,
        reads_warehouse_file=True,
    ),
)

BY_NAME = {check.name: check for check in CHECKS}


def invariant_text(invariants: tuple[int, ...] | list[int]) -> str:
    return ", ".join(str(number) for number in invariants)


def checks_as_json() -> list[dict]:
    return [
        {
            "name": check.name,
            "claim": check.claim_for(),
            "method": check.method,
            "invariants": list(check.invariants),
        }
        for check in CHECKS
    ]


def checks_as_text(width: int = 100) -> str:
    lines = []
    for check in CHECKS:
        lines.append(f"{check.name} (invariant {invariant_text(check.invariants)})")
        for label, text in (("claim: ", check.claim_for()), ("method:", check.method)):
            lines.append(
                textwrap.fill(
                    text, width, initial_indent=f"    {label} ", subsequent_indent=" " * 12
                )
            )
    return "\n".join(lines) + "\n"


def checks_as_markdown() -> str:
    """The table of docs/auditors.md: check, claim, method, invariant."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| check | claim | method | invariant |", "|---|---|---|---|"]
    for check in CHECKS:
        lines.append(
            f"| `{check.name}` | {cell(check.claim_for())} | {cell(check.method)} "
            f"| {invariant_text(check.invariants)} |"
        )
    return "\n".join(lines) + "\n"


def render(format_: str) -> str:
    if format_ == "json":
        return json.dumps(checks_as_json(), indent=2) + "\n"
    if format_ == "markdown":
        return checks_as_markdown()
    return checks_as_text()


def docs_block(text: str) -> str | None:
    """What a page holds between the begin and end markers (None when they are missing)."""
    if DOCS_BEGIN not in text or DOCS_END not in text:
        return None
    inside = text.split(DOCS_BEGIN, 1)[1].split(DOCS_END, 1)[0]
    return inside.strip("\n") + "\n"


def write_docs_block(path: Path) -> None:
    """Replace what is between the markers of `path` with the markdown table."""
    text = path.read_text(encoding="utf-8")
    if docs_block(text) is None:
        raise ValueError(f"{path} has no lines {DOCS_BEGIN!r} and {DOCS_END!r}")
    before, rest = text.split(DOCS_BEGIN, 1)
    after = rest.split(DOCS_END, 1)[1]
    path.write_text(
        f"{before}{DOCS_BEGIN}\n{checks_as_markdown()}{DOCS_END}{after}", encoding="utf-8"
    )
