"""Japanese documents in the three office encodings (CP932, EUC-JP, UTF-8) go through ingest; no
planted personal value (names in kanji, kana and romaji, My Number, phones in half- and full-width
digits, addresses, a bank account, a birth date in 和暦, e-mail) remains in plaintext anywhere under the
data directory. The 法人番号 (a company's public number) is not personal and stays searchable."""

from __future__ import annotations

from typing import Any

from ingest import Ingestor, SourceFile
from ingest.erasure import find_plaintext
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "japanese_pii"
PLANTED = [
    "高橋 美咲",
    "タカハシ ミサキ",
    "平成2年7月15日",
    "中央3丁目4番5号",
    "080-4521-7736",
    "4821 6730 5916",
    "3045721",
    "中村 健太",
    "06-6345-2218",
    "梅田2丁目1番3号",
    "k.nakamura@example.jp",
    "佐々木 陽介",
    "Yosuke Sasaki",
    "090-3318-6042",
    "鈴木 彩花",
    "ayaka.suzuki@example.co.jp",
    "渡辺 大輔",
    "０３－５５１２－８８０３",
]


def test_japanese_planted_values_never_reach_the_disk(core: Any) -> None:
    collection = "japanese"
    ingestor = Ingestor(core)
    files = [SourceFile(p.name, data=p.read_bytes()) for p in sorted(FIXTURES.iterdir())]
    report = ingestor.ingest(files, collection, ["*"])
    ingestor.manifest.close()
    assert not report.failed, report.failed
    assert core.store.count(collection) >= len(files)
    leaks = {v: find_plaintext(core.settings.data_dir, [v]) for v in PLANTED}
    assert {v: where for v, where in leaks.items() if where} == {}
    assert find_plaintext(core.settings.data_dir, ["9120001077391"])  # 法人番号 kept: the scan can see text
