# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""File helpers shared by mlops.mlflow's modules that keep a file's content on the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text


def read_text(path):
    """The file's content as text, or None when there is no file; ValueError when path is not a file."""
    if not os.path.lexists(path):
        return None
    if not os.path.isfile(path):
        raise ValueError("%s exists and is not a regular file" % path)
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")


def write_temp(directory, prefix, data, suffix=""):
    """Write data (text) to a new temporary file, mode 0600, in directory; return its path.

    Beside the target, so that move_into_place is a rename on the same file system.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory or ".")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, to_bytes(data, errors="surrogate_or_strict"))
        os.fsync(fd)
    except Exception:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    return tmp


def move_into_place(module, tmp, path):
    """Rename tmp over path (AnsibleModule.atomic_move: SELinux context, attributes of a file it replaces).

    A file that did not exist lands as 0600, not as the umask allows: atomic_move gives a new file
    the mode 0666 less the umask, so under the usual 022 the content would be readable by everyone
    until set_attributes ran (and stay so if that failed, e.g. on an unknown owner). tmp is
    removed when the move fails.
    """
    umask = os.umask(0o077)
    try:
        module.atomic_move(tmp, path)
    finally:
        os.umask(umask)
        if os.path.lexists(tmp):
            os.unlink(tmp)


def set_attributes(module, path, owner, group, mode, changed, diff):
    """Enforce (in check mode: compare) owner, group and mode of path; record what differs in diff."""
    changed = module.set_owner_if_different(path, owner, changed, diff)
    changed = module.set_group_if_different(path, group, changed, diff)
    return module.set_mode_if_different(path, mode, changed, diff)


def owner_group_error(owner, group):
    """A message naming an owner or group unknown on this host (names or numeric ids), else None."""
    for kind, value, lookup in (("owner", owner, pwd.getpwnam), ("group", group, grp.getgrnam)):
        if value is None or to_text(value).isdigit():
            continue
        try:
            lookup(to_text(value))
        except KeyError:
            return "%s %s does not exist on this host" % (kind, value)
    return None


class _RegularFile(object):
    """What AnsibleModule's symbolic mode parser reads of a file's stat: a regular file's st_mode."""

    st_mode = stat.S_IFREG | 0o600


def mode_error(mode):
    """A message when mode is neither octal (0600, '0600', '600') nor symbolic (u=r,go=), else None.

    AnsibleModule only finds out when it sets the mode, after the content is written.
    """
    if mode is None or (isinstance(mode, int) and 0 <= mode <= 0o7777):
        return None
    text = to_text(mode)
    if re.match(r"^0?[0-7]{3,4}$", text):
        return None
    try:
        AnsibleModule._symbolic_mode_to_octal(_RegularFile(), text)  # pylint: disable=protected-access
    except Exception:  # ValueError for an unknown letter or operator; others on odd input
        return "mode must be octal (0600) or symbolic (u=rw,go=), got %r" % (mode,)
    return None
