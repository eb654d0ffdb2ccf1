#!/usr/bin/env bash
# Deploy the stack: README "Deploy".
#
#   bash scripts/deploy.sh                    onto a throwaway local bare host (container
#                                             `mlflow-demo`), with inventories/compose
#   bash scripts/deploy.sh -i inventories/prod [ansible-playbook args...]
#                                             onto the servers an inventory names
#
# Sets up the same Python environment and Docker engine as the test command, so it works on a
# fresh Debian 12 machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/test.sh setup-only
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/collections"

if [ $# -gt 0 ]; then
  exec ansible-playbook site.yml "$@"
fi

# No servers given: a throwaway bare Debian 12 host on this machine.
bash tests/images/build.sh
ansible-playbook molecule/resources/create.yml \
  -e '{"bare_hosts": [{"name": "mlflow-demo", "published_ports": ["127.0.0.1:8443:443"]}]}'
# No Docker apt repository is reachable from such a machine: Debian's docker.io and the Compose
# v2 plugin binary the setup step extracted.
ansible-playbook site.yml -i inventories/compose \
  -e docker_host_install_source=distro \
  -e "docker_host_compose_plugin_src=$root/.cache/bin/docker-compose"
echo "Deployed onto the throwaway host mlflow-demo (docker exec -it mlflow-demo bash)."
echo "Remove it with: docker rm -f mlflow-demo && docker volume rm mlflow-demo-var-lib-docker"
