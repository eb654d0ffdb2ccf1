"""The example inventories the collection ships pass the roles' own checks.

A real ansible-playbook loads each inventory under inventories/ and runs the roles' controller-side
checks in site.yml's order (inventory_checks.yml: the database connection count, TLS settings,
stores, upstreams). Those tasks only set facts and assert, and the connection is forced to `local`,
so none of the inventories' addresses is contacted. The vault variables and the secrets the roles
would read from the hosts get stand-in values.
"""

import json
import sys
from pathlib import Path

import pytest

from .conftest import run_playbook

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
INVENTORIES = sorted(p.name for p in (ROOT / "inventories").iterdir() if p.is_dir())
STAND_INS = {
    "ansible_connection": "local",
    "ansible_python_interpreter": sys.executable,
    "vault_mlflow_db_password": "stand-in-password",
    "vault_nginx_auth_users": [{"name": "alice", "password": "stand-in-password"}],
    # What the postgres and minio roles read from their hosts' secret files in a real run.
    "postgres_password_effective": "stand-in-password",
    "minio_credentials_effective": {"access_key": "stand-in-key", "secret_key": "stand-in-secret"},
}


def _checks(inventory: Path) -> tuple[int, str, dict]:
    """Run inventory_checks.yml; return rc, output and the facts each host's tasks set."""
    proc, report = run_playbook(
        Path(__file__).parent / "inventory_checks.yml", "-i", str(inventory), "-e", json.dumps(STAND_INS), cwd=ROOT
    )
    facts: dict[str, dict] = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, outcome in task["hosts"].items():
                facts.setdefault(host, {}).update(outcome.get("ansible_facts") or {})
    return proc.returncode, proc.stdout + proc.stderr, facts


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_inventory_passes_the_roles_checks(inventory):
    rc, output, _facts = _checks(ROOT / "inventories" / inventory)
    assert rc == 0, output[-3000:]
    assert '"failures": 0' in output and '"unreachable": 0' in output


def test_nginx_proxies_to_the_port_of_the_mlflow_stage(tmp_path):
    """The local stage serves MLflow on 5001: nginx on the same host proxies there, and to another
    host's MLflow on the port its inventory gives."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "vars": {"mlflow_stage": "local", "nginx_auth_server_names": ["localhost"]},
                    "children": {
                        "mlflow_server": {
                            "hosts": {
                                "solo": {},
                                # Never contacted: the address only goes into nginx's configuration.
                                "other": {"ansible_host": "192.0.2.7", "mlflow_server_port": 5077},
                            }
                        },
                        "nginx_auth": {"hosts": {"solo": {}}},
                    },
                }
            }
        ),
        encoding="utf-8",
    )
    rc, output, facts = _checks(inventory)
    assert rc == 0, output[-3000:]
    assert facts["solo"]["nginx_auth_upstreams"] == ["127.0.0.1:5001", "192.0.2.7:5077"]
