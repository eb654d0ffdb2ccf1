#!/usr/bin/env bash
# Write the pip lock of the mlflow_server image for the role's default MLflow version:
# roles/mlflow_server/files/pip-locks/mlflow-<version>.txt (the role builds its image with it as
# pip constraints, mlflow_server_pip_locked). Run it after raising mlflow_server_version or
# changing mlflow_server_pip_packages, review the diff, and run the tests: they build the image
# from the new lock.
#
# The versions are those pip resolves today for "mlflow==<version>" and mlflow_server_pip_packages
# in a clean python:3.11-slim stand-in (tests/images/build.sh builds it; no registry here).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python="$root/.venv/bin/python"
[ -x "$python" ] || python=python3
packages=$("$python" "$root/scripts/mlflow_image_pins.py" packages)
lock=$("$python" "$root/scripts/mlflow_image_pins.py" lock)
base=mlops-test/python:3.11-slim
docker image inspect "$base" >/dev/null 2>&1 || bash "$root/tests/images/build.sh"

frozen=$(mktemp)
trap 'rm -f "$frozen"' EXIT
# pip reaches PyPI only with the machine's CA bundle; `pip freeze` leaves out pip, setuptools
# and wheel, which belong to the base image.
docker run --rm -e PIP_PACKAGES="$packages" -v /etc/ssl/certs/ca-certificates.crt:/tmp/ca.crt:ro "$base" \
  sh -c 'PIP_CERT=/tmp/ca.crt pip install -q --no-cache-dir $PIP_PACKAGES >&2 && pip freeze' >"$frozen"
grep -qix "${packages%% *}" "$frozen" || { echo "the install did not end with ${packages%% *}" >&2; exit 1; }
{
  echo "# pip lock (constraints) of the mlflow_server image: $packages"
  echo "# resolved on $(docker run --rm "$base" python -V) for linux/$(uname -m), $(date -u +%Y-%m-%d)."
  echo "# Written by scripts/lock-mlflow-image.sh; the role installs exactly these versions."
  LC_ALL=C sort -f "$frozen"
} >"$lock"
echo "wrote $lock ($(grep -vc '^#' "$lock") packages)"
