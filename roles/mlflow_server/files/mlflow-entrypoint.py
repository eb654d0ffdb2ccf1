# Managed by Ansible (mlops.mlflow.mlflow_server): entrypoint of the MLflow server image.
"""Start `mlflow server` with secrets read from Compose file secrets.

Everything that is not secret comes from MLFLOW_* environment variables set in the compose file
(mlflow server reads them itself). Secrets never enter the container's configuration: this
script reads them from /run/secrets at start and puts them in the server process' environment
only, so they are not in `docker inspect`, not on a command line and never printed.

  MLFLOW_DB_HOST, MLFLOW_DB_PORT, MLFLOW_DB_NAME, MLFLOW_DB_USER, MLFLOW_DB_SSLMODE,
  MLFLOW_DB_SSLROOTCERT      parts of the PostgreSQL URI; the password is the file
                             /run/secrets/mlflow_db_password
  /run/secrets/mlflow_s3_access_key, /run/secrets/mlflow_s3_secret_key
                             S3 credentials (absent: boto3's chain, e.g. an instance role)

`mlflow-entrypoint db-upgrade` upgrades the database schema to this image's MLflow version
instead of starting the server; `mlflow-entrypoint init-schema` creates the schema in an empty
database (once, before several servers start); `mlflow-entrypoint check-db` connects once and reports whether
the database answers (and over TLS or not), with an error that names host and port, not the
password.
"""

import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote, urlencode

SECRETS = Path(os.environ.get("MLFLOW_SECRETS_DIR", "/run/secrets"))


def _secret(name: str) -> str | None:
    path = SECRETS / name
    if not path.exists():
        return None
    return path.read_text(encoding="utf-8").strip()


def backend_uri() -> str | None:
    host = os.environ.get("MLFLOW_DB_HOST")
    if not host:
        return os.environ.get("MLFLOW_BACKEND_STORE_URI")
    password = _secret("mlflow_db_password")
    if password is None:
        sys.exit(f"mlflow-entrypoint: {SECRETS / 'mlflow_db_password'} is missing")
    user = quote(os.environ.get("MLFLOW_DB_USER", "mlflow"), safe="")
    name = quote(os.environ.get("MLFLOW_DB_NAME", "mlflow"), safe="")
    port = os.environ.get("MLFLOW_DB_PORT", "5432")
    if ":" in host and not host.startswith("["):  # an IPv6 address, in brackets in a URI
        host = f"[{host}]"
    query = {
        key: os.environ[env]
        for key, env in (("sslmode", "MLFLOW_DB_SSLMODE"), ("sslrootcert", "MLFLOW_DB_SSLROOTCERT"))
        if os.environ.get(env)
    }
    uri = f"postgresql+psycopg2://{user}:{quote(password, safe='')}@{host}:{port}/{name}"
    return f"{uri}?{urlencode(query)}" if query else uri


def check_db() -> None:
    import sqlalchemy

    where = f"{os.environ.get('MLFLOW_DB_HOST')}:{os.environ.get('MLFLOW_DB_PORT', '5432')}"
    try:
        engine = sqlalchemy.create_engine(os.environ["MLFLOW_BACKEND_STORE_URI"], pool_pre_ping=True)
        with engine.connect() as conn:
            version = conn.execute(sqlalchemy.text("show server_version")).scalar()
            ssl = conn.execute(sqlalchemy.text("select ssl from pg_stat_ssl where pid = pg_backend_pid()")).scalar()
    except Exception as exc:  # any failure is reported, without the URI
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        sys.exit(f"mlflow-entrypoint: cannot use the database at {where}: {detail}")
    print(f"mlflow-entrypoint: database at {where} answers (PostgreSQL {version}, TLS {'on' if ssl else 'off'})")


def init_schema() -> None:
    """Create MLflow's schema in an empty database, as the server would; leave any other alone.

    Several servers starting at once on an empty database race to create it (duplicate
    alembic_version); the role runs this once, before any server starts. An existing schema is
    not touched: upgrades are explicit (db-upgrade, after a backup).
    """
    import sqlalchemy
    from mlflow.store.db.utils import _initialize_tables, create_sqlalchemy_engine_with_retry

    engine = create_sqlalchemy_engine_with_retry(os.environ["MLFLOW_BACKEND_STORE_URI"])
    if sqlalchemy.inspect(engine).get_table_names():
        print("mlflow-entrypoint: the database already has a schema; left as it is", flush=True)
    else:
        _initialize_tables(engine)
        print("mlflow-entrypoint: created MLflow's schema in the empty database", flush=True)
    engine.dispose()


def clear_stale_state() -> None:
    """Remove what a previous run of this container left in /tmp.

    MLflow's workers take a file lock (/tmp/db_init_lock-*) while they initialise the store; one
    left behind by a host that lost power makes every worker die at the next start. The
    Prometheus multiprocess directory must also start empty. Nothing else runs in the container
    yet, so anything there is stale. (/tmp is not a tmpfs: proxied artifact downloads spool there.)
    """
    for lock in Path(tempfile.gettempdir()).glob("db_init_lock-*"):
        lock.unlink(missing_ok=True)
    metrics_dir = os.environ.get("MLFLOW_EXPOSE_PROMETHEUS") or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if metrics_dir and Path(metrics_dir).is_dir():
        for entry in Path(metrics_dir).iterdir():
            if entry.is_file():
                entry.unlink(missing_ok=True)


def main() -> None:
    if sys.argv[1:2] not in (["check-db"], ["db-upgrade"], ["init-schema"]):
        clear_stale_state()
    uri = backend_uri()
    if uri:
        os.environ["MLFLOW_BACKEND_STORE_URI"] = uri
    for env, name in (("AWS_ACCESS_KEY_ID", "mlflow_s3_access_key"), ("AWS_SECRET_ACCESS_KEY", "mlflow_s3_secret_key")):
        value = _secret(name)
        if value:
            os.environ[env] = value

    if sys.argv[1:2] == ["check-db"]:
        check_db()
        return
    if sys.argv[1:2] == ["init-schema"]:
        init_schema()
        return
    if sys.argv[1:2] == ["db-upgrade"]:
        # Same as `mlflow db upgrade <uri>`, without the URI on a command line.
        from mlflow.store.db.utils import _upgrade_db, create_sqlalchemy_engine_with_retry

        _upgrade_db(create_sqlalchemy_engine_with_retry(os.environ["MLFLOW_BACKEND_STORE_URI"]))
        print("mlflow-entrypoint: database schema is at this MLflow version's head", flush=True)
        return
    os.execvp("mlflow", ["mlflow", "server", *sys.argv[1:]])  # noqa: S606 -- replacing this process is the point


if __name__ == "__main__":
    main()
