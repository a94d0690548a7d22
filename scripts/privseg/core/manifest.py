"""Reading dbt's artifacts: privacy metadata of manifest nodes, published models, results."""

from __future__ import annotations

from collections.abc import Mapping


def privacy_meta(entry: Mapping) -> dict:
    """meta.privacy of a manifest node, source, column or exposure ({} if none); dbt 1.11 keeps
    meta both under config and at the top level."""
    for meta in ((entry.get("config") or {}).get("meta"), entry.get("meta")):
        if isinstance(meta, Mapping) and isinstance(meta.get("privacy"), Mapping):
            return dict(meta["privacy"])
    return {}


def models(manifest: dict) -> list[dict]:
    """Every model node, by name."""
    return sorted(
        (n for n in manifest["nodes"].values() if n["resource_type"] == "model"),
        key=lambda n: n["name"],
    )


def published_models(manifest: dict) -> list[dict]:
    """Model nodes marked meta.privacy.published, by name."""
    return [node for node in models(manifest) if privacy_meta(node).get("published")]


def relation(node: dict) -> str:
    """The quoted "schema"."table" a node is built as (in the connection's database)."""
    return f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'


def failed_nodes(run_results: dict) -> list[str]:
    """'<unique_id> (<status>)' of every node of a dbt run that did not succeed.

    Exposures are documentation: `dbt build` reports them as no-op."""
    return sorted(
        f"{r['unique_id']} ({r['status']})"
        for r in run_results["results"]
        if r["status"] not in ("success", "pass")
        and not (r["unique_id"].startswith("exposure.") and r["status"] == "no-op")
    )
