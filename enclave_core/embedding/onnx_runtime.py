"""ONNX Runtime backend for sentence-transformers models (BERT-style encoder, mean pooling).

Same vectors as the PyTorch backend (within float tolerance) at a fraction of the start-up and per-batch
cost: ONNX Runtime fuses attention and layer norms, and needs neither torch nor sentence-transformers
at query time. The ONNX graph is exported once from the local model with ``torch.onnx`` (offline, no
hub) and cached under ``cache_dir``, keyed by the model's weights; int8 dynamic quantisation is an
option, off by default, because it must be shown to hold retrieval quality for the model in use.
Texts are batched by token length (``length_buckets``), so padding costs almost nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from enclave_core.embedding.base import Vectors

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

__all__ = ["INT8_VARIANT", "OnnxEmbedder", "default_cache_dir", "export_onnx", "length_buckets"]

log = logging.getLogger(__name__)

INT8_VARIANT = "onnx-int8"  # MatMuls int8, one scale per output channel (_quantize)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# How long a spinning worker thread busy-waits for the next operator before it sleeps. ONNX Runtime's
# own default kept one core busy for ~40 ms after every question (38 ms of CPU in the 150 ms after a
# 3 ms embedding): on 2 cores that is CPU taken from vLLM reading the prompt the question was retrieved
# for. 0.5 ms covers the gaps between one run's operators (same question latency, also on a busy
# host) and leaves <1 ms of CPU after the run (benchmarks/embedding_threads.py: query_cpu_after_ms).
QUESTION_SPIN_US = 500


def default_cache_dir() -> Path:
    """Where exported graphs live when no directory is configured: the user's cache, shared by data dirs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "enclave" / "models"


def _fingerprint(model_path: Path) -> str:
    """Weights and config identify the export; file sizes and names are cheap and change with them."""
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json"):
        f = model_path / name
        if f.is_file():
            digest.update(f"{name}:{f.stat().st_size}:".encode())
            if name == "config.json":
                digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def export_onnx(model_path: Path, target: Path) -> None:
    """Export the transformer (last hidden state) to ONNX with dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager")
    model.eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(
            _Encoder(model),
            example,
            str(target),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def _quantize(source: Path, target: Path) -> None:
    """int8 weights for the MatMuls only, one scale per output channel, 7-bit range.

    Quantising every op with one scale per tensor gave a mean cosine of 0.936 to the float32
    vectors on SciFact; this recipe gives 0.993 (min 0.988) at 1.8x the speed on a 2-core AVX host
    (docs/benchmarks.md). ``reduce_range`` avoids the saturation of 8-bit products on CPUs without
    VNNI; the embeddings (Gather) and layer norms stay float32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        op_types_to_quantize=["MatMul"],
    )


def _atomic_build(target: Path, build: Any) -> None:
    """Build into a private temporary name and rename: concurrent processes never see half a file."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        build(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


#: A bucket's texts may be this much longer than its shortest one (plus a few tokens) before a new one
#: starts: every text of a bucket is padded to its longest, and padding costs as much as text.
_BUCKET_SLACK = 0.10
_BUCKET_SLACK_TOKENS = 4


def length_buckets(lengths: Sequence[int], max_batch: int) -> list[list[int]]:
    """Indices of ``lengths`` in batches of similar length (at most ``max_batch`` each).

    Why: a batch is padded to its longest text. With fixed batches of 64 an ingest batch of 16
    SciFact abstracts (~35 chunks, one call) wasted 25 % of the model's work on padding; buckets
    whose texts differ by at most ~10 % waste under 2 %, and small batches cost little on a CPU,
    where one 256-token text already fills the matrix units.
    """
    if max_batch < 1:
        raise ValueError("max_batch must be >= 1")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    buckets: list[list[int]] = []
    for i in order:
        current = buckets[-1] if buckets else None
        if (
            current is not None
            and len(current) < max_batch
            and lengths[i] <= lengths[current[0]] * (1 + _BUCKET_SLACK) + _BUCKET_SLACK_TOKENS
        ):
            current.append(i)
        else:
            buckets.append([i])
    return buckets


class OnnxEmbedder:
    """Loads (exporting on first use) lazily, so importing and wiring stay cheap."""

    def __init__(
        self,
        model_path: Path,
        batch_size: int = 64,
        *,
        name: str | None = None,
        cache_dir: Path | None = None,
        quantize: bool = False,
        threads: int | None = None,
        spinning: bool | None = None,
        spin_us: int | None = QUESTION_SPIN_US,
    ) -> None:
        """``spinning``: whether ONNX Runtime's idle worker threads busy-wait for the next operator.
        None: for one text (a question: latency) they do, for batches (ingest: CPU) they do not; on
        a machine whose cores are all busy (a bulk ingest runs the personal-data detection beside
        the embedding) the spinning burned ~40 % more CPU for the same vectors, while without it a
        question waited longer for the threads to wake (benchmarks/embedding_threads.py). Spinning
        stops ``QUESTION_SPIN_US`` after the last operator, not ~40 ms later. The two sessions share
        the graph file and give bit-identical vectors. ``spin_us`` None: ONNX Runtime's default."""
        self._path = model_path
        self._name = name or model_path.name
        self._batch_size = batch_size
        self._cache_dir = cache_dir or default_cache_dir()
        self._quantize = quantize
        self._threads = threads
        self._spinning = spinning
        self._spin_us = spin_us
        self._lock = threading.Lock()
        self._sessions: dict[bool, onnxruntime.InferenceSession] = {}  # by spinning
        self._tokenizer: Tokenizer | None = None
        self._inputs: list[str] = []
        self._dimension: int | None = None

    def graph_path(self) -> Path:
        """The cached ONNX file for this model (and quantisation), built if missing."""
        folder = self._cache_dir / f"{self._path.name}-{_fingerprint(self._path)}"
        folder.mkdir(parents=True, exist_ok=True)
        fp32 = folder / "model.onnx"
        if not fp32.is_file():
            log.info("exporting %s to ONNX (once) under %s", self._name, folder)
            _atomic_build(fp32, lambda tmp: export_onnx(self._path, tmp))
        if not self._quantize:
            return fp32
        int8 = folder / "model-int8-matmul-pc.onnx"  # the recipe is in the name: an older int8 file is not reused
        if not int8.is_file():
            _atomic_build(int8, lambda tmp: _quantize(fp32, tmp))
        return int8

    def _load(self, spinning: bool = True) -> tuple[onnxruntime.InferenceSession, Tokenizer]:
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self._max_tokens())
                tokenizer.no_padding()
                self._tokenizer = tokenizer
            if self._spinning is not None:
                spinning = self._spinning
            session = self._sessions.get(spinning)
            if session is None:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.intra_op_num_threads = self._threads or (os.cpu_count() or 1)
                options.log_severity_level = 3
                options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
                if spinning and self._spin_us is not None:
                    options.add_session_config_entry("session.intra_op.spin_duration_us", str(self._spin_us))
                session = onnxruntime.InferenceSession(
                    str(self.graph_path()), options, providers=["CPUExecutionProvider"]
                )
                self._inputs = [i.name for i in session.get_inputs()]
                self._sessions[spinning] = session
            return session, self._tokenizer

    def _max_tokens(self) -> int:
        config = self._path / "sentence_bert_config.json"
        if config.is_file():
            return int(json.loads(config.read_text()).get("max_seq_length", 256))
        return 256

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self.embed_documents(["dimension probe"]).shape[1])
        return self._dimension

    @property
    def model_id(self) -> str:
        return self._name

    @property
    def variant(self) -> str:
        """Recorded with a collection (embedding/registry.py): int8 vectors are not float32 ones."""
        return INT8_VARIANT if self._quantize else "float32"

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session, tokenizer = self._load(spinning=len(texts) == 1)
        encodings = tokenizer.encode_batch(list(texts))
        out: Vectors | None = None
        for picked in length_buckets([len(e.ids) for e in encodings], self._batch_size):
            vectors = self._run(session, [encodings[i] for i in picked])
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[picked] = vectors
        assert out is not None
        return out

    def _run(self, session: onnxruntime.InferenceSession, encodings: Sequence[Any]) -> Vectors:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self.embed_documents([text])[0]
