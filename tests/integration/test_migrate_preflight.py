"""migrate_sqlite's preflight on a database address pgloader cannot use, before anything changes.

A real ansible-playbook runs the role's preflight tasks on localhost against a SQLite file made
here; the refusal must come before the step that stops the MLflow server (no Docker is asked).
"""

import os
import sqlite3
import subprocess

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


# The preflight's look for an MLflow server on the target database uses Docker's list of the
# project's containers (Compose's labels). A real container of the test's own, labelled as
# Compose labels a project's mlflow service and with the settings the compose file gives the
# server, stands in for the server (it only sleeps); it is removed afterwards.
TARGET = {"mlflow_server_db_address": "postgres", "mlflow_server_db_name_effective": "mlflow",
          "mlflow_server_db_port_effective": 5432}  # fmt: skip


@pytest.fixture
def running_server():
    """Start a labelled container with the given database settings; yield its project's name."""
    started = []

    def start(db_host, db_name="mlflow", db_port="5432", oneoff="False"):
        project = "mlops-preflight-test-" + os.urandom(3).hex()
        subprocess.run(
            ["docker", "run", "-d", "--name", project, "--label", f"com.docker.compose.project={project}",
             "--label", "com.docker.compose.service=mlflow", "--label", f"com.docker.compose.oneoff={oneoff}",
             "-e", f"MLFLOW_DB_HOST={db_host}",
             "-e", f"MLFLOW_DB_NAME={db_name}", "-e", f"MLFLOW_DB_PORT={db_port}", "-e", "MLFLOW_HOST=0.0.0.0",
             "mlops-test/debian:bookworm", "sleep", "600"],
            check=True, capture_output=True,
        )  # fmt: skip
        started.append(project)
        return project

    yield start
    for project in started:
        subprocess.run(["docker", "rm", "-f", project], check=False, capture_output=True)


def _past_the_target_check(tmp_path, project, **variables):
    """The preflight with a target that passes its own check (a stand-in: `sh` answers 0 to
    check-target, 1 to anything later), for the compose project given; the stop block's
    `docker compose stop` then fails on a project directory that is not there, so nothing is
    stopped, and the run stops there."""
    task = _preflight(tmp_path, "postgres")
    task["vars"].update(
        TARGET,
        migrate_sqlite_run=["sh", "-c", '[ "$0" = check-target ]'],
        compose_project_name=project,
        compose_project_dir=str(tmp_path / "no-project-dir"),
        migrate_sqlite_work_dir=str(tmp_path / "work"),
        **variables,
    )
    return task


def test_a_server_running_on_the_target_database_is_refused_before_it_stops(run_tasks, tmp_path, running_server):
    project = running_server("postgres")
    rc, results, output = run_tasks([_past_the_target_check(tmp_path, project)])

    message = refusal(rc, results, output)
    assert message.startswith("The MLflow server on localhost runs on the target database already (mlflow at postgres)")
    assert "Nothing was stopped or changed" in message
    assert "Stop the MLflow server" not in output
    running = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"name=^{project}$"], capture_output=True, text=True, check=True
    )
    assert running.stdout.strip(), "the stand-in server was stopped"


@pytest.mark.parametrize(
    "settings",
    [
        {"db_host": "10.0.0.9"},
        {"db_host": "postgres", "db_name": "staging"},
        {"db_host": "postgres", "db_port": "5433"},
        # `docker compose run`'s one-off container of the service: no server, not stopped by `compose stop`.
        {"db_host": "postgres", "oneoff": "True"},
    ],
    ids=["another host", "another database", "another port", "a one-off container"],
)
def test_a_server_on_another_database_passes_that_check(run_tasks, tmp_path, running_server, settings):
    project = running_server(**settings)
    rc, _results, output = run_tasks([_past_the_target_check(tmp_path, project)])

    assert rc != 0, output  # at the stop block's first step, past the check
    assert "runs on the target database already" not in output
    assert "no-project-dir" in output


def test_a_docker_that_cannot_be_asked_stops_the_run_before_the_server_stops(run_tasks, tmp_path):
    rc, results, output = run_tasks(
        [_past_the_target_check(tmp_path, "mlflow")], extra_env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    )

    refusal(rc, results, output)
    assert "no-docker.sock" in output
    assert "runs on the target database already" not in output
    assert "Stop the MLflow server" not in output
