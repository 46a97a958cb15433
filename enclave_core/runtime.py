"""Wiring: build the shared components once from settings, lazily, for the gateway and the CLI.

Nothing heavy happens at import or construction; each component is created on first use
and then reused (the embedding model and spaCy load once per process).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from enclave_core.audit import AuditLog
from enclave_core.embedding import Embedder, build_embedder
from enclave_core.embedding.onnx_runtime import INT8_VARIANT
from enclave_core.embedding.registry import CollectionEmbedders
from enclave_core.embedding.sparse import BM25Encoder
from enclave_core.policy.access import AccessPolicy
from enclave_core.retrieval import Retriever
from enclave_core.settings import Settings, secure_data_dir
from enclave_core.vault import Vault, load_vault_key
from enclave_core.vectorstore import VectorStore, build_store

if TYPE_CHECKING:
    from enclave_core.llm import LLMClient
    from enclave_core.metrics import Metrics
    from enclave_core.pseudonymize import Pseudonymizer
    from enclave_core.query_vectors import QueryVectors
    from enclave_core.redaction import Redactor

__all__ = ["Core"]

log = logging.getLogger(__name__)


class Core:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._closers: list[Callable[[], None]] = []
        # Before anything is created: the data directory and all in it owner-only (umask 0o077).
        secure_data_dir(settings.data_dir)

    @cached_property
    def store(self) -> VectorStore:
        with self._lock:
            return build_store(self.settings)

    @cached_property
    def embedder(self) -> Embedder:
        return build_embedder(self.settings.embedding)

    @cached_property
    def embedders(self) -> CollectionEmbedders:
        """The embedder of each collection (settings ``embedding.collections``), bound to it in its metadata."""
        settings = self.settings.embedding

        def build(model: str) -> Embedder:
            return build_embedder(settings.model_copy(update={"model": model}))

        def build_variant(model: str, variant: str) -> Embedder:  # a collection built in another variant
            return build_embedder(settings.model_copy(update={"model": model, "quantize": variant == INT8_VARIANT}))

        return CollectionEmbedders(settings, self.store, build, default=self.embedder, build_variant=build_variant)

    @cached_property
    def sparse(self) -> BM25Encoder:
        return BM25Encoder()

    @cached_property
    def redactor(self) -> Redactor:
        from enclave_core.redaction import Redactor

        with self._lock:
            return Redactor.from_policy_file(self.settings.redaction_policy_path)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.store, self.embedder, self.sparse, self.settings.retrieval, embedders=self.embedders)

    @cached_property
    def data_key(self) -> bytes:
        """AES-256 key for data at rest: the pseudonym vault and staged uploads."""
        s = self.settings
        return load_vault_key(os.environ.get("ENCLAVE_VAULT_KEY"), s.vault_key_file, create=s.env != "production")

    @cached_property
    def vault(self) -> Vault:
        return Vault(self.settings.data_dir / "vault", self.data_key)

    @cached_property
    def pii(self) -> Pseudonymizer:
        from enclave_core.batching import MicroBatcher
        from enclave_core.pseudonymize import PiiPolicy, Pseudonymizer

        policy = PiiPolicy.from_file(self.settings.pii_policy_path)
        questions = MicroBatcher(self.redactor.detect_many)  # concurrent searches' questions: one NER pass
        return Pseudonymizer(self.redactor, self.vault, policy, detect_query=questions.submit)

    @cached_property
    def query_vectors(self) -> QueryVectors:
        """Query embeddings for the service's searches: batched across requests (and started early when
        idle, once the gateway has enabled it after loading its models)."""
        from enclave_core.query_vectors import QueryVectors

        queries = QueryVectors(self.retriever)
        self.on_close(queries.close)
        return queries

    @cached_property
    def access(self) -> AccessPolicy:
        return AccessPolicy.from_file(self.settings.access_policy_path)

    @cached_property
    def metrics(self) -> Metrics:
        """This instance's Prometheus instruments (its own registry; see enclave_core.metrics)."""
        from enclave_core.metrics import Metrics  # prometheus_client: not for a CLI search

        return Metrics()

    @cached_property
    def llm(self) -> LLMClient:
        from enclave_core.llm import LLMClient  # with httpx: only for commands that ask the model

        metrics = self.metrics
        return LLMClient(self.settings.llm, on_generation=metrics.generation, on_failure=metrics.generation_failed)

    @cached_property
    def audit(self) -> AuditLog:
        s = self.settings
        log = AuditLog(
            s.audit_dir,
            s.audit_signing_key,
            s.audit.checkpoint_every,
            max_field_chars=s.audit.max_field_chars,
            head_sync_after_s=s.audit.head_sync_s,
        )
        log.on_append.append(self.metrics.audit_written)
        return log

    def guard(self, text: str) -> tuple[str, dict[str, int]]:
        result = self.redactor.guard(text)
        self.metrics.redacted("answer", result.counts)
        return result.text, result.counts

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the core closes (before the store closes), e.g. to flush a summary."""
        self._closers.append(callback)

    def close(self) -> None:
        for callback in self._closers:
            try:
                callback()
            except Exception:  # closing must go on: the store still has to be closed
                log.exception("closing: %r failed", callback)
        if "store" in self.__dict__:
            self.store.close()
