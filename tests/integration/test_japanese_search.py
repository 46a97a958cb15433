"""Two Japanese documents through the real ingest (loader, chunker, multilingual embedding, Qdrant edge)
and the real Retriever: a Japanese question in everyday words finds the right one. No LLM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from enclave_core.embedding.registry import EmbeddingModelMismatch
from enclave_core.runtime import Core
from enclave_core.vectorstore.base import AccessScope
from ingest import Ingestor, SourceFile
from tests.conftest import make_settings

LEAVE = """# 年次有給休暇の規程

入社日から6か月間継続して勤務し、所定労働日の8割以上出勤した従業員には、10日の年次有給休暇を与える。
取得しなかった年次有給休暇は翌年度に限り繰り越すことができる。
"""
EXPENSES = """# 経費精算の規程

経費の精算は、支出した日が属する月の翌月10日までに経費精算システムで申請しなければならない。
承認された立替金は、毎月25日に給与振込口座へ振り込む。
"""


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    data: Path = tmp_path_factory.mktemp("ja-search")
    settings = make_settings(data)
    embedding = settings.embedding.model_copy(update={"collections": {"*-ja": "packaged:multilingual-e5-small"}})
    settings = settings.model_copy(update={"embedding": embedding})
    c = Core(settings)
    files = [
        SourceFile("leave.md", data=LEAVE.encode("utf-8")),
        SourceFile("expenses.txt", data=EXPENSES.encode("shift_jis")),
    ]
    report = Ingestor(c).ingest(files, "rules-ja", ["*"], redact=False)
    assert report.count("ingested") == 2, [o.error for o in report.failed]
    yield c
    c.close()


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("入社して半年たつと有給休暇は何日もらえますか", "leave.md"),
        ("立て替えたお金の精算はいつまでに申請すればいいですか", "expenses.txt"),
    ],
)
def test_a_japanese_question_finds_its_document(core: Core, question: str, source: str, mode: str) -> None:
    citations = core.retriever.search("rules-ja", question, AccessScope.unrestricted(), top_k=2, mode=mode)
    assert citations and citations[0].source == source


def test_the_japanese_collection_is_bound_to_the_multilingual_model(core: Core) -> None:
    meta = core.store.collection_metadata("rules-ja")
    # The ONNX Runtime engine (e5_onnx) records the same model as the wheel's C engine: same vectors.
    assert meta["embedding_model"] == "multilingual-e5-small-q4" and meta["embedding_dimension"] == 384
    english = core.embedders.embedder_for("rules")
    assert english.model_id == "all-MiniLM-L6-v2"
    # Settings that would now give this collection MiniLM are refused, not silently mixed.
    switched = core.settings.embedding.model_copy(update={"collections": {}})
    core.embedders._settings = switched  # simulate a settings change on restart
    try:
        with pytest.raises(EmbeddingModelMismatch):
            core.retriever.search("rules-ja", "有休", AccessScope.unrestricted())
    finally:
        core.embedders._settings = core.settings.embedding
