"""Print what the mlflow_server role's image installs by default, read from the role's defaults.

    python scripts/mlflow_image_pins.py packages   "mlflow==<version>" and mlflow_server_pip_packages
    python scripts/mlflow_image_pins.py lock       the role's pip lock for that version (a path)

The one reader of those defaults for tests/images/build.sh and scripts/lock-mlflow-image.sh.
"""

import pathlib
import sys

import yaml

ROLE = pathlib.Path(__file__).resolve().parent.parent / "roles" / "mlflow_server"


def main(what):
    with open(ROLE / "defaults" / "main.yml", encoding="utf-8") as defaults:
        role = yaml.safe_load(defaults)
    version = role["mlflow_server_version"]
    if what == "packages":
        print(" ".join(["mlflow==" + version, *role["mlflow_server_pip_packages"]]))
    elif what == "lock":
        print(ROLE / "files" / "pip-locks" / f"mlflow-{version}.txt")
    else:
        sys.exit(f"usage: {sys.argv[0]} packages|lock")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
