"""Make the collection importable as ansible_collections.mlops.mlflow for every test, and
hold every test run to its rules: a skip fails the run, an integration test carries its marker.

The checkout carries collections/ansible_collections/mlops/mlflow, a relative symlink to
itself, so Python and Ansible find it under the path collections need without an install.
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / "collections"

sys.path.insert(0, str(COLLECTIONS))
# Helpers shared by the unit tests of several plugin types (module_runner.py).
sys.path.insert(0, str(ROOT / "tests" / "unit"))
os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)


def pytest_collection_modifyitems(config, items):
    """A test under tests/integration without the integration marker is a collection error:
    it would run among the fast checks, which need no Docker."""
    unmarked = [
        item.nodeid
        for item in items
        if "tests/integration/" in item.nodeid.replace(os.sep, "/") and item.get_closest_marker("integration") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"tests/integration tests without pytestmark = pytest.mark.integration: {unmarked}")


def pytest_sessionfinish(session, exitstatus):
    """A skipped or xfailed test is not a passed one: the run fails, naming them."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    not_run = [report.nodeid for key in ("skipped", "xfailed", "xpassed") for report in reporter.stats.get(key, [])]
    if not_run and session.exitstatus == 0:
        reporter.ensure_newline()
        reporter.write_line(f"tests skipped or xfailed (a skip is not a pass): {not_run}", red=True)
        session.exitstatus = 1
