"""mlops.mlflow benchmarks: one command, a markdown report in benchmarks/results/.

    bash benchmarks/run.sh            (sets up like the test command, then runs this)

On this machine it creates two throwaway bare hosts (systemd containers, as the Molecule
scenarios use), deploys the compose stage on one and the local stage on the other with
site.yml, then measures side by side in the same run:

1. deploy time: first converge, the idempotent re-run (median of REPEATS) and the floor of
   `docker compose up -d --wait` of the same rendered files alone (median of REPEATS); beside
   each re-run, what Ansible itself takes on the host (a controller-only task, a module run, a
   command), and the re-run's module runs and commands counted in one more re-run at -vvv;
2. proxy overhead: requests/s, p50 and p99 of runs/log-batch (100 metrics), experiments/search
   and runs/search at 1, 8 and 32 concurrent clients, through nginx + TLS + basic auth vs
   straight to MLflow's port, interleaved in rotating order, median of REPEATS windows; at one
   client also through two nginx controls (the proxy hop alone, and with TLS: where the
   overhead goes, benchmarks/nginx-controls.conf); then experiments/search
   at 8 clients for every htpasswd scheme the module offers;
3. artifact throughput: a 1 GiB artifact logged with the MLflow client through nginx
   (proxied) and with MLflow's proxy multipart upload on, each interleaved with boto3 putting
   the same file straight to the S3 endpoint, median of REPEATS; peak resident memory of nginx
   and of the MLflow container during each upload, at 256 MiB, 1 GiB and 2 GiB (whether it
   grows with the file's size);
4. concurrent writers: 8 clients logging runs through nginx (compose stage) and straight to
   the local stage's SQLite server, REPEATS windows each;
5. migration: a SQLite database with 1M metric rows (written through MLflow's own store)
   migrated with the collection's playbook, REPEATS times; rows/s and times from the
   playbook's per-task profile; then search_runs latency on the migrated database vs the same
   data written through MLflow into a fresh PostgreSQL database.

The load of 2 and 4 runs on the benchmark host itself (benchmarks/load.py, python3-requests);
the MLflow client of 3 and 5 runs in a container of the deployed MLflow image on that host
(benchmarks/client.py). Traffic stays on that host's loopback and its own Docker network.
BENCH_FIGURES (default 1,2,3,4,5) picks figures; the deploy of figure 1 always runs.
"""

import datetime
import functools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "3"))
WRITER_WINDOW = float(os.environ.get("BENCH_WRITER_WINDOW", "60"))
FIGURES = {int(f) for f in os.environ.get("BENCH_FIGURES", "1,2,3,4,5").split(",")}
ARTIFACT_MIB = [int(v) for v in os.environ.get("BENCH_ARTIFACT_MIB", "256,1024,2048").split(",")]
# Figure 3's throughput is measured at 1 GiB (the issue's size) when it is among the sizes.
RATIO_MIB = 1024 if 1024 in ARTIFACT_MIB else max(ARTIFACT_MIB)
# Figure 3's memory goal: from the smallest to the largest file, a process's growth during the
# upload rises by less than this share of the extra MiB. Holding the file (or any fixed share of
# it) in memory shows that share, 1.0 for the whole file; a bounded stream shows 0 plus noise.
MEMORY_SLOPE_GOAL = 0.1
# 100 runs x 10 metrics x 1000 steps = 1M metric rows.
MIGRATION_SHAPE = [int(v) for v in os.environ.get("BENCH_MIGRATION_SHAPE", "100,10,1000").split(",")]
# Report keys of each figure; BENCH_REMEASURE (with BENCH_RESUME) measures these again.
FIGURE_KEYS = {
    1: ("deploy",),
    2: ("proxy_scheme", "call_window_s", "proxy", "proxy_controls", "schemes"),
    3: ("artifacts",),
    4: ("writers",),
    5: ("migration",),
}
REMEASURE = {int(f) for f in os.environ.get("BENCH_REMEASURE", "").split(",") if f}
COMPOSE_HOST = "mlops-bench-compose"
LOCAL_HOST = "mlops-bench-local"
SCHEMES = ["sha512_crypt", "sha256_crypt", "apr_md5_crypt", "bcrypt"]
ENDPOINTS = ["log-batch", "experiments-search", "runs-search"]
CONCURRENCY = [1, 8, 32]


def sh(*argv: str, env: dict | None = None, capture: bool = True) -> str:
    result = subprocess.run(
        list(argv), cwd=ROOT, env={**os.environ, **(env or {})}, text=True, capture_output=capture, check=False
    )
    if result.returncode != 0:
        sys.stderr.write((result.stdout or "")[-4000:] + (result.stderr or "")[-4000:])
        raise SystemExit(f"failed ({result.returncode}): {' '.join(argv[:6])}")
    return result.stdout if capture else ""


def timed(*argv: str, env: dict | None = None) -> float:
    start = time.monotonic()
    sh(*argv, env=env)
    return time.monotonic() - start


PROFILE = re.compile(r"^(?P<task>.+?) -+ (?P<seconds>\d+\.\d+)s$")  # 1 dash when the name is long
PROFILE_ENV = {
    "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
    "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
    "PROFILE_TASKS_SORT_ORDER": "none",
}


def profiled(argv: list[str], env: dict) -> tuple[float, list[tuple[str, float]]]:
    """Run a playbook with profile_tasks: wall seconds and (task, seconds) of every task."""
    start = time.monotonic()
    output = sh(*argv, env={**env, **PROFILE_ENV})
    wall = time.monotonic() - start
    tasks = [(m["task"], float(m["seconds"])) for m in map(PROFILE.match, output.splitlines()) if m]
    if not tasks:
        raise SystemExit(f"no per-task profile in the output of {' '.join(argv[-1:])}")
    return wall, tasks


def playbook(inventory: str, *extra: str, play: str = "site.yml") -> list[str]:
    return [
        "ansible-playbook",
        "-i",
        str(BENCH / inventory),
        "-e",
        f"@{ROOT / 'molecule/resources/inventory/group_vars/all.yml'}",
        # The stand-in images and Docker source of the tests, but the role's default workers.
        *["-e", json.dumps({"mlflow_server_workers": 4})],
        *extra,
        str(ROOT / play),
    ]


def on_host(host: str, *argv: str) -> str:
    return sh("docker", "exec", host, *argv)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def create_hosts() -> None:
    hosts = [
        {"name": COMPOSE_HOST, "published_ports": []},
        {"name": LOCAL_HOST, "published_ports": []},
    ]
    sh(
        "ansible-playbook",
        str(ROOT / "molecule/resources/create.yml"),
        "-e",
        json.dumps({"bare_hosts": hosts}),
        env={"MOLECULE_SCENARIO_NAME": "bench"},
    )
    copy_load()


def copy_load() -> None:
    for host in (COMPOSE_HOST, LOCAL_HOST):
        sh("docker", "cp", str(BENCH / "load.py"), f"{host}:/usr/local/bin/mlops-bench-load")


def destroy_hosts() -> None:
    for host in (COMPOSE_HOST, LOCAL_HOST):
        subprocess.run(["docker", "rm", "-f", host], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", f"{host}-var-lib-docker"], capture_output=True, check=False)
    subprocess.run(["docker", "network", "rm", "mlops-bench"], capture_output=True, check=False)


def compose_command() -> list[str]:
    """`docker compose` of the compose host's project, with every service file the roles wrote."""
    files = on_host(COMPOSE_HOST, "sh", "-c", "ls /opt/mlflow/*.compose.yml").split()
    return ["docker", "compose", "-p", "mlflow"] + [f"-f={f}" for f in files]


def deploy_times(env: dict) -> dict:
    first = timed(*playbook("inventory-compose"), env=env)
    local_first = timed(*playbook("inventory-local"), env=env)
    compose = compose_command()
    rerun, floor, by_role, costs = [], [], [], []
    for _repeat in range(REPEATS):
        wall, tasks = profiled(playbook("inventory-compose"), env)
        rerun.append(wall)
        by_role.append(time_by_role(tasks))
        floor.append(timed("docker", "exec", "-w", "/opt/mlflow", COMPOSE_HOST, *compose, "up", "-d", "--wait"))
        costs.append(ansible_costs(env))
    runs = host_runs(env)
    roles = sorted({role for run in by_role for role in run})
    return {
        "first": round(first, 1),
        "local_first": round(local_first, 1),
        "rerun": median(rerun),
        "floor": median(floor),
        "rerun_all": [round(v, 1) for v in rerun],
        "floor_all": [round(v, 1) for v in floor],
        # Per role of the re-runs: median seconds and tasks; the module runs and other commands
        # on the host, counted exactly in one more re-run.
        "rerun_by_role": {
            role: {
                **{key: median([run.get(role, {}).get(key, 0) for run in by_role]) for key in ("s", "tasks")},
                **runs.get(role, {"module": 0, "command": 0}),
            }
            for role in roles
        },
        # What Ansible itself takes on this host, measured beside each re-run (medians, seconds).
        "ansible_costs": {key: round(statistics.median([c[key] for c in costs]), 3) for key in costs[0]},
    }


PLAY_ROW = "(play: facts, checks)"


def role_of(task: str) -> str:
    """The role of a task as profile_tasks and the TASK banner name it, else the play-level row."""
    return task.split(" : ")[0].removeprefix("mlops.mlflow.") if " : " in task else PLAY_ROW


def time_by_role(tasks: list[tuple[str, float]]) -> dict:
    """Seconds and task count per role (or play-level task) of one profile."""
    roles: dict = {}
    for task, seconds in tasks:
        row = roles.setdefault(role_of(task), {"s": 0.0, "tasks": 0})
        row["s"] += seconds
        row["tasks"] += 1
    return roles


TASK_BANNER = re.compile(r"^TASK \[(?P<task>.+)\] \**$")
# -vvv's line for each command the connection runs on the host: the Python of a module run
# (pipelined: the interpreter reads the module on stdin), or a shell command (temporary
# directories, the interpreter's discovery).
HOST_EXEC = re.compile(r"^<[^>]+> EXEC ")
MODULE_RUN = re.compile(r"python[0-9.]* && sleep 0")


def count_host_runs(output: str) -> dict:
    """Module runs and other commands on the host per role, from a playbook's -vvv output."""
    roles: dict = {}
    role = PLAY_ROW
    for line in output.splitlines():
        banner = TASK_BANNER.match(line)
        if banner:
            role = role_of(banner["task"])
        elif HOST_EXEC.match(line):
            row = roles.setdefault(role, {"module": 0, "command": 0})
            row["module" if MODULE_RUN.search(line) else "command"] += 1
    return roles


def host_runs(env: dict) -> dict:
    """One more, untimed re-run at -vvv: the commands it runs on the host, counted per role.
    Its output is counted, never printed or kept (-vvv shows module arguments)."""
    argv = playbook("inventory-compose")
    result = subprocess.run(
        [argv[0], "-vvv", *argv[1:]], cwd=ROOT, env={**os.environ, **env}, text=True, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"the counted re-run failed ({result.returncode}); its -vvv output is not shown")
    return count_host_runs(result.stdout)


COST_TASKS = 20
COST_PROBES = {  # one task each; a playbook runs it once, another 1 + COST_TASKS times
    "task": {"ansible.builtin.debug": {"msg": "on the controller only"}},
    "module": {"ansible.builtin.ping": {}},
    "command": {"ansible.builtin.raw": "true"},
}


def ansible_costs(env: dict) -> dict:
    """Seconds Ansible takes on the compose host, beside each re-run: a task that stays on the
    controller, a module run (pipelined AnsiballZ over `docker exec`), a raw command, and the
    start of a playbook (its first contact with the host included)."""
    costs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for probe, task in COST_PROBES.items():
            times = []
            for count in (1, 1 + COST_TASKS):
                path = Path(tmp) / f"{probe}-{count}.yml"
                play = [{"name": probe, "hosts": COMPOSE_HOST, "gather_facts": False, "tasks": [task] * count}]
                path.write_text(json.dumps(play), encoding="utf-8")
                times.append(timed("ansible-playbook", "-i", str(BENCH / "inventory-compose"), str(path), env=env))
            costs[probe] = (times[1] - times[0]) / COST_TASKS
            if probe == "module":
                costs["start"] = times[0] - costs["module"]
    return costs


def load(host: str, *args: str) -> dict:
    return json.loads(on_host(host, "python3", "/usr/local/bin/mlops-bench-load", *args).strip().splitlines()[-1])


NGINX = [
    "https://localhost",
    "--user",
    "bench",
    "--password-file",
    "/root/bench-password",
    "--ca",
    "/etc/nginx/tls/mlflow.crt",
]
# Straight to MLflow under its public name (MLflow refuses Host headers it was not given).
DIRECT = ["http://127.0.0.1:5000", "--host-header", "localhost"]


def mlflow_container() -> str:
    """ID of the compose stage's MLflow container (for its memory and CPU time)."""
    return on_host(COMPOSE_HOST, "docker", "compose", "-p", "mlflow", "ps", "-q", "--no-trunc", "mlflow").strip()


# Figure 2's controls (benchmarks/nginx-controls.conf): nginx without parts of the role's site.
CONTROL_CONF = "/etc/nginx/conf.d/zz-mlops-bench-controls.conf"
CONTROLS = [
    ("direct", DIRECT),
    ("proxy only", ["http://127.0.0.1:8080", "--host-header", "localhost"]),
    ("proxy + TLS", ["https://localhost:8443", "--ca", "/etc/nginx/tls/mlflow.crt"]),
    ("nginx", NGINX),
]


def side_by_side(endpoint: str, concurrency: int, sides: list | None = None) -> dict:
    """REPEATS windows of each side (default: straight to MLflow and through nginx), interleaved.

    The order rotates from one repeat to the next (direct first, then nginx first, ...), so a
    drift of the machine favours no side. Medians per side, and each side's ratio to direct.
    """
    sides = sides or [("direct", DIRECT), ("nginx", NGINX)]
    cell: dict[str, list[dict]] = {name: [] for name, _target in sides}
    container = mlflow_container()
    for repeat in range(REPEATS):
        shift = repeat % len(sides)
        for name, target in sides[shift:] + sides[:shift]:
            cell[name].append(
                load(
                    COMPOSE_HOST,
                    "calls",
                    *target,
                    *["--endpoint", endpoint, "--concurrency", str(concurrency), "--seconds", str(WINDOW)],
                    *["--container", container],
                )
            )
    return summarise(cell)


PREFIXES = {"$apr1$": "apr_md5_crypt", "$6$": "sha512_crypt", "$5$": "sha256_crypt", "$2": "bcrypt"}


def htpasswd_scheme() -> str:
    """The scheme of the benchmark user's entry, as deployed (the role's default here)."""
    entry = on_host(COMPOSE_HOST, "sh", "-c", "grep '^bench:' /etc/nginx/mlflow.htpasswd").strip()
    return next(name for prefix, name in PREFIXES.items() if entry.split(":", 1)[1].startswith(prefix))


def proxy_overhead() -> dict:
    """Figure 2's main table, with the htpasswd scheme it was measured with."""
    return {
        "proxy_scheme": htpasswd_scheme(),
        "call_window_s": WINDOW,
        "proxy": [
            {"endpoint": endpoint, "concurrency": concurrency, **side_by_side(endpoint, concurrency)}
            for endpoint in ENDPOINTS
            for concurrency in CONCURRENCY
        ],
    }


def summarise(cell: dict) -> dict:
    out = {}
    for name, results in cell.items():
        out[name] = {
            "rps": median([r["rps"] for r in results]),
            "p50_ms": median([r["p50_ms"] for r in results]),
            "p99_ms": median([r["p99_ms"] for r in results]),
            "errors": sum(r["errors"] for r in results),
            "error_kinds": {
                kind: sum(r.get("error_kinds", {}).get(kind, 0) for r in results)
                for kind in sorted({kind for r in results for kind in r.get("error_kinds", {})})
            },
        }
        if all("cpu_ms_per_request" in r for r in results):
            out[name]["cpu_ms_per_request"] = {
                kind: median([r["cpu_ms_per_request"][kind] for r in results])
                for kind in results[0]["cpu_ms_per_request"]
            }
    ratios = {
        name: round(out[name]["rps"] / out["direct"]["rps"], 3) if out["direct"]["rps"] else None
        for name in cell
        if name != "direct"
    }
    out["ratio"] = ratios["nginx"]
    if len(ratios) > 1:
        out["ratios"] = ratios
    return out


def proxy_controls() -> dict:
    """One client per endpoint: direct, the proxy hop alone, with TLS, and the role's site."""
    sh("docker", "cp", str(BENCH / "nginx-controls.conf"), f"{COMPOSE_HOST}:{CONTROL_CONF}")
    try:
        on_host(COMPOSE_HOST, "sh", "-c", "nginx -t && nginx -s reload && sleep 1")
        return {
            "proxy_controls": [
                {"endpoint": endpoint, "concurrency": 1, **side_by_side(endpoint, 1, CONTROLS)}
                for endpoint in ENDPOINTS
            ]
        }
    finally:
        on_host(COMPOSE_HOST, "sh", "-c", f"rm -f {CONTROL_CONF} && nginx -s reload && sleep 1")


def schemes(env: dict) -> list[dict]:
    rows = []
    for scheme in SCHEMES:
        sh(*playbook("inventory-compose", "-e", f"nginx_auth_htpasswd_scheme={scheme}"), env=env)
        rows.append({"scheme": scheme, **side_by_side("experiments-search", 8)})
    # Back to the default for what follows.
    sh(*playbook("inventory-compose"), env=env)
    return rows


def writers() -> dict:
    cell = {"compose (nginx, PostgreSQL)": [], "local (SQLite)": []}
    for _repeat in range(REPEATS):
        cell["compose (nginx, PostgreSQL)"].append(
            load(COMPOSE_HOST, "writers", *NGINX, "--concurrency", "8", "--seconds", str(WRITER_WINDOW))
        )
        cell["local (SQLite)"].append(
            load(LOCAL_HOST, "writers", "http://127.0.0.1:5001", "--concurrency", "8", "--seconds", str(WRITER_WINDOW))
        )
    return {
        name: {
            "runs_per_s": median([r["runs_per_s"] for r in results]),
            "errors": sum(r["errors"] for r in results),
            "runs": sum(r["runs"] for r in results),
        }
        for name, results in cell.items()
    }


BENCH_DIR = "/root/bench"  # on the compose host: client.py, test files, copies of secrets (0700)


@functools.cache
def mlflow_image() -> str:
    """The deployed server's image (built once per run; the client runs in it)."""
    return on_host(
        COMPOSE_HOST, "sh", "-c", "docker inspect -f '{{.Config.Image}}' $(docker compose -p mlflow ps -q mlflow)"
    ).strip()


def client_run(*args: str, network: str = "host", mounts: tuple = ()) -> list[str]:
    """`docker run` of benchmarks/client.py in the deployed MLflow image, on the compose host."""
    return [
        *["docker", "run", "--rm", "--network", network, "--user", "0", "-e", "HOME=/tmp"],
        *(["--add-host", "minio:127.0.0.1"] if network == "host" else []),
        *["-v", f"{BENCH_DIR}:/bench:ro", *mounts, "--entrypoint", "python", mlflow_image(), "/bench/client.py"],
        *args,
    ]


def prepare_client() -> None:
    on_host(
        COMPOSE_HOST,
        "sh",
        "-c",
        f"set -e; umask 077; mkdir -p {BENCH_DIR}/secrets; cd {BENCH_DIR};"
        " cp /etc/nginx/tls/mlflow.crt ca.crt; chmod 644 ca.crt; cp /root/bench-password secrets/bench-password;"
        " cp /opt/mlflow/secrets/minio_root_user /opt/mlflow/secrets/minio_root_password"
        " /opt/mlflow/secrets/mlflow_db_password secrets/;"
        + "".join(f" [ -s {mib}.bin ] || head -c {mib}M /dev/urandom > {mib}.bin;" for mib in ARTIFACT_MIB),
    )
    sh("docker", "cp", str(BENCH / "client.py"), f"{COMPOSE_HOST}:{BENCH_DIR}/client.py")


def upload(mode: str, mib: int) -> dict:
    container = mlflow_container()
    return json.loads(
        on_host(
            COMPOSE_HOST,
            *["python3", "/usr/local/bin/mlops-bench-load", "watch", container, "--"],
            *client_run("artifact", mode, f"/bench/{mib}.bin"),
        )
        .strip()
        .splitlines()[-1]
    )


def artifact_phase(mode: str) -> dict:
    """REPEATS uploads of the 1 GiB file in `mode`, each after a direct put; then memory per size."""
    big = RATIO_MIB
    cell: dict[str, list[dict]] = {"direct": [], mode: []}
    for _repeat in range(REPEATS):
        for name in ("direct", mode):
            cell[name].append(upload(name, big))
    memory = {big: cell[mode]}
    for mib in sorted(set(ARTIFACT_MIB) - {big}):
        memory[mib] = [upload(mode, mib) for _repeat in range(3)]
    seconds = {name: median([r["seconds"] for r in results]) for name, results in cell.items()}
    return {
        "mib": big,
        "direct_s": seconds["direct"],
        "mode_s": seconds[mode],
        "direct_mib_s": round(big / seconds["direct"], 1),
        "mode_mib_s": round(big / seconds[mode], 1),
        "ratio": round(seconds["direct"] / seconds[mode], 3),
        "all_direct_s": [r["seconds"] for r in cell["direct"]],
        "all_mode_s": [r["seconds"] for r in cell[mode]],
        "memory": {
            mib: {
                key: median([r[key] for r in results])
                for key in ("nginx_idle_mib", "nginx_peak_mib", "mlflow_idle_mib", "mlflow_peak_mib")
            }
            for mib, results in sorted(memory.items())
        },
        "direct_memory": {
            key: median([r[key] for r in cell["direct"]]) for key in ("nginx_peak_mib", "mlflow_peak_mib")
        },
    }


def artifacts(env: dict) -> dict:
    prepare_client()
    out = {"proxied": artifact_phase("proxied")}
    sh(*playbook("inventory-compose", "-e", "mlflow_server_multipart_upload=true"), env=env)
    try:
        out["multipart"] = artifact_phase("multipart")
    finally:
        sh(*playbook("inventory-compose"), env=env)
    return out


def migration(env: dict) -> dict:
    """The 1M-row SQLite file migrated REPEATS times with the collection's playbook, then search_runs."""
    runs, keys, steps = MIGRATION_SHAPE
    prepare_client()
    on_host(COMPOSE_HOST, "sh", "-c", f"rm -rf {BENCH_DIR}/mig && mkdir -p {BENCH_DIR}/mig")
    mig = (f"-v={BENCH_DIR}/mig:/mig",)
    made = json.loads(
        on_host(
            COMPOSE_HOST, *client_run("fill", "sqlite:////mig/source.db", str(runs), str(keys), str(steps), mounts=mig)
        )
        .strip()
        .splitlines()[-1]
    )
    extra = {
        "migrate_sqlite_source": f"{BENCH_DIR}/mig/mlflow.db",
        "migrate_sqlite_artifacts_dir": "",
        "migrate_sqlite_overwrite": True,
    }
    repeats = []
    for _repeat in range(REPEATS):
        on_host(COMPOSE_HOST, "sh", "-c", f"cd {BENCH_DIR}/mig && rm -f mlflow.db* && cp source.db mlflow.db")
        wall, tasks = profiled(
            playbook("inventory-compose", "-e", json.dumps(extra), play="playbooks/migrate_sqlite_to_postgres.yml"), env
        )
        role = [seconds for task, seconds in tasks if task.startswith("mlops.mlflow.migrate_sqlite :")]
        load = [seconds for task, seconds in tasks if "Load the data (data only" in task]
        check = [seconds for task, seconds in tasks if "migrate_sqlite : Verify every row" in task]
        if not role or len(load) != 1 or len(check) != 1:
            raise SystemExit("no per-task profile in the migration playbook's output")
        repeats.append({"wall": wall, "role": sum(role), "pgloader": load[0], "verify": check[0]})
    db = "postgresql+psycopg2://mlflow:{db_password}@postgres:5432/"
    on_host(
        COMPOSE_HOST,
        *["docker", "compose", "-p", "mlflow", "exec", "-T", "postgres", "psql", "-U", "mlflow", "-d", "postgres"],
        *["-c", "DROP DATABASE IF EXISTS bench_fresh", "-c", "CREATE DATABASE bench_fresh"],
    )
    network = "mlflow_default"
    fresh = json.loads(
        on_host(
            COMPOSE_HOST, *client_run("fill", db + "bench_fresh", str(runs), str(keys), str(steps), network=network)
        )
        .strip()
        .splitlines()[-1]
    )
    search = json.loads(
        on_host(COMPOSE_HOST, *client_run("search", db + "mlflow", db + "bench_fresh", "50", network=network))
        .strip()
        .splitlines()[-1]
    )
    rows = made["metric_rows"]
    return {
        "metric_rows": rows,
        "shape": {"runs": runs, "metrics_per_run": keys, "steps": steps},
        "sqlite_fill_s": made["seconds"],
        "fresh_fill_s": fresh["seconds"],
        "pgloader_s": median([r["pgloader"] for r in repeats]),
        "role_s": median([r["role"] for r in repeats]),
        "verify_s": median([r["verify"] for r in repeats]),
        "wall_s": median([r["wall"] for r in repeats]),
        "rows_per_s_pgloader": round(rows / median([r["pgloader"] for r in repeats])),
        "rows_per_s_role": round(rows / median([r["role"] for r in repeats])),
        "all": [{k: round(v, 1) for k, v in r.items()} for r in repeats],
        "search": {"migrated": search["a"], "fresh": search["b"]},
    }


def versions() -> dict:
    return {
        "mlflow": on_host(COMPOSE_HOST, "sh", "-c", "docker compose -p mlflow exec -T mlflow mlflow --version").strip(),
        "nginx": on_host(COMPOSE_HOST, "sh", "-c", "nginx -v 2>&1").strip(),
        "docker (host)": on_host(COMPOSE_HOST, "docker", "version", "--format", "{{.Server.Version}}").strip(),
        "ansible": sh("ansible", "--version").splitlines()[0],
        "python": platform.python_version(),
    }


def _deploy_section(d: dict) -> list[str]:
    return [
        "| measure | seconds |",
        "| --- | --- |",
        f"| first converge (site.yml on a bare host, image archives loaded and MLflow image built) | {d['first']} |",
        f"| first converge, local stage (other host, same run) | {d['local_first']} |",
        f"| idempotent re-run of site.yml (median) | {d['rerun']} |",
        f"| floor: `docker compose up -d --wait` of the same rendered files (median) | {d['floor']} |",
        f"| ratio re-run / floor (goal <= 2, and re-run < 30 s) | {round(d['rerun'] / d['floor'], 2)} |",
        "",
        f"All re-runs: {d['rerun_all']}; all floors: {d['floor_all']}.",
        *_rerun_roles_section(d.get("rerun_by_role")),
        *_ansible_costs_section(d),
    ]


def _rerun_roles_section(by_role: dict | None) -> list[str]:
    if not by_role:
        return []
    lines = [
        "",
        "Where the idempotent re-run spends its time: seconds and tasks per role (profile_tasks, medians"
        " of the re-runs); module runs and other commands on the host (`docker exec`), counted in one"
        " more re-run at -vvv (a template or copy that changes nothing runs two modules, stat and file,"
        " and three commands for its temporary directory):",
        "",
        "| role | seconds | tasks | module runs | other commands |",
        "| --- | --- | --- | --- | --- |",
    ]
    for role, row in sorted(by_role.items(), key=lambda item: -item[1]["s"]):
        lines.append(f"| {role} | {round(row['s'], 2)} | {int(row['tasks'])} | {row['module']} | {row['command']} |")
    return lines


def rerun_floor(d: dict) -> dict | None:
    """What the re-run would take if its modules did no work: the playbook's start, every task at
    a debug's cost, every module run at a ping's, every other command at a raw `true`'s."""
    costs = d.get("ansible_costs")
    if not costs:
        return None
    count = {key: sum(row[key] for row in d["rerun_by_role"].values()) for key in ("tasks", "module", "command")}
    seconds = (
        costs["start"]
        + count["tasks"] * costs["task"]
        + count["module"] * (costs["module"] - costs["task"])
        + count["command"] * (costs["command"] - costs["task"])
    )
    return {**count, "s": round(seconds, 2)}


def _ansible_costs_section(d: dict) -> list[str]:
    costs, floor = d.get("ansible_costs"), rerun_floor(d)
    if not floor:
        return []
    ms = {key: round(value * 1000) for key, value in costs.items()}
    return [
        "",
        "What Ansible itself takes on this host, measured beside each re-run (medians; playbooks of"
        f" 1 and {1 + COST_TASKS} tasks against the compose host, the difference per task):",
        "",
        "| cost | ms |",
        "| --- | --- |",
        f"| start of a playbook (its first contact with the host included) | {ms['start']} |",
        f"| a task that stays on the controller (`debug`) | {ms['task']} |",
        f"| a task that runs a module on the host (`ping`: pipelined AnsiballZ over `docker exec`) | {ms['module']} |",
        f"| a task that runs a command on the host (`raw: true`) | {ms['command']} |",
        "",
        f"At these costs the re-run's {int(floor['tasks'])} tasks, {floor['module']} module runs and"
        f" {floor['command']} other commands would take about {floor['s']} s if no module did any work:"
        f" {round(100 * floor['s'] / d['rerun'])} % of the measured {d['rerun']} s. The rest is the modules'"
        " own work (apt, the Docker CLI, the certificate checks) and the tasks' templating. Most of a"
        " ping's module run is the host's Python importing ansible-core's module_utils from the"
        " AnsiballZ payload, compiled afresh on every run (by hand, 2026-12-07: 0.23 s of Python per"
        " ping, 0.14 s of it importing ansible.module_utils.basic; `docker exec` itself 0.06 s).",
    ]


# What the errors at 32 clients were found to be (by hand, on a benchmark host, 2026-11-29).
ERRORS_EXPLAINED = [
    "ReadTimeout (the load's 30 s limit) at 32 clients: uvicorn hands each new keep-alive connection to"
    " whichever worker accepts first, and a burst of 32 can leave 15-21 of them on one of the 4 workers"
    " (counted in /proc during the load: e.g. 21/6/4/1). That worker's requests queue behind its"
    " connection pool (5 + 5) and the GIL while the others idle; the requests that time out are all on it."
    " A larger pool (5 + 25, max_connections 200) removed the timeouts in 4 tries but not the"
    " multi-second p99, so the role's defaults stay. Through nginx, the upstream keep-alive"
    " connections are spread the same way. HTTP 500 on runs-search (AttributeError auth_config) was"
    " MLflow importing its auth app on every request; the image guards against it since commit ccc952b."
    " HTTP 502 through nginx: nginx reused an idle upstream connection that uvicorn (5 s keep-alive by"
    " default) was closing, and a POST is not retried; uvicorn keeps idle connections 75 s since then"
    " (mlflow_server_keepalive_timeout), longer than nginx's 60 s, so nginx closes them first.",
]


def _proxy_section(data: dict) -> list[str]:
    lines = [
        f"With the role's default htpasswd scheme at the time, `{data.get('proxy_scheme', 'sha512_crypt')}`;"
        " log-batch: "
        + (
            "one run per client."
            if "proxy_scheme" in data
            else "all clients logged to one run (the 32-client row mostly measures row locks on that run's metrics)."
        ),
        "",
        "| endpoint | clients | direct req/s | nginx req/s | ratio (goal >= 0.95) "
        "| direct p50/p99 ms | nginx p50/p99 ms | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in data["proxy"]:
        lines.append(
            f"| {row['endpoint']} | {row['concurrency']} | {row['direct']['rps']} | {row['nginx']['rps']} "
            f"| {row['ratio']} | {row['direct']['p50_ms']}/{row['direct']['p99_ms']} "
            f"| {row['nginx']['p50_ms']}/{row['nginx']['p99_ms']} "
            f"| {row['direct']['errors'] + row['nginx']['errors']} |"
        )
    kinds = [
        f"{row['endpoint']} at {row['concurrency']} clients, {name}: "
        + ", ".join(f"{count} x {kind}" for kind, count in row[name].get("error_kinds", {}).items())
        for row in data["proxy"]
        for name in ("direct", "nginx")
        if row[name].get("error_kinds")
    ]
    if kinds:
        lines += ["", "Errors by kind: " + "; ".join(kinds) + ".", "", *ERRORS_EXPLAINED]
    lines += _cpu_lines(data["proxy"])
    lines += _control_lines(data.get("proxy_controls", []))
    lines += [
        "",
        "### htpasswd schemes (experiments/search, 8 clients)",
        "",
        "| scheme | direct req/s | nginx req/s | ratio | nginx p50/p99 ms | nginx CPU ms per request |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in data["schemes"]:
        lines.append(
            f"| {row['scheme']} | {row['direct']['rps']} | {row['nginx']['rps']} | {row['ratio']} "
            f"| {row['nginx']['p50_ms']}/{row['nginx']['p99_ms']} "
            f"| {row['nginx'].get('cpu_ms_per_request', {}).get('nginx', 'not measured')} |"
        )
    return lines


CPU_EXPLAINED = [
    "Where the CPU goes, per request (ms of CPU time, user + system, medians of the windows above;"
    " the machine's figure counts every process, PostgreSQL and the Docker daemon too). The load"
    " runs on the same cores as the stack, so once they are busy, requests/s follows 1 / (machine"
    " CPU per request), and *direct / nginx machine* is the ratio to expect from the CPU nginx"
    " (TLS, basic auth, proxying) and the client's own TLS add. docker-proxy (Docker's loopback"
    " port forwarder) sits in both paths.",
]


def _cpu_lines(rows: list[dict]) -> list[str]:
    """The CPU-per-request table of figure 2, when the windows measured it."""
    rows = [row for row in rows if all("cpu_ms_per_request" in row[name] for name in ("direct", "nginx"))]
    if not rows:
        return []
    lines = [
        "",
        *CPU_EXPLAINED,
        "",
        "| endpoint | clients | direct: machine / MLflow / client | nginx: machine / MLflow / client / nginx "
        "| docker-proxy direct / nginx | direct / nginx machine | measured ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        d, n = row["direct"]["cpu_ms_per_request"], row["nginx"]["cpu_ms_per_request"]
        expected = round(d["machine"] / n["machine"], 3) if n["machine"] else None
        lines.append(
            f"| {row['endpoint']} | {row['concurrency']} | {d['machine']} / {d['mlflow']} / {d['load']} "
            f"| {n['machine']} / {n['mlflow']} / {n['load']} / {n['nginx']} "
            f"| {d['docker-proxy']} / {n['docker-proxy']} | {expected} | {row['ratio']} |"
        )
    return lines


def _control_lines(rows: list[dict]) -> list[str]:
    """Figure 2's one-client controls: which part of the role's site costs what."""
    if not rows:
        return []
    names = [name for name, _target in CONTROLS if name != "direct"]
    lines = [
        "",
        "### Where the one-client overhead comes from (controls)",
        "",
        "One client, windows of every column interleaved in rotating order, the same server and data:"
        " *proxy only* is an nginx server with no TLS and no basic auth, *proxy + TLS* adds the role's"
        " certificate and TLS settings, *nginx* is the role's site (TLS and basic auth with the"
        " default scheme). Both controls proxy to the role's upstream with its keepalive and headers"
        " (benchmarks/nginx-controls.conf, on the benchmark host for these windows only). Each cell:"
        " req/s, p50 ms, ratio to direct.",
        "",
        "| endpoint | direct | " + " | ".join(names) + " |",
        "| --- | --- | " + " | ".join("---" for _name in names) + " |",
    ]
    for row in rows:
        cells = [f"{row[name]['rps']}, {row[name]['p50_ms']} ms, {row['ratios'][name]}" for name in names]
        direct = row["direct"]
        lines.append(f"| {row['endpoint']} | {direct['rps']}, {direct['p50_ms']} ms | " + " | ".join(cells) + " |")
    return lines


def _artifact_section(data: dict) -> list[str]:
    lines = [
        "MLflow client `log_artifact` of a random file vs boto3 `upload_file` of the same file straight to the",
        "S3 endpoint (interleaved). *proxied*: the bytes go client -> nginx -> MLflow -> S3; *multipart*: MLflow's",
        "proxy multipart upload (server `mlflow_server_multipart_upload: true`, client",
        "`MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true`): the client sends parts straight to S3 on presigned URLs.",
        "",
        "| mode | size MiB | direct s | mode s | direct MiB/s | mode MiB/s | ratio (goal >= 0.7) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode, row in data["artifacts"].items():
        lines.append(
            f"| {mode} | {row['mib']} | {row['direct_s']} | {row['mode_s']} | {row['direct_mib_s']} "
            f"| {row['mode_mib_s']} | {row['ratio']} |"
        )
    lines += [
        "",
        "Resident memory (sum of the processes' RSS, shared pages counted in each, MiB; medians): idle just",
        "before the upload, peak sampled every 0.2 s during it, and the growth (peak - idle). Goal: the growth",
        "does not follow the file size.",
        "",
        "| mode | size MiB | nginx idle / peak | nginx growth | MLflow idle / peak | MLflow growth |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for mode, row in data["artifacts"].items():
        for mib, mem in row["memory"].items():
            lines.append(
                f"| {mode} | {mib} | {mem['nginx_idle_mib']} / {mem['nginx_peak_mib']} "
                f"| {round(_growth(mem, 'nginx'), 1)} "
                f"| {mem['mlflow_idle_mib']} / {mem['mlflow_peak_mib']} "
                f"| {round(_growth(mem, 'mlflow'), 1)} |"
            )
    lines += [
        "",
        f"Growth from the smallest to the largest file, per extra MiB of file (goal: under {MEMORY_SLOPE_GOAL}; a",
        "process that held the whole file would show 1, one that streams it 0 plus the noise of sampling):",
        "",
        "| mode | sizes | nginx | MLflow |",
        "| --- | --- | --- | --- |",
    ]
    for mode, row in data["artifacts"].items():
        slopes = memory_slopes(row)
        if slopes:
            lines.append(f"| {mode} | {_size_span(row)} | {slopes['nginx']} | {slopes['MLflow']} |")
    for mode, row in data["artifacts"].items():
        lines.append(f"\nAll {mode} seconds: {row['all_mode_s']}; direct beside them: {row['all_direct_s']}.")
    return lines


def memory_slopes(row: dict) -> dict:
    """Per process, how much more it grew during the largest upload than during the smallest,
    per extra MiB of file: about 1 for a process that holds the file, about 0 for a stream."""
    sizes = sorted(row["memory"], key=int)
    if len(sizes) < 2:
        return {}
    small, large = row["memory"][sizes[0]], row["memory"][sizes[-1]]
    extra = int(sizes[-1]) - int(sizes[0])
    return {
        name: round((_growth(large, key) - _growth(small, key)) / extra, 3)
        for name, key in (("nginx", "nginx"), ("MLflow", "mlflow"))
    }


def _growth(mem: dict, process: str) -> float:
    """MiB a process (nginx, mlflow) grew by during one upload: its peak less its idle RSS."""
    return mem[f"{process}_peak_mib"] - mem[f"{process}_idle_mib"]


def _size_span(row: dict) -> str:
    sizes = sorted(row["memory"], key=int)
    return f"{sizes[0]} to {sizes[-1]} MiB"


def _writers_section(data: dict) -> list[str]:
    lines = ["| stage | runs/s (median) | runs | errors |", "| --- | --- | --- | --- |"]
    for name, row in data["writers"].items():
        lines.append(f"| {name} | {row['runs_per_s']} | {row['runs']} | {row['errors']} |")
    return lines


def _migration_section(m: dict) -> list[str]:
    shape = m["shape"]
    lines = [
        f"Source: SQLite, {shape['runs']} runs x {shape['metrics_per_run']} metrics x {shape['steps']} steps ="
        f" {m['metric_rows']} metric rows (plus params and latest_metrics), written through MLflow's store in"
        f" {m['sqlite_fill_s']} s. Migrated with `mlops.mlflow.migrate_sqlite_to_postgres`"
        " (migrate_sqlite_overwrite, no artifacts), times from the playbook's per-task profile.",
        "",
        "| measure | median |",
        "| --- | --- |",
        f"| pgloader load (the data step) | {m['pgloader_s']} s = {m['rows_per_s_pgloader']} metric rows/s |",
        f"| whole migrate_sqlite role (stop, backup, checks, schema, load, sequences, verify) | {m['role_s']} s"
        f" = {m['rows_per_s_role']} metric rows/s |",
        *(
            [f"| verify step (every row by digest, the latest runs read back) | {m['verify_s']} s |"]
            if "verify_s" in m  # measured since the digest verify (before: every run's history through the client)
            else []
        ),
        f"| whole playbook (also site.yml: MLflow started on PostgreSQL) | {m['wall_s']} s |",
        "",
        f"All repeats: {m['all']}.",
        "",
        "search_runs through MLflow's store (SqlAlchemyStore, no HTTP), interleaved, 50 calls each: the",
        "migrated database vs the same data written through MLflow into a fresh database (filled in"
        f" {m['fresh_fill_s']} s).",
        "",
        "| query | runs | migrated p50/p90 ms | fresh p50/p90 ms | ratio of p50 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for query, migrated in m["search"]["migrated"].items():
        fresh = m["search"]["fresh"][query]
        lines.append(
            f"| {query} | {migrated['runs']} | {migrated['p50_ms']}/{migrated['p90_ms']} "
            f"| {fresh['p50_ms']}/{fresh['p90_ms']} | {round(migrated['p50_ms'] / fresh['p50_ms'], 2)} |"
        )
    return lines


SECTIONS = [
    ("deploy", "1. Deploy time (compose stage, one bare host)", _deploy_section),
    ("proxy", "2. Proxy overhead (nginx + TLS + basic auth vs straight to MLflow)", _proxy_section),
    ("artifacts", "3. Artifact throughput (compose stage)", _artifact_section),
    ("writers", "4. Concurrent writers (8 clients: create run, log 10 metrics, end run)", _writers_section),
    ("migration", "5. Migration (1M metric rows, SQLite -> PostgreSQL)", _migration_section),
]


def _goals(data: dict) -> list[str]:
    """The issue's goals against this run's figures."""
    rows = []
    if "deploy" in data:
        d = data["deploy"]
        met = d["rerun"] <= 2 * d["floor"] and d["rerun"] < 30
        rows.append(("1", "idempotent re-run <= 2x floor and < 30 s", f"{d['rerun']} s vs floor {d['floor']} s", met))
    if "proxy" in data:
        worst = min(data["proxy"], key=lambda r: r["ratio"] or 0)
        rows.append(
            (
                "2",
                f"nginx >= 0.95 of direct at every concurrency ({data.get('proxy_scheme', 'sha512_crypt')})",
                f"lowest {worst['ratio']} ({worst['endpoint']}, {worst['concurrency']} clients)",
                all((r["ratio"] or 0) >= 0.95 for r in data["proxy"]),
            )
        )
    for mode, row in data.get("artifacts", {}).items():
        rows.append(("3", f"{mode} artifact >= 0.7 of direct", str(row["ratio"]), row["ratio"] >= 0.7))
    for mode, row in data.get("artifacts", {}).items():
        slopes = memory_slopes(row)
        if slopes:
            worst = max(slopes, key=slopes.get)
            rows.append(
                (
                    "3",
                    f"{mode}: memory does not grow with file size (growth < {MEMORY_SLOPE_GOAL} MiB per extra MiB)",
                    f"highest {slopes[worst]} ({worst}, {_size_span(row)})",
                    all(slope < MEMORY_SLOPE_GOAL for slope in slopes.values()),
                )
            )
    if "writers" in data:
        errors = sum(row["errors"] for row in data["writers"].values())
        rows.append(("4", "8 writers for 60 s: zero errors", f"{errors} errors", errors == 0))
    if "migration" in data:
        ratios = [
            m["p50_ms"] / data["migration"]["search"]["fresh"][q]["p50_ms"]
            for q, m in data["migration"]["search"]["migrated"].items()
        ]
        rows.append(
            (
                "5",
                "search_runs after migration equal to a fresh schema (within noise)",
                "p50 ratios " + ", ".join(f"{r:.2f}" for r in ratios),
                all(0.8 <= r <= 1.25 for r in ratios),
            )
        )
    lines = ["| figure | goal | this run | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {fig} | {goal} | {result} | {'yes' if met else '**no**'} |" for fig, goal, result, met in rows]
    return lines


def report(data: dict) -> str:
    lines = [
        "# mlops.mlflow benchmark report",
        "",
        f"- date: {data['date']}",
        f"- machine: {data['machine']}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in data.get('versions', {}).items())}",
        # Figure 2's windows as measured (reports before this key was kept used 3 s).
        f"- repeats: {REPEATS} (medians), call windows {data.get('call_window_s', 3.0)}s,"
        f" writer windows {WRITER_WINDOW}s",
        "- stand-ins: PostgreSQL is Debian's postgresql-15 image, the S3 store is moto's server (no MinIO build"
        " can be had on this machine; it keeps objects in memory), both as the Molecule scenarios use them.",
        "- load: on the benchmark host itself (loopback), nginx, MLflow, the stores and the load on the same cores.",
        "- command: `bash benchmarks/run.sh`",
    ]
    if data.get("resumed"):
        lines.append(f"- resumed at {data['resumed']} on the same hosts (BENCH_RESUME): later figures measured then")
    for again in _remeasures(data):
        lines.append(
            f"- figure(s) {', '.join(map(str, again['figures']))} measured again at {again['at']} on fresh hosts"
            f" (commit {again['commit']}, BENCH_RESUME with BENCH_REMEASURE) after changes;"
            " the figures not named in a later line are from before it"
        )
    lines += ["", "## Goals", "", *_goals(data)]
    for key, title, section in SECTIONS:
        lines += ["", f"## {title}", ""]
        if key in data and (key != "proxy" or "schemes" in data):
            lines += section(data[key] if key in ("deploy", "migration") else data)
        else:
            lines.append(f"Not measured in this run (BENCH_FIGURES={','.join(map(str, sorted(FIGURES)))}).")
    return "\n".join(lines) + "\n"


def _remeasures(data: dict) -> list[dict]:
    """Every re-measurement of the report, oldest first."""
    return list(data.get("remeasured") or [])


def save(data: dict) -> None:
    """Write the report after every figure, so a failure later keeps what was measured."""
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    complete = FIGURES.issuperset({1, 2, 3, 4, 5})
    stamp = data["date"][:10] + ("" if complete else "-partial")
    (out / f"{stamp}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    (out / f"{stamp}.md").write_text(report(data), encoding="utf-8")
    if complete and all(key in data for key, _title, _section in SECTIONS):
        (out / "latest.md").write_text(report(data), encoding="utf-8")


def start() -> dict:
    """The benchmark's environment (also exported), on fresh hosts or, with BENCH_REUSE_HOSTS=1, kept ones."""
    env = {
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_PIPELINING": "True",
        "MLOPS_BENCH_PASSWORD": os.environ.get("MLOPS_BENCH_PASSWORD") or "bench-" + os.urandom(6).hex(),
    }
    os.environ.update(env)
    if os.environ.get("BENCH_REUSE_HOSTS") == "1":  # development: hosts kept by BENCH_KEEP_HOSTS=1
        copy_load()
    else:
        destroy_hosts()
        create_hosts()
    return env


def keep_password(env: dict) -> None:
    """The benchmark user's password on the compose host, for the load generator (mode 0600)."""
    on_host(COMPOSE_HOST, "sh", "-c", f"umask 077; printf %s '{env['MLOPS_BENCH_PASSWORD']}' > /root/bench-password")


def main() -> None:
    if sys.argv[1:] == ["--report"]:  # rewrite today's markdown from its JSON (report changes)
        stamp = datetime.datetime.now(datetime.UTC).date().isoformat()
        save(json.loads((BENCH / "results" / f"{stamp}.json").read_text(encoding="utf-8")))
        return
    env = start()
    try:
        data: dict = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        }
        # BENCH_RESUME_FROM names the day of the report to resume or complete (default today).
        previous = BENCH / "results" / f"{os.environ.get('BENCH_RESUME_FROM') or data['date'][:10]}.json"
        if os.environ.get("BENCH_RESUME") == "1" and previous.exists():
            started_at = data["date"]
            data = json.loads(previous.read_text(encoding="utf-8"))
            if REMEASURE:
                # Today's figures again after a change (fresh hosts); the others stay as measured.
                for figure in REMEASURE:
                    for key in FIGURE_KEYS[figure]:
                        data.pop(key, None)
                commit = sh("git", "rev-parse", "--short", "HEAD").strip()
                data["remeasured"] = [
                    *_remeasures(data),
                    {"figures": sorted(REMEASURE), "at": started_at, "commit": commit},
                ]
            else:
                # Finish today's interrupted run on its kept hosts: measured figures stay as they are.
                data["resumed"] = started_at
        if 1 in FIGURES and "deploy" not in data:
            data["deploy"] = deploy_times(env)
        else:
            sh(*playbook("inventory-compose"), env=env)
            sh(*playbook("inventory-local"), env=env)
        keep_password(env)
        data["versions"] = versions()
        save(data)
        # Each step returns the report keys it measured; a resumed run skips what it has.
        steps = [
            (2, "proxy", proxy_overhead),
            (2, "proxy_controls", proxy_controls),
            (4, "writers", lambda: {"writers": writers()}),
            (2, "schemes", lambda: {"schemes": schemes(env)}),
            (3, "artifacts", lambda: {"artifacts": artifacts(env)}),
            (5, "migration", lambda: {"migration": migration(env)}),
        ]
        for figure, key, measure in steps:
            if figure in FIGURES and key not in data:
                started = time.monotonic()
                data.update(measure())
                print(f"figure {figure} ({key}) measured in {time.monotonic() - started:.0f} s", flush=True)
                save(data)
        print(report(data))
    finally:
        if os.environ.get("BENCH_KEEP_HOSTS") != "1":
            destroy_hosts()


if __name__ == "__main__":
    main()
