"""Superset on the publication, as a BI user meets it: log in through the login form in headless
Chromium, open the dashboard, and see the publication's numbers (in the chart data the page
fetched and in the rendered table cells), with no request leaving the machine. The Superset
user reaches nothing but the publication, and a new release shows after a refresh."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import requests

from browser import LOCAL_SCHEMES, attempted_requests
from cdp import Chromium
from privseg.core.settings import PROJECT_DIR

DASHBOARD = "/superset/dashboard/privacy-segments/"
CHARTS = 6
ARTIFACTS = PROJECT_DIR / "target" / "test-artifacts"
CONTROL_URL = "http://control.invalid/"

# What each chart must show, computed here from the publication (DuckDB 2.x, read-only).
EXPECTED = {
    "Publication": "select as_of_date, release from publication_info",
    "Segment sizes": """
        select segment_name, member_count as members from rpt_segment_summary
        where cell_level = 'segment_total'""",
    "Segment profiles by age band and region": """
        select segment_name, age_band, region, member_count, avg_lifetime_value_eur,
            avg_orders_in_window, avg_recency_days, repeat_buyer_share
        from rpt_segment_summary where cell_level = 'cell'
        order by segment_name, age_band, region""",
    "Campaign response by segment (all campaigns, released cells)": """
        select segment_name,
            count(distinct campaign_id) as campaigns,
            sum(recipient_count) as recipients,
            sum(open_count) / sum(recipient_count) as open_rate,
            sum(click_count) / sum(recipient_count) as click_rate,
            sum(conversion_count) / sum(recipient_count) as conversion_rate,
            sum(unsubscribe_count) / sum(recipient_count) as unsubscribe_rate,
            sum(revenue_eur) / sum(recipient_count) as revenue_per_recipient
        from rpt_campaign_performance where cell_level = 'cell'
        group by segment_name order by recipients desc""",
    "Cohort retention (share of each first-purchase cohort buying again, by month)": """
        select months_since_first_purchase, strftime(cohort_month, '%Y-%m') as cohort,
            retention_rate
        from rpt_cohort_retention""",
    "Lifetime value per member by first-purchase cohort (EUR)": """
        select strftime(cohort_month, '%Y-%m') as cohort,
            observed_value_per_member_eur as observed_value_per_member,
            projected_value_per_member_eur as projected_value_per_member
        from rpt_lifetime_value where cell_level = 'cohort_total'""",
}
TABLE_CHARTS = (
    "Publication",
    "Segment profiles by age band and region",
    "Campaign response by segment (all campaigns, released cells)",
)


def _expected(publication: Path) -> dict[str, list[dict]]:
    with duckdb.connect(str(publication), read_only=True) as con:
        out = {}
        for chart, sql in EXPECTED.items():
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            out[chart] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return out


def _normal(value):
    """One comparable form for a value from DuckDB or from Superset's JSON."""
    if isinstance(value, date):  # Superset sends dates as epoch milliseconds
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return round(float(value), 9)
    return value


def _rows(rows: list[dict], keys: list[str]) -> list[tuple]:
    return sorted(tuple(_normal(row[k]) for k in keys) for row in rows)


def _cell_matches(text: str, expected) -> bool:
    """A rendered cell shows the value (as formatted: thousands separators, %, rounding); a
    NULL (a mean or rate the release withholds) shows as Superset's N/A."""
    if expected is None:
        return text == "N/A"
    if isinstance(expected, date):
        return text == expected.isoformat()
    if not isinstance(expected, Decimal | int | float):
        return text == str(expected)
    number = text.replace(",", "")
    scale = 1.0
    if number.endswith("%"):
        number, scale = number[:-1], 0.01
    if not re.fullmatch(r"-?\d+(\.\d+)?", number):
        return False
    decimals = len(number.split(".")[1]) if "." in number else 0
    tolerance = 0.5 * 10**-decimals * scale + 1e-12
    return math.isclose(float(number) * scale, float(expected), abs_tol=tolerance)


def _off_the_machine(net_log: Path) -> list[str]:
    """Requests the page started to anything but this machine (loopback)."""
    return [
        r["url"]
        for r in attempted_requests(net_log)
        if urlsplit(r["url"]).scheme not in LOCAL_SCHEMES
        and urlsplit(r["url"]).hostname not in ("127.0.0.1", "localhost")
        and r["initiator"] != "not an origin"
    ]


def _open_dashboard(bi, work: Path) -> Chromium:
    """Log in through the login form as a user would, then open the dashboard and wait until
    every chart has its data and every table its rows."""
    browser = Chromium(work, work / "netlog.json", width=1600, height=3000)
    try:
        browser.navigate(f"{bi.url}/login/")
        browser.wait_for("!!document.querySelector('input#username')", what="the login form")
        browser.type_into("input#username", bi.admin)
        browser.type_into("input#password", bi.password)
        browser.press_enter()
        browser.wait_for("location.pathname.startsWith('/superset/welcome')", what="logging in")
        browser.clear_events()
        browser.navigate(f"{bi.url}{DASHBOARD}")
        browser.wait_for(
            f"""(() => {{
                const charts = document.querySelectorAll('[data-test="chart-grid-component"]');
                const tables = Array.from(charts).filter(c => c.dataset.testVizType === 'table');
                return charts.length === {CHARTS}
                    && !document.querySelector('[data-test="loading-indicator"], .loading')
                    && tables.every(t => t.querySelectorAll('tbody tr').length > 0);
            }})()""",
            what="every chart of the dashboard to render",
        )
    except BaseException:
        browser.close()
        raise
    return browser


def _chart_data(browser: Chromium) -> dict[str, list[dict]]:
    """The rows of each chart's /api/v1/chart/data response, by chart name."""
    names = dict(
        browser.evaluate(
            """Array.from(document.querySelectorAll('[data-test="chart-grid-component"]'))
                .map(c => [c.dataset.testChartId, c.dataset.testChartName])"""
        )
    )
    data = {}
    for response in browser.responses("/api/v1/chart/data"):
        assert response["status"] == 200, response["body"][:500]
        chart = names[str(json.loads(response["request"])["form_data"]["slice_id"])]
        data[chart] = json.loads(response["body"])["result"][0]["data"]
    return data


def _rendered_tables(browser: Chromium) -> dict[str, dict]:
    return browser.evaluate(
        """Object.fromEntries(
            Array.from(document.querySelectorAll('[data-test="chart-grid-component"]'))
                .filter(c => c.dataset.testVizType === 'table')
                .map(c => [c.dataset.testChartName, {
                    header: Array.from(c.querySelectorAll('thead th'))
                        .map(th => th.innerText.trim()),
                    rows: Array.from(c.querySelectorAll('tbody tr')).map(tr =>
                        Array.from(tr.querySelectorAll('td')).map(td => td.innerText.trim())),
                }]))"""
    )


def test_setup_prints_where_to_log_in_and_keeps_its_secrets_private(bi):
    assert f"{bi.url}{DASHBOARD}" in bi.setup_output
    assert f"log in as '{bi.admin}'" in bi.setup_output
    assert bi.password in bi.setup_output, "a new password is shown once"
    assert f"duckdb:///{bi.publication} (read-only)" in bi.setup_output
    assert bi.state_dir.stat().st_mode & 0o777 == 0o700
    for secret in ("admin_password", "secret_key"):
        assert (bi.state_dir / secret).stat().st_mode & 0o777 == 0o600, secret
    assert len(bi.password) >= 20


def test_dashboard_in_a_browser_shows_the_publication_and_stays_on_the_machine(superset, tmp_path):
    bi = superset
    headers = requests.get(f"{bi.url}/login/", timeout=30).headers
    policy = headers["Content-Security-Policy"]
    assert "img-src 'self' blob: data:;" in policy and "connect-src 'self';" in policy
    assert "Access-Control-Allow-Origin" not in headers, "no other site may call Superset"

    expected = _expected(bi.publication)
    browser = _open_dashboard(bi, tmp_path / "browser")
    try:
        data = _chart_data(browser)
        tables = _rendered_tables(browser)
        # Superset's frontend renders a telemetry image from a remote host on every page: it
        # is in the page, and the content security policy keeps the browser from loading it.
        telemetry = browser.evaluate(
            "Array.from(document.images).map(i => i.src).filter(s => s.includes('scarf.sh'))"
        )
        shot = tmp_path / "superset_dashboard.png"
        browser.screenshot(shot)
        # The detector's control: a navigation the page starts to a remote host is logged.
        browser.evaluate(f"location.href = {json.dumps(CONTROL_URL)}; true")
        time.sleep(3)
    finally:
        browser.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "superset_dashboard.png")

    # The chart data the page fetched equals the publication, chart by chart.
    assert set(data) == set(EXPECTED)
    for chart, rows in expected.items():
        assert rows, f"{chart}: nothing to compare (empty in the publication)"
        keys = list(rows[0])
        assert _rows(data[chart], keys) == _rows(rows, keys), chart

    # So do the rendered table cells: each row shown is a row of the publication (matched on
    # its text columns), and every row of the publication is shown.
    for chart in TABLE_CHARTS:
        shown, rows = tables[chart]["rows"], expected[chart]
        key_columns = [i for i, value in enumerate(rows[0].values()) if isinstance(value, str)]
        by_key = {tuple(str(list(row.values())[i]) for i in key_columns): row for row in rows}
        assert len(shown) == len(rows) == len(by_key), chart
        for cells in shown:
            row = by_key[tuple(cells[i] for i in key_columns)]
            assert len(cells) == len(row), (chart, cells)
            for text, value in zip(cells, row.values(), strict=True):
                assert _cell_matches(text, value), (chart, text, value)
    profiles = tables["Segment profiles by age band and region"]["rows"]
    assert profiles == sorted(profiles, key=lambda r: r[:3]), "sorted by segment, band, region"
    recipients = [int(r[2].replace(",", "")) for r in tables[TABLE_CHARTS[2]]["rows"]]
    assert recipients == sorted(recipients, reverse=True), "largest segments first"
    assert tables["Segment profiles by age band and region"]["header"][:4] == [
        "Segment",
        "Age band",
        "Region",
        "Members",
    ]

    assert telemetry, "the frontend's telemetry image is in the page"
    assert set(_off_the_machine(tmp_path / "browser" / "netlog.json")) == {CONTROL_URL}


DISABLED = "disabled by configuration"  # DuckDB's enable_external_access = false
ATTACKS = {  # what a user tries in SQL Lab -> why it is refused
    "read a raw file": ("select count(*) from read_parquet('{raw}/customers.parquet')", DISABLED),
    "attach the warehouse": ("attach '{warehouse}' as warehouse (read_only)", DISABLED),
    "read any file": ("select * from read_csv('/etc/passwd')", DISABLED),
    "list files": ("select * from glob('{raw}/*')", DISABLED),
    "write a file": ("copy (select * from rpt_segment_summary) to '{leak}'", DISABLED),
    "load an extension": ("install httpfs", DISABLED),
    "turn external access back on": (
        "set enable_external_access = true",
        "Cannot change enable_external_access",
    ),
    "write to the publication": ("create table main.leak as select 1 as x", "DDL/DML"),
}


def _sql(session, bi, database_id: int, sql: str):
    return session.post(
        f"{bi.url}/api/v1/sqllab/execute/",
        json={"database_id": database_id, "sql": sql, "runAsync": False, "schema": "main"},
        timeout=60,
    )


def test_the_superset_user_reaches_only_the_publication(superset, tmp_path):
    bi = superset
    session = bi.api()
    databases = session.get(f"{bi.url}/api/v1/database/", timeout=30).json()["result"]
    assert len(databases) == 1
    (database,) = databases
    assert database["allow_dml"] is False and database["allow_file_upload"] is False
    connection = session.get(f"{bi.url}/api/v1/database/{database['id']}/connection", timeout=30)
    assert connection.json()["result"]["sqlalchemy_uri"] == f"duckdb:///{bi.publication}"

    answer = _sql(session, bi, database["id"], "select release from publication_info")
    assert answer.status_code == 200, answer.text[:500]
    with duckdb.connect(str(bi.publication), read_only=True) as con:
        assert answer.json()["data"] == [
            {"release": con.execute("select release from publication_info").fetchone()[0]}
        ]

    paths = {"raw": bi.root / "raw", "warehouse": bi.root / "warehouse.duckdb"}
    assert all(path.exists() for path in paths.values()), "what is refused is there"
    leak = tmp_path / "leak.csv"
    for attack, (sql, reason) in ATTACKS.items():
        refused = _sql(session, bi, database["id"], sql.format(**paths, leak=leak))
        assert refused.status_code >= 400 and reason in refused.text, (attack, refused.text[:500])
    assert not leak.exists()

    # No other database: not the warehouse, not a read-write publication, not SQLite.
    for uri in (
        f"duckdb:///{bi.root / 'warehouse.duckdb'}",
        f"duckdb:///{bi.publication}?access_mode=read_write",
        f"sqlite:///{bi.state_dir / 'superset.db'}",
    ):
        added = session.post(
            f"{bi.url}/api/v1/database/",
            json={"database_name": "other", "sqlalchemy_uri": uri},
            timeout=60,
        )
        assert added.status_code >= 400, (uri, added.text[:500])
    assert len(session.get(f"{bi.url}/api/v1/database/", timeout=30).json()["result"]) == 1

    # No upload into the publication.
    upload = session.post(
        f"{bi.url}/api/v1/database/{database['id']}/upload/",
        data={"type": "csv", "table_name": "uploaded", "schema": "main"},
        files={"file": ("uploaded.csv", b"x\n1\n", "text/csv")},
        timeout=60,
    )
    assert upload.status_code >= 400, upload.text[:500]

    # Whatever an admin saves as the connection's settings, it stays read-only and closed.
    original = connection.json()["result"]["extra"]
    opened = {"engine_params": {"connect_args": {"read_only": False, "config": {}}}}
    opened["engine_params"]["connect_args"]["config"]["enable_external_access"] = True
    saved = session.put(
        f"{bi.url}/api/v1/database/{database['id']}", json={"extra": json.dumps(opened)}, timeout=60
    )
    assert saved.status_code == 200, saved.text[:500]
    try:
        for attack in ("read a raw file", "attach the warehouse", "write a file"):
            sql, reason = ATTACKS[attack]
            refused = _sql(session, bi, database["id"], sql.format(**paths, leak=leak))
            assert refused.status_code >= 400 and reason in refused.text, (attack, refused.text)
        assert not leak.exists()
    finally:
        restored = session.put(
            f"{bi.url}/api/v1/database/{database['id']}",
            json={"extra": original},
            timeout=60,
        )
        assert restored.status_code == 200, restored.text[:500]
    after = session.get(f"{bi.url}/api/v1/database/{database['id']}/connection", timeout=30)
    assert after.json()["result"]["extra"] == original


def test_a_new_release_shows_after_a_refresh(superset, tmp_path):
    """Superset keeps running while `make run` publishes a new release; the dashboard shows
    it on the next load (the connection follows the `current` link, nothing is cached), and
    running `make dashboard`'s setup again updates the dashboard in place."""
    bi = superset
    before = json.loads((bi.publish_dir / "publication.json").read_text())
    bi.publish_release(bi.second_as_of)
    after = json.loads((bi.publish_dir / "publication.json").read_text())
    assert after["as_of_date"] == bi.second_as_of.isoformat() != before["as_of_date"]

    again = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "superset_dashboard.py"), "setup"],
        env=bi.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert bi.password not in again.stdout, "the password is shown only when it is made"

    browser = _open_dashboard(bi, tmp_path / "browser")
    try:
        publication = _rendered_tables(browser)["Publication"]["rows"]
        charts = browser.evaluate(
            "document.querySelectorAll('[data-test=\"chart-grid-component\"]').length"
        )
    finally:
        browser.close()
    assert publication == [[bi.second_as_of.isoformat(), after["release"]]]
    assert charts == CHARTS, "re-importing updated the dashboard, it added no chart"
    session = bi.api()
    listed = session.get(f"{bi.url}/api/v1/chart/", timeout=30).json()
    assert listed["count"] == CHARTS
