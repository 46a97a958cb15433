"""Batch journal writes: the same rows as one call per document, in one transaction each."""

from __future__ import annotations

from pathlib import Path

from ingest.manifest import Manifest


def test_begin_many_and_put_many_match_the_single_document_calls(tmp_path: Path) -> None:
    single, batch = Manifest(tmp_path / "a.sqlite"), Manifest(tmp_path / "b.sqlite")
    docs = [("d1", "a.txt", "sha1", ["p1", "p2"]), ("d2", "b.txt", "sha2", ["p3"])]
    for doc_id, _, _, ids in docs:
        single.begin("c", doc_id, ids)
    batch.begin_many("c", [(doc_id, ids) for doc_id, _, _, ids in docs])
    assert (
        [single.pending("c", d[0]) for d in docs]
        == [batch.pending("c", d[0]) for d in docs]
        == [
            {"p1", "p2"},
            {"p3"},
        ]
    )
    for doc_id, source, sha, ids in docs:
        single.put("c", doc_id, source, sha, ids, ["g"])
    batch.put_many("c", [(doc_id, source, sha, ids, ["g"]) for doc_id, source, sha, ids in docs])
    for m in (single, batch):
        assert [m.pending("c", d[0]) for d in docs] == [set(), set()]  # commit markers clear pending rows
    strip = lambda rows: [(r.doc_id, r.source, r.content_sha256, r.chunk_ids, r.acl) for r in rows]  # noqa: E731
    assert strip(single.documents("c")) == strip(batch.documents("c"))
    single.close()
    batch.close()
