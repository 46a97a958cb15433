"""Air-gap switches: set before any ML or HTTP library is imported.

Each variable turns off one way a library would reach the internet on its own:
model hubs, telemetry, the public-suffix list fetch of tldextract (used by
Presidio's e-mail recognizer).
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_ENV", "enforce_offline_env"]

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline_env() -> None:
    """Force the switches (not setdefault: a stray HF_HUB_OFFLINE=0 must not win)."""
    os.environ.update(OFFLINE_ENV)
