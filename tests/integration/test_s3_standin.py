"""The S3 stand-in for MinIO (tests/images/s3-moto/minio) refuses what MinIO refuses.

The Molecule scenarios prove the roles' S3 credentials (rotation, secret forms) against this
stand-in, so its checks must hold: a request signed with any other key or password, a tampered
or expired presigned URL, and an anonymous request the bucket's policy does not allow are all
answered 403, while boto3 signing with the root user and password works, awkward key names
included. Run on 127.0.0.1 with the venv's moto, as the image runs it.
"""

import json
import subprocess
import sys
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from .conftest import S3_KEYS, STANDIN, free_port, stop_moto, wait_until_up

pytestmark = pytest.mark.integration

BUCKET = "standin-checks"
KEY = "0/run id/artifacts/ü+=&x.txt"


def _client(endpoint, access_key=S3_KEYS["access_key"], secret_key=S3_KEYS["secret_key"], signature="s3v4"):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(signature_version=signature, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def s3(endpoint):
    client = _client(endpoint)
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=KEY, Body=b"hello")
    return client


def _code(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_root_user_and_password_are_accepted_with_awkward_names(s3):
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"hello"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="0/run id/", Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["0/run id/artifacts/"]


def test_wrong_password_and_unknown_key_are_refused(endpoint, s3):
    del s3
    assert _code(lambda: _client(endpoint, secret_key="old-password").list_buckets()) == "SignatureDoesNotMatch"
    assert _code(lambda: _client(endpoint, access_key="someone").list_buckets()) == "InvalidAccessKeyId"
    wrong_put = _client(endpoint, secret_key="old-password")
    assert _code(lambda: wrong_put.put_object(Bucket=BUCKET, Key="x", Body=b"1")) == "SignatureDoesNotMatch"
    assert "Contents" not in _client(endpoint).list_objects_v2(Bucket=BUCKET, Prefix="x")


def test_presigned_urls_are_checked(endpoint, s3):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=60)
    assert requests.get(url, timeout=10).content == b"hello"
    tampered = url.replace("run%20id", "run%20ie")
    assert "SignatureDoesNotMatch" in requests.get(tampered, timeout=10).text
    forged = _client(endpoint, secret_key="old-password").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=60
    )
    assert requests.get(forged, timeout=10).status_code == 403
    expiring = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=1)
    time.sleep(2)
    assert "Request has expired" in requests.get(expiring, timeout=10).text
    version2 = _client(endpoint, signature="s3").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=60
    )
    assert requests.get(version2, timeout=10).status_code == 403
    put = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "presigned"}, ExpiresIn=60)
    assert requests.put(put, data=b"part", timeout=10).status_code == 200
    assert s3.get_object(Bucket=BUCKET, Key="presigned")["Body"].read() == b"part"


def test_anonymous_requests_need_a_policy_that_allows_them(endpoint, s3):
    for url in (f"{endpoint}/", f"{endpoint}/{BUCKET}", f"{endpoint}/{BUCKET}/{KEY}", f"{endpoint}/missing/x"):
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 403 and "<Code>AccessDenied</Code>" in answer.text, url
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{BUCKET}/*"],
            }
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    try:
        assert requests.get(f"{endpoint}/{BUCKET}/{KEY}", timeout=10).content == b"hello"
        assert requests.get(f"{endpoint}/{BUCKET}", timeout=10).status_code == 403  # no ListBucket
        assert requests.put(f"{endpoint}/{BUCKET}/anon", data=b"1", timeout=10).status_code == 403
    finally:
        s3.delete_bucket_policy(Bucket=BUCKET)
    assert requests.get(f"{endpoint}/{BUCKET}/{KEY}", timeout=10).status_code == 403


def test_password_file_is_read_and_missing_credentials_refuse_to_start(tmp_path):
    secret = tmp_path / "minio_root_password"
    secret.write_text("from-a-file\n", encoding="utf-8")
    port = free_port()
    env = {"MINIO_ROOT_USER": "filed", "MINIO_ROOT_PASSWORD_FILE": str(secret), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, str(STANDIN), "server", "/data", "--address", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port, proc)
        endpoint = f"http://127.0.0.1:{port}"
        assert _client(endpoint, "filed", "from-a-file").list_buckets()["Buckets"] == []
        assert _code(lambda: _client(endpoint, "filed", "from-a-file\n").list_buckets()) == "SignatureDoesNotMatch"
    finally:
        stop_moto(proc)
    refused = subprocess.run(
        [sys.executable, str(STANDIN), "server", "/data"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1 and "MINIO_ROOT_USER/MINIO_ROOT_PASSWORD not set" in refused.stderr
