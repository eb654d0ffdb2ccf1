"""The pip locks the mlflow_server role builds its image with (mlflow_server_pip_locked).

The role's default MLflow version has a lock; each lock pins exactly one mlflow, at the version
its file name gives, holds only name==version lines, and satisfies every default requirement
(mlflow_server_pip_packages), so the default build cannot hit a resolver conflict.
"""

import pathlib
import re

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "mlflow_server"
LOCKS = sorted((ROLE / "files" / "pip-locks").glob("mlflow-*.txt"))
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))


def read_lock(path):
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"{path.name}: not a name==version line: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"{path.name}: {name} pinned twice"
        pins[name] = match.group(2)
    return pins


def test_the_default_version_has_a_lock():
    assert ROLE / "files" / "pip-locks" / f"mlflow-{DEFAULTS['mlflow_server_version']}.txt" in LOCKS


@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.name)
def test_a_lock_pins_the_mlflow_of_its_name(lock):
    pins = read_lock(lock)
    assert pins["mlflow"] == lock.stem.removeprefix("mlflow-")
    # pip, setuptools and wheel belong to the base image, not to the lock.
    assert not {"pip", "setuptools", "wheel"} & set(pins)


def test_the_default_lock_satisfies_the_default_packages():
    pins = read_lock(ROLE / "files" / "pip-locks" / f"mlflow-{DEFAULTS['mlflow_server_version']}.txt")
    for text in DEFAULTS["mlflow_server_pip_packages"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{text}: not in the lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), f"{text}: the lock has {pins[name]}"


def test_read_lock_refuses_a_range(tmp_path):
    lock = tmp_path / "mlflow-1.0.txt"
    lock.write_text("mlflow==1.0\nboto3>=1.34\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="not a name==version line"):
        read_lock(lock)
