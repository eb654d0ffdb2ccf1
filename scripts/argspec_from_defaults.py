"""Draft a role's meta/argument_specs.yml options from its defaults/main.yml.

Descriptions come from the comment lines above each variable, types from the default value.
It prints a draft for a maintainer to finish (choices, required, descriptions); it never
overwrites a file.

    python3 scripts/argspec_from_defaults.py roles/minio > /tmp/spec.yml
"""

import sys
from pathlib import Path

import yaml


def comments_by_var(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pending: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            pending.append(line.lstrip("#").strip())
        elif line and not line.startswith((" ", "-")) and ":" in line:
            out[line.split(":", 1)[0]] = " ".join(pending)
            pending = []
        elif not line.strip():
            pending = []
    return out


def type_of(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return "str"


def main() -> None:
    role = Path(sys.argv[1])
    text = (role / "defaults" / "main.yml").read_text(encoding="utf-8")
    defaults = yaml.safe_load(text) or {}
    notes = comments_by_var(text)
    options = {}
    for name, value in defaults.items():
        spec = {"description": notes.get(name, ""), "type": type_of(value), "default": value}
        if isinstance(value, list):
            spec["elements"] = type_of(value[0]) if value else "str"
        options[name] = spec
    yaml.safe_dump({"argument_specs": {"main": {"options": options}}}, sys.stdout, sort_keys=False, width=100)


if __name__ == "__main__":
    main()
