"""migrate_sqlite's preflight on a database address pgloader cannot use, before anything changes.

A real ansible-playbook runs the role's preflight tasks on localhost against a SQLite file made
here; the refusal must come before the step that stops the MLflow server (no Docker is asked).
"""

import sqlite3

import pytest

from .conftest import refusal

pytestmark = pytest.mark.integration


def _preflight(tmp_path, db_address):
    source = tmp_path / "mlflow.db"
    sqlite3.connect(source).close()
    return {
        "ansible.builtin.include_role": {"name": "mlops.mlflow.migrate_sqlite", "tasks_from": "preflight"},
        "vars": {"migrate_sqlite_source": str(source), "mlflow_server_db_address": db_address},
    }


def test_an_ipv6_database_address_is_refused_before_the_server_stops(run_tasks, tmp_path):
    rc, results, output = run_tasks([_preflight(tmp_path, "fd00::5")])

    message = refusal(rc, results, output)
    assert "pgloader cannot connect to an IPv6 address (fd00::5; dimitri/pgloader#1004)" in message
    assert "Stop the MLflow server" not in output


def _history(tmp_path, artifact_uri):
    """A SQLite file with one run, as MLflow's schema keeps it (the column the check reads)."""
    source = tmp_path / "mlflow.db"
    with sqlite3.connect(source) as db:
        db.execute("create table runs (run_uuid text primary key, artifact_uri text)")
        db.execute("insert into runs values ('r1', ?)", (artifact_uri,))
    return str(source)


def test_proxied_runs_into_a_stage_that_serves_no_artifacts_are_refused_before_the_server_stops(run_tasks, tmp_path):
    task = _preflight(tmp_path, "10.0.0.5")
    task["vars"].update(
        migrate_sqlite_source=_history(tmp_path, "mlflow-artifacts:/1/r1/artifacts"),
        mlflow_server_artifacts_mode="direct",
    )
    rc, results, output = run_tasks([task])

    message = refusal(rc, results, output)
    assert message.startswith("1 run(s) keep their artifacts under MLflow's artifact proxy")
    assert "Nothing was stopped or changed" in message
    assert "Stop the MLflow server" not in output


def test_runs_with_their_own_artifact_uris_pass_that_check(run_tasks, tmp_path):
    task = _preflight(tmp_path, "10.0.0.5")
    task["vars"].update(
        migrate_sqlite_source=_history(tmp_path, "s3://team-bucket/1/r1/artifacts"),
        mlflow_server_artifacts_mode="direct",
    )
    # The next step, the target's check, needs the MLflow image: `false` stands in for it, so the run
    # stops there, past the artifacts check.
    task["vars"]["migrate_sqlite_run"] = ["false"]
    rc, results, output = run_tasks([task])

    message = refusal(rc, results, output)
    assert "The MLflow server was not stopped" in message, message  # the target check's failure
    assert "run(s) keep their artifacts under MLflow's artifact proxy" not in output
