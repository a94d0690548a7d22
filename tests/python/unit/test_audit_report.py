"""The HTML audit report: content, escaping, charts, self-containment, and a real browser.

The browser tests run Debian's headless Chromium on the rendered file, check the DOM it
builds, take a screenshot (kept in target/test-artifacts/privacy_audit_sample.png for a person to
look at), and read Chromium's net log to prove the page asks for nothing over the network.
A negative control page with a remote image shows that the net-log detector does catch a
request. Every Chromium run sends its traffic to a closed port on loopback (--proxy-server)
and resolves no host name, so even the control's request never leaves the machine.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from browser import page_requests_off_the_machine, run_chromium
from privseg import report as audit_report

PROJECT_DIR = Path(__file__).resolve().parents[3]
ARTIFACT = PROJECT_DIR / "target" / "test-artifacts" / "privacy_audit_sample.png"
SECTION_IDS = ["summary", "checks", "published-tables", "release", "charts", "ropa", "method"]
XSS_NAME = 'fct_<script>alert("x")</script>'


def lineage(path: list[str], classification: str, category: str, steps: list[str]) -> dict:
    return {
        "source": path[-1],
        "source_classification": classification,
        "data_category": category,
        "steps": steps,
        "path": path,
    }


def sample_report() -> dict:
    """A made-up but realistic audit report: one failed check, one leaking column."""
    return {
        "generated_at": "2026-11-29T18:00:00+00:00",
        "build_id": "3f1c9a52-7d2e-4b1a-9c55-0e8f6a1d2b34",
        "warehouse": "data/warehouse.duckdb",
        "as_of": "2026-11-29",
        "k": 10,
        "l": 2,
        "status": "fail",
        "checks": [
            {
                "name": "build_results",
                "claim": "every node of the build succeeded",
                "status": "pass",
                "findings": [],
                "seconds": 0.01,
            },
            {
                "name": "published_k_anonymity",
                "claim": "published tables are 10-anonymous and 2-diverse",
                "status": "pass",
                "findings": [],
                "seconds": 0.42,
            },
            {
                "name": "lineage",
                "claim": "every mart column traces to sources through hashing or aggregation",
                "status": "fail",
                "findings": [
                    "fct_contact_list.email: traces to shop.customers.email "
                    "(direct_identifier) without hashing or aggregation"
                ],
                "seconds": 1.2,
            },
            {
                "name": "secret_hygiene",
                "claim": "the key is in no artifact, log or database file",
                "status": "pass",
                "findings": [],
                "seconds": 2.31,
            },
        ],
        "published_tables": [
            {
                "name": "fct_segment_profiles",
                "description": "One row per consenting customer, generalized for BI.",
                "kind": "row_level",
                "rows": 4764,
                "quasi_identifiers": ["primary_segment", "age_band", "region"],
                "sensitive_attribute": "top_category",
                "subject_count_column": None,
                "classes": 89,
                "smallest_class": 10,
                "max_risk": 0.1,
                "avg_risk": 0.019,
                # One huge class among many small ones.
                "class_size_histogram": [
                    {"size": 10, "classes": 3},
                    {"size": 11, "classes": 5},
                    {"size": 14, "classes": 9},
                    {"size": 23, "classes": 30},
                    {"size": 41, "classes": 28},
                    {"size": 97, "classes": 13},
                    {"size": 2310, "classes": 1},
                ],
                "columns": [
                    {
                        "name": "age_band",
                        "description": "Age in ten-year bands.",
                        "classification": "quasi_identifier",
                        "data_category": "user.demographic.age_range",
                        "lineage": [
                            lineage(
                                [
                                    "fct_segment_profiles.age_band",
                                    "int_segment_members_described.age_band",
                                    "int_customers_pseudonymized.age_band",
                                    "stg_shop__customers.birth_date",
                                    "shop.customers.birth_date",
                                ],
                                "quasi_identifier",
                                "user.demographic.date_of_birth",
                                ["generalized", "consent_filtered", "passed_through"],
                            )
                        ],
                    },
                    {
                        "name": "customer_key",
                        "description": "Keyed HMAC pseudonym of the customer.",
                        "classification": "pseudonym",
                        "data_category": "user.unique_id.pseudonymous",
                        "lineage": [
                            lineage(
                                [
                                    "fct_segment_profiles.customer_key",
                                    "int_customers_pseudonymized.customer_key",
                                    "stg_shop__customers.customer_id",
                                    "shop.customers.customer_id",
                                ],
                                "direct_identifier",
                                "user.unique_id",
                                ["hashed", "passed_through"],
                            )
                        ],
                    },
                ],
            },
            {
                "name": "rpt_segment_performance",
                "description": "One row per segment and week; small cells suppressed.",
                "kind": "aggregated",
                "rows": 412,
                "quasi_identifiers": ["segment", "week"],
                "sensitive_attribute": None,
                "subject_count_column": "subjects",
                "classes": 412,
                "smallest_class": 12,
                "max_risk": 0.083,
                "avg_risk": 0.004,
                "class_size_histogram": [
                    {"size": 12, "classes": 40},
                    {"size": 150, "classes": 300},
                    {"size": 900, "classes": 72},
                ],
                "columns": [
                    {
                        "name": "revenue",
                        "description": "Sum of order value.",
                        "classification": "aggregate",
                        "data_category": "user.behavior.purchase_history",
                        "lineage": [
                            lineage(
                                ["rpt_segment_performance.revenue", "shop.orders.amount"],
                                "behavioral",
                                "user.behavior.purchase_history",
                                ["consent_filtered", "aggregated"],
                            )
                        ],
                    }
                ],
            },
            {
                # A table whose name and a column come from metadata a person could edit.
                "name": XSS_NAME,
                "description": "<b>not bold</b>",
                "kind": "row_level",
                "rows": 100,
                "quasi_identifiers": ["region"],
                "classes": 3,
                "smallest_class": 4,
                "max_risk": 0.25,
                "avg_risk": 0.03,
                "class_size_histogram": [{"size": 4, "classes": 1}, {"size": 48, "classes": 2}],
                "columns": [
                    {
                        "name": "email",
                        "classification": "direct_identifier",
                        "data_category": "user.contact.email",
                        "lineage": [
                            lineage(
                                [
                                    "fct_contact_list.email",
                                    "stg_shop__customers.email",
                                    "shop.customers.email",
                                ],
                                "direct_identifier",
                                "user.contact.email",
                                ["passed_through"],
                            )
                        ],
                    }
                ],
            },
        ],
        "segment_sizes": [
            {"segment": "champions", "members": 812, "published": True},
            {"segment": "loyal", "members": 1540, "published": True},
            {"segment": "at_risk", "members": 23110, "published": True},
            {"segment": "new_customers", "members": 96, "published": True},
            {"segment": "hibernating", "members": 4, "published": False},
        ],
        "consent_coverage": [
            {"purpose": "analytics", "granted": 6880, "subjects": 10000},
            {"purpose": "marketing_email", "granted": 4120, "subjects": 10000},
            {"purpose": "personalization", "granted": 15, "subjects": 10000},
        ],
        "quarantine": [
            {"source_table": "shop.customers", "reason": "wrong_type", "rows": 12},
            {"source_table": "shop.orders", "reason": "wrong_type", "rows": 3},
            {"source_table": "shop.orders", "reason": "duplicate_key", "rows": 1480},
            {"source_table": "web.events", "reason": "missing_key", "rows": 1},
        ],
        "erasure": {"requests": 40, "tombstones": 40, "found_after_erasure": 0},
        "release": {
            "differencing": {
                "status": "fail",
                "k": 10,
                "magnitude_rule": {"dominance": "p_percent", "p": 10},
                "variables": 2517,
                "released_counts": 1581,
                "count_targets": 2379,
                "magnitude_targets": 1386,
                "seconds": {"read": 0.6, "bound": 17.4},
                "tables": {
                    "fct_segment_profiles": {
                        "rows_published": 82,
                        "rows_withheld": 58,
                        "magnitudes_published": 0,
                        "magnitudes_withheld": 0,
                        "exposures": 1,
                    },
                    "rpt_segment_performance": {
                        "rows_published": 412,
                        "rows_withheld": 9,
                        "magnitudes_published": 800,
                        "magnitudes_withheld": 12,
                        "exposures": 1,
                    },
                },
                "exposures": [
                    {
                        "kind": "cell",
                        "cell": "analytics_buyers [age_band=35-44, primary_segment=at_risk]",
                        "tables": ["fct_segment_profiles"],
                        "low": 0.0,
                        "high": 4.0,
                        "required": "0, at least 10, or an interval at least 10 wide",
                    },
                    {
                        "kind": "magnitude",
                        "cell": "revenue_eur of analytics_buyers [segment=at_risk, week=w07]",
                        "tables": ["rpt_segment_performance"],
                        "low": None,
                        "high": None,
                        "required": "at least 10% either side of the true sum",
                    },
                ],
            },
            "magnitude_rules": {
                "status": "pass",
                "rule": {"dominance": "p_percent", "p": 10},
                "tables": {
                    "rpt_segment_performance": {
                        "name": "rpt_segment_performance",
                        "checked": 790,
                        "withheld": 10,
                        "broken": 0,
                    }
                },
            },
        },
        "ropa": {
            "controller": "Example Retail Ltd (made up)",
            "generated_from": "dbt metadata",
            "activities": [
                {
                    "purpose": "analytics",
                    "description": "Segment customers by purchase behaviour for reporting.",
                    "legal_basis": "consent (GDPR art. 6(1)(a))",
                    "data_use": "analytics.reporting.campaign_insights",
                    "data_subjects": "customers",
                    "data_categories": [
                        "user.behavior.purchase_history",
                        "user.demographic.age_range",
                    ],
                    "recipients": [
                        {
                            "name": "segment_dashboard",
                            "type": "dashboard",
                            "owner": "Marketing analytics",
                            "description": "Segment sizes and performance.",
                        }
                    ],
                    "retention": [
                        {
                            "data_category": "orders",
                            "retention_days": 1095,
                            "basis": "three years for campaign measurement",
                        }
                    ],
                    "models": ["fct_orders", "fct_segment_profiles"],
                    "safeguards": ["keyed HMAC pseudonyms", "k-anonymity k=10"],
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def rendered() -> str:
    return audit_report.render_html(sample_report())


def section_html(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', page, re.S)
    assert match, f"section {section_id} missing"
    return match.group(1)


def svg_by_id(page: str, svg_id: str) -> str:
    match = re.search(rf'<svg id="{re.escape(svg_id)}".*?</svg>', page, re.S)
    assert match, f"chart {svg_id} missing"
    return match.group(0)


def bars(svg: str) -> list[str]:
    return re.findall(r'<rect class="bar[ "][^>]*>', svg)


# ---------------------------------------------------------------------------------------------
# Pure rendering


def test_every_section_is_present_with_a_heading(rendered: str) -> None:
    for section_id in SECTION_IDS:
        assert f"<h2>{audit_report.SECTIONS[section_id]}</h2>" in section_html(rendered, section_id)


def test_summary_shows_verdict_and_run_facts(rendered: str) -> None:
    summary = section_html(rendered, "summary")
    assert "banner-fail" in summary and ">FAIL<" in summary
    assert "1 of 4 checks failed: lineage" in summary
    for fact in ("3f1c9a52-7d2e-4b1a-9c55-0e8f6a1d2b34", "2026-11-29", "data/warehouse.duckdb"):
        assert fact in summary
    passing = audit_report.render_html({**sample_report(), "status": "pass"})
    assert "banner-pass" in section_html(passing, "summary")


def test_failed_checks_and_their_findings_are_shown(rendered: str) -> None:
    checks = section_html(rendered, "checks")
    failed_row = re.search(r'<tr class="row-fail">(.*?)</tr>', checks, re.S)
    assert failed_row, "the failed check is not highlighted"
    assert "<code>lineage</code>" in failed_row.group(1)
    assert "FAIL" in failed_row.group(1)
    assert "fct_contact_list.email: traces to shop.customers.email" in failed_row.group(1)
    assert checks.count('class="row-fail"') == 1


def test_lineage_paths_and_protection_badges(rendered: str) -> None:
    tables = section_html(rendered, "published-tables")
    arrow = ' <span class="arrow">←</span> '
    assert (
        arrow.join(
            [
                "fct_segment_profiles.age_band",
                "int_segment_members_described.age_band",
                "int_customers_pseudonymized.age_band",
                "stg_shop__customers.birth_date",
                "shop.customers.birth_date",
            ]
        )
        in tables
    )
    for step in ("generalized", "consent_filtered", "hashed", "aggregated"):
        css = audit_report.STEP_STYLES[step]
        assert re.search(rf'<span class="badge {css}"[^>]*>{step}</span>', tables), step
    # The unprotected email is alarming; the hashed customer id is not.
    assert tables.count("step-alarm") == 2  # the legend's example + the email column
    alarm_rows = re.findall(r'<tr class="row-alarm">(.*?)</tr>', tables, re.S)
    assert len(alarm_rows) == 1 and "email" in alarm_rows[0]
    # A smallest class below k is called out.
    assert "below k=10" in tables


def test_names_from_metadata_are_escaped(rendered: str) -> None:
    assert "<script" not in rendered.lower()
    assert "&lt;script&gt;" in rendered
    assert "<b>not bold</b>" not in rendered
    assert "&lt;b&gt;not bold&lt;/b&gt;" in rendered


def test_charts_have_one_bar_per_segment_purpose_and_reason(rendered: str) -> None:
    charts = section_html(rendered, "charts")
    report = sample_report()
    segments = bars(svg_by_id(charts, "chart-segments"))
    assert len(segments) == len(report["segment_sizes"])
    assert sum("withheld" in bar for bar in segments) == 1
    assert len(bars(svg_by_id(charts, "chart-consent"))) == len(report["consent_coverage"])
    reasons = {row["reason"] for row in report["quarantine"]}
    assert len(bars(svg_by_id(charts, "chart-quarantine"))) == len(reasons)
    assert "<title>wrong_type: shop.customers: 12; shop.orders: 3</title>" in charts
    assert "68.8% (6,880 of 10,000)" in charts
    for table in report["published_tables"]:
        assert 'class="k-line"' in svg_by_id(
            charts, f"chart-classes-{audit_report.slug(table['name'])}"
        )


def test_tiny_bars_stay_visible_next_to_a_huge_one(rendered: str) -> None:
    segments = svg_by_id(section_html(rendered, "charts"), "chart-segments")
    widths = [
        float(w) for w in re.findall(r'<rect class="bar[^"]*"[^>]*width="([\d.]+)"', segments)
    ]
    assert max(widths) > 100 and min(widths) >= 2


def test_class_histogram_counts_every_class_and_marks_those_below_k() -> None:
    histogram = [
        {"size": 3, "classes": 2},
        {"size": 12, "classes": 5},
        {"size": 4000, "classes": 1},
    ]
    svg = audit_report.histogram_chart("h", "sizes", histogram, 10)
    counts = [int(c) for c in re.findall(r": ([\d,]+) classes</title>", svg)]
    assert sum(counts) == 8
    assert len(re.findall(r'class="bar below-k"', svg)) == 1
    bins = audit_report.class_size_bins(4000, 10)
    assert 10 in [low for low, _ in bins], "k must be a bin edge"
    assert bins[0][0] == 1 and bins[-1][1] > 4000
    assert all(low < high for low, high in bins)


def test_empty_data_renders_no_data(rendered: str) -> None:
    report = sample_report()
    report["segment_sizes"] = []
    report["quarantine"] = []
    charts = section_html(audit_report.render_html(report), "charts")
    assert "no data</text>" in svg_by_id(charts, "chart-segments")
    # An empty quarantine summary is a fact, not missing data.
    assert "no row was quarantined</text>" in svg_by_id(charts, "chart-quarantine")


def test_the_release_section_explains_the_attacker_and_shows_each_table(rendered: str) -> None:
    release = section_html(rendered, "release")
    assert "holds every table of this publication at once" in release
    assert "p% rule with p = 10" in release and "at least 10 contributors" in release
    for fact in ("2,517", "1,581", "2,379", "1,386", "18.0 s"):
        assert f"<dd>{fact}</dd>" in release, fact
    rows = re.findall(r"<tr class=\"([^\"]*)\"><td>.*?<code>([^<]+)</code>", release, re.S)
    assert [(css, name) for css, name in rows] == [
        ("row-fail", "fct_segment_profiles"),
        ("row-fail", "rpt_segment_performance"),
    ]
    assert "no magnitudes" in release  # the row-level table
    exposures = release.split('class="grid compact exposures"')[1]
    assert "analytics_buyers [age_band=35-44, primary_segment=at_risk]" in exposures
    assert "0..4" in exposures
    # A withheld sum's range would be close to the value withheld: not shown.
    assert exposures.count("not shown") == 1


def test_the_release_section_lists_a_bounded_number_of_exposures() -> None:
    report = sample_report()
    differencing = report["release"]["differencing"]
    differencing["exposures"] = differencing["exposures"][:1] * 130
    release = section_html(audit_report.render_html(report), "release")
    assert release.count("<td>cell</td>") == 100
    assert "… and 30 more in <code>privacy_audit.json</code>" in release
    assert "<dd>130</dd>" in release


@pytest.mark.parametrize(
    "missing",
    ["ropa", "segment_sizes", "consent_coverage", "quarantine", "published_tables", "release"],
)
def test_a_missing_optional_section_says_not_available(missing: str) -> None:
    report = sample_report()
    del report[missing]
    page = audit_report.render_html(report)
    label = audit_report.OPTIONAL_PARTS[missing]
    assert f"Not available: this report holds no {label}." in page
    assert "Not available in this report: " + label in section_html(page, "summary")
    for section_id in SECTION_IDS:
        section_html(page, section_id)


def test_a_partial_report_renders() -> None:
    page = audit_report.render_html({"build_id": "b1", "checks": [{"name": "build_results"}]})
    assert "INCOMPLETE" in section_html(page, "summary")
    assert "Not available" in section_html(page, "ropa")
    broken = sample_report()
    broken["published_tables"][0]["columns"][0]["lineage"] = None
    broken["segment_sizes"].append({"segment": None, "members": "n/a"})
    broken["erasure"] = "unknown"
    audit_report.render_html(broken)
    audit_report.render_html({})


def test_nothing_points_outside_the_file(rendered: str) -> None:
    references = re.findall(r'(?:src|href)\s*=\s*["\']?([^"\'\s>]*)', rendered, re.I)
    references += re.findall(r"url\(\s*['\"]?([^)'\"]*)", rendered, re.I)
    assert references, "expected at least the in-page navigation links"
    for reference in references:
        assert not re.match(r"(https?:)?//", reference.strip(), re.I), reference
        assert reference.startswith("#"), reference
    assert "http://" not in rendered and "https://" not in rendered
    assert "<script" not in rendered.lower() and "@import" not in rendered
    assert "<link" not in rendered and "<img" not in rendered


def test_content_security_policy_is_set(rendered: str) -> None:
    head = rendered.split("</head>")[0]
    assert '<meta charset="utf-8">' in head
    assert (
        '<meta http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;; '
        'style-src &#x27;unsafe-inline&#x27;; img-src data:">'
    ) in head
    assert head.index("Content-Security-Policy") < head.index("<style>")
    assert "@media print" in rendered


def test_main_renders_a_saved_report_atomically(tmp_path: Path) -> None:
    report_path = tmp_path / "privacy_audit.json"
    report_path.write_text(json.dumps(sample_report()))
    out = tmp_path / "out" / "audit.html"
    assert audit_report.main(["--report", str(report_path), "--out", str(out)]) == 0
    assert out.read_text() == audit_report.render_html(sample_report())
    assert [p.name for p in out.parent.iterdir()] == ["audit.html"], "temp file left behind"
    # Without --out the page goes beside the report.
    assert audit_report.main(["--report", str(report_path)]) == 0
    assert (tmp_path / "privacy_audit.html").is_file()


def test_main_rejects_a_missing_or_foreign_report(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "audit.html"
    assert audit_report.main(["--report", str(tmp_path / "nope.json"), "--out", str(out)]) == 2
    assert "no audit report at" in caplog.text
    for content in ("not json", "[1, 2]", '{"nodes": {}}'):
        (tmp_path / "bad.json").write_text(content)
        assert audit_report.main(["--report", str(tmp_path / "bad.json"), "--out", str(out)]) == 2
    assert "is not a privacy audit report" in caplog.text
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Headless Chromium


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("report") / "privacy_audit.html"
    page.write_text(audit_report.render_html(sample_report()), encoding="utf-8")
    return page


def test_chromium_renders_every_section_and_chart(report_page: Path, tmp_path: Path) -> None:
    dom = run_chromium(report_page, tmp_path, "--dump-dom").stdout
    for section_id in SECTION_IDS:
        heading = audit_report.SECTIONS[section_id]
        assert re.search(rf'<section id="{section_id}"><h2>{heading}</h2>', dom), section_id
    charts = section_html(dom, "charts")
    for chart_id in ("chart-segments", "chart-consent", "chart-quarantine"):
        assert len(bars(svg_by_id(charts, chart_id))) >= 3, chart_id
    assert charts.count('class="k-line"') == len(sample_report()["published_tables"])
    assert "&lt;script&gt;" in dom and "<script" not in dom.lower()


def test_chromium_screenshot_is_saved_as_artifact(report_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "privacy_audit.png"
    run_chromium(report_page, tmp_path, f"--screenshot={shot}", "--window-size=1280,4000")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACT)


def test_the_report_makes_no_network_request(report_page: Path, tmp_path: Path) -> None:
    net_log = tmp_path / "netlog.json"
    run_chromium(
        report_page,
        tmp_path,
        f"--log-net-log={net_log}",
        "--net-log-capture-mode=Default",
        "--dump-dom",
    )
    assert page_requests_off_the_machine(net_log) == []


def test_the_network_detector_catches_a_remote_image(tmp_path: Path) -> None:
    """Negative control: a page (no CSP) with a remote image must show up as a request."""
    page = tmp_path / "control.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        '<img src="http://192.0.2.1/x.png" alt=""><p>control</p></body></html>'
    )
    net_log = tmp_path / "netlog.json"
    run_chromium(
        page, tmp_path, f"--log-net-log={net_log}", "--net-log-capture-mode=Default", "--dump-dom"
    )
    assert page_requests_off_the_machine(net_log) == ["http://192.0.2.1/x.png"]


def test_the_csp_blocks_a_remote_image_slipped_into_the_report(
    report_page: Path, tmp_path: Path
) -> None:
    """The same remote image inside the report (as a bug might add it) is never requested."""
    html_text = report_page.read_text(encoding="utf-8")
    page = tmp_path / "report_with_image.html"
    page.write_text(
        html_text.replace("<main>", '<main><img src="http://192.0.2.1/x.png" alt="">', 1),
        encoding="utf-8",
    )
    net_log = tmp_path / "netlog.json"
    run_chromium(
        page, tmp_path, f"--log-net-log={net_log}", "--net-log-capture-mode=Default", "--dump-dom"
    )
    assert page_requests_off_the_machine(net_log) == []
