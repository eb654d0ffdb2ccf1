"""mlops.mlflow.s3_bucket run by ansible-playbook against a real S3 endpoint over HTTP.

moto's S3 server stands in for MinIO here: no MinIO build can be had on the test machine (no
registry, not on PyPI, not in Debian). moto answers the same S3 API that boto3 speaks to MinIO;
it listens on 127.0.0.1 only and is started and stopped by these tests.
"""

import subprocess
import time
import urllib.request

import boto3
import pytest

from .conftest import BIN, free_port

pytestmark = pytest.mark.integration

KEYS = {"access_key": "mlops-test", "secret_key": "mlops-test-secret"}


def _start_moto(port):
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _attempt in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("moto_server did not start")


@pytest.fixture
def endpoint():
    port = free_port()
    proc = _start_moto(port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def _s3(endpoint):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"], aws_secret_access_key=KEYS["secret_key"],
    )


def _task(endpoint, **args):
    return {"mlops.mlflow.s3_bucket": dict(name="mlflow", endpoint_url=endpoint, **KEYS, **args)}


def test_private_bucket_is_created_once(run_tasks, endpoint):
    rc, results, out = run_tasks([_task(endpoint), _task(endpoint)])
    assert rc == 0, out
    assert results[0]["changed"] and not results[1]["changed"]
    assert [b["Name"] for b in _s3(endpoint).list_buckets()["Buckets"]] == ["mlflow"]
    with pytest.raises(_s3(endpoint).exceptions.ClientError):
        _s3(endpoint).get_bucket_policy(Bucket="mlflow")


def test_full_configuration_is_applied_then_idempotent(run_tasks, endpoint):
    config = dict(
        versioning=True,
        encryption="AES256",
        tags={"team": "ml-platform"},
        lifecycle_expiration=[{"id": "scratch", "prefix": "scratch/", "days": 30}],
        policy={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]},
                           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::mlflow/*"}],
        },
    )
    rc, results, out = run_tasks([_task(endpoint, **config), _task(endpoint, **config)])
    assert rc == 0, out
    assert results[0]["changed"] and not results[1]["changed"], results[1]
    s3 = _s3(endpoint)
    assert s3.get_bucket_versioning(Bucket="mlflow")["Status"] == "Enabled"
    assert s3.get_bucket_tagging(Bucket="mlflow")["TagSet"] == [{"Key": "team", "Value": "ml-platform"}]
    assert s3.get_bucket_lifecycle_configuration(Bucket="mlflow")["Rules"][0]["Expiration"]["Days"] == 30


def test_check_mode_changes_nothing_and_diff_shows_properties(run_tasks, endpoint):
    rc, results, out = run_tasks([_task(endpoint, versioning=True)], check=True, diff=True)
    assert rc == 0, out
    assert results[0]["changed"]
    assert results[0]["diff"]["before"]["exists"] is False
    assert results[0]["diff"]["after"]["versioning"] == "Enabled"
    assert _s3(endpoint).list_buckets()["Buckets"] == []


def test_secret_key_is_not_in_the_output(run_tasks, endpoint):
    rc, _results, out = run_tasks([_task(endpoint)], diff=True)
    assert rc == 0
    assert KEYS["secret_key"] not in out


def test_non_empty_bucket_is_refused_then_force_deletes_versions(run_tasks, endpoint):
    run_tasks([_task(endpoint, versioning=True)])
    s3 = _s3(endpoint)
    s3.put_object(Bucket="mlflow", Key="0/run/artifacts/model.pkl", Body=b"1")
    s3.put_object(Bucket="mlflow", Key="0/run/artifacts/model.pkl", Body=b"2")
    rc, results, _out = run_tasks([_task(endpoint, state="absent")])
    assert rc != 0
    assert "still holds 2 object(s)" in results[0]["msg"]
    assert s3.head_bucket(Bucket="mlflow")
    rc, results, out = run_tasks([_task(endpoint, state="absent", force=True)])
    assert rc == 0, out
    assert results[0]["deleted_objects"] == 2
    assert s3.list_buckets()["Buckets"] == []


def test_waits_for_an_endpoint_that_starts_late(run_tasks):
    port = free_port()
    starter = subprocess.Popen(["sh", "-c", f"sleep 4; exec {BIN / 'moto_server'} -H 127.0.0.1 -p {port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = time.monotonic()
        rc, results, out = run_tasks([_task(f"http://127.0.0.1:{port}", wait_timeout=60)])
        assert rc == 0, out
        assert results[0]["changed"]
        assert time.monotonic() - started > 3
    finally:
        starter.terminate()
        starter.wait(timeout=10)


def test_timeout_names_the_endpoint(run_tasks):
    port = free_port()  # nothing listens there
    rc, results, _out = run_tasks([_task(f"http://127.0.0.1:{port}", wait_timeout=3)])
    assert rc != 0
    assert f"S3 endpoint http://127.0.0.1:{port} did not answer within 3s" in results[0]["msg"]


def test_invalid_name_fails_before_any_call(run_tasks):
    task = {"mlops.mlflow.s3_bucket": {"name": "My_Bucket", "endpoint_url": "http://127.0.0.1:1", **KEYS}}
    rc, results, _out = run_tasks([task])
    assert rc != 0
    assert "bucket name 'My_Bucket' is invalid" in results[0]["msg"]
