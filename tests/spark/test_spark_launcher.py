"""The launcher's own rules, without a Spark session: the dbt command line it runs, and the one-
line errors before Spark starts (no key, no Java)."""

from __future__ import annotations

import pytest

from privseg.spark import cli, session
from privseg.spark.session import SparkBuildError, SparkPaths, local_conf


def test_default_command_builds_the_spark_selection_on_the_spark_target():
    args = cli.dbt_arguments([])
    assert args[:3] == ["build", "--selector", "spark"]
    assert args[args.index("--target") + 1] == "spark"
    assert args[args.index("--project-dir") + 1] == str(cli.PROJECT_DIR)


def test_user_arguments_pass_through_and_a_run_is_incremental_unless_asked_otherwise():
    # The models not ported to incremental runs on Spark are refreshed by their own config
    # (dbt_project.yml), not by the launcher: it adds no --full-refresh, and passes the user's.
    args = cli.dbt_arguments(["test", "--select", "stg_shop__customers"])
    assert args[:3] == ["test", "--select", "stg_shop__customers"]
    assert "--full-refresh" not in cli.dbt_arguments(["build"])
    assert cli.dbt_arguments(["run", "--full-refresh"]).count("--full-refresh") == 1
    assert cli.dbt_arguments(["run", "--target", "spark"]).count("--target") == 1


def test_no_key_stops_before_spark_starts_with_one_line(monkeypatch, capsys):
    monkeypatch.delenv(cli.KEY_ENV_VAR, raising=False)

    def never(*_args):
        raise AssertionError("Spark started without a key")

    monkeypatch.setattr(cli, "start_session", never)
    assert cli.main(["build"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spark_build: No pseudonymization key") and err.count("\n") == 1
    assert "Traceback" not in err


def test_no_java_is_one_line(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SparkBuildError, match="no Java runtime: Spark needs Java 17"):
        session.check_java()


def test_the_local_session_keeps_its_files_in_its_folder_and_serves_no_ui(tmp_path):
    conf = local_conf(SparkPaths(tmp_path))
    assert conf["spark.ui.enabled"] == "false"
    for name in ("spark.sql.warehouse.dir", "spark.eventLog.dir", "spark.local.dir"):
        assert conf[name].startswith(str(tmp_path))
    assert str(tmp_path / "metastore_db") in conf["javax.jdo.option.ConnectionURL"]
    # No setting names or holds a secret: Spark shows confs in plans, logs and the UI.
    assert not [name for name in conf if "secret" in name.lower() or "key" in name.lower()]
