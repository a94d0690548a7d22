"""Headless Chromium (Debian's `chromium`, installed by `make test`) for the tests that open
the project's HTML outputs the way an auditor does: one run per call, all traffic sent to a
closed port on loopback, and Chromium's net log read to list every request a page attempted."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

INSTALL_HINT = (
    "headless Chromium is needed for this test and is not on PATH. Install it with "
    "`apt-get update && apt-get install -y chromium` (Debian), or run `make test`, whose "
    "prerequisites install it."
)
CHROMIUM_TIMEOUT = 120
LOCAL_SCHEMES = {"file", "data", "about", "chrome", "blob"}


def chromium_binary() -> str:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return binary


def run_chromium(page: Path, work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run on a local page; all traffic goes to a closed loopback port."""
    work.mkdir(parents=True, exist_ok=True)
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # Keep every connection on this machine: requests are still attempted (and logged),
        # but go to a closed port on loopback, and no host name is resolved.
        "--proxy-server=http://127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={work / 'profile'}",
        *extra,
        page.as_uri(),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"chromium failed ({result.returncode}): {result.stderr[-2000:]}"
    return result


def attempted_requests(net_log: Path) -> list[dict]:
    """Every URL request Chromium started, from its net log: url and initiator.

    The log's "constants" map event names to numbers; a URL_REQUEST_START_JOB event with
    phase PHASE_BEGIN carries the url and the initiating origin of each request the network
    stack starts, whether or not it then fails."""
    log = json.loads(net_log.read_text())
    constants = log["constants"]
    start_job = constants["logEventTypes"]["URL_REQUEST_START_JOB"]
    begin = constants["logEventPhase"]["PHASE_BEGIN"]
    return [
        {"url": event["params"]["url"], "initiator": event["params"].get("initiator")}
        for event in log["events"]
        if event["type"] == start_job
        and event.get("phase") == begin
        and "url" in event.get("params", {})
    ]


def page_requests_off_the_machine(net_log: Path) -> list[str]:
    """URLs the page asked for outside file:, data:, about:, chrome: and blob:.

    Chromium itself (network time, component updater, account check) starts a few requests
    with no initiating origin ("not an origin") whatever the page holds; those are the
    browser's, not the page's. A request from the page carries the page's origin (for a
    file:// page the opaque origin "null")."""
    return [
        request["url"]
        for request in attempted_requests(net_log)
        if urlsplit(request["url"]).scheme not in LOCAL_SCHEMES
        and request["initiator"] != "not an origin"
    ]
