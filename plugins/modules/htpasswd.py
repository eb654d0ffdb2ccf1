#!/usr/bin/python
# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: htpasswd
short_description: Manage users in an htpasswd file, as nginx reads it
version_added: 0.1.0
description:
  - Adds, updates and removes users in an htpasswd file for nginx's (or Apache's) basic auth.
  - An entry whose hash verifies against the given password and uses the requested O(scheme)
    is left alone; a new password or another scheme rewrites only that line. Other entries,
    comments, blank lines and their order are kept, and so is the comment nginx allows after
    an entry's hash (C(name:hash:comment)).
  - A file in which no entry changes is left as it is, even without a final newline or with
    CRLF line endings. A file that changes is written with LF line endings and a final newline.
  - Replacing the whole user set is one task, with O(users) and O(exclusive=true).
  - Hashing happens on the B(controller) (this module is an action plugin, like
    M(ansible.builtin.template)), with libpass, the maintained fork of passlib. The managed
    host needs only python3. The file is written with M(ansible.builtin.copy) semantics, so
    the write is atomic (temporary file and rename) and the file's attributes are enforced.
    A file in which no entry changes is not written; its attributes are enforced with
    M(ansible.builtin.file), so such a run costs two module runs on the host, the read and that one.
  - Passwords and hashes never appear in the task result or the diff; the diff lists user
    names and which passwords changed.
author:
  - mlops.mlflow developers (@mlops)
requirements:
  - libpass >= 1.9 (import name C(passlib)) on the controller.
  - bcrypt >= 4.1 on the controller for O(scheme=bcrypt).
notes:
  - B(Choosing the scheme.) nginx verifies the hash on every request, and the MLflow client
    makes many API calls (a C(log_batch) per step, polling, artifact listings). The cost of
    the hash is therefore paid on every request and blocks an nginx worker while it runs.
    The module's default, V(sha512_crypt) with 5000 rounds (glibc's default), costs a few
    milliseconds of CPU per request; V(bcrypt) at cost 10 tens of milliseconds (higher
    O(rounds) multiply it). V(apr_md5_crypt) is the cheapest and the weakest against offline
    cracking of a stolen file. nginx's CPU time per request, measured on 2 cores, is 1.2 ms with
    V(apr_md5_crypt) (about 1 ms of it TLS and proxying), 4.8 ms with V(sha512_crypt), 5.0 ms
    with V(sha256_crypt), 68 ms with V(bcrypt). Measured through nginx in front of MLflow
    on 2 cores, as a share of the API's direct throughput (three runs), V(apr_md5_crypt) 0.90-1.03,
    V(sha512_crypt) 0.84-0.91, V(sha256_crypt) 0.72-0.85, V(bcrypt) 0.29-0.34; the
    C(mlops.mlflow.nginx_auth) role defaults to V(apr_md5_crypt) for that reason.
  - libpass's own default rounds for sha512_crypt (656000) would cost hundreds of
    milliseconds per request; this module does not use it.
  - Bcrypt hashes are written as C($2y$), which Apache's tools and nginx accept;
    C($2b$)/C($2a$) entries written by other tools are verified as they are.
  - A file that does not exist yet is first created empty with its final O(mode), O(owner) and
    O(group) (with M(ansible.builtin.file)) and only then filled, so the hashes are never in a file
    more open than asked for (M(ansible.builtin.copy) alone would create it as the umask allows,
    usually readable by everyone, and set the attributes afterwards). An O(owner) or O(group)
    unknown on the host therefore fails before any hash is written, and leaves no file. When the
    write itself fails after that (a full disk), the empty file is removed again, since nginx would
    refuse every user with it.
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Shows user names before and after, never passwords or hashes.
  idempotent:
    support: full
    description: A second run with the same input changes nothing.
  action:
    support: full
    description: Runs on the controller and writes the file through M(ansible.builtin.copy) (a file whose
      content stays, through M(ansible.builtin.file)).
options:
  path:
    description:
      - Path of the htpasswd file on the managed host.
    type: path
    required: true
    aliases: [dest]
  name:
    description:
      - User to manage. Must not be empty or contain C(:) or a line break.
      - Mutually exclusive with O(users).
    type: str
    aliases: [username]
  password:
    description:
      - Password of O(name). Required when O(state=present).
    type: str
  state:
    description:
      - Whether O(name) should be in the file.
    type: str
    choices: [present, absent]
    default: present
  users:
    description:
      - Several users in one task. Mutually exclusive with O(name), O(password) and O(state).
    type: list
    elements: dict
    suboptions:
      name:
        description: User name.
        type: str
        required: true
      password:
        description: Password; required when O(users[].state=present).
        type: str
      state:
        description: Whether the user should be in the file.
        type: str
        choices: [present, absent]
        default: present
  exclusive:
    description:
      - With O(users), remove every user of the file that is not listed.
    type: bool
    default: false
  scheme:
    description:
      - Hash scheme for new and changed entries. See the notes for the trade-off.
    type: str
    choices: [apr_md5_crypt, bcrypt, sha256_crypt, sha512_crypt]
    default: sha512_crypt
    aliases: [crypt_scheme, hash_scheme]
  rounds:
    description:
      - Cost of the hash. Defaults to 5000 for V(sha512_crypt) and V(sha256_crypt) and 10 for
        V(bcrypt); V(apr_md5_crypt) has none.
      - When set, existing entries with other rounds are rehashed.
    type: int
  update_password:
    description:
      - V(always) rewrites an entry whose hash does not match the password or scheme.
      - V(on_create) sets passwords only for new users.
    type: str
    choices: [always, on_create]
    default: always
  create:
    description:
      - Create the file when it does not exist. With V(false), a missing file is an error.
    type: bool
    default: true
  mode:
    description:
      - Permissions of the file, as for M(ansible.builtin.copy).
      - With V(null), an existing file keeps its mode and a new one is V(0600).
    type: raw
    default: "0640"
  owner:
    description:
      - Owner of the file.
    type: str
  group:
    description:
      - Group of the file; for nginx on Debian, C(www-data).
    type: str
seealso:
  - module: community.general.htpasswd
    description: >-
      The module this one improves on (verifies hashes and schemes, writes atomically,
      works with bcrypt >= 4.1).
"""

EXAMPLES = r"""
- name: Ensure alice can log in
  mlops.mlflow.htpasswd:
    path: /etc/nginx/mlflow.htpasswd
    name: alice
    password: "{{ vault_alice_password }}"
    owner: root
    group: www-data
    mode: "0640"

- name: Replace the whole user set in one idempotent task
  mlops.mlflow.htpasswd:
    path: /etc/nginx/mlflow.htpasswd
    users:
      - name: alice
        password: "{{ vault_alice_password }}"
      - name: ci-bot
        password: "{{ vault_ci_password }}"
    exclusive: true
    group: www-data

- name: Remove a user
  mlops.mlflow.htpasswd:
    path: /etc/nginx/mlflow.htpasswd
    name: bob
    state: absent

- name: Use bcrypt, accepting its cost on every request
  mlops.mlflow.htpasswd:
    path: /etc/nginx/mlflow.htpasswd
    name: alice
    password: "{{ vault_alice_password }}"
    scheme: bcrypt
    rounds: 10
"""

RETURN = r"""
path:
  description: Path of the file.
  returned: always
  type: str
  sample: /etc/nginx/mlflow.htpasswd
users_added:
  description: Users that were (or in check mode would be) added.
  returned: always
  type: list
  elements: str
  sample: [carol]
users_updated:
  description: Users whose hash was (or would be) rewritten, for a new password or scheme.
  returned: always
  type: list
  elements: str
  sample: [alice]
users_removed:
  description:
    - Users that were (or would be) removed.
    - Also a user whose extra lines were (or would be) dropped from a file that listed the user
      more than once (nginx reads only the first); that user stays, with its first line.
  returned: always
  type: list
  elements: str
  sample: [bob]
mode:
  description: Permissions of the file after the task.
  returned: when the file exists
  type: str
  sample: "0640"
owner:
  description: Owner of the file after the task.
  returned: when the file exists
  type: str
  sample: root
group:
  description: Group of the file after the task.
  returned: when the file exists
  type: str
  sample: www-data
"""
