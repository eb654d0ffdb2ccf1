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
    is not touched. Policies are compared as parsed JSON, not as strings, and lifecycle rules as
    rules, not in the order the server returns them.
  - B(Private by default.) The module never grants public access unless O(public_read=true) or
    your own O(policy) says so.
  - Waits for an endpoint that is still starting (MinIO seconds after its container started). It
    retries for up to O(wait_timeout) seconds, then fails naming the endpoint and the last error.
  - Replaces the one-off C(mc mb) container of hand-made MinIO setups.
author:
  - mlops.mlflow developers (@mlops)
requirements:
  - boto3 >= 1.26 and botocore on the host that runs the module. That is the B(managed host), not
    the controller; on Debian and Ubuntu the package C(python3-boto3), which the
    mlops.mlflow.minio role installs before it calls this module.
notes:
  - The module runs on the managed host and talks to the endpoint from there, so O(endpoint_url)
    is as that host sees it (V(http://127.0.0.1:9000) for a MinIO on the same host). Install
    C(python3-boto3) there first, or delegate the task to a host that has boto3.
  - Some S3-compatible servers do not implement every API (MinIO has no public access block). A
    property the endpoint lacks is ignored (reported as V(null)) while you do not set it, and is
    a clear error naming the feature and the endpoint when you do. O(versioning=false) is the
    exception, because an endpoint without versioning keeps no versions, so it already holds there.
  - Credentials come from O(access_key)/O(secret_key)/O(session_token), else boto3's chain
    (C(AWS_ACCESS_KEY_ID) and friends, O(profile), the instance role).
  - Part of the C(mlops.mlflow.s3) action group, so C(module_defaults) can set the endpoint and
    credentials once with C(group/mlops.mlflow.s3).
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing anything.
  diff_mode:
    support: full
    description: Shows whether the bucket exists and the properties the task manages, before and after.
  idempotent:
    support: full
    description: A second run with the same input changes nothing.
options:
  name:
    description:
      - Bucket name. Checked against S3's naming rules before any call, namely 3 to 63 characters,
        only lowercase letters, digits, dots and hyphens, starting and ending with a letter or
        digit, no two adjacent dots, not shaped like an IP address, no C(xn--) prefix and no
        C(-s3alias) or C(--ol-s3) suffix.
    type: str
    required: true
    aliases: [bucket]
  state:
    description:
      - V(present) creates the bucket if needed and applies the properties.
      - V(absent) deletes it. A bucket that still holds objects or object versions is refused
        unless O(force=true).
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), delete every object, every object version and every delete marker
        first, then the bucket. B(This destroys the data.)
      - Without it, a bucket that is not empty is left alone and the task fails saying so.
    type: bool
    default: false
  endpoint_url:
    description:
      - URL of the S3 API as the managed host reaches it, for example V(http://127.0.0.1:9000) for
        MinIO. Omit for AWS S3.
      - Custom endpoints are addressed path-style (V(http://host:9000/bucket)), which MinIO and
        most S3-compatible servers need.
    type: str
    aliases: [endpoint, s3_url]
  region:
    description:
      - Region of the bucket on AWS (new buckets are created there), or the region the endpoint
        expects (MinIO accepts V(us-east-1) unless configured otherwise).
    type: str
    default: us-east-1
  access_key:
    description:
      - Access key id (MinIO's root user or an access key). Omit to use boto3's credential chain.
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
      - Profile of the AWS configuration files on the managed host to take credentials from.
    type: str
    aliases: [aws_profile]
  validate_certs:
    description:
      - Verify the endpoint's TLS certificate. Only turn off for throwaway test endpoints; use
        O(ca_bundle) for a private CA.
    type: bool
    default: true
  ca_bundle:
    description:
      - CA bundle (PEM file on the managed host) that signed the endpoint's certificate.
    type: path
  wait_timeout:
    description:
      - Seconds to keep asking an endpoint that refuses connections or answers that it is not
        ready yet. V(0) asks once.
      - Wrong credentials and TLS failures are reported at once; waiting would not heal them.
    type: int
    default: 60
  versioning:
    description:
      - Keep every version of every object. V(null) leaves the setting alone.
      - Versioning cannot be turned off again once on, only suspended (V(false)).
      - V(false) on an endpoint that does not implement versioning is unchanged, not an error.
    type: bool
  encryption:
    description:
      - Default server-side encryption of new objects. V(null) leaves it alone, V(none) removes it.
      - AWS S3 encrypts every new object with V(AES256) whatever the bucket says, so use V(none)
        on other endpoints only.
    type: str
    choices: [none, AES256, aws:kms]
  encryption_key_id:
    description:
      - KMS key id or ARN with O(encryption=aws:kms). Omit for the AWS-managed key C(aws/s3).
    type: str
  public_access_block:
    description:
      - Public access block settings. V(true) turns all four on (the safe choice on AWS), V(false)
        all four off; a dict sets them one by one (a flag left out is off). The flags are
        C(BlockPublicAcls), C(IgnorePublicAcls), C(BlockPublicPolicy) and C(RestrictPublicBuckets).
      - V(null) leaves them alone. MinIO does not implement this API; leave it unset there.
    type: raw
  policy:
    description:
      - Bucket policy as JSON text or a dict, compared as parsed JSON (key order, single values
        versus lists and statement order do not matter). V('') or V({}) removes the policy.
        V(null) leaves it alone (unless O(public_read) has to take its own grant back).
      - 'Principals written in two ways compare as one. The anonymous principal C("*") is the
        same as C({"AWS": ["*"]}), which MinIO returns, and a bare 12-digit account id is the same
        as its C(arn:aws:iam::<id>:root), which AWS returns. The policy is written and returned
        with the bare id.'
      - On AWS only credentials of the account that owns the bucket may read or change its
        policy, whatever their permissions. AWS answers other accounts with 405 MethodNotAllowed,
        which fails a task that sets the policy with a message saying so.
      - Mutually exclusive with O(public_read=true).
    type: raw
  public_read:
    description:
      - B(Warning - this lets anyone who can reach the endpoint download every object in the
        bucket without credentials.) It applies an anonymous C(s3:GetObject) policy. For MLflow
        experiment data and models that leaks everything; use it only for deliberately public
        content, and never on a bucket reachable from the internet by accident.
      - On AWS, new buckets block public policies; set O(public_access_block=false) too.
      - With V(false) (the default), a bucket policy identical to the one V(true) applies is
        removed again; any other policy is left alone.
    type: bool
    default: false
  tags:
    description:
      - Bucket tags. V(null) leaves them alone.
    type: dict
  purge_tags:
    description:
      - Remove tags not listed in O(tags). Without it, O(tags) are added or updated only.
    type: bool
    default: true
  lifecycle_expiration:
    description:
      - Expiry rules. Each rule deletes objects under a prefix a number of days after they were
        written. They replace the bucket's whole lifecycle configuration. V(null) leaves the
        lifecycle alone; V([]) removes every rule.
    type: list
    elements: dict
    suboptions:
      id:
        description: Rule id, unique within the bucket.
        type: str
        required: true
      prefix:
        description: Key prefix the rule applies to; empty for the whole bucket.
        type: str
        default: ""
      days:
        description: Days after creation when objects expire (at least 1).
        type: int
        required: true
  expected_bucket_owner:
    description:
      - AWS account id that must own the bucket; every call fails when another account owns it.
    type: str
seealso:
  - module: amazon.aws.s3_bucket
  - module: mlops.mlflow.htpasswd
"""

EXAMPLES = r"""
- name: Ensure the S3 library on the host that runs the module
  ansible.builtin.apt:
    name: python3-boto3
    state: present

- name: Ensure MLflow's artifact bucket on the host's MinIO, private
  mlops.mlflow.s3_bucket:
    name: mlflow
    endpoint_url: http://127.0.0.1:9000
    access_key: "{{ minio_root_user }}"
    secret_key: "{{ minio_root_password }}"
    wait_timeout: 120
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

- name: Set endpoint and credentials once for every bucket task of a play
  module_defaults:
    group/mlops.mlflow.s3:
      endpoint_url: https://s3.internal.example:9000
      ca_bundle: /etc/ssl/certs/internal-ca.pem
      access_key: "{{ vault_s3_access_key }}"
      secret_key: "{{ vault_s3_secret_key }}"
  block:
    - name: Ensure a bucket other accounts may read, with a policy of our own
      mlops.mlflow.s3_bucket:
        name: shared-models
        policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: ["arn:aws:iam::123456789012:root"]}
              Action: s3:GetObject
              Resource: arn:aws:s3:::shared-models/*

- name: Delete a test bucket and everything in it, versions included
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
  description:
    - The bucket's properties after the task (in check mode, as they would be).
    - A property the endpoint does not implement, or the credentials may not read, is V(null)
      (V({}) for O(tags), V([]) for the lifecycle rules) unless the task sets it.
  returned: when O(state=present)
  type: dict
  contains:
    versioning:
      description: V(Enabled), V(Suspended), or V(null) when never turned on.
      type: str
      returned: always
    encryption:
      description: Default encryption, or V(null) when none.
      type: dict
      returned: always
      contains:
        algorithm:
          description: V(AES256) or V(aws:kms).
          type: str
          returned: always
        key_id:
          description: The KMS key, V(null) for AES256 or the AWS-managed key.
          type: str
          returned: always
    public_access_block:
      description: The four flags, or V(null) when unset or not implemented.
      type: dict
      returned: always
    policy:
      description: The policy as parsed (normalized) JSON, or V(null).
      type: dict
      returned: always
    tags:
      description: The tags; V({}) when there are none.
      type: dict
      returned: always
    lifecycle:
      description:
        - The lifecycle rules in the API's shape (C(ID), C(Filter), C(Status), C(Expiration)); V([])
          when there are none.
        - A rule that also does what this module does not manage (transitions, tag filters, a date)
          has an C(Other) key listing those parts; a task with O(lifecycle_expiration) replaces it.
      type: list
      elements: dict
      returned: always
  sample:
    versioning: Enabled
    encryption: {algorithm: AES256, key_id: null}
    public_access_block: null
    policy: null
    tags: {team: ml-platform}
    lifecycle:
      - {ID: expire-scratch, Filter: {Prefix: scratch/}, Status: Enabled, Expiration: {Days: 30}}
deleted_objects:
  description: Number of objects, object versions and delete markers deleted (or that would be, in check mode).
  returned: when O(state=absent)
  type: int
  sample: 0
diff:
  description: Whether the bucket exists and the properties the task manages, before and after.
  returned: in diff mode
  type: dict
  sample:
    before: {exists: true, versioning: null}
    after: {exists: true, versioning: Enabled}
"""

import functools
import json
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.mlops.mlflow.plugins.module_utils.s3 import (
    BOTO3_IMPORT_ERROR,
    DENIED_CODES,
    HAS_BOTO3,
    NO_BUCKET_CODES,
    PUBLIC_ACCESS_BLOCK_KEYS,
    REGION_CODES,
    BotoCoreError,
    ClientError,
    NotImplementedByEndpoint,
    NotOwnerAccount,
    S3Error,
    bucket_name_error,
    comparable_lifecycle,
    describe_error,
    encryption_from,
    encryption_target,
    endpoint_url_error,
    error_code,
    is_not_implemented,
    is_not_owner_account,
    lifecycle_rules,
    make_client,
    normalize_policy,
    not_owner_account_message,
    public_access_block_from,
    public_access_block_target,
    public_read_policy,
    read_property,
    retry_on,
    tags_from,
    tags_target,
    versioning_from,
    wait_for_endpoint,
    wait_until_bucket_visible,
)

# The option(s) that manage each property, for error messages.
OPTION_OF = {
    "versioning": "versioning",
    "encryption": "encryption",
    "public_access_block": "public_access_block",
    "policy": "policy/public_read",
    "tags": "tags",
    "lifecycle": "lifecycle_expiration",
}
DELETE_BATCH = 1000


class BucketManager:
    """Read, compare and write one bucket, one property at a time (amazon.aws's shape).

    ``facts`` holds every property after the run; ``before``/``after`` only what the task manages.
    """

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.name = module.params["name"]
        self.endpoint = endpoint_label(module.params)
        self.on_aws = not module.params["endpoint_url"]
        owner = module.params["expected_bucket_owner"]
        self.owner = {"ExpectedBucketOwner": owner} if owner else {}
        self.changed = False
        self.created = False
        self.readable = True
        self.facts = {}
        self.before = {}
        self.after = {}

    # ------------------------------------------------------------------ helpers
    def _api(self, call, **kwargs):
        """Call the API; right after creating the bucket, wait out AWS's propagation delay."""
        if self.created:
            return retry_on(call, NO_BUCKET_CODES, **kwargs)
        return call(**kwargs)

    def _read(self, call, prop, asked, needs_api=None):
        """The API response for one property, None when unset, unreadable or not yet created.

        ``asked``: the task manages the property, so failing to read it fails the task.
        ``needs_api`` (default ``asked``): the task's wanted state needs the API, so an endpoint
        lacking it fails the task; without it, a missing API reads as an unset property.
        """
        if not self.readable:
            return None
        needs_api = asked if needs_api is None else needs_api
        try:
            return read_property(
                functools.partial(self._api, call),
                prop,
                self.endpoint,
                on_aws=self.on_aws,
                Bucket=self.name,
                **self.owner,
            )
        except NotImplementedByEndpoint as exc:
            if needs_api:
                raise S3Error(
                    "%s, but the task sets %s: remove that option for this endpoint" % (exc, OPTION_OF[prop])
                ) from None
            return None
        except NotOwnerAccount:
            # Like AccessDenied below: a fact the task does not manage is not worth failing for.
            if asked:
                raise
            return None
        except ClientError as exc:
            # The facts of a property the task does not manage are not worth failing for.
            if not asked and error_code(exc) in DENIED_CODES:
                return None
            raise

    def _write(self, prop, call, **kwargs):
        self.changed = True
        if self.module.check_mode:
            return
        try:
            self._api(call, Bucket=self.name, **dict(self.owner, **kwargs))
        except ClientError as exc:
            if is_not_owner_account(exc, prop, self.on_aws):
                raise S3Error(not_owner_account_message(self.endpoint, self.name, "change")) from None
            if is_not_implemented(exc, self.on_aws):
                raise S3Error(
                    "%s does not implement setting bucket %s (%s), but the task sets %s: remove that option "
                    "for this endpoint" % (self.endpoint, prop.replace("_", " "), error_code(exc), OPTION_OF[prop])
                ) from None
            raise

    def _manage(self, prop, current, target):
        self.before[prop] = current
        self.after[prop] = target
        self.facts[prop] = target

    # ------------------------------------------------------------------ existence
    def exists(self):
        try:
            self.client.head_bucket(Bucket=self.name, **self.owner)
            return True
        except ClientError as exc:
            code = error_code(exc)
            if code in NO_BUCKET_CODES:
                return False
            if code in DENIED_CODES:
                raise S3Error(
                    "access to bucket '%s' on %s is denied (%s): another account owns it (names are global "
                    "on AWS: choose another name), expected_bucket_owner does not match, or the credentials "
                    "(access_key/secret_key) lack s3:ListBucket on it" % (self.name, self.endpoint, code)
                ) from None
            if code in REGION_CODES:
                raise S3Error(
                    "bucket '%s' is not in region %s (%s): set region to the bucket's region"
                    % (self.name, self.params["region"], code)
                ) from None
            raise

    def create(self):
        kwargs = {}
        region = self.params["region"]
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.changed = True
        if self.module.check_mode:
            self.readable = False  # nothing to read: the bucket would be new
            return
        try:
            self.client.create_bucket(Bucket=self.name, **kwargs)
        except ClientError as exc:
            code = error_code(exc)
            if code == "BucketAlreadyExists":
                raise S3Error(
                    "bucket name '%s' is taken by another account (bucket names are global on AWS S3): choose "
                    "another name" % self.name
                ) from None
            if code in ("InvalidLocationConstraint", "IllegalLocationConstraintException"):
                raise S3Error(
                    "%s refused to create bucket '%s' in region %s (%s): set region to the one the endpoint "
                    "expects" % (self.endpoint, self.name, region, code)
                ) from None
            if code != "BucketAlreadyOwnedByYou":
                raise
        self.created = True
        wait_until_bucket_visible(self.client, self.name, self.endpoint, **self.owner)

    # ------------------------------------------------------------------ properties
    def ensure_versioning(self):
        wanted = self.params["versioning"]
        # An endpoint without the versioning API keeps no versions: versioning=false already holds there.
        response = self._read(
            self.client.get_bucket_versioning, "versioning", wanted is not None, needs_api=bool(wanted)
        )
        current = versioning_from(response)
        if wanted is None:
            self.facts["versioning"] = current
            return
        target = "Enabled" if wanted else ("Suspended" if current else None)
        if current != target:
            self._write("versioning", self.client.put_bucket_versioning, VersioningConfiguration={"Status": target})
        self._manage("versioning", current, target)

    def ensure_encryption(self):
        wanted = self.params["encryption"]
        current = encryption_from(self._read(self.client.get_bucket_encryption, "encryption", wanted is not None))
        if wanted is None:
            self.facts["encryption"] = current
            return
        target = encryption_target(wanted, self.params["encryption_key_id"])
        if current != target:
            if target is None:
                self._write("encryption", self.client.delete_bucket_encryption)
            else:
                default = {"SSEAlgorithm": target["algorithm"]}
                if target["key_id"]:
                    default["KMSMasterKeyID"] = target["key_id"]
                rules = [{"ApplyServerSideEncryptionByDefault": default}]
                self._write(
                    "encryption", self.client.put_bucket_encryption, ServerSideEncryptionConfiguration={"Rules": rules}
                )
        self._manage("encryption", current, target)

    def ensure_public_access_block(self):
        wanted = self.params["public_access_block"]
        response = self._read(self.client.get_public_access_block, "public_access_block", wanted is not None)
        current = public_access_block_from(response)
        if wanted is None:
            self.facts["public_access_block"] = current
            return
        target = public_access_block_target(wanted)
        if current != target:
            self._write(
                "public_access_block", self.client.put_public_access_block, PublicAccessBlockConfiguration=target
            )
        self._manage("public_access_block", current, target)

    def ensure_policy(self):
        policy, public_read = self.params["policy"], self.params["public_read"]
        response = self._read(self.client.get_bucket_policy, "policy", policy is not None or public_read)
        current = normalize_policy((response or {}).get("Policy"))
        public = normalize_policy(public_read_policy(self.name))
        if public_read:
            target = public
        elif policy is not None:
            target = normalize_policy(policy)
        elif current is not None and current == public:
            target = None  # public_read was switched off again: take back the grant it made
        else:
            self.facts["policy"] = current
            return
        if current != target:
            if target is None:
                self._write("policy", self.client.delete_bucket_policy)
            else:
                self._write("policy", self.client.put_bucket_policy, Policy=json.dumps(target))
        self._manage("policy", current, target)

    def ensure_tags(self):
        wanted = self.params["tags"]
        current = tags_from(self._read(self.client.get_bucket_tagging, "tags", wanted is not None))
        if wanted is None:
            self.facts["tags"] = current
            return
        target = tags_target(current, wanted, self.params["purge_tags"])
        if current != target:
            if target:
                tag_set = [{"Key": key, "Value": value} for key, value in sorted(target.items())]
                self._write("tags", self.client.put_bucket_tagging, Tagging={"TagSet": tag_set})
            else:
                self._write("tags", self.client.delete_bucket_tagging)
        self._manage("tags", current, target)

    def ensure_lifecycle(self):
        wanted = self.params["lifecycle_expiration"]
        response = self._read(self.client.get_bucket_lifecycle_configuration, "lifecycle", wanted is not None)
        current = comparable_lifecycle((response or {}).get("Rules", []))
        if wanted is None:
            self.facts["lifecycle"] = current
            return
        target = lifecycle_rules(wanted)
        if current != target:
            if target:
                config = {"Rules": target}
                self._write("lifecycle", self.client.put_bucket_lifecycle_configuration, LifecycleConfiguration=config)
            else:
                self._write("lifecycle", self.client.delete_bucket_lifecycle)
        self._manage("lifecycle", current, target)

    # ------------------------------------------------------------------ states
    def present(self):
        existed = self.exists()
        self.before["exists"] = existed
        self.after["exists"] = True
        if not existed:
            self.create()
        # Public access block before the policy: on AWS a public policy needs the block lifted first.
        self.ensure_versioning()
        self.ensure_encryption()
        self.ensure_public_access_block()
        self.ensure_policy()
        self.ensure_tags()
        self.ensure_lifecycle()
        return {"bucket": dict(self.facts)}

    def _list_versions(self, paginate):
        """Object versions and delete markers, as Delete entries; plain keys where the endpoint has
        no versioning API. ``paginate=False`` reads one page: enough to know the bucket is not empty."""
        kwargs = dict(Bucket=self.name, **self.owner)
        found = []
        truncated = False
        try:
            if paginate:
                pages = self.client.get_paginator("list_object_versions").paginate(**kwargs)
            else:
                pages = [self.client.list_object_versions(MaxKeys=DELETE_BATCH, **kwargs)]
            for page in pages:
                for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    found.append({"Key": entry["Key"], "VersionId": entry.get("VersionId")})
                truncated = page.get("IsTruncated", False)
        except ClientError as exc:
            if not is_not_implemented(exc, self.on_aws):
                raise
            if paginate:
                pages = self.client.get_paginator("list_objects_v2").paginate(**kwargs)
            else:
                pages = [self.client.list_objects_v2(MaxKeys=DELETE_BATCH, **kwargs)]
            for page in pages:
                found.extend({"Key": entry["Key"]} for entry in page.get("Contents", []))
                truncated = page.get("IsTruncated", False)
        # Objects written before versioning was on are listed with VersionId "null" and deleted with
        # it: by key alone, a versioned bucket would only stack a delete marker on them.
        entries = [entry if entry.get("VersionId") is not None else {"Key": entry["Key"]} for entry in found]
        return entries, bool(found) and truncated

    def _delete_objects(self, objects):
        for start in range(0, len(objects), DELETE_BATCH):
            batch = {"Objects": objects[start : start + DELETE_BATCH], "Quiet": True}
            response = self.client.delete_objects(Bucket=self.name, Delete=batch, **self.owner)
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise S3Error(
                    "%s could not delete %d object(s) of bucket '%s' (first: %s: %s %s); object lock or a "
                    "missing s3:DeleteObjectVersion permission keeps them"
                    % (self.endpoint, len(errors), self.name, first.get("Key"), first.get("Code"), first.get("Message"))
                )

    def absent(self):
        existed = self.exists()
        self.before["exists"] = existed
        self.after["exists"] = False
        if not existed:
            return {"deleted_objects": 0}
        objects, more = self._list_versions(paginate=self.params["force"])
        if objects and not self.params["force"]:
            raise S3Error(
                "bucket '%s' on %s still holds %s%d object(s) or object version(s); empty it first, or set "
                "force=true to delete them with the bucket (this destroys the data)"
                % (self.name, self.endpoint, "at least " if more else "", len(objects))
            )
        self.changed = True
        if not self.module.check_mode:
            self._delete_objects(objects)
            try:
                self.client.delete_bucket(Bucket=self.name, **self.owner)
            except ClientError as exc:
                if error_code(exc) != "BucketNotEmpty":
                    raise
                raise S3Error(
                    "bucket '%s' on %s is not empty after deleting %d object(s): something is still writing to "
                    "it; stop the writers and run again" % (self.name, self.endpoint, len(objects))
                ) from None
        return {"deleted_objects": len(objects)}


def endpoint_label(params):
    """How errors name the endpoint: its URL, or AWS S3 and the region."""
    return params["endpoint_url"] or "AWS S3 (%s)" % params["region"]


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


def normalize_public_access_block(value):
    """public_access_block as None, a bool or a dict of bools; raises ValueError saying why not."""
    allowed = ", ".join(PUBLIC_ACCESS_BLOCK_KEYS)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return boolean(value, strict=True)
        except TypeError:
            raise ValueError(
                "public_access_block must be true, false or a dict of %s (got '%s')" % (allowed, value)
            ) from None
    if not isinstance(value, dict):
        raise ValueError("public_access_block must be true, false or a dict of %s" % allowed)
    unknown = sorted(set(value) - set(PUBLIC_ACCESS_BLOCK_KEYS))
    if unknown:
        raise ValueError("public_access_block has unknown keys %s; allowed: %s" % (", ".join(unknown), allowed))
    try:
        return dict((key, boolean(flag, strict=True)) for key, flag in value.items())
    except TypeError:
        raise ValueError("public_access_block flags must be true or false: %s" % value) from None


def policy_error(policy):
    """Why ``policy`` is not a usable bucket policy, or None."""
    if policy is None or policy == {} or (isinstance(policy, str) and not policy.strip()):
        return None
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError as exc:
            return "policy is not valid JSON: %s" % exc
    if not isinstance(policy, dict):
        return "policy must be a JSON object (a dict with Version and Statement), not %s" % type(policy).__name__
    if "Statement" not in policy:
        return "policy has no Statement"
    statements = policy["Statement"]
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not statements or not all(isinstance(s, dict) for s in statements):
        return "policy's Statement must be a statement (a dict) or a non-empty list of them, not %s" % json.dumps(
            policy["Statement"]
        )
    return None


def blocks_public_policy(pab):
    if pab is True:
        return True
    return isinstance(pab, dict) and bool(pab.get("BlockPublicPolicy") or pab.get("RestrictPublicBuckets"))


def check_input(params):
    """Return what is wrong with the (normalized) input, before any call, or None."""
    problem = bucket_name_error(params["name"])
    if problem:
        return "bucket name '%s' is invalid: %s" % (params["name"], problem)
    problem = endpoint_url_error(params["endpoint_url"])
    if problem:
        return problem
    if params["public_read"] and params["policy"] not in (None, "", {}):
        return "public_read and policy both set the bucket policy; put the public statement in policy instead"
    if params["public_read"] and blocks_public_policy(params["public_access_block"]):
        return (
            "public_read needs public policies allowed, but public_access_block blocks them (BlockPublicPolicy/"
            "RestrictPublicBuckets); set public_access_block=false or drop public_read"
        )
    if params["encryption_key_id"] and params["encryption"] != "aws:kms":
        return "encryption_key_id needs encryption=aws:kms"
    problem = policy_error(params["policy"])
    if problem:
        return problem
    ids = [rule["id"] for rule in params["lifecycle_expiration"] or []]
    for rule in params["lifecycle_expiration"] or []:
        if rule["days"] < 1:
            return "lifecycle_expiration rule '%s': days must be at least 1" % rule["id"]
        if ids.count(rule["id"]) > 1:
            return "lifecycle_expiration rule id '%s' is used twice; ids must be unique" % rule["id"]
    if params["wait_timeout"] < 0:
        return "wait_timeout must be 0 or more seconds"
    if params["ca_bundle"] and not os.path.isfile(params["ca_bundle"]):
        return "ca_bundle %s is not a file on the managed host" % params["ca_bundle"]
    return None


def run(module, client):
    """Wait for the endpoint, then bring the bucket to the wanted state; the module's result."""
    params = module.params
    manager = BucketManager(module, client)
    wait_for_endpoint(client, manager.endpoint, params["wait_timeout"])
    result = manager.present() if params["state"] == "present" else manager.absent()
    result.update(changed=manager.changed, name=params["name"])
    if module._diff:
        result["diff"] = {"before": manager.before, "after": manager.after}
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        params["public_access_block"] = normalize_public_access_block(params["public_access_block"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    problem = check_input(params)
    if problem:
        module.fail_json(msg=problem)
    if not HAS_BOTO3:
        module.fail_json(
            msg=missing_required_lib("boto3 (python3-boto3 on the managed host)"), exception=BOTO3_IMPORT_ERROR
        )

    endpoint = endpoint_label(params)
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
        result = run(module, client)
    except S3Error as exc:
        module.fail_json(msg=str(exc), name=params["name"])
    except (ClientError, BotoCoreError) as exc:
        module.fail_json(msg=describe_error(exc, endpoint, params["name"]), name=params["name"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
