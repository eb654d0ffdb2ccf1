"""Every role's defaults, vars and meta/argument_specs.yml agree, and every name is the role's.

`meta/argument_specs.yml` is what `ansible-doc -t role` shows and what Ansible validates a
role's inputs against, so a variable it lacks is undocumented and unchecked, and a default that
differs from defaults/main.yml documents a value the role does not use. Registered results and
facts carry the role's prefix too: a name shared with an input replaces that input for the rest
of the play (a registered result outranks inventory values).
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/meta/argument_specs.yml"))
TYPES = {"str": str, "path": str, "int": int, "bool": bool, "list": list, "dict": dict, "float": (int, float)}
TASK_FACT_MODULES = ("ansible.builtin.set_fact", "set_fact")


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


def _options(role: str) -> dict[str, dict]:
    """Options of every entry point (an option may be shared through YAML anchors)."""
    specs = _yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    options: dict[str, dict] = {}
    for entry in specs.values():
        options.update(entry.get("options") or {})
    return options


def _tasks(items: list) -> list[dict]:
    """Every task in a task file, blocks included."""
    out = []
    for task in items or []:
        out.append(task)
        for key in ("block", "rescue", "always"):
            out.extend(_tasks(task.get(key)))
    return out


def _task_names(role: str) -> list[tuple[str, str]]:
    """(file, name) of every registered result and set_fact fact of the role's tasks and handlers."""
    names = []
    for path in sorted((ROOT / "roles" / role).glob("*/*.yml")):
        if path.parent.name not in ("tasks", "handlers"):
            continue
        for task in _tasks(yaml.safe_load(path.read_text())):
            if "register" in task:
                names.append((path.name, task["register"]))
            for module in TASK_FACT_MODULES:
                if isinstance(task.get(module), dict):
                    names.extend((path.name, name) for name in task[module] if name != "cacheable")
    return names


def test_every_role_has_a_spec():
    assert sorted(p.name for p in (ROOT / "roles").iterdir()) == ROLES


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_a_documented_option(role):
    defaults = _yaml(ROOT / "roles" / role / "defaults" / "main.yml")
    options = _options(role)
    assert sorted(set(defaults) - set(options)) == []
    for name, option in options.items():
        assert option.get("description"), f"{name} has no description"


@pytest.mark.parametrize("role", ROLES)
def test_every_option_has_a_default_or_is_required(role):
    defaults = _yaml(ROOT / "roles" / role / "defaults" / "main.yml")
    for name, option in _options(role).items():
        if option.get("required"):
            # A value in defaults/main.yml always satisfies `required`, so it would never fail.
            assert name not in defaults, f"{name} is required but defaults/main.yml gives it a value"
        else:
            assert name in defaults, f"{name} is optional but has no value in defaults/main.yml"


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_and_types_match_defaults(role):
    defaults = _yaml(ROOT / "roles" / role / "defaults" / "main.yml")
    for name, option in _options(role).items():
        if name not in defaults:
            continue
        value = defaults[name]
        computed = isinstance(value, str) and "{{" in value
        # A computed default has no one value: the spec describes the rule instead of naming one.
        assert not (computed and "default" in option), f"{name}: computed default {value!r}, spec names one"
        if not computed and "default" in option:
            assert option["default"] == value, f"{name}: spec says {option['default']!r}, defaults say {value!r}"
        kind = option.get("type", "str")
        if not computed and kind in TYPES and value is not None:
            assert isinstance(value, TYPES[kind]), f"{name}: type {kind} but the default is {value!r}"


@pytest.mark.parametrize("role", ROLES)
def test_every_name_has_the_role_prefix(role):
    prefix = role + "_"
    names = [("defaults", n) for n in _yaml(ROOT / "roles" / role / "defaults" / "main.yml")]
    names += [(p.name, n) for p in (ROOT / "roles" / role / "vars").glob("*.yml") for n in _yaml(p)]
    names += [("argument_specs", n) for n in _options(role)]
    names += _task_names(role)
    assert [(where, n) for where, n in names if not n.startswith(prefix)] == []


@pytest.mark.parametrize("role", ROLES)
def test_no_registered_result_or_fact_replaces_a_variable(role):
    """A registered result or fact named like an input, a default or a role var replaces it."""
    inputs = set(_options(role)) | set(_yaml(ROOT / "roles" / role / "defaults" / "main.yml"))
    inputs |= {n for p in (ROOT / "roles" / role / "vars").glob("*.yml") for n in _yaml(p)}
    assert [(where, n) for where, n in _task_names(role) if n in inputs] == []


@pytest.mark.parametrize("role", ROLES)
def test_host_paths_are_typed_path(role):
    """Directories and files on the host are `path` options, as ansible-doc shows them."""
    wrong = [
        name
        for name, option in _options(role).items()
        if name.endswith(("_dir", "_file", "_path", "_root")) and option.get("type", "str") == "str"
    ]
    assert wrong == []


@pytest.mark.parametrize("role", ROLES)
def test_task_vars_name_no_other_role(role):
    """A task's vars carry another role's prefix only as that role's inputs, when it runs it."""
    others = [r for r in ROLES if r != role and not role.startswith(r + "_")]
    wrong = []
    for path in sorted((ROOT / "roles" / role).glob("*/*.yml")):
        if path.parent.name not in ("tasks", "handlers"):
            continue
        for task in _tasks(yaml.safe_load(path.read_text())):
            runs = {
                str(task[key].get("name", "")).rsplit(".", 1)[-1]
                for key in ("ansible.builtin.include_role", "ansible.builtin.import_role")
                if isinstance(task.get(key), dict)
            }
            wrong += [
                (path.name, name)
                for name in task.get("vars") or {}
                for other in others
                if name.startswith(other + "_") and other not in runs
            ]
    assert wrong == []
