#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection at .../ansible_collections/mlops/mlflow
# (ansible-test insists on that path). Extra arguments go to ansible-test, e.g.
#   scripts/sanity.sh --test validate-modules
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/sanity/ansible_collections/mlops/mlflow"
rm -rf "$dest" && mkdir -p "$dest"
tar -C "$root" --exclude ./.venv --exclude ./.cache --exclude ./.git --exclude ./collections --exclude '__pycache__' \
  --exclude .pytest_cache --exclude .ruff_cache -c . | tar -C "$dest" -x
cd "$dest"
# ansible-test lists files through git when it is a repository: make the copy one.
git init -q . 2>/dev/null || true
git add -A >/dev/null 2>&1
PATH="$root/.venv/bin:$PATH" ansible-test sanity --venv --python 3.11 "$@"
