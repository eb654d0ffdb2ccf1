#!/usr/bin/python
# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: s3_bucket
short_description: Create and configure a bucket on MinIO, AWS S3 or any S3-compatible endpoint
version_added: 0.1.0
description:
  - Ensures a bucket exists (or not) and that the properties you set match, namely versioning,
    default encryption, public access block, bucket policy, tags and lifecycle expiry rules.
  - Each property is read, compared and written on its own; a property you leave unset (V(null))
    is not touched. Policies are compared as parsed JSON, not as strings.
  - B(Private by default.) The module never grants public access unless O(public_read=true) or
    your own O(policy) says so.
  - Waits for an endpoint that is still starting (MinIO seconds after its container started). It
    retries for up to O(wait_timeout) seconds, then fails naming the endpoint.
  - Replaces the one-off C(mc mb) container of hand-made MinIO setups.
author:
  - mlops.mlflow developers (@mlops)
requirements:
  - boto3 >= 1.26 and botocore on the host that runs the module (the managed host; on Debian the
    package C(python3-boto3), which mlops.mlflow.minio installs).
notes:
  - Some S3-compatible servers do not implement every API (MinIO has no public access block or
    ownership controls). A property the endpoint lacks is ignored while you do not set it, and is
    a clear error naming the feature and the endpoint when you do.
  - Credentials come from O(access_key)/O(secret_key), else boto3's chain (AWS_ACCESS_KEY_ID and
    friends, O(profile), the instance role).
  - Part of the C(mlops.mlflow.s3) action group, so C(module_defaults) can set the endpoint and
    credentials once.
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Shows the managed properties before and after.
  idempotent:
    support: full
    description: A second run with the same input changes nothing.
options:
  name:
    description:
      - Bucket name. Checked against S3's naming rules before any call (3-63 characters,
        lowercase letters, digits, dots and hyphens, not shaped like an IP address).
    type: str
    required: true
    aliases: [bucket]
  state:
    description:
      - V(present) creates the bucket if needed and applies the properties.
      - V(absent) deletes it. A bucket that still holds objects is refused unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), delete every object, object version and delete marker first.
        B(This destroys the data.)
    type: bool
    default: false
  endpoint_url:
    description:
      - URL of the S3 API, for example V(http://127.0.0.1:9000) for MinIO. Omit for AWS S3.
      - Custom endpoints use path-style addressing.
    type: str
    aliases: [endpoint, s3_url]
  region:
    description:
      - Region of the bucket (AWS), or the region the endpoint expects (MinIO accepts V(us-east-1)).
    type: str
    default: us-east-1
  access_key:
    description:
      - Access key id. Omit to use boto3's credential chain.
    type: str
    aliases: [aws_access_key_id, access_key_id]
  secret_key:
    description:
      - Secret access key. Omit to use boto3's credential chain.
    type: str
    aliases: [aws_secret_access_key, secret_access_key]
  session_token:
    description:
      - Session token of temporary credentials.
    type: str
    aliases: [aws_session_token]
  profile:
    description:
      - Profile of the AWS configuration files to take credentials and settings from.
    type: str
    aliases: [aws_profile]
  validate_certs:
    description:
      - Verify the endpoint's TLS certificate. Only turn off for throwaway test endpoints.
    type: bool
    default: true
  ca_bundle:
    description:
      - CA bundle (PEM file on the host) that signed the endpoint's certificate.
    type: path
  wait_timeout:
    description:
      - Seconds to keep retrying an endpoint that refuses connections or is not ready yet.
    type: int
    default: 60
  versioning:
    description:
      - Keep every version of every object. V(null) leaves the setting alone.
      - Versioning cannot be turned off again once on, only suspended (V(false)).
    type: bool
  encryption:
    description:
      - Default server-side encryption of new objects. V(null) leaves it alone, V(none) removes it.
    type: str
    choices: [none, AES256, aws:kms]
  encryption_key_id:
    description:
      - KMS key id or ARN with O(encryption=aws:kms).
    type: str
  public_access_block:
    description:
      - Public access block settings. V(true) turns all four on (the safe choice on AWS),
        V(false) all four off; a dict sets them one by one. V(null) leaves them alone.
      - MinIO does not implement this API; leave it unset there.
    type: raw
  policy:
    description:
      - Bucket policy as JSON text or a dict, compared as parsed JSON. V('') or V({}) removes the
        policy. V(null) leaves it alone (unless O(public_read) changes it).
      - Mutually exclusive with O(public_read=true).
    type: raw
  public_read:
    description:
      - B(Let anyone who reaches the endpoint download every object without credentials.)
        Applies an anonymous C(s3:GetObject) policy. For experiment data and models this leaks
        everything; use it only for deliberately public content.
      - With V(false) (the default), a policy this option applied earlier is removed again;
        other policies are left alone.
    type: bool
    default: false
  tags:
    description:
      - Bucket tags. V(null) leaves them alone.
    type: dict
  purge_tags:
    description:
      - Remove tags not listed in O(tags).
    type: bool
    default: true
  lifecycle_expiration:
    description:
      - Expiry rules. Each rule deletes objects under a prefix a number of days after creation.
        V(null) leaves the lifecycle alone; V([]) removes all rules.
    type: list
    elements: dict
    suboptions:
      id:
        description: Rule id.
        type: str
        required: true
      prefix:
        description: Key prefix the rule applies to; empty for the whole bucket.
        type: str
        default: ""
      days:
        description: Days after creation when objects expire.
        type: int
        required: true
  expected_bucket_owner:
    description:
      - Account id that must own the bucket; calls fail when another account owns it.
    type: str
seealso:
  - module: amazon.aws.s3_bucket
  - module: mlops.mlflow.htpasswd
"""

EXAMPLES = r"""
- name: Ensure MLflow's artifact bucket on the host's MinIO, private
  mlops.mlflow.s3_bucket:
    name: mlflow
    endpoint_url: http://127.0.0.1:9000
    access_key: "{{ minio_root_user }}"
    secret_key: "{{ minio_root_password }}"
  no_log: true

- name: Ensure an AWS bucket for artifacts, encrypted, versioned and never public
  mlops.mlflow.s3_bucket:
    name: acme-mlflow-artifacts
    region: eu-west-1
    versioning: true
    encryption: AES256
    public_access_block: true
    tags:
      team: ml-platform
    lifecycle_expiration:
      - id: expire-scratch
        prefix: scratch/
        days: 30

- name: Delete a test bucket and everything in it
  mlops.mlflow.s3_bucket:
    name: mlflow-ci-scratch
    endpoint_url: http://127.0.0.1:9000
    state: absent
    force: true
"""

RETURN = r"""
name:
  description: The bucket name.
  returned: always
  type: str
  sample: mlflow
bucket:
  description: The managed properties as they are after the task (as they would be, in check mode).
  returned: when O(state=present)
  type: dict
  contains:
    versioning:
      description: V(Enabled), V(Suspended) or V(null) when never set.
      type: str
    encryption:
      description: Default encryption algorithm or V(null).
      type: str
    public_access_block:
      description: The four flags, or V(null) when unset or not implemented.
      type: dict
    policy:
      description: The policy as parsed JSON, or V(null).
      type: dict
    tags:
      description: The tags.
      type: dict
    lifecycle:
      description: The lifecycle rules.
      type: list
  sample:
    versioning: Enabled
    encryption: AES256
    public_access_block: null
    policy: null
    tags: {team: ml-platform}
    lifecycle: []
deleted_objects:
  description: Number of objects and versions deleted with O(force=true).
  returned: when O(state=absent)
  type: int
  sample: 0
"""

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mlops.mlflow.plugins.module_utils.s3 import (
    BOTO3_IMPORT_ERROR,
    HAS_BOTO3,
    PUBLIC_ACCESS_BLOCK_KEYS,
    BotoCoreError,
    ClientError,
    NotImplementedByEndpoint,
    S3Error,
    bucket_name_error,
    comparable_lifecycle,
    error_code,
    lifecycle_rules,
    make_client,
    normalize_policy,
    public_read_policy,
    read_property,
    wait_for_endpoint,
)


class BucketManager:
    """Read, compare and write one bucket, one property at a time (amazon.aws's shape)."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.name = module.params["name"]
        self.endpoint = module.params["endpoint_url"] or "AWS S3 (%s)" % module.params["region"]
        owner = module.params["expected_bucket_owner"]
        self.owner = {"ExpectedBucketOwner": owner} if owner else {}
        self.changed = False
        self.before = {}
        self.after = {}

    # ------------------------------------------------------------------ helpers
    def _write(self, call, **kwargs):
        self.changed = True
        if not self.module.check_mode:
            call(Bucket=self.name, **dict(self.owner, **kwargs))

    def _read(self, call, prop, asked):
        try:
            return read_property(call, prop, self.endpoint, Bucket=self.name, **self.owner)
        except NotImplementedByEndpoint as exc:
            if asked:
                raise S3Error("%s, but the task sets it: remove that option for this endpoint" % exc) from None
            return None

    def _record(self, prop, before, after):
        self.before[prop] = before
        self.after[prop] = after

    # ------------------------------------------------------------------ existence
    def exists(self):
        try:
            self.client.head_bucket(Bucket=self.name, **self.owner)
            return True
        except ClientError as exc:
            code = error_code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                return False
            if code in ("403", "AccessDenied"):
                raise S3Error(
                    "access to bucket '%s' on %s is denied: it belongs to another account (bucket "
                    "names are global on AWS) or the credentials lack s3:ListBucket" % (self.name, self.endpoint)
                ) from None
            raise

    def create(self):
        kwargs = {}
        region = self.params["region"]
        if region and region != "us-east-1" and not self.params["endpoint_url"]:
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.changed = True
        if not self.module.check_mode:
            self.client.create_bucket(Bucket=self.name, **kwargs)

    # ------------------------------------------------------------------ properties
    def ensure_versioning(self, wanted, new):
        if wanted is None:
            return
        current = None
        if not new:
            response = self._read(self.client.get_bucket_versioning, "versioning", True) or {}
            current = response.get("Status")
        target = "Enabled" if wanted else ("Suspended" if current else None)
        if current != target:
            self._write(self.client.put_bucket_versioning, VersioningConfiguration={"Status": target})
        self._record("versioning", current, target)

    def ensure_encryption(self, wanted, key_id, new):
        if wanted is None:
            return
        current = None
        if not new:
            response = self._read(self.client.get_bucket_encryption, "encryption", True)
            rules = (response or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
            if rules:
                default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
                current = {"algorithm": default.get("SSEAlgorithm"), "key_id": default.get("KMSMasterKeyID")}
        target = None
        if wanted != "none":
            target = {"algorithm": wanted, "key_id": key_id if wanted == "aws:kms" else None}
        if current != target:
            if target is None:
                self._write(self.client.delete_bucket_encryption)
            else:
                default = {"SSEAlgorithm": wanted}
                if target["key_id"]:
                    default["KMSMasterKeyID"] = target["key_id"]
                self._write(
                    self.client.put_bucket_encryption,
                    ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]},
                )
        self._record("encryption", current, target)

    def ensure_public_access_block(self, wanted, new):
        if wanted is None:
            return
        if isinstance(wanted, bool):
            target = dict((key, wanted) for key in PUBLIC_ACCESS_BLOCK_KEYS)
        else:
            target = dict((key, bool(wanted.get(key, False))) for key in PUBLIC_ACCESS_BLOCK_KEYS)
        current = None
        if not new:
            response = self._read(self.client.get_public_access_block, "public_access_block", True)
            if response:
                config = response.get("PublicAccessBlockConfiguration", {})
                current = dict((key, bool(config.get(key, False))) for key in PUBLIC_ACCESS_BLOCK_KEYS)
        if current != target:
            try:
                self._write(self.client.put_public_access_block, PublicAccessBlockConfiguration=target)
            except ClientError as exc:
                if error_code(exc) in ("NotImplemented", "XNotImplemented", "501"):
                    message = "%s does not implement public access block, but the task sets it" % self.endpoint
                    raise S3Error(message) from None
                raise
        self._record("public_access_block", current, target)

    def ensure_policy(self, policy, public_read, new):
        asked = policy is not None or public_read
        current = None
        if not new:
            response = self._read(self.client.get_bucket_policy, "policy", asked)
            current = normalize_policy(response.get("Policy")) if response else None
        if public_read:
            target = normalize_policy(public_read_policy(self.name))
        elif policy is not None:
            target = normalize_policy(policy)
        elif current is not None and current == normalize_policy(public_read_policy(self.name)):
            # public_read was switched off again: take back the grant this module made.
            target = None
        else:
            return
        if current != target:
            if target is None:
                self._write(self.client.delete_bucket_policy)
            else:
                self._write(self.client.put_bucket_policy, Policy=json.dumps(target))
        self._record("policy", current, target)

    def ensure_tags(self, tags, purge, new):
        if tags is None:
            return
        current = {}
        if not new:
            response = self._read(self.client.get_bucket_tagging, "tags", True)
            current = dict((tag["Key"], tag["Value"]) for tag in (response or {}).get("TagSet", []))
        wanted = dict((str(key), str(value)) for key, value in tags.items())
        target = wanted if purge else dict(current, **wanted)
        if current != target:
            if target:
                tag_set = [{"Key": key, "Value": value} for key, value in sorted(target.items())]
                self._write(self.client.put_bucket_tagging, Tagging={"TagSet": tag_set})
            else:
                self._write(self.client.delete_bucket_tagging)
        self._record("tags", current, target)

    def ensure_lifecycle(self, expiration, new):
        if expiration is None:
            return
        current = []
        if not new:
            response = self._read(self.client.get_bucket_lifecycle_configuration, "lifecycle", True)
            current = comparable_lifecycle((response or {}).get("Rules", []))
        target = lifecycle_rules(expiration)
        if current != target:
            if target:
                self._write(self.client.put_bucket_lifecycle_configuration, LifecycleConfiguration={"Rules": target})
            else:
                self._write(self.client.delete_bucket_lifecycle)
        self._record("lifecycle", current, target)

    # ------------------------------------------------------------------ states
    def present(self):
        new = not self.exists()
        if new:
            self.create()
        self.before["exists"] = not new
        self.after["exists"] = True
        params = self.params
        self.ensure_versioning(params["versioning"], new)
        self.ensure_encryption(params["encryption"], params["encryption_key_id"], new)
        self.ensure_public_access_block(params["public_access_block"], new)
        self.ensure_policy(params["policy"], params["public_read"], new)
        self.ensure_tags(params["tags"], params["purge_tags"], new)
        self.ensure_lifecycle(params["lifecycle_expiration"], new)
        facts = dict((key, value) for key, value in self.after.items() if key != "exists")
        return {"bucket": facts}

    def _versions(self):
        """Every object version and delete marker (plain keys on unversioned buckets)."""
        found = []
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.name, **self.owner)
            for page in pages:
                for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    found.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
        except ClientError as exc:
            if error_code(exc) not in ("NotImplemented", "XNotImplemented", "501"):
                raise
        if not found:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, **self.owner):
                found.extend({"Key": entry["Key"]} for entry in page.get("Contents", []))
        # Unversioned objects are listed with VersionId "null": delete them by key alone.
        return [entry if entry.get("VersionId") not in (None, "null") else {"Key": entry["Key"]} for entry in found]

    def absent(self):
        if not self.exists():
            self._record("exists", False, False)
            return {"deleted_objects": 0}
        self._record("exists", True, False)
        objects = self._versions()
        if objects and not self.params["force"]:
            raise S3Error(
                "bucket '%s' on %s still holds %d object(s) or version(s); delete them first or set "
                "force=true to delete them with the bucket" % (self.name, self.endpoint, len(objects))
            )
        self.changed = True
        if not self.module.check_mode:
            for start in range(0, len(objects), 1000):
                batch = {"Objects": objects[start:start + 1000], "Quiet": True}
                self.client.delete_objects(Bucket=self.name, Delete=batch, **self.owner)
            self.client.delete_bucket(Bucket=self.name, **self.owner)
        return {"deleted_objects": len(objects)}


def argument_spec():
    return dict(
        name=dict(type="str", required=True, aliases=["bucket"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        force=dict(type="bool", default=False),
        endpoint_url=dict(type="str", aliases=["endpoint", "s3_url"]),
        region=dict(type="str", default="us-east-1"),
        access_key=dict(type="str", aliases=["aws_access_key_id", "access_key_id"], no_log=False),
        secret_key=dict(type="str", aliases=["aws_secret_access_key", "secret_access_key"], no_log=True),
        session_token=dict(type="str", aliases=["aws_session_token"], no_log=True),
        profile=dict(type="str", aliases=["aws_profile"]),
        validate_certs=dict(type="bool", default=True),
        ca_bundle=dict(type="path"),
        wait_timeout=dict(type="int", default=60),
        versioning=dict(type="bool"),
        encryption=dict(type="str", choices=["none", "AES256", "aws:kms"]),
        encryption_key_id=dict(type="str"),
        public_access_block=dict(type="raw"),
        policy=dict(type="raw"),
        public_read=dict(type="bool", default=False),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
        lifecycle_expiration=dict(
            type="list",
            elements="dict",
            options=dict(
                id=dict(type="str", required=True),
                prefix=dict(type="str", default=""),
                days=dict(type="int", required=True),
            ),
        ),
        expected_bucket_owner=dict(type="str"),
    )


def check_input(params):
    """Return what is wrong with the input (before any call), or None."""
    problem = bucket_name_error(params["name"])
    if problem:
        return "bucket name '%s' is invalid: %s" % (params["name"], problem)
    if params["public_read"] and params["policy"] not in (None, "", {}):
        return "public_read and policy both set a bucket policy; put the public statement in policy instead"
    if params["encryption_key_id"] and params["encryption"] != "aws:kms":
        return "encryption_key_id needs encryption=aws:kms"
    pab = params["public_access_block"]
    if pab is not None and not isinstance(pab, (bool, dict)):
        return "public_access_block must be true, false or a dict of %s" % ", ".join(PUBLIC_ACCESS_BLOCK_KEYS)
    if isinstance(pab, dict):
        unknown = sorted(set(pab) - set(PUBLIC_ACCESS_BLOCK_KEYS))
        if unknown:
            return "public_access_block has unknown keys %s; allowed: %s" % (
                ", ".join(unknown), ", ".join(PUBLIC_ACCESS_BLOCK_KEYS))
    if isinstance(params["policy"], str) and params["policy"].strip():
        try:
            json.loads(params["policy"])
        except ValueError as exc:
            return "policy is not valid JSON: %s" % exc
    for rule in params["lifecycle_expiration"] or []:
        if rule["days"] < 1:
            return "lifecycle_expiration rule '%s': days must be at least 1" % rule["id"]
    return None


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_if=[("encryption", "aws:kms", ("encryption_key_id",), True)],
    )
    if isinstance(module.params["public_access_block"], str):
        module.params["public_access_block"] = module.boolean(module.params["public_access_block"])
    problem = check_input(module.params)
    if problem:
        module.fail_json(msg=problem)
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(BOTO3_IMPORT_ERROR))

    params = module.params
    try:
        client = make_client(
            endpoint_url=params["endpoint_url"],
            region=params["region"],
            access_key=params["access_key"],
            secret_key=params["secret_key"],
            session_token=params["session_token"],
            profile=params["profile"],
            validate_certs=params["validate_certs"],
            ca_bundle=params["ca_bundle"],
        )
        manager = BucketManager(module, client)
        wait_for_endpoint(client, manager.endpoint, params["wait_timeout"])
        result = manager.present() if params["state"] == "present" else manager.absent()
    except S3Error as exc:
        module.fail_json(msg=str(exc), name=params["name"])
    except (ClientError, BotoCoreError) as exc:
        where = params["endpoint_url"] or "AWS S3"
        message = "S3 call on %s failed for bucket '%s': %s" % (where, params["name"], exc)
        module.fail_json(msg=message, name=params["name"])

    output = dict(changed=manager.changed, name=params["name"], **result)
    if module._diff:
        output["diff"] = {"before": manager.before, "after": manager.after}
    module.exit_json(**output)


if __name__ == "__main__":
    main()
