#!/usr/bin/env bash
# Build the local images the tests need, from Debian packages only.
#
# No container registry can be reached on the test machine, so nothing is pulled:
#   mlops-test/debian:bookworm       debootstrap minbase, the root of every other image
#   mlops-test/bare-host:bookworm    a "freshly installed Debian 12 server": systemd as PID 1, python3
#   mlops-test/postgres:15           stand-in for the upstream `postgres` image (Debian's postgresql-15)
#   mlops-test/s3-moto:5             stand-in for `minio/minio` (moto's S3 server: no MinIO build exists here)
#   mlops-test/python:3.11-slim      stand-in for `python:3.11-slim` (Debian's python3.11 + pip)
#   mlops-test/python:3.11-slim-mlflow  the same with MLflow's pip packages preinstalled (a warm
#                                    cache for the mlflow_server image build in every bare host)
# Each image carries a label with the hash of its build context; an image whose hash matches is
# reused, so a second run costs seconds. Archives for the bare hosts (docker save) go to
# $MLOPS_IMAGE_CACHE (default .cache/images).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${MLOPS_IMAGE_CACHE:-$(cd "$here/../.." && pwd)/.cache/images}
mkdir -p "$cache"

mirror() {
  # The Debian mirror this machine is configured with (deb822 or one-line sources).
  local m
  m=$(grep -hoE '^URIs: *\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$m" ] || m=$(grep -hoE '^deb +\S+' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

context_hash() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "${2:-}") | sha256sum | cut -c1-16
}

current_hash() {
  docker image inspect --format '{{ index .Config.Labels "org.mlops.context-hash" }}' "$1" 2>/dev/null || true
}

build_base() {
  local tag=mlops-test/debian:bookworm want
  want=$(echo "debootstrap-minbase-bookworm-v1" | sha256sum | cut -c1-16)
  if [ "$(current_hash "$tag")" = "$want" ]; then echo "image $tag: reused"; return; fi
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  local root
  root=$(mktemp -d)
  echo "image $tag: debootstrap from $(mirror)"
  debootstrap --variant=minbase bookworm "$root" "$(mirror)" >/dev/null
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change "LABEL org.mlops.context-hash=$want" \
    --change 'ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive' \
    --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
  rm -rf "$root"
}

build_dir() {
  # build_dir <dir> <tag> [--build-arg NAME=VALUE ...]: the arguments count in the image's hash.
  local dir=$1 tag=$2 want
  shift 2
  want=$(context_hash "$here/$dir" "$(docker image inspect --format '{{.Id}}' mlops-test/debian:bookworm) $*")
  if [ "$(current_hash "$tag")" = "$want" ]; then echo "image $tag: reused"; return; fi
  echo "image $tag: building"
  # pip inside the build reaches PyPI only with the machine's CA bundle.
  cp /etc/ssl/certs/ca-certificates.crt "$here/$dir/.ca-bundle.crt"
  DOCKER_BUILDKIT=0 docker build -q "$@" --label "org.mlops.context-hash=$want" -t "$tag" "$here/$dir" >/dev/null
  rm -f "$here/$dir/.ca-bundle.crt"
}

current() {
  # current FILE TAG: FILE was written from the image TAG is now (its id is in FILE.id).
  [ -f "$1" ] && [ "$(cat "$1.id" 2>/dev/null)" = "$(docker image inspect --format '{{.Id}}' "$2")" ]
}

stamp() { docker image inspect --format '{{.Id}}' "$2" >"$1.id"; }

save() {
  local tag=$1 file
  file="$cache/$(echo "$tag" | tr '/:' '__').tar"
  current "$file" "$tag" && return
  docker save -o "$file" "$tag"
  stamp "$file" "$tag"
}

mlflow_image_pins() {
  # What the mlflow_server role's image installs by default (packages, or the path of its pip
  # lock), read from the role's defaults, with the checkout's .venv (PyYAML) when there is one.
  local python="$here/../../.venv/bin/python"
  [ -x "$python" ] || python=python3
  "$python" "$here/../../scripts/mlflow_image_pins.py" "$1"
}

build_base
build_dir bare-host mlops-test/bare-host:bookworm
build_dir postgres mlops-test/postgres:15
build_dir s3-moto mlops-test/s3-moto:5
build_dir python mlops-test/python:3.11-slim
mlflow_pins=$(mlflow_image_pins packages)
# The role's pip lock goes into the context (and so into the image's hash): the stand-in then
# holds exactly the versions the role's own build installs.
cp "$(mlflow_image_pins lock)" "$here/python-mlflow/.constraints.txt"
build_dir python-mlflow mlops-test/python:3.11-slim-mlflow --build-arg "PIP_PACKAGES=$mlflow_pins"
rm -f "$here/python-mlflow/.constraints.txt"
# The cloud scenario's "managed" S3 runs moto on a bare host without Docker (as a service of
# its own, the way a provider runs it): the stand-in image's moto venv as a tar, unpacked there
# in seconds (both are Debian 12 with its python3), instead of a pip install on every run.
moto_tar="$cache/mlops-test_s3-moto_5.venv.tar"
if ! current "$moto_tar" mlops-test/s3-moto:5; then
  echo "moto's venv for bare hosts: exported from mlops-test/s3-moto:5"
  docker run --rm --entrypoint tar mlops-test/s3-moto:5 -C /opt -cf - moto >"$moto_tar.tmp"
  mv "$moto_tar.tmp" "$moto_tar"
  stamp "$moto_tar" mlops-test/s3-moto:5
fi
for t in mlops-test/debian:bookworm mlops-test/postgres:15 mlops-test/s3-moto:5 mlops-test/python:3.11-slim \
         mlops-test/python:3.11-slim-mlflow; do save "$t"; done
cat <<MSG
stand-in images (no container registry answers on this machine):
  postgres:<version>      -> mlops-test/postgres:15        (Debian postgresql-15, same env/secret-file contract)
  minio/minio:<release>   -> mlops-test/s3-moto:5          (moto S3 server: no MinIO build can be had here)
  python:3.11-slim        -> mlops-test/python:3.11-slim   (Debian python3.11 + pip)
                          -> mlops-test/python:3.11-slim-mlflow (+ MLflow's pip packages, so the
                             role's image build in each bare host does not download them again)
  bare hosts              -> mlops-test/bare-host:bookworm (Debian 12, systemd as PID 1, python3)
archives for bare hosts in $cache (and moto's venv, for the cloud scenario's S3 host)
MSG
