"""Tests for services/gateway/limits.py: the LLM admission queue, per-user token buckets, the
policy file, and the FastAPI dependency (slot held until a streamed response has been sent)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from enclave_core.errors import PolicyError
from enclave_core.identity import Principal
from services.gateway import limits as limits_module
from services.gateway.errors import install_error_handlers
from services.gateway.limits import (
    AdmissionController,
    Limits,
    LimitsPolicy,
    RateLimit,
    RateLimiter,
    TooBusy,
    llm_admission,
)

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- policy -----------------------------------------------------------------------------------


def test_the_shipped_policy_is_valid() -> None:
    policy = LimitsPolicy.from_file(REPO / "policies" / "limits.yaml")
    assert policy.max_concurrent >= 1 and policy.max_queue >= 0 and policy.queue_timeout_s > 0
    assert policy.default is not None and policy.default.burst >= 1
    assert policy.rate_for("local:local-admin") is None  # the CLI's administrator is exempt
    assert policy.rate_for("api-key:local-admin") is None


def test_policy_overrides_and_unlimited(tmp_path: Path) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(
        "version: 3\n"
        "llm: {max_concurrent: 2, max_queue: 5, queue_timeout_s: 0.5, retry_after_s: 7}\n"
        "users:\n"
        "  default: {requests_per_minute: 30, burst: 3}\n"
        "  overrides:\n"
        "    bot: {requests_per_minute: 600, burst: 50}\n"
        "    ops: {unlimited: true}\n",
        encoding="utf-8",
    )
    policy = LimitsPolicy.from_file(path)
    assert (policy.max_concurrent, policy.max_queue, policy.queue_timeout_s, policy.retry_after_s) == (
        2,
        5,
        0.5,
        7,
    )
    assert policy.version == "3"
    assert policy.rate_for("api-key:alice") == RateLimit(30, 3)
    assert policy.rate_for("api-key:bot") == RateLimit(600, 50)
    assert policy.rate_for("api-key:ops") is None
    # An SSO user whose display name is 'ops' is not the API-key user 'ops'.
    assert policy.rate_for("oidc:https://idp.example|u-42") == RateLimit(30, 3)


def test_an_sso_user_is_exempted_by_its_principal_key(tmp_path: Path) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(
        "version: 1\n"
        "llm: {max_concurrent: 2, max_queue: 5, queue_timeout_s: 0.5}\n"
        "users:\n"
        "  default: {requests_per_minute: 30, burst: 3}\n"
        "  overrides:\n"
        "    'oidc:https://idp.example|u-42': {unlimited: true}\n",
        encoding="utf-8",
    )
    policy = LimitsPolicy.from_file(path)
    assert policy.rate_for("oidc:https://idp.example|u-42") is None
    assert policy.rate_for("api-key:oidc") == RateLimit(30, 3)


@pytest.mark.parametrize(
    "text, where",
    [
        ("llm: {max_concurrent: 0, max_queue: 1, queue_timeout_s: 1}", "llm/max_concurrent"),
        ("llm: {max_concurrent: 1, max_queue: -1, queue_timeout_s: 1}", "llm/max_queue"),
        ("llm: {max_concurrent: 1, max_queue: 1, queue_timeout_s: 1, typo: 1}", "llm"),
        ("llm: {max_concurrent: 1, max_queue: 1}", "llm"),
    ],
)
def test_invalid_llm_limits_are_refused_with_the_key(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(f"version: 1\n{text}\nusers: {{default: {{unlimited: true}}}}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=f"at {where}"):
        LimitsPolicy.from_file(path)


@pytest.mark.parametrize(
    "users",
    [
        "{default: {requests_per_minute: 0, burst: 1}}",
        "{default: {requests_per_minute: 10}}",
        "{default: {requests_per_minute: 10, burst: 2, unlimited: true}}",
        "{default: {unlimited: false}}",
        "{default: {unlimited: true}, overrides: {bob: {burst: 0, requests_per_minute: 1}}}",
    ],
)
def test_invalid_user_limits_are_refused(tmp_path: Path, users: str) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(
        f"version: 1\nllm: {{max_concurrent: 1, max_queue: 1, queue_timeout_s: 1}}\nusers: {users}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match=r"limits\.yaml: at users"):
        LimitsPolicy.from_file(path)


def test_missing_policy_file_means_builtin_defaults(tmp_path: Path) -> None:
    assert LimitsPolicy.from_file(tmp_path / "absent.yaml") == LimitsPolicy()


# --- admission ------------------------------------------------------------------------------


def test_admits_up_to_the_limit_then_refuses_without_waiting_when_there_is_no_queue() -> None:
    gate = AdmissionController(max_concurrent=2, max_queue=0, queue_timeout_s=5, retry_after_s=3)
    gate.acquire()
    gate.acquire()
    started = time.monotonic()
    with pytest.raises(TooBusy) as info:
        gate.acquire()
    assert time.monotonic() - started < 0.5  # refused at once, not after queue_timeout_s
    assert info.value.retry_after == 3 and info.value.reason == "queue_full"
    assert "busy" in str(info.value)
    gate.release()
    gate.acquire()  # a released slot is usable again
    assert gate.active == 2 and gate.rejected["queue_full"] == 1


def test_a_waiter_gets_the_slot_released_by_another_request() -> None:
    gate = AdmissionController(max_concurrent=1, max_queue=4, queue_timeout_s=10)
    gate.acquire()
    got = threading.Event()

    def waiter() -> None:
        gate.acquire()
        got.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert not got.wait(0.2)
    assert gate.waiting == 1
    gate.release()
    assert got.wait(5)
    thread.join(5)
    assert gate.active == 1 and gate.waiting == 0


def test_waiters_are_served_in_arrival_order() -> None:
    gate = AdmissionController(max_concurrent=1, max_queue=10, queue_timeout_s=10)
    gate.acquire()
    order: list[int] = []
    lock = threading.Lock()

    def waiter(n: int) -> None:
        gate.acquire()
        with lock:
            order.append(n)
        gate.release()

    threads = []
    for n in range(5):
        t = threading.Thread(target=waiter, args=(n,))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while gate.waiting < n + 1 and time.monotonic() < deadline:  # enqueue one after the other
            time.sleep(0.005)
    gate.release()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert gate.active == 0


def test_a_full_queue_refuses_at_once_and_a_wait_times_out() -> None:
    gate = AdmissionController(max_concurrent=1, max_queue=1, queue_timeout_s=0.3, retry_after_s=4)
    gate.acquire()
    errors: list[TooBusy] = []
    entered = threading.Event()

    def waiter() -> None:
        entered.set()
        try:
            gate.acquire()
        except TooBusy as exc:
            errors.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    entered.wait(5)
    deadline = time.monotonic() + 5
    while gate.waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    with pytest.raises(TooBusy) as full:
        gate.acquire()
    assert full.value.reason == "queue_full"
    started = time.monotonic()
    thread.join(5)
    assert len(errors) == 1 and errors[0].reason == "queue_timeout" and errors[0].retry_after == 4
    assert time.monotonic() - started < 1.0  # the wait is bounded by queue_timeout_s
    assert gate.waiting == 0 and gate.active == 1
    assert gate.rejected == {"queue_full": 1, "queue_timeout": 1}


def test_slot_is_released_when_the_holder_fails() -> None:
    gate = AdmissionController(max_concurrent=1, max_queue=0, queue_timeout_s=0)
    with pytest.raises(ZeroDivisionError), gate.slot():
        _ = 1 / 0
    assert gate.active == 0
    with gate.slot():
        assert gate.active == 1
    with pytest.raises(RuntimeError):
        gate.release()


# --- rate limits ----------------------------------------------------------------------------


def test_token_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(LimitsPolicy(default=RateLimit(requests_per_minute=6, burst=3)), clock)
    for _ in range(3):
        limiter.check("alice")
    with pytest.raises(TooBusy) as info:
        limiter.check("alice")
    assert info.value.reason == "rate_limited" and info.value.retry_after == 10  # 6/min: one per 10 s
    assert "alice" in str(info.value)
    clock.advance(5)
    with pytest.raises(TooBusy) as again:
        limiter.check("alice")
    assert again.value.retry_after == 5
    clock.advance(5)
    limiter.check("alice")  # one token back after 10 s
    with pytest.raises(TooBusy):
        limiter.check("alice")
    clock.advance(3600)
    assert limiter.tokens("alice") == 3  # never more than the burst
    assert limiter.rejected == 3


def test_users_have_separate_buckets_and_overrides_apply() -> None:
    clock = FakeClock()
    policy = LimitsPolicy(default=RateLimit(60, 1), overrides={"bot": RateLimit(60, 5), "ops": None})
    limiter = RateLimiter(policy, clock)
    limiter.check("alice")
    with pytest.raises(TooBusy):
        limiter.check("alice")
    limiter.check("bob")  # bob's bucket is his own
    for _ in range(5):
        limiter.check("bot")
    with pytest.raises(TooBusy):
        limiter.check("bot")
    for _ in range(1000):
        limiter.check("ops")


def test_quiet_users_are_forgotten_first_when_many_are_tracked() -> None:
    clock = FakeClock()
    policy = LimitsPolicy(default=RateLimit(60, 2), overrides={"busy": RateLimit(0.6, 2)})
    limiter = RateLimiter(policy, clock, max_tracked=3)
    limiter.check("busy")
    limiter.check("busy")  # empty; refills one token per 100 s
    for user in ("a", "b", "c", "d"):
        limiter.check(user)
        clock.advance(5)  # long enough for the others' buckets to be full again
    assert len(limiter._buckets) == 3
    assert "busy" in limiter._buckets and "a" not in limiter._buckets
    with pytest.raises(TooBusy):  # the user at their limit is still remembered
        limiter.check("busy")


def test_a_user_over_the_rate_takes_no_queue_place() -> None:
    clock = FakeClock()
    policy = LimitsPolicy(max_concurrent=1, max_queue=0, queue_timeout_s=0, default=RateLimit(60, 1))
    limits = Limits(policy, clock)
    with limits.llm_request("alice"):
        with pytest.raises(TooBusy) as rate, limits.llm_request("alice"):
            pass
        assert rate.value.reason == "rate_limited"
        with pytest.raises(TooBusy) as busy, limits.llm_request("bob"):
            pass
        assert busy.value.reason == "queue_full"
    assert limits.stats()["active"] == 0
    assert limits.stats()["rejected"] == {"queue_full": 1, "queue_timeout": 0, "rate_limited": 1}


# --- the FastAPI dependency -----------------------------------------------------------------


def _app(limits: Limits, observed: list[int]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.enclave_limits = limits
    app.dependency_overrides[limits_module._caller] = lambda: Principal("alice")

    @app.get("/answer", dependencies=[Depends(llm_admission)])
    def answer() -> dict[str, int]:
        observed.append(limits.admission.active)
        return {"active": limits.admission.active}

    @app.get("/stream", dependencies=[Depends(llm_admission)])
    def stream() -> StreamingResponse:
        def body() -> Iterator[str]:
            for i in range(3):
                observed.append(limits.admission.active)  # the slot is still held while streaming
                yield f"data: {i}\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    @app.get("/fails", dependencies=[Depends(llm_admission)])
    def fails() -> None:
        raise RuntimeError("boom")

    return app


def test_dependency_holds_the_slot_for_the_whole_stream_and_releases_it() -> None:
    limits = Limits(LimitsPolicy(max_concurrent=1, max_queue=0, queue_timeout_s=0, default=None))
    observed: list[int] = []
    with TestClient(_app(limits, observed), raise_server_exceptions=False) as client:
        assert client.get("/answer").json() == {"active": 1}
        response = client.get("/stream")
        assert response.status_code == 200 and response.text.count("data:") == 3
        assert observed == [1, 1, 1, 1]
        assert limits.admission.active == 0  # released after the stream
        assert client.get("/fails").status_code == 500
        assert limits.admission.active == 0  # released after a failure too
        assert limits.admission.admitted == 3


def test_gateway_answers_too_busy_with_429_and_retry_after() -> None:
    """Needs the mapping in services/gateway/errors.py (TooBusy -> 429 + Retry-After)."""
    policy = LimitsPolicy(max_concurrent=1, max_queue=0, queue_timeout_s=0, retry_after_s=7, default=None)
    limits = Limits(policy)
    with TestClient(_app(limits, []), raise_server_exceptions=False) as client:
        limits.admission.acquire()  # every slot taken
        try:
            busy = client.get("/answer")
        finally:
            limits.admission.release()
        assert busy.status_code == 429, busy.text
        assert busy.headers["Retry-After"] == "7"
        assert busy.json()["error"] == "TooBusy" and "busy" in busy.json()["detail"]
        assert client.get("/answer").status_code == 200

    rated = Limits(LimitsPolicy(default=RateLimit(6, 1)))
    with TestClient(_app(rated, []), raise_server_exceptions=False) as client:
        assert client.get("/answer").status_code == 200
        limited = client.get("/answer")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["Retry-After"]) <= 10
        assert "rate limit" in limited.json()["detail"]
