"""mlflow_server's stage guard when the inventory moves the database to another host.

A real ansible-playbook runs the role's `stage_guard` entry point on localhost, with a real
Docker volume standing for the compose stage's PostgreSQL data on this host. When the `postgres`
group's host is another host (the inventory moved the database there), MLflow would start on an
empty schema while the old data stays behind: the run stops before anything changes and says how
to move it. The volume is the test's own (a unique name), removed afterwards.
"""

import os
import subprocess

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_volume():
    name = "mlops-guard-test-pg-" + os.urandom(3).hex()
    subprocess.run(["docker", "volume", "create", name], check=True, capture_output=True)
    yield name
    subprocess.run(["docker", "volume", "rm", name], check=False, capture_output=True)


def _guard(postgres_host, volume):
    return [
        {"ansible.builtin.add_host": {"name": postgres_host, "groups": ["postgres"]}},
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.mlflow_server", "tasks_from": "stage_guard"},
            "vars": {"mlflow_stage": "compose", "postgres_volume": volume},
        },
    ]


def test_database_moved_to_another_host_stops_while_this_host_keeps_its_data(run_tasks, pg_volume):
    rc, results, output = run_tasks(_guard("db-elsewhere.example", pg_volume))

    assert rc != 0, output
    failed = [r for r in results if r.get("failed")]
    assert len(failed) == 1, output
    assert f"keeps the compose stage's PostgreSQL data (volume {pg_volume})" in failed[0]["msg"]
    assert "now points MLflow at db-elsewhere.example. Nothing was changed." in failed[0]["msg"]
    assert "mlflow_server_local_postgres_retired=true" in failed[0]["msg"]


def test_database_on_this_host_passes(run_tasks, pg_volume):
    rc, _results, output = run_tasks(_guard("localhost", pg_volume))

    assert rc == 0, output
