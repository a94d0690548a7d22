"""The BI tier's fixtures: a real publication built by the pipeline on generated data in a temp
folder, and Superset (from .venv-superset, installed by `make test-bi`) set up on it by
scripts/superset_dashboard.py and served on a free loopback port for the whole session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from dbt_harness import pipeline_environment
from privseg.core.settings import PROJECT_DIR

DEMO_CUSTOMERS = "1000"
# The first release is as of yesterday (the demo data's last day), the second as of today.
SECOND_AS_OF = date.today()
FIRST_AS_OF = SECOND_AS_OF - timedelta(days=1)
SUPERSET_VENV = Path(os.environ.get("SUPERSET_VENV") or PROJECT_DIR / ".venv-superset")
ADMIN = "admin"


@dataclass
class Bi:
    root: Path
    port: int
    env: dict[str, str]
    venv: Path = SUPERSET_VENV
    admin: str = ADMIN
    first_as_of: date = FIRST_AS_OF
    second_as_of: date = SECOND_AS_OF
    setup_output: str = ""

    @property
    def publish_dir(self) -> Path:
        return self.root / "published"

    @property
    def publication(self) -> Path:
        return self.publish_dir / "segments.duckdb"

    @property
    def state_dir(self) -> Path:
        return self.root / "superset"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password(self) -> str:
        return (self.state_dir / "admin_password").read_text().strip()

    def pipeline(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, str(PROJECT_DIR / "scripts" / "pipeline.py"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    def publish_release(self, as_of: date) -> None:
        """Build as of a day, audit that build and publish it: a new current release."""
        self.pipeline("build", "--as-of", as_of.isoformat())
        self.pipeline("audit")
        self.pipeline("publish")

    def api(self) -> requests.Session:
        """A Superset API session logged in as the admin (JWT + CSRF token)."""
        session = requests.Session()
        login = session.post(
            f"{self.url}/api/v1/security/login",
            json={"username": self.admin, "password": self.password, "provider": "db"},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = session.get(f"{self.url}/api/v1/security/csrf_token/", timeout=30)
        session.headers["X-CSRFToken"] = csrf.json()["result"]
        session.headers["Referer"] = self.url
        return session


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def bi(tmp_path_factory) -> Bi:
    """A publication (first release) and Superset serving its dashboard."""
    if not (SUPERSET_VENV / "bin" / "superset").exists():
        pytest.fail(f"no Superset in {SUPERSET_VENV}: run `make test-bi`", pytrace=False)
    root = tmp_path_factory.mktemp("bi")
    port = _free_port()
    env = {
        **pipeline_environment(root),
        "HOME": str(root / "home"),
        "SUPERSET_HOME": str(root / "superset"),
        "SUPERSET_VENV": str(SUPERSET_VENV),
        "SUPERSET_PORT": str(port),
    }
    bi = Bi(root=root, port=port, env=env)
    bi.pipeline("generate", "--demo-customers", DEMO_CUSTOMERS)
    bi.publish_release(bi.first_as_of)
    setup = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "superset_dashboard.py"), "setup"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-5000:]
    bi.setup_output = setup.stdout
    return bi


@pytest.fixture(scope="session")
def superset(bi) -> Bi:
    """Superset served by `superset_dashboard.py serve` (gunicorn on 127.0.0.1) until the end."""
    log = open(bi.root / "superset.log", "w")  # noqa: SIM115 (closed at teardown)
    server = subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "scripts" / "superset_dashboard.py"), "serve"],
        env=bi.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (bi.root / "superset.log").read_text()[-5000:]
            try:
                if requests.get(f"{bi.url}/health", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not up, or still loading
                pass
            assert time.monotonic() < deadline, "Superset did not answer /health within 120 s"
            time.sleep(1)
        yield bi
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
