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


def _checks(inventory: Path, unknown: tuple = ()) -> tuple[int, str, dict]:
    """Run inventory_checks.yml; return rc, output and the facts each host's tasks set.

    ``unknown``: stand-ins left out, as for a host whose role did not run in the play (--limit)."""
    proc, report = run_playbook(
        Path(__file__).parent / "inventory_checks.yml",
        "-i",
        str(inventory),
        "-e",
        json.dumps({name: value for name, value in STAND_INS.items() if name not in unknown}),
        cwd=ROOT,
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


def _local_stage(tmp_path, **mlflow_vars) -> Path:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "vars": {"mlflow_stage": "local"},
                    "children": {"mlflow_server": {"hosts": {"solo": mlflow_vars}}},
                }
            }
        ),
        encoding="utf-8",
    )
    return inventory


def test_the_image_is_built_from_the_roles_pip_lock(tmp_path):
    rc, output, facts = _checks(_local_stage(tmp_path))
    assert rc == 0, output[-3000:]
    files = {item["dest"]: item["content"] for item in facts["solo"]["mlflow_server_build_files"]}
    lock = ROOT / "roles" / "mlflow_server" / "files" / "pip-locks" / "mlflow-3.17.2.txt"
    assert files["constraints.txt"] == lock.read_text(encoding="utf-8")
    assert "--constraint /usr/local/share/mlflow-server/constraints.txt" in files["Dockerfile"]


@pytest.mark.parametrize(
    ("mlflow_vars", "message"),
    [
        ({"mlflow_server_version": "9.9.9"}, "This role ships no pip lock for MLflow 9.9.9 (it has locks for: 3.17.2)"),
        ({"mlflow_server_pip_constraints": "OTHER"}, "pins mlflow at 3.0.0, not at mlflow_server_version 3.17.2"),
    ],
    ids=["no-lock-for-the-version", "lock-of-another-version"],
)
def test_a_missing_or_mismatched_lock_stops_the_role(tmp_path, mlflow_vars, message):
    other = tmp_path / "other.txt"
    other.write_text("mlflow==3.0.0\nboto3==1.34.0\n", encoding="utf-8")
    mlflow_vars = {name: str(other) if value == "OTHER" else value for name, value in mlflow_vars.items()}
    rc, output, _facts = _checks(_local_stage(tmp_path, **mlflow_vars))
    assert rc != 0
    assert message in output


def test_an_unlocked_build_has_no_constraints(tmp_path):
    rc, output, facts = _checks(_local_stage(tmp_path, mlflow_server_version="9.9.9", mlflow_server_pip_locked=False))
    assert rc == 0, output[-3000:]
    files = {item["dest"]: item["content"] for item in facts["solo"]["mlflow_server_build_files"]}
    assert "constraints.txt" not in files
    assert "--constraint" not in files["Dockerfile"]
    assert '"mlflow==9.9.9"' in files["Dockerfile"]
