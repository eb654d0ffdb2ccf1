"""Unit tests of mlops.mlflow's module_utils.files on real files."""

import grp
import os
import pwd
import stat

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mlops.mlflow.plugins.module_utils.files import (
    move_into_place,
    owner_group_error,
    read_text,
    write_temp,
)


def test_reads_the_content_as_text(tmp_path):
    path = tmp_path / "f"
    path.write_text("services: {}\nnaïve\n", encoding="utf-8")
    assert read_text(str(path)) == "services: {}\nnaïve\n"


def test_an_absent_file_is_none_and_an_empty_one_is_empty(tmp_path):
    assert read_text(str(tmp_path / "absent")) is None
    (tmp_path / "empty").write_text("", encoding="utf-8")
    assert read_text(str(tmp_path / "empty")) == ""


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="exists and is not a regular file"):
        read_text(str(tmp_path))


def real_module():
    """An AnsibleModule as a module run has it: its atomic_move gives a new file 0666 less the umask."""
    with patch_module_args({}):
        return AnsibleModule(argument_spec={})


def test_a_moved_in_new_file_is_0600_whatever_the_umask(tmp_path):
    umask = os.umask(0o022)
    try:
        tmp = write_temp(str(tmp_path), ".x.", "secret")
        move_into_place(real_module(), tmp, str(tmp_path / "x"))
        assert os.umask(0o022) == 0o022  # restored
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "x").stat().st_mode) == 0o600
    assert (tmp_path / "x").read_text() == "secret" and os.listdir(tmp_path) == ["x"]


def test_a_failed_move_leaves_the_old_file_and_no_temporary_one(tmp_path):
    (tmp_path / "x").write_text("old")
    tmp = write_temp(str(tmp_path), ".x.", "new")
    module = real_module()

    def failing(src, dest):
        raise Exception(f"Could not replace {dest!r} with {src!r}.")

    module.atomic_move = failing
    with pytest.raises(Exception, match="Could not replace"):
        move_into_place(module, tmp, str(tmp_path / "x"))
    assert (tmp_path / "x").read_text() == "old" and os.listdir(tmp_path) == ["x"]


def test_owner_group_error_names_what_is_unknown():
    me, my_group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    assert owner_group_error(me, my_group) is None
    assert owner_group_error("4242", "4242") is None  # numeric ids need no entry
    assert owner_group_error(None, None) is None
    assert owner_group_error("no-such-user-mlops", my_group) == "owner no-such-user-mlops does not exist on this host"
    assert owner_group_error(me, "no-such-group-mlops") == "group no-such-group-mlops does not exist on this host"
