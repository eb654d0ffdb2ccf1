"""The MLflow image's mlflow_presigned_opt_in.py, on a stand-in for MLflow 3.17's handlers module.

MLflow's server handlers cannot be imported here (the test environment has mlflow-skinny, without
SQLAlchemy), so ``mlflow.server.handlers`` is a module written here with the parts of MLflow
3.17.2's that the startup module changes, as 3.17.2 has them: server-info advertises presigned
multipart transfers whenever the artifact repository supports them, and the presigned routes'
checks only ask the repository. MLflow's own environment variables and exceptions are the real
ones. The real server (the image's MLflow 3.17.2, an MLflow 3.18 client through nginx) is the
stack scenarios' Molecule verify (mlflow_roundtrip.py).
"""

import importlib.util
import sys
import types
from pathlib import Path

import pytest
from mlflow import exceptions

FILES = Path(__file__).resolve().parents[3] / "roles/mlflow_server/files"
UPLOAD = "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"
DOWNLOAD = "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD"


class MultipartRepository:
    """An artifact repository with presigned transfers (S3ArtifactRepository's mixins)."""


def _handlers_3_17():
    """The parts of MLflow 3.17.2's mlflow.server.handlers the startup module wraps."""
    module = types.ModuleType("mlflow.server.handlers")

    def build_server_info_payload():
        supported = isinstance(module.repository, MultipartRepository)
        return {
            "store_type": "SqlStore",
            "multipart_uploads_enabled": supported,
            "multipart_downloads_enabled": supported,
        }

    def check(unsupported):
        def validate(artifact_repo):
            if not isinstance(artifact_repo, MultipartRepository):
                raise unsupported()

        return validate

    module.repository = MultipartRepository()
    module.build_server_info_payload = build_server_info_payload
    module._validate_support_multipart_upload = check(exceptions._UnsupportedMultipartUploadException)
    module._validate_support_presigned_upload = check(exceptions._UnsupportedPresignedUploadException)
    module._validate_support_multipart_download = check(exceptions._UnsupportedMultipartDownloadException)
    module._validate_support_presigned_download = check(exceptions._UnsupportedPresignedDownloadException)
    return module


def _load(name="mlflow_presigned_opt_in"):
    sys.path.insert(0, str(FILES))  # the image puts mlflow_import_hook.py beside it
    try:
        spec = importlib.util.spec_from_file_location(name, FILES / "mlflow_presigned_opt_in.py")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        sys.path.remove(str(FILES))


@pytest.fixture
def handlers(monkeypatch):
    module = _handlers_3_17()
    monkeypatch.setitem(sys.modules, "mlflow.server.handlers", module)
    monkeypatch.delenv(UPLOAD, raising=False)
    monkeypatch.delenv(DOWNLOAD, raising=False)
    _load()
    return module


def _refused(check, repository):
    with pytest.raises(exceptions.MlflowException) as refused:
        check(repository)
    assert refused.value.error_code == "NOT_IMPLEMENTED"
    assert refused.value.get_http_status_code() == 501  # MLflow's clients then go through the server
    return refused.value


def test_nothing_is_advertised_without_the_opt_in(handlers):
    payload = handlers.build_server_info_payload()
    assert payload["multipart_uploads_enabled"] is False
    assert payload["multipart_downloads_enabled"] is False
    assert payload["store_type"] == "SqlStore"


def test_without_the_opt_in_every_presigned_route_answers_501(handlers):
    for name, kind in (
        ("_validate_support_multipart_upload", exceptions._UnsupportedMultipartUploadException),
        ("_validate_support_presigned_upload", exceptions._UnsupportedPresignedUploadException),
        ("_validate_support_multipart_download", exceptions._UnsupportedMultipartDownloadException),
        ("_validate_support_presigned_download", exceptions._UnsupportedPresignedDownloadException),
    ):
        assert isinstance(_refused(getattr(handlers, name), handlers.repository), kind), name


def test_downloads_opted_in_leave_uploads_off(handlers, monkeypatch):
    monkeypatch.setenv(DOWNLOAD, "true")
    payload = handlers.build_server_info_payload()
    assert payload["multipart_downloads_enabled"] is True
    assert payload["multipart_uploads_enabled"] is False
    handlers._validate_support_multipart_download(handlers.repository)  # granted
    handlers._validate_support_presigned_download(handlers.repository)
    _refused(handlers._validate_support_multipart_upload, handlers.repository)


def test_uploads_opted_in_leave_downloads_off(handlers, monkeypatch):
    monkeypatch.setenv(UPLOAD, "true")
    payload = handlers.build_server_info_payload()
    assert payload["multipart_uploads_enabled"] is True
    assert payload["multipart_downloads_enabled"] is False
    handlers._validate_support_multipart_upload(handlers.repository)
    _refused(handlers._validate_support_multipart_download, handlers.repository)


def test_the_opt_in_does_not_offer_what_the_store_cannot_do(handlers, monkeypatch):
    monkeypatch.setenv(UPLOAD, "true")
    monkeypatch.setenv(DOWNLOAD, "true")
    handlers.repository = object()  # a store without presigned transfers (a local directory)
    payload = handlers.build_server_info_payload()
    assert payload["multipart_uploads_enabled"] is False
    assert payload["multipart_downloads_enabled"] is False
    _refused(handlers._validate_support_multipart_download, handlers.repository)


def test_loading_twice_wraps_once(handlers):
    _load("mlflow_presigned_opt_in_again")
    assert handlers.build_server_info_payload._mlops_opt_in is True
    assert not hasattr(handlers.build_server_info_payload.__wrapped__, "_mlops_opt_in")
    check = handlers._validate_support_multipart_download
    assert not hasattr(check.__wrapped__, "_mlops_opt_in")
