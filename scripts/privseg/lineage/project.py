"""The lineage of every model of a dbt project: relations and column types from the manifest and
catalog, each model's compiled SQL parsed once (see the package docstring, "Sources")."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from sqlglot import exp
from sqlglot.schema import MappingSchema, Schema

from privseg.core.manifest import privacy_meta
from privseg.core.settings import PROJECT_DIR, Settings
from privseg.lineage.model import (
    CONSENT_LAYER,
    DIALECT,
    ColumnRef,
    Flow,
    LineageError,
    ModelLineage,
    ProjectLineage,
    Relation,
    SqlLineage,
    add_flow,
)
from privseg.lineage.query import safe_reason, sql_lineage

# Stands in for each source's relation_name (a read_parquet(...) call) in the compiled SQL.
SOURCE_CATALOG = "__source__"
# Columns read_parquet(..., filename = true, file_row_number = true) adds to every source, and
# those read_blob(...) lists a typed_ model's raw files by (their size and modification time).
TECHNICAL_SOURCE_COLUMNS = {
    "filename": "VARCHAR",
    "file_row_number": "BIGINT",
    "size": "BIGINT",
    "last_modified": "TIMESTAMP WITH TIME ZONE",
}


def read_artifacts(target_dir: Path) -> tuple[dict, dict]:
    """manifest.json and catalog.json of a target folder; a missing catalog reads as empty
    (the yml's declared columns are used instead)."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    catalog_path = target_dir / "catalog.json"
    if catalog_path.is_file():
        catalog = json.loads(catalog_path.read_text())
    else:
        logging.warning("lineage: %s not found; using the columns declared in yml", catalog_path)
        catalog = {"nodes": {}, "sources": {}}
    return manifest, catalog


def model_sql(node: Mapping[str, Any], target_dir: Path | None = None) -> str | None:
    """A node's compiled SQL: compiled_code from the manifest, else the compiled file (under
    target_dir/compiled, or at compiled_path), else None."""
    if node.get("compiled_code"):
        return str(node["compiled_code"])
    candidates: list[Path] = []
    if target_dir is not None and node.get("original_file_path"):
        candidates.append(
            target_dir / "compiled" / node["package_name"] / node["original_file_path"]
        )
    if node.get("compiled_path"):
        path = Path(node["compiled_path"])
        candidates.append(path if path.is_absolute() else PROJECT_DIR / path)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.read_text()
    return None


def _traced_nodes(manifest: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for unique_id, node in manifest.get("nodes", {}).items():
        if node.get("resource_type") in ("model", "snapshot", "seed") and (
            node.get("config", {}).get("enabled", True)
        ):
            yield unique_id, node


def _relation_key(*parts: str | None) -> str:
    return ".".join(part.lower() for part in parts if part)


def _relations(manifest: Mapping[str, Any]) -> tuple[dict[str, Relation], dict[str, str]]:
    """Relations by unique_id, and unique_id by the relation key compiled SQL uses."""
    relations: dict[str, Relation] = {}
    by_key: dict[str, str] = {}
    for unique_id, node in _traced_nodes(manifest):
        kind = "seed" if node["resource_type"] == "seed" else "model"
        columns = {name.lower(): privacy_meta(column) for name, column in node["columns"].items()}
        relations[unique_id] = Relation(unique_id, kind, node["name"], columns)
        alias = node.get("alias") or node["name"]
        by_key[_relation_key(node.get("database"), node.get("schema"), alias)] = unique_id
    for unique_id, source in manifest.get("sources", {}).items():
        columns = {name.lower(): privacy_meta(column) for name, column in source["columns"].items()}
        label = f"{source['source_name']}.{source['name']}"
        relations[unique_id] = Relation(unique_id, "source", label, columns)
        by_key[_relation_key(SOURCE_CATALOG, source["source_name"], source["name"])] = unique_id
        if source.get("relation_name"):
            # A source that is a real table is read by its relation name, not a function.
            try:
                table = exp.to_table(source["relation_name"], dialect=DIALECT)
                by_key[_relation_key(table.catalog, table.db, table.name)] = unique_id
            except Exception:
                pass
    return relations, by_key


def _source_replacements(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(relation_name text, stand-in table name), longest first."""
    pairs = [
        (
            source["relation_name"],
            f'"{SOURCE_CATALOG}"."{source["source_name"]}"."{source["name"]}"',
        )
        for source in manifest.get("sources", {}).values()
        if source.get("relation_name")
    ]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def _usable_type(data_type: Any) -> str:
    if not data_type:
        return "UNKNOWN"
    try:
        exp.DataType.build(str(data_type), dialect=DIALECT)
    except Exception:
        return "UNKNOWN"
    return str(data_type)


def build_schema(manifest: Mapping[str, Any], catalog: Mapping[str, Any]) -> MappingSchema:
    """Column types of every model, seed (catalog, else yml) and source (yml + technical)."""
    nested: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    catalog_nodes = catalog.get("nodes") or {}

    def put(catalog_name: str, db: str, table: str, columns: dict[str, str]) -> None:
        if columns:
            nested.setdefault(catalog_name.lower(), {}).setdefault(db.lower(), {})[
                table.lower()
            ] = columns

    for unique_id, node in _traced_nodes(manifest):
        built = (catalog_nodes.get(unique_id) or {}).get("columns") or {}
        columns = {
            name.lower(): _usable_type(column.get("type")) for name, column in built.items()
        } or {
            name.lower(): _usable_type(column.get("data_type"))
            for name, column in node["columns"].items()
        }
        put(node["database"], node["schema"], node.get("alias") or node["name"], columns)
    for source in manifest.get("sources", {}).values():
        columns = {
            name.lower(): _usable_type(column.get("data_type"))
            for name, column in source["columns"].items()
        }
        for name, data_type in TECHNICAL_SOURCE_COLUMNS.items():
            columns.setdefault(name, data_type)
        put(SOURCE_CATALOG, source["source_name"], source["name"], columns)
    return MappingSchema(nested, dialect=DIALECT)


def trace_project(
    manifest: Mapping[str, Any],
    catalog: Mapping[str, Any],
    *,
    target_dir: Path | None = None,
) -> ProjectLineage:
    """Parse every model once and record its hops; paths are traced on demand.

    `catalog` has catalog.json's shape ({"nodes": {unique_id: {"columns": {name: {"type"}}}}}).
    `target_dir` is where to find compiled files for nodes without compiled_code in the
    manifest (default: DBT_TARGET_PATH, else target/). A model that cannot be parsed is
    recorded as unparsed, never skipped."""
    started = time.monotonic()
    if target_dir is None:
        target_dir = Settings.from_env().target_dir
    relations, by_key = _relations(manifest)
    schema = build_schema(manifest, catalog)
    replacements = _source_replacements(manifest)
    key_of = {unique_id: key for key, unique_id in by_key.items()}
    seed_keys = frozenset(key for key, uid in by_key.items() if relations[uid].kind == "seed")
    consent_keys = {
        key
        for key, unique_id in by_key.items()
        if privacy_meta(manifest["nodes"].get(unique_id, {})).get("layer") == CONSENT_LAYER
    }
    models: dict[str, ModelLineage] = {}
    for unique_id, node in _traced_nodes(manifest):
        if node["resource_type"] == "seed":
            continue
        trace = partial(
            _trace_model_sql,
            replacements=replacements,
            schema=schema,
            lookup_relations=seed_keys,
            # an incremental consent model reading its own rows does not filter on consent
            consent_relations=frozenset(consent_keys - {key_of.get(unique_id)}),
            own_source=_single_source_read(node, manifest),
        )
        models[unique_id] = _model_lineage(
            unique_id, node, model_sql(node, target_dir), catalog, trace, by_key
        )
    return ProjectLineage(models, relations, seconds=time.monotonic() - started)


# A raw read the model builds itself (typed_ models read the files raw_table_files lists, not
# the source's relation_name): read_parquet(...) or read_blob(...) with no nested parentheses.
_RAW_READ = re.compile(r"read_(?:parquet|blob)\((?:[^()']|'[^']*')*\)", re.IGNORECASE)


def _single_source_read(node: Mapping[str, Any], manifest: Mapping[str, Any]) -> str | None:
    """The stand-in of the one source a model depends on, if it depends on exactly one."""
    sources = [
        manifest["sources"][uid]
        for uid in node.get("depends_on", {}).get("nodes", [])
        if uid in manifest.get("sources", {})
    ]
    if len(sources) != 1:
        return None
    return f'"{SOURCE_CATALOG}"."{sources[0]["source_name"]}"."{sources[0]["name"]}"'


def _trace_model_sql(
    sql: str,
    *,
    replacements: list[tuple[str, str]],
    schema: Schema,
    lookup_relations: frozenset[str],
    consent_relations: frozenset[str],
    own_source: str | None = None,
) -> SqlLineage:
    for old, new in replacements:
        sql = sql.replace(old, new)
    if own_source is not None:
        sql = _RAW_READ.sub(own_source, sql)
    return sql_lineage(
        sql, schema, lookup_relations=lookup_relations, consent_relations=consent_relations
    )


def _model_lineage(
    unique_id: str,
    node: Mapping[str, Any],
    sql: str | None,
    catalog: Mapping[str, Any],
    trace: Callable[[str], SqlLineage],
    by_key: Mapping[str, str],
) -> ModelLineage:
    meta = privacy_meta(node)
    built = ((catalog.get("nodes") or {}).get(unique_id) or {}).get("columns") or {}
    model = ModelLineage(
        unique_id=unique_id,
        name=node["name"],
        layer=meta.get("layer"),
        published=bool(meta.get("published")),
        columns=[name.lower() for name in (built or node["columns"])],
    )
    if sql is None:
        model.unparsed = "no compiled SQL (compile or build the project first)"
        return model
    try:
        traced: SqlLineage = trace(sql)
    except LineageError as error:
        model.unparsed = str(error)
        return model
    except Exception as error:  # whatever a macro produced, the audit reports it, not crashes
        model.unparsed = safe_reason(error)
        return model
    model.columns = list(traced.columns)
    model.consent_filtered = traced.consent_filtered
    model.problems = list(traced.problems)
    for column, upstream in traced.columns.items():
        hops: dict[ColumnRef, Flow] = {}
        for ref, flow in upstream.items():
            relation = by_key.get(ref.relation, ref.relation)
            if relation != unique_id:  # an incremental model reading its own rows
                add_flow(hops, ColumnRef(relation, ref.column), flow)
        model.hops[column] = hops
    return model
