# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Test mlops.mlflow.loopback_address: an address only the host itself reaches."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mlops.mlflow.plugins.plugin_utils.ip import is_loopback

DOCUMENTATION = r"""
name: loopback_address
short_description: Whether an address is a loopback address
version_added: 0.1.0
description:
  - True for addresses of C(127.0.0.0/8) and for C(::1) (in brackets or not), where a port
    published is reachable from the host itself only. False for other addresses and for host names,
    C(localhost) included (what it resolves to is the host's business).
options:
  _input:
    description: An IP address (an IPv6 one in brackets or not) or host name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Only a port published beyond loopback needs a guard
  ansible.builtin.debug:
    msg: "{{ addresses | reject('mlops.mlflow.loopback_address') | list }}"
"""

RETURN = r"""
_value:
  description: Whether the address is a loopback address.
  type: bool
"""


class TestModule(object):
    def tests(self):
        return {"loopback_address": is_loopback}
