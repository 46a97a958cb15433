"""Dynamic micro-batching of user-independent work across concurrent requests, with no waiting window.

Why: every search runs two model passes that do not depend on who asks: the question's PII detection
(spaCy + Presidio) and its query embedding (ONNX). Concurrent requests each running them alone
serialise on spaCy's lock and the cores and each pay the per-call overheads; one ``nlp.pipe`` or one
ONNX run over all the questions pending at that moment costs little more than a single one.

How: the first caller that finds no batch running runs one at once, over every item pending (only
its own when the gateway is idle: a lone request never waits); items that arrive meanwhile queue
and form the next batch, run by one of their own callers when the current one ends. There is no
thread of its own, so nothing to start, stop or deadlock at shutdown. When a batch fails, each of
its callers retries its own item alone, in its own thread: a bad item fails only its own request,
and its batch-mates pay one single run each, side by side, not one after another in the runner's
thread (so ``run`` must be safe to call from several threads at once). Per-user work (access
checks, vault look-ups, audit) never goes through here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["BatchAborted", "MicroBatcher"]

T = TypeVar("T")
R = TypeVar("R")


class BatchAborted(RuntimeError):
    """The batch holding this item was interrupted (e.g. KeyboardInterrupt in the thread running it)."""


class _Slot(Generic[T, R]):
    __slots__ = ("alone", "done", "error", "item", "value")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.alone = False  # its batch failed: the caller retries this item by itself
        self.value: R | None = None
        self.error: BaseException | None = None


class MicroBatcher(Generic[T, R]):
    """``submit(item)`` returns ``run([... item ...])``'s result for that item, batched with whatever
    other threads submitted while the previous batch ran. ``run`` gets a list and must return one
    result per item, in order."""

    def __init__(self, run: Callable[[list[T]], Sequence[R]], max_batch: int = 32) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self._run = run
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Slot[T, R]] = []
        self._running = False
        self.batches = 0  # how many batches ran, and their items: for tests and benchmarks
        self.items = 0

    def idle(self) -> bool:
        """Nothing running or queued (a snapshot: for deciding whether to start optional work)."""
        with self._cond:
            return not self._running and not self._pending

    def submit(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._cond:
            self._pending.append(slot)
        while True:
            with self._cond:
                while self._running and not slot.done and not slot.alone:
                    self._cond.wait()
                if slot.done or slot.alone:
                    break
                self._running = True
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
            try:
                self._execute(batch)
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()
        if slot.alone and not slot.done:
            # Outside the lock and the batch: the next batch runs meanwhile, and a retry whose error
            # is raised here carries no batch error as its __context__ (it may quote other items).
            self._one(slot)
        if slot.error is not None:
            raise slot.error
        return slot.value  # type: ignore[return-value]

    def _execute(self, batch: list[_Slot[T, R]]) -> None:
        """Fill every slot of ``batch`` with its value or its own error; never leave one unfinished."""
        try:
            self.batches += 1
            self.items += len(batch)
            try:
                results = list(self._run([s.item for s in batch]))
                if len(results) != len(batch):
                    raise RuntimeError(f"batch function returned {len(results)} results for {len(batch)} items")
            except Exception:
                if len(batch) == 1:
                    raise
                for s in batch:  # each caller retries its own item (submit): only the bad one(s) fail
                    s.alone = True
                return
            for s, value in zip(batch, results, strict=True):
                s.value, s.done = value, True
        except Exception as exc:
            for s in batch:
                if not s.done and not s.alone:
                    s.error, s.done = exc, True
        finally:
            for s in batch:  # BaseException (interrupt) mid-batch: release the others' callers
                if not s.done and not s.alone:
                    s.error, s.done = BatchAborted("the batch was interrupted"), True

    def _one(self, slot: _Slot[T, R]) -> None:
        try:
            results = list(self._run([slot.item]))
            if len(results) != 1:
                raise RuntimeError(f"batch function returned {len(results)} results for 1 item")
            slot.value = results[0]
        except Exception as exc:
            slot.error = exc
        slot.done = True
