"""Bulk ingest with the personal-data detection in child processes (ingest/analysis_pool.py).

It must store what the in-process path stores (pseudonym numbers aside: the path names of the
next batches get theirs earlier), report files in their order, batch after batch, and carry on
in-process when a child is lost.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import ingest.pipeline
from enclave_core.regex_cache import RegexCache, regex_cache_key, regex_cache_path
from ingest import Ingestor
from ingest.analysis_pool import AnalysisPool
from ingest.pipeline import SourceFile

PLANTED = ["Jane Doe", "jane.doe", "Karl Weber", "202 555"]


def _files() -> list[SourceFile]:
    return [
        SourceFile(
            f"people/Jane Doe {i}.txt",
            data=(
                f"Visit report {i}\n\nJane Doe (jane.doe{i}@example.com) met Dr. Karl Weber in Berlin on "
                f"3 March 2024 about the numbat enclosure; call +1 202 555 01{i:02d}."
            ).encode(),
        )
        for i in range(7)
    ]


def _ingestor(core: Any, processes: int) -> Ingestor:
    ingestor = Ingestor(core, batch_docs=2, analysis_processes=processes)
    settings = ingestor.settings
    ingestor.settings = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"analysis_min_files": 1})}
    )
    return ingestor


def _stored(core: Any, collection: str) -> list[tuple[str, str]]:
    """(source, text) of every chunk, pseudonym numbers dropped (``<PERSON_3>`` -> ``<PERSON>``)."""
    points = core.store.iter_points(collection)
    rows = [(p.payload["source"], p.payload["text"]) for p in points]
    return sorted((re.sub(r"_\d+>", ">", s), re.sub(r"_\d+>", ">", t)) for s, t in rows)


def _run(core: Any, processes: int, collection: str) -> tuple[list[Any], list[str]]:
    order: list[str] = []
    report = _ingestor(core, processes).ingest(_files(), collection, ["ops"], progress=lambda o: order.append(o.doc_id))
    return report.outcomes, order


def test_children_store_what_the_ingest_process_stores(core: Any) -> None:
    alone, alone_order = _run(core, 0, "alone")
    pooled, pooled_order = _run(core, 1, "pooled")
    assert [o.status for o in pooled] == ["ingested"] * 7
    assert [(o.chunks, o.redactions) for o in pooled] == [(o.chunks, o.redactions) for o in alone]
    stored = _stored(core, "pooled")
    assert stored == _stored(core, "alone")
    assert not [v for v in PLANTED for s, t in stored if v in s or v in t]
    # Files are reported in order (the job journal marks them done as they come).
    ids = [ingest.pipeline.document_id("pooled", f.source, ["ops"], core.data_key) for f in _files()]
    assert pooled_order == ids and len(alone_order) == 7
    # One person, one pseudonym, across batches and between paths and text.
    names = {m for p in core.store.iter_points("pooled") for m in re.findall(r"<PERSON_\d+>", p.payload["source"])}
    assert len(names) == 1 and all(next(iter(names)) in p.payload["text"] for p in core.store.iter_points("pooled"))


def test_a_lost_child_leaves_the_detection_to_the_ingest_process(
    core: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class Broken(AnalysisPool):  # a child that cannot start, as when it is killed for memory
        def __init__(self, policy_path: Path, processes: int, **options: Any) -> None:
            super().__init__(tmp_path / "no-such-policy.yaml", processes, **options)

    monkeypatch.setattr(ingest.pipeline, "AnalysisPool", Broken)
    outcomes, _ = _run(core, 1, "fallback")
    assert [o.status for o in outcomes] == ["ingested"] * 7
    assert all(o.redactions for o in outcomes)
    assert not [v for v in PLANTED for s, t in _stored(core, "fallback") if v in s or v in t]


def _start_children(policy: Path, cache: Path, key: bytes) -> None:
    pool = AnalysisPool(policy, 2, regex_cache=cache, regex_cache_key=key)
    try:
        done = pool.submit("redact", ["Ms Quokkarina called"]).result()
        assert "Quokkarina" not in done[0].text  # type: ignore[union-attr]  # the deny list is in force
    finally:
        pool.close()


def test_children_share_the_compiled_patterns_without_deny_list_terms(core: Any, tmp_path: Path) -> None:
    """The first children write the regex cache, later ones only read it; no deny-list pattern in it."""
    policy = tmp_path / "redaction.yaml"
    text = core.settings.redaction_policy_path.read_text()
    assert "deny_list: []" in text
    policy.write_text(text.replace("deny_list: []", 'deny_list:\n  - entity: PERSON\n    terms: ["Quokkarina"]'))
    cache = regex_cache_path(tmp_path / "data")
    key = regex_cache_key(core.data_key)
    _start_children(policy, cache, key)
    written = cache.stat()
    entries = RegexCache(cache, lambda pattern: False, key=key)._entries
    assert len(entries) > 100  # the analyzer's patterns
    assert not [p for p, _, _ in entries if "quokkarina" in p.casefold()]
    _start_children(policy, cache, key)  # every compile served from the file: nothing new to write
    assert (cache.stat().st_mtime_ns, cache.stat().st_ino) == (written.st_mtime_ns, written.st_ino)
