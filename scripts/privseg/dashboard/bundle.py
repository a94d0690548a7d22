"""The dashboard as a Superset import bundle, from its definition in bi/superset/dashboard.yaml.

`build_bundle` fills in what the definition leaves open: the publication's path (the database,
read-only, DuckDB's external access off) and each dataset's columns as the current release
has them; charts, metrics, labels and the grid come from the definition. `superset
import-dashboards` matches every object by uuid, so a re-import updates them in place.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

from privseg.dashboard.settings import DEFINITION

BUNDLE_VERSION = "1.0.0"


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


def load_definition(path: Path = DEFINITION) -> dict:
    return yaml.safe_load(path.read_text())
