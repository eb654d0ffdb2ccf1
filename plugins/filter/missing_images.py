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
    the same tag is loaded again). An entry without one is missing when no present image carries
    its name.
  - Names are compared as Docker stores them in C(RepoTags) and C(RepoDigests) - a name without
    a tag gets C(:latest), and C(docker.io/) or C(docker.io/library/) is dropped - so
    C(postgres), C(postgres:latest) and C(docker.io/library/postgres:latest) are the same image.
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


def docker_reference(name):
    """Return an image name the way Docker lists it in RepoTags / RepoDigests."""
    last = name.split("/")[-1]
    if ":" not in last and "@" not in name:
        name += ":latest"
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def missing_images(archives, images):
    if not isinstance(archives, list) or not isinstance(images, list):
        raise AnsibleFilterError("missing_images: expects a list of archive entries and a list of images")
    present_ids = {image.get("Id") for image in images}
    present_refs = set()
    for image in images:
        present_refs.update(image.get("RepoTags") or [])
        present_refs.update(image.get("RepoDigests") or [])
    missing = []
    for entry in archives:
        if not isinstance(entry, dict) or not entry.get("name"):
            raise AnsibleFilterError("missing_images: every archive entry needs a name, got %r" % (entry,))
        if entry.get("id"):
            if entry["id"] not in present_ids:
                missing.append(entry)
        elif docker_reference(entry["name"]) not in present_refs:
            missing.append(entry)
    return missing


class FilterModule(object):
    def filters(self):
        return {"missing_images": missing_images}
