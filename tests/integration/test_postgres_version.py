"""The postgres role refuses an image whose PostgreSQL major version cannot read the data.

A real ansible-playbook runs the role's `version` tasks on localhost with the real stand-in
PostgreSQL image (Debian's postgresql-15, built by the test command) and a Docker volume of the
test's own holding a data directory's PG_VERSION file, as PostgreSQL writes it. A new major
version would fail to start on that data after Compose removed the running container: the run
stops first, saying how to move the data.
"""

import os
import subprocess

import pytest

from .conftest import refusal, scratch_volume

pytestmark = pytest.mark.integration

IMAGE = "mlops-test/postgres:15"


@pytest.fixture
def data_volume():
    """A volume whose data directory says which major version wrote it; removed afterwards."""
    with scratch_volume("pg-version") as name:

        def written_by(major):
            write = f"echo {major} > /data/PG_VERSION"
            subprocess.run(
                ["docker", "run", "--rm", "-v", f"{name}:/data", "--entrypoint", "sh", IMAGE, "-c", write],
                check=True,
                capture_output=True,
            )
            return name

        yield written_by


def _version_check(volume):
    return [
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.postgres", "tasks_from": "version"},
            "vars": {
                "postgres_image": IMAGE,
                "postgres_volume": volume,
                "compose_project_name": "mlops-pg-version-test",  # no container: the image is new to the host
            },
        }
    ]


def test_data_of_another_major_version_is_refused_before_anything_changes(run_tasks, data_volume):
    volume = data_volume(14)
    rc, results, output = run_tasks(_version_check(volume))

    message = refusal(rc, results, output)
    assert f"postgres_image {IMAGE} is PostgreSQL 15" in message
    assert f"the data in volume {volume} was written by PostgreSQL 14" in message
    assert "Nothing was changed" in message


def test_data_of_the_same_major_version_passes(run_tasks, data_volume):
    rc, _results, output = run_tasks(_version_check(data_volume(15)))

    assert rc == 0, output


def test_a_new_volume_needs_no_check(run_tasks):
    rc, results, output = run_tasks(_version_check("mlops-pg-version-test-absent-" + os.urandom(3).hex()))

    assert rc == 0, output
    assert any(r.get("skipped") for r in results), output  # the image was not even started
