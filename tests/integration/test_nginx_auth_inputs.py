"""nginx_auth refuses a user list nobody could log in with, before it changes anything.

A real ansible-playbook runs the role on localhost: without nginx_auth_users (required in the
role's argument spec), with an empty list, or with an entry whose password is empty, the run
fails with a message naming the variable, and no task that changes the host ran.
"""

import pytest

from .conftest import nginx_site_tasks, refusal

pytestmark = pytest.mark.integration


def _nginx_auth(**role_vars):
    return {
        "ansible.builtin.include_role": {"name": "mlops.mlflow.nginx_auth"},
        "vars": {
            "nginx_auth_server_names": ["localhost"],
            "nginx_auth_upstream_servers": ["127.0.0.1:5000"],
            **role_vars,
        },
    }


def _assert_refused(rc, results, output, expected):
    message = refusal(rc, results, output)
    assert expected in message, message
    # Nothing before the refusal changed the host (only the checks and a fact gathering ran).
    assert not any(r.get("changed") for r in results), output
    assert results[-1].get("failed"), "tasks ran after the refusal:\n" + output


def test_without_users_the_argument_spec_refuses_the_role(run_tasks):
    rc, results, output = run_tasks([_nginx_auth()])

    _assert_refused(rc, results, output, "missing required arguments: nginx_auth_users")
    role_tasks = [r for r in results if r.get("action") != "ansible.builtin.include_role"]
    assert len(role_tasks) == 1, "the argument spec check is the role's first task:\n" + output


@pytest.mark.parametrize(
    "users",
    [[], [{"name": "alice", "password": ""}], [{"name": "", "password": "s3cret-pw"}]],
    ids=["empty list", "empty password", "empty name"],
)
def test_a_user_list_nobody_could_log_in_with_is_refused(run_tasks, users):
    rc, results, output = run_tasks([_nginx_auth(nginx_auth_users=users)])

    _assert_refused(rc, results, output, "nginx_auth_users is empty or has an entry without a name or a password")
    assert "s3cret-pw" not in output


USERS = [{"name": "alice", "password": "s3cret-pw"}]


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"nginx_auth_realm": 'MLflow "prod"'}, "nginx_auth_realm must not be empty or 'off'"),
        ({"nginx_auth_realm": "MLflow $env"}, "nginx_auth_realm must not be empty or 'off'"),
        ({"nginx_auth_realm": "off"}, "(which turns basic auth off)"),
        ({"nginx_auth_realm": ""}, "nginx_auth_realm must not be empty or 'off'"),
        ({"nginx_auth_path_prefix": "/ml$flow"}, "its segments made of letters, digits and . _ ~ -"),
        ({"nginx_auth_path_prefix": '/ml"flow'}, "its segments made of letters, digits and . _ ~ -"),
        ({"nginx_auth_path_prefix": "/ml//flow"}, "its segments made of letters, digits and . _ ~ -"),
    ],
)
def test_a_realm_or_prefix_nginx_would_misread_is_refused(run_tasks, setting, expected):
    # nginx reads `$name` as a variable and `"` as the end of the value; a realm of `off` turns
    # basic auth off. Each would fail nginx -t after the file is written, or open MLflow to all.
    rc, results, output = run_tasks([_nginx_auth(nginx_auth_users=USERS, **setting)])

    _assert_refused(rc, results, output, expected)


def test_switches_given_as_strings_are_read_as_booleans(run_tasks, tmp_path):
    # `-e nginx_auth_hsts=false` gives the string "false", which Jinja takes as true.
    site = tmp_path / "site.conf"
    role_vars = {
        "nginx_auth_server_names": ["localhost"],
        "nginx_auth_users": [{"name": "alice", "password": "unused"}],
        "nginx_auth_upstream_servers": ["127.0.0.1:5000"],
        "nginx_auth_hsts": "false",
        "nginx_auth_listen_ipv6": "false",
        "nginx_auth_health_open": "false",
    }
    rc, _results, output = run_tasks(nginx_site_tasks(site, role_vars))

    assert rc == 0, output
    written = site.read_text(encoding="utf-8")
    assert "Strict-Transport-Security" not in written
    assert "listen [::]" not in written
    assert "/health {" not in written


def test_check_mode_on_a_fresh_host_reports_the_key_and_certificate_it_would_make(run_tasks, tmp_path):
    # No TLS directory and no key yet: check mode must say what it would make, not fail reading them.
    tls = tmp_path / "tls"
    role_vars = {
        "nginx_auth_server_names": ["localhost"],
        "nginx_auth_users": [{"name": "alice", "password": "unused"}],
        "nginx_auth_upstream_servers": ["127.0.0.1:5000"],
        "nginx_auth_tls_cert_path": str(tls / "mlflow.crt"),
        "nginx_auth_tls_key_path": str(tls / "mlflow.key"),
    }
    tasks = [
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.nginx_auth", "tasks_from": name, "public": True},
            "vars": role_vars,
        }
        for name in ("facts", "tls_self_signed")
    ]
    for existing in (False, True):  # the directory missing, then there but empty
        if existing:
            tls.mkdir()
        rc, results, output = run_tasks(tasks, check=True)

        assert rc == 0, output
        assert any(r.get("changed") for r in results), output
        assert (tls.exists() and not any(tls.iterdir())) if existing else not tls.exists()  # nothing written
