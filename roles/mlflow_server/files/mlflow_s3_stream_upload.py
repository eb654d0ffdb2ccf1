"""Loaded at interpreter start in the MLflow image by mlflow-s3-stream-upload.pth (mlops.mlflow.mlflow_server).

MLflow's native artifact route (``PUT /api/2.0/mlflow-artifacts/artifacts/...``) streams an
upload straight into the artifact store only when the store's repository implements MLflow's
``StreamUploadMixin``; in MLflow 3.17 only the local repository does. For S3 the server first
writes the whole request body to a temporary file inside the container and uploads that file
to the bucket only when the client has sent its last byte. A proxied upload then takes the
receive time plus the upload time (the benchmark's 1 GiB upload ran at 0.42 of a direct PUT to
S3), and the container's disk must hold the largest artifact anyone logs.

This module gives ``S3ArtifactRepository`` that mixin: the request's chunks feed boto3's
``upload_fileobj`` as they arrive (one PUT for a small body, a multipart upload of 8 MiB parts
for a large one), so the bytes go on to the bucket while the client is still sending. Memory
stays bounded by boto3's parts in flight (at most 10 of 8 MiB per upload), whatever the
file's size. The object key, content type and extra upload arguments
(``MLFLOW_S3_UPLOAD_EXTRA_ARGS``, the expected bucket owner) are MLflow's own: the upload goes
through the repository's ``log_artifact`` with a client whose ``upload_file`` sends the stream.
A client that disconnects, or a bucket that refuses a part, fails the upload: boto3 aborts the
multipart upload and no object is left behind.
When MLflow's S3 repository comes to implement the mixin itself, this module changes nothing.
"""

import asyncio
import copy
import io
import posixpath

from mlflow_import_hook import after_import

_TARGET = "mlflow.store.artifact.s3_artifact_repo"


class _AsyncChunks(io.RawIOBase):
    """A readable, non-seekable file over an async iterator of bytes, read from a thread.

    Each ``read(size)`` gathers its chunks in one coroutine on the event loop (boto3 asks for a
    whole 8 MiB part at once): one hop between the threads per part, not one per 64 KiB chunk.
    """

    def __init__(self, chunks, loop):
        super().__init__()
        self._chunks = aiter(chunks)
        self._loop = loop
        self._rest = b""
        self._done = False

    def readable(self):
        return True

    async def _gather(self, size):
        parts, length = [], 0
        while size < 0 or length < size:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                self._done = True
                break
            parts.append(chunk)
            length += len(chunk)
        return b"".join(parts)

    def read(self, size=-1):
        size = -1 if size is None else size
        data = self._rest
        if not self._done and (size < 0 or len(data) < size):
            wanted = size - len(data) if size >= 0 else -1
            data += asyncio.run_coroutine_threadsafe(self._gather(wanted), self._loop).result()
        size = len(data) if size < 0 else size
        self._rest = data[size:]
        return data[:size]


class _StreamClient:
    """Stands in for the boto3 client in ``log_artifact``: its ``upload_file`` sends the stream."""

    def __init__(self, client, stream):
        self._client = client
        self._stream = stream

    def upload_file(self, Filename, Bucket, Key, ExtraArgs=None):  # boto3's keyword names
        del Filename  # only named for its content type
        self._client.upload_fileobj(Fileobj=self._stream, Bucket=Bucket, Key=Key, ExtraArgs=ExtraArgs)


def log_artifact_from_stream(self, stream, artifact_file_name, artifact_path=None):
    """Upload ``stream`` as the artifact ``artifact_file_name`` (under ``artifact_path``).

    MLflow's own ``log_artifact`` does it, on a copy of the repository whose client sends the
    stream: the key, content type and upload arguments are worked out as for any file.
    """
    repository = copy.copy(self)
    client = _StreamClient(self._get_s3_client(), stream)
    repository._get_s3_client = lambda: client  # pylint: disable=protected-access
    repository.log_artifact(posixpath.basename(artifact_file_name), artifact_path)


async def log_artifact_from_async_stream(self, chunks, artifact_file_name, artifact_path=None):
    """Upload the chunks of ``chunks`` as they come, from a worker thread (boto3 blocks)."""
    stream = _AsyncChunks(chunks, asyncio.get_running_loop())
    await asyncio.to_thread(self.log_artifact_from_stream, stream, artifact_file_name, artifact_path)


def _patch(module):
    from mlflow.store.artifact.artifact_repo import StreamUploadMixin  # pylint: disable=import-outside-toplevel

    repository = module.S3ArtifactRepository
    if not issubclass(repository, StreamUploadMixin):
        repository.log_artifact_from_stream = log_artifact_from_stream
        repository.log_artifact_from_async_stream = log_artifact_from_async_stream
        StreamUploadMixin.register(repository)


after_import(_TARGET, _patch)
