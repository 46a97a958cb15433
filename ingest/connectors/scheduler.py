"""The connector scheduler: a thread that, every tick, queues the syncs whose schedule is due
(``schedule_minutes`` in policies/connectors.yaml) on the ConnectorService's executor.

A tick only compares times and queues runs, so a short tick costs nothing; a collection that
is still syncing is not queued twice (one run per collection). `enclave sync --due` from a
timer does the same from outside a long-running process.
"""

from __future__ import annotations

import logging
import threading

from enclave_core.errors import EnclaveError

from .service import ConnectorService

__all__ = ["DEFAULT_TICK_S", "SyncScheduler"]

DEFAULT_TICK_S = 60.0
log = logging.getLogger(__name__)


class SyncScheduler:
    def __init__(self, service: ConnectorService, tick_s: float = DEFAULT_TICK_S) -> None:
        self.service = service
        self.tick_s = tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="connector-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def tick(self) -> int:
        """Queue what is due now; returns how many runs were queued. A broken policy file is
        logged and retried at the next tick, it never stops the scheduler."""
        try:
            return len(self.service.start_due())
        except (EnclaveError, OSError) as exc:
            log.warning("connector schedule not checked: %s", exc.__class__.__name__)
            return 0

    def _loop(self) -> None:
        while True:
            self.tick()
            if self._stop.wait(self.tick_s):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
