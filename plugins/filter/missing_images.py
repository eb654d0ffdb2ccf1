# Copyright: mlops.mlflow developers
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Filter mlops.mlflow.missing_images: the image archives whose image a host lacks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: missing_images
short_description: The image archives whose image is missing on a Docker host, or differs
version_added: 0.1.0
description:
  - Given the archive entries of C(docker_host_image_archives) and the C(images) a
    C(community.docker.docker_image_info) lookup of their names returned, returns the entries to
    load.
  - An entry with an C(id) is missing when no present image has that id (an image rebuilt under
    the same tag is loaded again). The id is C(sha256:<hex>) as C(docker inspect) shows it, or its
    first 12 or more hex digits as C(docker images -q) shows them; anything else is an error.
  - An entry without an C(id) is missing when no present image carries its name, that is, when
    neither its tag is in an image's C(RepoTags) nor its digest in its C(RepoDigests). A name pinned
    as C(name:tag@sha256:digest) is present when either matches (Docker keeps the tag and the
    digest apart, and an image loaded from an archive usually has no digest at all). A name
    pinned by digest alone matches C(RepoDigests) only, so give such an entry its C(id).
  - Names and the present images' C(RepoTags) and C(RepoDigests) are compared in the short form
    Docker lists. A name without a tag or digest gets C(:latest), and the Docker Hub prefixes
    C(docker.io/), C(index.docker.io/) and C(library/) are dropped. So C(postgres),
    C(postgres:latest), C(library/postgres), C(docker.io/library/postgres:latest) and
    C(index.docker.io/library/postgres) are the same image.
options:
  _input:
    description: The archive entries, each with C(name) and optionally C(id).
    type: list
    elements: dict
    required: true
  images:
    description: The C(images) list of C(community.docker.docker_image_info) (C(Id), C(RepoTags), C(RepoDigests)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Archives to load
  ansible.builtin.set_fact:
    missing: "{{ docker_host_image_archives | mlops.mlflow.missing_images(present.images) }}"
"""

RETURN = r"""
_value:
  description: The entries of the input list to load, in input order.
  type: list
  elements: dict
"""


def _parts(name):
    """Split an image reference into (repository, tag, digest), the repository as Docker lists it.

    Docker's rules: the first path component is a registry when it holds a dot or a colon, is
    localhost or has capitals; otherwise the image is on Docker Hub (docker.io, of old
    index.docker.io), where a one-component name lives under library/. Hub names are shown short.
    """
    name, _sep, digest = name.partition("@")
    domain, slash, remainder = name.partition("/")
    if not slash or ("." not in domain and ":" not in domain and domain != "localhost" and domain == domain.lower()):
        domain, remainder = "docker.io", name
    if domain == "index.docker.io":
        domain = "docker.io"
    if ":" in remainder.split("/")[-1]:
        repository, tag = remainder.rsplit(":", 1)
    else:
        repository, tag = remainder, ""
    if domain == "docker.io":
        if repository.startswith("library/") and repository.count("/") == 1:
            repository = repository[len("library/") :]
    else:
        repository = "%s/%s" % (domain, repository)
    if not tag and not digest:
        tag = "latest"
    return repository, tag or None, digest or None


def docker_reference(name):
    """Return an image name the way Docker lists it in RepoTags / RepoDigests."""
    repository, tag, digest = _parts(name)
    return repository + (":" + tag if tag else "") + ("@" + digest if digest else "")


def references(name):
    """The RepoTags and RepoDigests entries, any of which shows that the image ``name`` is present."""
    repository, tag, digest = _parts(name)
    found = set()
    if tag:
        found.add("%s:%s" % (repository, tag))
    if digest:
        found.add("%s@%s" % (repository, digest))
    return found


def _image_id(entry):
    """The entry's image id as Docker writes it (``sha256:<hex>``), whole or shortened.

    ``docker images -q`` and ``docker image ls`` show 12 hex digits without the algorithm: such an
    id (at least 12 digits) matches the present image whose full id starts with it.
    """
    image_id = str(entry["id"]).strip().lower()
    digits = image_id[len("sha256:") :] if image_id.startswith("sha256:") else image_id
    if len(digits) < 12 or any(c not in "0123456789abcdef" for c in digits):
        raise AnsibleFilterError(
            "missing_images: the id of %s must be the image's id, sha256:<64 hex digits> or at least its first "
            "12 hex digits (docker images -q), got %r" % (entry["name"], entry["id"])
        )
    return "sha256:" + digits


def missing_images(archives, images):
    if not isinstance(archives, list) or not isinstance(images, list):
        raise AnsibleFilterError("missing_images: expects a list of archive entries and a list of images")
    present_ids = {image.get("Id") for image in images}
    present_refs = set()
    for image in images:
        for ref in (image.get("RepoTags") or []) + (image.get("RepoDigests") or []):
            present_refs.add(docker_reference(ref))
    missing = []
    for entry in archives:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise AnsibleFilterError("missing_images: every archive entry needs a name, got %r" % (entry,))
        if entry.get("id"):
            wanted = _image_id(entry)
            if not any(present.startswith(wanted) for present in present_ids if present):
                missing.append(entry)
        elif not references(entry["name"]) & present_refs:
            missing.append(entry)
    return missing


class FilterModule(object):
    def filters(self):
        return {"missing_images": missing_images}
