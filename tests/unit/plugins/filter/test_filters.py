"""Unit tests of the collection's filters: missing_images, host_address and beyond_loopback."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mlops.mlflow.plugins.filter.beyond_loopback import beyond_loopback
from ansible_collections.mlops.mlflow.plugins.filter.host_address import host_address
from ansible_collections.mlops.mlflow.plugins.filter.missing_images import docker_reference, missing_images

ID_A, ID_B, ID_C = ("sha256:" + digit * 64 for digit in "abc")
ID_NEW = "sha256:0123456789ab" + "f" * 52
POSTGRES = {
    "Id": ID_A,
    "RepoTags": ["postgres:15", "postgres:latest"],
    "RepoDigests": ["postgres@sha256:d1"],
}
MINIO = {"Id": ID_B, "RepoTags": ["minio/minio:RELEASE.2025"], "RepoDigests": []}
LOCAL = {"Id": ID_C, "RepoTags": ["registry.example:5000/team/mlflow:3"], "RepoDigests": []}
PRESENT = [POSTGRES, MINIO, LOCAL]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postgres", "postgres:latest"),
        ("postgres:15", "postgres:15"),
        ("docker.io/library/postgres", "postgres:latest"),
        ("docker.io/library/postgres:15", "postgres:15"),
        ("docker.io/minio/minio:RELEASE.2025", "minio/minio:RELEASE.2025"),
        ("minio/minio", "minio/minio:latest"),
        ("registry.example:5000/team/mlflow", "registry.example:5000/team/mlflow:latest"),
        ("registry.example:5000/team/mlflow:3", "registry.example:5000/team/mlflow:3"),
        ("postgres@sha256:d1", "postgres@sha256:d1"),
        ("library/postgres:16", "postgres:16"),
        ("index.docker.io/library/postgres:16", "postgres:16"),
        ("index.docker.io/postgres", "postgres:latest"),
        ("docker.io/postgres:16", "postgres:16"),
        ("docker.io/library/postgres:16@sha256:d1", "postgres:16@sha256:d1"),
        ("index.docker.io/minio/minio", "minio/minio:latest"),
        ("localhost/team/mlflow", "localhost/team/mlflow:latest"),
        ("ghcr.io/library/x:1", "ghcr.io/library/x:1"),
        ("registry.example:5000/team/mlflow:3@sha256:d9", "registry.example:5000/team/mlflow:3@sha256:d9"),
    ],
)
def test_docker_reference(name, expected):
    assert docker_reference(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "postgres",
        "postgres:15",
        "docker.io/library/postgres:latest",
        "docker.io/minio/minio:RELEASE.2025",
        "registry.example:5000/team/mlflow:3",
        "postgres@sha256:d1",
        "library/postgres:15",
        "index.docker.io/library/postgres:15",
        "docker.io/postgres:15",
    ],
)
def test_present_name_is_not_loaded(name):
    assert missing_images([{"name": name, "src": "a.tar"}], PRESENT) == []


@pytest.mark.parametrize(
    "name",
    [
        "postgres:16",
        "minio/minio",
        "registry.example:5000/team/mlflow",
        "other.example/postgres:15",
        "postgres@sha256:d2",
    ],
)
def test_absent_name_is_loaded(name):
    entry = {"name": name, "src": "a.tar"}
    assert missing_images([entry], PRESENT) == [entry]


@pytest.mark.parametrize(
    "name",
    [
        "postgres:15@sha256:d9",  # the tag is there: an image loaded from an archive has no digest
        "postgres:16@sha256:d1",  # the digest is there under another tag
        "docker.io/library/postgres:15@sha256:d9",
        "registry.example:5000/team/mlflow:3@sha256:d9",
    ],
)
def test_name_pinned_by_tag_and_digest_is_present_when_either_matches(name):
    assert missing_images([{"name": name, "src": "a.tar"}], PRESENT) == []


@pytest.mark.parametrize("name", ["postgres:16@sha256:d2", "other.example/postgres:15@sha256:d1"])
def test_name_pinned_by_tag_and_digest_is_loaded_when_neither_matches(name):
    entry = {"name": name, "src": "a.tar"}
    assert missing_images([entry], PRESENT) == [entry]


def test_present_images_listed_with_hub_prefixes_match_short_names():
    podman = {
        "Id": "sha256:ddd",
        "RepoTags": ["docker.io/library/postgres:16"],
        "RepoDigests": ["docker.io/library/postgres@sha256:d3"],
    }
    names = ["postgres:16", "library/postgres:16", "postgres@sha256:d3", "postgres:17@sha256:d3"]
    assert missing_images([{"name": name} for name in names], [podman]) == []


def test_id_decides_over_the_name():
    rebuilt = {"name": "postgres:15", "id": ID_NEW, "src": "pg.tar"}
    same = {"name": "minio/minio:RELEASE.2025", "id": ID_B, "src": "minio.tar"}
    retagged = {"name": "not-there:1", "id": ID_C, "src": "mlflow.tar"}
    assert missing_images([rebuilt, same, retagged], PRESENT) == [rebuilt]


@pytest.mark.parametrize("short", [ID_B[7:19], ID_B[:19], ID_B[7:], ID_B.upper()])
def test_an_id_as_docker_images_shows_it_matches_the_present_image(short):
    assert missing_images([{"name": "minio/minio:RELEASE.2025", "id": short}], PRESENT) == []


@pytest.mark.parametrize("bad", ["sha256:bbb", "bbbbbb", "not-an-id-at-all"])
def test_an_id_that_is_no_image_id_is_refused_naming_the_entry(bad):
    with pytest.raises(AnsibleFilterError, match=r"the id of minio/minio:RELEASE\.2025 must be the image's id"):
        missing_images([{"name": "minio/minio:RELEASE.2025", "id": bad}], PRESENT)


def test_keeps_input_order_and_nothing_present():
    entries = [{"name": "b"}, {"name": "a", "id": ID_NEW}]
    assert missing_images(entries, []) == entries
    assert missing_images([], PRESENT) == []


@pytest.mark.parametrize(
    ("archives", "images"),
    [([{"src": "a.tar"}], []), ([{"name": ""}], []), (["postgres"], []), ({"name": "x"}, []), ([], None)],
)
def test_bad_input_is_refused(archives, images):
    with pytest.raises(AnsibleFilterError):
        missing_images(archives, images)


def test_host_address_prefers_facts_then_ansible_host_then_name():
    facts = {"ansible_facts": {"default_ipv4": {"address": "10.0.0.5"}}}
    assert host_address({**facts, "ansible_host": "db", "inventory_hostname": "pg"}) == "10.0.0.5"
    assert host_address({"ansible_facts": {}, "ansible_host": "db", "inventory_hostname": "pg"}) == "db"
    assert host_address({"inventory_hostname": "pg"}) == "pg"


def test_host_address_without_names_gives_an_ip_address_or_nothing():
    facts = {"ansible_facts": {"default_ipv4": {"address": "10.0.0.5"}}, "ansible_host": "db"}
    assert host_address(facts, names=False) == "10.0.0.5"
    # No facts (a host --limit leaves out): ansible_host only when it is an address.
    assert (
        host_address({"ansible_facts": {}, "ansible_host": "10.0.0.6", "inventory_hostname": "pg"}, names=False)
        == "10.0.0.6"
    )
    assert host_address({"ansible_host": "fd00::6", "inventory_hostname": "pg"}, names=False) == "fd00::6"
    assert (
        host_address({"ansible_facts": {}, "ansible_host": "db.example", "inventory_hostname": "pg"}, names=False) == ""
    )
    assert host_address({"inventory_hostname": "pg"}, names=False) == ""


@pytest.mark.parametrize(
    ("published", "expected"), [("10.0.0.9", "10.0.0.9"), ("fd00::9", "fd00::9"), ("", "10.0.0.5")]
)
def test_host_address_of_a_service_published_on_one_address_is_that_address(published, expected):
    facts = {"ansible_facts": {"default_ipv4": {"address": "10.0.0.5"}}, "inventory_hostname": "pg"}
    assert host_address(facts, published=published) == expected


@pytest.mark.parametrize("everywhere", ["0.0.0.0", "::"])  # noqa: S104
def test_host_address_of_a_service_published_on_every_interface_is_the_hosts(everywhere):
    facts = {"ansible_facts": {"default_ipv4": {"address": "10.0.0.5"}}, "inventory_hostname": "pg"}
    assert host_address(facts, published=everywhere) == "10.0.0.5"
    assert host_address({"inventory_hostname": "pg"}, names=False, published=everywhere) == ""


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        (["127.0.0.1"], None),
        (["127.0.1.1", "::1", ""], None),
        (["0.0.0.0"], ["0.0.0.0"]),  # noqa: S104 - a publish address, not a bind
        (["::"], ["::"]),
        (["127.0.0.1", "10.0.0.5"], ["10.0.0.5"]),
        (["10.0.0.5", "fd00::5"], ["10.0.0.5", "fd00::5"]),
        (["128.0.0.1"], ["128.0.0.1"]),
    ],
)
def test_beyond_loopback_addresses(addresses, expected):
    item = {"addresses": addresses, "port": 5000, "sources": ["10.0.0.7"], "sources_from": "x_allowed_sources"}
    result = beyond_loopback([item])
    if expected is None:
        assert result == []
    else:
        assert result == [dict(item, addresses=expected)]
    assert item["addresses"] == addresses  # the input is left as it was


def test_beyond_loopback_keeps_only_items_with_an_outside_address():
    items = [
        {"addresses": ["127.0.0.1"], "port": 5432, "sources": []},
        {"addresses": ["192.168.1.2"], "port": 9000, "sources": []},
    ]
    assert beyond_loopback(items) == [{"addresses": ["192.168.1.2"], "port": 9000, "sources": []}]
    assert beyond_loopback([]) == []


@pytest.mark.parametrize("bad", ["10.0.0.5", None, [{"port": 5000}], [{"addresses": "10.0.0.5"}], ["10.0.0.5"]])
def test_beyond_loopback_refuses_what_is_not_a_list_of_items(bad):
    with pytest.raises(AnsibleFilterError, match="beyond_loopback"):
        beyond_loopback(bad)
