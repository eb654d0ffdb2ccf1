"""Load generator for the mlops.mlflow benchmarks; runs on the benchmark host itself.

It talks to MLflow's REST API the way the MLflow client does, with python3-requests only (the
docker_host role installs it on every host), so it needs nothing else on a bare host:

  load.py calls   URL ENDPOINT CONCURRENCY SECONDS [--user U --password-file F] [--ca F] [--container ID]
      ENDPOINT: log-batch (runs/log-batch with 100 metrics, one run per client), experiments-search,
      runs-search.
      Prints {"requests", "errors", "seconds", "rps", "p50_ms", "p99_ms", "cpu_ms_per_request"}: the
      CPU time per request of nginx, docker-proxy, the load generator itself, the whole machine and,
      with --container ID, of that container's processes (MLflow).
  load.py writers URL CLIENTS SECONDS [auth options]
      CLIENTS threads each create a run, log a batch of 10 metrics and end the run, in a loop.
      Prints {"runs", "errors", "seconds", "runs_per_s"}.
  load.py watch CONTAINER_ID -- COMMAND...
      Runs COMMAND while sampling, every 0.2 s, the resident memory (sum of VmRSS) of this
      host's nginx processes and of the processes of the container CONTAINER_ID. Prints the
      last JSON line of COMMAND's output merged with {"nginx_idle_mib", "nginx_peak_mib",
      "mlflow_idle_mib", "mlflow_peak_mib", "wall_seconds"}.

Bounded: every call has a timeout, every loop a deadline. Traffic goes only to URL, which the
benchmark points at 127.0.0.1 on the host.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid

import requests


def _session(args: argparse.Namespace) -> requests.Session:
    session = requests.Session()
    if args.user:
        with open(args.password_file, encoding="utf-8") as handle:
            session.auth = (args.user, handle.read().strip())
    session.verify = args.ca or True
    if args.host_header:
        session.headers["Host"] = args.host_header
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _api(url: str, path: str) -> str:
    return f"{url.rstrip('/')}/api/2.0/mlflow/{path}"


def _setup(args: argparse.Namespace, runs: int = 1) -> tuple[str, list[str]]:
    session = _session(args)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    response = session.post(_api(args.url, "experiments/create"), json={"name": name}, timeout=30)
    response.raise_for_status()
    experiment_id = response.json()["experiment_id"]
    run_ids = []
    for _run in range(runs):
        response = session.post(_api(args.url, "runs/create"), json={"experiment_id": experiment_id}, timeout=30)
        response.raise_for_status()
        run_ids.append(response.json()["run"]["info"]["run_id"])
    return experiment_id, run_ids


def _call_factory(endpoint: str, experiment_id: str):
    step = [0]
    lock = threading.Lock()

    def log_batch(session: requests.Session, url: str, run_id: str) -> requests.Response:
        with lock:
            step[0] += 1
            current = step[0]
        now = int(time.time() * 1000)
        metrics = [{"key": f"m{i}", "value": float(i), "timestamp": now, "step": current} for i in range(100)]
        return session.post(_api(url, "runs/log-batch"), json={"run_id": run_id, "metrics": metrics}, timeout=30)

    def experiments_search(session: requests.Session, url: str, _run_id: str) -> requests.Response:
        return session.post(_api(url, "experiments/search"), json={"max_results": 100}, timeout=30)

    def runs_search(session: requests.Session, url: str, _run_id: str) -> requests.Response:
        return session.post(
            _api(url, "runs/search"), json={"experiment_ids": [experiment_id], "max_results": 100}, timeout=30
        )

    return {"log-batch": log_batch, "experiments-search": experiments_search, "runs-search": runs_search}[endpoint]


def _run_threads(count: int, seconds: float, work) -> float:
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=work, args=(deadline,)) for _thread in range(count)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    return time.monotonic() - start


def calls(args: argparse.Namespace) -> dict:
    # log-batch: one run per client, as training jobs log (clients sharing one run mostly measure
    # row locks on that run's latest metrics).
    # experiments/search reads what is there: a window that created an experiment would hand the
    # next window (the other side of the comparison) one more row to return.
    if args.endpoint == "experiments-search":
        experiment_id, run_ids = "", [""]
    else:
        experiment_id, run_ids = _setup(args, args.concurrency if args.endpoint == "log-batch" else 1)
    call = _call_factory(args.endpoint, experiment_id)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def work(deadline: float) -> None:
        session = _session(args)
        with lock:
            run_id = run_ids.pop() if len(run_ids) > 1 else run_ids[0]
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                status = call(session, args.url, run_id).status_code
                kind = "" if status == 200 else str(status)
            except requests.RequestException as exc:
                kind = type(exc).__name__
            elapsed = time.perf_counter() - started
            with lock:
                if kind:
                    errors[kind] = errors.get(kind, 0) + 1
                else:
                    latencies.append(elapsed)

    before = _cpu_seconds(args.container)
    seconds = _run_threads(args.concurrency, args.seconds, work)
    after = _cpu_seconds(args.container)
    ordered = sorted(latencies) or [float("nan")]
    answered = max(1, len(latencies) + sum(errors.values()))
    return {
        "requests": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 2),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        # Where the CPU went, per request; "mlflow" only with --container.
        "cpu_ms_per_request": {kind: round((after[kind] - before[kind]) * 1000 / answered, 3) for kind in after},
    }


def writers(args: argparse.Namespace) -> dict:
    experiment_id = _setup(args, 0)[0]
    runs = [0]
    errors = [0]
    lock = threading.Lock()

    def work(deadline: float) -> None:
        session = _session(args)
        while time.monotonic() < deadline:
            try:
                response = session.post(
                    _api(args.url, "runs/create"), json={"experiment_id": experiment_id}, timeout=30
                )
                response.raise_for_status()
                run_id = response.json()["run"]["info"]["run_id"]
                now = int(time.time() * 1000)
                metrics = [{"key": f"m{i}", "value": float(i), "timestamp": now, "step": 0} for i in range(10)]
                session.post(
                    _api(args.url, "runs/log-batch"), json={"run_id": run_id, "metrics": metrics}, timeout=30
                ).raise_for_status()
                session.post(
                    _api(args.url, "runs/update"),
                    json={"run_id": run_id, "status": "FINISHED", "end_time": now},
                    timeout=30,
                ).raise_for_status()
            except requests.RequestException:
                with lock:
                    errors[0] += 1
                continue
            with lock:
                runs[0] += 1

    seconds = _run_threads(args.concurrency, args.seconds, work)
    return {
        "runs": runs[0],
        "errors": errors[0],
        "seconds": round(seconds, 3),
        "runs_per_s": round(runs[0] / seconds, 2),
    }


def _processes(container_id: str):
    """(kind, /proc/PID/status, /proc/PID/stat) of every process: nginx, container, docker-proxy or other."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="utf-8") as handle:
                status = handle.read()
            with open(f"/proc/{entry.name}/stat", encoding="utf-8") as handle:
                stat = handle.read()
            with open(f"/proc/{entry.name}/cgroup", encoding="utf-8") as handle:
                cgroup = handle.read()
        except OSError:  # the process ended meanwhile
            continue
        name = status.split("\n", 1)[0].removeprefix("Name:\t")
        if container_id and container_id in cgroup:
            kind = "mlflow"
        elif name in ("nginx", "docker-proxy"):
            kind = name
        else:
            kind = "other"
        yield kind, status, stat


def _memory_kib(container_id: str) -> tuple[int, int]:
    rss = {"nginx": 0, "mlflow": 0}
    for kind, status, _stat in _processes(container_id):
        if kind in rss:
            rss[kind] += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return rss["nginx"], rss["mlflow"]


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(container_id: str) -> dict[str, float]:
    """CPU seconds (user + system) used so far by nginx, the container, docker-proxy, this process
    (the load generator, all its threads) and the whole machine (/proc/stat, every process)."""
    cpu = {"nginx": 0.0, "mlflow": 0.0, "docker-proxy": 0.0}
    for kind, _status, stat in _processes(container_id):
        if kind in cpu:
            fields = stat[stat.rindex(")") + 2 :].split()
            cpu[kind] += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu["load"] = usage.ru_utime + usage.ru_stime
    with open("/proc/stat", encoding="utf-8") as handle:
        ticks = [int(value) for value in handle.readline().split()[1:]]
    cpu["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / TICKS  # all but idle and iowait
    return cpu


def watch(container_id: str, command: list[str]) -> dict:
    idle = _memory_kib(container_id)
    peak = list(idle)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for index, value in enumerate(_memory_kib(container_id)):
                peak[index] = max(peak[index], value)
            done.wait(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.monotonic()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    finally:
        done.set()
        sampler.join()
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"watched command failed ({result.returncode})")
    out = json.loads(result.stdout.strip().splitlines()[-1])
    mib = 1024
    out.update(
        nginx_idle_mib=round(idle[0] / mib, 1),
        nginx_peak_mib=round(peak[0] / mib, 1),
        mlflow_idle_mib=round(idle[1] / mib, 1),
        mlflow_peak_mib=round(peak[1] / mib, 1),
        wall_seconds=round(time.monotonic() - start, 3),
    )
    return out


def main() -> None:
    if len(sys.argv) > 3 and sys.argv[1] == "watch" and sys.argv[3] == "--":
        print(json.dumps(watch(sys.argv[2], sys.argv[4:])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["calls", "writers"])
    parser.add_argument("url")
    parser.add_argument("--endpoint", choices=["log-batch", "experiments-search", "runs-search"], default="log-batch")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--user")
    parser.add_argument("--password-file")
    parser.add_argument("--ca")
    parser.add_argument("--host-header")
    parser.add_argument("--container", default="", help="ID of the MLflow container, for its CPU time (calls)")
    args = parser.parse_args()
    result = calls(args) if args.mode == "calls" else writers(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
