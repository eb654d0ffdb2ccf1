"""Should the MLflow image cap glibc's malloc arenas by default? A side-by-side measurement.

    bash benchmarks/run.sh arena     (after the set-up of the benchmark command)

The MLflow container keeps memory after large proxied uploads: boto3's transfer threads each get
a glibc malloc arena, and glibc keeps freed arenas. `MALLOC_ARENA_MAX=2` (set through
`mlflow_server_extra_env`) bounds that; this measures what it costs where many threads serve small
requests (figures 2 and 4) and what it saves after large uploads (figure 3), on the benchmark's
compose host, in rounds A B B A A B (A: glibc's default, B: the cap) so a drift of the machine
favours neither. Every round starts from a recreated MLflow container.

Writes benchmarks/results/<date>-malloc-arena.{json,md}.
"""

from __future__ import annotations

import datetime
import json
import os

os.environ.setdefault("BENCH_ARTIFACT_MIB", "1024")
import bench  # reads BENCH_ARTIFACT_MIB when imported

CONFIGS = {"A": {}, "B": {"MALLOC_ARENA_MAX": "2"}}
ORDER = "ABBAAB"
UPLOADS = int(os.environ.get("ARENA_UPLOADS", "3"))
CALL_WINDOW = 10
WRITER_WINDOW = 30


def deploy(config: dict, env: dict) -> None:
    bench.sh(*bench.playbook("inventory-compose", "-e", json.dumps({"mlflow_server_extra_env": config})), env=env)
    bench.on_host(
        bench.COMPOSE_HOST, *bench.compose_command(), "up", "-d", "--wait", "--no-deps", "--force-recreate", "mlflow"
    )


def idle_mib() -> float:
    out = bench.on_host(
        bench.COMPOSE_HOST,
        "python3",
        "/usr/local/bin/mlops-bench-load",
        "watch",
        bench.mlflow_container(),
        "--",
        "echo",
        "{}",
    )
    return json.loads(out.strip().splitlines()[-1])["mlflow_idle_mib"]


def round_of(config: dict, env: dict) -> dict:
    deploy(config, env)
    container = bench.mlflow_container()
    calls = {
        endpoint: bench.load(
            bench.COMPOSE_HOST,
            "calls",
            *bench.NGINX,
            *["--endpoint", endpoint, "--concurrency", "8", "--seconds", str(CALL_WINDOW), "--container", container],
        )["rps"]
        for endpoint in ("log-batch", "experiments-search")
    }
    writers = bench.load(
        bench.COMPOSE_HOST, "writers", *bench.NGINX, "--concurrency", "8", "--seconds", str(WRITER_WINDOW)
    )
    before = idle_mib()
    uploads = [bench.upload("proxied", bench.RATIO_MIB) for _upload in range(UPLOADS)]
    return {
        "log_batch_rps": calls["log-batch"],
        "experiments_search_rps": calls["experiments-search"],
        "writer_runs_per_s": writers["runs_per_s"],
        "writer_errors": writers["errors"],
        "upload_s": bench.median([u["seconds"] for u in uploads]),
        "mlflow_peak_mib": max(u["mlflow_peak_mib"] for u in uploads),
        "idle_before_uploads_mib": before,
        "idle_after_uploads_mib": idle_mib(),
    }


MEASURES = [
    ("log_batch_rps", "log-batch req/s, 8 clients through nginx"),
    ("experiments_search_rps", "experiments-search req/s, 8 clients through nginx"),
    ("writer_runs_per_s", f"writers: runs/s, 8 clients for {WRITER_WINDOW} s"),
    ("upload_s", f"proxied upload of {bench.RATIO_MIB} MiB, seconds (median of {UPLOADS})"),
    ("mlflow_peak_mib", "MLflow container RSS, peak during the uploads (MiB)"),
    ("idle_before_uploads_mib", "MLflow container RSS, idle after the calls and writers (MiB)"),
    ("idle_after_uploads_mib", f"MLflow container RSS, idle after {UPLOADS} uploads (MiB)"),
]


def report(data: dict) -> str:
    rows = {name: [r for r in data["rounds"] if r["config"] == name] for name in CONFIGS}
    lines = [
        "# MALLOC_ARENA_MAX: glibc's default (A) vs a cap of 2 (B) in the MLflow container",
        "",
        f"- date: {data['date']}; machine: {data['machine']}; commit {data['commit']}",
        f"- rounds {' '.join(ORDER)}, each from a recreated container; medians of the 3 rounds per side",
        "- command: `bash benchmarks/run.sh arena`; the S3 store is moto's server (no MinIO build here)",
        "",
        "| measure | A: default | B: MALLOC_ARENA_MAX=2 | B / A |",
        "| --- | --- | --- | --- |",
    ]
    for key, label in MEASURES:
        a = bench.median([r[key] for r in rows["A"]])
        b = bench.median([r[key] for r in rows["B"]])
        lines.append(f"| {label} | {a} | {b} | {round(b / a, 3) if a else '-'} |")
    errors = sum(r["writer_errors"] for r in data["rounds"])
    lines += ["", f"Writer errors over all rounds: {errors}.", "", "All rounds:", ""]
    lines += [f"- {r['config']}: " + ", ".join(f"{k} {r[k]}" for k, _label in MEASURES) for r in data["rounds"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    env = bench.start()
    try:
        bench.sh(*bench.playbook("inventory-compose"), env=env)
        bench.keep_password(env)
        bench.prepare_client()
        data = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores",
            "commit": bench.sh("git", "rev-parse", "--short", "HEAD").strip(),
            "rounds": [],
        }
        for name in ORDER:
            data["rounds"].append({"config": name, **round_of(CONFIGS[name], env)})
            print(json.dumps(data["rounds"][-1]), flush=True)
        stamp = data["date"][:10]
        out = bench.BENCH / "results" / f"{stamp}-malloc-arena"
        out.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        out.with_suffix(".md").write_text(report(data), encoding="utf-8")
        print(report(data))
    finally:
        bench.sh(*bench.playbook("inventory-compose"), env=env)  # back to the role's defaults
        if os.environ.get("BENCH_KEEP_HOSTS") != "1":
            bench.destroy_hosts()


if __name__ == "__main__":
    main()
