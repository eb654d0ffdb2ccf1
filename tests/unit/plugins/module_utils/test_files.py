"""Unit tests of mlops.mlflow's module_utils.files on real files."""

import pytest

from ansible_collections.mlops.mlflow.plugins.module_utils.files import read_text


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
