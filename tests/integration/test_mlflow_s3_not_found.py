"""The MLflow image's mlflow_s3_not_found.py, on MLflow's own S3ArtifactRepository and a real S3 endpoint.

The Molecule scenarios' S3 stand-in for MinIO (moto's S3 server checking SigV4 signatures;
no MinIO build can be had on the test machine) runs on 127.0.0.1, started and stopped by these
tests. MLflow's download path is the one its artifact proxy takes (``download_artifacts`` of one
file into a temporary directory). The answer through nginx (404 with ``RESOURCE_DOES_NOT_EXIST``)
is checked by the stack scenarios' Molecule verify.
"""

from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException

from .conftest import S3_KEYS, environment, load_image_module, s3_client

pytestmark = pytest.mark.integration

BUCKET = "mlflow-not-found"


@pytest.fixture(scope="module")
def repository_class(endpoint):
    client = s3_client(endpoint)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="1/run/artifacts/model/weights.bin", Body=b"weights")
    with environment(
        MLFLOW_S3_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID=S3_KEYS["access_key"],
        AWS_SECRET_ACCESS_KEY=S3_KEYS["secret_key"],
    ):
        load_image_module("mlflow_s3_not_found")
        from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

        yield S3ArtifactRepository


def test_a_missing_artifact_is_resource_does_not_exist(repository_class, tmp_path):
    repository = repository_class(f"s3://{BUCKET}/1/run/artifacts")
    with pytest.raises(MlflowException) as missing:
        repository.download_artifacts("model/missing.bin", str(tmp_path))
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert missing.value.get_http_status_code() == 404
    assert "No such artifact: 'model/missing.bin'" in missing.value.message


def test_an_artifact_that_is_there_still_downloads(repository_class, tmp_path):
    repository = repository_class(f"s3://{BUCKET}/1/run/artifacts")
    local = repository.download_artifacts("model/weights.bin", str(tmp_path))
    assert Path(local).read_bytes() == b"weights"


def test_other_s3_errors_stay_internal(repository_class, tmp_path):
    # A wrong password: the store refuses the signature (403), which is not a missing artifact.
    repository = repository_class(
        f"s3://{BUCKET}/1/run/artifacts", access_key_id=S3_KEYS["access_key"], secret_access_key="not-the-password"
    )
    with pytest.raises(MlflowException) as refused:
        repository.download_artifacts("model/weights.bin", str(tmp_path))
    # MLflow's own answer for a refused request (its 403 mapping), not a missing artifact.
    assert refused.value.error_code == "UNAUTHENTICATED"
    assert "No such artifact" not in refused.value.message


def test_loading_twice_wraps_once(repository_class):
    load_image_module("mlflow_s3_not_found", "mlflow_s3_not_found_again")
    download = vars(repository_class)["_download_file"]
    assert download._mlops_not_found is True
    assert not getattr(download.__wrapped__, "_mlops_not_found", False)
