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


def _upgrade(
    tmp_path,
    failing_host="",
    backup_by="mlflow1",
    tasks_from="upgrade_ready",
    task="Refuse to upgrade",
    forks=5,
    **variables,
):
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
                            "name": "Stand-in for the state file's reading (a fact of each host, as state.yml sets it)",
                            "ansible.builtin.set_fact": {"mlflow_server_version_changed": True},
                        },
                        {
                            "name": "Stand-in for a failed stop or backup",
                            "ansible.builtin.fail": {"msg": "stand-in failure"},
                            "when": f"inventory_hostname == {failing_host!r}",
                        },
                        {
                            "name": "Stand-in for the backup",
                            "ansible.builtin.set_fact": {"mlflow_server_backup_taken": "/opt/mlflow/backups/x.dump"},
                            "when": f"inventory_hostname == {backup_by!r}",
                        },
                        {
                            "ansible.builtin.include_role": {
                                "name": "mlops.mlflow.mlflow_server",
                                "tasks_from": tasks_from,
                            }
                        },
                    ],
                }
            ]
        ),
        encoding="utf-8",
    )
    proc, report = run_playbook(playbook, "-i", str(inventory), "--forks", str(forks))
    tasks = report["plays"][0]["tasks"]
    check = next(result["hosts"] for result in tasks if task in result["task"]["name"])
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


# A failed db-upgrade, as the one-off container reports one: the error on stderr, exit 1.
FAILING_UPGRADE = (
    "sh",
    "-c",
    "echo 'INFO  [alembic] Running upgrade' >&2; echo 'psycopg2.errors.DiskFull: no space' >&2; exit 1",
    "sh",
)


def _schema(tmp_path, oneoff=FAILING_UPGRADE, **variables):
    return _upgrade(
        tmp_path,
        tasks_from="upgrade_schema",
        task="Stop with the reason",
        mlflow_server_oneoff_argv=list(oneoff),
        **variables,
    )


@pytest.mark.parametrize("forks", [1, 5])
def test_a_failed_upgrade_names_its_error_and_the_shared_backup_on_every_host(tmp_path, forks):
    # One fork or several: the host that took the backup fails first, and every host's message must
    # still name that backup (the backups are looked up among all the play's hosts).
    proc, stop = _schema(tmp_path, mlflow_server_backup_fetch_dir="/srv/backups", forks=forks)

    assert proc.returncode != 0
    for host in ("mlflow1", "mlflow2"):
        message = stop[host]["msg"]
        # mlflow1 ran the one upgrade; mlflow2 says where, with its error.
        where = "" if host == "mlflow1" else ", on mlflow1"
        assert message.startswith(
            f"MLflow 3.16.0 -> 3.17.2: the schema upgrade (db-upgrade{where}) failed: INFO  [alembic] Running upgrade"
            " | psycopg2.errors.DiskFull: no space. The MLflow server stays stopped"
        ), message
        # mlflow1 took the backup for both (the stand-in above); mlflow2 names it too.
        assert (
            "The backup taken before the upgrade: /opt/mlflow/backups/x.dump on db (a copy in /srv/backups/db on the"
            " controller); a re-run takes another, of the database as it is now: keep this one." in message
        ), message
        assert (
            "set postgres_restore_dump to its absolute path there,"
            " then re-run site.yml with mlflow_server_version=3.16.0 and mlflow_server_pip_constraints (the role"
            " ships no pip lock for that version)." in message
        )
        assert "docker compose -p mlflow start mlflow brings the older server back" in message


def test_a_failed_upgrade_of_a_sqlite_file_says_to_copy_the_backup_back(tmp_path):
    proc, stop = _schema(
        tmp_path,
        mlflow_server_backend="sqlite",
        mlflow_server_backup_host="mlflow1",
        mlflow_server_data_dir="/opt/mlflow/data",
        # Going back to a version the role ships a pip lock for: no word of pip constraints.
        mlflow_server_previous_version="3.17.2",
        mlflow_server_version="3.18.0",
    )

    assert proc.returncode != 0
    message = stop["mlflow1"]["msg"]
    assert "The backup taken before the upgrade: /opt/mlflow/backups/x.dump on mlflow1;" in message, message
    assert (
        "remove /opt/mlflow/data/mlflow.db-journal, -wal and -shm if there (what the failed upgrade left), copy the"
        " backup over /opt/mlflow/data/mlflow.db, owned by uid 10001, then re-run site.yml with"
        " mlflow_server_version=3.17.2. Meanwhile" in message
    ), message
    # mlflow2 took no backup of its own SQLite file (it would have been refused before the upgrade).
    assert "The backup taken" not in stop["mlflow2"]["msg"]


def test_a_failed_upgrade_of_a_managed_database_points_at_its_snapshot(tmp_path):
    proc, stop = _schema(tmp_path, backup_by="", mlflow_server_backup_host="")

    assert proc.returncode != 0
    message = stop["mlflow1"]["msg"]
    assert "The backup taken" not in message
    assert "restore the snapshot you took (mlflow_server_upgrade_backup_done), then re-run site.yml" in message


def _counted(tmp_path, exit_code):
    """A stand-in db-upgrade that records each run in a file, then exits as told."""
    return ["sh", "-c", f"echo run >> {tmp_path}/upgrades; exit {exit_code}", "sh"]


def _upgraded(tmp_path, **variables):
    """The upgrade step with a stand-in db-upgrade that succeeds; its results by host."""
    return _upgrade(
        tmp_path,
        tasks_from="upgrade_schema",
        task="Upgrade the schema with",
        mlflow_server_oneoff_argv=_counted(tmp_path, 0),
        **variables,
    )


def test_a_shared_database_is_upgraded_once_for_every_host(tmp_path):
    proc, upgrade = _upgraded(tmp_path)

    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "upgrades").read_text().splitlines() == ["run"]
    assert upgrade["mlflow1"]["changed"] and upgrade["mlflow2"].get("skipped"), upgrade


def test_after_a_failed_upgrade_of_a_shared_database_no_host_tries_again(tmp_path):
    proc, stop = _schema(tmp_path, oneoff=_counted(tmp_path, 1))

    assert proc.returncode != 0
    assert (tmp_path / "upgrades").read_text().splitlines() == ["run"]
    assert set(stop) == {"mlflow1", "mlflow2"}, stop
    assert all(result["failed"] for result in stop.values()), stop


def test_sqlite_hosts_each_upgrade_their_own_file(tmp_path):
    proc, _results = _upgraded(tmp_path, mlflow_server_backend="sqlite")

    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / "upgrades").read_text().splitlines() == ["run", "run"]
