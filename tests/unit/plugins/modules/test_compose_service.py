"""Unit tests of mlops.mlflow.compose_service: main() on real files, with a recording `docker`.

The `docker` on PATH is a small script that records its arguments and answers `config` and `up`
with the exit code and the Compose output (plain progress) a test sets. The real Compose is in
tests/integration/test_compose_project_validate.py and in every Molecule scenario.
"""

import json
import os
import stat
import sys
import textwrap

import pytest
from ansible.plugins.callback.default import CallbackModule as DefaultCallback
from module_runner import run_main

from ansible_collections.mlops.mlflow.plugins.modules import compose_service as mod

ME = str(os.getuid())
MY_GROUP = str(os.getgid())
DB = "services:\n  db:\n    image: postgres:15\n"
WEB = "services:\n  web:\n    image: nginx:1\n    depends_on: [db]\n"
UNCHANGED = " Container p-web-1  Running\n Container p-web-1  Waiting\n Container p-web-1  Healthy\n"
# `docker compose ps --all --format json`: one object per line (Compose 2.21 and later).
PS_HEALTHY = (
    '{"Name": "p-db-1", "Service": "db", "State": "running", "Health": "healthy"}\n'
    '{"Name": "p-web-1", "Service": "web", "State": "running", "Health": ""}\n'
)
RECREATED = (
    " Container p-web-1  Recreate\n Container p-web-1  Recreated\n Container p-web-1  Starting\n"
    " Container p-web-1  Started\n Container p-web-1  Waiting\n Container p-web-1  Healthy\n"
)

FAKE_DOCKER = textwrap.dedent(
    """\
    #!{python}
    import json, os, sys
    args = sys.argv[1:]
    with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
        log.write(json.dumps(args) + "\\n")
    verb = next(a for a in args if a in ("config", "up", "logs", "ps"))
    if verb == "ps":
        sys.stdout.write(os.environ["FAKE_PS_STDOUT"])
        sys.exit(int(os.environ.get("FAKE_PS_RC", "0")))
    if verb == "up" and "--wait" not in args:
        sys.stderr.write(os.environ.get("FAKE_UP_NOWAIT_STDERR", " Container p-web-1  Running\\n"))
        sys.exit(int(os.environ.get("FAKE_UP_NOWAIT_RC", "0")))
    if verb == "config":
        sys.stdout.write(os.environ.get("FAKE_CONFIG_SERVICES", "db\\nweb\\n"))
        sys.stderr.write(os.environ.get("FAKE_CONFIG_STDERR", ""))
        sys.exit(int(os.environ.get("FAKE_CONFIG_RC", "0")))
    if verb == "logs":
        sys.stdout.write("web-1  | starting\\nweb-1  | port already in use\\n")
        sys.exit(0)
    sys.stderr.write(os.environ.get("FAKE_UP_STDERR", ""))
    sys.exit(int(os.environ.get("FAKE_UP_RC", "0")))
    """
)


@pytest.fixture
def docker(tmp_path, monkeypatch):
    """Put the recording docker first on PATH; return a function listing its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(FAKE_DOCKER.format(python=sys.executable), encoding="utf-8")
    script.chmod(0o755)
    log = tmp_path / "docker.log"
    monkeypatch.setenv("PATH", "{}:{}".format(bin_dir, os.environ["PATH"]))
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    monkeypatch.setenv("FAKE_UP_STDERR", UNCHANGED)
    monkeypatch.setenv("FAKE_PS_STDOUT", PS_HEALTHY)

    def calls():
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]

    return calls


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "project"
    path.mkdir()
    (path / "db.compose.yml").write_text(DB, encoding="utf-8")
    return path


def run(capsys, project, **args):
    args.setdefault("project_dir", str(project))
    args.setdefault("project_name", "p")
    args.setdefault("service", "web")
    args.setdefault("definition", WEB)
    args.setdefault("owner", ME)
    args.setdefault("group", MY_GROUP)
    return run_main(mod, capsys, args)


def files_of(call):
    return [call[i + 1] for i, arg in enumerate(call) if arg == "--file"]


def test_new_definition_is_validated_with_the_project_then_written_and_brought_up(capsys, project, docker):
    code, result = run(capsys, project)
    assert code == 0, result
    assert result["changed"] and result["file_changed"] and not result["service_changed"]
    assert (project / "web.compose.yml").read_text(encoding="utf-8") == WEB
    assert stat.S_IMODE((project / "web.compose.yml").stat().st_mode) == 0o640
    config, up = docker()
    assert config[-2:] == ["config", "--services"]
    assert files_of(config)[0] == "db.compose.yml" and files_of(config)[1].startswith(".web.")
    assert config[config.index("--project-name") : config.index("--project-name") + 2] == ["--project-name", "p"]
    assert files_of(up) == ["db.compose.yml", "web.compose.yml"] == result["files"]
    assert up[up.index("up") :] == [
        "up", "--detach", "--no-color", "--quiet-pull", "--pull", "missing", "--no-build",
        "--wait", "--wait-timeout", "120", "--", "web",
    ]  # fmt: skip
    assert sorted(p.name for p in project.iterdir()) == ["db.compose.yml", "web.compose.yml"]


def verbs(calls):
    """Each docker call as its Compose verb, `up --wait` told apart from a plain `up`."""
    named = []
    for call in calls:
        verb = next(a for a in call if a in ("config", "up", "logs", "ps"))
        named.append(verb + " --wait" if "--wait" in call else verb)
    return named


def unchanged(project):
    (project / "web.compose.yml").write_text(WEB, encoding="utf-8")
    (project / "web.compose.yml").chmod(0o640)


def test_unchanged_definition_and_healthy_project_change_nothing_without_waiting(capsys, project, docker):
    unchanged(project)
    code, result = run(capsys, project)
    assert code == 0 and not result["changed"] and not result["service_changed"], result
    assert result["actions"] == []
    up, ps = docker()
    assert verbs([up, ps]) == ["up", "ps"]
    assert up[up.index("up") :] == [
        "up", "--detach", "--no-color", "--quiet-pull", "--pull", "missing", "--no-build", "--", "web",
    ]  # fmt: skip
    assert ps[ps.index("ps") :] == ["ps", "--all", "--format", "json"]
    assert files_of(ps) == files_of(up) == ["db.compose.yml", "web.compose.yml"]


@pytest.mark.parametrize(
    "ps_stdout",
    [
        PS_HEALTHY.replace('"Health": "healthy"', '"Health": "starting"'),
        PS_HEALTHY.replace('"Health": "healthy"', '"Health": "unhealthy"'),
        PS_HEALTHY.replace('"State": "running", "Health": ""', '"State": "exited", "Health": ""'),
        PS_HEALTHY.splitlines()[0] + "\n",  # the service has no container
        "",
        "not json\n",
    ],
    ids=["starting", "unhealthy", "exited", "no-container", "empty", "garbage"],
)
def test_unchanged_definition_waits_when_a_container_is_not_ready(capsys, project, docker, monkeypatch, ps_stdout):
    unchanged(project)
    monkeypatch.setenv("FAKE_PS_STDOUT", ps_stdout)
    code, result = run(capsys, project)
    assert code == 0 and not result["changed"], result
    assert verbs(docker()) == ["up", "ps", "up --wait"]


def test_the_list_format_of_older_compose_versions_is_read(capsys, project, docker, monkeypatch):
    unchanged(project)
    monkeypatch.setenv("FAKE_PS_STDOUT", json.dumps([json.loads(line) for line in PS_HEALTHY.splitlines()]))
    code, result = run(capsys, project)
    assert code == 0 and not result["changed"], result
    assert verbs(docker()) == ["up", "ps"]


def test_a_failing_ps_falls_back_to_waiting(capsys, project, docker, monkeypatch):
    unchanged(project)
    monkeypatch.setenv("FAKE_PS_RC", "1")
    code, result = run(capsys, project)
    assert code == 0 and not result["changed"], result
    assert verbs(docker()) == ["up", "ps", "up --wait"]


def test_a_container_the_plain_up_started_is_a_change_and_is_waited_for(capsys, project, docker, monkeypatch):
    unchanged(project)
    monkeypatch.setenv("FAKE_UP_NOWAIT_STDERR", " Container p-web-1  Starting\n Container p-web-1  Started\n")
    code, result = run(capsys, project)
    assert code == 0 and result["changed"] and result["service_changed"] and not result["file_changed"], result
    assert result["actions"] == [{"what": "container", "id": "p-web-1", "status": "Starting"}]
    assert verbs(docker()) == ["up", "up --wait"]


def test_a_plain_up_that_fails_is_retried_with_wait_and_fails_clearly(capsys, project, docker, monkeypatch):
    unchanged(project)
    monkeypatch.setenv("FAKE_UP_NOWAIT_RC", "1")
    monkeypatch.setenv("FAKE_UP_NOWAIT_STDERR", "Error response from daemon: port is already allocated\n")
    monkeypatch.setenv("FAKE_UP_RC", "1")
    monkeypatch.setenv("FAKE_UP_STDERR", "Error response from daemon: port is already allocated\n")
    code, result = run(capsys, project)
    assert code == 1 and result["msg"] == (
        "web did not come up healthy (docker compose up --wait, timeout 120s, exited 1: "
        "Error response from daemon: port is already allocated)"
    )
    assert result["actions"] == [] and verbs(docker()) == ["up", "up --wait", "logs"]


def test_a_recreated_container_is_a_change(capsys, project, docker, monkeypatch):
    (project / "web.compose.yml").write_text(WEB, encoding="utf-8")
    (project / "web.compose.yml").chmod(0o640)
    monkeypatch.setenv("FAKE_UP_STDERR", RECREATED)
    code, result = run(capsys, project, recreate="always", wait_timeout=30)
    assert code == 0 and result["changed"] and result["service_changed"] and not result["file_changed"]
    assert result["actions"] == [
        {"what": "container", "id": "p-web-1", "status": "Recreate"},
        {"what": "container", "id": "p-web-1", "status": "Starting"},
    ]
    (up,) = docker()
    assert "--force-recreate" in up and up[up.index("--wait-timeout") + 1] == "30"


def test_a_definition_that_breaks_the_project_is_refused_and_nothing_starts(capsys, project, docker, monkeypatch):
    (project / "web.compose.yml").write_text(WEB, encoding="utf-8")
    monkeypatch.setenv("FAKE_CONFIG_RC", "15")
    monkeypatch.setenv("FAKE_CONFIG_STDERR", 'service "web" depends on undefined service "nosuch"')
    code, result = run(capsys, project, definition=WEB.replace("[db]", "[nosuch]"))
    assert code == 1 and result["failed"]
    assert "does not make a valid project with db.compose.yml; the old file stays" in result["msg"]
    assert "undefined service" in result["stderr"] and result["rc"] == 15
    assert (project / "web.compose.yml").read_text(encoding="utf-8") == WEB
    assert sorted(p.name for p in project.iterdir()) == ["db.compose.yml", "web.compose.yml"]
    assert [call[-1] for call in docker()] == ["--services"]


def test_a_definition_without_its_service_is_refused_and_nothing_starts(capsys, project, docker, monkeypatch):
    (project / "web.compose.yml").write_text(WEB, encoding="utf-8")
    monkeypatch.setenv("FAKE_CONFIG_SERVICES", "db\nwebb\n")  # valid YAML, valid project, wrong name
    code, result = run(capsys, project, definition=WEB.replace("  web:", "  webb:"))
    assert code == 1 and result["msg"] == (
        "the definition does not define the service web (the project with db.compose.yml has: db, webb);"
        " the old file stays"
    )
    assert (project / "web.compose.yml").read_text(encoding="utf-8") == WEB
    assert sorted(p.name for p in project.iterdir()) == ["db.compose.yml", "web.compose.yml"]
    assert [call[-1] for call in docker()] == ["--services"]


def test_a_service_that_does_not_come_up_fails_with_its_log(capsys, project, docker, monkeypatch):
    monkeypatch.setenv("FAKE_UP_RC", "1")
    monkeypatch.setenv(
        "FAKE_UP_STDERR", " Container p-web-1  Starting\ndependency failed to start: container p-web-1 is unhealthy\n"
    )
    code, result = run(capsys, project, log_lines=7)
    assert code == 1
    assert result["msg"] == (
        "web did not come up healthy (docker compose up --wait, timeout 120s, exited 1: "
        "dependency failed to start: container p-web-1 is unhealthy)"
    )
    assert result["logs"] == ["web-1  | starting", "web-1  | port already in use"]
    logs = docker()[-1]
    assert logs[logs.index("logs") :] == ["logs", "--no-color", "--tail", "7", "web"]
    assert result["file_changed"] and result["path"].endswith("web.compose.yml")


def test_check_mode_with_a_changed_definition_writes_nothing_and_runs_nothing(capsys, project, docker):
    (project / "web.compose.yml").write_text("services: {}\n", encoding="utf-8")
    code, result = run(capsys, project, _ansible_check_mode=True, _ansible_diff=True)
    assert code == 0 and result["changed"] and result["file_changed"] and result["service_changed"]
    assert (project / "web.compose.yml").read_text(encoding="utf-8") == "services: {}\n"
    content = result["diff"][0]
    assert content["before"] == "services: {}\n" and content["after"] == WEB
    assert docker() == []


def test_check_mode_with_an_unchanged_definition_asks_compose_for_a_dry_run(capsys, project, docker, monkeypatch):
    (project / "web.compose.yml").write_text(WEB, encoding="utf-8")
    (project / "web.compose.yml").chmod(0o640)
    monkeypatch.setenv(
        "FAKE_UP_STDERR", "DRY-RUN MODE -  Container p-web-1  Recreate\nDRY-RUN MODE -  Container p-web-1  Recreated\n"
    )
    code, result = run(capsys, project, _ansible_check_mode=True)
    assert code == 0 and result["changed"] and result["service_changed"] and not result["file_changed"]
    (up,) = docker()
    assert "--dry-run" in up


def test_mode_drift_alone_is_a_change_shown_in_the_diff(capsys, project, docker):
    (project / "web.compose.yml").write_text(WEB, encoding="utf-8")
    (project / "web.compose.yml").chmod(0o644)
    code, result = run(capsys, project, _ansible_diff=True)
    assert code == 0 and result["changed"] and not result["file_changed"] and not result["service_changed"]
    assert stat.S_IMODE((project / "web.compose.yml").stat().st_mode) == 0o640
    content, attributes = result["diff"]
    assert content["before"] == content["after"] == WEB
    assert attributes == {"before": {"mode": "0644"}, "after": {"mode": "0640"}}


def test_the_diff_prints_the_definition_line_by_line_in_the_default_callback(capsys, project, docker):
    """With the default (JSON) result format a dict's strings print as one escaped line each."""
    (project / "web.compose.yml").write_text("services: {}\n", encoding="utf-8")
    code, result = run(capsys, project, _ansible_check_mode=True, _ansible_diff=True)
    callback = DefaultCallback()
    callback.set_options()
    shown = callback._get_diff(result["diff"]).splitlines()
    assert code == 0
    assert "-services: {}" in shown
    assert "+    image: nginx:1" in shown and "+    depends_on: [db]" in shown


def test_only_regular_service_files_join_the_project(capsys, project, docker):
    (project / "zz.compose.yml").mkdir()
    (project / "notes.yml").write_text("x: 1\n", encoding="utf-8")
    (project / "a.compose.yml").write_text("services:\n  a:\n    image: a:1\n", encoding="utf-8")
    _code, result = run(capsys, project)
    assert result["files"] == ["a.compose.yml", "db.compose.yml", "web.compose.yml"]


def test_missing_project_directory_is_a_clear_error(capsys, tmp_path, docker):
    code, result = run(capsys, tmp_path / "nope")
    assert code == 1 and "project directory %s does not exist; create it first" % (tmp_path / "nope") in result["msg"]
    assert docker() == []


def test_check_mode_on_a_host_without_the_project_directory_reports_a_change(capsys, tmp_path, docker):
    code, result = run(capsys, tmp_path / "nope", _ansible_check_mode=True)
    assert code == 0 and result["changed"] and result["file_changed"] and result["service_changed"]
    assert not (tmp_path / "nope").exists() and docker() == []


@pytest.mark.parametrize("option", ["wait_timeout", "log_lines"])
def test_non_positive_numbers_are_refused(capsys, project, docker, option):
    code, result = run(capsys, project, **{option: 0})
    assert code == 1 and result["msg"] == f"{option} must be at least 1, got 0"


@pytest.mark.parametrize("pull", ["always", "missing", "never"])
def test_pull_reaches_compose_up_as_given(capsys, project, docker, pull):
    code, result = run(capsys, project, pull=pull)

    assert code == 0, result
    up = docker()[-1]
    assert up[up.index("--pull") + 1] == pull
