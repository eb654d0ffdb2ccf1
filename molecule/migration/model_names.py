"""Registered models whose names hold quotes, through the real MLflow client.

  python model_names.py fill  URL MANIFEST   register the models below, each with a version of a run
                                             of the manifest (mlflow_fill.py's) and an alias
  python model_names.py check URL MANIFEST   read them back: versions by name and by filter, aliases

MLflow allows any model name without ``/`` or ``:``; its filter grammar has no escapes, so the
migration's verify must quote each name with a quote it does not hold, and find the versions of a
name holding both kinds without a filter. Credentials and TLS trust come from MLFLOW_TRACKING_*.
"""

import json
import sys
from pathlib import Path

NAMES = ["bob's model", 'the "best" model', 'bob\'s "best" model']


def _client(url):
    from mlflow import MlflowClient

    return MlflowClient(url)


def fill(url, manifest_path):
    client = _client(url)
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    run_id = next(iter(manifest["runs"]))
    for name in NAMES:
        client.create_registered_model(name, tags={"quoted": "yes"})
        client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
        client.set_registered_model_alias(name, "champion", "1")
    manifest["quoted_models"] = {"names": NAMES, "run_id": run_id}
    Path(manifest_path).write_text(json.dumps(manifest), encoding="utf-8")
    print(json.dumps({"models": NAMES}))


def check(url, manifest_path):
    client = _client(url)
    expected = json.loads(Path(manifest_path).read_text(encoding="utf-8"))["quoted_models"]
    problems = []
    for name in expected["names"]:
        model = client.get_registered_model(name)
        if model.tags != {"quoted": "yes"} or model.aliases != {"champion": "1"}:
            problems.append(f"{name}: tags {model.tags}, aliases {model.aliases}")
        if client.get_model_version(name, "1").run_id != expected["run_id"]:
            problems.append(f"{name}: version 1 has another run")
        quote = "'" if "'" not in name else '"' if '"' not in name else None
        if quote is not None:
            found = client.search_model_versions(f"name = {quote}{name}{quote}")
            if [v.version for v in found] != ["1"]:
                problems.append(f"{name}: search by name finds versions {[v.version for v in found]}")
    if problems:
        print(json.dumps({"problems": problems}))
        sys.exit(1)
    print(json.dumps({"models_checked": len(expected["names"])}))


if __name__ == "__main__":
    command, url, manifest_file = sys.argv[1:4]
    {"fill": fill, "check": check}[command](url, manifest_file)
