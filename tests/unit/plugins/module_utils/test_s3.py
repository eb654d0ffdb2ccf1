"""Unit tests of the shared S3 helpers behind mlops.mlflow.s3_bucket (no network, no server)."""

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    SSLError,
)

from ansible_collections.mlops.mlflow.plugins.module_utils import s3


def _client_error(code, status=400):
    error = {"Code": code, "Message": code} if code else {}
    return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.fixture(autouse=True)
def _no_aws_config(monkeypatch, tmp_path):
    """Keep the machine's AWS files and variables out of client construction."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)


# ---------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["mlflow", "abc", "my.bucket-1", "a" * 63, "0ab", "1.2.3", "xn-abc", "s3alias-data"])
def test_valid_bucket_names_pass(name):
    assert s3.bucket_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "3 to 63 characters long (it has 2)"),
        ("a" * 64, "3 to 63"),
        ("", "3 to 63"),
        ("MLflow", "lowercase"),
        ("my_bucket", "lowercase"),
        ("my bucket", "lowercase"),
        ("-abc", "start and end"),
        ("abc-", "start and end"),
        (".abc", "start and end"),
        ("abc.", "start and end"),
        ("a..b", "adjacent dots"),
        ("192.168.1.10", "IP address"),
        ("xn--abc", "start with 'xn--'"),
        ("sthree-data", "start with 'sthree-'"),
        ("data-s3alias", "end with '-s3alias'"),
        ("data--ol-s3", "end with '--ol-s3'"),
        ("data--x-s3", "end with '--x-s3'"),
    ],
)
def test_invalid_bucket_names_say_which_rule(name, reason):
    assert reason in s3.bucket_name_error(name)


@pytest.mark.parametrize("url", [None, "", "http://127.0.0.1:9000", "https://s3.example:443/", "http://minio"])
def test_usable_endpoint_urls_pass(url):
    assert s3.endpoint_url_error(url) is None


@pytest.mark.parametrize("url", ["127.0.0.1:9000", "ftp://host", "http://", "minio"])
def test_endpoint_url_without_scheme_is_explained(url):
    assert "must be a URL starting with http:// or https://" in s3.endpoint_url_error(url)


# ---------------------------------------------------------------------------------- errors
def test_error_code_prefers_s3_code_then_http_status():
    assert s3.error_code(_client_error("NoSuchBucket", 404)) == "NoSuchBucket"
    assert s3.error_code(_client_error(None, 501)) == "501"
    assert s3.error_code(ValueError("no response")) == ""


def test_http_status_of_odd_errors_is_zero():
    assert s3.http_status(_client_error("X", 503)) == 503
    assert s3.http_status(ValueError()) == 0


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("NotImplemented", 501, True),
        ("XNotImplemented", 400, True),
        ("MethodNotAllowed", 405, True),
        (None, 501, True),
        ("AccessDenied", 403, False),
        ("NoSuchBucket", 404, False),
    ],
)
def test_not_implemented_is_recognised_by_code_or_status(code, status, expected):
    assert s3.is_not_implemented(_client_error(code, status)) is expected


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_client_error("InvalidAccessKeyId", 403), "check access_key and secret_key"),
        (_client_error("SignatureDoesNotMatch", 403), "check access_key and secret_key"),
        (_client_error("AccessDenied", 403), "lack the S3 permission"),
        (_client_error("PermanentRedirect", 301), "set region to the bucket's region"),
        (_client_error("InternalError", 500), "S3 call on http://e failed for bucket 'b'"),
        (NoCredentialsError(), "set access_key and secret_key"),
        (ProfileNotFound(profile="nope"), "set profile to a profile"),
        (SSLError(endpoint_url="https://e", error="bad cert"), "point ca_bundle at the CA"),
        (EndpointConnectionError(endpoint_url="http://e"), "S3 call on http://e failed"),
    ],
)
def test_errors_are_described_with_what_to_fix(exc, expected):
    message = s3.describe_error(exc, "http://e", "b")
    assert expected in message
    assert "http://e" in message or "nope" in message


# ---------------------------------------------------------------------------------- client
def test_custom_endpoint_gets_path_style_sigv4_and_no_default_checksums():
    config = s3.client_config("http://127.0.0.1:9000")
    assert config.s3 == {"addressing_style": "path"}
    assert config.signature_version == "s3v4"
    assert config.request_checksum_calculation == "when_required"


def test_aws_keeps_automatic_addressing():
    assert s3.client_config(None).s3 == {"addressing_style": "auto"}


def test_client_uses_the_given_endpoint_region_and_keys():
    client = s3.make_client(
        endpoint_url="http://127.0.0.1:9000", region="eu-west-1", access_key="AK", secret_key="SK", session_token="T"
    )
    assert client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert client.meta.region_name == "eu-west-1"
    credentials = client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("AK", "SK", "T")


@pytest.mark.parametrize(
    ("validate_certs", "ca_bundle", "verify"),
    [(True, None, True), (False, None, False), (True, "/etc/ca.pem", "/etc/ca.pem"), (False, "/etc/ca.pem", False)],
)
def test_tls_verification_follows_validate_certs_and_ca_bundle(validate_certs, ca_bundle, verify):
    client = s3.make_client(
        endpoint_url="https://s3.example",
        access_key="a",
        secret_key="b",
        validate_certs=validate_certs,
        ca_bundle=ca_bundle,
    )
    assert client._endpoint.http_session._verify == verify


def test_unknown_profile_is_reported_by_botocore():
    with pytest.raises(ProfileNotFound):
        s3.make_client(profile="does-not-exist")


# ---------------------------------------------------------------------------------- waiting
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
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _wait(client, timeout, clock):
    return s3.wait_for_endpoint(
        client, "http://127.0.0.1:9", timeout, sleep=clock.sleep, clock=clock, jitter=lambda: 1.0
    )


def test_wait_answers_at_once_for_a_running_endpoint():
    clock = _Clock()
    assert _wait(_Flaky(0, None), 30, clock) == 1
    assert clock.sleeps == []


def test_wait_retries_a_starting_endpoint_with_growing_pauses():
    clock = _Clock()
    client = _Flaky(4, EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert _wait(client, 30, clock) == 5
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]


def test_wait_pauses_are_capped_and_jittered():
    clock = _Clock()
    client = _Flaky(6, EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    s3.wait_for_endpoint(client, "e", 600, sleep=clock.sleep, clock=clock, jitter=lambda: 0.0)
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0, 2.5, 2.5]


@pytest.mark.parametrize("code", ["XMinioServerNotInitialized", "ServiceUnavailable", "SlowDown"])
def test_wait_retries_a_server_that_says_it_is_not_ready(code):
    clock = _Clock()
    client = _Flaky(2, _client_error(code, 503))
    assert _wait(client, 30, clock) == 3


def test_wait_times_out_naming_the_endpoint_and_last_error():
    clock = _Clock()
    client = _Flaky(10**6, EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(s3.S3Error) as err:
        _wait(client, 10, clock)
    message = str(err.value)
    assert "S3 endpoint http://127.0.0.1:9 did not answer within 10s" in message
    assert "Could not connect to the endpoint URL" in message
    assert "raise wait_timeout" in message
    assert clock.now == pytest.approx(10, abs=0.01)


def test_wait_timeout_zero_asks_once():
    clock = _Clock()
    client = _Flaky(10**6, EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(s3.S3Error, match=r"within 0s \(1 attempts"):
        _wait(client, 0, clock)
    assert client.calls == 1


@pytest.mark.parametrize("code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"])
def test_wait_does_not_retry_bad_credentials(code):
    clock = _Clock()
    client = _Flaky(10**6, _client_error(code, 403))
    with pytest.raises(s3.S3Error, match=r"refused the credentials .*access_key and secret_key"):
        _wait(client, 60, clock)
    assert client.calls == 1


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (NoCredentialsError(), "no complete S3 credentials"),
        (SSLError(endpoint_url="https://e", error="certificate verify failed"), "TLS verification"),
    ],
)
def test_wait_does_not_retry_what_waiting_cannot_heal(exc, message):
    clock = _Clock()
    client = _Flaky(10**6, exc)
    with pytest.raises(s3.S3Error, match=message):
        _wait(client, 60, clock)
    assert client.calls == 1


def test_wait_takes_access_denied_on_list_buckets_as_an_answer():
    # A user limited to its own bucket may not list all buckets; the endpoint did answer.
    clock = _Clock()
    assert _wait(_Flaky(1, _client_error("AccessDenied", 403)), 30, clock) == 1


def test_retry_on_retries_listed_codes_then_gives_up():
    calls = []

    def call(**kwargs):
        calls.append(kwargs)
        raise _client_error("NoSuchBucket", 404)

    with pytest.raises(ClientError):
        s3.retry_on(call, frozenset(["NoSuchBucket"]), attempts=3, sleep=lambda _: None, Bucket="b")
    assert calls == [{"Bucket": "b"}] * 3


def test_retry_on_returns_once_the_call_works_and_passes_other_errors():
    answers = [_client_error("NoSuchBucket", 404), {"ok": True}]

    def flaky(**_):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert s3.retry_on(flaky, frozenset(["NoSuchBucket"]), sleep=lambda _: None) == {"ok": True}

    def denied(**_):
        raise _client_error("AccessDenied", 403)

    with pytest.raises(ClientError):
        s3.retry_on(denied, frozenset(["NoSuchBucket"]), sleep=pytest.fail)


# ---------------------------------------------------------------------------------- reading
def _raises(exc):
    def call(**_):
        raise exc

    return call


@pytest.mark.parametrize(
    ("prop", "code"),
    [
        ("policy", "NoSuchBucketPolicy"),
        ("tags", "NoSuchTagSet"),
        ("encryption", "ServerSideEncryptionConfigurationNotFoundError"),
        ("lifecycle", "NoSuchLifecycleConfiguration"),
        ("public_access_block", "NoSuchPublicAccessBlockConfiguration"),
    ],
)
def test_read_property_missing_configuration_is_none(prop, code):
    assert s3.read_property(_raises(_client_error(code, 404)), prop, "http://e", Bucket="b") is None


def test_read_property_passes_arguments_and_returns_the_answer():
    assert s3.read_property(lambda **kw: kw, "tags", "http://e", Bucket="b") == {"Bucket": "b"}


@pytest.mark.parametrize(
    ("code", "status"), [("NotImplemented", 501), ("XNotImplemented", 400), ("MethodNotAllowed", 405)]
)
def test_read_property_unimplemented_api_is_named(code, status):
    with pytest.raises(s3.NotImplementedByEndpoint, match="http://e does not implement bucket public access block"):
        s3.read_property(_raises(_client_error(code, status)), "public_access_block", "http://e", Bucket="b")


def test_read_property_other_errors_propagate():
    with pytest.raises(ClientError):
        s3.read_property(_raises(_client_error("AccessDenied", 403)), "policy", "http://e", Bucket="b")


def test_405_on_aws_is_not_a_missing_api_but_501_still_is():
    assert not s3.is_not_implemented(_client_error("MethodNotAllowed", 405), on_aws=True)
    assert not s3.is_not_implemented(_client_error("", 405), on_aws=True)
    assert s3.is_not_implemented(_client_error("NotImplemented", 501), on_aws=True)
    assert s3.is_not_implemented(_client_error("MethodNotAllowed", 405), on_aws=False)


def test_read_property_policy_405_on_aws_says_the_account_does_not_own_the_bucket():
    refused = _raises(_client_error("MethodNotAllowed", 405))
    with pytest.raises(s3.NotOwnerAccount) as err:
        s3.read_property(refused, "policy", "AWS S3 (us-east-1)", on_aws=True, Bucket="b")
    message = str(err.value)
    assert message.startswith("AWS S3 (us-east-1) refused to read the policy of bucket 'b' (405 MethodNotAllowed)")
    assert "not of the account that owns the bucket" in message
    assert "does not implement" not in message


def test_read_property_other_405_on_aws_propagates():
    with pytest.raises(ClientError):
        s3.read_property(_raises(_client_error("MethodNotAllowed", 405)), "tags", "AWS", on_aws=True, Bucket="b")


def test_read_property_policy_405_on_a_custom_endpoint_is_a_missing_api():
    with pytest.raises(
        s3.NotImplementedByEndpoint, match=r"http://e does not implement bucket policy \(MethodNotAllowed\)"
    ):
        s3.read_property(_raises(_client_error("MethodNotAllowed", 405)), "policy", "http://e", Bucket="b")


def test_versioning_never_set_reads_as_none():
    assert s3.versioning_from({}) is None
    assert s3.versioning_from({"Status": "Suspended"}) == "Suspended"


def test_encryption_reads_algorithm_and_key():
    def response(default):
        return {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}}

    assert s3.encryption_from(None) is None
    assert s3.encryption_from(response({"SSEAlgorithm": "AES256"})) == {"algorithm": "AES256", "key_id": None}
    kms = response({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k1"})
    assert s3.encryption_from(kms) == {"algorithm": "aws:kms", "key_id": "k1"}
    assert s3.encryption_from(response({})) is None


def test_encryption_target_ignores_a_key_for_aes256():
    assert s3.encryption_target("none", "k") is None
    assert s3.encryption_target("AES256", "k") == {"algorithm": "AES256", "key_id": None}
    assert s3.encryption_target("aws:kms", None) == {"algorithm": "aws:kms", "key_id": None}
    assert s3.encryption_target("aws:kms", "k") == {"algorithm": "aws:kms", "key_id": "k"}


def test_public_access_block_shorthand_and_partial_dict():
    assert s3.public_access_block_target(True) == dict.fromkeys(s3.PUBLIC_ACCESS_BLOCK_KEYS, True)
    assert s3.public_access_block_target(False) == dict.fromkeys(s3.PUBLIC_ACCESS_BLOCK_KEYS, False)
    partial = s3.public_access_block_target({"BlockPublicPolicy": True})
    assert partial == dict(dict.fromkeys(s3.PUBLIC_ACCESS_BLOCK_KEYS, False), BlockPublicPolicy=True)
    assert s3.public_access_block_from(None) is None
    assert s3.public_access_block_from({"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}}) == dict(
        dict.fromkeys(s3.PUBLIC_ACCESS_BLOCK_KEYS, False), BlockPublicAcls=True
    )


def test_tags_target_purges_or_merges_and_stringifies():
    current = {"a": "1", "keep": "x"}
    assert s3.tags_target(current, {"a": 2}, purge=True) == {"a": "2"}
    assert s3.tags_target(current, {"a": 2, "n": None}, purge=False) == {"a": "2", "keep": "x", "n": ""}
    assert s3.tags_from({"TagSet": [{"Key": "k", "Value": "v"}]}) == {"k": "v"}
    assert s3.tags_from(None) == {}


# ---------------------------------------------------------------------------------- policies
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


def test_policy_list_and_statement_order_do_not_matter():
    one = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "r"}
    two = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "r",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    swapped = dict(one, Action=["s3:ListBucket", "s3:GetObject"], Principal={"AWS": ["*"]})
    two_listed = dict(two, Condition={"Bool": {"aws:SecureTransport": ["false"]}})
    assert s3.normalize_policy({"Statement": [one, two]}) == s3.normalize_policy({"Statement": [two_listed, swapped]})


def test_different_policies_stay_different():
    base = {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]
    }
    other = {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/*"}]
    }
    assert s3.normalize_policy(base) != s3.normalize_policy(other)


def _grant(principal, key="Principal"):
    return {
        "Statement": [{"Effect": "Allow", key: principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]
    }


@pytest.mark.parametrize("key", ["Principal", "NotPrincipal"])
def test_policy_with_star_principal_matches_minio_form_unchanged(key):
    minio_form = s3.normalize_policy(_grant({"AWS": ["*"]}, key))
    assert s3.normalize_policy(_grant("*", key)) == minio_form
    assert s3.normalize_policy(_grant({"AWS": "*"}, key)) == minio_form


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:iam::123456789012:root", "arn:aws-cn:iam::123456789012:root", "arn:aws-us-gov:iam::123456789012:root"],
)
def test_policy_with_account_id_principal_matches_root_arn_form_unchanged(arn):
    bare = s3.normalize_policy(_grant({"AWS": "123456789012"}))
    assert s3.normalize_policy(_grant({"AWS": [arn]})) == bare
    assert bare["Statement"][0]["Principal"] == {"AWS": ["123456789012"]}


def test_policy_principal_lists_compare_in_any_order_after_canonical_forms():
    written = _grant({"AWS": ["arn:aws:iam::222222222222:root", "111111111111"]})
    returned = _grant({"AWS": ["arn:aws:iam::111111111111:root", "222222222222"]})
    assert s3.normalize_policy(written) == s3.normalize_policy(returned)


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        ({"AWS": "123456789012"}, {"AWS": "arn:aws:iam::210987654321:root"}),
        ({"AWS": "123456789012"}, {"AWS": "arn:aws:iam::123456789012:user/bob"}),
        ({"AWS": "123456789012"}, {"AWS": "*"}),
        ("*", {"Service": "logging.s3.amazonaws.com"}),
        ("*", {"CanonicalUser": "*"}),
    ],
)
def test_policy_with_other_principals_stays_different(mine, theirs):
    assert s3.normalize_policy(_grant(mine)) != s3.normalize_policy(_grant(theirs))


def test_policy_keeps_principals_that_are_not_an_account_root():
    user = "arn:aws:iam::123456789012:user/root"
    service = {"Service": ["logging.s3.amazonaws.com"]}
    assert s3.normalize_policy(_grant({"AWS": user}))["Statement"][0]["Principal"] == {"AWS": [user]}
    assert s3.normalize_policy(_grant(service))["Statement"][0]["Principal"] == service


@pytest.mark.parametrize("empty", [None, "", "  ", {}])
def test_empty_policy_means_none(empty):
    assert s3.normalize_policy(empty) is None


def test_public_read_policy_grants_only_anonymous_get():
    policy = s3.public_read_policy("mlflow")
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": ["*"]}
    assert statement["Action"] == ["s3:GetObject"]
    assert statement["Resource"] == ["arn:aws:s3:::mlflow/*"]


# ---------------------------------------------------------------------------------- lifecycle
def test_lifecycle_round_trips_through_the_server_shape():
    wanted = s3.lifecycle_rules([{"id": "b", "prefix": "tmp/", "days": 3}, {"id": "a", "prefix": None, "days": 7}])
    assert [rule["ID"] for rule in wanted] == ["a", "b"]
    from_server = [
        {"ID": "b", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 3}, "Transitions": []},
        {"ID": "a", "Prefix": "", "Status": "Enabled", "Expiration": {"Days": 7}},
    ]
    assert s3.comparable_lifecycle(from_server) == wanted


def test_lifecycle_rules_doing_more_than_expiry_are_not_taken_for_ours():
    wanted = s3.lifecycle_rules([{"id": "a", "prefix": "tmp/", "days": 3}])
    base = {"ID": "a", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 3}}
    variants = [
        dict(base, Status="Disabled"),
        dict(base, Expiration={"Days": 4}),
        dict(base, Filter={"And": {"Prefix": "tmp/", "Tags": [{"Key": "k", "Value": "v"}]}}),
        dict(base, Transitions=[{"Days": 1, "StorageClass": "GLACIER"}]),
        dict(base, Expiration={"Date": "2030-01-01T00:00:00Z"}),
    ]
    for rule in variants:
        assert s3.comparable_lifecycle([rule]) != wanted, rule
    assert s3.comparable_lifecycle(None) == []


class _Waiter:
    def __init__(self, exc=None):
        self.exc = exc
        self.kwargs = None

    def wait(self, **kwargs):
        self.kwargs = kwargs
        if self.exc:
            raise self.exc


class _WaitingClient:
    def __init__(self, waiter):
        self.waiter = waiter

    def get_waiter(self, name):
        assert name == "bucket_exists"
        return self.waiter


def test_new_bucket_is_polled_until_visible_with_the_owner_check():
    waiter = _Waiter()
    s3.wait_until_bucket_visible(_WaitingClient(waiter), "b", "http://e", seconds=5, ExpectedBucketOwner="1")
    assert waiter.kwargs == {"Bucket": "b", "WaiterConfig": {"Delay": 1, "MaxAttempts": 5}, "ExpectedBucketOwner": "1"}


def test_new_bucket_that_never_shows_up_is_reported():
    from botocore.exceptions import WaiterError

    waiter = _Waiter(WaiterError(name="BucketExists", reason="Max attempts exceeded", last_response={}))
    with pytest.raises(s3.S3Error, match=r"bucket 'b' was created on http://e but is not visible after 30s"):
        s3.wait_until_bucket_visible(_WaitingClient(waiter), "b", "http://e")
