# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""S3 helpers shared by mlops.mlflow's modules: bucket-name rules, the client, waiting for an
endpoint that is still starting, and reading one bucket property at a time.

The functions take a boto3 client and plain values; they never call AnsibleModule, so they are
unit-tested without Ansible and reused by any module that talks to S3.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module with missing_required_lib

    class _BotoMissing(Exception):
        """Stands in for botocore's exceptions so `except` clauses still compile."""

    boto3 = None
    Config = None
    BotoCoreError = ClientError = _BotoMissing
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = exc

# Error codes S3-compatible servers use for an API they do not implement.
NOT_IMPLEMENTED_CODES = frozenset(
    ["NotImplemented", "XNotImplemented", "MethodNotAllowed", "NotSupported", "501", "405"]
)
# Error codes meaning "this bucket has no such configuration" (an empty setting, not an error).
NOT_CONFIGURED_CODES = {
    "encryption": frozenset(["ServerSideEncryptionConfigurationNotFoundError"]),
    "policy": frozenset(["NoSuchBucketPolicy"]),
    "tags": frozenset(["NoSuchTagSet", "NoSuchTagSetError"]),
    "lifecycle": frozenset(["NoSuchLifecycleConfiguration"]),
    "public_access_block": frozenset(["NoSuchPublicAccessBlockConfiguration"]),
}
CREDENTIAL_CODES = frozenset(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403"])
PUBLIC_ACCESS_BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


class S3Error(Exception):
    """An S3 failure with a message that says what to fix."""


class NotImplementedByEndpoint(S3Error):
    """The endpoint does not implement an API (some S3-compatible servers lack a few)."""


def bucket_name_error(name):
    """Return why ``name`` breaks S3's bucket naming rules, or None when it is valid."""
    if not 3 <= len(name) <= 63:
        return "it must be 3 to 63 characters long (it has %d)" % len(name)
    if not _NAME.match(name):
        return ("it may hold only lowercase letters, digits, dots and hyphens, and must start and end "
                "with a letter or digit")
    if ".." in name:
        return "it must not contain two adjacent dots"
    if _IPV4.match(name):
        return "it must not be formatted as an IP address"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return "it must not start with '%s'" % prefix
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            return "it must not end with '%s'" % suffix
    return None


def error_code(exc):
    """The S3 error code of a botocore ClientError (or the HTTP status as text)."""
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def make_client(endpoint_url=None, region=None, access_key=None, secret_key=None, session_token=None,
                profile=None, validate_certs=True, ca_bundle=None):
    """An S3 client: SigV4, path-style addressing on custom endpoints, standard retries.

    Without keys, boto3's own chain applies (environment, profile, instance role).
    """
    session = boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
    config = Config(
        signature_version="s3v4",
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        connect_timeout=5,
        read_timeout=60,
    )
    verify = ca_bundle if ca_bundle else bool(validate_certs)
    return session.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        aws_session_token=session_token or None,
        verify=verify,
        config=config,
    )


def wait_for_endpoint(client, endpoint, timeout, sleep=time.sleep, clock=time.monotonic):
    """Call ListBuckets until the endpoint answers, at most ``timeout`` seconds.

    An S3 server started seconds ago (MinIO after `docker compose up`) refuses connections for a
    moment: retry with a growing pause. Credential errors are not retried: they will not heal.
    """
    deadline = clock() + max(0, timeout)
    delay = 0.5
    last = None
    while True:
        try:
            client.list_buckets()
            return
        except ClientError as exc:
            code = error_code(exc)
            if code in CREDENTIAL_CODES:
                raise S3Error(
                    "%s refused the credentials (%s): check access_key and secret_key "
                    "(or the AWS environment, profile or instance role)" % (endpoint, code)
                ) from None
            last = "%s: %s" % (code, exc)
        except (BotoCoreError, OSError) as exc:
            last = str(exc)
        if clock() >= deadline:
            raise S3Error(
                "S3 endpoint %s did not answer within %ss (last error: %s). Check that the server "
                "runs and endpoint_url is right; raise wait_timeout for a slow start." % (endpoint, timeout, last)
            )
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 2, 5)


def read_property(call, prop, endpoint, **kwargs):
    """Read one bucket configuration.

    Returns the API response, or None when the bucket simply has no such configuration.
    Raises NotImplementedByEndpoint when the server lacks the API.
    """
    try:
        return call(**kwargs)
    except ClientError as exc:
        code = error_code(exc)
        if code in NOT_CONFIGURED_CODES.get(prop, ()):
            return None
        if code in NOT_IMPLEMENTED_CODES:
            feature = prop.replace("_", " ")
            raise NotImplementedByEndpoint("%s does not implement bucket %s (%s)" % (endpoint, feature, code)) from None
        raise


def normalize_policy(policy):
    """A bucket policy as comparable data: parsed JSON with Statement always a list."""
    if policy in (None, "", {}):
        return None
    data = json.loads(policy) if isinstance(policy, str) else policy
    data = json.loads(json.dumps(data))
    statements = data.get("Statement")
    if isinstance(statements, dict):
        data["Statement"] = [statements]
    for statement in data.get("Statement", []):
        for key in ("Action", "Resource", "NotAction", "NotResource"):
            if isinstance(statement.get(key), str):
                statement[key] = [statement[key]]
            if isinstance(statement.get(key), list):
                statement[key] = sorted(statement[key])
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            for key, value in principal.items():
                if isinstance(value, str) and value != "*":
                    principal[key] = [value]
                elif isinstance(value, list):
                    principal[key] = sorted(value)
    return data


def public_read_policy(bucket):
    """The anonymous-download policy hand-made setups apply (only ever on explicit request)."""
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


def lifecycle_rules(expiration):
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


def comparable_lifecycle(rules):
    """Reduce lifecycle rules read back from a server to the fields this collection manages."""
    out = []
    for rule in rules or []:
        prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix", "")) or ""
        out.append(
            {
                "ID": rule.get("ID", ""),
                "Filter": {"Prefix": prefix},
                "Status": rule.get("Status", "Enabled"),
                "Expiration": {"Days": int(rule.get("Expiration", {}).get("Days", 0))},
            }
        )
    return sorted(out, key=lambda rule: rule["ID"])
