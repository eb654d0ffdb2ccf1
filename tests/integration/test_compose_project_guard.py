"""compose_project's port guard when the address of a host it must let in is unknown in the run.

A real ansible-playbook runs the `service` entry point on localhost in check mode (nothing on this
machine changes: no rules file, no firewall rule, no container). An empty source is an inventory
host whose facts the run did not gather (--limit left it out). A port with no guard yet must not
be published open to everyone: with no known source it is refused, with some it is guarded for
those and the run says which host waits for a full run.
"""

import os

import pytest

from .conftest import compose_service, refusal

pytestmark = pytest.mark.integration

DEFINITION = "services:\n  web:\n    image: mlops-test/none:1\n"


def _service(project_dir, sources):
    guard = [{"addresses": ["10.0.0.5"], "port": 5000, "sources": sources, "sources_from": "web_allowed_sources"}]
    # A project name no earlier run used: no rules file of it exists on this machine.
    project = "mlops-guard-test-" + os.urandom(3).hex()
    return compose_service(project_dir, project, DEFINITION, compose_project_port_guard=guard)


def test_a_new_guard_whose_only_source_is_unknown_is_refused_before_the_port_is_published(run_tasks, tmp_path):
    rc, results, output = run_tasks([_service(tmp_path, [""])], check=True)

    message = refusal(rc, results, output)
    assert "so it would be open to everyone" in message, message
    assert "web_allowed_sources" in message
    assert not any(r.get("action") == "mlops.mlflow.compose_service" for r in results), output


def test_a_new_guard_with_one_unknown_source_guards_the_known_ones_and_says_so(run_tasks, tmp_path):
    rc, results, output = run_tasks([_service(tmp_path, ["", "10.0.0.7"])], check=True)

    assert rc == 0, output
    said = [r.get("msg", "") for r in results if r.get("action") == "ansible.builtin.debug"]
    assert any("lets in only the hosts whose address is known" in msg for msg in said), said
    rules = [r for r in results if r.get("action") == "ansible.builtin.template"]
    assert rules and rules[0]["changed"], output
    assert any(r.get("action") == "mlops.mlflow.compose_service" for r in results), output


def test_a_port_published_on_every_interface_is_guarded_whatever_address_it_is_reached_at(run_tasks, tmp_path):
    # 0.0.0.0 and :: publish on every address of the host: the rules match the port alone; a port
    # published on one address matches that address too.
    guard = [
        {"addresses": ["0.0.0.0", "::"], "port": 5000, "sources": ["10.0.0.7", "fd00::7"]},  # noqa: S104
        {"addresses": ["fd00::5"], "port": 9000, "sources": ["fd00::7"]},
    ]
    project = "mlops-guard-test-" + os.urandom(3).hex()
    task = compose_service(tmp_path, project, DEFINITION, compose_project_port_guard=guard)
    rc, results, output = run_tasks([task], check=True, diff=True)

    assert rc == 0, output
    rules = next(r for r in results if r.get("action") == "ansible.builtin.template")
    diffs = rules["diff"] if isinstance(rules["diff"], list) else [rules["diff"]]
    written = "".join(d.get("after", "") for d in diffs)
    dnat = "-p tcp -m conntrack --ctstate DNAT --ctdir ORIGINAL"
    assert f"4 -s 10.0.0.7 {dnat} --ctorigdstport 5000 -j RETURN\n4 {dnat} --ctorigdstport 5000 -j DROP" in written
    assert f"6 -s fd00::7 {dnat} --ctorigdstport 5000 -j RETURN\n6 {dnat} --ctorigdstport 5000 -j DROP" in written
    assert f"6 -s fd00::7 {dnat} --ctorigdst fd00::5 --ctorigdstport 9000 -j RETURN" in written
