"""The schema revision of an MLflow database, or a step back to the one before (test helper).

Runs inside the MLflow server's image, with the service's settings and secrets, the way the
role's one-off containers do; the database URI comes from the image's entrypoint (never from a
command line):

  docker compose -p mlflow run --rm --no-deps -T --entrypoint python mlflow -c "$(cat this)" step-back
      (server stopped) downgrades the schema by one alembic revision, as an older MLflow left
      it: MLflow then refuses to start until `mlflow db upgrade` runs. Prints `BEFORE AFTER`.
  docker compose -p mlflow exec -T mlflow python -c "$(cat this)" show
      prints the current revision and the head revision of this MLflow.
"""

import importlib.machinery
import importlib.util
import sys

from alembic import command
from mlflow.store.db.utils import (
    _get_alembic_config,
    _get_latest_schema_revision,
    _get_schema_version,
    create_sqlalchemy_engine_with_retry,
)


def backend_uri() -> str:
    loader = importlib.machinery.SourceFileLoader("mlflow_entrypoint", "/usr/local/bin/mlflow-entrypoint")
    spec = importlib.util.spec_from_loader(loader.name, loader)
    entrypoint = importlib.util.module_from_spec(spec)
    loader.exec_module(entrypoint)
    return entrypoint.backend_uri()


def main() -> None:
    engine = create_sqlalchemy_engine_with_retry(backend_uri())
    before = _get_schema_version(engine)
    if sys.argv[1:] == ["show"]:
        print(before, _get_latest_schema_revision())
        return
    if sys.argv[1:] != ["step-back"]:
        sys.exit("usage: show | step-back")
    config = _get_alembic_config(str(engine.url))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    print(before, _get_schema_version(engine))


main()
