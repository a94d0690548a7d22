"""Superset configuration for the publication dashboard (SUPERSET_CONFIG_PATH points here).

A standalone file, deliberately outside the privseg package: Superset 6.1 loads it by file path
in its own venv (`.venv-superset`), where the project is not installed, so it imports nothing
from the project and the project's code never imports it. privseg.dashboard
(scripts/superset_dashboard.py) sets its two inputs:

    SUPERSET_HOME                   state folder (default data/superset, gitignored): the
                                    SQLite metadata, the generated secret key (mode 600)
    PRIVACY_BI_PUBLICATION          absolute path of PUBLISH_DIR/segments.duckdb, the stable
                                    link that follows the `current` release

What it enforces, whatever an admin does in the UI or the API:
- the only database Superset can connect to is the publication (DB_SQLA_URI_VALIDATOR), and
  every connection to it is read-only with DuckDB's external access off (DB_CONNECTION_MUTATOR):
  no ATTACH of the warehouse, no read_parquet/read_csv of raw files, no COPY, no extensions;
- nothing leaves the machine: a content security policy of 'self' for scripts, images, fonts
  and connections (the frontend's telemetry pixel is blocked), no remote fonts, no API docs
  page that loads from a CDN, no reports, thumbnails or webhooks;
- login is required (no public role), and there are no uploads.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

STATE_DIR = Path(os.environ["SUPERSET_HOME"])
PUBLICATION = Path(os.environ["PRIVACY_BI_PUBLICATION"])

SECRET_KEY = (STATE_DIR / "secret_key").read_text().strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{STATE_DIR / 'superset.db'}?check_same_thread=false"
UPLOAD_FOLDER = str(STATE_DIR / "uploads") + "/"

# Warnings and errors only: `make dashboard` keeps its terminal for the URL and the login.
LOG_LEVEL = logging.WARNING

# Login required: no public role, no self-registration.
PUBLIC_ROLE_LIKE = None
AUTH_USER_REGISTRATION = False

# No query or chart cache: a refresh reads the release that is current now.
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}

# Offline: every load from 'self' only. The frontend renders a telemetry image
# (apachesuperset.gateway.scarf.sh) on every page; img-src 'self' keeps the browser from
# requesting it. No map tiles, no remote fonts.
TALISMAN_ENABLED = True
CONTENT_SECURITY_POLICY_WARNING = False
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
# No other site's pages may call this Superset (its default lets two map tile hosts).
ENABLE_CORS = False
MAPBOX_API_KEY = ""
FAB_API_SWAGGER_UI = False  # its page loads scripts from a CDN
BUG_REPORT_URL = None
DOCUMENTATION_URL = None
FEATURE_FLAGS = {
    "ALERT_REPORTS": False,
    "ALERT_REPORT_WEBHOOK": False,
    "THUMBNAILS": False,
    "ENABLE_DASHBOARD_SCREENSHOT_ENDPOINTS": False,
    "ENABLE_DASHBOARD_DOWNLOAD_WEBDRIVER_SCREENSHOT": False,
    "DYNAMIC_PLUGINS": False,
    "ENABLE_EXTENSIONS": False,
    "EMBEDDED_SUPERSET": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
    "ALLOW_ADHOC_SUBQUERY": False,
    "ENABLE_SUPERSET_META_DB": False,
    "SSH_TUNNELING": False,
    # Render every chart on load, not only those scrolled into view.
    "DASHBOARD_VIRTUALIZATION": False,
}

# No uploads of files into any database.
ALLOWED_EXTENSIONS: set[str] = set()
PREVENT_UNSAFE_DB_CONNECTIONS = True

# DuckDB settings forced on every connection: DuckDB then reads only the database file it was
# opened with (no ATTACH, COPY, read_parquet/read_csv/glob of other files, no extensions).
DUCKDB_CONFIG = {"enable_external_access": False}


def DB_SQLA_URI_VALIDATOR(uri: Any) -> None:  # noqa: N802 (Superset's setting name)
    """Refuse every database but the publication (runs before each connection is made)."""
    if (
        uri.get_backend_name() != "duckdb"
        or uri.database != str(PUBLICATION)
        or uri.query
        or uri.host
        or uri.username
    ):
        raise ValueError(
            f"this Superset may connect only to the publication, read-only: duckdb:///{PUBLICATION}"
        )


def DB_CONNECTION_MUTATOR(  # noqa: N802 (Superset's setting name)
    uri: Any, params: dict, username: str | None, security_manager: Any, source: Any
) -> tuple[Any, dict]:
    """Whatever the database's saved settings say: read-only, no external access."""
    connect_args = params.setdefault("connect_args", {})
    connect_args["read_only"] = True
    connect_args["config"] = {**connect_args.get("config", {}), **DUCKDB_CONFIG}
    return uri, params
