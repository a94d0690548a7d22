"""Where Superset lives and what every Superset process is given.

Superset runs from its own venv (SUPERSET_VENV, default .venv-superset, installed by `make
dashboard` from bi/superset/requirements.lock), configured by scripts/superset_config.py. Its
state lives in SUPERSET_HOME (default data/superset, gitignored, mode 700). It serves the
publication's stable path, PUBLISH_DIR/segments.duckdb (PUBLISH_DIR as the pipeline resolves
it), on 127.0.0.1:SUPERSET_PORT.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from privseg.core.settings import PROJECT_DIR, Settings
from privseg.publication.release import DATABASE

DEFINITION = PROJECT_DIR / "bi" / "superset" / "dashboard.yaml"
LOCK_FILE = PROJECT_DIR / "bi" / "superset" / "requirements.lock"
# Loaded by Superset through SUPERSET_CONFIG_PATH: a file path, not a module of this package.
CONFIG_FILE = PROJECT_DIR / "scripts" / "superset_config.py"
ADMIN = "admin"
HOST = "127.0.0.1"  # loopback only


@dataclass(frozen=True)
class DashboardSettings:
    venv: Path
    state_dir: Path
    publication: Path  # PUBLISH_DIR/segments.duckdb, the link to current/segments.duckdb
    port: int

    @classmethod
    def from_env(cls) -> DashboardSettings:
        def path(var: str, default: str) -> Path:
            candidate = Path(os.environ.get(var) or default)
            return candidate if candidate.is_absolute() else PROJECT_DIR / candidate

        return cls(
            venv=path("SUPERSET_VENV", ".venv-superset"),
            state_dir=path("SUPERSET_HOME", "data/superset"),
            publication=Settings.from_env().publish_dir / DATABASE,
            port=int(os.environ.get("SUPERSET_PORT") or 8088),
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def password_file(self) -> Path:
        return self.state_dir / "admin_password"

    def env(self) -> dict[str, str]:
        """The environment of every Superset process (read by superset_config.py)."""
        return {
            **os.environ,
            "SUPERSET_HOME": str(self.state_dir),
            "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
            "PRIVACY_BI_PUBLICATION": str(self.publication),
            "FLASK_APP": "superset.app:create_app()",
            # Superset's own library warnings (SQLAlchemy, marshmallow) are not for its users.
            "PYTHONWARNINGS": "ignore",
        }
