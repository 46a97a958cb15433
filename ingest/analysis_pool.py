"""Personal-data detection (spaCy + Presidio) in child processes, so a bulk ingest uses every core.

The detection is pure Python that holds the GIL for about two thirds of an ingest; the embedding
(ONNX Runtime) releases it. A thread cannot run the detection beside the parent's Python, so the
children do it: the parent sends a batch's texts, goes on embedding and storing the batch before
it, and later applies the children's spans (pseudonyms come from the parent's vault, as before).

The texts cross anonymous pipes (``multiprocessing``'s, created with the children and gone with
them): nothing is written to disk or to a named pipe on the way. Children are spawned, not forked
(the parent may already run ONNX Runtime's threads), and load the redaction policy from its file.

A child's start is mostly spaCy and compiling Presidio's ~370 patterns. With ``regex_cache`` (the
data directory's file, enclave_core/regex_cache.py) the compiles are served from it; a child
writes the file back only when it had to compile patterns the file lacks (the first ingest, a new
``regex``, an edited pattern), merged with what is already there, never a deny-list pattern.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from enclave_core.redaction import Detection, Redacted, Redactor

__all__ = ["AnalysisPool", "Kind", "can_spawn"]

Kind = Literal["detect", "redact"]

_PR_SET_PDEATHSIG = 1

_redactor: Redactor | None = None  # the child's own, loaded once by _start


def _start(policy_path: str, nice: int, regex_cache: str | None = None, regex_cache_key: bytes = b"") -> None:
    global _redactor
    from enclave_core.redaction import Redactor
    from enclave_core.regex_cache import RegexCache, deny_terms_excluded

    with contextlib.suppress(OSError, AttributeError):  # Linux: die with the parent, even on SIGKILL
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if nice:
        os.nice(nice)
    _redactor = Redactor.from_policy_file(Path(policy_path))
    cache = None
    if regex_cache:
        terms = [t for rule in _redactor.policy.deny_list for t in rule.terms]
        cache = RegexCache(Path(regex_cache), deny_terms_excluded(terms), key=regex_cache_key).install()
    _redactor.warm_up()  # compiles every pattern the analyzer holds
    if cache is not None:
        cache.save()  # a no-op unless this child compiled something the file lacked


def _analyse(kind: Kind, texts: list[str]) -> list[list[Detection]] | list[Redacted]:
    assert _redactor is not None
    if kind == "detect":
        return _redactor.detect_many(texts)
    return _redactor.redact_many(texts)


def can_spawn() -> bool:
    """Daemonic processes (the gateway's ingest worker) may not have children."""
    return not multiprocessing.current_process().daemon


class AnalysisPool:
    """``processes`` children, each with its own Redactor; work goes to whichever is free."""

    def __init__(
        self,
        policy_path: Path,
        processes: int,
        *,
        nice: int = 0,
        regex_cache: Path | None = None,
        regex_cache_key: bytes = b"",
    ) -> None:
        """``regex_cache``: the data directory's compiled-pattern file (``regex_cache_path``), or None;
        ``regex_cache_key``: its HMAC key (``regex_cache_key`` of the data key; it reaches the children
        through their pipe, never a file or their command line)."""
        context = multiprocessing.get_context("spawn")
        self.processes = processes
        cache = str(regex_cache) if regex_cache else None
        self._executor = ProcessPoolExecutor(
            processes,
            mp_context=context,
            initializer=_start,
            initargs=(str(policy_path), nice, cache, regex_cache_key),
        )

    def submit(self, kind: Kind, texts: Sequence[str]) -> Future[list[list[Detection]] | list[Redacted]]:
        return self._executor.submit(_analyse, kind, list(texts))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
