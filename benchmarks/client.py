"""MLflow-client side of benchmarks 3 and 5; runs in a container of the deployed MLflow image.

benchmarks/bench.py starts it with `docker run` on the benchmark host, so it has the same
mlflow, boto3 and psycopg as the server. Files come from a read-only mount at /bench; the
password files are mounted, never passed in the environment. Every command prints one JSON
object on its last line.

  client.py artifact MODE FILE
      MODE proxied:   mlflow log_artifact through nginx (https://localhost), multipart off;
      MODE multipart: the same with MLflow's proxy multipart upload on (parts go straight to S3
                      on presigned URLs; the server must have it on as well);
      MODE direct:    boto3 upload_file straight to the S3 endpoint (http://127.0.0.1:9000).
      Prints {"seconds", "bytes"}; the uploaded object is deleted afterwards (the S3 stand-in
      keeps objects in memory).
  client.py fill URI RUNS KEYS STEPS       (in URI, {db_password} reads the mounted secret)
      Write RUNS runs with KEYS metric histories of STEPS steps each through MLflow's own store
      (SqlAlchemyStore.log_batch, 1000 metrics a call) into URI, a fresh database; the data is
      the same for the same arguments. Prints {"seconds", "metric_rows"}.
  client.py search URI_A URI_B CALLS
      search_runs against both databases, interleaved, CALLS times each, two queries (all runs;
      a metric filter ordered by another metric). Prints medians and p90 in ms per database.
"""

import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid

EXPERIMENT = "migration-benchmark"
BATCH = 1000


def _secret(name: str) -> str:
    with open(f"/bench/secrets/{name}", encoding="utf-8") as handle:
        return handle.read().strip()


def artifact(mode: str, path: str) -> dict:
    size = os.path.getsize(path)
    if mode == "direct":
        s3 = _s3()
        key = f"bench-direct/{uuid.uuid4().hex}/{os.path.basename(path)}"
        start = time.monotonic()
        s3.upload_file(path, "mlflow", key)
        seconds = time.monotonic() - start
        s3.delete_object(Bucket="mlflow", Key=key)
        return {"seconds": round(seconds, 3), "bytes": size}

    os.environ["MLFLOW_TRACKING_USERNAME"] = "bench"
    os.environ["MLFLOW_TRACKING_PASSWORD"] = _secret("bench-password")
    os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"] = "/bench/ca.crt"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "600"
    os.environ["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] = "true" if mode == "multipart" else "false"
    # Same threshold for every size measured, so that memory is compared like for like.
    os.environ["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = str(64 * 1024 * 1024)
    from mlflow import MlflowClient

    client = MlflowClient("https://localhost")
    experiment = client.get_experiment_by_name("artifact-benchmark")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment("artifact-benchmark")
    run = client.create_run(experiment_id).info
    run_id = run.run_id
    start = time.monotonic()
    client.log_artifact(run_id, path)
    seconds = time.monotonic() - start
    listed = {item.path: item.file_size for item in client.list_artifacts(run_id)}
    if listed.get(os.path.basename(path)) != size:
        raise SystemExit(f"uploaded artifact not listed at its size: {listed}")
    client.delete_run(run_id)
    _delete_run_objects(run.artifact_uri)
    return {"seconds": round(seconds, 3), "bytes": size}


def _s3():
    import boto3

    return boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9000",
        aws_access_key_id=_secret("minio_root_user"),
        aws_secret_access_key=_secret("minio_root_password"),
        region_name="us-east-1",
    )


def _delete_run_objects(artifact_uri: str) -> None:
    """Delete a run's objects: mlflow-artifacts:/<exp>/<run>/artifacts is that key prefix under the
    server's artifact root, s3://mlflow (the benchmark inventory sets no mlflow_server_s3_prefix)."""
    s3 = _s3()
    prefix = artifact_uri.split(":", 1)[1].lstrip("/") + "/"
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="mlflow", Prefix=prefix):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket="mlflow", Key=item["Key"])
            deleted += 1
    if not deleted:  # the stand-in keeps objects in memory: a silent miss would fill it up
        raise SystemExit(f"no objects under s3://mlflow/{prefix} to delete")


def _store(uri: str):
    from urllib.parse import quote

    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    if "{db_password}" in uri:  # read from the mounted secret file, never from argv
        uri = uri.replace("{db_password}", quote(_secret("mlflow_db_password"), safe=""))
    return SqlAlchemyStore(uri, tempfile.mkdtemp())  # no artifact is logged here


def fill(uri: str, runs: int, keys: int, steps: int) -> dict:
    from mlflow.entities import Metric, Param

    store = _store(uri)
    experiment_id = store.create_experiment(EXPERIMENT)
    rng = random.Random(20261129)  # noqa: S311 - the same data for the same arguments, not a secret
    start = time.monotonic()
    rows = 0
    for number in range(runs):
        run = store.create_run(experiment_id, "bench", 1_700_000_000_000 + number, [], f"run-{number}")
        run_id = run.info.run_id
        store.log_batch(run_id, [], [Param("lr", str(rng.random())), Param("seed", str(number))], [])
        batch = []
        for key in range(keys):
            for step in range(steps):
                batch.append(Metric(f"m{key}", rng.random(), 1_700_000_000_000 + step, step))
                if len(batch) == BATCH:
                    store.log_batch(run_id, batch, [], [])
                    rows += len(batch)
                    batch = []
        if batch:
            store.log_batch(run_id, batch, [], [])
            rows += len(batch)
    return {"seconds": round(time.monotonic() - start, 1), "metric_rows": rows}


def search(uri_a: str, uri_b: str, calls: int) -> dict:
    from mlflow.entities import ViewType

    stores = {"a": _store(uri_a), "b": _store(uri_b)}
    experiments = {name: store.get_experiment_by_name(EXPERIMENT).experiment_id for name, store in stores.items()}
    queries = {
        "all runs": {"filter_string": "", "order_by": None},
        "metrics.m0 > 0.5 by metrics.m1": {"filter_string": "metrics.m0 > 0.5", "order_by": ["metrics.m1 DESC"]},
    }
    times: dict = {name: {query: [] for query in queries} for name in stores}
    counts: dict = {name: {} for name in stores}
    for _call in range(calls):
        for name, store in stores.items():
            for query, kwargs in queries.items():
                start = time.monotonic()
                found = store.search_runs([experiments[name]], run_view_type=ViewType.ALL, max_results=1000, **kwargs)
                times[name][query].append((time.monotonic() - start) * 1000)
                counts[name][query] = len(found)
    if counts["a"] != counts["b"]:
        raise SystemExit(f"the two databases answer differently: {counts}")
    out = {}
    for name in stores:
        out[name] = {
            query: {
                "p50_ms": round(statistics.median(values), 2),
                "p90_ms": round(sorted(values)[int(len(values) * 0.9) - 1], 2),
                "runs": counts[name][query],
            }
            for query, values in times[name].items()
        }
    return out


def main(argv: list[str]) -> int:
    command, args = argv[1], argv[2:]
    if command == "artifact":
        out = artifact(*args)
    elif command == "fill":
        out = fill(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif command == "search":
        out = search(args[0], args[1], int(args[2]))
    else:
        sys.stderr.write(__doc__ or "")
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
