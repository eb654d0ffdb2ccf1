"""The store roles' compose templates, rendered by a real ansible-playbook and read back by the
real `docker compose config`.

postgres_extra_settings reach PostgreSQL's command line as written: values holding ": ", "#", a
trailing space or "$" (YAML and Compose would otherwise take them apart or substitute them)
arrive unchanged. The healthchecks wait as long as the roles' wait timeouts.
"""

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROLES = Path(__file__).resolve().parents[2] / "roles"
POSTGRES_VARS = {
    "postgres_image": "mlops-test/none:1",
    "postgres_user": "mlflow",
    "postgres_db": "mlflow",
    "postgres_port": 5432,
    "postgres_max_connections": 100,
    "postgres_shared_buffers": "128MB",
    "postgres_publish_address_effective": "",
    "postgres_volume": "mlops-test-postgres",
    "postgres_extra_settings": {},
    "postgres_wait_timeout": 180,
}
MINIO_VARS = {
    "minio_image": "mlops-test/none:1",
    "minio_api_port": 9000,
    "minio_console_port": 9001,
    "minio_console": False,
    "minio_api_publish_address_effective": "127.0.0.1",
    "minio_volume": "mlops-test-minio",
    "minio_wait_timeout": 120,
}
SETTINGS = {
    "log_line_prefix": "%t [%p]: user=%u,db=%d ",
    "search_path": '"$user", public',
    "work_mem": "16MB",
    "application_name": "mlflow # metadata",
}


def _compose_config(run_tasks, tmp_path, role, secrets, variables):
    """The role's compose template rendered by ansible-playbook, as `docker compose config` reads it."""
    (tmp_path / "secrets").mkdir()
    for name in secrets:
        (tmp_path / "secrets" / name).write_text("stand-in", encoding="utf-8")
    rendered = tmp_path / f"{role}.compose.yml"
    template = ROLES / role / "templates" / f"{role}.compose.yml.j2"
    rc, _results, output = run_tasks(
        [{"ansible.builtin.template": {"src": str(template), "dest": str(rendered), "mode": "0600"}, "vars": variables}]
    )
    assert rc == 0, output
    config = subprocess.run(
        ["docker", "compose", "-p", f"mlops-{role}-settings-test", "-f", str(rendered), "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(config.stdout)["services"][role]


def test_extra_settings_with_yaml_and_compose_specials_arrive_unchanged(run_tasks, tmp_path):
    service = _compose_config(
        run_tasks, tmp_path, "postgres", ["postgres_password"], {**POSTGRES_VARS, "postgres_extra_settings": SETTINGS}
    )
    command = service["command"]
    settings = [command[i + 1] for i, arg in enumerate(command) if arg == "-c"]
    for key, value in SETTINGS.items():
        # `config` prints a Compose file again, where "$$" stands for one "$" (without the
        # doubling, Compose would have substituted "$user" with nothing: "search_path=\"\", public").
        assert f"{key}={value}".replace("$", "$$") in settings, settings


# Compose's `up --wait` gives up as soon as a container is unhealthy, so a start longer than the
# healthcheck's start period plus its retries failed the play however long its wait was.
@pytest.mark.parametrize(
    ("role", "secrets", "variables"),
    [
        ("postgres", ["postgres_password"], {**POSTGRES_VARS, "postgres_wait_timeout": 900}),
        ("minio", ["minio_root_user", "minio_root_password"], {**MINIO_VARS, "minio_wait_timeout": 900}),
    ],
)
def test_the_healthcheck_waits_as_long_as_the_play(run_tasks, tmp_path, role, secrets, variables):
    service = _compose_config(run_tasks, tmp_path, role, secrets, variables)

    assert service["healthcheck"]["start_period"] == "15m0s", service["healthcheck"]
