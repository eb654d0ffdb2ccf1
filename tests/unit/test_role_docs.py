"""Every role's README.md is what scripts/role_docs.py renders from its argument_specs.

A change to a role's meta/argument_specs.yml or meta/README.intro.md without running
`python scripts/role_docs.py` fails here, naming the stale READMEs.
"""

import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
role_docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_docs)


def test_every_readme_is_up_to_date():
    stale = [str(p.relative_to(ROOT)) for p in role_docs.stale_readmes(ROOT)]
    assert stale == [], f"stale README(s) {stale}: run `python scripts/role_docs.py`"


def test_every_role_has_an_intro():
    missing = [p.name for p in role_docs.role_dirs(ROOT) if not (p / "meta" / "README.intro.md").exists()]
    assert missing == []


@pytest.mark.parametrize("role", sorted(role_docs.EXAMPLES))
def test_examples_are_yaml_playbooks_of_the_role(role):
    plays = yaml.safe_load(role_docs.EXAMPLES[role])
    assert isinstance(plays, list) and plays
    assert f"mlops.mlflow.{role}" in role_docs.EXAMPLES[role]
    assert (ROOT / "roles" / role).is_dir()


@pytest.fixture
def copy_of_docker_host(tmp_path):
    """A collection with one role, its README up to date."""
    shutil.copy(ROOT / "galaxy.yml", tmp_path / "galaxy.yml")
    role = tmp_path / "roles" / "docker_host"
    shutil.copytree(ROOT / "roles" / "docker_host" / "meta", role / "meta")
    (role / "README.md").write_text(role_docs.render(role), encoding="utf-8")
    return tmp_path


def test_check_names_the_readme_a_spec_change_made_stale(copy_of_docker_host, capsys):
    spec_path = copy_of_docker_host / "roles" / "docker_host" / "meta" / "argument_specs.yml"
    assert role_docs.main(["--check", "--root", str(copy_of_docker_host)]) == 0

    spec = yaml.safe_load(spec_path.read_text())
    spec["argument_specs"]["main"]["options"]["docker_host_log_max_file"]["default"] = 7
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    assert role_docs.main(["--check", "--root", str(copy_of_docker_host)]) == 1
    assert "roles/docker_host/README.md" in capsys.readouterr().err

    assert role_docs.main(["--root", str(copy_of_docker_host)]) == 0
    assert "| `docker_host_log_max_file` | int | `7` |" in (spec_path.parent.parent / "README.md").read_text()
    assert role_docs.main(["--check", "--root", str(copy_of_docker_host)]) == 0


def test_check_fails_without_an_intro(copy_of_docker_host, capsys):
    (copy_of_docker_host / "roles" / "docker_host" / "meta" / "README.intro.md").unlink()
    assert role_docs.main(["--check", "--root", str(copy_of_docker_host)]) == 1
    assert "README.intro.md" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("description", "table", "expected"),
    [
        (
            "Uses C(docker save) and O(foo=bar), V(0), M(mlops.mlflow.htpasswd).",
            False,
            "Uses `docker save` and `foo=bar`, `0`, `mlops.mlflow.htpasswd`.",
        ),
        (["First line", "second  line."], False, "First line second line."),
        ("A C(a|b) or c|d, `-c key=value`", True, r"A `a\|b` or c\|d, `-c key=value`"),
        ("In <dir>/x with s3:Put*", False, "In &lt;dir&gt;/x with s3:Put\\*"),
        (
            "I(it) B(bold) L(docs, https://example.com) U(https://example.org)",
            False,
            "*it* **bold** [docs](https://example.com) <https://example.org>",
        ),
    ],
)
def test_markup_becomes_markdown(description, table, expected):
    assert role_docs.markdown(description, table=table) == expected


def test_options_without_a_default_say_so():
    rows = role_docs.option_rows(
        {
            "a": {"description": "Computed.", "type": "list", "elements": "str"},
            "b": {"description": "Needed.", "type": "str", "required": True},
            "c": {"description": "Choice.", "type": "str", "choices": ["", "x"], "default": ""},
        }
    )
    assert rows == [
        "| `a` | list of str | see description | no |  | Computed. |",
        "| `b` | str | — | yes |  | Needed. |",
        '| `c` | str | `""` | no | `""`, `x` | Choice. |',
    ]
