"""Unit tests of the mlops.mlflow.htpasswd action plugin, with ansible-core's modules on real files.

The plugin runs unchanged; what it would send to the host (slurp, file, and the copy action) runs
here in-process instead: ansible-core's own slurp, file and copy modules on a temporary directory,
so the plugin's decisions and ansible-core's file handling (atomic_move) are both real.
"""

import importlib
import json
import os
import stat
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import AnsibleModule
from ansible.plugins import loader as plugin_loader
from module_runner import run_main

from ansible_collections.mlops.mlflow.plugins.action.htpasswd import ActionModule
from ansible_collections.mlops.mlflow.plugins.module_utils.htpasswd import hash_password

ME = str(os.getuid())
MY_GROUP = str(os.getgid())


def run_module(name, capsys, args):
    """Run ansible-core's module ansible.legacy.<name> in this process, as the host would; return its result."""
    return run_main(importlib.import_module("ansible.modules." + name.rsplit(".", 1)[-1]), capsys, args)[1]


class Task:
    """What the plugin reads of its task: args, check and diff mode, and copy() for the copy task."""

    def __init__(self, args, check_mode=False, diff=False):
        self.args = dict(args)
        self.check_mode = check_mode
        self.diff = diff
        self.no_log = False
        self.async_val = 0
        self.action = "mlops.mlflow.htpasswd"

    def copy(self):
        return Task(self.args, self.check_mode, self.diff)


class Host:
    """The managed host, in-process: records each module run and each copy, in order."""

    def __init__(self, tmp_path, monkeypatch, capsys):
        self.capsys = capsys
        self.calls = []
        self.copy_tasks = []
        self.copy_result = None  # set to make the copy action return this instead of copying
        self.check_mode = False  # the task's, passed on to each module run as Ansible does
        self.remote_tmp = tmp_path / "remote-tmp"
        self.remote_tmp.mkdir()
        monkeypatch.setattr(plugin_loader.action_loader, "get", self.action)

    def execute_module(self, module_name=None, module_args=None, task_vars=None, **_kwargs):
        self.calls.append((module_name, dict(module_args)))
        return run_module(module_name, self.capsys, dict(module_args, _ansible_check_mode=self.check_mode))

    def action(self, name, task=None, **_kwargs):
        assert name == "ansible.legacy.copy"
        self.copy_tasks.append(task)
        return SimpleNamespace(run=lambda task_vars=None: self.copy(task))

    def copy(self, task):
        """The copy action for content: check mode reports, otherwise a 0600 temporary source, then the module."""
        self.calls.append(("ansible.legacy.copy", dict((k, v) for k, v in task.args.items() if k != "content")))
        if self.copy_result is not None:
            return self.copy_result
        if task.check_mode:
            return dict(changed=True)
        source = self.remote_tmp / ".source"
        fd = os.open(source, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(task.args["content"])
        args = dict((k, v) for k, v in task.args.items() if k != "content")
        return run_module("ansible.legacy.copy", self.capsys, dict(args, src=str(source)))


@pytest.fixture
def host(tmp_path, monkeypatch, capsys):
    return Host(tmp_path, monkeypatch, capsys)


@pytest.fixture
def umask_022():
    """The usual umask, under which a file created as the umask allows is readable by everyone."""
    umask = os.umask(0o022)
    yield
    os.umask(umask)


def run(host, check_mode=False, diff=False, **args):
    args.setdefault("owner", ME)
    args.setdefault("group", MY_GROUP)
    action = ActionModule(
        Task(args, check_mode=check_mode, diff=diff),
        SimpleNamespace(_shell=SimpleNamespace(tmpdir=str(host.remote_tmp))),
        None,
        None,
        None,
    )
    action._execute_module = host.execute_module
    host.check_mode = check_mode
    return action.run(task_vars={})


def modules(host):
    return [name for name, _args in host.calls]


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_is_never_more_open_than_its_mode(host, tmp_path, monkeypatch, umask_022):
    """Seen from inside: the mode the file has the moment the hashes land in it, before copy sets attributes."""
    seen = []
    real = AnsibleModule.atomic_move

    def spy(module, src, dest, *args, **kwargs):
        real(module, src, dest, *args, **kwargs)
        seen.append((mode_of(dest), os.path.getsize(dest) > 0))

    monkeypatch.setattr(AnsibleModule, "atomic_move", spy)
    path = tmp_path / "users"
    result = run(host, path=str(path), name="alice", password="pw", mode="0640")
    assert seen == [(0o640, True)]
    assert modules(host) == ["ansible.legacy.slurp", "ansible.legacy.file", "ansible.legacy.copy"]
    assert host.calls[1][1] == dict(path=str(path), state="touch", mode="0640", owner=ME, group=MY_GROUP)
    assert result["changed"] is True and result["users_added"] == ["alice"] and result["mode"] == "0640"
    assert mode_of(path) == 0o640 and path.read_text(encoding="utf-8").startswith("alice:$6$")


@pytest.mark.parametrize(("kind", "value"), [("owner", "no-such-user-mlops"), ("group", "no-such-group-mlops")])
def test_an_unknown_owner_or_group_fails_before_any_hash_is_written(host, tmp_path, umask_022, kind, value):
    path = tmp_path / "users"
    with pytest.raises(AnsibleActionFail) as failure:
        run(host, path=str(path), name="alice", password="pw", **{kind: value})
    assert not path.exists()  # the file module removes the file it created
    assert os.listdir(tmp_path) == ["remote-tmp"]
    assert "ansible.legacy.copy" not in modules(host)
    assert str(failure.value).startswith(f"cannot create {path} (no hash was written): ")
    assert value in str(failure.value)


def test_a_missing_directory_is_named(host, tmp_path):
    path = tmp_path / "absent" / "users"
    with pytest.raises(AnsibleActionFail) as failure:
        run(host, path=str(path), name="alice", password="pw")
    assert str(failure.value) == (
        f"cannot create {path} (no hash was written): Error, could not touch target."
        f" Does {tmp_path / 'absent'} exist, writable by the remote user?"
    )
    assert "ansible.legacy.copy" not in modules(host)


def test_an_existing_file_is_not_created_again(host, tmp_path):
    path = tmp_path / "users"
    path.write_text("# team\n", encoding="utf-8")
    path.chmod(0o600)
    result = run(host, path=str(path), name="alice", password="pw")
    assert modules(host) == ["ansible.legacy.slurp", "ansible.legacy.copy"]
    assert result["changed"] is True and mode_of(path) == 0o640
    assert path.read_text(encoding="utf-8").startswith("# team\nalice:$6$")


def test_an_unchanged_file_reports_no_change(host, tmp_path):
    path = tmp_path / "users"
    run(host, path=str(path), name="alice", password="pw")
    host.calls.clear()
    result = run(host, path=str(path), name="alice", password="pw")
    assert modules(host) == ["ansible.legacy.slurp", "ansible.legacy.file"]
    assert host.calls[1][1] == dict(path=str(path), state="file", mode="0640", owner=ME, group=MY_GROUP)
    assert result["changed"] is False and result["mode"] == "0640"


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check-mode"])
def test_the_mode_of_a_file_whose_content_stays_is_set_without_writing_it(host, tmp_path, check_mode):
    path = tmp_path / "users"
    run(host, path=str(path), name="alice", password="pw")
    path.chmod(0o644)
    before = path.read_bytes()
    host.calls.clear()
    result = run(host, check_mode=check_mode, path=str(path), name="alice", password="pw")
    assert modules(host) == ["ansible.legacy.slurp", "ansible.legacy.file"]
    assert result["changed"] is True and result["users_updated"] == []
    assert mode_of(path) == (0o644 if check_mode else 0o640)
    assert path.read_bytes() == before


def test_preserve_keeps_the_mode_of_a_file_whose_content_stays(host, tmp_path):
    path = tmp_path / "users"
    run(host, path=str(path), name="alice", password="pw")
    path.chmod(0o604)
    host.calls.clear()
    result = run(host, path=str(path), name="alice", password="pw", mode="preserve")
    assert host.calls[1][1] == dict(path=str(path), state="file", owner=ME, group=MY_GROUP)
    assert result["changed"] is False and mode_of(path) == 0o604


def test_a_failed_attribute_change_of_a_file_whose_content_stays_is_named(host, tmp_path):
    path = tmp_path / "users"
    run(host, path=str(path), name="alice", password="pw")
    before = path.read_bytes()
    with pytest.raises(AnsibleActionFail) as failure:
        run(host, path=str(path), name="alice", password="pw", owner="no-such-user-mlops")
    assert str(failure.value).startswith(f"setting the mode, owner and group of {path} failed: ")
    assert failure.value.result["changed"] is False
    assert path.read_bytes() == before


@pytest.mark.parametrize("ending", ["", "\r\n"], ids=["no-final-newline", "crlf"])
@pytest.mark.parametrize(
    "task",
    [dict(name="bob", state="absent"), dict(name="alice", password="pw")],
    ids=["absent-user", "same-password"],
)
def test_a_file_no_user_changes_is_kept_as_it_is(host, tmp_path, ending, task):
    path = tmp_path / "users"
    content = "# team" + ending + "alice:" + hash_password("pw", "sha512_crypt") + ending
    content = content if ending else content.replace("# team", "# team\n")
    path.write_bytes(content.encode("utf-8"))
    path.chmod(0o640)
    result = run(host, path=str(path), **task)
    assert result["changed"] is False
    assert (result["users_added"], result["users_updated"], result["users_removed"]) == ([], [], [])
    assert path.read_bytes() == content.encode("utf-8")


def test_a_crlf_file_a_user_changes_is_written_with_lf(host, tmp_path):
    path = tmp_path / "users"
    alice = "alice:" + hash_password("pw", "sha512_crypt")
    path.write_bytes(("# team\r\n" + alice).encode("utf-8"))
    path.chmod(0o640)
    result = run(host, path=str(path), name="bob", password="b")
    assert result["changed"] is True and result["users_added"] == ["bob"]
    assert path.read_text(encoding="utf-8").startswith("# team\n" + alice + "\nbob:$6$")


@pytest.mark.parametrize("mode", [None, "preserve"])
def test_a_new_file_without_a_mode_is_0600(host, tmp_path, umask_022, mode):
    path = tmp_path / "users"
    result = run(host, path=str(path), name="alice", password="pw", mode=mode)
    assert host.calls[1] == (
        "ansible.legacy.file",
        dict(path=str(path), state="touch", mode="0600", owner=ME, group=MY_GROUP),
    )
    assert result["changed"] is True and mode_of(path) == 0o600


def test_check_mode_creates_nothing(host, tmp_path):
    path = tmp_path / "users"
    result = run(host, check_mode=True, path=str(path), name="alice", password="pw")
    assert modules(host) == ["ansible.legacy.slurp", "ansible.legacy.copy"]
    assert result["changed"] is True and result["users_added"] == ["alice"]
    assert "mode" not in result and not path.exists()


def test_the_result_and_diff_of_a_new_file_name_users_and_hold_no_secret(host, tmp_path):
    path = tmp_path / "users"
    result = run(host, diff=True, path=str(path), name="alice", password="topsecret-pw")
    assert result["diff"] == {"before_header": str(path), "after_header": str(path), "before": "", "after": "alice\n"}
    hashed = path.read_text(encoding="utf-8").split(":", 1)[1].strip()
    assert "topsecret-pw" not in json.dumps(result) and hashed not in json.dumps(result)
    (copy_task,) = host.copy_tasks
    assert copy_task.no_log is True and copy_task.diff is False


def test_a_failed_write_after_the_file_was_created_removes_it_again(host, tmp_path):
    path = tmp_path / "users"
    host.copy_result = dict(failed=True, msg="No space left on device")
    with pytest.raises(AnsibleActionFail) as failure:
        run(host, path=str(path), name="alice", password="pw")
    assert str(failure.value) == (
        f"writing {path} failed: No space left on device; the empty file created for it was removed"
    )
    assert failure.value.result["changed"] is False
    assert not path.exists()
    assert host.calls[-1] == ("ansible.legacy.file", {"path": str(path), "state": "absent"})


def test_a_failed_write_to_an_existing_file_leaves_it_alone(host, tmp_path):
    path = tmp_path / "users"
    path.write_text("bob:$apr1$x$y\n", encoding="utf-8")
    host.copy_result = dict(failed=True, msg="No space left on device")
    with pytest.raises(AnsibleActionFail, match=r"^writing \S+ failed: No space left on device$") as failure:
        run(host, path=str(path), name="alice", password="pw")
    assert failure.value.result["changed"] is False
    assert path.read_text(encoding="utf-8") == "bob:$apr1$x$y\n"
    assert "ansible.legacy.file" not in modules(host)
