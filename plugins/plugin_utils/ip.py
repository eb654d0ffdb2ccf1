# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Address helpers shared by mlops.mlflow's controller-side plugins (filters)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def ip_or_none(value):
    """The IPv4 or IPv6 address *value* names, or None when it is not one (a host name, '')."""
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None
