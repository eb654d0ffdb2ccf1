# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filter mlops.mlflow.beyond_loopback: the published ports other hosts can reach."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.mlops.mlflow.plugins.plugin_utils.ip import is_loopback

DOCUMENTATION = r"""
name: beyond_loopback
short_description: Keep the published ports other hosts can reach
version_added: 0.1.0
description:
  - Given port guard items (as the compose_project role's C(compose_project_port_guard) takes
    them), drops from each item's C(addresses) the loopback addresses (C(127.0.0.0/8),
    C(::1)) and empty strings (a port that is not published), then drops the items left without
    an address.
  - A port published on loopback only cannot be reached from another host, so there is nothing
    to guard. The compose_project role applies it; the roles that publish ports pass their
    addresses as they are.
options:
  _input:
    description: Port guard items, each a dict with an C(addresses) list of host addresses.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Only 10.0.0.5 needs a guard
  ansible.builtin.debug:
    msg: >-
      {{ [{'addresses': ['127.0.0.1', '10.0.0.5'], 'port': 5000, 'sources': ['10.0.0.7']},
          {'addresses': ['::1'], 'port': 9000, 'sources': []}] | mlops.mlflow.beyond_loopback }}
  # [{'addresses': ['10.0.0.5'], 'port': 5000, 'sources': ['10.0.0.7']}]
"""

RETURN = r"""
_value:
  description: The items that keep at least one address, with only those addresses; other keys as given.
  type: list
  elements: dict
"""


def beyond_loopback(items):
    if not is_sequence(items):
        raise AnsibleFilterError("beyond_loopback: expects a list of port guard items, got %r" % (items,))
    kept = []
    for item in items:
        if not isinstance(item, dict) or not is_sequence(item.get("addresses")):
            raise AnsibleFilterError("beyond_loopback: each item needs an 'addresses' list, got %r" % (item,))
        addresses = [str(a) for a in item["addresses"] if str(a) and not is_loopback(a)]
        if addresses:
            kept.append(dict(item, addresses=addresses))
    return kept


class FilterModule(object):
    def filters(self):
        return {"beyond_loopback": beyond_loopback}
