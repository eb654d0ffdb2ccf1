"""nginx_auth's site under a path prefix, served by a real nginx in front of a recording upstream.

The role's site template is rendered by a real ansible-playbook (the role's facts and defaults,
nginx_auth_path_prefix=/mlflow) and loaded by Debian's nginx on 127.0.0.1, with a certificate
made for the test and an htpasswd file. A small HTTP server stands in for MLflow and records the
request lines nginx sends it. MLflow serves the artifact proxy's transfers (GET and PUT of
.../mlflow-artifacts/artifacts/<path>) from a streaming router without the prefix (under the
prefix only through its WSGI bridge, which holds an upload in memory), so nginx must send those
on unprefixed, byte for byte otherwise; every other path and method (the artifact listing,
delete and multipart routes exist under the prefix only) goes on as the client sent it.
"""

import http.client
import http.server
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from base64 import b64encode
from pathlib import Path

import pytest

from .conftest import free_port, nginx_site_tasks, start_nginx, stop_nginx

pytestmark = pytest.mark.integration

HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"
AUTH = {"Authorization": "Basic " + b64encode(b"alice:s3cret pass").decode()}


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding") == "chunked":
            while (size := int(self.rfile.readline().strip(), 16)) > 0:
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        self.seen.append((self.command, self.path, len(body)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_PUT = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def site(run_tasks):
    """nginx with the role's site under /mlflow; yield (https port, the upstream's request list)."""
    work = Path(tempfile.mkdtemp(prefix="nginx-prefix-"))
    work.chmod(0o755)  # nginx's www-data workers read the htpasswd file below it
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    http_port, https_port = free_port(), free_port()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(work / "tls.key"), "-out", str(work / "tls.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run([HTPASSWD, "-b", "-c", str(work / "users"), "alice", "s3cret pass"], check=True, capture_output=True)
    (work / "users").chmod(0o644)
    role_vars = {
        "nginx_auth_server_names": ["localhost"],
        "nginx_auth_users": [{"name": "alice", "password": "unused"}],
        "nginx_auth_upstream_servers": [f"127.0.0.1:{upstream.server_port}"],
        "nginx_auth_path_prefix": "/mlflow",
        "nginx_auth_http_port": http_port,
        "nginx_auth_https_port": https_port,
        "nginx_auth_listen_ipv6": False,
        "nginx_auth_tls_cert_path": str(work / "tls.crt"),
        "nginx_auth_tls_key_path": str(work / "tls.key"),
        "nginx_auth_htpasswd_path": str(work / "users"),
    }
    rc, _results, output = run_tasks(nginx_site_tasks(work / "site.conf", role_vars))
    assert rc == 0, output
    proc = start_nginx(work, f"  include {work}/site.conf;")
    for _attempt in range(50):
        try:
            _request(https_port, "GET", "/mlflow/health")
            break
        except OSError:
            time.sleep(0.1)
    yield https_port, _Recorder.seen
    stop_nginx(proc)
    upstream.shutdown()
    shutil.rmtree(work, ignore_errors=True)


def _request(port, method, path, body=None, headers=None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own throwaway certificate; TLS is not what is tested
    conn = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("sent", "upstream_path"),
    [
        (
            "/mlflow/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model%20v2/w%2Bb.bin",
            "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model%20v2/w%2Bb.bin",
        ),
        (
            "/mlflow/ajax-api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a%3Fb.txt",
            "/ajax-api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a%3Fb.txt",
        ),
    ],
    ids=["api", "ajax-api"],
)
def test_artifact_routes_go_on_without_the_prefix_byte_for_byte(site, sent, upstream_path):
    port, seen = site
    assert _request(port, "PUT", sent, body=b"x" * 70000, headers=AUTH) == 200
    assert seen[-1] == ("PUT", upstream_path, 70000)
    assert _request(port, "GET", sent, headers=AUTH) == 200
    assert seen[-1] == ("GET", upstream_path, 0)


@pytest.mark.parametrize(
    ("method", "sent"),
    [("GET", "/mlflow/api/2.0/mlflow/runs/search"),
     ("GET", "/mlflow/ajax-api/2.0/mlflow/experiments/search?max_results=1"),
     ("GET", "/mlflow/get-artifact?path=m%20x&run_uuid=1"), ("GET", "/mlflow/static-files/x.js"),
     ("GET", "/mlflow/api/2.0/mlflow-artifacts/artifacts?path=1%2Fabc"),
     ("DELETE", "/mlflow/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/x.bin"),
     ("POST", "/mlflow/api/2.0/mlflow-artifacts/mpu/create/1/abc/artifacts")],
)  # fmt: skip
def test_other_paths_and_artifact_routes_go_on_with_the_prefix(site, method, sent):
    port, seen = site
    assert _request(port, method, sent, body=b"{}" if method == "POST" else None, headers=AUTH) == 200
    assert seen[-1][:2] == (method, sent)


@pytest.mark.parametrize(
    "sent", ["/mlflow/api/2.0/mlflow-artifacts/artifacts/1/x.bin", "/mlflow/ajax-api/2.0/mlflow-artifacts/artifacts"]
)
def test_artifact_routes_under_the_prefix_still_need_credentials(site, sent):
    port, seen = site
    before = len(seen)
    assert _request(port, "PUT", sent, body=b"x") == 401
    assert _request(port, "GET", sent, headers={"Authorization": "Basic " + b64encode(b"alice:wrong").decode()}) == 401
    assert len(seen) == before
