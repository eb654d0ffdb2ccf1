#!/usr/bin/python
# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: compose_service
short_description: Keep one service's file in a host's Compose project and the service up
version_added: 0.3.0
description:
  - A host's Compose project is a directory of files, one per service, named
    C(<service>.compose.yml). This module keeps the file of one service (O(service)) with the
    content O(definition) and brings that service up, healthy, with C(docker compose up --wait).
  - A changed definition is first checked together with every other service file of the project
    (C(docker compose config)) and only then replaces the old file, atomically. A definition that
    would break the project, or that does not define O(service), is refused and the old file stays.
    A new file is never readable beyond its owner before O(mode) is applied.
  - On an unchanged definition it runs C(docker compose up), which starts or recreates the
    service only when it is not running as defined (stopped, removed, or its image changed).
    When that changed nothing and every container of the project is running and, where it has a
    health check, healthy (C(docker compose ps)), the task ends there. Otherwise it runs
    C(docker compose up --wait), as for a changed definition. C(--wait) spends about half a
    second even on a service that is already healthy.
  - One task, one round trip to the host, does what M(ansible.builtin.find),
    M(ansible.builtin.copy) with C(validate) and M(community.docker.docker_compose_v2) did in three;
    the result of C(up) is read with community.docker's own Compose event parser.
author:
  - mlops.mlflow developers (@mlops)
requirements:
  - Docker Compose v2.19 or later (C(docker compose)) on the managed host.
notes:
  - O(project_dir) must exist; this module does not create it, so a typo in the path fails
    instead of creating a tree. In check mode a missing O(project_dir) reports a change.
  - Other services of the project are started too when O(service) depends on them, as
    C(docker compose up) does.
  - Images are pulled only when missing and never built; build them beforehand.
  - When the service does not become healthy within O(wait_timeout), the task fails with the
    service's last O(log_lines) log lines.
attributes:
  check_mode:
    support: full
    description: >-
      Reports whether the file would change; with an unchanged file, runs C(docker compose up
      --dry-run) to report whether the service would be started or recreated.
  diff_mode:
    support: full
    description: >-
      Shows the file's content before and after as text (one line each in any callback), and
      its owner, group and mode where they differ.
  idempotent:
    support: full
    description: A second run with the same input changes nothing.
options:
  project_dir:
    description:
      - The Compose project's directory on the managed host. Relative paths in the definitions
        (secret files, for example) are relative to it.
    type: path
    required: true
  project_name:
    description:
      - The Compose project name (C(docker compose -p)).
    type: str
    required: true
  service:
    description:
      - Name of the service. Its file is C(<project_dir>/<service>.compose.yml), and this service
        is the one brought up.
    type: str
    required: true
  definition:
    description:
      - Content of the service's file, a Compose file defining at least O(service).
    type: str
    required: true
  recreate:
    description:
      - V(auto) recreates the container when its definition or image changed; V(always)
        recreates it on this run (for example after a secret file it reads changed).
    type: str
    choices: [auto, always]
    default: auto
  pull:
    description:
      - When to pull the service's images, as C(docker compose up --pull).
    type: str
    choices: [always, missing, never]
    default: missing
  wait_timeout:
    description:
      - Seconds to wait for the service to be running and healthy.
    type: int
    default: 120
  log_lines:
    description:
      - Number of the service's last log lines to show when it does not become healthy.
    type: int
    default: 50
  owner:
    description:
      - Owner of the service file, a name or a numeric id.
    type: str
    default: root
  group:
    description:
      - Group of the service file, a name or a numeric id.
    type: str
    default: root
  mode:
    description:
      - Permissions of the service file, as for M(ansible.builtin.file).
    type: raw
    default: "0640"
seealso:
  - module: community.docker.docker_compose_v2
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Ensure PostgreSQL is defined in the host's project, up and healthy
  mlops.mlflow.compose_service:
    project_dir: /opt/mlflow
    project_name: mlflow
    service: postgres
    definition: "{{ lookup('ansible.builtin.template', 'postgres.compose.yml.j2') }}"
    wait_timeout: 180

- name: Recreate the service after a secret file it reads changed
  mlops.mlflow.compose_service:
    project_dir: /opt/mlflow
    project_name: mlflow
    service: minio
    definition: "{{ lookup('ansible.builtin.template', 'minio.compose.yml.j2') }}"
    recreate: always
"""

RETURN = r"""
path:
  description: Path of the service file.
  returned: always
  type: str
  sample: /opt/mlflow/postgres.compose.yml
files:
  description: The project's service files, in the order given to C(docker compose).
  returned: always
  type: list
  elements: str
  sample: [minio.compose.yml, postgres.compose.yml]
file_changed:
  description: Whether the service file's content changed (or, in check mode, would change).
  returned: always
  type: bool
  sample: false
service_changed:
  description: Whether C(docker compose up) created, recreated or started a container.
  returned: always
  type: bool
  sample: false
actions:
  description: What C(docker compose up) did, as community.docker.docker_compose_v2 reports it.
  returned: always
  type: list
  elements: dict
  sample: [{what: container, id: mlflow-postgres-1, status: Recreate}]
logs:
  description: The service's last O(log_lines) log lines.
  returned: on failure to become healthy
  type: list
  elements: str
"""

import fnmatch
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.community.docker.plugins.module_utils.compose_v2 import (
    emit_warnings,
    extract_actions,
    has_changes,
    parse_events,
)

from ansible_collections.mlops.mlflow.plugins.module_utils.files import (
    move_into_place,
    read_text,
    set_attributes,
    write_temp,
)

SUFFIX = ".compose.yml"


def argument_spec():
    return dict(
        project_dir=dict(type="path", required=True),
        project_name=dict(type="str", required=True),
        service=dict(type="str", required=True),
        definition=dict(type="str", required=True),
        recreate=dict(type="str", choices=["auto", "always"], default="auto"),
        pull=dict(type="str", choices=["always", "missing", "never"], default="missing"),
        wait_timeout=dict(type="int", default=120),
        log_lines=dict(type="int", default=50),
        owner=dict(type="str", default="root"),
        group=dict(type="str", default="root"),
        mode=dict(type="raw", default="0640"),
    )


def containers(ps_output):
    """The containers `docker compose ps --format json` lists: one JSON object per line (Compose
    2.21 and later) or one JSON list (before). None when the output is neither."""
    text = ps_output.strip()
    try:
        if text.startswith("["):
            listed = json.loads(text)
        else:
            listed = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        return None
    return listed if all(isinstance(item, dict) for item in listed) else None


def all_ready(listed, service):
    """Whether `up --wait` would have nothing to wait for: the service has a container, and every
    container listed is running and healthy (or has no health check)."""
    return (
        listed is not None
        and any(item.get("Service") == service for item in listed)
        and all(item.get("State") == "running" and item.get("Health", "") in ("", "healthy") for item in listed)
    )


def project_files(project_dir, service):
    """The project's service files (names, sorted): the others found on disk, and this one."""
    own = service + SUFFIX
    others = [
        name
        for name in os.listdir(project_dir)
        if fnmatch.fnmatchcase(name, "*" + SUFFIX) and name != own and os.path.isfile(os.path.join(project_dir, name))
    ]
    return sorted([*others, own])


def compose_args(params, files):
    args = ["compose", "--ansi", "never", "--progress", "plain"]
    args += ["--project-directory", params["project_dir"], "--project-name", params["project_name"]]
    for name in files:
        args += ["--file", name]
    return args


def up_args(params, files, dry_run, wait=True):
    args = compose_args(params, files)
    args += ["up", "--detach", "--no-color", "--quiet-pull", "--pull", params["pull"], "--no-build"]
    if wait:
        args += ["--wait", "--wait-timeout", str(params["wait_timeout"])]
    if params["recreate"] == "always":
        args.append("--force-recreate")
    if dry_run:
        args.append("--dry-run")
    return [*args, "--", params["service"]]


class ComposeService(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.docker = module.get_bin_path("docker", required=True)

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, path=self.path, **kwargs)

    @property
    def path(self):
        return os.path.join(self.params["project_dir"], self.params["service"] + SUFFIX)

    def docker_compose(self, args):
        return self.module.run_command([self.docker, *args], cwd=self.params["project_dir"])

    def write_validated(self, files):
        """Write the definition beside the old file, check the whole project with it, then rename."""
        params = self.params
        tmp = write_temp(params["project_dir"], "." + params["service"] + ".", params["definition"], suffix=".tmp")
        try:
            candidate = [os.path.basename(tmp) if name == params["service"] + SUFFIX else name for name in files]
            rc, stdout, stderr = self.docker_compose([*compose_args(params, candidate), "config", "--services"])
            others = ", ".join(name for name in files if name != params["service"] + SUFFIX) or "no other service file"
            if rc != 0:
                self.fail(
                    "the definition of %s does not make a valid project with %s; the old file stays"
                    % (params["service"], others),
                    rc=rc,
                    stdout=stdout,
                    stderr=stderr,
                )
            if params["service"] not in stdout.split():
                self.fail(
                    "the definition does not define the service %s (the project with %s has: %s); the old file stays"
                    % (params["service"], others, ", ".join(stdout.split()) or "no service"),
                )
            move_into_place(self.module, tmp, self.path)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)

    def ready(self, files):
        """Whether every container of the project is running and healthy (docker compose ps)."""
        args = [*compose_args(self.params, files), "ps", "--all", "--format", "json"]
        rc, stdout, _stderr = self.docker_compose(args)
        return rc == 0 and all_ready(containers(stdout), self.params["service"])

    def logs(self, files):
        args = [*compose_args(self.params, files), "logs", "--no-color", "--tail", str(self.params["log_lines"])]
        _rc, stdout, stderr = self.docker_compose([*args, self.params["service"]])
        return (stdout or stderr).splitlines()

    def run(self):
        params = self.params
        check_mode = self.module.check_mode
        for name in ("wait_timeout", "log_lines"):
            if params[name] < 1:
                self.fail("%s must be at least 1, got %d" % (name, params[name]))
        if not os.path.isdir(params["project_dir"]):
            if check_mode:
                # A first run in check mode: the task that creates the directory did not.
                self.module.exit_json(
                    changed=True, path=self.path, files=[], file_changed=True, service_changed=True, actions=[]
                )
            self.fail("the project directory %s does not exist; create it first" % params["project_dir"])
        try:
            current = read_text(self.path)
            files = project_files(params["project_dir"], params["service"])
        except (OSError, IOError, ValueError, UnicodeError) as exc:
            self.fail("cannot read the project in %s: %s" % (params["project_dir"], to_native(exc)))

        file_changed = current != params["definition"]
        # Two diffs: the content as text, which every callback prints line by line (a dict's
        # strings would be printed as one JSON string each), then the attributes that differ.
        content_diff = {
            "before_header": self.path if current is not None else "%s (absent)" % self.path,
            "after_header": self.path,
            "before": current if current is not None else "",
            "after": params["definition"],
        }
        attributes_diff = {"before": {}, "after": {}}
        if file_changed and not check_mode:
            try:
                self.write_validated(files)
            except Exception as exc:  # atomic_move raises a bare Exception on some of its fallbacks
                self.fail("cannot write %s: %s" % (self.path, to_native(exc)))
        changed = file_changed
        if os.path.exists(self.path):
            changed = set_attributes(
                self.module, self.path, params["owner"], params["group"], params["mode"], changed, attributes_diff
            )
        diff = [content_diff] + ([attributes_diff] if attributes_diff["after"] else [])

        result = dict(path=self.path, files=files, file_changed=file_changed, service_changed=False, actions=[])
        if file_changed and check_mode:
            # The new definition is not on disk: `up --dry-run` would judge the old one.
            result["service_changed"] = True
        else:
            started = []  # what an `up` without --wait did before an `up --wait` was needed
            if not (file_changed or check_mode or params["recreate"] == "always"):
                rc, stdout, stderr = self.docker_compose(up_args(params, files, dry_run=False, wait=False))
                events = parse_events(stderr, warn_function=self.module.warn, nonzero_rc=rc != 0)
                if rc == 0 and not has_changes(events, ignore_service_pull_events=True) and self.ready(files):
                    emit_warnings(events, self.module.warn)
                    self.module.exit_json(changed=changed, diff=diff, **result)
                started = [] if rc != 0 else events
            args = up_args(params, files, dry_run=check_mode)
            rc, stdout, stderr = self.docker_compose(args)
            events = parse_events(stderr, dry_run=check_mode, warn_function=self.module.warn, nonzero_rc=rc != 0)
            emit_warnings(events, self.module.warn)
            result["actions"] = extract_actions(started + events)
            result["service_changed"] = has_changes(started + events, ignore_service_pull_events=True)
            if rc != 0:
                result.pop("path")
                reason = (stderr.strip().splitlines() or ["no output"])[-1]
                # Not always a timeout: a missing image or a taken port fails at once, unhealthy or not.
                self.fail(
                    "%s did not come up healthy (docker compose up --wait, timeout %ds, exited %d: %s)"
                    % (params["service"], params["wait_timeout"], rc, reason),
                    cmd=" ".join([self.docker, *args]),
                    rc=rc,
                    stdout=stdout,
                    stderr=stderr,
                    logs=self.logs(files),
                    **result,
                )
        result["changed"] = changed or result["service_changed"]
        self.module.exit_json(diff=diff, **result)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    ComposeService(module).run()


if __name__ == "__main__":
    main()
