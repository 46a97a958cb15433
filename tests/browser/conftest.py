"""Playwright drives Debian's Chromium (``apt-get install -y chromium``; Playwright's own browser
download is unreachable from the appliance network), headless, with its background look-ups off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.appliance import Appliance, running_appliance
from tests.conftest import ARTIFACTS, VLLMServer

CHROMIUM = os.environ.get("ENCLAVE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install it with 'apt-get install -y chromium' (make browser)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            # Chromium looks up Google hosts even with the switches above: resolve nothing but loopback.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A laptop screen.
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}, "locale": "en-GB"}


@pytest.fixture(scope="session")
def ui_app(vllm: VLLMServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """The appliance with the real CPU vLLM."""
    with running_appliance(tmp_path_factory.mktemp("ui"), vllm.url) as appliance:
        yield appliance


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
