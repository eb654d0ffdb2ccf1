"""Shared by the module and action plugin tests (tests/conftest.py puts tests/unit on sys.path):
run a module's main() the way Ansible runs it."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args


def run_main(module, capsys, args):
    """Run module.main() with args as the task's; return (exit code, the result it printed)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)
