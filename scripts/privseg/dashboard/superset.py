"""Superset's state, admin user, dashboard import and server, each through Superset's venv.

The state folder (SUPERSET_HOME, mode 700) holds the SQLite metadata, a secret key and the
admin password, both generated once with `secrets` (mode 600, never replaced). Superset's
metadata schema and roles follow its version: they are (re)made when the lock file changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

from privseg.core.settings import PROJECT_DIR
from privseg.dashboard.bundle import build_bundle, load_definition, write_bundle
from privseg.dashboard.settings import ADMIN, DEFINITION, HOST, LOCK_FILE, DashboardSettings


def _write_secret(path: Path, value: str) -> None:
    """Create a file only its owner can read, with `value` (never replaces one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


def ensure_state(settings: DashboardSettings) -> bool:
    """State folder (mode 700), secret key and admin password; True if the password is new."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o700)
    key = settings.state_dir / "secret_key"
    if not key.exists():
        _write_secret(key, secrets.token_urlsafe(48))
    if settings.password_file.exists():
        return False
    _write_secret(settings.password_file, secrets.token_urlsafe(18))
    return True


def _superset(settings: DashboardSettings, *args: str) -> None:
    """Run a Superset CLI command in its venv; its output goes to our stderr."""
    command = [str(settings.venv / "bin" / "superset"), *args]
    done = subprocess.run(
        command,
        env=settings.env(),
        stdout=sys.stderr,
        check=False,
        cwd=settings.state_dir,
    )
    if done.returncode != 0:
        raise RuntimeError(f"superset {args[0]} failed (exit {done.returncode})")


# Runs inside the Superset venv (python -c): creates the admin, or sets its password,
# with the password read from stdin (never on a command line).
_ADMIN_SCRIPT = """
import sys
from superset.app import create_app
app = create_app()
with app.app_context():
    from superset import db, security_manager
    password = sys.stdin.readline().strip()
    user = security_manager.find_user(username=sys.argv[1])
    if user is None:
        role = security_manager.find_role("Admin")
        user = security_manager.add_user(
            sys.argv[1], "Superset", "Admin", "admin@localhost", role, password=password
        )
        assert user, "could not create the admin user"
    else:
        security_manager.reset_password(user.id, password)
    db.session.commit()
"""


def setup(settings: DashboardSettings) -> bool:
    """Configure Superset and (re)import the dashboard; True if the admin password is new."""
    new_password = ensure_state(settings)
    stamp = settings.state_dir / ".initialized"
    lock_hash = hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text().strip() != lock_hash:
        logging.info("superset: creating its metadata database and roles (about 30 s)")
        _superset(settings, "db", "upgrade")
        _superset(settings, "init")
        stamp.write_text(lock_hash + "\n")
    if new_password:
        done = subprocess.run(
            [str(settings.venv / "bin" / "python"), "-c", _ADMIN_SCRIPT, ADMIN],
            input=settings.password_file.read_text(),
            env=settings.env(),
            text=True,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            settings.password_file.unlink()
            raise RuntimeError(f"creating the admin user failed: {done.stderr[-2000:]}")
    bundle = settings.state_dir / "dashboard_bundle.zip"
    write_bundle(build_bundle(load_definition(), settings.publication), bundle)
    _superset(settings, "import-dashboards", "--path", str(bundle), "--username", ADMIN)
    logging.info("superset: dashboard imported from %s", DEFINITION.relative_to(PROJECT_DIR))
    return new_password


def server_command(settings: DashboardSettings) -> list[str]:
    """Superset behind gunicorn on loopback: one worker process, a few threads (~400 MB)."""
    return [
        str(settings.venv / "bin" / "gunicorn"),
        "--bind",
        f"{HOST}:{settings.port}",
        "--workers",
        "1",
        "--threads",
        "8",
        "--timeout",
        "120",
        "--log-level",
        "warning",
        "superset.app:create_app()",
    ]


def login_help(settings: DashboardSettings, new_password: bool) -> str:
    """Where the dashboard is and how to log in (the password itself only when it is new)."""
    slug = load_definition()["dashboard"]["slug"]
    lines = [
        f"Superset: {settings.url}superset/dashboard/{slug}/",
        f"  log in as {ADMIN!r} with the password in {settings.password_file}"
        + (f": {settings.password_file.read_text().strip()}" if new_password else ""),
        f"  database: duckdb:///{settings.publication} (read-only)",
        "  stop with Ctrl-C",
    ]
    return "\n".join(lines)
