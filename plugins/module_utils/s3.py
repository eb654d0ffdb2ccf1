# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""S3 helpers shared by mlops.mlflow's modules: bucket-name rules, the client, waiting for an
endpoint that is still starting, reading one bucket property at a time, and error messages that
say what to fix.

The functions take a boto3 client and plain values; they never call AnsibleModule, so they are
unit-tested without Ansible and reused by any module that talks to S3.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import random
import re
import time
import traceback
from typing import Any, Callable, Dict, List, Optional

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
        SSLError,
        WaiterError,
    )

    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - reported by the module with missing_required_lib

    class _BotoMissing(Exception):
        """Stands in for botocore's exceptions so `except` clauses still work."""

    boto3 = None
    Config = None
    BotoCoreError = ClientError = NoCredentialsError = PartialCredentialsError = _BotoMissing
    ProfileNotFound = SSLError = WaiterError = _BotoMissing
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = traceback.format_exc()

# Error codes S3-compatible servers use for an API they do not implement.
NOT_IMPLEMENTED_CODES = frozenset(
    ["NotImplemented", "XNotImplemented", "MethodNotAllowed", "NotSupported", "UnsupportedOperation", "501", "405"]
)
# Error codes meaning "this bucket has no such configuration" (an empty setting, not an error).
NOT_CONFIGURED_CODES = {
    "versioning": frozenset(),
    "encryption": frozenset(["ServerSideEncryptionConfigurationNotFoundError"]),
    "policy": frozenset(["NoSuchBucketPolicy"]),
    "tags": frozenset(["NoSuchTagSet", "NoSuchTagSetError"]),
    "lifecycle": frozenset(["NoSuchLifecycleConfiguration"]),
    "public_access_block": frozenset(["NoSuchPublicAccessBlockConfiguration"]),
}
# The credentials themselves are wrong (unknown key, wrong secret, expired or broken token).
CREDENTIAL_CODES = frozenset(
    [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
    ]
)
DENIED_CODES = frozenset(["AccessDenied", "AllAccessDisabled", "403"])
REGION_CODES = frozenset(
    ["AuthorizationHeaderMalformed", "PermanentRedirect", "301", "IllegalLocationConstraintException"]
)
# The server is there but not ready (MinIO answers 503 for a moment after it starts).
NOT_READY_CODES = frozenset(
    ["ServiceUnavailable", "SlowDown", "InternalError", "XMinioServerNotInitialized", "500", "502", "503", "504"]
)
NO_BUCKET_CODES = frozenset(["404", "NoSuchBucket", "NotFound"])
PUBLIC_ACCESS_BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# An account's root user as AWS writes it in a policy principal (any partition: aws, aws-cn, aws-us-gov).
_ROOT_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::(\d{12}):root$")


class S3Error(Exception):
    """An S3 failure with a message that says what to fix."""


class NotImplementedByEndpoint(S3Error):
    """The endpoint does not implement an API (some S3-compatible servers lack a few)."""


class NotOwnerAccount(S3Error):
    """AWS S3 refused a bucket policy call: the caller's account does not own the bucket."""


# ---------------------------------------------------------------------------------- input checks
def bucket_name_error(name: str) -> Optional[str]:
    """Return why ``name`` breaks S3's bucket naming rules, or None when it is valid."""
    if not 3 <= len(name) <= 63:
        return "it must be 3 to 63 characters long (it has %d)" % len(name)
    if not _NAME.match(name):
        return (
            "it may hold only lowercase letters, digits, dots and hyphens, and must start and end "
            "with a letter or digit"
        )
    if ".." in name:
        return "it must not contain two adjacent dots"
    if _IPV4.match(name):
        return "it must not be formatted as an IP address (like 192.168.5.4)"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return "it must not start with '%s' (reserved by S3)" % prefix
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return "it must not end with '%s' (reserved by S3)" % suffix
    return None


def endpoint_url_error(url: Optional[str]) -> Optional[str]:
    """Return why ``url`` cannot be an S3 endpoint URL, or None when it can (or is unset)."""
    if not url:
        return None
    if not re.match(r"^https?://[^/\s]+", url):
        return "endpoint_url '%s' must be a URL starting with http:// or https://, like http://127.0.0.1:9000" % url
    return None


# ---------------------------------------------------------------------------------- errors
def error_code(exc: Exception) -> str:
    """The S3 error code of a botocore ClientError (or the HTTP status as text)."""
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def http_status(exc: Exception) -> int:
    """The HTTP status of a botocore ClientError, 0 when unknown."""
    response = getattr(exc, "response", None) or {}
    try:
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    except (TypeError, ValueError):
        return 0


def is_method_not_allowed(exc: Exception) -> bool:
    """Whether a ClientError is HTTP 405 MethodNotAllowed."""
    return error_code(exc) in ("MethodNotAllowed", "405") or http_status(exc) == 405


def is_not_implemented(exc: Exception, on_aws: bool = False) -> bool:
    """Whether a ClientError says the endpoint lacks the API.

    S3-compatible servers answer 501 or 405 for an API they lack. AWS S3 has every bucket API, and
    its 405 means something else (on bucket policy calls: the caller's account does not own the
    bucket), so with ``on_aws`` a 405 is not taken for a missing API.
    """
    if on_aws and is_method_not_allowed(exc):
        return False
    return error_code(exc) in NOT_IMPLEMENTED_CODES or http_status(exc) == 501


def is_not_owner_account(exc: Exception, prop: str, on_aws: bool) -> bool:
    """Whether AWS S3 refused a bucket policy call because the caller's account does not own the bucket.

    AWS answers 405 MethodNotAllowed there (403 AccessDenied is a missing permission instead).
    """
    return on_aws and prop == "policy" and is_method_not_allowed(exc)


def not_owner_account_message(endpoint: str, bucket: str, verb: str) -> str:
    return (
        "%s refused to %s the policy of bucket '%s' (405 MethodNotAllowed): the credentials are not of the "
        "account that owns the bucket, and AWS lets only identities of the owner's account read or change a "
        "bucket policy, whatever their permissions; use credentials of the bucket owner's account"
        % (endpoint, verb, bucket)
    )


def credentials_hint(endpoint: str, detail: str) -> str:
    return (
        "%s refused the credentials (%s): check access_key and secret_key (and session_token), or the "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment, profile or instance role boto3 found" % (endpoint, detail)
    )


def describe_error(exc: Exception, endpoint: str, bucket: str) -> str:
    """A message for an S3 failure that says what went wrong and what to do about it."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code in CREDENTIAL_CODES:
            return credentials_hint(endpoint, code)
        if code in DENIED_CODES:
            return (
                "%s denied access to bucket '%s' (%s): the credentials lack the S3 permission for this call "
                "(check access_key/secret_key and the user's policy), or expected_bucket_owner does not "
                "match: %s" % (endpoint, bucket, code, exc)
            )
        if code in REGION_CODES:
            return (
                "%s answered %s for bucket '%s': the bucket lives in another region or the endpoint expects "
                "another one; set region to the bucket's region: %s" % (endpoint, code, bucket, exc)
            )
        return "S3 call on %s failed for bucket '%s': %s" % (endpoint, bucket, exc)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (
            "no complete S3 credentials for %s (%s): set access_key and secret_key, or provide them "
            "through AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile or an instance role" % (endpoint, exc)
        )
    if isinstance(exc, ProfileNotFound):
        return "%s: set profile to a profile of the AWS configuration files on the managed host" % exc
    if isinstance(exc, SSLError):
        return (
            "TLS verification of %s failed (%s): point ca_bundle at the CA that signed its certificate "
            "(validate_certs=false only for throwaway test endpoints)" % (endpoint, exc)
        )
    return "S3 call on %s failed for bucket '%s': %s" % (endpoint, bucket, exc)


# ---------------------------------------------------------------------------------- client
def client_config(endpoint_url: Optional[str]) -> Any:
    """botocore Config: SigV4, path-style on custom endpoints, standard retries, short connect timeout."""
    options = dict(
        signature_version="s3v4",
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        connect_timeout=5,
        read_timeout=60,
    )
    if endpoint_url:
        # botocore >= 1.36 sends CRC checksums on every upload, which several S3-compatible servers
        # reject; send them only where the API requires one. Older botocore does not know the option.
        # The same rule for the MLflow image's processes: mlflow_server_s3_env (roles/mlflow_server/vars).
        try:
            return Config(
                request_checksum_calculation="when_required", response_checksum_validation="when_required", **options
            )
        except TypeError:
            pass
    return Config(**options)


def make_client(
    endpoint_url: Optional[str] = None,
    region: Optional[str] = None,
    access_key: Optional[str] = None,
    secret_key: Optional[str] = None,
    session_token: Optional[str] = None,
    profile: Optional[str] = None,
    validate_certs: bool = True,
    ca_bundle: Optional[str] = None,
) -> Any:
    """An S3 client. Without keys, boto3's own chain applies (environment, profile, instance role).

    Raises botocore's ProfileNotFound for an unknown profile (describe_error explains it).
    """
    session = boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
    verify = ca_bundle if ca_bundle and validate_certs else bool(validate_certs)
    return session.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        aws_session_token=session_token or None,
        verify=verify,
        config=client_config(endpoint_url),
    )


# ---------------------------------------------------------------------------------- waiting
def _probe(client: Any, endpoint: str) -> Optional[str]:
    """Ask the endpoint once. None when it answered; the error text when it should be asked again.

    Raises S3Error for failures that waiting will not heal (credentials, TLS, no credentials).
    """
    try:
        client.list_buckets()
        return None
    except ClientError as exc:
        code = error_code(exc)
        if code in CREDENTIAL_CODES:
            raise S3Error(credentials_hint(endpoint, code)) from None
        if code in NOT_READY_CODES or http_status(exc) >= 500:
            return "%s: %s" % (code, exc)
        # Anything else is an answer: a user without s3:ListAllMyBuckets gets AccessDenied here and
        # may still manage its bucket; the bucket calls report their own errors.
        return None
    except (NoCredentialsError, PartialCredentialsError, SSLError) as exc:
        raise S3Error(describe_error(exc, endpoint, "")) from None
    except (BotoCoreError, OSError) as exc:
        return str(exc)


def wait_for_endpoint(
    client: Any,
    endpoint: str,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    jitter: Callable[[], float] = random.random,
) -> int:
    """Ask the endpoint (ListBuckets) until it answers, for at most ``timeout`` seconds.

    An S3 server started seconds ago (MinIO after `docker compose up`) refuses connections or
    answers 503 for a moment: retry with a growing, jittered pause. Returns the number of attempts.
    """
    deadline = clock() + max(0, timeout)
    delay = 0.5
    attempts = 0
    while True:
        attempts += 1
        last = _probe(client, endpoint)
        if last is None:
            return attempts
        remaining = deadline - clock()
        if remaining <= 0:
            raise S3Error(
                "S3 endpoint %s did not answer within %ss (%d attempts; last error: %s). Check that the "
                "server runs and endpoint_url is right; raise wait_timeout for a slow start."
                % (endpoint, timeout, attempts, last)
            )
        sleep(min(delay * (0.5 + jitter() / 2), remaining))
        delay = min(delay * 2, 5.0)


def retry_on(
    call: Callable[..., Any],
    codes: frozenset,
    attempts: int = 5,
    delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> Any:
    """Call ``call(**kwargs)``, retrying ClientErrors with one of ``codes`` (a bucket created a
    moment ago is not visible everywhere yet on AWS). The last failure propagates."""
    for attempt in range(attempts):
        try:
            return call(**kwargs)
        except ClientError as exc:
            if error_code(exc) not in codes or attempt == attempts - 1:
                raise
            sleep(delay * (attempt + 1))
    return None  # pragma: no cover - the loop returns or raises


def wait_until_bucket_visible(client: Any, bucket: str, endpoint: str, seconds: int = 30, **owner: Any) -> None:
    """Poll HeadBucket after CreateBucket until the new bucket answers (AWS propagates it)."""
    try:
        client.get_waiter("bucket_exists").wait(
            Bucket=bucket, WaiterConfig={"Delay": 1, "MaxAttempts": seconds}, **owner
        )
    except WaiterError as exc:
        raise S3Error(
            "bucket '%s' was created on %s but is not visible after %ss: %s" % (bucket, endpoint, seconds, exc)
        ) from None


# ---------------------------------------------------------------------------------- reading
def read_property(
    call: Callable[..., Any], prop: str, endpoint: str, on_aws: bool = False, **kwargs: Any
) -> Optional[Dict[str, Any]]:
    """Read one bucket configuration (``on_aws``: the endpoint is AWS S3 itself, not a custom one).

    Returns the API response, or None when the bucket simply has no such configuration.
    Raises NotImplementedByEndpoint when the server lacks the API, NotOwnerAccount when AWS
    refuses the policy to a caller of another account.
    """
    try:
        return call(**kwargs)
    except ClientError as exc:
        code = error_code(exc)
        if code in NOT_CONFIGURED_CODES.get(prop, ()):
            return None
        if is_not_owner_account(exc, prop, on_aws):
            raise NotOwnerAccount(not_owner_account_message(endpoint, kwargs.get("Bucket", ""), "read")) from None
        if is_not_implemented(exc, on_aws):
            raise NotImplementedByEndpoint(
                "%s does not implement bucket %s (%s)" % (endpoint, prop.replace("_", " "), code)
            ) from None
        raise


def versioning_from(response: Optional[Dict[str, Any]]) -> Optional[str]:
    """Enabled, Suspended, or None for a bucket that never had versioning."""
    return (response or {}).get("Status") or None


def encryption_from(response: Optional[Dict[str, Any]]) -> Optional[Dict[str, Optional[str]]]:
    """The default encryption as {algorithm, key_id}, or None."""
    rules = (response or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if not rules:
        return None
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    if not default.get("SSEAlgorithm"):
        return None
    return {"algorithm": default.get("SSEAlgorithm"), "key_id": default.get("KMSMasterKeyID") or None}


def encryption_target(algorithm: str, key_id: Optional[str]) -> Optional[Dict[str, Optional[str]]]:
    """What encryption=X (and encryption_key_id) asks for, in encryption_from's shape."""
    if algorithm == "none":
        return None
    return {"algorithm": algorithm, "key_id": (key_id or None) if algorithm == "aws:kms" else None}


def public_access_block_from(response: Optional[Dict[str, Any]]) -> Optional[Dict[str, bool]]:
    """The four public access block flags, or None when none is configured."""
    if not response:
        return None
    config = response.get("PublicAccessBlockConfiguration", {})
    return dict((key, bool(config.get(key, False))) for key in PUBLIC_ACCESS_BLOCK_KEYS)


def public_access_block_target(wanted: Any) -> Dict[str, bool]:
    """A bool shorthand (all four flags) or a dict (missing flags off) as the API's dict."""
    if isinstance(wanted, bool):
        return dict((key, wanted) for key in PUBLIC_ACCESS_BLOCK_KEYS)
    return dict((key, bool(wanted.get(key, False))) for key in PUBLIC_ACCESS_BLOCK_KEYS)


def tags_from(response: Optional[Dict[str, Any]]) -> Dict[str, str]:
    return dict((tag["Key"], tag["Value"]) for tag in (response or {}).get("TagSet", []))


def tags_target(current: Dict[str, str], wanted: Dict[str, Any], purge: bool) -> Dict[str, str]:
    """The tag set to have: exactly ``wanted`` with purge, else ``current`` updated by it."""
    wanted = dict((str(key), "" if value is None else str(value)) for key, value in wanted.items())
    return wanted if purge else dict(current, **wanted)


# ---------------------------------------------------------------------------------- policies
def _as_sorted_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return sorted(value, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def _account_of_root(principal: Any) -> Any:
    """An account's root ARN as its bare id; any other principal as it is."""
    match = _ROOT_ARN.match(principal) if isinstance(principal, str) else None
    return match.group(1) if match else principal


def _canonical_principal(principal: Any) -> Any:
    """One form for the principals IAM takes as the same.

    ``"*"`` is ``{"AWS": ["*"]}`` (MinIO answers the latter for either), and an account's root ARN
    ``arn:aws:iam::<id>:root`` is the bare 12-digit id (AWS answers the ARN for either).
    """
    if principal == "*":
        principal = {"AWS": "*"}
    if not isinstance(principal, dict):
        return principal
    canonical = {}
    for kind, names in principal.items():
        names = _as_sorted_list(names)
        if kind == "AWS" and isinstance(names, list):
            names = _as_sorted_list([_account_of_root(name) for name in names])
        canonical[kind] = names
    return canonical


def normalize_policy(policy: Any) -> Optional[Dict[str, Any]]:
    """A bucket policy as comparable data: parsed JSON, single values as lists, lists and
    statements in a fixed order (their order carries no meaning in IAM), and one form for
    principals written in two (see _canonical_principal)."""
    if policy is None or (isinstance(policy, str) and not policy.strip()) or policy == {}:
        return None
    data = json.loads(policy) if isinstance(policy, str) else policy
    data = json.loads(json.dumps(data))
    statements = data.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    for statement in statements or []:
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if key in statement:
                statement[key] = _as_sorted_list(statement[key])
        for key in ("Principal", "NotPrincipal"):
            if key in statement:
                statement[key] = _canonical_principal(statement[key])
        if isinstance(statement.get("Condition"), dict):
            for operator, values in statement["Condition"].items():
                if isinstance(values, dict):
                    statement["Condition"][operator] = dict((k, _as_sorted_list(v)) for k, v in values.items())
    if statements is not None:
        data["Statement"] = sorted(statements, key=lambda item: json.dumps(item, sort_keys=True))
    return data


def public_read_policy(bucket: str) -> Dict[str, Any]:
    """The anonymous-download policy of public_read=true (only ever applied on explicit request)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": ["arn:aws:s3:::%s/*" % bucket],
            }
        ],
    }


# ---------------------------------------------------------------------------------- lifecycle
def lifecycle_rules(expiration: Optional[List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """Lifecycle rules (expiry after N days per prefix) in the API's shape, sorted by id."""
    rules = []
    for item in expiration or []:
        rules.append(
            {
                "ID": item["id"],
                "Filter": {"Prefix": item.get("prefix") or ""},
                "Status": "Enabled",
                "Expiration": {"Days": int(item["days"])},
            }
        )
    return sorted(rules, key=lambda rule: rule["ID"])


def comparable_lifecycle(rules: Optional[List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """Reduce lifecycle rules read back from a server to the fields this collection manages.

    A rule doing anything else (transitions, tag filters, a date) reduces to something that
    differs from every rule lifecycle_rules makes, so it is replaced rather than kept unseen.
    """
    out = []
    for rule in rules or []:
        flt = rule.get("Filter")
        if flt is None:
            prefix = rule.get("Prefix", "")
        elif set(flt) <= set(["Prefix"]):
            prefix = flt.get("Prefix", "")
        else:
            prefix = None  # And/Tag/size filters: not one of ours
        known = ("ID", "Filter", "Prefix", "Status", "Expiration")
        extra = sorted(key for key in rule if key not in known and rule[key] not in (None, "", [], {}))
        expiration = rule.get("Expiration", {})
        reduced = {
            "ID": rule.get("ID", ""),
            "Filter": {"Prefix": prefix or ""} if prefix is not None else flt,
            "Status": rule.get("Status", "Enabled"),
            "Expiration": {"Days": int(expiration["Days"])} if "Days" in expiration else expiration,
        }
        if extra:
            reduced["Other"] = extra
        out.append(reduced)
    return sorted(out, key=lambda rule: rule["ID"])
