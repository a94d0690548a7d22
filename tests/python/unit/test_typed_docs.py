"""The typed_ models document the raw columns their base_ models document (their YAML is
written from the base_ models' docs): a column's description and meta.privacy are the same in
both, so an edit to one that forgets the other fails here."""

from __future__ import annotations

from pathlib import Path

import yaml

from privseg.core.settings import PROJECT_DIR


def documented_columns(models_dir: Path) -> dict[str, dict[str, dict]]:
    """model name -> column name -> {description, privacy} from every YAML file below."""
    models: dict[str, dict[str, dict]] = {}
    for path in sorted(models_dir.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            models[model["name"]] = {
                column["name"]: {
                    "description": column.get("description"),
                    "privacy": column.get("config", {}).get("meta", {}).get("privacy"),
                }
                for column in model.get("columns", [])
            }
    return models


def out_of_step(models: dict[str, dict[str, dict]]) -> list[str]:
    """'typed_model.column: what differs' for each raw column documented differently."""
    found = []
    for name, columns in sorted(models.items()):
        if not name.startswith("typed_"):
            continue
        base = models.get("base_" + name.removeprefix("typed_"))
        if base is None:
            found.append(f"{name}: no base_ model documents its columns")
            continue
        for column, docs in columns.items():
            if column.startswith("_") or column not in base:
                continue
            for aspect in ("description", "privacy"):
                if docs[aspect] != base[column][aspect]:
                    found.append(f"{name}.{column}: {aspect} differs from the base_ model's")
    return found


def test_every_typed_model_documents_its_raw_columns_as_its_base_model_does():
    models = documented_columns(PROJECT_DIR / "models")
    assert any(name.startswith("typed_") for name in models)
    assert out_of_step(models) == []


def test_a_description_or_classification_changed_on_one_side_is_reported():
    privacy = {"classification": "direct_identifier"}
    models = {
        "base_shop__customers": {
            "email": {"description": "Email address.", "privacy": privacy},
            "phone": {"description": "Phone.", "privacy": privacy},
        },
        "typed_shop__customers": {
            "email": {"description": "Email.", "privacy": privacy},
            "phone": {"description": "Phone.", "privacy": {"classification": "non_personal"}},
            "_source_file": {"description": "Bookkeeping.", "privacy": None},
        },
        "typed_shop__orphans": {},
    }
    assert out_of_step(models) == [
        "typed_shop__customers.email: description differs from the base_ model's",
        "typed_shop__customers.phone: privacy differs from the base_ model's",
        "typed_shop__orphans: no base_ model documents its columns",
    ]
