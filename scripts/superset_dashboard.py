"""Apache Superset on the publication: set up, import the dashboard, serve on loopback.

    python scripts/superset_dashboard.py run      # setup, then serve (what `make dashboard` does)
    python scripts/superset_dashboard.py setup    # configure Superset and (re)import the dashboard
    python scripts/superset_dashboard.py serve    # serve on http://127.0.0.1:SUPERSET_PORT/
    python scripts/superset_dashboard.py check    # is there a publication to show?

Superset runs from its own venv (SUPERSET_VENV, default .venv-superset, installed by `make
dashboard` from bi/superset/requirements.lock), configured by scripts/superset_config.py. Its
state lives in SUPERSET_HOME (default data/superset, gitignored, mode 700): the SQLite
metadata, a secret key and the admin password, both generated once (mode 600). Setup
registers PUBLISH_DIR/segments.duckdb, the stable link that follows every new release, and
imports the dashboard defined in bi/superset/dashboard.yaml (see `build_bundle`).

Exit codes: 0 ok; 1 a Superset command failed; 2 no publication yet, or no Superset venv.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import logging
import os
import secrets
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFINITION = PROJECT_DIR / "bi" / "superset" / "dashboard.yaml"
LOCK_FILE = PROJECT_DIR / "bi" / "superset" / "requirements.lock"
CONFIG_MODULE = PROJECT_DIR / "scripts" / "superset_config.py"
ADMIN = "admin"
HOST = "127.0.0.1"  # loopback only
BUNDLE_VERSION = "1.0.0"


@dataclass(frozen=True)
class Settings:
    venv: Path
    state_dir: Path
    publication: Path  # PUBLISH_DIR/segments.duckdb, the link to current/segments.duckdb
    port: int

    @classmethod
    def from_env(cls) -> Settings:
        def path(var: str, default: str) -> Path:
            candidate = Path(os.environ.get(var) or default)
            return candidate if candidate.is_absolute() else PROJECT_DIR / candidate

        return cls(
            venv=path("SUPERSET_VENV", ".venv-superset"),
            state_dir=path("SUPERSET_HOME", "data/superset"),
            publication=path("PUBLISH_DIR", "data/published") / "segments.duckdb",
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
            "SUPERSET_CONFIG_PATH": str(CONFIG_MODULE),
            "PRIVACY_BI_PUBLICATION": str(self.publication),
            "FLASK_APP": "superset.app:create_app()",
            # Superset's own library warnings (SQLAlchemy, marshmallow) are not for its users.
            "PYTHONWARNINGS": "ignore",
        }


def _write_secret(path: Path, value: str) -> None:
    """Create a file only its owner can read, with `value` (never replaces one)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


def ensure_state(settings: Settings) -> bool:
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


# --- the import bundle -------------------------------------------------------------------


def _columns(publication: Path, tables: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Each published table's columns and DuckDB types, as the current release has them."""
    with duckdb.connect(str(publication), read_only=True) as con:
        described = {t: con.execute(f'describe "{t}"').fetchall() for t in tables}
    return {table: [(row[0], row[1]) for row in rows] for table, rows in described.items()}


def _filters(filters: dict[str, str]) -> list[dict]:
    return [
        {
            "clause": "WHERE",
            "expressionType": "SIMPLE",
            "subject": column,
            "operator": "==",
            "comparator": value,
        }
        for column, value in filters.items()
    ]


def _position(dashboard: dict, charts: dict) -> dict:
    """Superset's layout tree (ROOT > GRID > ROW > CHART/MARKDOWN) from the definition's rows."""
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"id": "ROOT_ID", "type": "ROOT", "children": ["GRID_ID"]},
        "GRID_ID": {"id": "GRID_ID", "type": "GRID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dashboard["title"]}},
    }
    for number, row in enumerate(dashboard["rows"], start=1):
        row_id = f"ROW-{number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "id": row_id,
            "type": "ROW",
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for cell in row:
            item = cell["item"]
            size = {"width": cell["width"], "height": cell["height"]}
            if item == "intro":
                node_id, node = "MARKDOWN-intro", {"type": "MARKDOWN", "meta": {**size}}
                node["meta"]["code"] = dashboard["intro"]
            else:
                chart = charts[item]
                node_id = f"CHART-{item}"
                node = {
                    "type": "CHART",
                    # chartId: any number; the import maps it to the chart's id by uuid.
                    "meta": {
                        **size,
                        "chartId": list(charts).index(item) + 1,
                        "uuid": chart["uuid"],
                        "sliceName": chart["name"],
                    },
                }
            position[row_id]["children"].append(node_id)
            position[node_id] = {
                "id": node_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                **node,
            }
    return position


def build_bundle(definition: dict, publication: Path) -> dict[str, dict]:
    """The Superset export bundle (path in the zip -> YAML document) for the definition.

    The database is the publication's stable path, read-only; each dataset gets the columns
    of the table in the current release (plus the definition's calculated columns and
    metrics); charts and the dashboard layout come from the definition."""
    database = definition["database"]
    datasets = definition["datasets"]
    columns = _columns(publication, list(datasets))
    bundle: dict[str, dict] = {
        "metadata.yaml": {
            "version": BUNDLE_VERSION,
            "type": "Dashboard",
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "databases/publication.yaml": {
            "database_name": database["name"],
            "sqlalchemy_uri": f"duckdb:///{publication}",
            "cache_timeout": None,
            "expose_in_sqllab": True,
            "allow_run_async": False,
            "allow_ctas": False,
            "allow_cvas": False,
            "allow_dml": False,
            "allow_csv_upload": False,
            "extra": {
                "engine_params": {
                    "connect_args": {
                        "read_only": True,
                        "config": {"enable_external_access": False},
                    }
                },
                "metadata_params": {},
                "schemas_allowed_for_csv_upload": [],
            },
            "uuid": database["uuid"],
            "version": BUNDLE_VERSION,
        },
    }
    for table, spec in datasets.items():
        dataset_columns = [
            {
                "column_name": name,
                "verbose_name": spec.get("labels", {}).get(name),
                "type": kind,
                "is_dttm": kind in ("DATE", "TIMESTAMP"),
                "groupby": True,
                "filterable": True,
            }
            for name, kind in columns[table]
        ]
        for name, calculated in spec.get("calculated_columns", {}).items():
            dataset_columns.append(
                {
                    "column_name": name,
                    "verbose_name": calculated["label"],
                    "expression": calculated["expression"],
                    "type": "VARCHAR",
                    "is_dttm": False,
                    "groupby": True,
                    "filterable": True,
                }
            )
        bundle[f"datasets/publication/{table}.yaml"] = {
            "table_name": table,
            "schema": "main",
            "description": spec["description"],
            "main_dttm_col": None,
            "sql": None,
            "params": None,
            "template_params": None,
            "filter_select_enabled": True,
            "extra": None,
            "uuid": spec["uuid"],
            "database_uuid": database["uuid"],
            "columns": dataset_columns,
            "metrics": [
                {
                    "metric_name": name,
                    "verbose_name": metric["label"],
                    "expression": metric["expression"],
                    "d3format": metric["d3format"],
                }
                for name, metric in spec.get("metrics", {}).items()
            ],
            "version": BUNDLE_VERSION,
        }
    charts = definition["charts"]
    for key, chart in charts.items():
        params = {
            **chart["params"],
            "viz_type": chart["viz_type"],
            "adhoc_filters": _filters(chart.get("filters", {})),
        }
        bundle[f"charts/{key}.yaml"] = {
            "slice_name": chart["name"],
            "description": None,
            "viz_type": chart["viz_type"],
            "params": params,
            "query_context": None,
            "cache_timeout": None,
            "uuid": chart["uuid"],
            "dataset_uuid": datasets[chart["dataset"]]["uuid"],
            "version": BUNDLE_VERSION,
        }
    dashboard = definition["dashboard"]
    bundle["dashboards/privacy_segments.yaml"] = {
        "dashboard_title": dashboard["title"],
        "description": None,
        "css": "",
        "slug": dashboard["slug"],
        "uuid": dashboard["uuid"],
        "published": True,
        "position": _position(dashboard, charts),
        "metadata": {
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "native_filter_configuration": [],
            "cross_filters_enabled": False,
            "expanded_slices": {},
            "label_colors": {},
            "timed_refresh_immune_slices": [],
            "default_filters": "{}",
        },
        "version": BUNDLE_VERSION,
    }
    return bundle


def write_bundle(bundle: dict[str, dict], path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, document in bundle.items():
            archive.writestr(f"privacy_segments/{name}", yaml.safe_dump(document, sort_keys=False))
    path.write_bytes(buffer.getvalue())


# --- Superset commands -------------------------------------------------------------------


def _superset(settings: Settings, *args: str) -> None:
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


def setup(settings: Settings) -> bool:
    """Configure Superset and (re)import the dashboard; True if the admin password is new."""
    new_password = ensure_state(settings)
    # The metadata schema and roles follow Superset's version: redo them when the lock changes.
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
    definition = yaml.safe_load(DEFINITION.read_text())
    bundle = settings.state_dir / "dashboard_bundle.zip"
    write_bundle(build_bundle(definition, settings.publication), bundle)
    _superset(settings, "import-dashboards", "--path", str(bundle), "--username", ADMIN)
    logging.info("superset: dashboard imported from %s", DEFINITION.relative_to(PROJECT_DIR))
    return new_password


def server_command(settings: Settings) -> list[str]:
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


def login_help(settings: Settings, new_password: bool) -> str:
    slug = "privacy-segments"
    lines = [
        f"Superset: {settings.url}superset/dashboard/{slug}/",
        f"  log in as {ADMIN!r} with the password in {settings.password_file}"
        + (f": {settings.password_file.read_text().strip()}" if new_password else ""),
        f"  database: duckdb:///{settings.publication} (read-only)",
        "  stop with Ctrl-C",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("run", "setup", "serve", "check"))
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not settings.publication.exists():
        logging.error("no publication at %s: run `make run` first", settings.publication)
        return 2
    if args.step == "check":
        return 0
    if not (settings.venv / "bin" / "superset").exists():
        logging.error("no Superset in %s: run `make dashboard`, which installs it", settings.venv)
        return 2
    new_password = False
    if args.step in ("run", "setup"):
        try:
            new_password = setup(settings)
        except RuntimeError as error:
            logging.error("%s", error)
            return 1
    if args.step in ("run", "serve"):
        print(login_help(settings, new_password), flush=True)
        os.chdir(settings.state_dir)
        os.execve(server_command(settings)[0], server_command(settings), settings.env())
    else:
        print(login_help(settings, new_password).rsplit("\n", 1)[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
