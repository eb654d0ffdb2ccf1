"""Fill an MLflow server with the history of a small ML team, through the real MLflow client.

  python mlflow_fill.py fill  URL MANIFEST   experiments (one deleted), hundreds of runs, thousands
                                             of metric points (NaN, +inf, -inf), long params, tags,
                                             artifacts, a registered model with versions and an alias
  python mlflow_fill.py check URL MANIFEST   read everything in the manifest back and compare;
                                             then create a new experiment and run (fails after a
                                             migration that did not reset its sequences)

Credentials and TLS trust come from the usual MLFLOW_TRACKING_* environment variables.
"""

import hashlib
import json
import math
import os
import sys
import tempfile
from pathlib import Path

RUNS_PER_EXPERIMENT = 80
STEPS = 60
LONG_PARAM = "p" * 5000


def _client(url):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(url)
    return mlflow, MlflowClient(url)


def _values(run_index):
    values = [1.0 / (step + 1 + run_index) for step in range(STEPS)]
    values[7] = math.nan
    values[8] = math.inf
    values[9] = -math.inf
    return values


def _stored(value):
    return math.copysign(sys.float_info.max, value) if math.isinf(value) else value


def fill(url, manifest_path):
    from mlflow.entities import Metric, Param, RunTag

    mlflow, client = _client(url)
    manifest = {"experiments": {}, "runs": {}, "artifacts": {}}
    for e in range(4):
        experiment_id = client.create_experiment(f"team-exp-{e}", tags={"owner": f"user{e}"})
        manifest["experiments"][experiment_id] = f"team-exp-{e}"
        for r in range(RUNS_PER_EXPERIMENT):
            run = client.create_run(experiment_id, run_name=f"run-{e}-{r}", tags={"team": "platform", "idx": str(r)})
            run_id = run.info.run_id
            metrics = [] if r % 4 else [Metric("loss", v, 1_700_000_000_000 + s, s) for s, v in enumerate(_values(r))]
            params = [Param("lr", str(0.001 * (r + 1))), Param("layers", str(r % 7))]
            if r == 0:
                params.append(Param("long", LONG_PARAM))
            client.log_batch(run_id, metrics=metrics, params=params, tags=[RunTag("stage", "train")])
            client.log_metric(run_id, "final", float(r))
            client.set_terminated(run_id, "FINISHED" if r % 9 else "FAILED")
            manifest["runs"][run_id] = {"experiment_id": experiment_id, "history": bool(metrics), "r": r}
    deleted = client.create_experiment("team-exp-deleted")
    client.create_run(deleted)
    client.delete_experiment(deleted)
    manifest["deleted_experiment"] = deleted

    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "weights.bin"
        weights.write_bytes(os.urandom(3 << 20))
        with mlflow.start_run(experiment_id=next(iter(manifest["experiments"]))) as run:
            mlflow.log_artifact(str(weights), artifact_path="model")
            mlflow.log_text("hello", "notes/readme.txt")
        manifest["artifacts"] = {
            "run_id": run.info.run_id,
            "path": "model/weights.bin",
            "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        }
    model = "team-model"
    client.create_registered_model(model, tags={"domain": "vision"})
    run_ids = list(manifest["runs"])
    for run_id in run_ids[:2]:
        client.create_model_version(model, f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(model, "champion", "2")
    manifest["model"] = {"name": model, "versions": 2, "alias": {"champion": "2"}}
    Path(manifest_path).write_text(json.dumps(manifest), encoding="utf-8")
    points = sum(STEPS for v in manifest["runs"].values() if v["history"])
    summary = {"experiments": len(manifest["experiments"]) + 1, "runs": len(run_ids) + 2, "loss_points": points}
    print(json.dumps(summary))


def check(url, manifest_path):
    from mlflow.entities import ViewType

    _mlflow, client = _client(url)
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    problems = []
    names = {e.experiment_id: e.name for e in client.search_experiments(view_type=ViewType.ALL)}
    for experiment_id, name in manifest["experiments"].items():
        if names.get(experiment_id) != name:
            problems.append(f"experiment {experiment_id}: {names.get(experiment_id)} != {name}")
    if client.get_experiment(manifest["deleted_experiment"]).lifecycle_stage != "deleted":
        problems.append("the deleted experiment is not deleted")
    for run_id, info in manifest["runs"].items():
        run = client.get_run(run_id)
        if run.data.params.get("lr") != str(0.001 * (info["r"] + 1)):
            problems.append(f"run {run_id}: params {run.data.params}")
        if info["r"] == 0 and run.data.params.get("long") != LONG_PARAM:
            problems.append(f"run {run_id}: long param lost")
        if run.data.tags.get("team") != "platform" or run.data.metrics.get("final") != float(info["r"]):
            problems.append(f"run {run_id}: tags or metrics differ")
        if info["history"] and info["r"] < 12:
            # MLflow's SQL stores keep +-inf as +-max float (in SQLite before and PostgreSQL after
            # the migration alike), so compare what the store can hold.
            got = [_stored(m.value) for m in sorted(client.get_metric_history(run_id, "loss"), key=lambda m: m.step)]
            want = [_stored(v) for v in _values(info["r"])]
            if len(got) != len(want) or any(
                not (g == w or (math.isnan(g) and math.isnan(w))) for g, w in zip(got, want, strict=True)
            ):
                problems.append(f"run {run_id}: loss history differs")
    versions = client.search_model_versions(f"name = '{manifest['model']['name']}'")
    if len(versions) != manifest["model"]["versions"]:
        problems.append(f"model versions: {len(versions)}")
    if client.get_registered_model(manifest["model"]["name"]).aliases != manifest["model"]["alias"]:
        problems.append("model alias differs")
    art = manifest["artifacts"]
    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(art["run_id"], art["path"], tmp)
        if hashlib.sha256(Path(local).read_bytes()).hexdigest() != art["sha256"]:
            problems.append("artifact bytes differ")
    new_experiment = client.create_experiment(f"after-migration-{os.urandom(3).hex()}")
    client.create_run(new_experiment)
    if problems:
        print(json.dumps({"problems": problems[:20]}))
        sys.exit(1)
    print(json.dumps({"runs_checked": len(manifest["runs"]), "new_experiment": new_experiment}))


if __name__ == "__main__":
    command, url, manifest_file = sys.argv[1:4]
    {"fill": fill, "check": check}[command](url, manifest_file)
