# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Test mlops.mlflow.wildcard_address: the address that binds every interface."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mlops.mlflow.plugins.plugin_utils.ip import is_wildcard

DOCUMENTATION = r"""
name: wildcard_address
short_description: Whether an address is the one a socket binds to for every interface
version_added: 0.1.0
description:
  - True for C(0.0.0.0), C(::) and C([::]), where a port published is reachable on every
    address of the host, loopback included. False for other addresses and host names.
options:
  _input:
    description: An IP address (an IPv6 one in brackets or not) or host name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Reach MinIO on loopback when it is published on every interface
  ansible.builtin.debug:
    msg: >-
      {{ '127.0.0.1' if minio_api_publish_address is mlops.mlflow.wildcard_address
         else minio_api_publish_address }}
"""

RETURN = r"""
_value:
  description: Whether the address is C(0.0.0.0) or C(::).
  type: bool
"""


class TestModule(object):
    def tests(self):
        return {"wildcard_address": is_wildcard}
