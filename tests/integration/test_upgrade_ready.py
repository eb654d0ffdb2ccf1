"""mlflow_server's last check before an upgrade changes a shared database's schema.

Several MLflow hosts share one PostgreSQL: the first of them takes the backup, once every server
is stopped. A host whose stop or backup fails leaves the play; without this check the others
went on and upgraded the schema, with no backup, or with a server left serving the older MLflow
on the newer schema. A real ansible-playbook runs the role's `upgrade_ready` tasks on two
inventory hosts (local connection; nothing is contacted), after a stand-in task that fails on
the host named, as the stop or the pg_dump would.
"""

import json

import pytest

from .conftest import run_playbook

pytestmark = pytest.mark.integration

UPGRADE = {
    "mlflow_server_backend": "postgres",
    "mlflow_server_previous_version": "3.16.0",
    "mlflow_server_version": "3.17.2",
    "mlflow_server_group_hosts": "{{ groups['mlflow_server'] }}",
    "mlflow_server_backup_host": "db",
}


def _upgrade(tmp_path, failing_host="", backup_by="mlflow1", **variables):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "children": {
                        "mlflow_server": {"hosts": {h: {"ansible_connection": "local"} for h in ("mlflow1", "mlflow2")}}
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    playbook = tmp_path / "upgrade.yml"
    playbook.write_text(
        json.dumps(
            [
                {
                    "hosts": "mlflow_server",
                    "gather_facts": False,
                    "vars": {**UPGRADE, **variables},
                    "tasks": [
                        {
                            "name": "Stand-in for the backup",
                            "ansible.builtin.set_fact": {"mlflow_server_backup_taken": "/opt/mlflow/backups/x.dump"},
                            "when": f"inventory_hostname == {backup_by!r}",
                        },
                        {
                            "name": "Stand-in for a failed stop or backup",
                            "ansible.builtin.fail": {"msg": "stand-in failure"},
                            "when": f"inventory_hostname == {failing_host!r}",
                        },
                        {
                            "ansible.builtin.include_role": {
                                "name": "mlops.mlflow.mlflow_server",
                                "tasks_from": "upgrade_ready",
                            }
                        },
                    ],
                }
            ]
        ),
        encoding="utf-8",
    )
    proc, report = run_playbook(playbook, "-i", str(inventory))
    tasks = report["plays"][0]["tasks"]
    check = next(task["hosts"] for task in tasks if "Refuse to upgrade" in task["task"]["name"])
    return proc, check


def test_every_server_stopped_and_the_backup_taken_passes(tmp_path):
    proc, check = _upgrade(tmp_path)

    assert proc.returncode == 0, proc.stdout[-3000:]
    assert set(check) == {"mlflow1", "mlflow2"}


def test_the_backup_host_failing_stops_the_others_before_the_schema_changes(tmp_path):
    proc, check = _upgrade(tmp_path, failing_host="mlflow1")

    assert proc.returncode != 0
    assert check["mlflow2"]["failed"], check
    assert "the schema was not upgraded, as mlflow1 failed in this run" in check["mlflow2"]["msg"]
    assert "as no backup of the database was taken (db;" in check["mlflow2"]["msg"]


def test_another_server_failing_to_stop_stops_the_upgrade(tmp_path):
    proc, check = _upgrade(tmp_path, failing_host="mlflow2")

    assert proc.returncode != 0
    assert check["mlflow1"]["failed"], check
    assert "as mlflow2 failed in this run (the stop, the backup or its copy" in check["mlflow1"]["msg"]
    assert "no backup" not in check["mlflow1"]["msg"]


def test_a_database_outside_the_inventory_needs_no_backup_here(tmp_path):
    # The cloud stage: backed up by its owner (mlflow_server_upgrade_backup_done, checked earlier).
    proc, check = _upgrade(tmp_path, backup_by="", mlflow_server_backup_host="")

    assert proc.returncode == 0, proc.stdout[-3000:]
    assert not any(result.get("failed") for result in check.values())


def test_a_database_outside_the_inventory_stops_on_a_failed_host_without_blaming_a_backup(tmp_path):
    proc, check = _upgrade(tmp_path, failing_host="mlflow2", backup_by="", mlflow_server_backup_host="")

    assert proc.returncode != 0
    assert check["mlflow1"]["failed"], check
    assert "as mlflow2 failed in this run" in check["mlflow1"]["msg"]
    assert "no backup" not in check["mlflow1"]["msg"]


def test_a_sqlite_host_needs_its_own_backup(tmp_path):
    proc, check = _upgrade(tmp_path, backup_by="mlflow1", mlflow_server_backend="sqlite", mlflow_server_backup_host="x")

    assert proc.returncode != 0
    assert not check["mlflow1"].get("failed"), check
    assert check["mlflow2"]["failed"] and "no backup of the database was taken" in check["mlflow2"]["msg"]
