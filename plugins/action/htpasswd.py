# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin behind mlops.mlflow.htpasswd: hashing on the controller, writing through copy.

The managed host needs only python3: the current file is read with slurp, the new content is
computed here with libpass (verifying existing hashes instead of rewriting them), and written
with ansible.builtin.copy, which gives an atomic write, file attributes and check mode; a file
whose content stays only has its attributes set, with ansible.builtin.file. A file
that does not exist yet is first created empty with its final attributes (ansible.builtin.file),
so that the hashes never sit in a file more open than asked for. Neither passwords nor hashes
appear in the result or the diff: the diff lists user names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import posixpath

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.mlops.mlflow.plugins.module_utils.htpasswd import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    HtpasswdError,
    content_after,
    parse,
    plan,
    wanted_users,
)


def _given(args):
    """The arguments that have a value (a module's defaults apply to the others)."""
    return dict((k, v) for k, v in args.items() if v is not None)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, params = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC,
            mutually_exclusive=MUTUALLY_EXCLUSIVE,
            required_one_of=REQUIRED_ONE_OF,
        )
        path = params["path"]
        try:
            users = wanted_users(params)
            current = self._read(path, task_vars)
            if current is None and not params["create"]:
                raise HtpasswdError("%s does not exist and create=false; create it or set create=true" % path)
            lines = parse(current or "", path)
            new_lines, added, updated, removed = plan(
                lines,
                users,
                scheme=params["scheme"],
                rounds=params["rounds"],
                update_password=params["update_password"],
                exclusive=params["exclusive"],
            )
        except HtpasswdError as exc:
            raise AnsibleActionFail(to_text(exc)) from None

        if current is None and not new_lines:
            # Only absent users asked for and no file: nothing to create.
            result.update(changed=False, path=path, users_added=[], users_updated=[], users_removed=[])
            return result

        created = False
        if current is None and not self._task.check_mode:
            created = self._create_empty(path, params, task_vars)
        content = content_after(current, new_lines, added or updated or removed)
        # Nothing to write when the content stays: only the file's attributes are set then (one
        # module run, not copy's two).
        kept = current is not None and content == current
        copied = self._keep(path, params, task_vars) if kept else self._write(path, content, params, task_vars)
        if copied.get("failed"):
            msg = "%s %s failed: %s" % (
                "setting the mode, owner and group of" if kept else "writing",
                path,
                copied.get("msg", "unknown error"),
            )
            if created:
                # Leave the host as it was: an empty htpasswd file would have nginx refuse every user.
                removed = self._execute_module(
                    module_name="ansible.legacy.file", module_args=dict(path=path, state="absent"), task_vars=task_vars
                )
                if removed.get("failed"):
                    msg += "; the empty file created for it is left behind: %s" % removed.get("msg", "unknown error")
                else:
                    msg += "; the empty file created for it was removed"
                    created = False
            raise AnsibleActionFail(msg, result=dict(changed=created))
        # copy leaves them out (or None) for a file that check mode did not create.
        result.update((key, copied[key]) for key in ("mode", "owner", "group") if copied.get(key) is not None)
        result.update(
            changed=created or bool(copied.get("changed")),
            path=path,
            users_added=added,
            users_updated=updated,
            users_removed=removed,
        )
        if self._task.diff:
            before = [line.name for line in lines if line.name is not None]
            after = [line.name for line in new_lines if line.name is not None]
            result["diff"] = {
                "before_header": path,
                "after_header": path,
                "before": "".join("%s\n" % name for name in before) if current is not None else "",
                "after": "".join("%s%s\n" % (name, " (password changed)" if name in updated else "") for name in after),
            }
        return result

    def _read(self, path, task_vars):
        """Current content of path on the host, or None when it does not exist (one module run)."""
        slurped = self._execute_module(
            module_name="ansible.legacy.slurp", module_args=dict(src=path), task_vars=task_vars
        )
        if slurped.get("failed"):
            msg = to_text(slurped.get("msg", ""))
            # slurp's messages for ENOENT and EISDIR ("File not found: ...", "Source is a directory ...").
            if msg.lower().startswith("file not found"):
                return None
            if "is a directory" in msg.lower():
                raise HtpasswdError("%s is a directory; path must name the htpasswd file" % path)
            raise HtpasswdError("cannot read %s: %s" % (path, msg))
        try:
            return base64.b64decode(slurped["content"]).decode("utf-8")
        except UnicodeDecodeError:
            raise HtpasswdError("%s is not UTF-8 text; is it really an htpasswd file?" % path) from None

    def _create_empty(self, path, params, task_vars):
        """Create the missing file empty, with its final mode, owner and group, before any hash is in it.

        copy's atomic_move gives a file it creates the mode 0666 less the umask (0644 under the usual
        022) and only then sets the requested attributes: the hashes would be readable by everyone
        meanwhile, and for good when that fails (an unknown owner). No copy option avoids that (even
        validate's early chmod is undone). A file that exists keeps its mode, owner and group through
        atomic_move (the new content is renamed in with them), so copy then fills a file that was
        never more open than asked for. The file module removes a file it created when setting the
        attributes fails, so a bad owner or group leaves nothing behind. Returns True (it changed).
        """
        mode = params["mode"]
        if mode is None or mode == "preserve":
            mode = "0600"  # copy's preserve keeps the mode of its content's temporary file: 0600
        touch_args = dict(path=path, state="touch", mode=mode, owner=params["owner"], group=params["group"])
        touched = self._execute_module(
            module_name="ansible.legacy.file",
            module_args=_given(touch_args),
            task_vars=task_vars,
        )
        if touched.get("failed"):
            msg = touched.get("msg", "unknown error")
            if msg.startswith("Error, could not touch target"):  # the file module keeps the OSError to itself
                msg += " Does %s exist, writable by the remote user?" % posixpath.dirname(path)
            raise AnsibleActionFail("cannot create %s (no hash was written): %s" % (path, msg))
        return True

    def _keep(self, path, params, task_vars):
        """Set the mode, owner and group of a file whose content stays (ansible.builtin.file, check mode too)."""
        args = dict(path=path, state="file", owner=params["owner"], group=params["group"])
        if params["mode"] != "preserve":
            args["mode"] = params["mode"]
        return self._execute_module(
            module_name="ansible.legacy.file",
            module_args=_given(args),
            task_vars=task_vars,
        )

    def _write(self, path, content, params, task_vars):
        """Write content with ansible.builtin.copy (atomic, attributes, check mode), quietly."""
        copy_task = self._task.copy()
        copy_task.args.clear()
        copy_task.args.update(
            dict(
                dest=path,
                content=content,
                mode=params["mode"],
                owner=params["owner"],
                group=params["group"],
            )
        )
        copy_task.args = _given(copy_task.args)
        # The content is hashes: keep it out of copy's diff and of any logged invocation.
        copy_task.diff = False
        copy_task.no_log = True
        copy_action = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.copy",
            task=copy_task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        return copy_action.run(task_vars=task_vars)
