"""The MLflow image's entrypoint (roles/mlflow_server/files/mlflow-entrypoint.py): the database URI
it builds from the compose file's MLFLOW_DB_* settings, as SQLAlchemy then reads it, and the files
it hands libpq and boto3 the secrets in (never the environment)."""

import configparser
import importlib.util
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ENTRYPOINT = Path(__file__).resolve().parents[3] / "roles/mlflow_server/files/mlflow-entrypoint.py"


@pytest.fixture
def entrypoint(tmp_path, monkeypatch):
    (tmp_path / "mlflow_db_password").write_text("p@ss:w/rd\\x\n", encoding="utf-8")
    monkeypatch.setenv("MLFLOW_SECRETS_DIR", str(tmp_path))
    (tmp_path / "runtime").mkdir()
    monkeypatch.setenv("MLFLOW_RUNTIME_SECRETS_DIR", str(tmp_path / "runtime"))
    for name in ("PGPASSFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "")  # recorded, so what the entrypoint sets is undone after the test
        monkeypatch.delenv(name)
    for name in ("MLFLOW_DB_SSLMODE", "MLFLOW_DB_SSLROOTCERT", "MLFLOW_DB_USER", "MLFLOW_DB_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_DB_PORT", "6432")
    spec = importlib.util.spec_from_file_location("mlflow_entrypoint", ENTRYPOINT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("host", "expected"),
    [("10.0.0.5", "10.0.0.5"), ("db.example.com", "db.example.com"), ("fd00::5", "fd00::5"), ("postgres", "postgres")],
)
def test_the_uri_names_the_database_host_and_port(entrypoint, monkeypatch, host, expected):
    monkeypatch.setenv("MLFLOW_DB_HOST", host)
    url = make_url(entrypoint.backend_uri())
    assert url.host == expected  # an IPv6 address needs brackets in the URI, or the port is misread
    assert url.port == 6432
    assert url.password is None  # libpq reads it from PGPASSFILE: no secret in a URI MLflow may log
    assert url.drivername == "postgresql+psycopg2"


def _private(path):
    mode = Path(path).stat().st_mode
    return stat.S_IMODE(mode) == 0o600 and stat.S_IMODE(Path(path).parent.stat().st_mode) == 0o700


def test_the_password_is_in_a_file_libpq_reads_not_in_the_environment(entrypoint, monkeypatch):
    monkeypatch.setenv("MLFLOW_DB_HOST", "postgres")
    entrypoint.backend_uri()

    pgpass = os.environ["PGPASSFILE"]
    # Any host, port, database and user; ":" and "\\" escaped as libpq's password file wants them.
    assert Path(pgpass).read_text(encoding="utf-8") == "*:*:*:*:p@ss\\:w/rd\\\\x\n"
    assert _private(pgpass)
    assert not any("p@ss" in value for value in os.environ.values())


def test_the_s3_keys_are_in_a_credentials_file_boto3_reads(entrypoint, tmp_path, monkeypatch):
    (tmp_path / "mlflow_s3_access_key").write_text("AKIAEXAMPLE\n", encoding="utf-8")
    (tmp_path / "mlflow_s3_secret_key").write_text("s3cr3t/key+x\n", encoding="utf-8")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "left-over")
    entrypoint.s3_credentials()

    credentials = configparser.RawConfigParser()
    credentials.read(os.environ["AWS_SHARED_CREDENTIALS_FILE"])
    assert dict(credentials["default"]) == {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "s3cr3t/key+x"}
    assert _private(os.environ["AWS_SHARED_CREDENTIALS_FILE"])
    assert "AWS_SECRET_ACCESS_KEY" not in os.environ and "AWS_ACCESS_KEY_ID" not in os.environ


def test_without_s3_keys_boto3_keeps_its_chain(entrypoint):
    entrypoint.s3_credentials()

    assert "AWS_SHARED_CREDENTIALS_FILE" not in os.environ
