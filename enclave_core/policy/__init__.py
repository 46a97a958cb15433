"""Policy files (``policies/*.yaml``), validated against JSON schemas at start-up."""

from enclave_core.policy.loader import load_policy_file, policies_dir

__all__ = ["load_policy_file", "policies_dir"]
