"""The MLflow image's mlflow_s3_stream_upload.py, against a real S3 endpoint over HTTP.

The Molecule scenarios' S3 stand-in for MinIO (moto's S3 server checking SigV4 signatures
against the root user and password; no MinIO build can be had on the test machine) runs on
127.0.0.1, started and stopped by these tests. MLflow's own S3ArtifactRepository and boto3 do
the uploads; only the request's chunks are made up. The end-to-end proof is the Molecule
verify of the compose stage: a 50 MiB artifact logged with the MLflow client through nginx and
its bytes read back from the bucket, then a 1 GiB upload through nginx stored whole.
"""

import asyncio
import hashlib
import io
import os
import subprocess
import sys

import pytest

from .conftest import IMAGE_FILES, S3_KEYS, environment, load_image_module, s3_client

pytestmark = pytest.mark.integration

MODULE = IMAGE_FILES / "mlflow_s3_stream_upload.py"
BUCKET = "mlflow-stream"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(endpoint):
    client = s3_client(endpoint)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def repository(endpoint, s3):
    """An S3ArtifactRepository of this process, patched by the module as the image loads it."""
    del s3  # the bucket must exist
    with environment(
        AWS_ACCESS_KEY_ID=S3_KEYS["access_key"],
        AWS_SECRET_ACCESS_KEY=S3_KEYS["secret_key"],
        MLFLOW_S3_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION="us-east-1",
    ):
        load_image_module("mlflow_s3_stream_upload")
        from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

        yield S3ArtifactRepository(f"s3://{BUCKET}/1/run-id/artifacts")


async def _chunks(data, size, fail_after=None):
    """The body as uvicorn hands it over: chunks of ``size`` bytes, awaited one by one."""
    for offset in range(0, len(data), size):
        if fail_after is not None and offset >= fail_after:
            raise ConnectionResetError("client went away")
        await asyncio.sleep(0)
        yield data[offset : offset + size]


def _upload(repository, data, name, artifact_path=None, size=65536, fail_after=None):
    asyncio.run(repository.log_artifact_from_async_stream(_chunks(data, size, fail_after), name, artifact_path))


def test_module_patches_the_repository_when_mlflow_imports_it():
    """Loaded first (as the .pth file does), the module patches S3ArtifactRepository on import,
    and MLflow's artifact route then takes the streaming branch for S3."""
    script = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(MODULE.parent)!r})\n"
        f"spec = importlib.util.spec_from_file_location('m', {str(MODULE)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "assert 'mlflow.store.artifact.s3_artifact_repo' not in sys.modules\n"
        "from mlflow.store.artifact.artifact_repo import StreamUploadMixin\n"
        "from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository\n"
        "print(issubclass(S3ArtifactRepository, StreamUploadMixin))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["True"], out.stderr


def test_large_stream_is_stored_whole_as_a_multipart_upload(repository, s3):
    data = os.urandom(21 * MIB + 12345)  # three 8 MiB parts, the last one short
    _upload(repository, data, "weights.bin", artifact_path="model", size=65536 + 7)
    key = "1/run-id/artifacts/model/weights.bin"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # a multipart upload of 3 parts
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()


def test_small_stream_keeps_mlflow_s_key_and_content_type(repository, s3):
    _upload(repository, b'{"accuracy": 0.9}', "dir/metrics.json")  # directory parts of the name are ignored
    obj = s3.get_object(Bucket=BUCKET, Key="1/run-id/artifacts/metrics.json")
    assert obj["Body"].read() == b'{"accuracy": 0.9}'
    assert obj["ContentType"] == "application/json"


def test_empty_stream_stores_an_empty_object(repository, s3):
    _upload(repository, b"", "empty.txt")
    assert s3.head_object(Bucket=BUCKET, Key="1/run-id/artifacts/empty.txt")["ContentLength"] == 0


def test_client_gone_mid_upload_leaves_no_object_and_no_open_upload(repository, s3):
    data = os.urandom(20 * MIB)
    with pytest.raises(ConnectionResetError, match="client went away"):
        _upload(repository, data, "partial.bin", fail_after=17 * MIB)  # after two parts went up
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="1/run-id/artifacts/partial.bin")
    assert listed.get("KeyCount") == 0
    uploads = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert [u["Key"] for u in uploads if u["Key"].endswith("partial.bin")] == []


def test_sync_stream_uploads_too(repository, s3):
    """MLflow's Flask fallback (gunicorn, waitress) hands over a file object instead."""
    data = os.urandom(MIB)
    repository.log_artifact_from_stream(io.BytesIO(data), "sync.bin")
    assert s3.get_object(Bucket=BUCKET, Key="1/run-id/artifacts/sync.bin")["Body"].read() == data


def test_reader_returns_exactly_what_is_asked_across_chunk_edges():
    module = load_image_module("mlflow_s3_stream_upload", "mlflow_s3_stream_upload_reader")
    data = bytes(range(256)) * 40  # 10240 bytes in chunks of 7

    async def read_all():
        reader = module._AsyncChunks(_chunks(data, 7), asyncio.get_running_loop())
        sizes = (10, 0, 1, 4096, 7, -1, 5)
        return await asyncio.to_thread(lambda: [reader.read(size) for size in sizes])

    pieces = asyncio.run(read_all())
    assert [len(p) for p in pieces] == [10, 0, 1, 4096, 7, 10240 - 4114, 0]
    assert b"".join(pieces) == data
