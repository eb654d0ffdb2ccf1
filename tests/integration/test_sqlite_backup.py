"""The SQLite backup taken before a schema upgrade (mlflow_server) and before a migration
(migrate_sqlite): one task file, `sqlite_backup`, run here by a real ansible-playbook on
localhost against a real SQLite file that a process killed mid-transaction left with its
rollback journal, as a server killed during a commit does. The file alone then holds the
uncommitted rows; the backup must hold the database as SQLite reads it: the committed rows only.
"""

import os
import shutil
import sqlite3
import stat

import pytest

pytestmark = pytest.mark.integration

COMMITTED = 100


@pytest.fixture
def interrupted_db(tmp_path):
    """A database with COMMITTED rows, and a transaction that wrote into the file and never ended."""
    path = tmp_path / "mlflow.db"
    with sqlite3.connect(path) as db:
        db.execute("create table runs (id integer primary key, payload text)")
        db.executemany("insert into runs (payload) values (?)", [("x" * 500,)] * COMMITTED)
    db.close()
    pid = os.fork()
    if pid == 0:  # the server, killed before its commit: the journal stays, the file holds the new pages
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("pragma cache_size = 5")  # spill the changed pages into the file before the commit
        db.execute("begin")
        db.executemany("insert into runs (payload) values (?)", [("y" * 500,)] * 2000)
        db.execute("update runs set payload = 'lost' where id <= 100")
        os._exit(0)
    os.waitpid(pid, 0)
    assert (tmp_path / "mlflow.db-journal").exists()
    # What a copy of the file alone holds (the role's earlier backup): the uncommitted changes.
    shutil.copy(path, tmp_path / "copy.db")
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("select count(*), sum(payload = 'lost') from runs").fetchone() != (COMMITTED, 0)
    copy.close()
    return path


def _backup(source, dest):
    return {
        "ansible.builtin.include_role": {"name": "mlops.mlflow.mlflow_server", "tasks_from": "sqlite_backup"},
        "vars": {"mlflow_server_sqlite_backup_source": str(source), "mlflow_server_sqlite_backup_dest": str(dest)},
    }


def test_the_backup_holds_the_committed_database_readable_by_its_owner_only(run_tasks, tmp_path, interrupted_db):
    backup = tmp_path / "backups" / "mlflow-3.16.0-20261206T000000Z.db"
    backup.parent.mkdir()
    rc, _results, output = run_tasks([_backup(interrupted_db, backup)])

    assert rc == 0, output
    db = sqlite3.connect(backup)
    assert db.execute("select count(*), sum(payload = 'lost') from runs").fetchone() == (COMMITTED, 0)
    assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    db.close()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_a_missing_database_fails_and_creates_nothing(run_tasks, tmp_path):
    rc, _results, output = run_tasks([_backup(tmp_path / "gone" / "mlflow.db", tmp_path / "backup.db")])

    assert rc != 0, output
    assert "unable to open database file" in output
    assert not (tmp_path / "gone").exists() and not (tmp_path / "backup.db").exists()
