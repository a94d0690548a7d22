"""`make run`'s job end to end: demo data, build, audit, publish, docs, and a
summary that says where everything is. Publication is write-audit-publish:
readers keep answering during a run, a failed test or audit publishes
nothing, a SIGKILL in the build or in the publication leaves the previous
publication complete, and the same data and key publish the same tables.
Raw data, the warehouse and the artifacts are owner-only and the publication
is shared as PUBLISH_MODE says, whatever the umask the pipeline starts with.
Bad set-ups exit 2 with a message."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from browser import page_requests_off_the_machine, run_chromium
from dbt_harness import pipeline_environment, project_with_fixtures
from privseg.core.settings import PROJECT_DIR

# Published model -> its schema in the warehouse, in the order of the publication (by name).
PUBLISHED_SCHEMAS = {
    "fct_segment_profiles": "segments",
    "rpt_campaign_performance": "measurement",
    "rpt_cohort_retention": "measurement",
    "rpt_contextual_audiences": "contextual",
    "rpt_lifetime_value": "measurement",
    "rpt_segment_summary": "segments",
}
PUBLISHED_TABLES = list(PUBLISHED_SCHEMAS)


def _command(root: Path, *args: str, project: Path = PROJECT_DIR) -> list[str]:
    return [sys.executable, str(project / "scripts" / "pipeline.py"), *args]


# The umask of most machines (files 644): owner-only outputs are the pipeline's own doing.
PERMISSIVE_UMASK = 0o022


def _pipeline(
    root: Path, *args: str, project: Path = PROJECT_DIR, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(root, *args, project=project),
        env={**pipeline_environment(root), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        umask=PERMISSIVE_UMASK,
    )


def _publication_fingerprint(publish_dir: Path) -> dict[str, str]:
    """Every file of the current publication (through the stable links) -> sha256."""
    current = (publish_dir / "current").resolve()
    return {
        str(path.relative_to(current)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(current.rglob("*"))
        if path.is_file()
    }


def _published_rows(publish_dir: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(publish_dir / "segments.duckdb"), read_only=True) as con:
        return {t: con.execute(f"select * from {t}").fetchall() for t in PUBLISHED_TABLES}


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("tmp"))
    return dst


def _kill_when(process: subprocess.Popen, ready, timeout: float = 120) -> None:
    """SIGKILL the process group once ready() is true (or fail after timeout)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "the run never reached the point to kill it at"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("pipeline")
    done = _pipeline(root, "run", "--demo-customers", "300")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root, done


def test_run_generates_builds_audits_publishes_and_says_where_outputs_are(first_run):
    root, done = first_run
    assert (root / "raw" / "customers.parquet").exists()
    assert f"warehouse:   {root / 'warehouse.duckdb'}" in done.stdout
    assert "quarantine:  0 rejected raw rows" in done.stdout
    for step in ("generate", "preflight", "build", "audit", "publish", "docs"):
        assert f" {step}: ok in " in done.stderr, step
    assert "compacted" in done.stderr, "every build ends with a compacted warehouse file"

    audit = json.loads((root / "target" / "privacy_audit.json").read_text())
    assert audit["status"] == "pass"
    assert [c["name"] for c in audit["checks"] if c["status"] == "pass"] == [
        "build_results",
        "lineage",
        "published_k_anonymity",
        "attribute_disclosure",
        "release_differencing",
        "magnitude_rules",
        "consent",
        "stated_audiences",
        "triggered_audiences",
        "contextual_audiences",
        "erasure",
        "retention",
        "pii_patterns",
        "raw_identifiers",
        "secret_hygiene",
    ]
    assert [t["name"] for t in audit["published_tables"]] == PUBLISHED_TABLES
    # The RoPA's categories follow the lineage: analytics derives an age band from the birth
    # date but never touches an email address; the audience export sends email addresses.
    activities = {a["purpose"]: a for a in audit["ropa"]["activities"]}
    assert set(activities) == {
        "analytics",
        "marketing_email",
        "personalization",
        "contextual_advertising",
    }
    analytics = activities["analytics"]["data_categories"]
    assert "user.demographic.date_of_birth" in analytics
    assert "user.contact.email" not in analytics
    assert "user.contact.email" in activities["marketing_email"]["data_categories"]
    assert [r["name"] for r in activities["marketing_email"]["recipients"]] == ["audience_export"]
    report_page = (root / "target" / "privacy_audit.html").read_text()
    assert all(f'id="{s}"' in report_page for s in ("summary", "checks", "ropa"))
    assert "audit:       pass" in done.stdout
    docs = root / "target" / "static_index.html"
    assert docs.stat().st_size > 100_000 and f"docs:        {docs}" in done.stdout

    published = root / "published"
    manifest = json.loads((published / "publication.json").read_text())
    assert [t["model"] for t in manifest["tables"]] == PUBLISHED_TABLES
    assert manifest["audit_status"] == "pass" and manifest["build_id"] == audit["build_id"]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        (fingerprint,) = con.execute(
            "select any_value(key_fingerprint) from pseudonymized.int_pseudonym_key_registry"
        ).fetchone()
        for table in manifest["tables"]:
            schema = PUBLISHED_SCHEMAS[table["model"]]
            (rows,) = con.execute(f"select count(*) from {schema}.{table['model']}").fetchone()
            assert table["rows"] == rows
    assert manifest["key_fingerprint"] == fingerprint
    with duckdb.connect(str(published / "segments.duckdb"), read_only=True) as con:
        assert con.execute("select release from publication_info").fetchall() == [
            (manifest["release"],)
        ]
        # In the storage format that DuckDB 1.x clients (bundled by BI tools) read.
        assert con.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = 'segments'"
        ).fetchall() == [("v1.0.0+",)]
    assert manifest["storage_version"] == "v1.0.0"
    for table in PUBLISHED_TABLES:
        parquet = published / "parquet" / f"{table}.parquet"
        (rows,) = duckdb.sql(f"select count(*) from '{parquet}'").fetchall()[0]
        assert rows == next(t["rows"] for t in manifest["tables"] if t["model"] == table)
    assert f"published:   {published / 'segments.duckdb'}" in done.stdout

    key_file = root / "secrets" / "pseudonym.key"
    assert key_file.stat().st_mode & 0o777 == 0o600, "the key file is readable by its owner only"
    key = key_file.read_text().strip()
    assert len(key) == 64
    assert key not in done.stdout + done.stderr
    assert "created" in done.stderr and str(key_file) in done.stderr


# A BI reader: holds the publication open read-only and queries it until told to stop, then
# reconnects. Through DuckDB or SQLAlchemy + duckdb_engine (one process each: DuckDB refuses a
# second connection to a file with another configuration in the same process).
READER = textwrap.dedent(
    """
    import sys, time, pathlib
    import duckdb, sqlalchemy
    mode, path, stop = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])

    def connect():
        if mode == "duckdb":
            con = duckdb.connect(path, read_only=True)
            return con, lambda sql: con.execute(sql).fetchall(), con.close
        engine = sqlalchemy.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
        con = engine.connect()
        def close():
            con.close()
            engine.dispose()
        return con, lambda sql: con.execute(sqlalchemy.text(sql)).fetchall(), close

    _, query, close = connect()
    queries = 0
    print("ready", flush=True)
    while not stop.exists():
        query("select count(*) from fct_segment_profiles")
        query("select sum(member_count) from rpt_segment_summary")
        queries += 1
        time.sleep(0.05)
    old = query("select release from publication_info")[0][0]
    close()
    _, query, close = connect()
    new = query("select release from publication_info")[0][0]
    print(queries, old, new, flush=True)
    """
)


def test_killed_build_leaves_the_publication_and_readers_are_never_blocked(first_run, tmp_path):
    root = _copy(first_run[0], tmp_path / "state")
    published = root / "published"
    before = _publication_fingerprint(published)
    rows_before = _published_rows(published)

    # SIGKILL the whole run (pipeline and dbt) once dbt is building models.
    log = root / "logs" / "dbt.log"
    log.unlink()
    killed = subprocess.Popen(
        _command(root, "run"),
        env=pipeline_environment(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _kill_when(killed, lambda: log.exists() and "START sql table model" in log.read_text())
    assert _publication_fingerprint(published) == before

    # The next run succeeds while readers (DuckDB and SQLAlchemy) query the publication.
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, mode, str(published / "segments.duckdb"), str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("duckdb", "sqlalchemy")
    ]
    for reader in readers:
        assert reader.stdout.readline().strip() == "ready", reader.stderr.read()
    done = _pipeline(root, "run")
    stop.touch()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "raw data found" in done.stderr, "existing raw data must not be regenerated"
    release = json.loads((published / "publication.json").read_text())["release"]
    for reader in readers:
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, err
        queries, old, new = out.split()
        assert int(queries) > 20, "the reader kept answering during the run"
        assert old != release and new == release, "after reconnecting it sees the new release"
    # Same data, same key: the same tables.
    assert _published_rows(published) == rows_before
    releases = sorted(p.name for p in (published / "releases").iterdir())
    assert len(releases) == 2 and not any(name.startswith(".") for name in releases)


def test_killed_publication_leaves_the_previous_one_complete(first_run, tmp_path):
    root = _copy(first_run[0], tmp_path / "state")
    published = root / "published"
    before = _publication_fingerprint(published)
    releases = published / "releases"
    killed = subprocess.Popen(
        _command(root, "publish"),
        env=pipeline_environment(root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _kill_when(killed, lambda: any(p.name.startswith(".incomplete-") for p in releases.iterdir()))
    assert _publication_fingerprint(published) == before
    _published_rows(published)  # still opens and answers

    again = _pipeline(root, "publish")
    assert again.returncode == 0, again.stderr[-3000:]
    assert not any(p.name.startswith(".") for p in releases.iterdir()), "leftovers removed"
    assert _publication_fingerprint(published) != before


def _storage_version(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = current_database()"
        ).fetchone()[0]


def test_publish_storage_version_is_configurable_and_an_unknown_one_exits_2(first_run, tmp_path):
    root = _copy(first_run[0], tmp_path / "state")
    published = root / "published"
    releases = published / "releases"
    newer = _pipeline(root, "publish", env={"PUBLISH_STORAGE_VERSION": "v1.4.0"})
    assert newer.returncode == 0, newer.stderr[-3000:]
    assert json.loads((published / "publication.json").read_text())["storage_version"] == "v1.4.0"
    assert _storage_version(published / "segments.duckdb") == "v1.4.0+"
    before = _publication_fingerprint(published)
    names_before = sorted(p.name for p in releases.iterdir())

    for step in ("publish", "build"):  # refused before anything is written or built
        refused = _pipeline(root, step, env={"PUBLISH_STORAGE_VERSION": "v9.9"})
        assert refused.returncode == 2, refused.stderr[-3000:]
        assert (
            "PUBLISH_STORAGE_VERSION: Invalid Input Error: "
            "The version string 'v9.9' is not a known DuckDB version" in refused.stderr
        )
        assert "step 1/" in refused.stderr and "step 2/" not in refused.stderr
    assert _publication_fingerprint(published) == before
    assert sorted(p.name for p in releases.iterdir()) == names_before


def test_the_audit_report_and_the_docs_open_offline_in_a_browser(first_run, tmp_path):
    """What an auditor opens: the run's own audit report and docs file, in headless Chromium.
    Both render (the report's sections and charts, the docs' models) and neither asks for
    anything over the network. The report's screenshot is kept as a test artifact."""
    target = first_run[0] / "target"
    report = target / "privacy_audit.html"
    net_log = tmp_path / "report.netlog.json"
    dom = run_chromium(report, tmp_path / "report", "--dump-dom", f"--log-net-log={net_log}").stdout
    for section in (
        "summary",
        "checks",
        "published-tables",
        "release",
        "charts",
        "ropa",
        "method",
    ):
        assert f'<section id="{section}">' in dom, section
    assert dom.count("<svg") >= 3 + len(PUBLISHED_TABLES)
    assert all(table in dom for table in PUBLISHED_TABLES)
    assert page_requests_off_the_machine(net_log) == []
    shot = tmp_path / "privacy_audit.png"
    run_chromium(report, tmp_path / "shot", f"--screenshot={shot}", "--window-size=1280,6000")
    artifacts = PROJECT_DIR / "target" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, artifacts / "privacy_audit.png")

    docs_log = tmp_path / "docs.netlog.json"
    docs = run_chromium(
        target / "static_index.html",
        tmp_path / "docs",
        "--dump-dom",
        "--virtual-time-budget=10000",
        f"--log-net-log={docs_log}",
    ).stdout
    assert "<title>dbt Docs</title>" in docs and docs.count("ng-scope") > 50  # Angular ran
    assert all(table in docs for table in PUBLISHED_TABLES)
    assert page_requests_off_the_machine(docs_log) == []


def test_failed_audit_publishes_nothing(first_run, tmp_path):
    root = _copy(first_run[0], tmp_path / "state")
    published = root / "published"
    before = _publication_fingerprint(published)
    key = (root / "secrets" / "pseudonym.key").read_text().strip()
    # Break two checks: the key written into an artifact, a raw email in a mart.
    (root / "target" / "leaked_key.txt").write_text(key)
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(
            "create table behavior.fixture_leak as "
            "select email as note from read_parquet(?) limit 3",
            [str(root / "raw" / "customers.parquet")],
        )
    audited = _pipeline(root, "audit")
    assert audited.returncode == 1
    assert "secret_hygiene" in audited.stderr and "FAIL" in audited.stderr
    assert "behavior.fixture_leak.note" in audited.stderr
    assert key not in audited.stdout + audited.stderr
    published_again = _pipeline(root, "publish")
    assert published_again.returncode == 1
    assert (
        "the privacy audit failed: pii_patterns, raw_identifiers, secret_hygiene"
        in published_again.stderr
    )
    assert _publication_fingerprint(published) == before


def test_failed_dbt_test_publishes_nothing(first_run, tmp_path):
    root = _copy(first_run[0], tmp_path / "state")
    published = root / "published"
    before = _publication_fingerprint(published)
    _, project = project_with_fixtures(
        tmp_path,
        root / "raw",
        {"tests/dbt/singular/assert_fixture_fails.sql": "select 1 as failure"},
    )
    done = _pipeline(root, "run", project=project)
    assert done.returncode == 1
    assert "step 4/6 build: FAILED" in done.stderr or " build: FAILED" in done.stderr
    assert "nothing was published" in done.stderr
    assert _publication_fingerprint(published) == before
    refused = _pipeline(root, "publish", project=project)
    assert refused.returncode == 1 and "assert_fixture_fails" in refused.stderr


def test_publish_refuses_a_warehouse_changed_by_dbt_by_hand_after_its_audit(first_run, tmp_path):
    """The audit and the publication record the same build id; a dbt command between them (no
    pipeline run holds the lock then) changes the warehouse's, and publish refuses it."""
    root = _copy(first_run[0], tmp_path / "state")
    published = root / "published"
    before = _publication_fingerprint(published)
    audited = _pipeline(root, "audit")
    assert audited.returncode == 0, audited.stderr[-3000:]
    audit = json.loads((root / "target" / "privacy_audit.json").read_text())
    assert audit["warehouse_build_id"] == audit["build_id"]
    key = (root / "secrets" / "pseudonym.key").read_text().strip()
    by_hand = subprocess.run(
        [str(PROJECT_DIR / ".venv" / "bin" / "dbt"), "seed", "--select", "age_bands"],
        cwd=PROJECT_DIR,
        env={**pipeline_environment(root), "DBT_ENV_SECRET_PSEUDONYM_KEY": key},
        capture_output=True,
        text=True,
        check=False,
    )
    assert by_hand.returncode == 0, by_hand.stdout[-3000:]
    refused = _pipeline(root, "publish")
    assert refused.returncode == 1
    assert f"not the audited build {audit['build_id']}" in refused.stderr
    assert _publication_fingerprint(published) == before
    assert not any(p.name.startswith(".") for p in (published / "releases").iterdir())


def _modes(folder: Path) -> dict[str, int]:
    """Relative path -> permission bits of `folder` and everything in it (not via links)."""
    return {
        str(path.relative_to(folder)): stat.S_IMODE(path.lstat().st_mode)
        for path in [folder, *folder.rglob("*")]
        if not path.is_symlink()
    }


def _unexpected(modes: dict[str, int], folder: int, file: int, root: Path) -> dict[str, str]:
    return {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (folder if (root / name).is_dir() else file)
    }


def test_raw_data_warehouse_and_artifacts_are_owner_only_and_the_publication_group_readable(
    first_run,
):
    """Invariant 10 on a real run started with umask 022 (PUBLISH_MODE unset: group)."""
    root, done = first_run
    for private in ("raw", "target", "logs", "secrets"):
        folder = root / private
        assert _unexpected(_modes(folder), 0o700, 0o600, folder) == {}, private
    # The warehouse, its WAL and its spill folder, whichever a run leaves behind.
    warehouse_files = [p for p in root.iterdir() if p.name.startswith("warehouse.duckdb")]
    assert warehouse_files
    for path in [*warehouse_files, root / "tmp"]:
        if path.exists():
            expected = 0o700 if path.is_dir() else 0o600
            assert stat.S_IMODE(path.stat().st_mode) == expected, path
    published = root / "published"
    release = (published / "current").resolve()
    assert _unexpected(_modes(release), 0o750, 0o640, release) == {}
    for folder in (published, published / "releases"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o750, folder
    assert "(group: folders 750, files 640)" in done.stderr
    assert "readable beyond its owner" not in done.stderr


def _group_to_share_with() -> grp.struct_group | None:
    mine = set(os.getgroups()) if os.geteuid() != 0 else {g.gr_gid for g in grp.getgrall()}
    return next((g for g in grp.getgrall() if g.gr_gid in mine and g.gr_gid != os.getegid()), None)


def test_the_publication_is_shared_as_publish_mode_and_publish_group_say(first_run, tmp_path):
    root = _copy(first_run[0], tmp_path / "state")
    published = root / "published"
    before = _publication_fingerprint(published)
    wrong = _pipeline(root, "publish", env={"PUBLISH_MODE": "everyone"})
    assert wrong.returncode == 2
    assert "PUBLISH_MODE must be one of group, owner, got 'everyone'" in wrong.stderr
    assert _publication_fingerprint(published) == before, "nothing published"

    owner = _pipeline(root, "publish", env={"PUBLISH_MODE": "owner"})
    assert owner.returncode == 0, owner.stderr[-2000:]
    release = (published / "current").resolve()
    assert _unexpected(_modes(release), 0o700, 0o600, release) == {}

    group = _group_to_share_with()
    if group is None:
        pytest.skip("this user belongs to no group besides its primary one")
    shared = _pipeline(root, "publish", env={"PUBLISH_GROUP": group.gr_name})
    assert shared.returncode == 0, shared.stderr[-2000:]
    release = (published / "current").resolve()
    assert _unexpected(_modes(release), 0o750, 0o640, release) == {}
    assert {p.stat().st_gid for p in [release, *release.rglob("*")]} == {group.gr_gid}
    assert published.stat().st_gid == group.gr_gid


def test_build_without_raw_data_exits_2_naming_the_tables(tmp_path):
    done = _pipeline(tmp_path, "build")
    assert done.returncode == 2
    assert "raw tables missing in" in done.stderr and "customers" in done.stderr


def test_raw_table_without_a_declared_column_exits_2_naming_it(first_run, tmp_path):
    raw = _copy(first_run[0] / "raw", tmp_path / "raw")
    customers = raw / "customers.parquet"
    trimmed = tmp_path / "customers.parquet"
    duckdb.sql(f"copy (select * exclude (email) from '{customers}') to '{trimmed}'")
    shutil.move(trimmed, customers)
    done = _pipeline(tmp_path, "build")
    assert done.returncode == 2
    assert "raw table 'customers'" in done.stderr and "email" in done.stderr
    assert not (tmp_path / "target" / "build_results.json").exists(), "no build was started"


def test_partial_raw_folder_is_never_overwritten_with_demo_data(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "customers.parquet").write_bytes(b"someone's real export")
    done = _pipeline(tmp_path, "generate")
    assert done.returncode == 2
    assert "incomplete" in done.stderr
    assert sorted(p.name for p in raw.iterdir()) == ["customers.parquet"]
    assert (raw / "customers.parquet").read_bytes() == b"someone's real export"
