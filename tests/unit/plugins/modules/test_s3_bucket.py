"""Unit tests of mlops.mlflow.s3_bucket's logic against moto's in-process S3 (no network)."""

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.mlops.mlflow.plugins.module_utils.s3 import S3Error
from ansible_collections.mlops.mlflow.plugins.modules import s3_bucket as mod

DEFAULTS = {name: spec.get("default") for name, spec in mod.argument_spec().items()}


class FakeModule:
    def __init__(self, check_mode=False, **params):
        self.params = dict(DEFAULTS, **params)
        self.check_mode = check_mode


@pytest.fixture
def client(monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


def run(client, check_mode=False, **params):
    params.setdefault("name", "mlflow")
    manager = mod.BucketManager(FakeModule(check_mode=check_mode, **params), client)
    result = manager.present() if manager.params["state"] == "present" else manager.absent()
    return manager, result


def test_creates_a_private_bucket_then_is_unchanged(client):
    first, _result = run(client)
    assert first.changed
    assert "mlflow" in [b["Name"] for b in client.list_buckets()["Buckets"]]
    with pytest.raises(client.exceptions.ClientError):
        client.get_bucket_policy(Bucket="mlflow")  # no policy: private
    again, _result = run(client)
    assert not again.changed


def test_check_mode_creates_nothing_but_reports_change(client):
    manager, result = run(client, check_mode=True, versioning=True, tags={"a": "1"})
    assert manager.changed
    assert result["bucket"]["versioning"] == "Enabled"
    assert client.list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    ("params", "prop"),
    [
        ({"versioning": True}, "versioning"),
        ({"encryption": "AES256"}, "encryption"),
        ({"tags": {"team": "ml"}}, "tags"),
        ({"lifecycle_expiration": [{"id": "tmp", "prefix": "tmp/", "days": 3}]}, "lifecycle"),
        ({"policy": json.dumps(mod.public_read_policy("mlflow")).replace("mlflow/*", "mlflow/pub/*")}, "policy"),
        ({"public_access_block": True}, "public_access_block"),
    ],
)
def test_each_property_is_set_once_then_unchanged(client, params, prop):
    run(client)
    first, _result = run(client, **params)
    assert first.changed
    assert first.before[prop] != first.after[prop]
    second, _result = run(client, **params)
    assert not second.changed, f"{prop} changed on the second run: {second.before} -> {second.after}"


def test_unset_properties_are_left_alone(client):
    run(client, tags={"keep": "me"}, versioning=True)
    manager, result = run(client)
    assert not manager.changed
    assert "tags" not in result["bucket"]
    assert client.get_bucket_tagging(Bucket="mlflow")["TagSet"] == [{"Key": "keep", "Value": "me"}]


def test_versioning_off_suspends(client):
    run(client, versioning=True)
    manager, _result = run(client, versioning=False)
    assert manager.changed
    assert client.get_bucket_versioning(Bucket="mlflow")["Status"] == "Suspended"


def test_tags_merge_without_purge_and_replace_with_purge(client):
    run(client, tags={"a": "1"})
    merged, _result = run(client, tags={"b": "2"}, purge_tags=False)
    assert merged.after["tags"] == {"a": "1", "b": "2"}
    replaced, _result = run(client, tags={"b": "2"})
    assert replaced.after["tags"] == {"b": "2"}
    cleared, _result = run(client, tags={})
    assert cleared.changed and cleared.after["tags"] == {}


def test_encryption_none_removes_it(client):
    run(client, encryption="AES256")
    manager, _result = run(client, encryption="none")
    assert manager.changed and manager.after["encryption"] is None


def test_policy_given_as_dict_or_text_is_the_same(client):
    policy = mod.public_read_policy("mlflow")
    run(client, policy=policy)
    manager, _result = run(client, policy=json.dumps(policy, indent=4))
    assert not manager.changed
    removed, _result = run(client, policy="")
    assert removed.changed and removed.after["policy"] is None


def test_public_read_is_opt_in_and_taken_back(client):
    granted, _result = run(client, public_read=True)
    assert granted.after["policy"]["Statement"][0]["Action"] == ["s3:GetObject"]
    revoked, _result = run(client)
    assert revoked.changed and revoked.after["policy"] is None


def test_other_policies_survive_public_read_false(client):
    own = mod.public_read_policy("mlflow")
    own["Statement"][0]["Resource"] = ["arn:aws:s3:::mlflow/pub/*"]
    run(client, policy=own)
    manager, _result = run(client)
    assert not manager.changed
    assert json.loads(client.get_bucket_policy(Bucket="mlflow")["Policy"])["Statement"][0]["Resource"]


def test_lifecycle_empty_list_removes_rules(client):
    run(client, lifecycle_expiration=[{"id": "tmp", "prefix": "tmp/", "days": 3}])
    manager, _result = run(client, lifecycle_expiration=[])
    assert manager.changed and manager.after["lifecycle"] == []


def test_absent_refuses_a_non_empty_bucket(client):
    run(client)
    client.put_object(Bucket="mlflow", Key="model.pkl", Body=b"x")
    with pytest.raises(S3Error, match=r"still holds 1 object.*force=true"):
        run(client, state="absent")
    assert client.head_bucket(Bucket="mlflow")


def test_absent_with_force_deletes_every_version(client):
    run(client, versioning=True)
    for body in (b"1", b"2"):
        client.put_object(Bucket="mlflow", Key="model.pkl", Body=body)
    client.delete_object(Bucket="mlflow", Key="model.pkl")  # a delete marker
    manager, result = run(client, state="absent", force=True)
    assert manager.changed and result["deleted_objects"] == 3
    assert client.list_buckets()["Buckets"] == []


def test_absent_in_check_mode_keeps_the_bucket(client):
    run(client)
    manager, _result = run(client, state="absent", force=True, check_mode=True)
    assert manager.changed
    assert client.head_bucket(Bucket="mlflow")


def test_absent_bucket_that_does_not_exist_is_unchanged(client):
    manager, result = run(client, state="absent")
    assert not manager.changed and result["deleted_objects"] == 0


class _NoPublicAccessBlock:
    """A client whose endpoint lacks the public access block API, like MinIO."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def get_public_access_block(self, **_):
        from botocore.exceptions import ClientError

        error = {"Error": {"Code": "NotImplemented"}, "ResponseMetadata": {"HTTPStatusCode": 501}}
        raise ClientError(error, "GetPublicAccessBlock")


def test_unimplemented_feature_is_an_error_only_when_asked(client):
    partial = _NoPublicAccessBlock(client)
    run(partial)
    manager, _result = run(partial)  # not asked: fine
    assert not manager.changed
    with pytest.raises(S3Error, match=r"does not implement bucket public access block.*remove that option"):
        run(partial, public_access_block=True)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "Bad_Name"}, "bucket name 'Bad_Name' is invalid"),
        ({"public_read": True, "policy": {"Statement": []}}, "public_read and policy"),
        ({"encryption_key_id": "k"}, "needs encryption=aws:kms"),
        ({"public_access_block": {"BlockEverything": True}}, "unknown keys BlockEverything"),
        ({"public_access_block": "yes please"}, "must be true, false or a dict"),
        ({"policy": "{not json"}, "policy is not valid JSON"),
        ({"lifecycle_expiration": [{"id": "x", "prefix": "", "days": 0}]}, "days must be at least 1"),
    ],
)
def test_bad_input_is_refused_before_any_call(params, message):
    full = dict(DEFAULTS, name="mlflow")
    full.update(params)
    assert message in mod.check_input(full)


def test_good_input_passes_the_checks():
    assert mod.check_input(dict(DEFAULTS, name="mlflow", tags={"a": "b"}, public_access_block=True)) is None
