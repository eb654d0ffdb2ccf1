"""postgres_extra_settings reach PostgreSQL's command line as written, through Compose.

The role's compose template is rendered by a real ansible-playbook and read back by the real
`docker compose config`: values holding ": ", "#", a trailing space or "$" (YAML and Compose
would otherwise take them apart or substitute them) arrive unchanged.
"""

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TEMPLATE = Path(__file__).resolve().parents[2] / "roles/postgres/templates/postgres.compose.yml.j2"
SETTINGS = {
    "log_line_prefix": "%t [%p]: user=%u,db=%d ",
    "search_path": '"$user", public',
    "work_mem": "16MB",
    "application_name": "mlflow # metadata",
}


def test_extra_settings_with_yaml_and_compose_specials_arrive_unchanged(run_tasks, tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets/postgres_password").write_text("stand-in", encoding="utf-8")
    rendered = tmp_path / "postgres.compose.yml"
    rc, _results, output = run_tasks(
        [
            {
                "ansible.builtin.template": {"src": str(TEMPLATE), "dest": str(rendered), "mode": "0600"},
                "vars": {
                    "postgres_image": "mlops-test/none:1",
                    "postgres_user": "mlflow",
                    "postgres_db": "mlflow",
                    "postgres_port": 5432,
                    "postgres_max_connections": 100,
                    "postgres_shared_buffers": "128MB",
                    "postgres_publish_address_effective": "",
                    "postgres_volume": "mlops-test-postgres",
                    "postgres_extra_settings": SETTINGS,
                },
            }
        ]
    )
    assert rc == 0, output

    config = subprocess.run(
        ["docker", "compose", "-p", "mlops-pg-settings-test", "-f", str(rendered), "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    command = json.loads(config.stdout)["services"]["postgres"]["command"]
    settings = [command[i + 1] for i, arg in enumerate(command) if arg == "-c"]
    for key, value in SETTINGS.items():
        # `config` prints a Compose file again, where "$$" stands for one "$" (without the
        # doubling, Compose would have substituted "$user" with nothing: "search_path=\"\", public").
        assert f"{key}={value}".replace("$", "$$") in settings, settings
