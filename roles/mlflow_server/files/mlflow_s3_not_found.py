"""Loaded at interpreter start in the MLflow image by mlflow-s3-not-found.pth (mlops.mlflow.mlflow_server).

Asked through the server (proxied artifacts, ``GET /api/2.0/mlflow-artifacts/artifacts/...``)
for an artifact that is not in an S3 artifact store, MLflow 3.17 lets boto3's ``404 Not Found``
from ``HeadObject`` escape as an ``INTERNAL_ERROR``: the server answers 500, and MLflow's
client retries a 500 with backoff (248 s measured with its default retries) before it fails.
A local artifact store answers the same question with 404 ``RESOURCE_DOES_NOT_EXIST`` ("No such
artifact"), which the client reports at once.

This module makes the S3 repository's single-file download raise that same error when the
object is not there (``404``, ``NoSuchKey``), so a mistyped path or a run without that file
fails at once with a message that names it. Any other S3 error is left as it was.
"""

import functools

from mlflow_import_hook import after_import

_TARGET = "mlflow.store.artifact.s3_artifact_repo"
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _not_found(remote_file_path):
    """The MlflowException answered with 404 for the missing object ``remote_file_path``."""
    # pylint: disable=import-outside-toplevel
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

    return MlflowException(f"No such artifact: '{remote_file_path}'", error_code=RESOURCE_DOES_NOT_EXIST)


def _wrap(method):
    if getattr(method, "_mlops_not_found", False):
        return method

    @functools.wraps(method)
    def _download_file(self, remote_file_path, local_path):
        from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel

        try:
            return method(self, remote_file_path, local_path)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) not in _MISSING:
                raise
            raise _not_found(remote_file_path) from error

    _download_file._mlops_not_found = True  # pylint: disable=protected-access
    return _download_file


def _patch(module):
    repository = module.S3ArtifactRepository
    if "_download_file" in vars(repository):  # an MLflow that downloads otherwise is left as it is
        repository._download_file = _wrap(vars(repository)["_download_file"])  # pylint: disable=protected-access


after_import(_TARGET, _patch)
