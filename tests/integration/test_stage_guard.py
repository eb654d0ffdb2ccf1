"""mlflow_server's stage guard when the inventory moves the database to another host.

A real ansible-playbook runs the role's `stage_guard` entry point on localhost, with a real
Docker volume standing for the compose stage's PostgreSQL data on this host. When the `postgres`
group's host is another host (the inventory moved the database there), MLflow would start on an
empty schema while the old data stays behind: the run stops before anything changes and says how
to move it. The volume is the test's own (a unique name), removed afterwards.
"""

import shutil

import pytest

from .conftest import refusal, scratch_volume

pytestmark = pytest.mark.integration


def _volume(kind):
    """A volume of the test's own, standing for a stage's data."""
    with scratch_volume(f"guard-{kind}") as name:
        yield name


@pytest.fixture
def pg_volume():
    yield from _volume("pg")


def _guard(postgres_host, volume):
    return [
        {"ansible.builtin.add_host": {"name": postgres_host, "groups": ["postgres"]}},
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.mlflow_server", "tasks_from": "stage_guard"},
            "vars": {"mlflow_stage": "compose", "postgres_volume": volume},
        },
    ]


def test_database_moved_to_another_host_stops_while_this_host_keeps_its_data(run_tasks, pg_volume):
    rc, results, output = run_tasks(_guard("db-elsewhere.example", pg_volume))

    message = refusal(rc, results, output)
    assert f"keeps the compose stage's PostgreSQL data (volume {pg_volume})" in message
    assert "now points MLflow at db-elsewhere.example. Nothing was changed." in message
    assert "mlflow_server_local_postgres_retired=true" in message
    # MLflow stopped before the dump, restored before MLflow starts on the new host: nothing lost between.
    assert "Stop MLflow (`docker compose -p mlflow stop mlflow`, on every MLflow host" in message
    assert "`umask 077; docker compose -p mlflow exec -T postgres pg_dump" in message
    assert "restores it into the database on db-elsewhere.example before MLflow starts there" in message


def test_database_on_this_host_passes(run_tasks, pg_volume):
    rc, _results, output = run_tasks(_guard("localhost", pg_volume))

    assert rc == 0, output


# The state file the server writes once it runs: MLflow's version, the database it runs on, then
# its artifact destination and S3 endpoint (files of older versions of the role stop after the
# database, or after the destination).
SPLIT_DB = "postgresql://mlflow@10.0.0.9:5432/mlflow"  # the compose stage's database on another host
MANAGED_DB = "postgresql://mlflow@mlflow.abc.eu-west-1.rds.amazonaws.com:5432/mlflow"


def _state(tmp_path, last_db, now_db, last_artifacts=None, last_endpoint=None, **more):
    state_file = tmp_path / "mlflow.version"
    lines = ["3.17.2", last_db] + [line for line in (last_artifacts, last_endpoint) if line is not None]
    state_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.mlflow_server", "tasks_from": "state"},
            "vars": {
                "mlflow_server_state_file": str(state_file),
                "mlflow_server_db_identity": now_db,
                "mlflow_server_artifact_uri": "s3://mlflow",  # facts.yml's, in a run
                "mlflow_server_s3_endpoint_effective": "",  # AWS S3
                **more,
            },
        }
    ]


@pytest.mark.parametrize("now_db", [MANAGED_DB, "sqlite"])
def test_mlflow_pointed_away_from_the_postgresql_it_last_ran_on_stops(run_tasks, tmp_path, now_db):
    # The split layout's database host keeps the volume: nothing on this host to find but the state file.
    rc, results, output = run_tasks(_state(tmp_path, SPLIT_DB, now_db))

    message = refusal(rc, results, output)
    assert f"last ran on the database {SPLIT_DB} and the inventory now points it at {now_db}." in message
    assert "mlflow_server_local_postgres_retired=true" in message


@pytest.mark.parametrize(
    "last_db, now_db, more",
    [
        (SPLIT_DB, SPLIT_DB, {}),  # the same database
        ("sqlite", SPLIT_DB, {}),  # local -> compose: the SQLite file's own guard and the migration see to it
        (SPLIT_DB, MANAGED_DB, {"mlflow_server_local_postgres_retired": "true"}),  # as `-e name=true` gives it
    ],
)
def test_the_same_database_a_migration_or_a_retired_one_passes(run_tasks, tmp_path, last_db, now_db, more):
    rc, _results, output = run_tasks(_state(tmp_path, last_db, now_db, **more))

    assert rc == 0, output


def test_a_retired_flag_given_as_a_string_is_read_as_a_boolean(run_tasks, pg_volume):
    # ansible-core 2.19 refuses a conditional that is a string; `-e name=true` gives one.
    tasks = _guard("db-elsewhere.example", pg_volume)
    tasks[1]["vars"]["mlflow_server_local_postgres_retired"] = "true"
    rc, _results, output = run_tasks(tasks)

    assert rc == 0, output


# Runs logged through the artifact proxy resolve their mlflow-artifacts:/ URIs against the
# destination: a new bucket or prefix would leave each earlier run's artifacts answering 404.
BUCKET = "s3://mlflow-prod/prod"


@pytest.mark.parametrize("now", ["s3://mlflow-prod/team-a", "s3://mlflow-archive/prod"])
def test_a_new_artifact_destination_stops_until_the_objects_are_copied(run_tasks, tmp_path, now):
    tasks = _state(tmp_path, MANAGED_DB, MANAGED_DB, last_artifacts=BUCKET, mlflow_server_artifact_uri=now)
    rc, results, output = run_tasks(tasks)

    message = refusal(rc, results, output)
    assert f"last kept artifacts in {BUCKET} and the inventory now says {now}" in message
    assert f"`aws s3 sync {BUCKET}/ {now}/`" in message
    assert "mlflow_server_artifacts_copied=true" in message


SPLIT_MINIO = "http://10.0.0.7:9000"  # the minio group's host, the compose stage spread over hosts


@pytest.mark.parametrize(
    "last, now, described",
    [
        (SPLIT_MINIO, "", f"{BUCKET} on {SPLIT_MINIO} and the inventory now says {BUCKET} on AWS S3"),
        ("", "http://10.0.0.8:9000", f"{BUCKET} on AWS S3 and the inventory now says {BUCKET} on http://10.0.0.8:9000"),
    ],
)
def test_the_same_bucket_on_another_s3_endpoint_stops_until_the_objects_are_copied(
    run_tasks, tmp_path, last, now, described
):
    # The minio group moved to a new host, or the split stage went to a managed store, bucket name kept.
    tasks = _state(
        tmp_path, MANAGED_DB, MANAGED_DB, last_artifacts=BUCKET, last_endpoint=last, mlflow_server_artifact_uri=BUCKET
    )
    tasks[0]["vars"]["mlflow_server_s3_endpoint_effective"] = now
    rc, results, output = run_tasks(tasks)

    message = refusal(rc, results, output)
    assert f"last kept artifacts in {described} (" in message
    assert "`mc mirror` or `rclone sync` from the old store to the new one" in message
    assert "aws s3 sync" not in message
    assert "mlflow_server_artifacts_copied=true" in message


@pytest.mark.parametrize(
    "last, now, more",
    [
        (SPLIT_MINIO, SPLIT_MINIO, {}),  # unchanged
        (SPLIT_MINIO, SPLIT_MINIO.upper() + "/", {}),  # the same, written in capitals with a trailing slash
        (None, SPLIT_MINIO, {}),  # a state file of an older role: no endpoint recorded to compare
        (SPLIT_MINIO, "http://minio.internal:9000", {"mlflow_server_artifacts_copied": "true"}),  # same store, new name
        (SPLIT_MINIO, "", {"mlflow_server_artifacts_mode": "direct"}),  # runs hold full URIs
    ],
)
def test_the_same_endpoint_or_copied_objects_pass(run_tasks, tmp_path, last, now, more):
    tasks = _state(
        tmp_path, MANAGED_DB, MANAGED_DB, last_artifacts=BUCKET, last_endpoint=last, mlflow_server_artifact_uri=BUCKET
    )
    tasks[0]["vars"].update(mlflow_server_s3_endpoint_effective=now, **more)
    rc, _results, output = run_tasks(tasks)

    assert rc == 0, output


@pytest.mark.parametrize(
    "last, now, more",
    [
        (BUCKET, BUCKET, {}),  # unchanged
        (None, "s3://mlflow-archive/prod", {}),  # a state file of an older role: nothing recorded to compare
        ("/mlflow/artifacts", "s3://mlflow", {}),  # local -> compose: the migration copies them
        (BUCKET, "s3://mlflow-archive/prod", {"mlflow_server_artifacts_copied": "true"}),
        ("s3://mlflow", BUCKET, {"mlflow_server_local_minio_retired": "true"}),  # compose -> cloud, bucket copied
        (BUCKET, "s3://mlflow-archive/prod", {"mlflow_server_artifacts_mode": "direct"}),  # runs hold full URIs
    ],
)
def test_the_same_destination_a_migration_or_copied_objects_pass(run_tasks, tmp_path, last, now, more):
    tasks = _state(tmp_path, MANAGED_DB, MANAGED_DB, last_artifacts=last, mlflow_server_artifact_uri=now, **more)
    rc, _results, output = run_tasks(tasks)

    assert rc == 0, output


@pytest.fixture
def minio_volume():
    yield from _volume("minio")


def _store_guard(minio_volume, **more):
    """This host keeps the database (its own postgres group) and a MinIO volume; the minio group moved."""
    return [
        {"ansible.builtin.add_host": {"name": "localhost", "groups": ["postgres"]}},
        {"ansible.builtin.add_host": {"name": "store-elsewhere.example", "groups": ["minio"]}},
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.mlflow_server", "tasks_from": "stage_guard"},
            "vars": {"mlflow_stage": "compose", "minio_volume": minio_volume, **more},
        },
    ]


def test_store_moved_to_another_host_stops_while_this_host_keeps_its_objects(run_tasks, minio_volume):
    rc, results, output = run_tasks(_store_guard(minio_volume, mlflow_server_s3_prefix="prod"))

    message = refusal(rc, results, output)
    assert f"keeps the compose stage's MinIO data (volume {minio_volume})" in message
    assert "points MLflow's artifacts at store-elsewhere.example. Nothing was changed." in message
    assert "into s3://<bucket>/prod/ with `mc mirror`" in message
    assert "mlflow_server_local_minio_retired=true" in message


def test_store_moved_passes_once_its_objects_are_copied(run_tasks, minio_volume):
    rc, _results, output = run_tasks(_store_guard(minio_volume, mlflow_server_local_minio_retired="true"))

    assert rc == 0, output


def test_a_database_moved_with_no_such_volume_here_passes(run_tasks):
    rc, _results, output = run_tasks(_guard("db-elsewhere.example", "mlops-guard-test-never-created"))

    assert rc == 0, output


@pytest.mark.parametrize("guard", [_guard, _store_guard], ids=["postgres data", "minio data"])
def test_a_docker_that_cannot_be_asked_stops_the_guard(run_tasks, tmp_path, guard):
    moved = guard("db-elsewhere.example", "v") if guard is _guard else guard("v")
    rc, results, output = run_tasks(moved, extra_env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})

    refusal(rc, results, output)
    assert "no-docker.sock" in output


@pytest.mark.parametrize("guard", [_guard, _store_guard], ids=["postgres data", "minio data"])
def test_a_bare_host_without_docker_has_no_data_to_keep(run_tasks, tmp_path, guard):
    # site.yml runs the guard before docker_host installs Docker: a PATH with a shell and no docker.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "sh").symlink_to(shutil.which("sh"))
    moved = guard("db-elsewhere.example", "v") if guard is _guard else guard("v")
    rc, _results, output = run_tasks(moved, extra_env={"PATH": str(tmp_path / "bin")})

    assert rc == 0, output


@pytest.mark.parametrize("minio_here", [True, False], ids=["minio volume here", "no minio volume here"])
def test_both_stores_moved_the_database_message_names_the_bucket_flag_when_needed(
    run_tasks, pg_volume, minio_volume, minio_here
):
    # compose -> split: the postgres and minio groups both name other hosts; this host keeps the
    # database's volume, and the bucket's when minio_here.
    tasks = [
        {"ansible.builtin.add_host": {"name": "db-elsewhere.example", "groups": ["postgres"]}},
        {"ansible.builtin.add_host": {"name": "store-elsewhere.example", "groups": ["minio"]}},
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.mlflow_server", "tasks_from": "stage_guard"},
            "vars": {
                "mlflow_stage": "compose",
                "postgres_volume": pg_volume,
                "minio_volume": minio_volume if minio_here else "mlops-guard-test-never-created",
            },
        },
    ]
    rc, results, output = run_tasks(tasks)

    message = refusal(rc, results, output)
    assert f"keeps the compose stage's PostgreSQL data (volume {pg_volume})" in message
    assert ("(and mlflow_server_local_minio_retired=true for the bucket, next check)" in message) is minio_here


@pytest.mark.parametrize(
    "endpoint, recorded",
    [("", ""), (SPLIT_MINIO, SPLIT_MINIO), ("HTTP://MinIO.internal:9000/", "http://minio.internal:9000")],
    ids=["AWS S3", "MinIO on another host", "in capitals with a trailing slash"],
)
def test_the_state_file_written_reads_back_as_written_and_is_not_rewritten(run_tasks, tmp_path, endpoint, recorded):
    # What the server records once it runs (state_record) is what the next run's guards compare
    # (state), the empty endpoint line of AWS S3 included; an unchanged state is not written again.
    state = {
        "mlflow_server_state_file": str(tmp_path / "mlflow.version"),
        "mlflow_server_version": "3.17.2",
        "mlflow_server_db_identity": SPLIT_DB,
        "mlflow_server_artifact_uri": BUCKET,
        "mlflow_server_s3_endpoint_effective": endpoint,
    }
    read = {
        "ansible.builtin.include_role": {"name": "mlops.mlflow.mlflow_server", "tasks_from": "state"},
        "vars": state,
    }
    record = {
        "ansible.builtin.include_role": {"name": "mlops.mlflow.mlflow_server", "tasks_from": "state_record"},
        "vars": state,
    }
    check = {
        "ansible.builtin.assert": {
            "that": [
                "mlflow_server_previous_version == '3.17.2'",
                f"mlflow_server_previous_db == '{SPLIT_DB}'",
                f"mlflow_server_previous_artifacts == '{BUCKET}'",
                f"mlflow_server_previous_s3_endpoint == '{recorded}'",
                "mlflow_server_previous_s3_endpoint_known | bool",
                "not mlflow_server_version_changed | bool",
            ]
        }
    }
    rc, results, output = run_tasks([read, record, read, check, record])

    assert rc == 0, output
    writes = [r for r in results if "skip_reason" in r or r.get("dest") == state["mlflow_server_state_file"]]
    assert [w.get("changed", False) for w in writes] == [True, False], output
    assert (tmp_path / "mlflow.version").read_text(encoding="utf-8") == f"3.17.2\n{SPLIT_DB}\n{BUCKET}\n{recorded}\n"
