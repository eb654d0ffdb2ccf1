#!/usr/bin/env bash
# Deploy the stack: README "Deploy".
#
#   bash scripts/deploy.sh                    onto a throwaway local bare host (container
#                                             `mlflow-demo`), with inventories/compose
#   bash scripts/deploy.sh -i inventories/prod [ansible-playbook args...]
#                                             onto the servers an inventory names
#   bash scripts/deploy.sh --check --diff     preview a change to the throwaway host's stack
#                                             (any ansible-playbook args without -i)
#
# Sets up the same Python environment and Docker engine as the test command, so it works on a
# fresh Debian 12 machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/test.sh setup-only
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/collections"

# An inventory given: its servers. Other arguments alone (`--check --diff`, `-v`) go to the
# throwaway host's run below, with its inventory, variables and password.
for arg in "$@"; do
  case $arg in
    -i | -i?* | --inventory | --inventory=* | --inventory-file | --inventory-file=*)
      exec ansible-playbook site.yml "$@" ;;
  esac
done

# No servers given: a throwaway bare Debian 12 host on this machine, the compose stage on it.
bash tests/images/build.sh
ansible-playbook molecule/resources/create.yml \
  -e '{"bare_hosts": [{"name": "mlflow-demo", "published_ports": ["127.0.0.1:8443:443"]}]}'
# This machine reaches no container registry and no Docker apt repository: the demo host gets
# Debian's docker.io, the Compose v2 plugin binary the setup step extracted, and the stand-in
# images the tests use (tests/images/build.sh), from the same variables file as the tests.
export MLOPS_CACHE="$root/.cache"
password_file="$root/.cache/demo-password"
[ -s "$password_file" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$password_file")
MLFLOW_DEMO_PASSWORD=$(cat "$password_file")
export MLFLOW_DEMO_PASSWORD
# The tests' vars file sets 2 MLflow workers for busy test lanes; the demo keeps the role's default.
ansible-playbook site.yml -i inventories/compose -e @molecule/resources/inventory/group_vars/all.yml \
  -e '{"mlflow_server_workers": 4}' "$@"
[ $# -eq 0 ] || exit 0  # a preview (--check --diff) or a run with extra arguments: its output says it all
cat <<MSG

MLflow is up on the throwaway host mlflow-demo:
  URL:      https://localhost:8443/   (self-signed certificate: docker exec mlflow-demo cat /etc/nginx/tls/mlflow.crt)
  login:    mlflow
  password: in $password_file
  client:   MLFLOW_TRACKING_URI=https://localhost:8443 MLFLOW_TRACKING_USERNAME=mlflow \\
            MLFLOW_TRACKING_PASSWORD=\$(cat $password_file) MLFLOW_TRACKING_SERVER_CERT_PATH=mlflow.crt
Remove it with: docker rm -f mlflow-demo && docker volume rm mlflow-demo-var-lib-docker
MSG
