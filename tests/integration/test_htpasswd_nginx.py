"""mlops.mlflow.htpasswd through real ansible-playbook runs, and files it wrote served by a real nginx.

nginx is Debian's (the test command installs it); it runs on 127.0.0.1 with a configuration in
a temporary directory. A missing nginx fails the test: it is not skipped.
"""

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest

from .conftest import free_port, start_nginx, stop_nginx

pytestmark = pytest.mark.integration

SCHEMES = ["apr_md5_crypt", "bcrypt", "sha256_crypt", "sha512_crypt"]
HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"


def _module(path, **args):
    return {"mlops.mlflow.htpasswd": {"path": str(path), **args}, "register": "out"}


def _status(url, user=None, password=None):
    request = urllib.request.Request(url)
    if user is not None:
        request.add_header("Authorization", "Basic " + b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture
def served(tmp_path_factory):
    """A directory nginx's www-data workers can traverse (pytest's tmp dirs are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="htpasswd-nginx-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def nginx(served):
    """Start nginx on 127.0.0.1 with one basic-auth location per scheme; yield its base URL."""
    tmp_path = served
    port = free_port()
    # A static file, not `return 200`: return runs before the access phase and skips auth.
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "ok.txt").write_text("ok\n", encoding="utf-8")
    locations = "\n".join(
        f'location /{scheme}/ {{ auth_basic "{scheme}"; auth_basic_user_file {tmp_path}/{scheme}.htpasswd;'
        f" alias {tmp_path}/www/; }}"
        for scheme in SCHEMES
    )
    proc = start_nginx(tmp_path / "nginx", f"  access_log off;\n  server {{ listen 127.0.0.1:{port}; {locations} }}")
    base = f"http://127.0.0.1:{port}"
    for _attempt in range(50):
        try:
            urllib.request.urlopen(base + "/", timeout=1)
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
    yield base
    stop_nginx(proc)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_nginx_accepts_right_and_refuses_wrong_credentials(run_tasks, served, nginx, scheme):
    path = served / f"{scheme}.htpasswd"
    # Debian's nginx workers run as www-data: the file is 0640 root:www-data, as nginx_auth writes it.
    task = _module(path, name="alice", password="s3cret pass", scheme=scheme, owner="root", group="www-data")
    rc, results, output = run_tasks([task])
    assert rc == 0, output
    assert results[0]["changed"] is True
    url = f"{nginx}/{scheme}/ok.txt"
    assert _status(url, "alice", "s3cret pass") == 200
    assert _status(url, "alice", "wrong") == 401
    assert _status(url, "mallory", "s3cret pass") == 401
    assert _status(url) == 401


def test_second_run_changes_nothing_and_mode_is_0640(run_tasks, tmp_path):
    path = tmp_path / "users"
    task = _module(path, users=[{"name": "alice", "password": "a-pass"}, {"name": "bob", "password": "b-pass"}])
    rc, first, output = run_tasks([task])
    assert rc == 0, output
    assert first[0]["changed"] is True and first[0]["users_added"] == ["alice", "bob"]
    rc, second, output = run_tasks([task])
    assert rc == 0, output
    assert second[0]["changed"] is False
    assert oct(path.stat().st_mode & 0o777) == "0o640"


def test_check_mode_reports_change_without_writing(run_tasks, tmp_path):
    path = tmp_path / "users"
    path.write_text("# kept\n", encoding="utf-8")
    rc, results, output = run_tasks([_module(path, name="alice", password="pw")], check=True)
    assert rc == 0, output
    assert results[0]["changed"] is True and results[0]["users_added"] == ["alice"]
    assert path.read_text(encoding="utf-8") == "# kept\n"


def test_diff_names_users_and_never_shows_secrets(run_tasks, tmp_path):
    path = tmp_path / "users"
    rc, results, output = run_tasks([_module(path, name="alice", password="topsecret-pw")], diff=True)
    assert rc == 0, output
    assert results[0]["diff"]["after"] == "alice\n"
    hashed = path.read_text(encoding="utf-8").split(":", 1)[1].strip()
    assert "topsecret-pw" not in output
    assert hashed not in output


@pytest.mark.parametrize(("flag", "scheme"), [("-B", "bcrypt"), ("-m", "apr_md5_crypt")])
def test_entries_written_by_apache_htpasswd_are_recognised(run_tasks, tmp_path, flag, scheme):
    path = tmp_path / "users"
    subprocess.run([HTPASSWD, "-c", "-b", flag, str(path), "alice", "apache-pw"], check=True, capture_output=True)
    path.chmod(0o640)  # the module enforces 0640; only the entry is under test here
    before = path.read_text(encoding="utf-8")
    rc, results, output = run_tasks([_module(path, name="alice", password="apache-pw", scheme=scheme)])
    assert rc == 0, output
    assert results[0]["users_updated"] == [] and results[0]["changed"] is False
    assert path.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(("kind", "value"), [("owner", "no-such-user-mlops"), ("group", "no-such-group-mlops")])
def test_a_new_file_with_an_unknown_owner_or_group_fails_and_leaves_no_hashes(run_tasks, tmp_path, kind, value):
    # Under the usual umask, copy alone created the file 0644 with the hashes, then failed to chown it.
    path = tmp_path / "users"
    umask = os.umask(0o022)
    try:
        rc, results, _output = run_tasks([_module(path, name="alice", password="pw", **{kind: value})])
    finally:
        os.umask(umask)
    assert rc != 0
    assert not path.exists()
    assert results[0]["msg"].startswith(f"cannot create {path} (no hash was written): ")
    assert value in results[0]["msg"]


def test_a_new_file_gets_its_mode_owner_and_group_under_the_usual_umask(run_tasks, tmp_path):
    path = tmp_path / "users"
    umask = os.umask(0o022)
    try:
        rc, results, output = run_tasks([_module(path, name="alice", password="pw", owner="nobody", group="nogroup")])
    finally:
        os.umask(umask)
    assert rc == 0, output
    assert results[0]["changed"] is True
    assert (results[0]["mode"], results[0]["owner"], results[0]["group"]) == ("0640", "nobody", "nogroup")
    assert oct(path.stat().st_mode & 0o777) == "0o640"


def test_missing_file_with_create_false_fails_clearly(run_tasks, tmp_path):
    path = tmp_path / "missing"
    rc, results, _output = run_tasks([_module(path, name="alice", password="pw", create=False)])
    assert rc != 0
    assert "create=false" in results[0]["msg"]
    assert not path.exists()


def test_a_directory_at_path_fails_clearly(run_tasks, tmp_path):
    path = tmp_path / "users"
    path.mkdir()
    rc, results, _output = run_tasks([_module(path, name="alice", password="pw")])
    assert rc != 0
    assert results[0]["msg"] == f"{path} is a directory; path must name the htpasswd file"


def test_unparsable_file_fails_and_is_left_untouched(run_tasks, tmp_path):
    path = tmp_path / "users"
    path.write_text("alice:$6$x$y\nthis is not an entry\n", encoding="utf-8")
    rc, results, _output = run_tasks([_module(path, name="bob", password="pw")])
    assert rc != 0
    assert "line 2" in results[0]["msg"]
    assert path.read_text(encoding="utf-8") == "alice:$6$x$y\nthis is not an entry\n"


def test_name_with_colon_fails(run_tasks, tmp_path):
    rc, results, _output = run_tasks([_module(tmp_path / "users", name="a:b", password="pw")])
    assert rc != 0 and "':'" in results[0]["msg"]
    assert not (tmp_path / "users").exists()


def test_exclusive_replaces_the_user_set(run_tasks, tmp_path):
    path = tmp_path / "users"
    run_tasks([_module(path, users=[{"name": "alice", "password": "a"}, {"name": "bob", "password": "b"}])])
    rc, results, output = run_tasks([_module(path, users=[{"name": "alice", "password": "a"}], exclusive=True)])
    assert rc == 0, output
    assert results[0]["users_removed"] == ["bob"] and results[0]["changed"] is True
    assert [line.split(":")[0] for line in path.read_text(encoding="utf-8").splitlines()] == ["alice"]
