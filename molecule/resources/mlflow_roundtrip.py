"""Use a deployed MLflow stack the way a user does: the MLflow client, through nginx, over HTTPS.

Run by the stack scenarios' verify playbooks on the controller:

  python mlflow_roundtrip.py write  URL CA_CERT STATE_FILE   log an experiment, a run and a model
  python mlflow_roundtrip.py read   URL CA_CERT STATE_FILE [--metadata-only]
                                                            read it all back and compare
  python mlflow_roundtrip.py big    URL CA_CERT SIZE_MIB     upload one large artifact

Credentials come from MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD. The server's
certificate is trusted explicitly (MLFLOW_TRACKING_SERVER_CERT_PATH), not switched off.
Prints one JSON object; exits non-zero on any mismatch.
"""

import hashlib
import json
import math
import os
import sys
import tempfile
from pathlib import Path

ARTIFACT_MIB = 50


def _client(url: str, ca_cert: str):
    os.environ["MLFLOW_TRACKING_URI"] = url
    if ca_cert != "-":  # "-": plain HTTP (the local stage without nginx)
        os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"] = ca_cert
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    # No MLFLOW_ENABLE_PROXY_MULTIPART_* here: a client as users run it, which takes the server's
    # word on presigned transfers (_presigned_problems).
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(url)
    return mlflow, MlflowClient(url)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(url: str, ca_cert: str, state_file: str) -> dict:
    mlflow, client = _client(url, ca_cert)
    experiment_id = client.create_experiment(f"verify-{os.urandom(4).hex()}")
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "weights.bin"
        artifact.write_bytes(os.urandom(ARTIFACT_MIB << 20))
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_params({"lr": "0.01", "layers": "4", "long": "x" * 500})
            for step in range(20):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            mlflow.log_metric("nan_metric", math.nan)
            mlflow.set_tags({"team": "platform", "stage": "verify"})
            mlflow.log_artifact(str(artifact), artifact_path="model")
        digest = _sha256(artifact)
    name = f"verify-model-{experiment_id}"
    client.create_registered_model(name)
    version = client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
    client.set_registered_model_alias(name, "champion", version.version)
    state = {
        "experiment_id": experiment_id,
        "run_id": run.info.run_id,
        "artifact_uri": run.info.artifact_uri,
        "artifact_sha256": digest,
        "artifact_bytes": ARTIFACT_MIB << 20,
        "model": name,
        "model_version": version.version,
    }
    Path(state_file).write_text(json.dumps(state), encoding="utf-8")
    return state


def read(url: str, ca_cert: str, state_file: str, *flags: str) -> dict:
    state = json.loads(Path(state_file).read_text(encoding="utf-8"))
    client = _client(url, ca_cert)[1]
    run = client.get_run(state["run_id"])
    problems = []
    if run.data.params.get("lr") != "0.01" or run.data.params.get("long") != "x" * 500:
        problems.append(f"params differ: {run.data.params}")
    history = client.get_metric_history(state["run_id"], "loss")
    if len(history) != 20 or abs(history[-1].value - 1.0 / 20) > 1e-9:
        problems.append(f"loss history differs: {len(history)} points")
    if not math.isnan(run.data.metrics.get("nan_metric", 0.0)):
        problems.append("NaN metric did not come back as NaN")
    if run.data.tags.get("team") != "platform":
        problems.append(f"tags differ: {run.data.tags}")
    if "--metadata-only" not in flags:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(client.download_artifacts(state["run_id"], "model/weights.bin", tmp))
            if _sha256(local) != state["artifact_sha256"]:
                problems.append("artifact bytes differ")
        problems += _presigned_problems(url, state["artifact_uri"])
    version = client.get_model_version_by_alias(state["model"], "champion")
    if version.version != state["model_version"] or version.run_id != state["run_id"]:
        problems.append(f"model alias points at {version.version}/{version.run_id}")
    if problems:
        raise SystemExit("; ".join(problems))
    return {"ok": True, **state}


def _presigned_problems(url: str, artifact_uri: str) -> list:
    """What the server offers clients of a proxied stack that they could not use: presigned S3
    transfers (the role leaves them off unless mlflow_server_multipart_upload/_download), whose
    URLs name an S3 endpoint only the server reaches. MLflow 3.17.2 offers them whenever the
    store is S3, and an MLflow 3.18 client then fetches every download from such a URL."""
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    creds = get_default_host_creds(url)
    info = http_request(creds, "/api/3.0/mlflow/server-info", "GET")
    if info.status_code != 200:
        return [f"server-info answered {info.status_code}"]
    problems = []
    offered = {key: value for key, value in info.json().items() if "multipart" in key}
    if any(offered.values()):
        problems.append(f"server offers presigned transfers: {offered}")
    if artifact_uri.startswith("mlflow-artifacts:/"):  # proxied: ask for a presigned URL as a 3.18 client does
        path = artifact_uri.removeprefix("mlflow-artifacts:").strip("/") + "/model/weights.bin"
        granted = http_request(creds, f"/api/2.0/mlflow-artifacts/presigned/{path}", "GET")
        if granted.status_code != 501:
            problems.append(f"presigned download answered {granted.status_code}, not 501: {granted.text[:200]}")
    return problems


def big(url: str, ca_cert: str, size_mib: str) -> dict:
    mlflow, client = _client(url, ca_cert)
    experiment_id = client.create_experiment(f"verify-big-{os.urandom(4).hex()}")
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "big.bin"
        with artifact.open("wb") as handle:  # sparse: no disk, streams as zeros
            handle.truncate(int(size_mib) << 20)
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_artifact(str(artifact))
    listed = {item.path: item.file_size for item in client.list_artifacts(run.info.run_id)}
    if listed.get("big.bin") != int(size_mib) << 20:
        raise SystemExit(f"large artifact not stored whole: {listed}")
    return {"ok": True, "run_id": run.info.run_id, "bytes": listed["big.bin"]}


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    print(json.dumps({"write": write, "read": read, "big": big}[command](*args)))
