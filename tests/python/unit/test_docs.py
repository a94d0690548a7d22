"""README.md and docs/ stay true to the repository they describe.

Three checks, each a pure function over a folder (the repository, or a small tree a test builds):
every relative link of README.md and docs/*.md resolves to a file of the repository, and its
#anchor to a heading of that file (GitHub's slug rules); every privacy invariant that code,
tests, seeds or config cite by number is written out under that number in
docs/architecture.md; and no file refers to a document outside the repository. Each checker is
also run on a temporary tree with a planted fault, to show that it reports it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ARCHITECTURE = "docs/architecture.md"

# Where invariants are cited by number (folders, then single files).
CITING_FOLDERS = ("models/", "macros/", "tests/", "scripts/", "plugins/", "seeds/", "analyses/")
CITING_FILES = ("dbt_project.yml", "profiles.yml", "Makefile")
# Generated, installed or personal: never part of the repository's text.
SKIPPED_FOLDERS = {".git", ".venv", "target", "logs", "data", "dbt_packages", "__pycache__"}
# Documents outside the repository; spelled in pieces so this file does not cite them itself.
OUTSIDE_DOCUMENTS = ("DESIGN" + ".md", "STYLE" + ".md", "../" + "shared", "/work/" + "shared")

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"""<a\s+(?:id|name)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...
INVARIANT_CITATION = re.compile(
    r"\binvariants?\s+(\d+(?:\s*(?:,|&|\band\b|\bor\b)\s*(?:and\s+|or\s+)?\d+)*)",
    re.IGNORECASE,
)
INVARIANT_HEADING = re.compile(r"^invariant\s+(\d+)\b", re.IGNORECASE)


def repository_files(root: Path) -> list[Path]:
    """The repository's files, relative to root: `git ls-files` in a git checkout, else a walk
    that skips generated and installed folders (for trees that are not a checkout)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return sorted(
            path.relative_to(root)
            for path in root.rglob("*")
            if path.is_file()
            and not SKIPPED_FOLDERS.intersection(path.relative_to(root).parts[:-1])
        )
    return sorted(Path(name) for name in listed.split("\0") if name)


def read_text(path: Path) -> str | None:
    """The file's text, or None for a binary or missing file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return None if "\0" in text else text


def prose_lines(markdown: str) -> list[tuple[int, str]]:
    """(line number, line) of the Markdown outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text (links become their text, code marks
    go), lowercased, every character but letters, digits, `_`, `-` and spaces dropped, spaces
    turned into `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor a Markdown file defines: heading slugs (a repeated slug gets -1, -2, ...
    as on GitHub) and explicit <a id="..."> or <a name="..."> tags."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(markdown):
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def doc_files(root: Path) -> list[Path]:
    """README.md and every Markdown page of docs/, relative to root."""
    pages = sorted(path.relative_to(root) for path in (root / "docs").glob("*.md"))
    return [Path("README.md"), *pages] if (root / "README.md").is_file() else pages


def broken_links(root: Path, pages: list[Path]) -> list[str]:
    """'<page>:<line>: <target>: <why>' for every relative link of `pages` that does not
    resolve to a file of the repository, or whose #anchor is no heading of that file."""
    root = root.resolve()
    problems = []
    for page in pages:
        text = read_text(root / page) or ""
        for number, line in prose_lines(text):
            for target in LINK.findall(INLINE_CODE.sub("code", line)):
                if EXTERNAL.match(target):
                    continue
                where = f"{page.as_posix()}:{number}: {target}"
                path_part, _, anchor = target.partition("#")
                base = (root / page).parent
                resolved = (base / path_part).resolve() if path_part else root / page
                if not resolved.is_relative_to(root):
                    problems.append(f"{where}: points outside the repository")
                    continue
                parts = resolved.relative_to(root).parts
                if not resolved.exists() or SKIPPED_FOLDERS.intersection(parts):
                    problems.append(f"{where}: no such file in the repository")
                    continue
                if not anchor:
                    continue
                if resolved.suffix != ".md" or resolved.is_dir():
                    problems.append(f"{where}: an anchor into a file that is not Markdown")
                elif anchor not in anchors(read_text(resolved) or ""):
                    problems.append(f"{where}: no heading '#{anchor}' in {parts[-1]}")
    return problems


def defined_invariants(architecture: str) -> list[int]:
    """Numbers of the `Invariant N: ...` headings, in page order."""
    numbers = []
    for _, line in prose_lines(architecture):
        heading = HEADING.match(line)
        match = INVARIANT_HEADING.match(heading.group(2)) if heading else None
        if match:
            numbers.append(int(match.group(1)))
    return numbers


def cited_invariants(text: str) -> list[tuple[int, int]]:
    """(line number, invariant) for every invariant cited by number: "invariant 6",
    "Invariants 3 and 5", "invariants 1, 2 and 4"."""
    cited = []
    for match in INVARIANT_CITATION.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        cited.extend((line, int(number)) for number in re.findall(r"\d+", match.group(1)))
    return cited


def citing_files(files: list[Path]) -> list[Path]:
    return [
        path
        for path in files
        if path.as_posix() in CITING_FILES or path.as_posix().startswith(CITING_FOLDERS)
    ]


def unknown_invariants(root: Path, files: list[Path]) -> list[str]:
    """'<file>:<line>: invariant N' for every citation in the citing files (models/, macros/,
    tests/, scripts/, plugins/, seeds/, analyses/, dbt_project.yml, profiles.yml, Makefile)
    of an invariant that docs/architecture.md does not write out."""
    defined = set(defined_invariants(read_text(root / ARCHITECTURE) or ""))
    return [
        f"{path.as_posix()}:{line}: invariant {number}"
        for path in citing_files(files)
        for line, number in cited_invariants(read_text(root / path) or "")
        if number not in defined
    ]


def outside_references(root: Path, files: list[Path]) -> list[str]:
    """'<file>:<line>: <document>' for every mention of a document outside the repository."""
    found = []
    for path in files:
        text = read_text(root / path) or ""
        for number, line in enumerate(text.splitlines(), start=1):
            found.extend(
                f"{path.as_posix()}:{number}: {document}"
                for document in OUTSIDE_DOCUMENTS
                if document.lower() in line.lower()
            )
    return found


# --- the repository ----------------------------------------------------------------------------


def test_every_relative_link_of_the_readme_and_docs_resolves():
    pages = doc_files(ROOT)
    assert Path(ARCHITECTURE) in pages and len(pages) >= 7, pages
    assert broken_links(ROOT, pages) == []


def test_the_architecture_page_writes_out_invariants_1_to_10_once_each():
    numbers = defined_invariants((ROOT / ARCHITECTURE).read_text())
    assert numbers == list(range(1, 11))


def test_every_invariant_cited_in_code_is_written_out_in_the_architecture_page():
    files = repository_files(ROOT)
    cited = {
        number
        for path in citing_files(files)
        for _, number in cited_invariants(read_text(ROOT / path) or "")
    }
    assert cited, "the code cites invariants; the scan must find them"
    assert unknown_invariants(ROOT, files) == []


def test_no_file_refers_to_a_document_outside_the_repository():
    assert outside_references(ROOT, repository_files(ROOT)) == []


def test_the_readme_shows_both_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


# --- the checkers, shown failing -----------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_slugs_follow_githubs_rules():
    assert slug("Invariant 6: published tables are k-anonymous") == (
        "invariant-6-published-tables-are-k-anonymous"
    )
    assert slug("Reading `rpt_reidentification_risk`") == "reading-rpt_reidentification_risk"
    assert slug("Consent, retention and erasure") == "consent-retention-and-erasure"
    assert slug("See [the docs](x.md) (v2)") == "see-the-docs-v2"


def test_the_link_check_reports_a_missing_file_an_unknown_anchor_and_an_escape(tmp_path):
    root = _tree(
        tmp_path,
        {
            "README.md": "\n".join(
                [
                    "# Title",
                    "[ok](docs/page.md) and [ok](docs/page.md#a-heading), [web](https://x.org)",
                    "[ok](#title) [ok](docs/page.md#a-heading-1) [ok](docs/page.md#explicit)",
                    "[gone](docs/missing.md)",
                    "[bad anchor](docs/page.md#no-such-heading)",
                    "[escape](../outside.md)",
                    "`[in code](docs/ignored.md)`",
                    "```",
                    "[in a fence](docs/ignored-too.md)",
                    "```",
                ]
            ),
            "docs/page.md": '## A heading\n\n## A heading\n\n<a id="explicit"></a>\n',
        },
    )
    problems = broken_links(root, doc_files(root))
    assert [p.split(": ", 1)[0] for p in problems] == ["README.md:4", "README.md:5", "README.md:6"]
    assert "docs/missing.md: no such file" in problems[0]
    assert "no heading '#no-such-heading' in page.md" in problems[1]
    assert "points outside the repository" in problems[2]


def test_the_invariant_check_reports_an_invariant_the_architecture_page_lacks(tmp_path):
    unknown = "invariant " + "11"
    root = _tree(
        tmp_path,
        {
            ARCHITECTURE: "# Architecture\n\n### Invariant 1: one\n\n### Invariant 2: two\n",
            "macros/known.sql": "{# Invariants 1 and 2 hold here; invariants 1, 2 too. #}\n",
            "models/broken.yml": f"description: proves {unknown}.\n",
            "dbt_project.yml": f"# first line\n# {unknown.title()} again\n",
            "notes/elsewhere.md": f"{unknown}: not a citing file\n",
        },
    )
    files = repository_files(root)
    assert unknown_invariants(root, files) == [
        f"dbt_project.yml:2: {unknown}",
        f"models/broken.yml:1: {unknown}",
    ]
    assert cited_invariants("invariants 3, 4 and 5; Invariant 6.") == [
        (1, 3),
        (1, 4),
        (1, 5),
        (1, 6),
    ]


def test_the_outside_reference_check_reports_documents_outside_the_repository(tmp_path):
    root = _tree(
        tmp_path,
        {
            "scripts/a.py": "# pseudonym format as in " + OUTSIDE_DOCUMENTS[0] + "\n",
            "README.md": "fine\nsee " + OUTSIDE_DOCUMENTS[2] + "/notes\n",
            ".venv/lib/ignored.py": OUTSIDE_DOCUMENTS[0] + "\n",
        },
    )
    assert outside_references(root, repository_files(root)) == [
        f"README.md:2: {OUTSIDE_DOCUMENTS[2]}",
        f"scripts/a.py:1: {OUTSIDE_DOCUMENTS[0]}",
    ]
