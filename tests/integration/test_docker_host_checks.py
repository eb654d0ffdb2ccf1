"""docker_host's checks of the Compose plugin's version and of the users it lets at Docker.

A real ansible-playbook runs the role's task files on localhost. The version check is fed the
`docker info` answer it reads on a host (engine version, then the plugin's); the users check
runs in check mode, so nothing on this machine changes whatever the outcome.
"""

import json

import pytest

from .conftest import refusal

pytestmark = pytest.mark.integration


def _compose_check(answer, source="docker_repo"):
    return [
        {"ansible.builtin.set_fact": {"docker_host_info": {"rc": 0, "stdout": answer}}},
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.docker_host", "tasks_from": "compose_check"},
            "vars": {"docker_host_install_source": source},
        },
    ]


@pytest.mark.parametrize("answer", ["29.1.2 v5.0.0", "29.4.0 v5.5.0", "20.10.24 v2.19.0", "27.3.1 2.29.7"])
def test_compose_2_19_or_later_passes_v5_included(run_tasks, answer):
    rc, results, output = run_tasks(_compose_check(answer))

    assert rc == 0, output
    assert not any(r.get("failed") for r in results), output


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("24.0.7 v2.18.1", "has Compose v2.18.1, older than 2.19"),
        ("24.0.7", "has no Compose plugin"),
        ("24.0.7 v1.29.2", "has Compose v1.29.2, older than 2.19"),
    ],
    ids=["older v2", "no plugin", "v1"],
)
def test_compose_older_than_2_19_or_missing_fails_naming_it(run_tasks, answer, expected):
    rc, results, output = run_tasks(_compose_check(answer))

    assert rc != 0, output
    failed = [r for r in results if r.get("failed")]
    assert expected in failed[-1]["msg"], failed[-1]
    assert "docker-compose-plugin package" in failed[-1]["msg"]


def test_compose_failure_on_the_distro_source_points_at_the_plugin_binary(run_tasks):
    rc, results, output = run_tasks(_compose_check("20.10.24", source="distro"))

    assert rc != 0, output
    assert "docker_host_compose_plugin_src/_url" in [r for r in results if r.get("failed")][-1]["msg"]


def test_a_user_who_is_no_account_fails_before_any_group_change(run_tasks):
    tasks = [
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.docker_host", "tasks_from": "users"},
            "vars": {"docker_host_users": ["root", "no-such-user-mlops-test"]},
        }
    ]
    rc, results, output = run_tasks(tasks, check=True)

    message = refusal(rc, results, output)
    assert "docker_host_users names no-such-user-mlops-test, not an account" in message
    assert not any(r.get("action") == "ansible.builtin.user" for r in results), output


def test_existing_users_reach_the_group_task(run_tasks):
    tasks = [
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.docker_host", "tasks_from": "users"},
            "vars": {"docker_host_users": ["root"]},
        }
    ]
    rc, results, output = run_tasks(tasks, check=True)

    assert rc == 0, output
    assert any(r.get("action") == "ansible.builtin.user" for r in results), output


def _daemon_json(run_tasks, options):
    """daemon.json as the role would write it (check mode with diff: nothing is written here)."""
    rc, results, output = run_tasks(
        [
            {
                "ansible.builtin.include_role": {"name": "mlops.mlflow.docker_host", "tasks_from": "configure"},
                "vars": {"docker_host_daemon_options": options},
            }
        ],
        check=True,
        diff=True,
    )
    assert rc == 0, output
    written = next(r for r in results if r.get("diff") and "daemon.json" in str(r["diff"]))
    diff = written["diff"][0] if isinstance(written["diff"], list) else written["diff"]
    return json.loads(diff["after"])


def test_daemon_options_merge_into_the_roles_nested_settings(run_tasks):
    # A tag for the logs must not drop the rotation: without it container logs grow until the disk fills.
    config = _daemon_json(run_tasks, {"log-opts": {"tag": "{{ '{{' }}.Name{{ '}}' }}"}, "debug": True})

    assert config["log-opts"] == {"max-size": "10m", "max-file": "3", "tag": "{{.Name}}"}, config
    assert config["debug"] is True


def test_another_log_driver_in_the_daemon_options_gets_no_rotation_options(run_tasks):
    # journald refuses max-size and max-file: dockerd would not start with them.
    config = _daemon_json(run_tasks, {"log-driver": "journald", "log-opts": {"tag": "mlflow"}})

    assert config["log-driver"] == "journald"
    assert config["log-opts"] == {"tag": "mlflow"}, config
