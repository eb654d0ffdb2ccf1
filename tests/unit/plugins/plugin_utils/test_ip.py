"""Unit tests of plugin_utils.ip, the address parsing the filters share."""

import ipaddress

import pytest

from ansible_collections.mlops.mlflow.plugins.plugin_utils.ip import ip_or_none


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.5", ipaddress.IPv4Address("10.0.0.5")),
        ("127.0.0.2", ipaddress.IPv4Address("127.0.0.2")),
        ("::1", ipaddress.IPv6Address("::1")),
        ("fd00::5", ipaddress.IPv6Address("fd00::5")),
    ],
)
def test_addresses_parse(value, expected):
    assert ip_or_none(value) == expected


@pytest.mark.parametrize("value", ["", "mlflow.example.com", "localhost", "10.0.0.256", "[::1]", "10.0.0.0/8", None])
def test_non_addresses_are_none(value):
    assert ip_or_none(value) is None
