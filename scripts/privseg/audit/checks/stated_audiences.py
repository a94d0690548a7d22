"""stated_audiences: a model that declares meta.privacy.data_basis `stated` (zero-party: built
from what customers told the preference center) reads nothing behavioural, so it may serve its
purpose without the analytics grant behaviour needs."""

from __future__ import annotations

from privseg.audit.context import AuditRun
from privseg.audit.ropa import ancestors
from privseg.core.manifest import models, privacy_meta

BEHAVIOUR_CATEGORY = "user.behavior"


def check_stated_audiences(manifest: dict) -> list[str]:
    """For every model declaring data_basis `stated`: it and every model upstream of it past
    staging declare no column of a behavioural data category (user.behavior and below), and no
    model upstream is gated by another consent purpose than its own."""
    findings = []
    for node in models(manifest):
        meta = privacy_meta(node)
        if meta.get("data_basis") != "stated":
            continue
        purpose = meta.get("consent_purpose")
        if not purpose:
            findings.append(f"{node['name']}: data_basis stated without a consent_purpose")
        upstream = [
            manifest["nodes"][unique_id]
            for unique_id in sorted(ancestors(manifest, node["unique_id"]))
            if unique_id.startswith("model.")
        ]
        for model in [node, *upstream]:
            model_meta = privacy_meta(model)
            if model_meta.get("layer") == "staging":
                continue
            other = model_meta.get("consent_purpose")
            if other and other != purpose:
                findings.append(
                    f"{node['name']}: reads {model['name']}, gated by '{other}' (not '{purpose}')"
                )
            behavioural = sorted(
                name
                for name, column in model["columns"].items()
                if str(privacy_meta(column).get("data_category") or "").startswith(
                    BEHAVIOUR_CATEGORY
                )
            )
            if behavioural:
                findings.append(
                    f"{node['name']}: reads {model['name']}, which holds behavioural columns "
                    f"({', '.join(behavioural)})"
                )
    return findings


def run(audit: AuditRun) -> list[str]:
    return check_stated_audiences(audit.manifest)
