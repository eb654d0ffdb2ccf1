# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Address helpers shared by mlops.mlflow's controller-side plugins (filters and tests)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def ip_or_none(value):
    """The IPv4 or IPv6 address *value* names, or None when it is not one (a host name, '')."""
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _unbracketed(value):
    """*value* without the brackets a URL puts around an IPv6 address ('[::1]' -> '::1')."""
    text = str(value)
    return text[1:-1] if text.startswith("[") and text.endswith("]") else text


def is_wildcard(value):
    """Whether *value* is the any-address a socket binds to for every interface (0.0.0.0, ::)."""
    ip = ip_or_none(_unbracketed(value))
    return ip is not None and ip.is_unspecified


def is_loopback(value):
    """Whether *value* is a loopback address (127.0.0.0/8, ::1), bracketed or not."""
    ip = ip_or_none(_unbracketed(value))
    return ip is not None and ip.is_loopback


def url_host(value):
    """*value* as the host part of a URL or host:port: an IPv6 address in brackets, else as it is."""
    text = str(value)
    ip = ip_or_none(text)
    return "[%s]" % text if ip is not None and ip.version == 6 else text
