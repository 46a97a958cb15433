"""Back-pressure in front of the LLM: a bounded number of generations at once, a bounded wait
queue, and per-user token buckets, from ``policies/limits.yaml``.

A CPU or single-GPU vLLM serves a handful of generations at once; more requests only make
every one of them slower until clients time out. So each gateway process (one deployment)
admits at most ``llm.max_concurrent`` LLM-backed requests; up to ``llm.max_queue`` more wait
for a slot, in arrival order, for at most ``llm.queue_timeout_s``; anything beyond gets
``TooBusy`` at once, which the gateway answers with 429 and ``Retry-After``. Before queueing,
the caller's token bucket (``users.default``, or ``users.overrides.<user>``) must hold a
token, so one user cannot fill the queue for everyone.

Routes opt in with ``dependencies=[Depends(llm_admission)]``. The dependency holds the slot
until the response is completely sent, streamed responses included (FastAPI closes
dependencies with ``yield`` after the response), and always releases it, also when the client
goes away or the handler fails.

The limits are per process: with several gateway workers in front of one vLLM, divide
``max_concurrent`` among them.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, Request

from enclave_core.errors import EnclaveError
from enclave_core.identity import Principal
from enclave_core.policy import load_policy_file
from enclave_core.settings import Settings

__all__ = [
    "AdmissionController",
    "Limits",
    "LimitsPolicy",
    "RateLimit",
    "RateLimiter",
    "TooBusy",
    "get_limits",
    "llm_admission",
    "rate_limited",
]

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class TooBusy(EnclaveError):
    """The request is over a limit; retry after ``retry_after`` seconds (HTTP 429)."""

    def __init__(self, message: str, retry_after: int, reason: str = "busy") -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.reason = reason  # "queue_full" | "queue_timeout" | "rate_limited"


# --- policy ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    requests_per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.requests_per_minute / 60.0


@dataclass(frozen=True)
class LimitsPolicy:
    max_concurrent: int = 4
    max_queue: int = 16
    queue_timeout_s: float = 2.0
    retry_after_s: int = 2
    default: RateLimit | None = RateLimit(60, 10)  # None: unlimited
    overrides: dict[str, RateLimit | None] = field(default_factory=dict)
    version: str = "builtin"

    def rate_for(self, user: str) -> RateLimit | None:
        """``user`` is a principal's key (``api-key:alice``, ``oidc:<issuer>|<sub>``)."""
        return self.overrides.get(user, self.default)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LimitsPolicy:
        def rate(entry: dict[str, Any]) -> RateLimit | None:
            if entry.get("unlimited"):
                return None
            return RateLimit(float(entry["requests_per_minute"]), int(entry["burst"]))

        llm = data["llm"]
        users = data["users"]
        return cls(
            max_concurrent=int(llm["max_concurrent"]),
            max_queue=int(llm["max_queue"]),
            queue_timeout_s=float(llm["queue_timeout_s"]),
            retry_after_s=int(llm.get("retry_after_s", 2)),
            default=rate(users["default"]),
            overrides={
                key: rate(entry)
                for name, entry in (users.get("overrides") or {}).items()
                for key in _override_keys(name)
            },
            version=str(data["version"]),
        )

    @classmethod
    def from_file(cls, path: Path) -> LimitsPolicy:
        """Validated against ``policies/schemas/limits.schema.json``; PolicyError if invalid.
        A policies folder without ``limits.yaml`` gets the built-in defaults (logged)."""
        if not path.exists():
            log.warning("%s not found: using the built-in limits", path)
            return cls()
        return cls.from_dict(load_policy_file(path, "limits"))


def _override_keys(name: str) -> list[str]:
    """A plain name in the policy means the API-key (or local CLI) user of that name; an SSO user
    is named by its principal key (``oidc:<issuer>|<sub>``), since SSO display names are chosen by
    the identity provider and may equal an API-key user's name."""
    return [name] if ":" in name else [f"api-key:{name}", f"local:{name}"]


# --- concurrency and queue ------------------------------------------------------------------


class AdmissionController:
    """At most ``max_concurrent`` holders; up to ``max_queue`` waiters, served first come first
    served, each for at most ``queue_timeout_s``. Thread-safe (the gateway's sync routes run in
    a thread pool)."""

    def __init__(
        self,
        max_concurrent: int,
        max_queue: int,
        queue_timeout_s: float,
        retry_after_s: int = 2,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_concurrent < 1 or max_queue < 0 or queue_timeout_s < 0:
            raise ValueError("max_concurrent >= 1, max_queue >= 0 and queue_timeout_s >= 0 are required")
        self.max_concurrent = max_concurrent
        self.max_queue = max_queue
        self.queue_timeout_s = queue_timeout_s
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._cond = threading.Condition()
        self._active = 0
        self._waiters: deque[object] = deque()
        self.admitted = 0
        self.rejected: dict[str, int] = {"queue_full": 0, "queue_timeout": 0}

    @property
    def active(self) -> int:
        return self._active

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def _busy(self, reason: str, message: str) -> TooBusy:
        self.rejected[reason] += 1
        return TooBusy(message, self.retry_after_s, reason)

    def acquire(self, timeout: float | None = None) -> None:
        """Take a slot, waiting at most ``timeout`` (default ``queue_timeout_s``); else TooBusy."""
        wait_s = self.queue_timeout_s if timeout is None else timeout
        with self._cond:
            if self._active < self.max_concurrent and not self._waiters:
                self._active += 1
                self.admitted += 1
                return
            if len(self._waiters) >= self.max_queue or wait_s <= 0:
                raise self._busy(
                    "queue_full",
                    f"the LLM is busy: {self._active} answers in progress and {len(self._waiters)} "
                    "waiting; retry shortly",
                )
            ticket = object()
            self._waiters.append(ticket)
            deadline = self._clock() + wait_s
            try:
                while not (self._waiters[0] is ticket and self._active < self.max_concurrent):
                    remaining = deadline - self._clock()
                    if remaining <= 0:
                        raise self._busy(
                            "queue_timeout",
                            f"the LLM is busy: no answer slot became free within {wait_s:g} s; retry shortly",
                        )
                    self._cond.wait(remaining)
                self._active += 1
                self.admitted += 1
            finally:
                self._waiters.remove(ticket)
                # The head of the queue may have changed: let the next waiter check.
                self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            if self._active <= 0:
                raise RuntimeError("release() without a matching acquire()")
            self._active -= 1
            self._cond.notify_all()

    @contextmanager
    def slot(self, timeout: float | None = None) -> Iterator[None]:
        self.acquire(timeout)
        try:
            yield
        finally:
            self.release()


# --- per-user rate limits -------------------------------------------------------------------


class RateLimiter:
    """One token bucket per user: ``burst`` tokens, refilled at ``requests_per_minute``.

    Buckets of users who have been quiet long enough to be full again carry no state, so at
    most ``max_tracked`` are kept (the least recently used full ones are dropped first)."""

    def __init__(self, policy: LimitsPolicy, clock: Clock = time.monotonic, max_tracked: int = 10000) -> None:
        self.policy = policy
        self._clock = clock
        self._max_tracked = max_tracked
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # user -> (tokens, at)
        self._lock = threading.Lock()
        self.rejected = 0

    def _refilled(self, user: str, rate: RateLimit, now: float) -> float:
        tokens, at = self._buckets.get(user, (float(rate.burst), now))
        return min(float(rate.burst), tokens + max(0.0, now - at) * rate.per_second)

    def check(self, user: str) -> None:
        """Take one token from the user's bucket, or raise TooBusy saying when one will be there."""
        rate = self.policy.rate_for(user)
        if rate is None:
            return
        with self._lock:
            now = self._clock()
            tokens = self._refilled(user, rate, now)
            if tokens < 1.0:
                self._buckets[user] = (tokens, now)
                self._buckets.move_to_end(user)
                self.rejected += 1
                wait = (1.0 - tokens) / rate.per_second
                raise TooBusy(
                    f"rate limit for '{user}': {rate.requests_per_minute:g} requests per minute "
                    f"(bursts of {rate.burst}); retry in {math.ceil(wait)} s",
                    math.ceil(wait),
                    "rate_limited",
                )
            self._buckets[user] = (tokens - 1.0, now)
            self._buckets.move_to_end(user)
            self._prune(now)

    def _prune(self, now: float) -> None:
        if len(self._buckets) <= self._max_tracked:
            return
        for user in list(self._buckets):
            if len(self._buckets) <= self._max_tracked:
                return
            rate = self.policy.rate_for(user)
            if rate is None or self._refilled(user, rate, now) >= rate.burst:
                del self._buckets[user]
        while len(self._buckets) > self._max_tracked:  # everyone is busy: forget the oldest
            self._buckets.popitem(last=False)

    def tokens(self, user: str) -> float:
        """Tokens the user has now (for tests and diagnostics)."""
        rate = self.policy.rate_for(user)
        if rate is None:
            return math.inf
        with self._lock:
            return self._refilled(user, rate, self._clock())


# --- what the gateway holds -----------------------------------------------------------------


class Limits:
    def __init__(self, policy: LimitsPolicy, clock: Clock = time.monotonic) -> None:
        self.policy = policy
        self.admission = AdmissionController(
            policy.max_concurrent, policy.max_queue, policy.queue_timeout_s, policy.retry_after_s, clock
        )
        self.rate = RateLimiter(policy, clock)
        self._clock = clock
        self.on_wait: Callable[[float], None] | None = None  # seconds each admitted request waited

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(LimitsPolicy.from_file(settings.policies_dir / "limits.yaml"))

    @contextmanager
    def llm_request(self, user: str) -> Iterator[None]:
        """The user's rate limit first (a refused request takes no queue place), then a slot."""
        self.rate.check(user)
        asked = self._clock()
        with self.admission.slot():
            if self.on_wait is not None:
                self.on_wait(self._clock() - asked)
            yield

    def stats(self) -> dict[str, Any]:
        return {
            "active": self.admission.active,
            "waiting": self.admission.waiting,
            "admitted": self.admission.admitted,
            "rejected": {**self.admission.rejected, "rate_limited": self.rate.rejected},
        }


_CREATE_LOCK = threading.Lock()


def get_limits(request: Request) -> Limits:
    """The app's limits, created from the policy on first use and kept on ``app.state``.

    Call ``Limits.from_settings`` at start-up (and assign ``app.state.enclave_limits``) to
    refuse a bad policy before the first request instead."""
    app_state = request.app.state
    limits: Limits | None = getattr(app_state, "enclave_limits", None)
    if limits is None:
        with _CREATE_LOCK:
            limits = getattr(app_state, "enclave_limits", None)
            if limits is None:
                limits = Limits.from_settings(app_state.enclave.core.settings)
                metrics = getattr(app_state.enclave.core, "metrics", None)
                if metrics is not None:
                    limits.on_wait = metrics.llm_queue_wait.observe
                app_state.enclave_limits = limits
    return limits


def _caller(request: Request) -> Principal:
    # Imported here, not at the top: services/gateway/errors.py imports this module (TooBusy),
    # and deps imports errors.
    from services.gateway.deps import get_state, resolve_principal

    return resolve_principal(request, get_state(request))


def llm_admission(request: Request, principal: Principal = Depends(_caller)) -> Iterator[None]:  # noqa: B008
    """FastAPI dependency for LLM-backed routes: rate limit, then a generation slot held until
    the response (a stream included) has been sent."""
    with get_limits(request).llm_request(principal.key):
        yield


def rate_limited(request: Request, principal: Principal = Depends(_caller)) -> None:  # noqa: B008
    """FastAPI dependency: the caller's rate limit only (for routes that do not use the LLM)."""
    get_limits(request).rate.check(principal.key)
