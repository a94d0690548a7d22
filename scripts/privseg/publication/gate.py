"""The gate of the publication (invariant 7): nothing is published unless every node of the
build succeeded, every published model was built and tested by it, and the privacy audit of that
same build passed."""

from __future__ import annotations

from privseg.core.manifest import failed_nodes, published_models

# The build's own run_results.json, kept by the build step (privseg.audit.runner.BUILD_RESULTS).
BUILD_RESULTS_NAME = "target/build_results.json"


class PublishRefused(Exception):
    """Nothing may be published (exit 1): a failed test, a failed or stale audit."""


def refusals(manifest: dict, results: dict, audit: dict | None) -> list[str]:
    """Why this build may not be published ([] = it may): invariant 7."""
    problems = []
    status = {r["unique_id"]: r["status"] for r in results["results"]}
    failed = failed_nodes(results)
    if failed:
        problems.append("the build did not pass: " + ", ".join(failed))
    models = published_models(manifest)
    if not models:
        problems.append("no model is marked meta.privacy.published")
    for node in models:
        if status.get(node["unique_id"]) != "success":
            problems.append(f"{node['name']} was not built by this build")
        tests = [
            uid
            for uid, test in manifest["nodes"].items()
            if test["resource_type"] == "test" and node["unique_id"] in test["depends_on"]["nodes"]
        ]
        untested = [uid for uid in tests if status.get(uid) != "pass"]
        if not tests:
            problems.append(f"{node['name']} has no tests")
        elif untested:
            problems.append(f"{node['name']}: tests not passed in this build: {len(untested)}")
    build_id = results["metadata"]["invocation_id"]
    if audit is None:
        problems.append("no privacy audit of this build (run pipeline.py audit)")
    elif audit.get("build_id") != build_id:
        problems.append("the privacy audit is of another build (run pipeline.py audit)")
    elif audit.get("warehouse_build_id") != build_id:
        problems.append(
            f"the audited warehouse held build {audit.get('warehouse_build_id')}, not build "
            f"{build_id} of {BUILD_RESULTS_NAME} (another dbt command wrote it in between): "
            "run pipeline.py build, then audit"
        )
    elif audit.get("status") != "pass":
        failing = [c["name"] for c in audit.get("checks", []) if c.get("status") != "pass"]
        problems.append("the privacy audit failed: " + ", ".join(failing))
    return problems
