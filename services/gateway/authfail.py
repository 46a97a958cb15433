"""Auditing failed authentications without letting a flood of them fill the audit volume.

Per client address and window (``audit.auth_failure_window_s``): the first
``audit.auth_failures_logged`` failures are recorded one by one (and at most ``GLOBAL_LOGGED`` in
all, whatever the number of addresses); the rest are only counted, and one ``auth.denied`` summary
record with the counts is written when the window closes (a timer, or the next failure after it,
or closing the gateway). The table of addresses is bounded (``MAX_CLIENTS``; addresses beyond it
are counted together), so neither memory nor the audit log grows with the number of requests.

The address is the TCP peer: behind a proxy every client shares the proxy's address, which still
bounds the volume (``X-Forwarded-For`` is not used: any client could set it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from enclave_core.audit import AuditEvent, AuditLog, write_event
from enclave_core.errors import EnclaveError

__all__ = ["AuthFailureAuditor"]

log = logging.getLogger(__name__)

GLOBAL_LOGGED = 50  # individual records per window, all clients together
MAX_CLIENTS = 1024  # addresses counted separately per window
TOP_CLIENTS = 20  # addresses named in a summary record; the rest are added up
MAX_REASONS = 8  # distinct reasons counted in a summary record
PATH_CHARS = 256  # the request path in an individual record
OTHER = "(other addresses)"


@dataclass
class _Client:
    logged: int = 0
    suppressed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class AuthFailureAuditor:
    """Call ``denied()`` for every failed authentication; it decides what reaches the audit log."""

    def __init__(
        self,
        audit: Callable[[], AuditLog],
        per_client: int = 5,
        window_s: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audit = audit
        self.per_client = per_client
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: dict[str, _Client] = {}
        self._logged = 0
        self._window_start: float | None = None
        self._window_started_at = datetime.now(UTC)
        self._timer: threading.Timer | None = None
        self._closed = False

    @classmethod
    def for_core(cls, core: Any) -> AuthFailureAuditor:
        """One per gateway, flushed when the core closes."""
        settings = core.settings.audit
        auditor = cls(lambda: core.audit, settings.auth_failures_logged, settings.auth_failure_window_s)
        if hasattr(core, "on_close"):
            core.on_close(auditor.close)
        return auditor

    def denied(self, client: str | None, method: str, path: str, reason: str) -> None:
        """Record one failed authentication (individually, or counted for the window's summary)."""
        client = (client or "unknown")[:64]
        with self._lock:
            now = self._clock()
            self._flush_if_due(now)
            if self._window_start is None:
                self._window_start, self._window_started_at = now, datetime.now(UTC)
            entry = self._clients.get(client)
            if entry is None:
                if len(self._clients) >= MAX_CLIENTS:
                    client = OTHER
                entry = self._clients.setdefault(client, _Client())
            if client != OTHER and entry.logged < self.per_client and self._logged < GLOBAL_LOGGED:
                entry.logged += 1
                self._logged += 1
                self._append(
                    "auth.denied",
                    client=client,
                    method=method[:16],
                    path=path[:PATH_CHARS] + ("...[cut]" if len(path) > PATH_CHARS else ""),
                    reason=reason,
                )
                return
            entry.suppressed += 1
            if reason in entry.reasons or len(entry.reasons) < MAX_REASONS:
                entry.reasons[reason] = entry.reasons.get(reason, 0) + 1
            self._arm_timer(now)

    def flush(self) -> None:
        """Write the summary of the current window if it has closed."""
        with self._lock:
            self._flush_if_due(self._clock())

    def close(self) -> None:
        """Write the summary of the current window now (the gateway is stopping)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            self._flush_window()

    # -- under self._lock ---------------------------------------------------------------------

    def _flush_if_due(self, now: float) -> None:
        if self._window_start is not None and now - self._window_start >= self.window_s:
            self._flush_window()

    def _flush_window(self) -> None:
        clients, start = self._clients, self._window_started_at
        self._clients, self._logged, self._window_start = {}, 0, None
        if self._timer is not None:
            self._timer.cancel()  # (a no-op when the timer itself is flushing)
            self._timer = None
        counted = sorted(((c, e) for c, e in clients.items() if e.suppressed), key=lambda ce: -ce[1].suppressed)
        if not counted:
            return
        reasons: dict[str, int] = {}
        for _, entry in counted:
            for reason, n in entry.reasons.items():
                reasons[reason] = reasons.get(reason, 0) + n
        named = counted[:TOP_CLIENTS]
        self._append(
            "auth.denied",
            summary=True,
            count=sum(e.suppressed for _, e in counted),
            window_start=start.isoformat(timespec="seconds"),
            window_end=min(datetime.now(UTC), start + timedelta(seconds=self.window_s)).isoformat(timespec="seconds"),
            clients=[{"client": c, "count": e.suppressed} for c, e in named],
            other_clients=len(counted) - len(named),
            other_count=sum(e.suppressed for _, e in counted[TOP_CLIENTS:]),
            reasons=dict(sorted(reasons.items(), key=lambda rn: -rn[1])[:MAX_REASONS]),
            note="failed authentications counted, not recorded one by one",
        )

    def _arm_timer(self, now: float) -> None:
        if self._timer is not None or self._closed or self._window_start is None:
            return
        delay = max(0.0, self._window_start + self.window_s - now) + 0.01
        self._timer = threading.Timer(delay, self.flush)
        self._timer.daemon = True
        self._timer.start()

    def _append(self, action: str, **details: Any) -> None:
        # A failed authentication is answered 401 even when the audit volume cannot take the record.
        try:
            write_event(self._audit(), AuditEvent(action, "denied", None, "gateway", details=details))
        except EnclaveError as exc:
            log.warning("failed authentication not audited: %s", exc)
