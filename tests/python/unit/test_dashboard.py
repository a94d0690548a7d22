"""The Superset dashboard as code (privseg.dashboard), without Superset: the import bundle that
bi/superset/dashboard.yaml becomes, on a DuckDB file with the published models' declared
columns, refers only to published tables and to columns they have, its metric and
calculated-column expressions run in DuckDB, its database is the publication read-only, and
the layout places every chart once. The state folder keeps its secrets private, and the
command line exits 2 with no publication or no Superset. `make test-bi` runs the real
Superset."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import duckdb
import pytest
import yaml

from privseg.core.settings import PROJECT_DIR
from privseg.dashboard import cli
from privseg.dashboard.bundle import build_bundle, load_definition, write_bundle
from privseg.dashboard.settings import DashboardSettings
from privseg.dashboard.superset import ensure_state, login_help

# Written by the publication itself (privseg.publication.release), not by a model.
PUBLICATION_INFO = {
    "release": "varchar",
    "build_id": "varchar",
    "as_of_date": "date",
    "published_at": "timestamp",
}


def published_model_columns() -> dict[str, dict[str, str]]:
    """Each published model's columns and data types, as its yml declares them."""
    found = {}
    for path in sorted((PROJECT_DIR / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            privacy = model.get("config", {}).get("meta", {}).get("privacy", {})
            if privacy.get("published"):
                found[model["name"]] = {c["name"]: c["data_type"] for c in model["columns"]}
    return found


@pytest.fixture(scope="module")
def publication(tmp_path_factory) -> Path:
    """An empty publication: every published table with its declared columns and types."""
    path = tmp_path_factory.mktemp("published") / "segments.duckdb"
    tables = {**published_model_columns(), "publication_info": PUBLICATION_INFO}
    with duckdb.connect(str(path)) as con:
        for table, columns in tables.items():
            spec = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
            con.execute(f'create table "{table}" ({spec})')
    return path


@pytest.fixture(scope="module")
def bundle(publication) -> dict[str, dict]:
    return build_bundle(load_definition(), publication)


def _datasets(bundle: dict[str, dict]) -> dict[str, dict]:
    return {
        doc["uuid"]: doc for name, doc in bundle.items() if name.startswith("datasets/publication/")
    }


def _charts(bundle: dict[str, dict]) -> list[dict]:
    return [doc for name, doc in bundle.items() if name.startswith("charts/")]


def _referenced(params: dict) -> set[str]:
    """The columns and metrics a chart's settings name."""
    names: set[str] = set()
    for key in ("all_columns", "groupby", "metrics"):
        value = params.get(key) or []
        names.update([value] if isinstance(value, str) else value)
    for key in ("x_axis", "metric", "timeseries_limit_metric", "x_axis_sort"):
        if params.get(key):
            names.add(params[key])
    names.update(json.loads(order)[0] for order in params.get("order_by_cols", []))
    names.update(f["subject"] for f in params["adhoc_filters"])
    return names


def test_the_datasets_are_the_published_tables_with_their_columns(bundle, publication):
    datasets = {doc["table_name"]: doc for doc in _datasets(bundle).values()}
    assert "publication_info" in datasets
    assert set(datasets) <= {*published_model_columns(), "publication_info"}, "published only"
    with duckdb.connect(str(publication), read_only=True) as con:
        for table, dataset in datasets.items():
            described = con.execute(f'describe "{table}"').fetchall()
            physical = [c for c in dataset["columns"] if "expression" not in c]
            assert [(c["column_name"], c["type"]) for c in physical] == [
                (row[0], row[1]) for row in described
            ], table
            assert {c["column_name"] for c in physical if c["is_dttm"]} == {
                row[0] for row in described if row[1] in ("DATE", "TIMESTAMP")
            }, table


def test_every_chart_names_only_what_its_dataset_has(bundle):
    datasets = _datasets(bundle)
    charts = _charts(bundle)
    assert len(charts) == len(load_definition()["charts"]) > 0
    for chart in charts:
        dataset = datasets[chart["dataset_uuid"]]
        known = {c["column_name"] for c in dataset["columns"]}
        known |= {m["metric_name"] for m in dataset["metrics"]}
        unknown = _referenced(chart["params"]) - known
        assert not unknown, (chart["slice_name"], sorted(unknown))


def test_metric_and_calculated_column_expressions_run_in_duckdb(bundle, publication):
    with duckdb.connect(str(publication), read_only=True) as con:
        for dataset in _datasets(bundle).values():
            expressions = [m["expression"] for m in dataset["metrics"]]
            expressions += [c["expression"] for c in dataset["columns"] if "expression" in c]
            for expression in expressions:
                con.execute(f'select {expression} from "{dataset["table_name"]}"').fetchall()


def test_the_one_database_is_the_publication_read_only(bundle, publication):
    databases = [doc for name, doc in bundle.items() if name.startswith("databases/")]
    assert len(databases) == 1
    (database,) = databases
    assert database["sqlalchemy_uri"] == f"duckdb:///{publication}"
    connect_args = database["extra"]["engine_params"]["connect_args"]
    assert connect_args == {"read_only": True, "config": {"enable_external_access": False}}
    assert not any(database[flag] for flag in ("allow_dml", "allow_csv_upload", "allow_ctas"))
    assert {d["database_uuid"] for d in _datasets(bundle).values()} == {database["uuid"]}


def test_the_layout_places_every_chart_once_in_a_consistent_tree(bundle):
    (dashboard,) = [doc for name, doc in bundle.items() if name.startswith("dashboards/")]
    position = dashboard["position"]
    nodes = {key: node for key, node in position.items() if isinstance(node, dict)}
    placed = [node["meta"]["uuid"] for node in nodes.values() if node["type"] == "CHART"]
    assert sorted(placed) == sorted(chart["uuid"] for chart in _charts(bundle))
    for node_id, node in nodes.items():
        for child in node.get("children", []):
            assert position[child]["parents"][-1] == node_id, (node_id, child)
    for row in position["GRID_ID"]["children"]:
        assert sum(position[cell]["meta"]["width"] for cell in position[row]["children"]) <= 12


def test_the_bundle_zip_holds_every_document(bundle, tmp_path):
    path = tmp_path / "bundle.zip"
    write_bundle(bundle, path)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        names = archive.namelist()
        assert names == [f"privacy_segments/{name}" for name in bundle]
        first = yaml.safe_load(archive.read(names[0]))
    assert first["type"] == "Dashboard"


def test_state_is_private_and_the_password_shown_only_when_new(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERSET_HOME", str(tmp_path / "superset"))
    monkeypatch.setenv("PUBLISH_DIR", str(tmp_path / "published"))
    settings = DashboardSettings.from_env()
    assert ensure_state(settings) is True
    password = settings.password_file.read_text().strip()
    key = (settings.state_dir / "secret_key").read_text()
    assert settings.state_dir.stat().st_mode & 0o777 == 0o700
    for secret in (settings.password_file, settings.state_dir / "secret_key"):
        assert secret.stat().st_mode & 0o777 == 0o600, secret.name
    assert len(password) >= 20
    assert password in login_help(settings, new_password=True)

    assert ensure_state(settings) is False, "an existing password is kept"
    assert settings.password_file.read_text().strip() == password
    assert (settings.state_dir / "secret_key").read_text() == key
    shown = login_help(settings, new_password=False)
    assert password not in shown
    assert f"duckdb:///{tmp_path / 'published' / 'segments.duckdb'} (read-only)" in shown


def test_the_command_exits_2_without_a_publication_or_without_superset(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("PUBLISH_DIR", str(tmp_path / "published"))
    monkeypatch.setenv("SUPERSET_VENV", str(tmp_path / "no-venv"))
    monkeypatch.setenv("SUPERSET_HOME", str(tmp_path / "superset"))
    assert cli.main(["check"]) == 2
    assert "no publication at" in caplog.text
    (tmp_path / "published").mkdir()
    duckdb.connect(str(tmp_path / "published" / "segments.duckdb")).close()
    assert cli.main(["check"]) == 0
    assert cli.main(["setup"]) == 2
    assert "no Superset in" in caplog.text
    assert not (tmp_path / "superset").exists(), "nothing set up without Superset"
