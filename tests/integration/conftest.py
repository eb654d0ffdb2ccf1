"""Shared helpers of the integration tests: run real playbooks on localhost, find free ports."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
