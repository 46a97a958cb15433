"""After ingesting the internal corpus, no planted personal value is anywhere under the data
directory: store segments and WAL, manifest, job journal, vault, audit log, caches.

The planted values are the ones listed in ``tests/fixtures/internal_corpus/manifest.yaml``
(internal e-mail domains, staff numbers, dates of birth, national ids, chat and log records).
The scan reads every file's bytes for the value as UTF-8, JSON-escaped and case-folded
(``ingest.erasure.find_plaintext``). The collection uses the default mode, pseudonymize, whose
originals are kept, encrypted, in the vault: the strictest case for a scan of the disk.
"""

from __future__ import annotations

from typing import Any

import yaml

from ingest import Ingestor, SourceFile
from ingest.erasure import find_plaintext
from tests.conftest import REPO

INTERNAL = REPO / "tests" / "fixtures" / "internal_corpus"
MANIFEST: dict[str, list[str]] = yaml.safe_load((INTERNAL / "manifest.yaml").read_text(encoding="utf-8"))["documents"]


def test_no_planted_value_in_plaintext_under_the_data_directory(core: Any) -> None:
    collection = "internal"
    ingestor = Ingestor(core)
    files = [SourceFile(name, data=(INTERNAL / name).read_bytes()) for name in sorted(MANIFEST)]
    report = ingestor.ingest(files, collection, ["*"])
    ingestor.manifest.close()
    assert not report.failed, report.failed
    assert core.store.count(collection) > len(files)  # every file gave chunks: the scan is not vacuous
    values = sorted({str(v) for vs in MANIFEST.values() for v in vs})
    leaks = {v: find_plaintext(core.settings.data_dir, [v]) for v in values}
    assert {v: where for v, where in leaks.items() if where} == {}
