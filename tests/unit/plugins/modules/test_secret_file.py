"""Unit tests of mlops.mlflow.secret_file: the module's main() on real files in a temp dir."""

import base64
import json
import os
import stat

import pytest
from module_runner import run_main

from ansible_collections.mlops.mlflow.plugins.modules import secret_file as mod

ME = str(os.getuid())
MY_GROUP = str(os.getgid())


def run(capsys, **args):
    args.setdefault("owner", ME)
    args.setdefault("group", MY_GROUP)
    return run_main(mod, capsys, args)


def secret_of(result):
    return base64.b64decode(result["content"]).decode()


def test_generates_once_then_keeps(capsys, tmp_path):
    path = tmp_path / "db_password"
    code, first = run(capsys, path=str(path))
    assert code == 0 and first["changed"] and first["source"] == "generated"
    generated = path.read_text()
    assert len(generated) == 32 and generated.isalnum()
    assert secret_of(first) == generated
    assert stat.S_IMODE(path.stat().st_mode) == 0o400

    code, second = run(capsys, path=str(path))
    assert code == 0 and not second["changed"] and second["source"] == "kept"
    assert secret_of(second) == generated == path.read_text()


def test_generated_secrets_differ_and_honour_length(capsys, tmp_path):
    _code, one = run(capsys, path=str(tmp_path / "a"), length=48)
    _code, two = run(capsys, path=str(tmp_path / "b"), length=48)
    assert len(secret_of(one)) == 48
    assert secret_of(one) != secret_of(two)


def test_given_value_replaces_and_is_not_returned(capsys, tmp_path):
    path = tmp_path / "pw"
    path.write_text("old-secret-value")
    code, result = run(capsys, path=str(path), value="new-secret-value", mode="0440")
    assert code == 0 and result["changed"] and result["secret_changed"]
    assert result["source"] == "given" and "content" not in result
    assert path.read_text() == "new-secret-value"
    assert stat.S_IMODE(path.stat().st_mode) == 0o440
    assert "new-secret-value" not in json.dumps(result) and "old-secret-value" not in json.dumps(result)

    _code, again = run(capsys, path=str(path), value="new-secret-value", mode="0440")
    assert not again["changed"]


def test_empty_file_counts_as_no_secret(capsys, tmp_path):
    path = tmp_path / "pw"
    path.write_text("")
    _code, result = run(capsys, path=str(path))
    assert result["source"] == "generated" and len(path.read_text()) == 32


def test_mode_drift_alone_is_a_change_without_touching_the_secret(capsys, tmp_path):
    path = tmp_path / "pw"
    path.write_text("kept-secret-value")
    path.chmod(0o644)
    _code, result = run(capsys, path=str(path), _ansible_diff=True)
    assert result["changed"] and not result["secret_changed"] and result["source"] == "kept"
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    assert path.read_text() == "kept-secret-value"
    assert result["diff"]["before"]["mode"] == "0644" and result["diff"]["after"]["mode"] == "0400"


def test_check_mode_writes_nothing_and_diff_hides_the_secret(capsys, tmp_path):
    path = tmp_path / "pw"
    _code, result = run(capsys, path=str(path), _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] and not path.exists()
    assert result["diff"]["before"]["state"] == "absent"
    assert result["diff"]["after"]["secret"] == "(hidden, changed)"

    path.write_text("kept-secret-value")
    path.chmod(0o400)
    _code, result = run(
        capsys, path=str(path), value="other-secret-value", _ansible_check_mode=True, _ansible_diff=True
    )
    assert result["changed"] and path.read_text() == "kept-secret-value"
    assert "kept-secret-value" not in json.dumps(result["diff"])


def test_no_temporary_file_is_left_behind(capsys, tmp_path):
    run(capsys, path=str(tmp_path / "pw"))
    run(capsys, path=str(tmp_path / "pw"), value="replaced-secret-value")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pw"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"length": 8}, "length must be at least 16"),
        ({"value": "two\nlines"}, "must not contain a line break"),
    ],
)
def test_bad_input_fails_clearly(capsys, tmp_path, args, message):
    code, result = run(capsys, path=str(tmp_path / "pw"), **args)
    assert code == 1 and result["failed"] and message in result["msg"]
    assert not (tmp_path / "pw").exists()


def test_missing_directory_is_an_error_not_created(capsys, tmp_path):
    code, result = run(capsys, path=str(tmp_path / "nope" / "pw"))
    assert code == 1 and "does not exist" in result["msg"]
    assert not (tmp_path / "nope").exists()


def test_a_directory_in_the_way_is_an_error(capsys, tmp_path):
    (tmp_path / "pw").mkdir()
    code, result = run(capsys, path=str(tmp_path / "pw"))
    assert code == 1 and "not a regular file" in result["msg"]


def test_files_keeps_several_secrets_in_one_run(capsys, tmp_path):
    kept = tmp_path / "kept"
    kept.write_text("already-there-secret")
    files = [
        {"path": str(tmp_path / "given"), "value": "given-secret-value"},
        {"path": str(kept)},
        {"path": str(tmp_path / "new"), "length": 20, "mode": "0400"},
    ]
    code, result = run(capsys, mode="0440", files=files)
    assert code == 0 and result["changed"] and result["secret_changed"]
    given, kept_result, new = result["files"]
    assert (given["source"], kept_result["source"], new["source"]) == ("given", "kept", "generated")
    assert "content" not in given and "given-secret-value" not in json.dumps(result)
    assert secret_of(kept_result) == "already-there-secret" and not kept_result["secret_changed"]
    assert len(secret_of(new)) == 20 == len((tmp_path / "new").read_text())
    assert stat.S_IMODE((tmp_path / "given").stat().st_mode) == 0o440  # the top-level mode
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o400  # the item's own
    assert kept_result["changed"]  # its mode became 0440

    _code, again = run(capsys, mode="0440", files=files)
    assert not again["changed"] and [f["source"] for f in again["files"]] == ["given", "kept", "kept"]


def test_files_diff_is_one_entry_per_file_without_secrets(capsys, tmp_path):
    _code, result = run(
        capsys,
        files=[{"path": str(tmp_path / "a")}, {"path": str(tmp_path / "b"), "value": "bbbb-secret"}],
        _ansible_diff=True,
    )
    assert [d["after"]["path"] for d in result["diff"]] == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert "bbbb-secret" not in json.dumps(result["diff"])
    assert secret_of(result["files"][0]) not in json.dumps(result["diff"])


def test_files_checks_every_item_before_writing_any(capsys, tmp_path):
    code, result = run(capsys, files=[{"path": str(tmp_path / "a")}, {"path": str(tmp_path / "missing" / "b")}])
    assert code == 1 and "the directory %s does not exist" % (tmp_path / "missing") in result["msg"]
    assert not (tmp_path / "a").exists()


def test_files_checks_every_owner_and_group_before_writing_any(capsys, tmp_path):
    bad_owner = [{"path": str(tmp_path / "a")}, {"path": str(tmp_path / "b"), "owner": "no-such-user-mlops"}]
    code, result = run(capsys, files=bad_owner)
    assert code == 1 and result["msg"] == "owner no-such-user-mlops does not exist on this host"
    code, result = run(capsys, files=[{"path": str(tmp_path / "a")}, {"path": str(tmp_path / "b"), "group": "nogrp-x"}])
    assert code == 1 and result["msg"] == "group nogrp-x does not exist on this host"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("bad", ["bogus", "0999", "u+q", "12345"])
def test_files_checks_every_mode_before_writing_any(capsys, tmp_path, bad):
    code, result = run(capsys, files=[{"path": str(tmp_path / "a")}, {"path": str(tmp_path / "b"), "mode": bad}])
    assert code == 1 and result["msg"] == f"mode must be octal (0600) or symbolic (u=rw,go=), got {bad!r}"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize(("mode", "expected"), [("0440", 0o440), ("600", 0o600), (0o400, 0o400), ("u=r,go=", 0o400)])
def test_octal_and_symbolic_modes_are_taken(capsys, tmp_path, mode, expected):
    code, _result = run(capsys, path=str(tmp_path / "pw"), mode=mode)
    assert code == 0 and stat.S_IMODE((tmp_path / "pw").stat().st_mode) == expected


def test_a_new_secret_is_never_readable_beyond_its_owner(capsys, tmp_path, monkeypatch):
    """Under the usual umask 022 a renamed-in file would be 0644 until its mode is set: seen from inside."""
    seen = []
    real = mod.set_attributes

    def spy(module, path, *args):
        seen.append(stat.S_IMODE(os.stat(path).st_mode))
        return real(module, path, *args)

    monkeypatch.setattr(mod, "set_attributes", spy)
    umask = os.umask(0o022)
    try:
        code, result = run(capsys, path=str(tmp_path / "pw"), mode="0440")
    finally:
        os.umask(umask)
    assert code == 0 and result["changed"]
    assert seen == [0o600] and stat.S_IMODE((tmp_path / "pw").stat().st_mode) == 0o440
    assert os.listdir(tmp_path) == ["pw"]  # no temporary file left beside it


def test_files_refuses_the_same_path_twice(capsys, tmp_path):
    code, result = run(capsys, files=[{"path": str(tmp_path / "a")}, {"path": str(tmp_path / "a")}])
    assert code == 1 and result["msg"] == "files names the same path more than once: %s" % (tmp_path / "a")


def test_path_and_files_exclude_each_other(capsys, tmp_path):
    code, result = run(capsys, path=str(tmp_path / "a"), files=[{"path": str(tmp_path / "b")}])
    assert code == 1 and "mutually exclusive" in result["msg"]
    code, result = run(capsys)
    assert code == 1 and "one of the following is required: path, files" in result["msg"]


def test_pending_marker_is_written_with_a_change_and_kept_until_the_caller_removes_it(capsys, tmp_path):
    path, marker = tmp_path / "pw", tmp_path / ".postgres.pending"
    path.write_text("old-secret-value")

    code, changed = run(capsys, path=str(path), value="new-secret-value", pending_marker=str(marker))
    assert code == 0 and changed["secret_changed"] and changed["pending"]
    assert marker.exists() and marker.read_text() == ""
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600

    # The run was interrupted before the caller applied the change: the next one still sees it.
    code, again = run(capsys, path=str(path), value="new-secret-value", pending_marker=str(marker))
    assert code == 0 and not again["changed"] and not again["secret_changed"] and again["pending"]

    marker.unlink()  # the caller applied it
    code, settled = run(capsys, path=str(path), value="new-secret-value", pending_marker=str(marker))
    assert code == 0 and not settled["pending"] and not marker.exists()


def test_pending_marker_is_not_written_when_nothing_changes(capsys, tmp_path):
    path, marker = tmp_path / "pw", tmp_path / ".minio.pending"
    path.write_text("kept-secret-value")
    code, result = run(capsys, files=[{"path": str(path)}], pending_marker=str(marker))
    assert code == 0 and not result["pending"] and not marker.exists()


def test_pending_marker_in_check_mode_reports_without_writing(capsys, tmp_path):
    path, marker = tmp_path / "pw", tmp_path / ".mlflow.pending"
    code, result = run(capsys, path=str(path), pending_marker=str(marker), _ansible_check_mode=True)
    assert code == 0 and result["pending"] and result["changed"]
    assert not marker.exists() and not path.exists()


def test_pending_marker_is_written_before_the_secret_files(capsys, tmp_path, monkeypatch):
    """An interruption between the marker and the secrets leaves the marker, never the reverse."""
    path, marker = tmp_path / "pw", tmp_path / ".postgres.pending"
    order = []
    real = mod.move_into_place

    def recording(module, temp, dest):
        order.append(os.path.basename(dest))
        return real(module, temp, dest)

    monkeypatch.setattr(mod, "move_into_place", recording)
    code, _result = run(capsys, path=str(path), value="a-new-secret-value", pending_marker=str(marker))
    assert code == 0 and order == [".postgres.pending", "pw"]
