"""Attack (security review F1): a Japanese document carries an English contact line, and a question
mixes an English name and a UK phone number into Japanese. Text that reads as Japanese used to go to
the Japanese engine only, which knows neither English names nor US/UK phone formats nor the SSN, so
the contact line was indexed in clear and the question reached the embedder and the audit in clear.

Through the real gateway over HTTP (upload route, then ``/v1/search``), with the real Presidio
engines (spaCy and GiNZA), the ONNX embedder and the embedded store: no planted value may be in
plaintext anywhere under the data directory (store, manifest, vault, audit), nor in a citation, nor
in the search's audit record. Before the fix the phones, the SSN and the name were in the store.
"""

from __future__ import annotations

import json

from ingest.erasure import find_plaintext
from tests.integration.conftest import Gateway, read_audit, upload

COLLECTION = "shared"
NAME = "Liam O'Brien"
PLANTED = [
    "O'Brien",
    "+1 (415) 555-0132",
    "555-0132",
    "415-555-0199",
    "078-05-1120",
    "liam.obrien@example.com",
    "+44 20 7946 0958",
    "7946 0958",
]
DOCUMENT = (
    "# 海外取引先の連絡先\n\n"
    "ロンドン支社との契約更新について、担当者の連絡先を以下に記載します。ご不明な点がございましたら、"
    "総務部までお問い合わせください。\n"
    f"Contact: Mr. {NAME}, phone +1 (415) 555-0132 or 415-555-0199, SSN 078-05-1120, "
    "e-mail liam.obrien@example.com, UK office +44 20 7946 0958\n"
    "Topic: renewal of the lease contract for the second floor\n"
    "以上、よろしくお願いいたします。契約書の原本は総務部で保管しています。\n"
)
QUESTION = f"{NAME} の電話番号 +44 20 7946 0958 は？"


def test_english_contact_line_in_japanese_text_never_reaches_store_citations_or_audit(gateway: Gateway) -> None:
    with gateway.client("admin") as admin:
        report = upload(admin, COLLECTION, {"london-contacts.md": DOCUMENT}, "*")
    assert report["ingested"] == 1, report
    data = gateway.settings.data_dir
    assert find_plaintext(data, ["renewal of the lease contract"])  # the chunk is on disk: the scan can see it

    with gateway.client("hr") as c:
        response = c.post("/v1/search", json={"question": QUESTION, "collection": COLLECTION, "top_k": 10})
    assert response.status_code == 200, response.text
    body = response.text
    assert "renewal of the lease contract" in body  # the document was found: its citation is checked too
    record = [r for r in read_audit(gateway.settings) if r["action"] == "search"][-1]
    audited = json.dumps(record, ensure_ascii=False)
    assert [v for v in PLANTED if v in body or v in audited] == []
    leaks = {v: find_plaintext(data, [v]) for v in PLANTED}
    assert {v: where for v, where in leaks.items() if where} == {}
