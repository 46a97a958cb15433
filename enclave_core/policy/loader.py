"""Load a YAML policy and validate it against its JSON schema, with errors a human can act on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from enclave_core.errors import PolicyError

__all__ = ["load_policy_file", "policies_dir"]

_REPO_POLICIES = Path(__file__).resolve().parents[2] / "policies"


def policies_dir() -> Path:
    """The packaged policies folder (settings may point elsewhere)."""
    return _REPO_POLICIES


def load_policy_file(path: Path, schema_name: str) -> dict[str, Any]:
    """Parse ``path`` and validate it against ``policies/schemas/<schema_name>.schema.json``.

    Raises PolicyError naming the file, the offending key path and the rule broken.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    schema_path = _REPO_POLICIES / "schemas" / f"{schema_name}.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise PolicyError(f"{path}: at {where}: {first.message}{more}")
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    return data
