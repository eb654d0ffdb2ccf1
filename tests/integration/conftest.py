"""Shared helpers of the integration tests: run real playbooks on localhost, find free ports,
run the S3 stand-in for MinIO on 127.0.0.1: the Molecule scenarios' own (tests/images/s3-moto/minio,
moto's S3 server that checks SigV4 signatures against MinIO's root user and password)."""

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
import yaml

BIN = Path(sys.executable).parent
STANDIN = Path(__file__).resolve().parents[1] / "images/s3-moto/minio"
IMAGE_FILES = Path(__file__).resolve().parents[2] / "roles/mlflow_server/files"
# The stand-in's root user and password: the only keys it accepts.
S3_KEYS = {"access_key": "mlops-test", "secret_key": "mlops-test-secret"}


def s3_client(endpoint, secret_key=S3_KEYS["secret_key"]):
    """boto3's S3 client for the stand-in at ``endpoint``, signing with its root user."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS["access_key"],
        aws_secret_access_key=secret_key,
    )


@contextlib.contextmanager
def environment(**values):
    """os.environ with ``values`` set, restored afterwards (MLflow's S3 repository reads it)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_image_module(name, as_name=None):
    """Run the MLflow image's startup module ``name`` (roles/mlflow_server/files) as the image
    does; return the module."""
    sys.path.insert(0, str(IMAGE_FILES))  # the image puts mlflow_import_hook.py beside it
    try:
        spec = importlib.util.spec_from_file_location(as_name or name, IMAGE_FILES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(IMAGE_FILES))
    return module


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def start_nginx(work: Path, http_body: str) -> subprocess.Popen:
    """Debian's nginx in the foreground with its files under ``work`` and ``http_body`` as its http
    block (after the temp paths); the configuration must pass ``nginx -t``. Workers run as
    www-data, so ``work`` must be traversable by it. A missing nginx fails: it is not skipped."""
    assert os.path.exists(NGINX), "nginx is not installed (Debian package nginx); scripts/test.sh installs it"
    (work / "logs").mkdir(parents=True, exist_ok=True)
    conf = work / "nginx.conf"
    conf.write_text(
        f"""
user www-data;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/logs/error.log;
events {{ worker_connections 64; }}
http {{
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
{http_body}
}}
""",
        encoding="utf-8",
    )
    check = subprocess.run([NGINX, "-t", "-p", str(work), "-c", str(conf)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr + http_body
    return subprocess.Popen([NGINX, "-p", str(work), "-c", str(conf), "-g", "daemon off;"])


def nginx_site_tasks(dest: Path, role_vars: dict) -> list:
    """Tasks rendering nginx_auth's site file to ``dest`` as the role does: its facts, then its template."""
    template = Path(__file__).resolve().parents[2] / "roles/nginx_auth/templates/mlflow.conf.j2"
    return [
        {
            "ansible.builtin.include_role": {"name": "mlops.mlflow.nginx_auth", "tasks_from": "facts", "public": True},
            "vars": role_vars,
        },
        {
            "ansible.builtin.template": {"src": str(template), "dest": str(dest), "mode": "0644"},
            "vars": role_vars,
        },
    ]


def stop_nginx(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def compose_service(project_dir, project_name, definition, **role_vars) -> dict:
    """A task running compose_project's `service` entry point for the service `web`."""
    return {
        "ansible.builtin.include_role": {"name": "mlops.mlflow.compose_project", "tasks_from": "service"},
        "vars": {
            "compose_project_dir": str(project_dir),
            "compose_project_name": project_name,
            "compose_project_service": "web",
            "compose_project_definition": definition,
            **role_vars,
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(port, delay=0, env=None):
    """The S3 stand-in (`minio server`) on 127.0.0.1:port, started after ``delay`` seconds when
    asked to; ``env``: more environment (MLOPS_STANDIN_CAPACITY_BYTES)."""
    command = [sys.executable, str(STANDIN), "server", "/data", "--address", f"127.0.0.1:{port}"]
    if delay:
        command = ["sh", "-c", f'sleep {delay}; exec "$0" "$@"', *command]
    env = dict(
        os.environ, MINIO_ROOT_USER=S3_KEYS["access_key"], MINIO_ROOT_PASSWORD=S3_KEYS["secret_key"], **(env or {})
    )
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_up(port, proc):
    for _attempt in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/minio/health/live", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the S3 stand-in did not start")


def stop_moto(proc):
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def endpoint():
    """One S3 stand-in for MinIO per test module, on 127.0.0.1."""
    port = free_port()
    proc = start_moto(port)
    wait_until_up(port, proc)
    yield f"http://127.0.0.1:{port}"
    stop_moto(proc)


def run_playbook(playbook: Path, *args: str, extra_env=None, cwd=None) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a real ansible-playbook with the JSON callback; return the process and its report."""
    env = dict(
        os.environ,
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        **(extra_env or {}),
    )
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)  # no other callback may print into the JSON
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), *args, str(playbook)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        raise AssertionError(f"ansible-playbook did not print JSON:\n{proc.stdout}\n{proc.stderr}") from None
    return proc, report


@contextlib.contextmanager
def scratch_volume(kind):
    """A Docker volume of the test's own (a unique name), removed afterwards."""
    name = f"mlops-{kind}-test-" + os.urandom(3).hex()
    subprocess.run(["docker", "volume", "create", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["docker", "volume", "rm", name], check=False, capture_output=True)


def refusal(rc, results, output) -> str:
    """The message of the one task that failed a run that had to fail (a role's refusal)."""
    assert rc != 0, output
    failed = [r for r in results if r.get("failed")]
    assert len(failed) == 1, output
    return failed[0].get("msg", "")


@pytest.fixture
def run_tasks(tmp_path):
    """Run tasks in a real ansible-playbook on localhost; return (rc, [task results], output)."""

    def run(tasks, check=False, diff=False, extra_env=None):
        playbook = tmp_path / f"play-{os.urandom(3).hex()}.yml"
        playbook.write_text(
            yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]),
            encoding="utf-8",
        )
        args = (["--check"] if check else []) + (["--diff"] if diff else [])
        proc, report = run_playbook(playbook, *args, extra_env=extra_env)
        results = [task["hosts"]["localhost"] for task in report["plays"][0]["tasks"]]
        return proc.returncode, results, proc.stdout + proc.stderr

    return run
