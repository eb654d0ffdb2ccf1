# Managed by Ansible (mlops.mlflow.mlflow_server): entrypoint of the MLflow server image.
"""Start `mlflow server` with secrets read from Compose file secrets.

Everything that is not secret comes from MLFLOW_* environment variables set in the compose file
(mlflow server reads them itself). Secrets never enter the container's configuration nor any
process' environment: this script reads them from /run/secrets at start and writes them, in the
forms libpq and boto3 read, to files only the server's user can read, in memory (/dev/shm), whose
paths (PGPASSFILE, AWS_SHARED_CREDENTIALS_FILE) are all the environment holds. So they are not in
`docker inspect`, not in /proc/<pid>/environ of the server, its workers or jobs, not on a command
line, not in the database URI MLflow may log, and never printed.

  MLFLOW_DB_HOST, MLFLOW_DB_PORT, MLFLOW_DB_NAME, MLFLOW_DB_USER, MLFLOW_DB_SSLMODE,
  MLFLOW_DB_SSLROOTCERT      parts of the PostgreSQL URI; the password is the file
                             /run/secrets/mlflow_db_password
  /run/secrets/mlflow_s3_access_key, /run/secrets/mlflow_s3_secret_key
                             S3 credentials (absent: boto3's chain, e.g. an instance role)
  MLFLOW_RUNTIME_SECRETS_DIR where the files for libpq and boto3 go (default /dev/shm)

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


def _private_file(name: str, text: str) -> str:
    """Write text to a file only this process' user can read and return its path: in memory
    (/dev/shm) where the container has it, in a directory of this user's (0700)."""
    base = os.environ.get("MLFLOW_RUNTIME_SECRETS_DIR") or (
        "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()  # noqa: S108 -- a directory of its own below
    )
    directory = Path(base) / f"mlflow-secrets-{os.getuid()}"
    directory.mkdir(mode=0o700, exist_ok=True)
    if directory.is_symlink() or directory.stat().st_uid != os.getuid():
        sys.exit(f"mlflow-entrypoint: {directory} is not this user's own directory")
    directory.chmod(0o700)
    path = directory / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)
    return str(path)


def _pgpass_field(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def s3_credentials() -> None:
    """Point boto3 at a credentials file holding the S3 keys, when the secret files hold them
    (absent: boto3's chain, e.g. an instance role)."""
    access_key, secret_key = _secret("mlflow_s3_access_key"), _secret("mlflow_s3_secret_key")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    if access_key and secret_key:
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = _private_file(
            "aws-credentials", f"[default]\naws_access_key_id = {access_key}\naws_secret_access_key = {secret_key}\n"
        )


def backend_uri() -> str | None:
    """The database URI, without the password: libpq reads it from the file PGPASSFILE names,
    which this writes."""
    host = os.environ.get("MLFLOW_DB_HOST")
    if not host:
        return os.environ.get("MLFLOW_BACKEND_STORE_URI")
    password = _secret("mlflow_db_password")
    if password is None:
        sys.exit(f"mlflow-entrypoint: {SECRETS / 'mlflow_db_password'} is missing")
    os.environ["PGPASSFILE"] = _private_file("pgpass", f"*:*:*:*:{_pgpass_field(password)}\n")
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
    uri = f"postgresql+psycopg2://{user}@{host}:{port}/{name}"
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
    s3_credentials()

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
