"""The roles' controller-side settings for inventories the shipped ones do not cover.

As in test_shipped_inventories: a real ansible-playbook runs the roles' checks and facts
(inventory_checks.yml) in site.yml's order over an inventory written here, with the local
connection forced; no address in it is contacted. Each test names the setting a user makes and
what the stack must do with it (or the clear refusal it must meet).
"""

import json

import pytest

from .test_shipped_inventories import _checks

pytestmark = pytest.mark.integration

GROUPS = ("docker_host", "postgres", "minio", "mlflow_server", "nginx_auth")


def _one_host(tmp_path, **variables):
    """An all-in-one compose-stage inventory (host `solo`) with the given variables."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "vars": {"mlflow_stage": "compose", "nginx_auth_server_names": ["localhost"], **variables},
                    "children": {group: {"hosts": {"solo": {}}} for group in GROUPS},
                }
            }
        ),
        encoding="utf-8",
    )
    return _checks(inventory)


def _refused(rc, output, expected):
    assert rc != 0, output[-3000:]
    assert expected in output, output[-3000:]


def test_mlflow_reaches_minio_on_its_configured_port(tmp_path):
    rc, output, facts = _one_host(tmp_path, minio_api_port=9100)

    assert rc == 0, output[-3000:]
    assert facts["solo"]["mlflow_server_s3_endpoint_effective"] == "http://minio:9100"
    assert facts["solo"]["minio_api_local_url"] == "http://127.0.0.1:9100"


def test_the_bucket_task_reaches_minio_where_it_is_published_on_one_address(tmp_path):
    rc, output, facts = _one_host(tmp_path, minio_api_publish_address="10.0.0.5")

    assert rc == 0, output[-3000:]
    assert facts["solo"]["minio_api_local_url"] == "http://10.0.0.5:9000"


def test_nginx_prefix_without_the_mlflow_prefix_is_refused(tmp_path):
    rc, output, _facts = _one_host(tmp_path, nginx_auth_path_prefix="/mlflow")

    _refused(
        rc, output, "nginx_auth_path_prefix is '/mlflow' but the MLflow servers use mlflow_server_static_prefix ['']"
    )


def test_nginx_prefix_with_the_same_mlflow_prefix_passes(tmp_path):
    rc, output, _facts = _one_host(tmp_path, nginx_auth_path_prefix="/mlflow", mlflow_server_static_prefix="/mlflow")

    assert rc == 0, output[-3000:]


def test_allowed_hosts_take_public_names_in_lower_case_and_the_job_runners_address(tmp_path):
    rc, output, facts = _one_host(tmp_path, mlflow_server_public_hostnames=["MLflow.Example.com"])

    assert rc == 0, output[-3000:]
    allowed = facts["solo"]["mlflow_server_allowed_hosts"]
    expected = {"mlflow.example.com", "mlflow.example.com:*", "0.0.0.0", "0.0.0.0:*", "localhost:*"}  # noqa: S104
    assert expected <= set(allowed)
    assert "MLflow.Example.com" not in allowed
    assert facts["solo"]["mlflow_server_cors_origins"][0] == "https://mlflow.example.com"


@pytest.mark.parametrize(
    "bound, upstream",
    [
        ("10.0.0.5", "10.0.0.5:5000"),
        ("fd00::5", "[fd00::5]:5000"),
        ("::", "127.0.0.1:5000"),
        ("127.0.0.1", "127.0.0.1:5000"),
    ],
)
def test_nginx_proxies_to_the_address_mlflow_is_bound_to(tmp_path, bound, upstream):
    rc, output, facts = _one_host(tmp_path, mlflow_server_bind_address=bound)

    assert rc == 0, output[-3000:]
    assert facts["solo"]["nginx_auth_upstreams"] == [upstream]


@pytest.mark.parametrize(
    "published, url",
    [("fd00::5", "http://[fd00::5]:9000"), ("::", "http://127.0.0.1:9000"), ("127.0.0.2", "http://127.0.0.1:9000")],
)
def test_the_bucket_task_reaches_minio_on_its_ipv6_wildcard_or_loopback_address(tmp_path, published, url):
    rc, output, facts = _one_host(tmp_path, minio_api_publish_address=published)

    assert rc == 0, output[-3000:]
    assert facts["solo"]["minio_api_local_url"] == url


def test_direct_artifacts_with_sqlite_are_refused(tmp_path):
    rc, output, _facts = _one_host(tmp_path, mlflow_stage="local", mlflow_server_artifacts_mode="direct")

    _refused(rc, output, "only mlflow_server_artifacts_mode=proxied")


@pytest.mark.parametrize("given", ["mlflow_server_s3_access_key", "mlflow_server_s3_secret_key"])
def test_one_s3_key_without_the_other_is_refused(tmp_path, given):
    rc, output, _facts = _one_host(tmp_path, **{given: "only-one-key"})

    _refused(rc, output, "set both mlflow_server_s3_access_key and mlflow_server_s3_secret_key")
    assert "only-one-key" not in output


def test_an_ipv6_public_name_is_allowed_in_brackets_as_nginx_passes_it(tmp_path):
    rc, output, facts = _one_host(
        tmp_path, mlflow_server_public_hostnames=["2001:DB8::7"], nginx_auth_server_names=["2001:DB8::7"]
    )

    assert rc == 0, output[-3000:]
    assert {"[2001:db8::7]", "[[]2001:db8::7]:*"} <= set(facts["solo"]["mlflow_server_allowed_hosts"])
    assert facts["solo"]["mlflow_server_cors_origins"] == ["https://[2001:db8::7]", "https://[[]2001:db8::7]:*"]


ALL_ADDRESSES = "0.0.0.0"  # noqa: S104 - what MinIO is published on, not a socket bound here


@pytest.mark.parametrize(
    "given, published",
    [
        ({}, "127.0.0.1"),
        ({"mlflow_server_multipart_upload": True}, ALL_ADDRESSES),
        ({"mlflow_server_multipart_download": True}, ALL_ADDRESSES),
        ({"mlflow_server_multipart_download": "false"}, "127.0.0.1"),  # as `-e key=false` gives it
    ],
)
def test_minio_is_published_for_clients_only_with_presigned_transfers(tmp_path, given, published):
    # Clients fetch presigned URLs from the store themselves: MinIO must be reachable, and its port
    # guard (which would let only MLflow's hosts in) is off unless set with the clients' networks.
    rc, output, facts = _one_host(tmp_path, **given)

    assert rc == 0, output[-3000:]
    assert facts["solo"]["minio_api_publish_address_effective"] == published
    assert facts["solo"]["minio_port_guard_effective"] is (published == "127.0.0.1")


def test_presigned_downloads_with_direct_artifacts_are_refused(tmp_path):
    rc, output, _facts = _one_host(
        tmp_path, mlflow_server_artifacts_mode="direct", mlflow_server_multipart_download=True
    )
    _refused(rc, output, "multipart upload and download need mlflow_server_artifacts_mode=proxied")


def _split(tmp_path, data_vars, unknown=(), app_vars=None, apps=None):
    """PostgreSQL and MinIO on host `data` (with ``data_vars``); MLflow on host `app` (``app_vars``),
    or on each host of ``apps`` (name: variables); nginx on the first MLflow host."""
    inventory = tmp_path / "hosts.yml"
    apps = apps or {"app": app_vars or {}}
    hosts = {"data": {"ansible_host": "192.0.2.10", **data_vars}}
    hosts.update({name: {"ansible_host": f"192.0.2.{20 + i}", **v} for i, (name, v) in enumerate(apps.items())})
    groups = {"docker_host": {"hosts": hosts}, "postgres": {"hosts": {"data": {}}}, "minio": {"hosts": {"data": {}}}}
    groups.update(mlflow_server={"hosts": {name: {} for name in apps}}, nginx_auth={"hosts": {next(iter(apps)): {}}})
    stage = {"mlflow_stage": "compose", "nginx_auth_server_names": ["localhost"]}
    inventory.write_text(json.dumps({"all": {"vars": stage, "children": groups}}), encoding="utf-8")
    return _checks(inventory, unknown)


@pytest.mark.parametrize(
    "published, db_address, endpoint",
    [
        ({}, "192.0.2.10", "http://192.0.2.10:9000"),  # published on every interface: the host's address
        (
            {"postgres_publish_address": "10.0.0.9", "minio_api_publish_address": "10.0.0.9"},
            "10.0.0.9",
            "http://10.0.0.9:9000",
        ),
        (
            {"postgres_publish_address": "fd00::9", "minio_api_publish_address": "fd00::9"},
            "fd00::9",
            "http://[fd00::9]:9000",
        ),
    ],
)
def test_mlflow_reaches_the_database_and_store_of_another_host_where_they_are_published(
    tmp_path, published, db_address, endpoint
):
    rc, output, facts = _split(tmp_path, published)

    assert rc == 0, output[-3000:]
    assert facts["app"]["mlflow_server_db_address"] == db_address
    assert facts["app"]["mlflow_server_s3_endpoint_effective"] == endpoint


def test_a_database_another_host_publishes_on_loopback_is_refused(tmp_path):
    rc, output, _facts = _split(tmp_path, {"postgres_publish_address": "127.0.0.1"})

    _refused(rc, output, "a loopback address is the container itself: the database ('127.0.0.1')")


def test_multipart_switched_off_as_a_string_passes_with_direct_artifacts(tmp_path):
    # `-e mlflow_server_multipart_upload=false` gives the string "false", which is not off to Jinja.
    rc, output, _facts = _one_host(
        tmp_path, mlflow_server_artifacts_mode="direct", mlflow_server_multipart_upload="false"
    )

    assert rc == 0, output[-3000:]


def test_a_run_that_leaves_out_the_store_host_is_refused_not_run_without_s3_keys(tmp_path):
    # --limit app: the minio role did not run on `data`, so its credentials are unknown in the play.
    rc, output, _facts = _split(tmp_path, {}, unknown=("minio_credentials_effective",))

    _refused(rc, output, "the minio role did not run on data in this play (a --limit that leaves it out?)")


def test_a_run_that_leaves_out_the_store_host_passes_with_the_keys_given(tmp_path):
    keys = {"mlflow_server_s3_access_key": "given-key", "mlflow_server_s3_secret_key": "given-secret"}
    rc, output, _facts = _split(tmp_path, {}, unknown=("minio_credentials_effective",), app_vars=keys)

    assert rc == 0, output[-3000:]


def _two_servers(tmp_path, workers):
    """compose_split's layout: two MLflow hosts, `app1` and `app2`, with ``workers`` (one count per host)."""
    apps = {f"app{i}": {"mlflow_server_workers": n} for i, n in enumerate(workers, 1)}
    return _split(tmp_path, {}, apps=apps)


# Per MLflow host: workers x 3 stores (tracking, registry, jobs) x (pool_size 5 + max_overflow 5),
# plus 4 for the server process and the job runner; 10 of PostgreSQL's 200 are reserved.
@pytest.mark.parametrize(
    "workers, needed",
    [((4, 4), 248), ((4, 3), 218)],
)
def test_more_connections_than_the_database_serves_over_every_mlflow_host_are_refused(tmp_path, workers, needed):
    rc, output, _facts = _two_servers(tmp_path, workers)

    _refused(rc, output, f"MLflow could open {needed} database connections (2 server host(s)")
    assert "more than max_connections=200" in output, output[-3000:]


def test_connections_that_fit_over_every_mlflow_host_pass(tmp_path):
    # 124 + 64 + 10 reserved = 198 of 200: the hosts' own worker counts are summed.
    rc, output, _facts = _two_servers(tmp_path, (4, 2))

    assert rc == 0, output[-3000:]


@pytest.mark.parametrize(
    "settings",
    [{"max_connections": 50}, {"Port": 5433}, {"shared_buffers": "1GB", "work_mem": "16MB"}, {"work mem": "16MB"}],
)
def test_extra_settings_that_would_override_the_roles_own_or_break_the_command_are_refused(tmp_path, settings):
    # The server takes the last -c: max_connections 50 under MLflow pools sized for 200.
    rc, output, _facts = _one_host(tmp_path, postgres_extra_settings=settings)

    _refused(rc, output, "postgres_extra_settings must map setting names")


def test_extra_settings_of_other_names_pass(tmp_path):
    rc, output, _facts = _one_host(
        tmp_path, postgres_extra_settings={"work_mem": "16MB", "pg_stat_statements.max": 5000}
    )

    assert rc == 0, output[-3000:]


@pytest.mark.parametrize(
    ("given", "why"), [("mlflow.dump", "is not absolute"), ("/nonexistent/mlflow.dump", "is no file")]
)
def test_a_dump_to_restore_must_be_a_file_named_by_its_absolute_path(tmp_path, given, why):
    # copy's src looks a relative path up beside the collection's playbook, not where the user is.
    rc, output, _facts = _one_host(tmp_path, postgres_restore_dump=given)

    _refused(rc, output, "postgres_restore_dump must be the absolute path of a pg_dump -Fc file on the controller")
    assert why in output, output[-3000:]


def test_a_dump_to_restore_on_the_controller_passes(tmp_path):
    dump = tmp_path / "mlflow.dump"
    dump.write_bytes(b"PGDMP")

    rc, output, _facts = _one_host(tmp_path, postgres_restore_dump=str(dump))

    assert rc == 0, output[-3000:]
