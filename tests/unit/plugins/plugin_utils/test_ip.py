"""Unit tests of plugin_utils.ip, the address parsing the filters share."""

import ipaddress

import pytest

from ansible_collections.mlops.mlflow.plugins.plugin_utils.ip import ip_or_none, is_loopback, is_wildcard, url_host


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


@pytest.mark.parametrize(
    ("value", "wildcard", "loopback"),
    [
        ("0.0.0.0", True, False),  # noqa: S104
        ("::", True, False),
        ("[::]", True, False),
        ("127.0.0.1", False, True),
        ("127.1.2.3", False, True),
        ("::1", False, True),
        ("[::1]", False, True),
        ("10.0.0.5", False, False),
        ("fd00::5", False, False),
        ("localhost", False, False),
        ("", False, False),
        ("[10.0.0.5]", False, False),
    ],
)
def test_wildcard_and_loopback(value, wildcard, loopback):
    assert is_wildcard(value) is wildcard
    assert is_loopback(value) is loopback


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fd00::5", "[fd00::5]"),
        ("::1", "[::1]"),
        ("[fd00::5]", "[fd00::5]"),
        ("10.0.0.5", "10.0.0.5"),
        ("mlflow.example.com", "mlflow.example.com"),
    ],
)
def test_url_host_brackets_ipv6_only(value, expected):
    assert url_host(value) == expected
