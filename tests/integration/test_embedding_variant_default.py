"""A collection built with float32 vectors keeps being embedded in float32, for ingest and for queries,
after the settings choose int8 (``embedding.quantize``), with the real ONNX embedders and store."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from enclave_core.embedding.registry import VARIANT_KEY, variant_of
from enclave_core.runtime import Core
from enclave_core.settings import Settings
from enclave_core.vectorstore.base import AccessScope
from ingest import Ingestor, SourceFile
from tests.conftest import make_settings

DOCS = {
    "aspirin.txt": "Aspirin lowers the risk of a second heart attack in patients with stable angina.",
    "vitamin.txt": "Vitamin D supplements did not change bone density in healthy adults over two years.",
    "folding.txt": "Chaperone proteins help newly made proteins fold into their working shape.",
}


def _settings(data: Path, quantize: bool) -> Settings:
    return make_settings(data, ENCLAVE_EMBEDDING__BACKEND="onnx", ENCLAVE_EMBEDDING__QUANTIZE=str(quantize).lower())


def _ingest(core: Core, names: list[str]) -> None:
    files = [SourceFile(name, data=DOCS[name].encode()) for name in names]
    report = Ingestor(core, analysis_processes=0).ingest(files, "papers", redact=False)
    assert [o.status for o in report.outcomes] == ["ingested"] * len(names)


def _search(core: Core) -> list[tuple[str, float]]:
    hits = core.retriever.search("papers", "heart attack prevention", AccessScope.unrestricted(), 3, "dense")
    return [(h.source, h.score) for h in hits]


def test_a_float32_collection_stays_float32_when_the_settings_choose_int8(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = Core(_settings(data, quantize=False))
    try:
        _ingest(old, ["aspirin.txt", "vitamin.txt"])
        before = _search(old)
        float32_query = old.embedder.embed_query("heart attack prevention")
    finally:
        old.close()

    new = Core(_settings(data, quantize=True))
    try:
        assert variant_of(new.embedder) == "onnx-int8"  # what a new collection would get
        kept = new.embedders.check("papers")
        assert variant_of(kept) == "float32"
        assert np.array_equal(kept.embed_query("heart attack prevention"), float32_query)
        assert new.store.collection_metadata("papers")[VARIANT_KEY] == "float32"
        after = _search(new)
        assert [s for s, _ in after] == [s for s, _ in before]
        assert np.allclose([x for _, x in after], [x for _, x in before], atol=1e-6)
        _ingest(new, ["folding.txt"])  # more documents: float32 vectors too, the record unchanged
        assert new.store.collection_metadata("papers")[VARIANT_KEY] == "float32"
        assert variant_of(new.embedders.check("papers")) == "float32"
        found = new.retriever.search("papers", "how proteins fold", AccessScope.unrestricted(), 1, "dense")
        assert found[0].source == "folding.txt"
    finally:
        new.close()


def test_the_evidence_step_of_a_float32_collection_scores_in_float32(tmp_path: Path) -> None:
    """Refusal thresholds were calibrated per variant: under int8 settings a float32 collection's
    question and sentences must still be embedded in float32 for the evidence check."""
    from enclave_core.service import RagService

    data = tmp_path / "data"
    old = Core(_settings(data, quantize=False))
    try:
        _ingest(old, ["aspirin.txt", "vitamin.txt"])
    finally:
        old.close()
    checked = _settings(data, quantize=True)
    new = Core(checked.model_copy(update={"answers": checked.answers.model_copy(update={"check_evidence": True})}))
    try:
        grounder = RagService(new)._grounder("papers")
        assert grounder is not None
        assert variant_of(grounder.scorer._embedder) == "float32"
    finally:
        new.close()
