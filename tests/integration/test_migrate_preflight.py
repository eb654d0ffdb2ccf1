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
