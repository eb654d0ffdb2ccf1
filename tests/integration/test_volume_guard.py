"""compose_project's volume guard: a data volume another compose project's containers use.

Two PostgreSQL (or MinIO) servers on one data directory corrupt it, and on one host nothing else
stops the second (no published port to conflict, Compose only warns). A real ansible-playbook
runs the guard on localhost against a real Docker volume and a real (stopped, never started)
container of the test's own that mounts it, labelled as Compose labels a project's containers;
both are removed afterwards.
"""

import os
import subprocess

import pytest

from .conftest import refusal, scratch_volume

pytestmark = pytest.mark.integration

IMAGE = "mlops-test/postgres:15"


@pytest.fixture
def used_volume():
    """A volume and a created container of compose project `staging` mounting it."""
    with scratch_volume("volume-guard") as name:
        subprocess.run(
            ["docker", "create", "--name", name, "--label", "com.docker.compose.project=staging",
             "-v", f"{name}:/var/lib/postgresql/data", IMAGE],
            check=True, capture_output=True,
        )  # fmt: skip
        try:
            yield name
        finally:
            subprocess.run(["docker", "rm", "-f", name], check=False, capture_output=True)


def _guard(volume, project):
    return [
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.compose_project", "tasks_from": "volume_guard"},
            "vars": {"compose_project_volume": volume, "compose_project_name": project},
        }
    ]


def test_a_volume_another_project_uses_is_refused(run_tasks, used_volume):
    rc, results, output = run_tasks(_guard(used_volume, "mlflow"))

    message = refusal(rc, results, output)
    assert (
        f"Volume {used_volume} is used by container(s) of another project (container, project: {used_volume} staging)"
        in message
    )
    assert "two servers on one data directory corrupt it. Nothing was changed." in message


def test_the_projects_own_volume_passes(run_tasks, used_volume):
    rc, _results, output = run_tasks(_guard(used_volume, "staging"))

    assert rc == 0, output


def test_a_volume_no_container_uses_passes(run_tasks):
    rc, _results, output = run_tasks(_guard("mlops-volume-guard-test-unused-" + os.urandom(3).hex(), "mlflow"))

    assert rc == 0, output
