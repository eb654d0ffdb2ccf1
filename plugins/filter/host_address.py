# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filter mlops.mlflow.host_address: the address other hosts reach an inventory host at."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: host_address
short_description: Address other hosts and their containers reach an inventory host at
version_added: 0.1.0
description:
  - Given the hostvars of an inventory host, returns its primary IPv4 address from gathered
    facts, else its C(ansible_host), else its inventory name.
  - The stack roles use it to point a service at another host. Containers on the consumer's
    host cannot always resolve names only the controller's resolver knows, so the address
    from facts comes first.
options:
  _input:
    description: C(hostvars[name]) of the host.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Address of the database host
  ansible.builtin.debug:
    msg: "{{ hostvars[groups['postgres'][0]] | mlops.mlflow.host_address }}"
"""

RETURN = r"""
_value:
  description: An IP address or host name.
  type: str
"""


def host_address(host_vars):
    facts = host_vars.get("ansible_facts") or {}
    address = (facts.get("default_ipv4") or {}).get("address")
    if address:
        return address
    return host_vars.get("ansible_host") or host_vars.get("inventory_hostname")


class FilterModule(object):
    def filters(self):
        return {"host_address": host_address}
