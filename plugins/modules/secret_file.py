#!/usr/bin/python
# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secret_file
short_description: Keep one secret in a file on the host, given, kept or generated once
version_added: 0.2.0
description:
  - Ensures a file holds a secret (a password, an access key) that a container reads, for
    example through Compose's C(secrets:) or a C(*_FILE) variable.
  - The secret is O(value) when given; otherwise the secret already in the file is kept;
    otherwise (no file, or an empty one) a random one of O(length) letters and digits is
    generated once and written. So a secret that nobody chose survives every later run.
  - One task replaces the usual pair of M(ansible.builtin.slurp) and M(ansible.builtin.copy),
    which matters when a playbook keeps many secrets on a host (one round trip each).
  - The file is written atomically (temporary file in the same directory, then rename) and
    its owner, group and mode are enforced on every run.
  - The secret is returned base64-encoded in RV(content), like M(ansible.builtin.slurp) does,
    so the calling play can hand it on; set C(no_log) on the task. The diff never shows it.
  - O(files) keeps several secret files in the same single round trip (a role with three
    secrets pays one module run, not three).
author:
  - mlops.mlflow developers (@mlops)
notes:
  - The directory that holds O(path) must exist; this module does not create it, so a typo
    in the path fails instead of creating a tree.
  - The file's content is the secret exactly, with no trailing newline added.
attributes:
  check_mode:
    support: full
    description: Reports whether the file would change; a generated secret is not written.
  diff_mode:
    support: full
    description: Shows whether the secret and the file's attributes change, never the secret.
  idempotent:
    support: full
    description: >-
      A second run with the same input changes nothing (a generated secret is kept).
options:
  path:
    description:
      - Path of the secret file on the managed host.
      - Exactly one of O(path) and O(files) is required.
    type: path
    aliases: [dest]
  value:
    description:
      - The secret. When empty or omitted, the file's secret is kept, or one is generated.
      - Must not contain a line break.
    type: str
    default: ""
  length:
    description:
      - Length of a generated secret (letters and digits, from Python's C(secrets) module).
    type: int
    default: 32
  owner:
    description:
      - Owner of the file, a name or a numeric id (a container's user need not exist on the
        host).
    type: str
    default: root
  group:
    description:
      - Group of the file, a name or a numeric id.
    type: str
    default: root
  mode:
    description:
      - Permissions of the file, as for M(ansible.builtin.file).
    type: raw
    default: "0400"
  files:
    description:
      - Several secret files, each kept as O(path) would be. An item's O(files[].length),
        O(files[].owner), O(files[].group) and O(files[].mode) default to the top-level options.
      - Every item is checked before any file is written.
      - Exactly one of O(path) and O(files) is required.
    type: list
    elements: dict
    suboptions:
      path:
        description: Path of the secret file.
        type: path
        required: true
      value:
        description: The secret; when empty or omitted, kept or generated as for O(value).
        type: str
        default: ""
      length:
        description: Length of a generated secret; defaults to O(length).
        type: int
      owner:
        description: Owner of the file; defaults to O(owner).
        type: str
      group:
        description: Group of the file; defaults to O(group).
        type: str
      mode:
        description: Permissions of the file; defaults to O(mode).
        type: raw
  pending_marker:
    description:
      - Path of a file that records a change of these secrets the caller has not applied yet,
        for example a service to recreate or a database role to alter with the new secret.
      - Created empty (mode 0600) before any secret file changes. While it exists, RV(pending) is
        true, so a run that follows an interrupted one (the secret written, the service not yet
        recreated) still applies the change. The caller removes it once the change is applied.
      - Not created in check mode; RV(pending) then says whether it would be.
    type: path
    version_added: 0.3.0
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.slurp
"""

EXAMPLES = r"""
- name: Ensure the database password file (given, else kept, else generated once)
  mlops.mlflow.secret_file:
    path: /opt/mlflow/secrets/postgres_password
    value: "{{ postgres_password | default('') }}"
  register: db_password
  no_log: true

- name: Use the password in the play
  ansible.builtin.set_fact:
    mlflow_db_password: "{{ postgres_password if db_password.source == 'given' else db_password.content | b64decode }}"
  no_log: true

- name: A secret a container user reads (uid 10001, which need not exist on the host)
  mlops.mlflow.secret_file:
    path: /opt/mlflow/secrets/mlflow_s3_secret_key
    value: "{{ vault_s3_secret_key }}"
    owner: "10001"
  no_log: true

- name: The three secret files of a service in one round trip
  mlops.mlflow.secret_file:
    owner: "10001"
    files:
      - path: /opt/mlflow/secrets/mlflow_db_password
        value: "{{ vault_db_password }}"
      - path: /opt/mlflow/secrets/mlflow_s3_access_key
      - path: /opt/mlflow/secrets/mlflow_s3_secret_key
  register: service_secrets
  no_log: true
"""

RETURN = r"""
path:
  description: Path of the file.
  returned: when O(path) is given
  type: str
  sample: /opt/mlflow/secrets/postgres_password
content:
  description:
    - The secret now in the file (in check mode, the one that would be), base64-encoded as
      M(ansible.builtin.slurp) returns it. Decode with the C(b64decode) filter.
    - Not returned for a given O(value), which the caller already has (and which Ansible
      masks wherever it appears in a result).
  returned: when O(path) is given and RV(source) is V(kept) or V(generated)
  sample: c2VjcmV0
  type: str
source:
  description:
    - Where the secret came from. V(given) is O(value); V(kept) is the file's secret;
      V(generated) is a new random secret.
  returned: when O(path) is given
  type: str
  sample: kept
secret_changed:
  description: Whether the secret itself changed (not only the file's attributes); with O(files), of any file.
  returned: always
  type: bool
  sample: false
pending:
  description:
    - Whether a secret change awaits the caller (O(pending_marker) exists, or a secret changed in
      this run). False without O(pending_marker).
  returned: always
  type: bool
  sample: false
files:
  description:
    - With O(files), one result per item, in order, each with RV(path), RV(source),
      RV(secret_changed), C(changed) and (when kept or generated) RV(content).
  returned: when O(files) is given
  type: list
  elements: dict
  sample:
    - path: /opt/mlflow/secrets/mlflow_s3_access_key
      source: kept
      secret_changed: false
      changed: false
      content: c2VjcmV0
"""

import base64
import os
import secrets
import string

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.mlops.mlflow.plugins.module_utils.files import (
    mode_error,
    move_into_place,
    owner_group_error,
    read_text,
    set_attributes,
    write_temp,
)

ALPHABET = string.ascii_letters + string.digits
MIN_LENGTH = 16


FILE_OPTIONS = ("value", "length", "owner", "group", "mode")


def argument_spec():
    return dict(
        path=dict(type="path", aliases=["dest"]),
        value=dict(type="str", default="", no_log=True),
        length=dict(type="int", default=32),
        owner=dict(type="str", default="root"),
        group=dict(type="str", default="root"),
        mode=dict(type="raw", default="0400"),
        files=dict(
            type="list",
            elements="dict",
            options=dict(
                path=dict(type="path", required=True),
                value=dict(type="str", default="", no_log=True),
                length=dict(type="int"),
                owner=dict(type="str"),
                group=dict(type="str"),
                mode=dict(type="raw"),
            ),
        ),
        pending_marker=dict(type="path"),
    )


def file_specs(params):
    """One dict (path, value, length, owner, group, mode) per file; list items inherit unset options."""
    if params["files"] is None:
        return [dict((key, params[key]) for key in ("path", *FILE_OPTIONS))]
    specs = []
    for item in params["files"]:
        spec = dict(path=item["path"], value=item["value"])
        for key in ("length", "owner", "group", "mode"):
            spec[key] = params[key] if item[key] is None else item[key]
        specs.append(spec)
    return specs


def generate(length):
    return "".join(secrets.choice(ALPHABET) for _position in range(length))


def choose(value, current, length):
    """(secret, source): given, else kept, else generated."""
    if value:
        return value, "given"
    if current is not None:
        return current, "kept"
    return generate(length), "generated"


def check(module, spec):
    """Fail on input that cannot make a good secret file, before any file is touched."""
    path = spec["path"]
    if spec["length"] < MIN_LENGTH:
        module.fail_json(msg="length must be at least %d, got %d" % (MIN_LENGTH, spec["length"]), path=path)
    if "\n" in spec["value"] or "\r" in spec["value"]:
        module.fail_json(msg="value must not contain a line break", path=path)
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        module.fail_json(msg="the directory %s does not exist; create it first" % directory, path=path)
    error = owner_group_error(spec["owner"], spec["group"]) or mode_error(spec["mode"])
    if error:
        module.fail_json(msg=error, path=path)


def plan(module, spec):
    """(current, secret, source) for one file: what it holds (None when absent or empty: an empty
    file holds no secret) and the secret it is to hold, chosen once for the whole run."""
    try:
        current = read_text(spec["path"]) or None
    except (OSError, IOError, ValueError, UnicodeError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (spec["path"], to_native(exc)), path=spec["path"])
    secret, source = choose(spec["value"], current, spec["length"])
    return current, secret, source


def mark_pending(module, marker, plans):
    """Create the marker before any secret changes; return whether a change awaits the caller."""
    if not marker:
        return False
    if os.path.lexists(marker):
        return True
    if all(secret == current for current, secret, _source in plans):
        return False
    if not module.check_mode:
        try:
            move_into_place(module, write_temp(os.path.dirname(marker), ".secret_file.", ""), marker)
        except Exception as exc:  # atomic_move raises a bare Exception on some of its fallbacks
            module.fail_json(msg="cannot write %s: %s" % (marker, to_native(exc)))
    return True


def ensure(module, spec, planned):
    """Bring one file to its planned secret and attributes; return its result (with changed and diff)."""
    path = spec["path"]
    current, secret, source = planned
    secret_changed = secret != current
    diff = {
        "before": {"path": path, "state": "absent" if current is None else "present", "secret": "(hidden)"},
        "after": {
            "path": path,
            "state": "present",
            "secret": "(hidden, changed)" if secret_changed else "(hidden)",
        },
    }
    changed = secret_changed
    if secret_changed and not module.check_mode:
        try:
            move_into_place(module, write_temp(os.path.dirname(path), ".secret_file.", secret), path)
        except Exception as exc:  # atomic_move raises a bare Exception on some of its fallbacks
            module.fail_json(msg="cannot write %s: %s" % (path, to_native(exc)), path=path)
    if os.path.exists(path):
        # Compares (and in check mode only reports) owner, group and mode; adds them to the diff.
        changed = set_attributes(module, path, spec["owner"], spec["group"], spec["mode"], changed, diff)
    elif module.check_mode:
        diff["after"].update(owner=spec["owner"], group=spec["group"], mode=spec["mode"])

    result = dict(changed=changed, path=path, source=source, secret_changed=secret_changed, diff=diff)
    if source != "given":
        result["content"] = to_native(base64.b64encode(to_bytes(secret, errors="surrogate_or_strict")))
    return result


def run(module):
    specs = file_specs(module.params)
    paths = [spec["path"] for spec in specs]
    duplicates = sorted(set(path for path in paths if paths.count(path) > 1))
    if duplicates:
        module.fail_json(msg="files names the same path more than once: %s" % ", ".join(duplicates))
    for spec in specs:
        check(module, spec)
    marker = module.params["pending_marker"]
    if marker and not os.path.isdir(os.path.dirname(marker) or "."):
        module.fail_json(msg="the directory of pending_marker %s does not exist; create it first" % marker)
    plans = [(spec, plan(module, spec)) for spec in specs]
    pending = mark_pending(module, marker, [planned for _spec, planned in plans])
    results = [ensure(module, spec, planned) for spec, planned in plans]
    if module.params["files"] is None:
        module.exit_json(pending=pending, **results[0])
    diffs = [result.pop("diff") for result in results]
    module.exit_json(
        changed=any(result["changed"] for result in results),
        secret_changed=any(result["secret_changed"] for result in results),
        pending=pending,
        files=results,
        diff=diffs,
    )


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("path", "files")],
        required_one_of=[("path", "files")],
        supports_check_mode=True,
    )
    run(module)


if __name__ == "__main__":
    main()
