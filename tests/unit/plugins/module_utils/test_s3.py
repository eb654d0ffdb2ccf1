"""Unit tests of the shared S3 helpers behind mlops.mlflow.s3_bucket."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.mlops.mlflow.plugins.module_utils import s3


def _client_error(code, status=400):
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize("name", ["mlflow", "abc", "my.bucket-1", "a" * 63, "0ab"])
def test_valid_bucket_names_pass(name):
    assert s3.bucket_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("MLflow", "lowercase"),
        ("my_bucket", "lowercase"),
        ("-abc", "start and end"),
        ("abc-", "start and end"),
        ("a..b", "adjacent dots"),
        ("192.168.1.10", "IP address"),
        ("xn--abc", "xn--"),
        ("data-s3alias", "-s3alias"),
        ("data--ol-s3", "--ol-s3"),
    ],
)
def test_invalid_bucket_names_say_which_rule(name, reason):
    assert reason in s3.bucket_name_error(name)


def test_error_code_prefers_s3_code_then_http_status():
    assert s3.error_code(_client_error("NoSuchBucket", 404)) == "NoSuchBucket"
    bare = ClientError({"Error": {}, "ResponseMetadata": {"HTTPStatusCode": 501}}, "Op")
    assert s3.error_code(bare) == "501"


class _Flaky:
    """list_buckets fails `failures` times with `exc`, then answers."""

    def __init__(self, failures, exc):
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def list_buckets(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        return {"Buckets": []}


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_retries_a_starting_endpoint_until_it_answers():
    clock = _Clock()
    client = _Flaky(3, EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    s3.wait_for_endpoint(client, "http://127.0.0.1:9", 30, sleep=clock.sleep, clock=clock)
    assert client.calls == 4
    assert 0 < clock.now < 30


def test_wait_times_out_naming_the_endpoint_and_last_error():
    clock = _Clock()
    client = _Flaky(10**6, EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(s3.S3Error) as err:
        s3.wait_for_endpoint(client, "http://127.0.0.1:9", 10, sleep=clock.sleep, clock=clock)
    assert "http://127.0.0.1:9 did not answer within 10s" in str(err.value)
    assert "Could not connect" in str(err.value)
    assert clock.now == pytest.approx(10, abs=0.01)


def test_wait_does_not_retry_bad_credentials():
    clock = _Clock()
    client = _Flaky(10**6, _client_error("InvalidAccessKeyId", 403))
    with pytest.raises(s3.S3Error, match=r"refused the credentials .*access_key and secret_key"):
        s3.wait_for_endpoint(client, "http://e", 60, sleep=clock.sleep, clock=clock)
    assert client.calls == 1


def test_read_property_missing_configuration_is_none():
    def call(**_):
        raise _client_error("NoSuchBucketPolicy", 404)

    assert s3.read_property(call, "policy", "http://e", Bucket="b") is None


@pytest.mark.parametrize("code", ["NotImplemented", "XNotImplemented", "MethodNotAllowed"])
def test_read_property_unimplemented_api_is_named(code):
    def call(**_):
        raise _client_error(code, 501)

    with pytest.raises(s3.NotImplementedByEndpoint, match="http://e does not implement bucket public access block"):
        s3.read_property(call, "public_access_block", "http://e", Bucket="b")


def test_read_property_other_errors_propagate():
    def call(**_):
        raise _client_error("AccessDenied", 403)

    with pytest.raises(ClientError):
        s3.read_property(call, "policy", "http://e", Bucket="b")


def test_policies_compare_as_parsed_json():
    text = (
        '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:x"},'
        ' "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}'
    )
    data = {
        "Statement": [
            {
                "Resource": ["arn:aws:s3:::b/*"],
                "Action": ["s3:GetObject"],
                "Principal": {"AWS": ["arn:x"]},
                "Effect": "Allow",
            }
        ],
        "Version": "2012-10-17",
    }
    assert s3.normalize_policy(text) == s3.normalize_policy(data)
    assert s3.normalize_policy("") is None
    assert s3.normalize_policy({}) is None


def test_public_read_policy_grants_only_anonymous_get():
    policy = s3.public_read_policy("mlflow")
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["s3:GetObject"]
    assert statement["Resource"] == ["arn:aws:s3:::mlflow/*"]


def test_lifecycle_round_trips_through_the_server_shape():
    wanted = s3.lifecycle_rules([{"id": "b", "prefix": "tmp/", "days": 3}, {"id": "a", "prefix": None, "days": 7}])
    assert [rule["ID"] for rule in wanted] == ["a", "b"]
    from_server = [
        {"ID": "b", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 3}},
        {"ID": "a", "Prefix": "", "Status": "Enabled", "Expiration": {"Days": 7}},
    ]
    assert s3.comparable_lifecycle(from_server) == wanted
