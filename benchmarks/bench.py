"""mlops.mlflow benchmarks: one command, a markdown report in benchmarks/results/.

    bash benchmarks/run.sh            (sets up like the test command, then runs this)

On this machine it creates two throwaway bare hosts (systemd containers, as the Molecule
scenarios use), deploys the compose stage on one and the local stage on the other with
site.yml, then measures side by side in the same run:

1. deploy time: first converge, the idempotent re-run (median of REPEATS) and the floor of
   `docker compose up -d --wait` of the same rendered files alone (median of REPEATS);
2. proxy overhead: requests/s, p50 and p99 of runs/log-batch (100 metrics), experiments/search
   and runs/search at 1, 8 and 32 concurrent clients, through nginx + TLS + basic auth vs
   straight to MLflow's port, interleaved, median of REPEATS windows; then experiments/search
   at 8 clients for every htpasswd scheme the module offers;
4. concurrent writers: 8 clients logging runs through nginx (compose stage) and straight to
   the local stage's SQLite server, REPEATS windows each.

The load runs on the benchmark host itself (benchmarks/load.py, python3-requests), so traffic
stays on that host's loopback. Figures 3 (1 GiB artifact throughput) and 5 (migration of 1M
metric rows) are not measured yet; the report says so.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "3"))
WRITER_WINDOW = float(os.environ.get("BENCH_WRITER_WINDOW", "12"))
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


def playbook(inventory: str, *extra: str) -> list[str]:
    return [
        "ansible-playbook",
        "-i",
        str(BENCH / inventory),
        "-e",
        f"@{ROOT / 'molecule/resources/inventory/group_vars/all.yml'}",
        # The stand-in images and Docker source of the tests, but the role's default workers.
        *["-e", json.dumps({"mlflow_server_workers": 4})],
        *extra,
        str(ROOT / "site.yml"),
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
    for host in (COMPOSE_HOST, LOCAL_HOST):
        sh("docker", "cp", str(BENCH / "load.py"), f"{host}:/usr/local/bin/mlops-bench-load")


def destroy_hosts() -> None:
    for host in (COMPOSE_HOST, LOCAL_HOST):
        subprocess.run(["docker", "rm", "-f", host], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", f"{host}-var-lib-docker"], capture_output=True, check=False)
    subprocess.run(["docker", "network", "rm", "mlops-bench"], capture_output=True, check=False)


def deploy_times(env: dict) -> dict:
    first = timed(*playbook("inventory-compose"), env=env)
    local_first = timed(*playbook("inventory-local"), env=env)
    files = on_host(COMPOSE_HOST, "sh", "-c", "ls /opt/mlflow/*.compose.yml").split()
    compose = ["docker", "compose", "-p", "mlflow"] + [f"-f={f}" for f in files]
    rerun, floor = [], []
    for _repeat in range(REPEATS):
        rerun.append(timed(*playbook("inventory-compose"), env=env))
        floor.append(timed("docker", "exec", "-w", "/opt/mlflow", COMPOSE_HOST, *compose, "up", "-d", "--wait"))
    return {
        "first": round(first, 1),
        "local_first": round(local_first, 1),
        "rerun": median(rerun),
        "floor": median(floor),
        "rerun_all": [round(v, 1) for v in rerun],
        "floor_all": [round(v, 1) for v in floor],
    }


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


def side_by_side(endpoint: str, concurrency: int) -> dict:
    """REPEATS windows straight to MLflow and through nginx, interleaved; medians and the ratio."""
    cell: dict[str, list[dict]] = {"direct": [], "nginx": []}
    for _repeat in range(REPEATS):
        for name, target in (("direct", DIRECT), ("nginx", NGINX)):
            cell[name].append(
                load(
                    COMPOSE_HOST,
                    "calls",
                    *target,
                    *["--endpoint", endpoint, "--concurrency", str(concurrency), "--seconds", str(WINDOW)],
                )
            )
    return summarise(cell)


def proxy_overhead() -> list[dict]:
    return [
        {"endpoint": endpoint, "concurrency": concurrency, **side_by_side(endpoint, concurrency)}
        for endpoint in ENDPOINTS
        for concurrency in CONCURRENCY
    ]


def summarise(cell: dict) -> dict:
    out = {}
    for name, results in cell.items():
        out[name] = {
            "rps": median([r["rps"] for r in results]),
            "p50_ms": median([r["p50_ms"] for r in results]),
            "p99_ms": median([r["p99_ms"] for r in results]),
            "errors": sum(r["errors"] for r in results),
        }
    out["ratio"] = round(out["nginx"]["rps"] / out["direct"]["rps"], 3) if out["direct"]["rps"] else None
    return out


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


def versions() -> dict:
    return {
        "mlflow": on_host(COMPOSE_HOST, "sh", "-c", "docker compose -p mlflow exec -T mlflow mlflow --version").strip(),
        "nginx": on_host(COMPOSE_HOST, "sh", "-c", "nginx -v 2>&1").strip(),
        "docker (host)": on_host(COMPOSE_HOST, "docker", "version", "--format", "{{.Server.Version}}").strip(),
        "ansible": sh("ansible", "--version").splitlines()[0],
        "python": platform.python_version(),
    }


def report(data: dict) -> str:
    d = data["deploy"]
    lines = [
        "# mlops.mlflow benchmark report",
        "",
        f"- date: {data['date']}",
        f"- machine: {data['machine']}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in data['versions'].items())}",
        f"- repeats: {REPEATS} (medians), call windows {WINDOW}s, writer windows {WRITER_WINDOW}s",
        "- stand-ins: PostgreSQL is Debian's postgresql-15 image, the S3 store is moto's server (no MinIO build"
        " can be had on this machine), both as the Molecule scenarios use them.",
        "- load: benchmarks/load.py on the benchmark host itself (loopback), nginx and MLflow on the same 2 cores.",
        "",
        "## 1. Deploy time (compose stage, one bare host)",
        "",
        "| measure | seconds |",
        "| --- | --- |",
        f"| first converge (site.yml on a bare host, image archives loaded and MLflow image built) | {d['first']} |",
        f"| first converge, local stage (other host, same run) | {d['local_first']} |",
        f"| idempotent re-run of site.yml (median) | {d['rerun']} |",
        f"| floor: `docker compose up -d --wait` of the same rendered files (median) | {d['floor']} |",
        f"| ratio re-run / floor (goal <= 2, and re-run < 30 s) | {round(d['rerun'] / d['floor'], 2)} |",
        "",
        f"All re-runs: {d['rerun_all']}; all floors: {d['floor_all']}.",
        "",
        "## 2. Proxy overhead (nginx + TLS + basic auth vs straight to MLflow)",
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
    lines += [
        "",
        "### htpasswd schemes (experiments/search, 8 clients)",
        "",
        "| scheme | direct req/s | nginx req/s | ratio | nginx p50/p99 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in data["schemes"]:
        lines.append(
            f"| {row['scheme']} | {row['direct']['rps']} | {row['nginx']['rps']} | {row['ratio']} "
            f"| {row['nginx']['p50_ms']}/{row['nginx']['p99_ms']} |"
        )
    lines += [
        "",
        "## 3. Artifact throughput",
        "",
        "Not measured yet (1 GiB through nginx vs straight to S3, with peak memory).",
        "",
        "## 4. Concurrent writers (8 clients: create run, log 10 metrics, end run)",
        "",
        "| stage | runs/s (median) | runs | errors |",
        "| --- | --- | --- | --- |",
    ]
    for name, row in data["writers"].items():
        lines.append(f"| {name} | {row['runs_per_s']} | {row['runs']} | {row['errors']} |")
    lines += [
        "",
        "## 5. Migration",
        "",
        "Not measured yet (1M metric rows SQLite -> PostgreSQL, search_runs after vs fresh schema).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    env = {
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "collections"),
        "ANSIBLE_PIPELINING": "True",
        "MLOPS_BENCH_PASSWORD": "bench-" + os.urandom(6).hex(),
    }
    os.environ.update(env)
    destroy_hosts()
    create_hosts()
    try:
        data = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        }
        data["deploy"] = deploy_times(env)
        on_host(
            COMPOSE_HOST, "sh", "-c", f"umask 077; printf %s '{env['MLOPS_BENCH_PASSWORD']}' > /root/bench-password"
        )
        data["versions"] = versions()
        data["proxy"] = proxy_overhead()
        data["writers"] = writers()
        data["schemes"] = schemes(env)
        out = BENCH / "results"
        out.mkdir(exist_ok=True)
        stamp = data["date"][:10]
        (out / f"{stamp}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
        (out / f"{stamp}.md").write_text(report(data), encoding="utf-8")
        (out / "latest.md").write_text(report(data), encoding="utf-8")
        print(report(data))
    finally:
        if os.environ.get("BENCH_KEEP_HOSTS") != "1":
            destroy_hosts()


if __name__ == "__main__":
    main()
