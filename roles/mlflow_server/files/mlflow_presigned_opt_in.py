"""Loaded at interpreter start in the MLflow image by mlflow-presigned-opt-in.pth (mlops.mlflow.mlflow_server).

MLflow 3.17's server tells every client (``GET /api/3.0/mlflow/server-info``) that it supports
presigned multipart uploads and downloads whenever its proxied artifact store is S3, whatever the
operator set. An MLflow 3.18 client believes it: it asks ``/mlflow-artifacts/presigned/<path>``
for every download and then fetches the file from the S3 endpoint itself, and it sends files of
500 MiB and more straight to S3 in parts. The URLs name the endpoint the server uses (the
``minio`` service on the compose network, a private MinIO address), which clients of a proxied
stack cannot reach: each download retries, hangs for minutes, then fails. MLflow 3.18's server
advertises these only when the operator opts in (``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD`` /
``_DOWNLOAD``); this module gives 3.17 that same rule:

- server-info advertises multipart uploads only with ``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD``
  true and multipart downloads only with ``MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD`` true (the
  role's ``mlflow_server_multipart_upload`` / ``mlflow_server_multipart_download``);
- without the opt-in, the presigned routes (multipart upload create/complete/abort, the
  presigned download and the presigned URL requests) answer 501 ``NOT_IMPLEMENTED``, on which
  MLflow's clients fall back to the proxied transfer: a client that forces multipart on itself
  still works.

With the opt-in, MLflow's own behaviour is left as it is.
"""

import functools

from mlflow_import_hook import after_import

_TARGET = "mlflow.server.handlers"
# server-info key -> MLflow's environment variable of the operator's opt-in.
_ADVERTISED = {
    "multipart_uploads_enabled": "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD",
    "multipart_downloads_enabled": "MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD",
}
# handlers' check before each presigned route -> (opt-in, the exception it raises when unsupported).
_UPLOAD, _DOWNLOAD = _ADVERTISED.values()
_CHECKS = {
    "_validate_support_multipart_upload": (_UPLOAD, "_UnsupportedMultipartUploadException"),
    "_validate_support_presigned_upload": (_UPLOAD, "_UnsupportedPresignedUploadException"),
    "_validate_support_multipart_download": (_DOWNLOAD, "_UnsupportedMultipartDownloadException"),
    "_validate_support_presigned_download": (_DOWNLOAD, "_UnsupportedPresignedDownloadException"),
}


def _opted_in(variable):
    """The operator's setting, read as MLflow reads its boolean variables (default false)."""
    from mlflow import environment_variables  # pylint: disable=import-outside-toplevel

    setting = getattr(environment_variables, variable, None)
    return bool(setting is not None and setting.get())


def _wrap_payload(build):
    @functools.wraps(build)
    def build_server_info_payload(*args, **kwargs):
        payload = build(*args, **kwargs)
        for key, variable in _ADVERTISED.items():
            if payload.get(key):
                payload[key] = _opted_in(variable)
        return payload

    build_server_info_payload._mlops_opt_in = True  # pylint: disable=protected-access
    return build_server_info_payload


def _wrap_check(check, variable, unsupported):
    @functools.wraps(check)
    def validate(*args, **kwargs):
        if not _opted_in(variable):
            raise unsupported()
        return check(*args, **kwargs)

    validate._mlops_opt_in = True  # pylint: disable=protected-access
    return validate


def _patch(handlers):
    build = getattr(handlers, "build_server_info_payload", None)
    if build is not None and not getattr(build, "_mlops_opt_in", False):
        handlers.build_server_info_payload = _wrap_payload(build)
    from mlflow import exceptions  # pylint: disable=import-outside-toplevel

    for name, (variable, unsupported) in _CHECKS.items():
        check = getattr(handlers, name, None)
        if check is None or getattr(check, "_mlops_opt_in", False) or not hasattr(exceptions, unsupported):
            continue  # an MLflow without this route is left as it is
        setattr(handlers, name, _wrap_check(check, variable, getattr(exceptions, unsupported)))


after_import(_TARGET, _patch)
