"""The artifact-store-full fault tests' client (verify_volume_full.yml: a small local volume;
verify_store_full.yml: an S3 store at its capacity), run on the controller.

  python mlflow_volume_full.py experiment URL           create the experiment, print its id
  python mlflow_volume_full.py fill URL EXPERIMENT_ID SMALL_KIB BIG_MIB
                                                        log a small artifact, then one that
                                                        cannot fit, then check the aftermath
  python mlflow_volume_full.py aftermath URL RUN_ID SMALL_FILE SMALL_SHA256 BIG_MIB
                                                        step 3 below, for `fill`

The verify playbook mounts a small volume under the experiment's artifact directory (or gives
the S3 store a small capacity) between the two calls. Credentials and the server's certificate,
when the server is behind nginx, come from MLFLOW_TRACKING_USERNAME/_PASSWORD and
MLFLOW_TRACKING_SERVER_CERT_PATH. `fill` then, in one run of that experiment:

1. logs a metric and a SMALL_KIB artifact (fits on the volume);
2. logs a BIG_MIB artifact (does not fit): the call must fail at once with the server's 507
   (Insufficient Storage, a status the client does not retry) naming the cause;
3. checks the aftermath: the server still answers; the same run takes another metric and ends
   FINISHED; the run's metrics are exactly those logged; the small artifact reads back with its
   checksum; the big artifact is not listed at all (neither whole nor a truncated leftover:
   the server's error says nothing of it was kept); a run in another experiment still logs an
   artifact.

Prints one JSON object (the client's error text included); exits non-zero when the big upload
succeeded or any check of the aftermath failed. The client does not retry
(MLFLOW_HTTP_REQUEST_MAX_RETRIES=0), so a 5xx is seen as it is.

Step 3 runs in a new process (`aftermath`, called by `fill`): the server answers the failed
upload (with the 507, or with MLflow's own 500 without the image's module) before it has read the
body, then closes the connection without saying so (no "Connection: close"; uvicorn 0.54). A
client that retries, as MLflow's does by default, reconnects; this one does not retry, and its
connection pool may hand the closed connection to the next call, which then fails before it
reaches the server (RemoteDisconnected, 3 calls in 20 in one measurement on the local stage).
That would be the test's client failing, not the server, so the aftermath starts with no pooled
connection.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def _client(url: str):
    os.environ["MLFLOW_TRACKING_URI"] = url
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "60"
    from mlflow import MlflowClient

    return MlflowClient(url)


def _file(path: Path, size: int) -> str:
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def experiment(url: str) -> dict:
    client = _client(url)
    return {"experiment_id": client.create_experiment(f"volume-full-{os.urandom(4).hex()}")}


def fill(url: str, experiment_id: str, small_kib: int, big_mib: int) -> dict:
    client = _client(url)
    out: dict = {"experiment_id": experiment_id, "failures": []}
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp, "small.bin"), Path(tmp, "big.bin")
        small_sha = _file(small, small_kib * 1024)
        _file(big, big_mib * 1024 * 1024)

        run_id = client.create_run(experiment_id).info.run_id
        out["run_id"] = run_id
        client.log_metric(run_id, "before", 1.0)
        client.log_artifact(run_id, str(small))
        try:
            client.log_artifact(run_id, str(big))
        except Exception as exc:  # whatever the client raises, its text is what the user sees
            out["big_upload_error"] = f"{type(exc).__name__}: {str(exc)[:1200]}"
        else:
            out["failures"].append("the upload larger than the volume succeeded")
        error = out.get("big_upload_error", "")
        if "507 Server Error" not in error or "no space left" not in error.lower():
            out["failures"].append("the failed upload's error is not a 507 that names the full volume")

        after = subprocess.run(
            [sys.executable, __file__, "aftermath", url, run_id, str(small), small_sha, str(big_mib)],
            stdout=subprocess.PIPE,
            check=True,
        )
        aftermath_out = json.loads(after.stdout.decode().splitlines()[-1])
    out["failures"] += aftermath_out.pop("failures")
    out.update(aftermath_out)
    return out


def aftermath(url: str, run_id: str, small: str, small_sha: str, big_mib: int) -> dict:
    import requests

    client = _client(url)
    out: dict = {"failures": []}
    with tempfile.TemporaryDirectory() as tmp:
        # Through nginx (the compose stage): with the client's credentials and trusted certificate.
        user = os.environ.get("MLFLOW_TRACKING_USERNAME")
        auth = (user, os.environ.get("MLFLOW_TRACKING_PASSWORD", "")) if user else None
        verify = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or True
        out["health"] = requests.get(f"{url}/health", auth=auth, verify=verify, timeout=30).status_code
        client.log_metric(run_id, "after", 2.0)
        client.set_terminated(run_id)
        run = client.get_run(run_id)
        out["status"] = run.info.status
        out["metrics"] = run.data.metrics
        listed = {item.path: item.file_size for item in client.list_artifacts(run_id)}
        out["listed"] = listed
        back = Path(client.download_artifacts(run_id, "small.bin", tmp + "/back"))
        out["small_intact"] = hashlib.sha256(back.read_bytes()).hexdigest() == small_sha

        other = client.create_run(client.create_experiment(f"after-full-{os.urandom(4).hex()}")).info.run_id
        client.log_artifact(other, small)
        out["other_experiment_ok"] = [item.path for item in client.list_artifacts(other)] == ["small.bin"]

    if out["health"] != 200:
        out["failures"].append("the server stopped answering /health")
    if out["status"] != "FINISHED" or out["metrics"] != {"before": 1.0, "after": 2.0}:
        out["failures"].append("the run's metadata is not what was logged")
    if not out["small_intact"]:
        out["failures"].append("the artifact logged before the volume filled changed")
    # Listed at any size is a failure: a truncated leftover would be served as if it were whole.
    if "big.bin" in listed:
        out["failures"].append(f"the failed upload is listed ({listed['big.bin']} of {big_mib * 1024 * 1024} bytes)")
    if not out["other_experiment_ok"]:
        out["failures"].append("a run on the healthy volume could not log an artifact")
    return out


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "experiment":
        print(json.dumps(experiment(argv[2])))
        return 0
    if len(argv) == 6 and argv[1] == "fill":
        out = fill(argv[2], argv[3], int(argv[4]), int(argv[5]))
        print(json.dumps(out, sort_keys=True))
        return 1 if out["failures"] else 0
    if len(argv) == 7 and argv[1] == "aftermath":
        print(json.dumps(aftermath(argv[2], argv[3], argv[4], argv[5], int(argv[6]))))
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
