"""Helpers shared by the benchmarks: instrumented wiring, timing statistics, machine info, result files."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from enclave_core.embedding import Embedder, build_embedder
from enclave_core.embedding.base import Vectors
from enclave_core.embedding.registry import variant_of
from enclave_core.retrieval import embedding_text
from enclave_core.runtime import Core
from enclave_core.settings import Settings
from enclave_core.vectorstore import VectorStore, build_store

__all__ = ["BenchCore", "Stopwatch", "machine_info", "percentiles", "write_result"]

T = TypeVar("T")


class Stopwatch:
    """Accumulates the wall time spent inside wrapped calls (one stage of the pipeline)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def time(self, fn: Callable[[], T]) -> T:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


class RecordingEmbedder:
    """Wraps the real embedder: times every batch and keeps the texts, so the same texts can be
    embedded again alone to get the pure-embedding baseline of the overhead ratio."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.watch = Stopwatch()
        self.texts: list[str] = []

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def variant(self) -> str:
        """The wrapped embedder's (float32 / onnx-int8), so a bench collection records what built it."""
        return variant_of(self.inner)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.texts.extend(texts)
        return self.watch.time(lambda: self.inner.embed_documents(texts))

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


class _TimedProxy:
    """Times chosen methods of a component, forwarding everything else untouched."""

    def __init__(self, inner: Any, methods: Sequence[str]) -> None:
        self._inner = inner
        self._methods = set(methods)
        self.watch = Stopwatch()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in self._methods and callable(attr):
            return lambda *a, **k: self.watch.time(lambda: attr(*a, **k))
        return attr


class _RecordingStore(_TimedProxy):
    """Times store writes and keeps (chunk id, doc id, indexed text) so BM25 can be re-tuned offline."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner, ["upsert", "delete_points", "search"])
        self.chunks: list[tuple[str, str, str]] = []

    def __getattr__(self, name: str) -> Any:
        if name == "upsert":

            def upsert(collection: str, points: Sequence[Any]) -> None:
                for p in points:
                    pl = p.payload
                    text = embedding_text(str(pl.get("title", "")), pl.get("heading"), str(pl.get("text", "")))
                    self.chunks.append((p.id, str(pl.get("doc_id", "")), text))
                self.watch.time(lambda: self._inner.upsert(collection, points))

            return upsert
        return super().__getattr__(name)


class BenchCore(Core):
    """The product's Core with stage timers, and a choice of embedded engine (``local`` or ``edge``)."""

    def __init__(self, settings: Settings, engine: str = "edge") -> None:
        # The engine is the product's own setting, so the bench builds the store as the product does.
        store_settings = settings.vector_store.model_copy(update={"embedded_engine": engine})
        super().__init__(settings.model_copy(update={"vector_store": store_settings}))
        self.engine = engine

    @cached_property
    def store(self) -> VectorStore:
        store: VectorStore = _RecordingStore(build_store(self.settings))  # proxy: forwards every protocol method
        return store

    @cached_property
    def embedder(self) -> RecordingEmbedder:
        return RecordingEmbedder(build_embedder(self.settings.embedding))

    @cached_property
    def pii(self) -> Any:
        # The ingest pipeline redacts or pseudonymizes through pii.process_many: time that call.
        return _TimedProxy(super().pii, ["process_many"])

    def stage_seconds(self) -> dict[str, float]:
        out = {"embedding": self.embedder.watch.seconds}
        if "pii" in self.__dict__:
            out["redaction"] = self.pii.watch.seconds
        if "store" in self.__dict__:
            out["store_writes"] = self.store.watch.seconds  # type: ignore[attr-defined]
        return out


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds."""
    arr = np.asarray(samples_s, dtype=np.float64) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(arr, 50)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "mean_ms": round(float(arr.mean()), 3),
        "n": len(arr),
    }


def machine_info() -> dict[str, Any]:
    """Enough context to compare result files across machines (they are shared and noisy)."""
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    info: dict[str, Any] = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "loadavg_at_end": load,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def write_result(out_dir: Path, name: str, result: dict[str, Any]) -> Path:
    """One JSON file per run, named by benchmark and UTC timestamp (never overwritten)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {"benchmark": name, "timestamp": stamp, "machine": machine_info(), **result}
    path = out_dir / f"{name}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return path
