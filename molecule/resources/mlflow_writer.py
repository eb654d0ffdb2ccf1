"""A client that keeps logging runs while the fault tests kill the stack's containers.

  python mlflow_writer.py write URL CA_CERT STATE_DIR   log runs until STATE_DIR/stop exists
  python mlflow_writer.py check URL CA_CERT STATE_DIR   every acknowledged run is still there

`write` creates one experiment, then loops: start a run, log a param, a metric and a tag, end
it. A run counts as acknowledged only when every call for it returned. Each outcome is appended
to STATE_DIR/acked (run ids) or STATE_DIR/errors (one line per failed attempt), so the verify
playbook can watch progress while it kills containers. The loop is bounded: it stops at the
stop file or after --max-seconds, whichever comes first.

`check` reads the acknowledged run ids back through the server and prints a JSON summary:
acknowledged, found, errors, and whether the last attempts succeeded. Exits non-zero when an
acknowledged run is missing or incomplete (its param, metric or tag absent, or not FINISHED) or
the writer never recovered after the last fault.

The client does not retry by itself (MLFLOW_HTTP_REQUEST_MAX_RETRIES=0): every failure the
faults cause is counted here, not hidden by the client's backoff.
"""

import json
import os
import sys
import time
from pathlib import Path


def _client(url: str, ca_cert: str):
    os.environ["MLFLOW_TRACKING_URI"] = url
    os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"] = ca_cert
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "20"
    from mlflow import MlflowClient

    return MlflowClient(url)


def write(url: str, ca_cert: str, state_dir: Path, max_seconds: float) -> dict:
    client = _client(url, ca_cert)
    state_dir.mkdir(parents=True, exist_ok=True)
    experiment_id = client.create_experiment(f"faults-{os.urandom(4).hex()}")
    (state_dir / "experiment").write_text(experiment_id, encoding="utf-8")
    deadline = time.monotonic() + max_seconds
    attempts = 0
    with (
        (state_dir / "acked").open("a", encoding="utf-8") as acked,
        (state_dir / "errors").open("a", encoding="utf-8") as errors,
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
                client.set_terminated(run_id)
            except Exception as exc:  # every failure is counted, whatever its type
                errors.write(f"{time.time():.0f} {type(exc).__name__}: {str(exc)[:200]!r}\n")
                errors.flush()
                outcomes.write("E")
                outcomes.flush()
                time.sleep(1)
                continue
            acked.write(run_id + "\n")
            acked.flush()
            outcomes.write(".")
            outcomes.flush()
            time.sleep(0.2)
    return {"attempts": attempts}


def check(url: str, ca_cert: str, state_dir: Path) -> dict:
    client = _client(url, ca_cert)
    acked = [line for line in (state_dir / "acked").read_text(encoding="utf-8").split() if line]
    errors = (state_dir / "errors").read_text(encoding="utf-8").splitlines()
    outcomes = (state_dir / "outcomes").read_text(encoding="utf-8")
    missing = []
    for run_id in acked:
        run = client.get_run(run_id)
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
    return {
        "acknowledged": len(acked),
        "listed": len(listed_ids),
        "missing": missing,
        "errors": len(errors),
        "last_errors": errors[-3:],
        "outcomes": outcomes,
        "recovered": outcomes.endswith("....."),
    }


def main() -> int:
    mode, url, ca_cert, state_dir = sys.argv[1:5]
    if mode == "write":
        max_seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 900.0
        print(json.dumps(write(url, ca_cert, Path(state_dir), max_seconds)))
        return 0
    result = check(url, ca_cert, Path(state_dir))
    print(json.dumps(result))
    return 0 if not result["missing"] and result["recovered"] and result["acknowledged"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
