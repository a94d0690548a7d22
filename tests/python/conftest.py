"""Session fixtures: one generated raw data set and one dbt build, shared by
every integration test that only reads the result."""

from __future__ import annotations

import json

import pytest

from dbt_harness import DbtProject, generate

# Small but with every fault kind present: ~20 s for generate + build.
FAULT_RATE = 0.02


@pytest.fixture(scope="session")
def faulty_raw(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw_faulty")
    generate(raw, customers=400, days=120, seed=7, faults=FAULT_RATE)
    return raw


@pytest.fixture(scope="session")
def generation_manifest(faulty_raw) -> dict:
    return json.loads((faulty_raw / "generation_manifest.json").read_text())


@pytest.fixture(scope="session")
def built(tmp_path_factory, faulty_raw) -> DbtProject:
    """The warehouse built once by `dbt build` on the faulty data set."""
    project = DbtProject(tmp_path_factory.mktemp("build"), faulty_raw)
    result = project.dbt("build")
    if not result.success:
        failures = [m for m in result.output.splitlines() if "ERROR" in m or "FAIL" in m]
        pytest.fail("dbt build failed on the faulty data set:\n" + "\n".join(failures[-30:]))
    return project


FAULTS = "faults"


def pytest_ignore_collect(collection_path, config):
    """The fault tier (tests/python/faults) runs on its own, `make test-faults`: `pytest
    tests/python` (make test) leaves it out unless it is named on the command line."""
    if collection_path.name == FAULTS and collection_path.parent.name == "python":
        named = any(FAULTS in str(arg).replace("\\", "/").split("/") for arg in config.args)
        return None if named else True
    return None
