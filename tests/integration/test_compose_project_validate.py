"""compose_project's `service` entry point refuses a definition that breaks the host's project.

A real ansible-playbook runs the role on localhost with a real `docker compose config` (the
test command installs Compose v2). Nothing is started: the refused definition never gets to `up`.
"""

import pytest

pytestmark = pytest.mark.integration

VALID = "services:\n  web:\n    image: mlops-test/none:1\n    depends_on: [db]\n"
OTHER = "services:\n  db:\n    image: mlops-test/none:1\n"
BROKEN = "services:\n  web:\n    image: mlops-test/none:1\n    depends_on: [nosuchservice]\n"


def _service(project_dir, definition):
    return {
        "ansible.builtin.include_role": {"name": "mlops.mlflow.compose_project", "tasks_from": "service"},
        "vars": {
            "compose_project_dir": str(project_dir),
            "compose_project_name": "mlops-validate-test",
            "compose_project_service": "web",
            "compose_project_definition": definition,
        },
    }


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
