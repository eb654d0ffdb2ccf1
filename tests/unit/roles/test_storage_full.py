"""The MLflow image's mlflow_storage_full.py, on MLflow's own LocalArtifactRepository.

The module is loaded as the image loads it (after MLflow's repository module, so it patches at
once). A full volume is made here by a file object whose writes fail with ENOSPC after 1 MiB:
the OSError comes from inside MLflow's own upload methods, which then clean up as they do on a
real disk. The real full volume (a 4 MiB tmpfs under the artifact directory, the client's error
through HTTP) is the local stage's Molecule verify.
"""

import asyncio
import errno
import importlib.util
import os
import sys
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.store.artifact import local_artifact_repo
from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

FILES = Path(__file__).resolve().parents[3] / "roles/mlflow_server/files"
MIB = 1024 * 1024


def _load():
    sys.path.insert(0, str(FILES))
    try:
        spec = importlib.util.spec_from_file_location("mlflow_storage_full", FILES / "mlflow_storage_full.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        sys.path.remove(str(FILES))


_load()


class _Volume:
    """Stands in for os.fdopen: the file it opens takes ``room`` bytes, then fails like a full disk."""

    def __init__(self, room, error=errno.ENOSPC):
        self.room = room
        self.error = error
        self._fdopen = os.fdopen

    def __call__(self, fd, mode="r", *args, **kwargs):
        volume, real = self, self._fdopen(fd, mode, *args, **kwargs)

        class File:
            def write(self, data):
                if len(data) > volume.room:
                    raise OSError(volume.error, os.strerror(volume.error))
                volume.room -= len(data)
                return real.write(data)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                real.close()

        return File()


@pytest.fixture
def repository(tmp_path):
    return LocalArtifactRepository(str(tmp_path / "artifacts"))


async def _chunks(size, chunk=256 * 1024):
    for _index in range(size // chunk):
        yield b"x" * chunk


def _upload(repository, method, size, source):
    if method == "async":
        asyncio.run(repository.log_artifact_from_async_stream(_chunks(size), "big.bin", "out"))
    elif method == "stream":
        with open(source, "rb") as stream:
            repository.log_artifact_from_stream(stream, "big.bin", "out")
    else:
        repository.log_artifact(str(source), "out")


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(4 * MIB))
    return path


@pytest.mark.parametrize("method", ["async", "stream", "file"])
def test_full_volume_is_a_507_naming_cause_and_artifact_and_leaves_nothing(
    repository, source, method, monkeypatch, caplog
):
    monkeypatch.setattr(local_artifact_repo.os, "fdopen", _Volume(MIB))
    caplog.set_level("WARNING", logger="mlflow.server.mlops_storage_full")
    with pytest.raises(MlflowException) as raised:
        _upload(repository, method, 4 * MIB, source)
    assert raised.value.get_http_status_code() == 507
    assert raised.value.error_code == "IO_ERROR"
    assert "no space left on device" in raised.value.message.lower()
    assert "'big.bin' was not stored" in raised.value.message
    assert isinstance(raised.value.__cause__, OSError)
    assert os.listdir(Path(repository.artifact_dir, "out")) == []  # MLflow's staging file is gone
    assert [record.getMessage() for record in caplog.records] == [
        "Refused the artifact 'big.bin', the artifact store has no space left: [Errno 28] No space left on device"
    ]


def test_a_quota_is_full_too(repository, source, monkeypatch):
    monkeypatch.setattr(local_artifact_repo.os, "fdopen", _Volume(MIB, errno.EDQUOT))
    with pytest.raises(MlflowException) as raised:
        _upload(repository, "file", 4 * MIB, source)
    assert raised.value.get_http_status_code() == 507


@pytest.mark.parametrize("method", ["async", "stream", "file"])
def test_other_errors_are_left_as_they_were(repository, source, method, monkeypatch):
    monkeypatch.setattr(local_artifact_repo.os, "fdopen", _Volume(MIB, errno.EIO))
    with pytest.raises(OSError) as raised:
        _upload(repository, method, 4 * MIB, source)
    assert not isinstance(raised.value, MlflowException)
    assert raised.value.errno == errno.EIO


@pytest.mark.parametrize("method", ["async", "stream", "file"])
def test_an_upload_that_fits_is_stored_whole(repository, source, method):
    _upload(repository, method, 4 * MIB, source)
    stored = Path(repository.artifact_dir, "out", "big.bin").read_bytes()
    assert stored == (b"x" * (4 * MIB) if method == "async" else source.read_bytes())


def test_loading_twice_wraps_once():
    before = LocalArtifactRepository.log_artifact
    _load()
    assert LocalArtifactRepository.log_artifact is before
    assert before.__wrapped__.__name__ == "log_artifact"
    assert not hasattr(before.__wrapped__, "__wrapped__")
