#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection at .../ansible_collections/mlops/mlflow
# (ansible-test insists on that path). Extra arguments go to ansible-test, e.g.
#   scripts/sanity.sh --test validate-modules
#
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# ansible-test bootstraps pip into each test's venv with get-pip.py from ci-files.testing.ansible.com
# (unreachable here). It takes a cached copy when there is one: put a stand-in there that
# installs the requested pip from PyPI with the pip wheel Python itself bundles (ensurepip).
# ansible-core 2.19's ansible-test bootstraps pip 24.2.
for v in 24.2; do
  get_pip="$HOME/.ansible/test/cache/get_pip_${v//./_}.py"
  mkdir -p "$(dirname "$get_pip")"
  cat >"$get_pip" <<'PY'
"""Stand-in for get-pip.py (written by mlops.mlflow scripts/sanity.sh): pip from ensurepip's wheel."""
import glob
import os
import sys

import ensurepip

wheel = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))[0]
sys.path.insert(0, wheel)
from pip._internal.cli.main import main  # noqa: E402

# get-pip.py's own flags; pip install does not know them.
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", *args]))
PY
done

dest="$root/.cache/sanity/ansible_collections/mlops/mlflow"
rm -rf "$dest" && mkdir -p "$dest"
tar -C "$root" --exclude ./.venv --exclude ./.cache --exclude ./.git --exclude ./collections \
  --exclude '__pycache__' --exclude .pytest_cache --exclude .ruff_cache --exclude .ca-bundle.crt \
  -c . | tar -C "$dest" -x
# Collections our plugins import from (community.docker's Compose event parser) sit beside ours,
# where ansible-test looks for them; they come from the venv's ansible package.
docker_collection=$("$root/.venv/bin/python" -c 'import ansible_collections.community.docker as c; print(list(c.__path__)[0])')
rm -rf "$root/.cache/sanity/ansible_collections/community" && mkdir -p "$root/.cache/sanity/ansible_collections/community"
cp -r "$docker_collection" "$root/.cache/sanity/ansible_collections/community/docker"
cd "$dest"
# ansible-test lists files through git when it is a repository: make the copy one.
git init -q . 2>/dev/null || true
git add -A >/dev/null 2>&1
PATH="$root/.venv/bin:$PATH" ansible-test sanity --venv --python 3.11 "$@"
