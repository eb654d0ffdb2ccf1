"""A client that keeps logging runs while the fault tests kill the stack's containers.

  python mlflow_writer.py write URL CA_CERT STATE_DIR [MAX_SECONDS]
      log runs until STATE_DIR/stop exists
  python mlflow_writer.py check URL CA_CERT STATE_DIR KILLS STORE_SERVICE
      every acknowledged run is still there; the errors and recoveries of each kill
  python3 - keep-bucket ENDPOINT BUCKET SECRETS_DIR KEEP_DIR [MAX_SECONDS] < mlflow_writer.py
      on the S3 store's host: create the bucket again whenever the stand-in comes back empty,
      until KEEP_DIR/stop exists; KEEP_DIR/ready once the bucket is there

`write` creates one experiment, then loops: start a run, log a param, a metric, a tag and a
small text artifact (through nginx and MLflow's artifact proxy, so into the S3 store), end it. A
run counts as acknowledged only when every call for it returned. Progress goes to STATE_DIR, so
the verify playbook can watch it while it kills containers: `acked` (one run id a line),
`outcomes` (one '.' per acknowledged run, one 'E' per failed attempt) and `attempts` (one JSON
line per attempt: when it ended, whether it was acknowledged, when its artifact was sent, or the
error). The loop is bounded: it stops at the stop file or after MAX_SECONDS, whichever comes
first.

`check` reads the acknowledged runs back through the server and prints a JSON summary. KILLS
has one line per kill, in their order: `SERVICE DIED STARTED`, Docker's timestamps of the
container's last exit and start. Each kill owns the attempts from its exit to the next kill's:
its errors are counted apart, and its last attempts must have succeeded.
The artifact of every run sent after STORE_SERVICE's return (so to the store that came back) is
read back and compared; those sent before are not (see below). STORE_SERVICE "-": the store was
not stopped, and every artifact is read back. SERVICE may name anything the kill stopped, and
DIED any time from which its errors count: the failover test of compose_split names the MLflow
hosts it stopped the server of, and when `docker compose stop` began (a graceful stop's errors
come before the exit). Exits non-zero when an acknowledged run is missing or incomplete (its
param, metric, tag absent, or not FINISHED), an artifact read back differs or none was read
back, an error came before the first kill, or the writer did not recover after each kill.

The S3 store of the test stack is moto's server standing in for MinIO: it keeps buckets and
objects in memory, so its kill loses them. Hence the artifacts stored before that kill are not
checked (a real MinIO keeps them on its volume; the stand-in cannot show it), and `keep-bucket`
runs on the store's host during the fault tests to create the empty bucket again, as MinIO's
volume would have kept it. It prints the times it did so.

The client does not retry by itself (MLFLOW_HTTP_REQUEST_MAX_RETRIES=0): every failure the
faults cause is counted here, not hidden by the client's backoff.
"""

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

ARTIFACT = "probe.txt"
# A kill's first errors can come before Docker has recorded the container's exit.
EXIT_RECORD_LAG = 1.0
# The attempts that must have succeeded after a kill's last error (the playbook waits for them).
RECOVERED = 5


def _client(url: str, ca_cert: str):
    os.environ["MLFLOW_TRACKING_URI"] = url
    os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"] = ca_cert
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "20"
    from mlflow import MlflowClient

    return MlflowClient(url)


def _artifact_text(run_id: str, attempt: str) -> str:
    return f"fault probe: attempt {attempt}, run {run_id}\n"


def write(url: str, ca_cert: str, state_dir: Path, max_seconds: float) -> dict:
    client = _client(url, ca_cert)
    state_dir.mkdir(parents=True, exist_ok=True)
    experiment_id = client.create_experiment(f"faults-{os.urandom(4).hex()}")
    (state_dir / "experiment").write_text(experiment_id, encoding="utf-8")
    deadline = time.monotonic() + max_seconds
    attempts = 0
    with (
        (state_dir / "acked").open("a", encoding="utf-8") as acked,
        (state_dir / "attempts").open("a", encoding="utf-8") as log,
        (state_dir / "outcomes").open("a", encoding="utf-8") as outcomes,
    ):
        while not (state_dir / "stop").exists() and time.monotonic() < deadline:
            attempts += 1
            try:
                run = client.create_run(experiment_id)
                run_id = run.info.run_id
                client.log_param(run_id, "attempt", str(attempts))
                client.log_metric(run_id, "value", float(attempts))
                client.set_tag(run_id, "writer", "faults")
                sent = time.time()
                client.log_text(run_id, _artifact_text(run_id, str(attempts)), ARTIFACT)
                client.set_terminated(run_id)
            except Exception as exc:  # every failure is counted, whatever its type
                error = f"{type(exc).__name__}: {str(exc)[:200]!r}"
                log.write(json.dumps({"t": time.time(), "ok": False, "error": error}) + "\n")
                log.flush()
                outcomes.write("E")
                outcomes.flush()
                time.sleep(1)
                continue
            log.write(json.dumps({"t": time.time(), "ok": True, "run": run_id, "sent": sent}) + "\n")
            log.flush()
            acked.write(run_id + "\n")
            acked.flush()
            outcomes.write(".")
            outcomes.flush()
            time.sleep(0.2)
    return {"attempts": attempts}


def _docker_time(stamp: str) -> float:
    """Seconds since the epoch of a Docker timestamp (nanoseconds, 'Z')."""
    whole, _dot, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{whole}.{(fraction or '0')[:6]:0<6}+00:00").timestamp()


def _per_kill(attempts: list, kills: list) -> tuple:
    """The errors before the first kill, and each kill's errors and successes after its last one."""
    deaths = [_docker_time(died) for _service, died, _started in kills]
    if deaths != sorted(deaths) or not attempts or deaths[0] <= attempts[0]["t"]:
        raise SystemExit(f"the kills' exits are not in order within the writer's run: {kills}")
    bounds = [death - EXIT_RECORD_LAG for death in deaths] + [float("inf")]
    before = sum(1 for attempt in attempts if attempt["t"] < bounds[0] and not attempt["ok"])
    summary = []
    for index, (service, _died, _started) in enumerate(kills):
        window = [attempt for attempt in attempts if bounds[index] <= attempt["t"] < bounds[index + 1]]
        errors = [position for position, attempt in enumerate(window) if not attempt["ok"]]
        after_last_error = len(window) - (errors[-1] + 1 if errors else 0)
        summary.append(
            {
                "service": service,
                "errors": len(errors),
                "successes_after": after_last_error,
                "recovered": after_last_error >= RECOVERED,
                "last_errors": [window[position]["error"] for position in errors[-2:]],
            }
        )
    return before, summary


def _artifact_mismatches(client, runs: dict, sent_after: float) -> tuple:
    """Read back the artifact of each run sent after `sent_after`: how many, and which differ."""
    import mlflow.artifacts

    checked, wrong = 0, []
    for run_id, (run, sent) in runs.items():
        if sent < sent_after:
            continue
        checked += 1
        expected = _artifact_text(run_id, run.data.params.get("attempt", ""))
        try:
            found = mlflow.artifacts.load_text(f"{run.info.artifact_uri}/{ARTIFACT}")
        except Exception as exc:  # a missing artifact is a mismatch like any other
            found = f"{type(exc).__name__}: {str(exc)[:200]}"
        if found != expected:
            wrong.append({"run": run_id, "found": found[:200]})
    return checked, wrong


def check(url: str, ca_cert: str, state_dir: Path, kills: list, store_service: str) -> dict:
    client = _client(url, ca_cert)
    acked = [line for line in (state_dir / "acked").read_text(encoding="utf-8").split() if line]
    attempts = [json.loads(line) for line in (state_dir / "attempts").read_text(encoding="utf-8").splitlines()]
    sent = {attempt["run"]: attempt["sent"] for attempt in attempts if attempt["ok"]}
    outcomes = (state_dir / "outcomes").read_text(encoding="utf-8")
    missing, runs = [], {}
    for run_id in acked:
        run = client.get_run(run_id)
        runs[run_id] = (run, sent[run_id])
        # Acknowledged means every call of write() returned, set_tag and set_terminated included:
        # the run holds its param, metric and tag, and ended FINISHED (set_terminated's default).
        # Only acknowledged runs are read here; one whose set_terminated failed may stay RUNNING.
        if (
            run.data.params.get("attempt") is None
            or "value" not in run.data.metrics
            or run.data.tags.get("writer") != "faults"
            or run.info.status != "FINISHED"
        ):
            missing.append(run_id)
    # Runs that the server lists in the experiment, by the writer's tag, must be at least the
    # acknowledged ones (unacknowledged attempts may or may not have landed).
    listed = client.search_runs([(state_dir / "experiment").read_text(encoding="utf-8")], max_results=5000)
    listed_ids = {run.info.run_id for run in listed}
    missing += [run_id for run_id in acked if run_id not in listed_ids and run_id not in missing]
    errors_before, per_kill = _per_kill(attempts, kills)
    # An artifact sent after the store's return went to the store that came back (the killed one
    # had exited before); one sent earlier may have gone to the killed one, and is not checked.
    # With STORE_SERVICE "-" the store was not among them: every artifact is read back.
    store_back = (
        0.0
        if store_service == "-"
        else _docker_time(next(started for service, _died, started in kills if service == store_service))
    )
    checked, wrong = _artifact_mismatches(client, runs, store_back)
    return {
        "acknowledged": len(acked),
        "listed": len(listed_ids),
        "missing": missing,
        "errors": outcomes.count("E"),
        "errors_before_kills": errors_before,
        "kills": per_kill,
        "artifacts": {
            "checked": checked,
            "wrong": wrong,
            "not_checked": len(acked) - checked,
        },
        "outcomes": outcomes,
        "recovered": outcomes.endswith("." * RECOVERED),
    }


def keep_bucket(endpoint: str, bucket: str, secrets_dir: Path, keep_dir: Path, max_seconds: float) -> dict:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=(secrets_dir / "minio_root_user").read_text(encoding="utf-8").strip(),
        aws_secret_access_key=(secrets_dir / "minio_root_password").read_text(encoding="utf-8").strip(),
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
    )
    keep_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("stop", "ready"):  # an earlier verify run's
        (keep_dir / stale).unlink(missing_ok=True)
    created = []
    deadline = time.monotonic() + max_seconds
    while not (keep_dir / "stop").exists() and time.monotonic() < deadline:
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
                raise
            try:
                s3.create_bucket(Bucket=bucket)
                created.append(round(time.time(), 3))
            except (BotoCoreError, ClientError):  # killed again meanwhile: the next round sees
                pass
        except BotoCoreError:  # the store is down: wait for its return
            pass
        else:
            (keep_dir / "ready").touch()
        time.sleep(0.5)
    return {"created": created}


def main() -> int:
    mode = sys.argv[1]
    if mode == "keep-bucket":
        endpoint, bucket, secrets_dir, keep_dir = sys.argv[2:6]
        max_seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 900.0
        print(json.dumps(keep_bucket(endpoint, bucket, Path(secrets_dir), Path(keep_dir), max_seconds)))
        return 0
    url, ca_cert, state_dir = sys.argv[2:5]
    if mode == "write":
        max_seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 900.0
        print(json.dumps(write(url, ca_cert, Path(state_dir), max_seconds)))
        return 0
    kills = [line.split() for line in sys.argv[5].splitlines() if line.strip()]
    result = check(url, ca_cert, Path(state_dir), kills, sys.argv[6])
    print(json.dumps(result))
    failed = (
        result["missing"]
        or result["artifacts"]["wrong"]
        or not result["artifacts"]["checked"]
        or result["errors_before_kills"]
        or not all(kill["recovered"] for kill in result["kills"])
        or not result["recovered"]
        or not result["acknowledged"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
