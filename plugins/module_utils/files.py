# Copyright: mlops.mlflow developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""File helpers shared by mlops.mlflow's modules that keep a file's content on the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.text.converters import to_text


def read_text(path):
    """The file's content as text, or None when there is no file; ValueError when path is not a file."""
    if not os.path.lexists(path):
        return None
    if not os.path.isfile(path):
        raise ValueError("%s exists and is not a regular file" % path)
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")
