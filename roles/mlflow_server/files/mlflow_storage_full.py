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
as it was. Uploads to S3 are not concerned: a full bucket answers with its own error.
"""

import errno
import functools
import inspect
import logging
import os

from mlflow_import_hook import after_import

_TARGET = "mlflow.store.artifact.local_artifact_repo"
_FULL = {errno.ENOSPC, errno.EDQUOT}
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


def _storage_full(error, name):
    """The exception answered for the OSError ``error`` while storing the artifact ``name``;
    the server's log gets the artifact's name and the OSError."""
    from mlflow.protos.databricks_pb2 import IO_ERROR  # pylint: disable=import-outside-toplevel

    _LOG.warning("Refused the artifact %r, the artifact store has no space left: %s", name, error)
    return _error_class()(
        f"The artifact store has no space left ({error.strerror}): '{name}' was not stored, "
        "and nothing of it was kept. Free or grow the artifact volume, then log it again.",
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
            except OSError as error:
                if error.errno not in _FULL:
                    raise
                raise _storage_full(error, _artifact_name(method, self, args, kwargs)) from error

    else:

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except OSError as error:
                if error.errno not in _FULL:
                    raise
                raise _storage_full(error, _artifact_name(method, self, args, kwargs)) from error

    wrapper._mlops_storage_full = True  # pylint: disable=protected-access
    return wrapper


def _patch(module):
    repository = module.LocalArtifactRepository
    for name in _METHODS:
        if name in vars(repository):
            setattr(repository, name, _wrap(vars(repository)[name]))


after_import(_TARGET, _patch)
