"""Load docker-compose.yml the way Compose does before it validates: YAML (anchors and merge keys
resolved), then variable interpolation of every string value, then profiles.

Only what Compose itself would do offline; no Docker engine is involved. The interpolation covers
the syntax the file uses: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?message}``, ``${VAR?message}``, ``${VAR:+alt}``, ``${VAR+alt}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"

# The Compose specification's JSON schema as vendored by check-jsonschema (from the compose-spec
# project, Apache-2.0); pinned in requirements/dev.txt so CI and every developer validate alike.
SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SCHEMA_FILE = "compose-spec.json"

_TOKEN = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class InterpolationError(ValueError):
    pass


def interpolate_str(value: str, env: Mapping[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("bare"):
            return env.get(match.group("bare"), "")
        name, op, arg = match.group("braced"), match.group("op"), match.group("arg")
        present = name in env
        non_empty = bool(env.get(name))
        if op is None:
            if arg:
                raise InterpolationError(f"unsupported substitution: {match.group(0)}")
            return env.get(name, "")
        if op == ":-":
            return env[name] if non_empty else arg
        if op == "-":
            return env[name] if present else arg
        if op == ":?":
            if not non_empty:
                raise InterpolationError(f"{name}: {arg or 'required'}")
            return env[name]
        if op == "?":
            if not present:
                raise InterpolationError(f"{name}: {arg or 'required'}")
            return env[name]
        if op == ":+":
            return arg if non_empty else ""
        return arg if present else ""  # "+"

    return _TOKEN.sub(sub, value)


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate_str(node, env)
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, env) for value in node]
    return node


def read_env_file(path: Path) -> dict[str, str]:
    """A Compose .env file: KEY=VALUE lines, # comments, optional single or double quotes."""
    env: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: not KEY=VALUE: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def raw_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def load_compose(env: Mapping[str, str] | None = None, path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The file after interpolation with ``env`` (default: no variables set, so every default applies)."""
    data = interpolate(raw_compose(path), env or {})
    # Compose drops the x- extension fields' meaning after YAML aliasing; they stay valid per the schema.
    return data


def active_services(data: Mapping[str, Any], profiles: set[str]) -> dict[str, Any]:
    """Services Compose starts with these profiles: those without profiles, and those with a matching one."""
    return {
        name: svc
        for name, svc in data["services"].items()
        if not svc.get("profiles") or profiles.intersection(svc["profiles"])
    }


@cache
def compose_schema() -> dict[str, Any]:
    text = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema = json.loads(text)
    assert isinstance(schema, dict)
    return schema


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment as a dict (Compose accepts a mapping or a list of KEY=VALUE)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command_flags(service: Mapping[str, Any]) -> dict[str, str]:
    """``--name=value`` items of a service's command list."""
    flags: dict[str, str] = {}
    for item in service.get("command") or []:
        if isinstance(item, str) and item.startswith("--") and "=" in item:
            name, value = item[2:].split("=", 1)
            flags[name] = value
    return flags
