"""Loaded at interpreter start in the MLflow image by mlflow-storage-full.pth (mlops.mlflow.mlflow_server).

When the volume under a local artifact store (the local stage's artifact directory) fills up
during an upload, MLflow lets the ``OSError`` ("No space left on device") escape its upload
route: uvicorn answers a bare ``500 Internal Server Error`` and closes the connection. MLflow's
client retries a 500 (7 times by default, backing off for minutes, sending the whole file again
each time) and then reports "too many 500 error responses", which does not name the cause.

This module makes the local artifact repository's uploads raise an ``MlflowException`` instead,
answered with HTTP 507 (Insufficient Storage), which the client does not retry, and a message
that names the cause and the artifact. MLflow itself still removes the partial file (it writes
to a staging file and only renames a complete one), so the space the failed upload took is
free again. The server's log names the refused artifact and the cause. Any other error is left
as it was.

The same holds for an S3 store whose drives are full: MinIO answers the upload (a PUT, or a
part of a multipart upload) with HTTP 507 ``XMinioStorageFull``, which MLflow passes on as a
500. The S3 repository's uploads (``log_artifact``, which the streaming upload of
mlflow_s3_stream_upload.py goes through too) answer 507 with the store's own code and message
instead. boto3 aborts a multipart upload that failed, so nothing of the file is kept there
either.
"""

import errno
import functools
import inspect
import logging
import os

from mlflow_import_hook import after_import

_TARGET = "mlflow.store.artifact.local_artifact_repo"
_S3_TARGET = "mlflow.store.artifact.s3_artifact_repo"
_FULL = {errno.ENOSPC, errno.EDQUOT}
_S3_FULL = {"XMinioStorageFull"}  # and any answer with HTTP status 507
_LOG = logging.getLogger("mlflow.server.mlops_storage_full")  # MLflow's handler prints it
_METHODS = ("log_artifact", "log_artifact_from_stream", "log_artifact_from_async_stream")


@functools.cache
def _error_class():
    from mlflow.exceptions import MlflowException  # pylint: disable=import-outside-toplevel

    class ArtifactStorageFull(MlflowException):
        """Answered with 507 Insufficient Storage, a status MLflow's client does not retry."""

        def get_http_status_code(self):
            return 507

    return ArtifactStorageFull


def _full_cause(error):
    """(cause, remedy) when ``error`` says the artifact store is full, else None."""
    if isinstance(error, OSError) and error.errno in _FULL:
        return str(error.strerror), "Free or grow the artifact volume"
    seen, hops = error, 0
    while seen is not None and hops < 5:  # boto3 wraps the S3 answer (S3UploadFailedError)
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            answer = response.get("Error") or {}
            if answer.get("Code") in _S3_FULL or response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 507:
                cause = f"the S3 store answered {answer.get('Code', '507')}: {answer.get('Message', '')}".rstrip(": ")
                return cause, "Free space on the S3 store (MinIO's drives)"
        seen, hops = seen.__cause__ or seen.__context__, hops + 1
    return None


def _storage_full(error, cause, name):
    """The exception answered for ``error`` (the store is full, ``cause``) while storing the
    artifact ``name``; the server's log gets the artifact's name and the error."""
    from mlflow.protos.databricks_pb2 import IO_ERROR  # pylint: disable=import-outside-toplevel

    _LOG.warning("Refused the artifact %r, the artifact store has no space left: %s", name, error)
    return _error_class()(
        f"The artifact store has no space left ({cause[0]}): '{name}' was not stored, "
        f"and nothing of it was kept. {cause[1]}, then log it again.",
        error_code=IO_ERROR,
    )


def _artifact_name(method, self, args, kwargs):
    """The file name the upload was storing (``local_file`` is a path, ``artifact_file_name`` a name)."""
    arguments = inspect.signature(method).bind(self, *args, **kwargs).arguments
    return os.path.basename(str(arguments.get("artifact_file_name", arguments.get("local_file", ""))))


def _wrap(method):
    if getattr(method, "_mlops_storage_full", False):
        return method
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def wrapper(self, *args, **kwargs):
            try:
                return await method(self, *args, **kwargs)
            except Exception as error:
                cause = _full_cause(error)
                if cause is None:
                    raise
                raise _storage_full(error, cause, _artifact_name(method, self, args, kwargs)) from error

    else:

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except Exception as error:
                cause = _full_cause(error)
                if cause is None:
                    raise
                raise _storage_full(error, cause, _artifact_name(method, self, args, kwargs)) from error

    wrapper._mlops_storage_full = True  # pylint: disable=protected-access
    return wrapper


def _patch_class(repository, names):
    for name in names:
        if name in vars(repository):
            setattr(repository, name, _wrap(vars(repository)[name]))


after_import(_TARGET, lambda module: _patch_class(module.LocalArtifactRepository, _METHODS))
# The streaming upload of mlflow_s3_stream_upload.py stores through log_artifact as well.
after_import(_S3_TARGET, lambda module: _patch_class(module.S3ArtifactRepository, ("log_artifact",)))
