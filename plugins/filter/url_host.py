# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filter mlops.mlflow.url_host: an address or name as the host part of a URL."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mlops.mlflow.plugins.plugin_utils.ip import url_host

DOCUMENTATION = r"""
name: url_host
short_description: An address or host name as the host part of a URL or C(host:port)
version_added: 0.1.0
description:
  - Puts an IPv6 address in brackets (C(fd00::5) becomes C([fd00::5])), as URLs, C(host:port)
    pairs, nginx upstreams and HTTP C(Host) headers write it. IPv4 addresses, host names and
    an address already in brackets are returned as they are.
options:
  _input:
    description: An IP address or host name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: MinIO's URL on its publish address
  ansible.builtin.debug:
    msg: "http://{{ minio_api_publish_address | mlops.mlflow.url_host }}:9000"
  # http://[fd00::5]:9000 for fd00::5, http://10.0.0.5:9000 for 10.0.0.5
"""

RETURN = r"""
_value:
  description: The host part, an IPv6 address in brackets.
  type: str
"""


class FilterModule(object):
    def filters(self):
        return {"url_host": url_host}
