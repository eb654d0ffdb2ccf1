"""Unit tests of mlops.mlflow.s3_bucket against moto's in-process S3 (mock_aws: no server, no network)."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from module_runner import run_main
from moto import mock_aws

from ansible_collections.mlops.mlflow.plugins.module_utils import s3
from ansible_collections.mlops.mlflow.plugins.module_utils.s3 import S3Error
from ansible_collections.mlops.mlflow.plugins.modules import s3_bucket as mod

DEFAULTS = {name: spec.get("default") for name, spec in mod.argument_spec().items()}
ALL_FACTS = {"versioning", "encryption", "public_access_block", "policy", "tags", "lifecycle"}


class FakeModule:
    """What BucketManager uses of AnsibleModule."""

    def __init__(self, check_mode=False, diff=False, **params):
        self.params = dict(DEFAULTS, **params)
        self.check_mode = check_mode
        self._diff = diff


def _fake_aws_env(patch, tmp_path):
    """Fake credentials; the machine's AWS files and variables stay out."""
    patch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    patch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    """One in-process moto for the module (starting it and a client per test costs a second)."""
    with pytest.MonkeyPatch.context() as patch:
        _fake_aws_env(patch, tmp_path_factory.mktemp("aws"))
        with mock_aws() as mock:
            yield mock, boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def client(aws, monkeypatch, tmp_path):
    """moto's S3 with no bucket in it."""
    mock, s3_client = aws
    mock.reset()
    _fake_aws_env(monkeypatch, tmp_path)
    return s3_client


def run(client, check_mode=False, **params):
    params.setdefault("name", "mlflow")
    manager = mod.BucketManager(FakeModule(check_mode=check_mode, **params), client)
    result = manager.present() if manager.params["state"] == "present" else manager.absent()
    return manager, result


def _error(code, status=400, operation="Op"):
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


class Endpoint:
    """A moto client with some calls answering like an S3-compatible server that lacks them."""

    def __init__(self, real, **failures):
        self._real = real
        self._failures = failures

    def __getattr__(self, name):
        if name in self._failures:
            failure = self._failures[name]

            def fail(**_):
                raise failure

            return fail
        return getattr(self._real, name)


# ---------------------------------------------------------------------------------- create
def test_creates_a_private_bucket_then_is_unchanged(client):
    first, result = run(client)
    assert first.changed
    assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["mlflow"]
    with pytest.raises(client.exceptions.ClientError):
        client.get_bucket_policy(Bucket="mlflow")  # no policy: private
    assert result["bucket"]["policy"] is None
    again, _result = run(client)
    assert not again.changed


def test_new_bucket_reports_every_fact(client):
    _manager, result = run(client)
    assert set(result["bucket"]) == ALL_FACTS
    assert result["bucket"]["tags"] == {}
    assert result["bucket"]["lifecycle"] == []
    assert result["bucket"]["versioning"] is None


def test_bucket_outside_us_east_1_is_created_in_its_region(client):
    eu = boto3.client("s3", region_name="eu-west-1")
    manager, _result = run(eu, region="eu-west-1")
    assert manager.changed
    assert eu.get_bucket_location(Bucket="mlflow")["LocationConstraint"] == "eu-west-1"


def test_name_taken_by_another_account_is_explained(client):
    taken = Endpoint(client, create_bucket=_error("BucketAlreadyExists", 409))
    with pytest.raises(S3Error, match=r"bucket name 'mlflow' is taken by another account.*choose another name"):
        run(taken)


def test_create_race_with_ourselves_is_fine(client):
    client.create_bucket(Bucket="mlflow")
    raced = Endpoint(client, head_bucket=_error("404", 404), create_bucket=_error("BucketAlreadyOwnedByYou", 409))
    manager, _result = run(raced)
    assert manager.changed


def test_region_the_endpoint_refuses_is_explained(client):
    refusing = Endpoint(client, create_bucket=_error("InvalidLocationConstraint", 400))
    with pytest.raises(S3Error, match=r"refused to create bucket 'mlflow' in region eu-west-1.*set region"):
        run(refusing, region="eu-west-1")


def test_bucket_of_another_account_is_explained(client):
    denied = Endpoint(client, head_bucket=_error("403", 403))
    with pytest.raises(
        S3Error, match=r"access to bucket 'mlflow' on AWS S3 \(us-east-1\) is denied.*access_key/secret_key"
    ):
        run(denied)


def test_bucket_in_another_region_is_explained(client):
    moved = Endpoint(client, head_bucket=_error("301", 301))
    with pytest.raises(S3Error, match=r"not in region us-east-1.*set region"):
        run(moved)


def test_other_head_bucket_errors_propagate(client):
    broken = Endpoint(client, head_bucket=_error("InternalError", 500))
    with pytest.raises(ClientError):
        run(broken)


# ---------------------------------------------------------------------------------- check mode
def test_check_mode_creates_nothing_but_reports_change(client):
    manager, result = run(client, check_mode=True, versioning=True, tags={"a": "1"})
    assert manager.changed
    assert result["bucket"]["versioning"] == "Enabled"
    assert result["bucket"]["tags"] == {"a": "1"}
    assert client.list_buckets()["Buckets"] == []


def test_check_mode_on_an_existing_bucket_writes_nothing(client):
    run(client, tags={"a": "1"})
    manager, result = run(client, check_mode=True, versioning=True, tags={"b": "2"}, encryption="AES256")
    assert manager.changed
    assert result["bucket"]["tags"] == {"b": "2"}
    assert client.get_bucket_tagging(Bucket="mlflow")["TagSet"] == [{"Key": "a", "Value": "1"}]
    assert "Status" not in client.get_bucket_versioning(Bucket="mlflow")


def test_check_mode_without_changes_reports_none(client):
    run(client, versioning=True)
    manager, _result = run(client, check_mode=True, versioning=True)
    assert not manager.changed


# ---------------------------------------------------------------------------------- diff
def test_diff_holds_existence_and_only_managed_properties(client):
    run(client, tags={"a": "1"})
    manager, _result = run(client, versioning=True)
    assert manager.before == {"exists": True, "versioning": None}
    assert manager.after == {"exists": True, "versioning": "Enabled"}


def test_diff_of_a_new_bucket_starts_from_nothing(client):
    manager, _result = run(client, check_mode=True, tags={"a": "1"})
    assert manager.before == {"exists": False, "tags": {}}
    assert manager.after == {"exists": True, "tags": {"a": "1"}}


# ---------------------------------------------------------------------------------- properties
@pytest.mark.parametrize(
    ("params", "prop"),
    [
        ({"versioning": True}, "versioning"),
        ({"encryption": "AES256"}, "encryption"),
        ({"encryption": "aws:kms", "encryption_key_id": "arn:aws:kms:us-east-1:123456789012:key/k"}, "encryption"),
        ({"encryption": "aws:kms"}, "encryption"),
        ({"tags": {"team": "ml"}}, "tags"),
        ({"lifecycle_expiration": [{"id": "tmp", "prefix": "tmp/", "days": 3}]}, "lifecycle"),
        ({"policy": json.dumps(s3.public_read_policy("mlflow")).replace("mlflow/*", "mlflow/pub/*")}, "policy"),
        ({"public_access_block": True}, "public_access_block"),
        ({"public_access_block": {"BlockPublicAcls": True, "IgnorePublicAcls": True}}, "public_access_block"),
    ],
)
def test_each_property_is_set_once_then_unchanged(client, params, prop):
    run(client)
    first, _result = run(client, **params)
    assert first.changed
    assert first.before[prop] != first.after[prop]
    second, result = run(client, **params)
    assert not second.changed, f"{prop} changed on the second run: {second.before} -> {second.after}"
    assert result["bucket"][prop] == first.after[prop]


def test_all_properties_on_a_new_bucket_in_one_run_then_unchanged(client):
    params = dict(
        versioning=True,
        encryption="AES256",
        public_access_block=True,
        tags={"team": "ml"},
        lifecycle_expiration=[{"id": "b", "prefix": "b/", "days": 2}, {"id": "a", "prefix": "a/", "days": 1}],
        policy={
            "Statement": {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteBucket",
                "Resource": "arn:aws:s3:::mlflow",
            }
        },
    )
    first, _result = run(client, **params)
    assert first.changed
    second, result = run(client, **params)
    assert not second.changed, (second.before, second.after)
    assert result["bucket"]["versioning"] == "Enabled"


def test_unset_properties_are_left_alone_but_reported(client):
    run(client, tags={"keep": "me"}, versioning=True)
    manager, result = run(client)
    assert not manager.changed
    assert manager.before == manager.after == {"exists": True}
    assert result["bucket"]["tags"] == {"keep": "me"}
    assert result["bucket"]["versioning"] == "Enabled"
    assert client.get_bucket_tagging(Bucket="mlflow")["TagSet"] == [{"Key": "keep", "Value": "me"}]


def test_versioning_off_suspends(client):
    run(client, versioning=True)
    manager, _result = run(client, versioning=False)
    assert manager.changed
    assert client.get_bucket_versioning(Bucket="mlflow")["Status"] == "Suspended"
    again, _result = run(client, versioning=False)
    assert not again.changed


def test_versioning_off_on_a_never_versioned_bucket_is_unchanged(client):
    run(client)
    manager, _result = run(client, versioning=False)
    assert not manager.changed
    assert manager.after["versioning"] is None


def test_tags_merge_without_purge_and_replace_with_purge(client):
    run(client, tags={"a": "1"})
    merged, _result = run(client, tags={"b": "2"}, purge_tags=False)
    assert merged.after["tags"] == {"a": "1", "b": "2"}
    replaced, _result = run(client, tags={"b": "2"})
    assert replaced.after["tags"] == {"b": "2"}
    cleared, _result = run(client, tags={})
    assert cleared.changed and cleared.after["tags"] == {}
    assert not run(client, tags={})[0].changed


def test_tag_values_are_compared_as_text(client):
    run(client, tags={"n": 1})
    manager, _result = run(client, tags={"n": "1"})
    assert not manager.changed


def test_encryption_none_removes_it(client):
    run(client, encryption="AES256")
    manager, _result = run(client, encryption="none")
    assert manager.changed and manager.after["encryption"] is None
    with pytest.raises(ClientError):
        client.get_bucket_encryption(Bucket="mlflow")


def test_encryption_key_change_is_applied(client):
    run(client, encryption="aws:kms", encryption_key_id="k1")
    manager, _result = run(client, encryption="aws:kms", encryption_key_id="k2")
    assert manager.changed
    rule = client.get_bucket_encryption(Bucket="mlflow")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == "k2"


def test_public_access_block_partial_dict_turns_missing_flags_off(client):
    run(client, public_access_block=True)
    manager, _result = run(client, public_access_block={"BlockPublicAcls": True})
    assert manager.changed
    config = client.get_public_access_block(Bucket="mlflow")["PublicAccessBlockConfiguration"]
    assert config["BlockPublicAcls"] and not config["BlockPublicPolicy"]


def test_policy_given_as_dict_or_text_is_the_same(client):
    policy = s3.public_read_policy("mlflow")
    policy["Statement"][0]["Sid"] = "Mine"
    run(client, policy=policy)
    manager, _result = run(client, policy=json.dumps(policy, indent=4))
    assert not manager.changed
    removed, _result = run(client, policy="")
    assert removed.changed and removed.after["policy"] is None
    with pytest.raises(ClientError):
        client.get_bucket_policy(Bucket="mlflow")


def test_policy_changes_are_applied(client):
    own = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::1:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::mlflow/*",
            }
        ]
    }
    run(client, policy=own)
    own["Statement"][0]["Action"] = ["s3:GetObject", "s3:PutObject"]
    manager, _result = run(client, policy=own)
    assert manager.changed
    assert sorted(json.loads(client.get_bucket_policy(Bucket="mlflow")["Policy"])["Statement"][0]["Action"]) == [
        "s3:GetObject",
        "s3:PutObject",
    ]


def _get_object_grant(principal):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::mlflow/*"}
        ],
    }


@pytest.mark.parametrize(
    ("on_server", "in_task"),
    [
        pytest.param({"AWS": ["*"]}, "*", id="minio-returns-star-as-aws-list"),
        pytest.param(
            {"AWS": "arn:aws:iam::123456789012:root"}, {"AWS": "123456789012"}, id="aws-returns-id-as-root-arn"
        ),
    ],
)
def test_policy_whose_principal_the_server_returns_in_another_form_is_unchanged(client, on_server, in_task):
    run(client)
    client.put_bucket_policy(Bucket="mlflow", Policy=json.dumps(_get_object_grant(on_server)))
    manager, _result = run(client, policy=_get_object_grant(in_task))
    assert not manager.changed
    assert json.loads(client.get_bucket_policy(Bucket="mlflow")["Policy"]) == _get_object_grant(on_server)


def test_public_read_is_opt_in_and_taken_back(client):
    granted, _result = run(client, public_read=True)
    assert granted.after["policy"]["Statement"][0]["Action"] == ["s3:GetObject"]
    assert not run(client, public_read=True)[0].changed
    revoked, _result = run(client)
    assert revoked.changed and revoked.after["policy"] is None
    with pytest.raises(ClientError):
        client.get_bucket_policy(Bucket="mlflow")


def test_other_policies_survive_public_read_false(client):
    own = s3.public_read_policy("mlflow")
    own["Statement"][0]["Resource"] = ["arn:aws:s3:::mlflow/pub/*"]
    run(client, policy=own)
    manager, result = run(client)
    assert not manager.changed
    assert result["bucket"]["policy"]["Statement"][0]["Resource"] == ["arn:aws:s3:::mlflow/pub/*"]


def test_lifecycle_rule_order_does_not_matter_and_empty_list_removes(client):
    rules = [{"id": "b", "prefix": "b/", "days": 3}, {"id": "a", "prefix": "", "days": 30}]
    run(client, lifecycle_expiration=rules)
    assert not run(client, lifecycle_expiration=list(reversed(rules)))[0].changed
    longer, _result = run(client, lifecycle_expiration=[dict(rules[0], days=4), rules[1]])
    assert longer.changed
    manager, _result = run(client, lifecycle_expiration=[])
    assert manager.changed and manager.after["lifecycle"] == []
    assert not run(client, lifecycle_expiration=[])[0].changed


# ---------------------------------------------------------------------------------- endpoints lacking features
NOT_IMPLEMENTED = _error("NotImplemented", 501)


def test_unimplemented_feature_is_tolerated_when_not_asked(client):
    minio_like = Endpoint(client, get_public_access_block=NOT_IMPLEMENTED)
    run(minio_like)
    manager, result = run(minio_like)
    assert not manager.changed
    assert result["bucket"]["public_access_block"] is None


@pytest.mark.parametrize(
    ("call", "params", "feature", "option"),
    [
        ("get_public_access_block", {"public_access_block": True}, "public access block", "public_access_block"),
        ("get_bucket_tagging", {"tags": {"a": "b"}}, "tags", "tags"),
        ("get_bucket_versioning", {"versioning": True}, "versioning", "versioning"),
        ("get_bucket_encryption", {"encryption": "AES256"}, "encryption", "encryption"),
        ("get_bucket_policy", {"public_read": True}, "policy", "policy/public_read"),
        ("get_bucket_lifecycle_configuration", {"lifecycle_expiration": []}, "lifecycle", "lifecycle_expiration"),
    ],
)
def test_unimplemented_feature_is_an_error_naming_it_when_asked(client, call, params, feature, option):
    run(client)
    lacking = Endpoint(client, **{call: NOT_IMPLEMENTED})
    with pytest.raises(S3Error) as err:
        run(lacking, **params)
    assert f"AWS S3 (us-east-1) does not implement bucket {feature} (NotImplemented)" in str(err.value)
    assert f"the task sets {option}: remove that option" in str(err.value)


@pytest.mark.parametrize("code", ["XNotImplemented", "MethodNotAllowed"])
def test_unimplemented_write_is_an_error_naming_it(client, code):
    read_only_tags = Endpoint(client, put_bucket_tagging=_error(code, 405))
    with pytest.raises(S3Error, match=r"does not implement setting bucket tags .*the task sets tags"):
        run(read_only_tags, endpoint_url="http://127.0.0.1:9000", tags={"a": "b"})


@pytest.mark.parametrize("code", [_error("NotImplemented", 501), _error("MethodNotAllowed", 405)], ids=["501", "405"])
def test_versioning_off_on_an_endpoint_without_versioning_is_unchanged(client, code):
    run(client)
    unversioned = Endpoint(client, get_bucket_versioning=code, put_bucket_versioning=code)
    manager, result = run(unversioned, endpoint_url="http://127.0.0.1:9000", versioning=False)
    assert not manager.changed
    assert manager.before["versioning"] is None and manager.after["versioning"] is None
    assert result["bucket"]["versioning"] is None


def test_versioning_on_an_endpoint_without_versioning_still_fails(client):
    run(client)
    unversioned = Endpoint(client, get_bucket_versioning=NOT_IMPLEMENTED)
    with pytest.raises(S3Error, match=r"does not implement bucket versioning .*the task sets versioning"):
        run(unversioned, endpoint_url="http://127.0.0.1:9000", versioning=True)


def test_versioning_off_still_fails_when_versioning_cannot_be_read(client):
    run(client, versioning=True)
    denied = Endpoint(client, get_bucket_versioning=_error("AccessDenied", 403))
    with pytest.raises(ClientError):
        run(denied, versioning=False)


# On AWS, 405 to a bucket policy call means the caller's account does not own the bucket.
OTHER_ACCOUNT = _error("MethodNotAllowed", 405)
OWNER_ACCOUNT_MESSAGE = r"not of the account that owns the bucket.*use credentials of the bucket owner's account"


@pytest.mark.parametrize(
    ("call", "verb"),
    [("get_bucket_policy", "read"), ("put_bucket_policy", "change"), ("delete_bucket_policy", "change")],
)
def test_policy_refused_by_aws_to_another_account_says_so(client, call, verb):
    run(client, policy=_get_object_grant("*"))
    other_account = Endpoint(client, **{call: OTHER_ACCOUNT})
    wanted = "" if call == "delete_bucket_policy" else _get_object_grant({"AWS": "123456789012"})
    with pytest.raises(S3Error, match=OWNER_ACCOUNT_MESSAGE) as err:
        run(other_account, policy=wanted)
    assert str(err.value).startswith(f"AWS S3 (us-east-1) refused to {verb} the policy of bucket 'mlflow'")
    assert "does not implement" not in str(err.value)


def test_policy_refused_by_aws_to_another_account_is_tolerated_when_not_asked(client):
    run(client)
    other_account = Endpoint(client, get_bucket_policy=OTHER_ACCOUNT)
    manager, result = run(other_account, versioning=True)
    assert manager.changed and result["bucket"]["policy"] is None
    assert client.get_bucket_versioning(Bucket="mlflow")["Status"] == "Enabled"


def test_policy_405_on_a_custom_endpoint_is_still_a_missing_api(client):
    run(client)
    lacking = Endpoint(client, get_bucket_policy=OTHER_ACCOUNT)
    with pytest.raises(S3Error, match=r"http://127.0.0.1:9000 does not implement bucket policy \(MethodNotAllowed\)"):
        run(lacking, endpoint_url="http://127.0.0.1:9000", public_read=True)
    manager, result = run(lacking, endpoint_url="http://127.0.0.1:9000")
    assert not manager.changed and result["bucket"]["policy"] is None


def test_unreadable_fact_is_tolerated_when_not_asked_but_not_when_asked(client):
    run(client)
    limited = Endpoint(client, get_bucket_tagging=_error("AccessDenied", 403))
    manager, result = run(limited)
    assert not manager.changed and result["bucket"]["tags"] == {}
    with pytest.raises(ClientError):
        run(limited, tags={"a": "b"})


def test_other_write_errors_propagate(client):
    run(client)
    broken = Endpoint(client, put_bucket_versioning=_error("InternalError", 500))
    with pytest.raises(ClientError):
        run(broken, versioning=True)


# ---------------------------------------------------------------------------------- absent
def test_absent_refuses_a_non_empty_bucket(client):
    run(client)
    client.put_object(Bucket="mlflow", Key="model.pkl", Body=b"x")
    with pytest.raises(S3Error, match=r"'mlflow' on AWS S3 \(us-east-1\) still holds 1 object.*force=true"):
        run(client, state="absent")
    assert client.head_bucket(Bucket="mlflow")


def test_absent_refuses_a_bucket_holding_only_old_versions(client):
    run(client, versioning=True)
    client.put_object(Bucket="mlflow", Key="model.pkl", Body=b"x")
    client.delete_object(Bucket="mlflow", Key="model.pkl")  # no current object, one version + marker
    with pytest.raises(S3Error, match=r"still holds 2 object\(s\) or object version\(s\)"):
        run(client, state="absent")


def test_absent_refusal_says_at_least_for_a_large_bucket(client):
    run(client)
    page = {"Versions": [{"Key": f"k{i}", "VersionId": "null"} for i in range(1000)], "IsTruncated": True}
    big = Endpoint(client)
    big.list_object_versions = lambda **_: page
    with pytest.raises(S3Error, match="still holds at least 1000 object"):
        run(big, state="absent")


def test_absent_also_refuses_in_check_mode(client):
    run(client)
    client.put_object(Bucket="mlflow", Key="model.pkl", Body=b"x")
    with pytest.raises(S3Error, match="force=true"):
        run(client, state="absent", check_mode=True)


def test_absent_deletes_an_empty_bucket_without_force(client):
    run(client)
    manager, result = run(client, state="absent")
    assert manager.changed and result["deleted_objects"] == 0
    assert client.list_buckets()["Buckets"] == []
    assert manager.before == {"exists": True} and manager.after == {"exists": False}


def test_absent_with_force_deletes_every_version_and_marker(client):
    run(client, versioning=True)
    for body in (b"1", b"2"):
        client.put_object(Bucket="mlflow", Key="model.pkl", Body=body)
    client.delete_object(Bucket="mlflow", Key="model.pkl")  # a delete marker
    client.put_object(Bucket="mlflow", Key="other", Body=b"3")
    manager, result = run(client, state="absent", force=True)
    assert manager.changed and result["deleted_objects"] == 4
    assert client.list_buckets()["Buckets"] == []


def test_absent_with_force_deletes_objects_written_before_versioning_was_on(client):
    run(client)
    client.put_object(Bucket="mlflow", Key="old.pkl", Body=b"x")  # its version is "null"
    run(client, versioning=True)
    client.put_object(Bucket="mlflow", Key="new.pkl", Body=b"y")
    manager, result = run(client, state="absent", force=True)
    assert manager.changed and result["deleted_objects"] == 2
    assert client.list_buckets()["Buckets"] == []


def test_absent_with_force_deletes_unversioned_objects_in_batches(client, monkeypatch):
    monkeypatch.setattr(mod, "DELETE_BATCH", 2)
    run(client)
    for key in "abcde":
        client.put_object(Bucket="mlflow", Key=key, Body=b"x")
    _manager, result = run(client, state="absent", force=True)
    assert result["deleted_objects"] == 5
    assert client.list_buckets()["Buckets"] == []


def test_absent_with_force_falls_back_to_plain_listing(client):
    run(client)
    client.put_object(Bucket="mlflow", Key="a", Body=b"x")
    no_versions = Endpoint(client)
    no_versions.get_paginator = lambda name: (
        Endpoint(None, paginate=NOT_IMPLEMENTED) if name == "list_object_versions" else client.get_paginator(name)
    )
    _manager, result = run(no_versions, state="absent", force=True)
    assert result["deleted_objects"] == 1
    assert client.list_buckets()["Buckets"] == []


def test_absent_refusal_falls_back_to_plain_listing(client):
    run(client)
    client.put_object(Bucket="mlflow", Key="a", Body=b"x")
    no_versions = Endpoint(client, list_object_versions=NOT_IMPLEMENTED)
    with pytest.raises(S3Error, match="still holds 1 object"):
        run(no_versions, state="absent")


def test_absent_listing_errors_propagate(client):
    run(client)
    denied = Endpoint(client, list_object_versions=_error("AccessDenied", 403))
    with pytest.raises(ClientError):
        run(denied, state="absent")


def test_absent_with_force_reports_objects_it_could_not_delete(client):
    run(client)
    client.put_object(Bucket="mlflow", Key="locked", Body=b"x")
    locked = Endpoint(client)
    locked.delete_objects = lambda **_: {
        "Errors": [{"Key": "locked", "Code": "AccessDenied", "Message": "object lock"}]
    }
    with pytest.raises(
        S3Error, match=r"could not delete 1 object\(s\) of bucket 'mlflow' \(first: locked: AccessDenied"
    ):
        run(locked, state="absent", force=True)


def test_absent_reports_a_bucket_that_filled_up_meanwhile(client):
    run(client)
    busy = Endpoint(client, delete_bucket=_error("BucketNotEmpty", 409))
    with pytest.raises(S3Error, match="something is still writing to it"):
        run(busy, state="absent")


def test_absent_in_check_mode_keeps_the_bucket(client):
    run(client)
    client.put_object(Bucket="mlflow", Key="model.pkl", Body=b"x")
    manager, result = run(client, state="absent", force=True, check_mode=True)
    assert manager.changed and result["deleted_objects"] == 1
    assert client.head_bucket(Bucket="mlflow")
    assert client.list_objects_v2(Bucket="mlflow")["KeyCount"] == 1


def test_absent_bucket_that_does_not_exist_is_unchanged(client):
    manager, result = run(client, state="absent")
    assert not manager.changed and result["deleted_objects"] == 0


# ---------------------------------------------------------------------------------- input
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "Bad_Name"}, "bucket name 'Bad_Name' is invalid: it may hold only lowercase"),
        ({"name": "10.0.0.1"}, "bucket name '10.0.0.1' is invalid: it must not be formatted as an IP address"),
        ({"endpoint_url": "127.0.0.1:9000"}, "must be a URL starting with http://"),
        ({"public_read": True, "policy": {"Statement": []}}, "public_read and policy"),
        ({"public_read": True, "public_access_block": True}, "public_read needs public policies allowed"),
        ({"public_read": True, "public_access_block": {"RestrictPublicBuckets": True}}, "public_read needs"),
        ({"encryption_key_id": "k"}, "needs encryption=aws:kms"),
        ({"encryption": "AES256", "encryption_key_id": "k"}, "needs encryption=aws:kms"),
        ({"policy": "{not json"}, "policy is not valid JSON"),
        ({"policy": "[1, 2]"}, "policy must be a JSON object"),
        ({"policy": {"Version": "2012-10-17"}}, "policy has no Statement"),
        ({"policy": {"Statement": ["x"]}}, "policy's Statement must be a statement (a dict) or a non-empty list"),
        ({"policy": '{"Statement": 5}'}, "policy's Statement must be a statement (a dict) or a non-empty list"),
        ({"policy": {"Statement": []}}, "policy's Statement must be a statement (a dict) or a non-empty list"),
        ({"lifecycle_expiration": [{"id": "x", "prefix": "", "days": 0}]}, "days must be at least 1"),
        ({"lifecycle_expiration": [{"id": "x", "prefix": "", "days": 1}] * 2}, "rule id 'x' is used twice"),
        ({"wait_timeout": -1}, "wait_timeout must be 0 or more"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle /nonexistent/ca.pem is not a file"),
    ],
)
def test_bad_input_is_refused_before_any_call(params, message):
    full = dict(DEFAULTS, name="mlflow")
    full.update(params)
    assert message in mod.check_input(full)


def test_good_input_passes_the_checks(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    good = dict(DEFAULTS, name="mlflow", tags={"a": "b"}, public_access_block=True, ca_bundle=str(ca), policy="")
    assert mod.check_input(good) is None
    assert mod.check_input(dict(DEFAULTS, name="mlflow", public_read=True, public_access_block=False)) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        ("yes", True),
        ("false", False),
        ({"BlockPublicAcls": "yes"}, {"BlockPublicAcls": True}),
        ({}, {}),
    ],
)
def test_public_access_block_input_is_normalized(value, expected):
    assert mod.normalize_public_access_block(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yes please", "must be true, false or a dict"),
        (3, "must be true, false or a dict"),
        ({"BlockEverything": True}, "unknown keys BlockEverything"),
        ({"BlockPublicAcls": "maybe"}, "flags must be true or false"),
    ],
)
def test_bad_public_access_block_is_explained(value, message):
    with pytest.raises(ValueError, match=message):
        mod.normalize_public_access_block(value)


# ---------------------------------------------------------------------------------- the module as Ansible runs it
def _main(capsys, **args):
    """Run main() as Ansible would; return (exit code, result)."""
    return run_main(mod, capsys, args)


def test_module_creates_in_check_mode_with_diff(capsys, client):
    code, result = _main(capsys, name="mlflow", versioning=True, _ansible_check_mode=True, _ansible_diff=True)
    assert client.list_buckets()["Buckets"] == []
    assert code == 0
    assert result["changed"] and result["name"] == "mlflow"
    assert result["diff"] == {
        "before": {"exists": False, "versioning": None},
        "after": {"exists": True, "versioning": "Enabled"},
    }
    assert set(result["bucket"]) == ALL_FACTS


def test_module_is_idempotent_and_hides_the_secret_key(capsys, client):
    args = dict(name="mlflow", access_key="AKIDEXAMPLE", secret_key="hidden-secret-value", tags={"a": "b"})
    first = _main(capsys, **args)
    second = _main(capsys, **args)
    assert first[1]["changed"] and not second[1]["changed"]
    assert "diff" not in second[1]
    assert "hidden-secret-value" not in json.dumps(second[1])
    assert client.get_bucket_tagging(Bucket="mlflow")["TagSet"] == [{"Key": "a", "Value": "b"}]


def test_module_refuses_bad_input_before_any_call(capsys, monkeypatch, client):
    monkeypatch.setattr(mod, "make_client", pytest.fail)
    code, result = _main(capsys, name="My_Bucket")
    assert code == 1
    assert result["msg"].startswith("bucket name 'My_Bucket' is invalid")


def test_module_explains_a_bad_public_access_block(capsys, client):
    code, result = _main(capsys, name="mlflow", public_access_block="sometimes")
    assert code == 1 and "public_access_block must be true, false or a dict" in result["msg"]


def test_module_without_boto3_says_what_to_install(capsys, monkeypatch, client):
    monkeypatch.setattr(mod, "HAS_BOTO3", False)
    code, result = _main(capsys, name="mlflow")
    assert code == 1
    assert "boto3 (python3-boto3 on the managed host)" in result["msg"]


class _Unreachable:
    def list_buckets(self):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def test_module_timeout_names_the_endpoint(capsys, monkeypatch, client):
    monkeypatch.setattr(mod, "make_client", lambda **_: _Unreachable())
    code, result = _main(capsys, name="mlflow", endpoint_url="http://127.0.0.1:1", wait_timeout=0)
    assert code == 1
    assert result["msg"].startswith("S3 endpoint http://127.0.0.1:1 did not answer within 0s")
    assert result["name"] == "mlflow"


def test_module_describes_client_errors(capsys, monkeypatch, client):
    bad_keys = Endpoint(client, head_bucket=_error("InvalidAccessKeyId", 403))
    monkeypatch.setattr(mod, "make_client", lambda **_: bad_keys)
    code, result = _main(capsys, name="mlflow", endpoint_url="http://127.0.0.1:9000")
    assert code == 1
    assert "http://127.0.0.1:9000 refused the credentials (InvalidAccessKeyId)" in result["msg"]
    assert "check access_key and secret_key" in result["msg"]


def test_module_reports_an_unknown_profile(capsys, client):
    code, result = _main(capsys, name="mlflow", profile="nope")
    assert code == 1
    assert "set profile to a profile of the AWS configuration files" in result["msg"]


def test_module_deletes_with_force(capsys, client):
    client.create_bucket(Bucket="mlflow")
    client.put_object(Bucket="mlflow", Key="k", Body=b"x")
    code, result = _main(capsys, name="mlflow", state="absent", force=True)
    assert client.list_buckets()["Buckets"] == []
    assert code == 0 and result["changed"] and result["deleted_objects"] == 1


class Recorder:
    """The moto client, recording the keyword arguments of every bucket-level call."""

    def __init__(self, real):
        self._real = real
        self.calls = []

    def __getattr__(self, name):
        attribute = getattr(self._real, name)
        if not callable(attribute) or name.startswith("_") or name in ("get_waiter", "can_paginate", "get_paginator"):
            return attribute

        def call(*args, **kwargs):
            if "Bucket" in kwargs:
                self.calls.append((name, kwargs))
            return attribute(*args, **kwargs)

        return call


OWNER = "123456789012"  # moto's account: the owner matches, so every call goes through


def test_expected_bucket_owner_goes_with_every_call_on_the_bucket(client):
    recorder = Recorder(client)
    params = dict(
        expected_bucket_owner=OWNER,
        versioning=True,
        encryption="AES256",
        public_access_block=True,
        tags={"team": "ml"},
        lifecycle_expiration=[{"id": "a", "prefix": "a/", "days": 1}],
        policy=s3.public_read_policy("mlflow"),
    )
    run(recorder, **params)  # created and configured
    run(recorder, **params)  # read back, unchanged
    run(recorder, expected_bucket_owner=OWNER, state="absent", force=True)

    names = {name for name, _kwargs in recorder.calls}
    assert {"head_bucket", "put_bucket_versioning", "get_bucket_policy", "delete_bucket"} <= names, names
    # CreateBucket is the one call S3 takes no expected owner on (the bucket has none yet).
    missing = [
        name
        for name, kwargs in recorder.calls
        if name != "create_bucket" and kwargs.get("ExpectedBucketOwner") != OWNER
    ]
    assert missing == [], missing
