"""mlops.mlflow.s3_bucket run by ansible-playbook against a real S3 endpoint over HTTP.

The Molecule scenarios' S3 stand-in for MinIO (tests/images/s3-moto/minio) serves here: no MinIO
build can be had on the test machine (no container registry, not on PyPI, not in Debian). It is
moto's S3 server, which answers the same S3 API that boto3 speaks to MinIO, over real HTTP with
path-style addressing, behind MinIO's credential checks: SigV4 signatures against the root user
and password, anonymous requests only where the bucket's policy allows them. It listens on
127.0.0.1 only and is started and stopped by these tests; nothing else is contacted.

What the stand-in does not show: MinIO's missing public access block API; the unit tests cover
the error handling for it with stubbed answers.
"""

import itertools
import json
import time

import boto3
import pytest
import requests

from .conftest import S3_KEYS, free_port, start_moto, stop_moto

pytestmark = pytest.mark.integration

KEYS = S3_KEYS
_names = itertools.count()


@pytest.fixture
def bucket():
    return f"mlflow-it-{next(_names)}"


def _s3(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )


def _task(endpoint, bucket, **args):
    return {"mlops.mlflow.s3_bucket": dict(name=bucket, endpoint_url=endpoint, **KEYS, **args)}


def test_private_bucket_is_created_once(run_tasks, endpoint, bucket):
    rc, results, out = run_tasks([_task(endpoint, bucket), _task(endpoint, bucket)])
    assert rc == 0, out
    assert results[0]["changed"] and not results[1]["changed"]
    s3 = _s3(endpoint)
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=bucket)
    assert results[1]["bucket"]["policy"] is None


def test_full_configuration_is_applied_then_idempotent(run_tasks, endpoint, bucket):
    config = dict(
        versioning=True,
        encryption="AES256",
        tags={"team": "ml-platform"},
        lifecycle_expiration=[
            {"id": "scratch", "prefix": "scratch/", "days": 30},
            {"id": "tmp", "prefix": "tmp/", "days": 1},
        ],
        public_access_block=True,
        policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        },
    )
    rc, results, out = run_tasks([_task(endpoint, bucket, **config), _task(endpoint, bucket, **config)])
    assert rc == 0, out
    assert results[0]["changed"] and not results[1]["changed"], results[1]
    s3 = _s3(endpoint)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "ml-platform"}]
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert sorted((r["ID"], r["Expiration"]["Days"]) for r in lifecycle) == [("scratch", 30), ("tmp", 1)]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
    facts = results[1]["bucket"]
    assert facts["versioning"] == "Enabled"
    assert facts["encryption"] == {"algorithm": "AES256", "key_id": None}
    assert facts["tags"] == {"team": "ml-platform"}
    assert facts["policy"]["Statement"][0]["Action"] == ["s3:GetObject"]


def test_policy_as_json_text_matches_the_same_policy_as_dict(run_tasks, endpoint, bucket):
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
        },
    }
    as_text = json.dumps(policy, indent=2, sort_keys=True)
    rc, results, out = run_tasks([_task(endpoint, bucket, policy=policy), _task(endpoint, bucket, policy=as_text)])
    assert rc == 0, out
    assert results[0]["changed"] and not results[1]["changed"]


def test_check_mode_changes_nothing_and_diff_shows_properties(run_tasks, endpoint, bucket):
    rc, results, out = run_tasks([_task(endpoint, bucket, versioning=True)], check=True, diff=True)
    assert rc == 0, out
    assert results[0]["changed"]
    assert results[0]["diff"]["before"] == {"exists": False, "versioning": None}
    assert results[0]["diff"]["after"] == {"exists": True, "versioning": "Enabled"}
    assert bucket not in [b["Name"] for b in _s3(endpoint).list_buckets()["Buckets"]]


def test_check_mode_on_an_existing_bucket_writes_nothing(run_tasks, endpoint, bucket):
    run_tasks([_task(endpoint, bucket, tags={"a": "1"})])
    rc, results, out = run_tasks([_task(endpoint, bucket, tags={"b": "2"}, versioning=True)], check=True, diff=True)
    assert rc == 0, out
    assert results[0]["changed"]
    assert results[0]["diff"]["before"]["tags"] == {"a": "1"}
    assert results[0]["diff"]["after"]["tags"] == {"b": "2"}
    s3 = _s3(endpoint)
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "a", "Value": "1"}]
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)


def test_public_read_is_granted_only_when_asked_and_taken_back(run_tasks, endpoint, bucket):
    rc, results, out = run_tasks([_task(endpoint, bucket, public_read=True)])
    assert rc == 0, out
    assert results[0]["bucket"]["policy"]["Statement"][0]["Principal"] == {"AWS": ["*"]}
    _s3(endpoint).put_object(Bucket=bucket, Key="model.pkl", Body=b"weights")
    # Anonymous HTTP, as anyone on the network would read it: downloads only, no listing.
    assert requests.get(f"{endpoint}/{bucket}/model.pkl", timeout=10).content == b"weights"
    assert requests.get(f"{endpoint}/{bucket}", timeout=10).status_code == 403
    rc, results, out = run_tasks([_task(endpoint, bucket)])
    assert rc == 0, out
    assert results[0]["changed"] and results[0]["bucket"]["policy"] is None
    refused = requests.get(f"{endpoint}/{bucket}/model.pkl", timeout=10)
    assert refused.status_code == 403 and "<Code>AccessDenied</Code>" in refused.text


def test_wrong_secret_key_fails_with_the_store_s_answer(run_tasks, endpoint, bucket):
    task = _task(endpoint, bucket)
    task["mlops.mlflow.s3_bucket"]["secret_key"] = "not-the-password"
    rc, results, out = run_tasks([task])
    assert rc != 0
    assert "SignatureDoesNotMatch" in results[0]["msg"]
    assert "not-the-password" not in out
    assert bucket not in [b["Name"] for b in _s3(endpoint).list_buckets()["Buckets"]]


def test_secret_key_is_not_in_the_output(run_tasks, endpoint, bucket):
    rc, _results, out = run_tasks([_task(endpoint, bucket)], diff=True)
    assert rc == 0
    assert KEYS["secret_key"] not in out


def test_non_empty_bucket_is_refused_then_force_deletes_versions(run_tasks, endpoint, bucket):
    run_tasks([_task(endpoint, bucket, versioning=True)])
    s3 = _s3(endpoint)
    key = "0/run/artifacts/model.pkl"
    s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    s3.put_object(Bucket=bucket, Key=key, Body=b"2")
    s3.delete_object(Bucket=bucket, Key=key)  # leaves two versions and a delete marker
    refused = dict(_task(endpoint, bucket, state="absent"), ignore_errors=True)
    rc, results, out = run_tasks([refused, _task(endpoint, bucket, state="absent", force=True)])
    assert rc == 0, out
    assert results[0]["failed"]
    assert f"bucket '{bucket}' on {endpoint} still holds 3 object(s) or object version(s)" in results[0]["msg"]
    assert "force=true" in results[0]["msg"]
    assert results[1]["changed"] and results[1]["deleted_objects"] == 3
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_force_delete_in_check_mode_keeps_everything(run_tasks, endpoint, bucket):
    run_tasks([_task(endpoint, bucket)])
    s3 = _s3(endpoint)
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    rc, results, out = run_tasks([_task(endpoint, bucket, state="absent", force=True)], check=True)
    assert rc == 0, out
    assert results[0]["changed"] and results[0]["deleted_objects"] == 1
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_waits_for_an_endpoint_that_starts_late(run_tasks, bucket):
    port = free_port()
    proc = start_moto(port, delay=4)
    try:
        started = time.monotonic()
        rc, results, out = run_tasks([_task(f"http://127.0.0.1:{port}", bucket, wait_timeout=60)])
        assert rc == 0, out
        assert results[0]["changed"]
        assert time.monotonic() - started > 4
    finally:
        stop_moto(proc)


def test_timeout_names_the_endpoint(run_tasks, bucket):
    port = free_port()  # nothing listens there
    rc, results, _out = run_tasks([_task(f"http://127.0.0.1:{port}", bucket, wait_timeout=3)])
    assert rc != 0
    message = results[0]["msg"]
    assert f"S3 endpoint http://127.0.0.1:{port} did not answer within 3s" in message
    assert "Could not connect to the endpoint URL" in message


def test_invalid_name_fails_before_any_call(run_tasks):
    task = {"mlops.mlflow.s3_bucket": {"name": "My_Bucket", "endpoint_url": "http://127.0.0.1:1", **KEYS}}
    rc, results, _out = run_tasks([task])
    assert rc != 0
    assert "bucket name 'My_Bucket' is invalid: it may hold only lowercase letters" in results[0]["msg"]
