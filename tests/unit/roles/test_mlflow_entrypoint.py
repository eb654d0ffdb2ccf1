"""The MLflow image's entrypoint (roles/mlflow_server/files/mlflow-entrypoint.py): the database URI
it builds from the compose file's MLFLOW_DB_* settings and the password file, as SQLAlchemy then
reads it."""

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

ENTRYPOINT = Path(__file__).resolve().parents[3] / "roles/mlflow_server/files/mlflow-entrypoint.py"


@pytest.fixture
def entrypoint(tmp_path, monkeypatch):
    (tmp_path / "mlflow_db_password").write_text("p@ss:w/rd\n", encoding="utf-8")
    monkeypatch.setenv("MLFLOW_SECRETS_DIR", str(tmp_path))
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
    assert url.password == "p@ss:w/rd"
    assert url.drivername == "postgresql+psycopg2"
