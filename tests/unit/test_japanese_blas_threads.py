"""GiNZA runs its matrix products on one BLAS thread (japanese_engine._one_blas_thread).

With a thread per core, GiNZA took 2.0-3.2x the CPU on the 2-core host with identical entities
(docs/benchmarks.md, Japanese, fifth pass). The limit must hold while the NER runs and be lifted after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from threadpoolctl import threadpool_info

from enclave_core.redaction import japanese_engine


def _blas_threads() -> list[int]:
    return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]


def test_the_limit_holds_inside_and_is_lifted_after() -> None:
    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS library loaded")
    with japanese_engine._one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_the_ner_runs_inside_the_limit(monkeypatch: pytest.MonkeyPatch, redactor: Any) -> None:
    seen: list[list[int]] = []
    limit = japanese_engine._one_blas_thread

    @contextmanager
    def recording() -> Iterator[None]:
        with limit():
            seen.append(_blas_threads())
            yield

    monkeypatch.setattr(japanese_engine, "_one_blas_thread", recording)
    result = redactor.redact("担当は山田太郎さんです。連絡は総務部までお願いします。")
    assert "山田太郎" not in result.text
    assert seen and all(set(threads) <= {1} for threads in seen)
