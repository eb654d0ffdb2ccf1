"""compose_project's `service` entry point and its module, mlops.mlflow.compose_service, on real files.

A real ansible-playbook runs them on localhost with the real `docker compose` (the test command
installs Compose v2): a definition that breaks the host's project is refused before `up`; check
mode shows the change and writes nothing; a service that cannot start fails with Compose's reason.
"""

import os
import subprocess
import time

import pytest

from .conftest import compose_service

pytestmark = pytest.mark.integration

PROJECT = "mlops-validate-test"


@pytest.fixture(autouse=True)
def _remove_the_projects_network():
    """A failed `up` leaves the project's default network behind; remove it after each test."""
    yield
    subprocess.run(["docker", "network", "rm", PROJECT + "_default"], capture_output=True, check=False)


VALID = "services:\n  web:\n    image: mlops-test/none:1\n    depends_on: [db]\n"
OTHER = "services:\n  db:\n    image: mlops-test/none:1\n"
BROKEN = "services:\n  web:\n    image: mlops-test/none:1\n    depends_on: [nosuchservice]\n"


def _service(project_dir, definition):
    return compose_service(project_dir, PROJECT, definition)


def test_a_definition_that_breaks_the_project_is_refused_and_the_old_one_stays(run_tasks, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "web.compose.yml").write_text(VALID, encoding="utf-8")
    (project / "db.compose.yml").write_text(OTHER, encoding="utf-8")

    rc, results, output = run_tasks([_service(project, BROKEN)])

    assert rc != 0, output
    failed = [r for r in results if r.get("failed")]
    assert failed, output
    assert 'depends on undefined service "nosuchservice"' in failed[-1].get("stderr", ""), failed[-1]
    assert (project / "web.compose.yml").read_text(encoding="utf-8") == VALID
    assert sorted(p.name for p in project.iterdir()) == ["db.compose.yml", "secrets", "web.compose.yml"]


def _module(project_dir, definition, **options):
    return {
        "mlops.mlflow.compose_service": {
            "project_dir": str(project_dir),
            "project_name": PROJECT,
            "service": "web",
            "definition": definition,
            "owner": str(os.getuid()),
            "group": str(os.getgid()),
            **options,
        }
    }


def test_check_mode_shows_the_change_and_leaves_the_file(run_tasks, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "web.compose.yml").write_text(OTHER.replace("db", "web"), encoding="utf-8")
    (project / "db.compose.yml").write_text(OTHER, encoding="utf-8")

    rc, results, output = run_tasks([_module(project, VALID)], check=True, diff=True)

    assert rc == 0, output
    assert results[0]["changed"] and results[0]["file_changed"], results[0]
    assert results[0]["diff"][0]["after"] == VALID  # the content, as text; then the mode (0644 -> 0640)
    assert (project / "web.compose.yml").read_text(encoding="utf-8") == OTHER.replace("db", "web")


def test_a_valid_definition_is_written_and_a_service_that_cannot_start_fails_clearly(run_tasks, tmp_path):
    # The image does not exist and pull is off: Compose fails at once, with no network traffic.
    project = tmp_path / "project"
    project.mkdir()
    (project / "db.compose.yml").write_text(OTHER, encoding="utf-8")

    rc, results, output = run_tasks([_module(project, VALID, pull="never", wait_timeout=10)])

    assert rc != 0, output
    result = results[0]
    assert result["failed"] and result["file_changed"], result
    assert result["msg"].startswith("web did not come up healthy (docker compose up --wait, timeout 10s, exited 1: "), (
        result
    )
    assert "mlops-test/none:1" in result["stderr"], result
    assert (project / "web.compose.yml").read_text(encoding="utf-8") == VALID
    assert sorted(p.name for p in project.iterdir()) == ["db.compose.yml", "web.compose.yml"]


# A service whose health is a file in the container: removed, the container turns unhealthy
# within two seconds while it keeps running, as defined (nothing for `up` to recreate).
PROBED = """\
services:
  web:
    image: mlops-test/debian:bookworm
    command: [sh, -c, "touch /tmp/healthy && exec sleep infinity"]
    init: true
    healthcheck:
      test: [CMD, test, -f, /tmp/healthy]
      interval: 1s
      timeout: 1s
      retries: 1
"""


def _health(container):
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", container],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_an_unchanged_service_is_only_trusted_while_it_runs_healthy(run_tasks, tmp_path):
    """Without `--wait` on an idempotent run: healthy -> unchanged; stopped -> started and
    waited for; running but unhealthy -> `up --wait` fails with Compose's reason."""
    project = tmp_path / "project"
    project.mkdir()
    container = PROJECT + "-web-1"
    task = _module(project, PROBED, pull="never", wait_timeout=20)
    try:
        rc, results, output = run_tasks([task, task])
        assert rc == 0, output
        first, second = results
        assert first["changed"] and first["service_changed"], first
        assert not second["changed"] and second["actions"] == [], second
        assert _health(container) == "running healthy"

        subprocess.run(["docker", "stop", "--time", "1", container], capture_output=True, check=True)
        rc, results, output = run_tasks([task])
        assert rc == 0, output
        assert results[0]["changed"] and results[0]["service_changed"] and not results[0]["file_changed"], results[0]
        assert _health(container) == "running healthy"  # waited for, not just started

        subprocess.run(["docker", "exec", container, "rm", "/tmp/healthy"], capture_output=True, check=True)
        deadline = time.monotonic() + 10
        while _health(container) != "running unhealthy" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _health(container) == "running unhealthy"
        rc, results, output = run_tasks([task])
        assert rc != 0, output
        assert results[0]["msg"].startswith("web did not come up healthy (docker compose up --wait, "), results[0]
        assert "unhealthy" in results[0]["msg"], results[0]
    finally:
        subprocess.run(
            ["docker", "compose", "--project-name", PROJECT, "down", "--timeout", "1"],
            cwd=project,
            capture_output=True,
            check=False,
        )
