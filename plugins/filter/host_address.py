# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filter mlops.mlflow.host_address: the address other hosts reach an inventory host at."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mlops.mlflow.plugins.plugin_utils.ip import ip_or_none, is_wildcard

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
  - With O(names=false), only an IP address will do, as for a firewall rule. It returns the
    address from facts, else C(ansible_host) when it is an IP address, else an empty string
    (the host's facts were not gathered, as for a host a C(--limit) leaves out).
  - With O(published), the address a service of that host is published on, that address comes
    first when it is one address rather than every interface (C(0.0.0.0), C(::)).
options:
  _input:
    description: C(hostvars[name]) of the host.
    type: dict
    required: true
  names:
    description: Fall back to C(ansible_host) or the inventory name when either is a host name.
    type: bool
    default: true
  published:
    description:
      - The host address the service is published on (as the role that publishes it worked it
        out, e.g. C(postgres_publish_address_effective)). Empty or a wildcard address leaves the
        choice above.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Address of the database host
  ansible.builtin.debug:
    msg: "{{ hostvars[groups['postgres'][0]] | mlops.mlflow.host_address }}"

- name: IP addresses of the nginx hosts, '' for one whose facts are unknown
  ansible.builtin.debug:
    msg: "{{ groups['nginx_auth'] | map('extract', hostvars) | map('mlops.mlflow.host_address', names=false) | list }}"

- name: Where other hosts reach the database host's PostgreSQL
  ansible.builtin.debug:
    msg: >-
      {{ hostvars[pg_host] | mlops.mlflow.host_address(
           published=hostvars[pg_host]['postgres_publish_address_effective'] | default('')) }}
"""

RETURN = r"""
_value:
  description: An IP address or host name; with O(names=false), an IP address or an empty string.
  type: str
"""


def host_address(host_vars, names=True, published=""):
    if published and not is_wildcard(published):
        return str(published)
    facts = host_vars.get("ansible_facts") or {}
    address = (facts.get("default_ipv4") or {}).get("address")
    if address:
        return address
    fallback = host_vars.get("ansible_host") or host_vars.get("inventory_hostname")
    if names or ip_or_none(fallback) is not None:
        return fallback
    return ""


class FilterModule(object):
    def filters(self):
        return {"host_address": host_address}
