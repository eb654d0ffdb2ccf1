"""The MLflow image's mlflow_storage_full.py on MLflow's own S3ArtifactRepository, with a full S3 store.

The S3 store is the Molecule scenarios' stand-in for MinIO (moto's S3 server; no MinIO build can
be had on the test machine), given a capacity of 6 MiB here: a PUT of an object or a part that
would not fit is answered as MinIO answers when its drives are full (HTTP 507,
``XMinioStorageFull``). That answer is the stand-in's, written after MinIO's; the rest is real:
MLflow's repository, boto3 (one PUT for a small file, a multipart upload of 8 MiB parts for a
large stream) and the image's streaming upload (mlflow_s3_stream_upload.py), loaded as the image
loads them. On 127.0.0.1, started and stopped by these tests.
"""

import asyncio
import os

import pytest
from mlflow.exceptions import MlflowException

from .conftest import (
    S3_KEYS,
    environment,
    free_port,
    load_image_module,
    s3_client,
    start_moto,
    stop_moto,
    wait_until_up,
)

pytestmark = pytest.mark.integration

BUCKET = "mlflow-full"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def full_store():
    port = free_port()
    proc = start_moto(port, env={"MLOPS_STANDIN_CAPACITY_BYTES": str(6 * MIB)})
    wait_until_up(port, proc)
    endpoint = f"http://127.0.0.1:{port}"
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=BUCKET)
    with environment(MLFLOW_S3_ENDPOINT_URL=endpoint, AWS_DEFAULT_REGION="us-east-1"):
        load_image_module("mlflow_s3_stream_upload")
        load_image_module("mlflow_storage_full")
        yield s3
    stop_moto(proc)


@pytest.fixture
def repository(full_store):
    del full_store  # the store must be up
    from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

    return S3ArtifactRepository(
        f"s3://{BUCKET}/1/run/artifacts", access_key_id=S3_KEYS["access_key"], secret_access_key=S3_KEYS["secret_key"]
    )


async def _chunks(size, chunk=256 * 1024):
    for _index in range(size // chunk):
        await asyncio.sleep(0)
        yield b"x" * chunk


def _keys(s3):
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def _assert_full(raised, name):
    assert raised.value.get_http_status_code() == 507
    assert raised.value.error_code == "IO_ERROR"
    assert "XMinioStorageFull" in raised.value.message
    assert f"'{name}' was not stored" in raised.value.message
    assert "Free space on the S3 store" in raised.value.message


def test_a_file_that_does_not_fit_is_a_507_and_leaves_nothing(repository, full_store, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(7 * MIB))  # one PUT (under boto3's 8 MiB multipart threshold)
    with pytest.raises(MlflowException) as raised:
        repository.log_artifact(str(source), "model")
    _assert_full(raised, "big.bin")
    assert _keys(full_store) == []


def test_a_stream_that_does_not_fit_is_a_507_and_leaves_no_upload(repository, full_store):
    with pytest.raises(MlflowException) as raised:
        asyncio.run(repository.log_artifact_from_async_stream(_chunks(20 * MIB), "stream.bin", "model"))
    _assert_full(raised, "stream.bin")
    assert _keys(full_store) == []
    assert full_store.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_what_fits_is_still_stored_after_a_refusal(repository, full_store, tmp_path):
    source = tmp_path / "small.bin"
    source.write_bytes(os.urandom(MIB))
    repository.log_artifact(str(source), "model")
    body = full_store.get_object(Bucket=BUCKET, Key="1/run/artifacts/model/small.bin")["Body"].read()
    assert body == source.read_bytes()


def test_other_s3_errors_are_left_as_they_were(full_store, tmp_path):
    del full_store
    from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

    refused = S3ArtifactRepository(
        f"s3://{BUCKET}/1/run/artifacts", access_key_id=S3_KEYS["access_key"], secret_access_key="not-the-password"
    )
    source = tmp_path / "small.bin"
    source.write_bytes(b"1")
    with pytest.raises(Exception) as raised:
        refused.log_artifact(str(source), "model")
    assert not isinstance(raised.value, MlflowException)
    assert "SignatureDoesNotMatch" in str(raised.value)
