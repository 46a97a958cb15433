"""MicroBatcher: a lone item runs at once, items that arrive during a batch form the next one, every
caller gets its own item's result, a bad item fails alone, and nothing can hang (interrupts, exit)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from enclave_core.batching import BatchAborted, MicroBatcher

TIMEOUT = 10.0


def run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a caller hung"


def test_a_lone_item_runs_at_once_alone() -> None:
    seen: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        seen.append(list(items))
        return [i * 10 for i in items]

    batcher = MicroBatcher(run)
    assert batcher.idle()
    assert batcher.submit(4) == 40
    assert seen == [[4]]
    assert batcher.idle()


def test_items_arriving_during_a_batch_form_the_next_batch_and_get_their_own_results() -> None:
    first_running, release = threading.Event(), threading.Event()
    batches: list[list[int]] = []

    def run(items: list[int]) -> list[str]:
        batches.append(list(items))
        if items == [0]:
            first_running.set()
            assert release.wait(TIMEOUT)
        return [f"r{i}" for i in items]

    batcher: MicroBatcher[int, str] = MicroBatcher(run)
    results: dict[int, str] = {}

    def caller(i: int) -> Callable[[], None]:
        def call() -> None:
            results[i] = batcher.submit(i)

        return call

    leader = threading.Thread(target=caller(0), daemon=True)
    leader.start()
    assert first_running.wait(TIMEOUT)
    followers = [threading.Thread(target=caller(i), daemon=True) for i in range(1, 8)]
    for t in followers:
        t.start()
    deadline = time.monotonic() + TIMEOUT
    while len(batcher._pending) < 7 and time.monotonic() < deadline:  # all queued behind the running batch
        time.sleep(0.005)
    assert not batcher.idle()
    release.set()
    for t in [leader, *followers]:
        t.join(TIMEOUT)
    assert results == {i: f"r{i}" for i in range(8)}
    assert batches[0] == [0]
    assert sorted(batches[1]) == list(range(1, 8))  # one batch for all who waited
    assert len(batches) == 2
    assert (batcher.batches, batcher.items) == (2, 8)


def test_max_batch_is_respected() -> None:
    gate = threading.Event()
    sizes: list[int] = []

    def run(items: list[int]) -> list[int]:
        sizes.append(len(items))
        gate.wait(TIMEOUT)
        return items

    batcher = MicroBatcher(run, max_batch=3)
    out: list[int] = []
    lock = threading.Lock()

    def call(i: int) -> Callable[[], None]:
        def f() -> None:
            v = batcher.submit(i)
            with lock:
                out.append(v)

        return f

    def release_soon() -> None:
        time.sleep(0.2)
        gate.set()

    run_threads([call(i) for i in range(10)] + [release_soon])
    assert sorted(out) == list(range(10))
    assert max(sizes) <= 3 and sum(sizes) == 10


def submitter(
    batcher: MicroBatcher[str, str], item: str, outcomes: dict[str, object], callers: dict[str, int] | None = None
) -> Callable[[], None]:
    """A thread body that submits ``item`` and records its result or error (and its thread) by item."""

    def f() -> None:
        if callers is not None:
            callers[item] = threading.get_ident()
        try:
            outcomes[item] = batcher.submit(item)
        except Exception as exc:
            outcomes[item] = exc

    return f


def test_an_exception_in_one_item_fails_only_that_request() -> None:
    gate = threading.Event()

    def run(items: list[str]) -> list[str]:
        gate.wait(TIMEOUT)
        if "bad" in items:
            raise ValueError("bad input")
        return [s.upper() for s in items]

    batcher: MicroBatcher[str, str] = MicroBatcher(run)
    outcomes: dict[str, object] = {}

    def call(item: str) -> Callable[[], None]:
        return submitter(batcher, item, outcomes)

    def release_soon() -> None:
        time.sleep(0.2)
        gate.set()

    run_threads([call(x) for x in ("a", "bad", "b", "c")] + [release_soon])
    assert outcomes["a"] == "A" and outcomes["b"] == "B" and outcomes["c"] == "C"
    assert isinstance(outcomes["bad"], ValueError)
    # its own error only: not chained to the batch's error, whose message may quote other items
    assert outcomes["bad"].__context__ is None and outcomes["bad"].__cause__ is None
    assert batcher.submit("d") == "D"  # still serving


def test_after_a_failed_batch_each_caller_retries_its_own_item_in_its_own_thread() -> None:
    """A bad item must not make its batch-mates pay N single runs one after another in the runner's
    thread: each retries alone in its own thread, side by side (review finding)."""
    leader_running, release = threading.Event(), threading.Event()
    singles: dict[str, int] = {}  # item -> the thread that ran its single retry
    overlapping = threading.Barrier(4, timeout=TIMEOUT)  # the four singles are in run() at one time
    callers: dict[str, int] = {}

    def run(items: list[str]) -> list[str]:
        if items == ["first"]:
            leader_running.set()
            assert release.wait(TIMEOUT)
        elif len(items) > 1:
            if "bad" in items:
                raise ValueError("one bad item")
        elif items != ["d"]:
            singles[items[0]] = threading.get_ident()
            overlapping.wait()  # broken (the items fail) if the singles run one after another
            if items == ["bad"]:
                raise ValueError("bad input")
        return [s.upper() for s in items]

    batcher: MicroBatcher[str, str] = MicroBatcher(run)
    outcomes: dict[str, object] = {}

    def call(item: str) -> Callable[[], None]:
        return submitter(batcher, item, outcomes, callers)

    leader = threading.Thread(target=call("first"), daemon=True)
    leader.start()
    assert leader_running.wait(TIMEOUT)

    def release_when_queued() -> None:  # all four wait behind "first": they form one batch
        deadline = time.monotonic() + TIMEOUT
        while len(batcher._pending) < 4 and time.monotonic() < deadline:
            time.sleep(0.005)
        release.set()

    run_threads([call(x) for x in ("a", "bad", "b", "c")] + [release_when_queued])
    leader.join(TIMEOUT)
    assert outcomes == {"first": "FIRST", "a": "A", "b": "B", "c": "C", "bad": outcomes["bad"]}
    assert isinstance(outcomes["bad"], ValueError) and str(outcomes["bad"]) == "bad input"
    assert singles == {item: callers[item] for item in ("a", "bad", "b", "c")}  # each in its caller's thread
    assert batcher.idle() and batcher.submit("d") == "D"


def test_a_batch_function_returning_the_wrong_count_is_an_error_not_a_misassignment() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(lambda items: [1, 2, 3])
    with pytest.raises(RuntimeError, match="3 results for 1 item"):
        batcher.submit(7)


def test_an_interrupted_batch_releases_every_caller() -> None:
    started, go = threading.Event(), threading.Event()
    calls = 0

    def run(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            go.wait(TIMEOUT)
            return items
        if calls == 2:
            raise KeyboardInterrupt  # a BaseException: the leader's thread dies with it
        return items

    batcher = MicroBatcher(run)
    errors: list[BaseException] = []

    def call(i: int) -> Callable[[], None]:
        def f() -> None:
            try:
                batcher.submit(i)
            except BaseException as exc:  # the test collects what each caller got, interrupts included
                errors.append(exc)

        return f

    first = threading.Thread(target=call(0), daemon=True)
    first.start()
    assert started.wait(TIMEOUT)

    def release_soon() -> None:  # once all three wait behind the running batch: they form the next one
        deadline = time.monotonic() + TIMEOUT
        while len(batcher._pending) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        go.set()

    run_threads([call(i) for i in (1, 2, 3)] + [release_soon])
    first.join(TIMEOUT)
    assert len(errors) == 3  # the second batch: its leader got the interrupt, the others BatchAborted
    assert sum(isinstance(e, KeyboardInterrupt) for e in errors) == 1
    assert sum(isinstance(e, BatchAborted) for e in errors) == 2
    assert batcher.idle() and batcher.submit(9) == 9  # usable afterwards


def test_the_interpreter_exits_while_callers_wait() -> None:
    """No thread of its own: a process ending mid-batch (daemon callers blocked) exits at once."""
    code = (
        "import threading, time\n"
        "from enclave_core.batching import MicroBatcher\n"
        "b = MicroBatcher(lambda items: (time.sleep(60), items)[1])\n"
        "for i in range(5):\n"
        "    threading.Thread(target=b.submit, args=(i,), daemon=True).start()\n"
        "time.sleep(0.3)\n"
        "print('exiting')\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "exiting" in done.stdout
    assert time.monotonic() - started < 20
