"""Named crash points for recovery tests: ``ENCLAVE_FAILPOINTS=ingest.after_upsert:3`` makes the
process kill itself with SIGKILL the third time it passes that point — a real ``kill -9`` at an
exact place, no mocks. Unset (always, in production) it costs one dict lookup."""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["failpoint"]

_counts: dict[str, int] = {}
_lock = threading.Lock()


def _armed() -> dict[str, int]:
    spec = os.environ.get("ENCLAVE_FAILPOINTS", "")
    armed: dict[str, int] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, nth = item.partition(":")
        armed[name] = int(nth or 1)
    return armed


def failpoint(name: str) -> None:
    armed = _armed()
    if name not in armed:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] >= armed[name]:
            os.kill(os.getpid(), signal.SIGKILL)
