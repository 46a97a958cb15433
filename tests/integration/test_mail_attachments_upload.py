"""Mail attachments in uploads: an e-mail uploaded through the REST API (an ingestion job) or
ingested by `enclave ingest` brings its attachments as child documents with the message's
readers; the job finishes (a child's outcome has no upload row of its own)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

from enclave_core.identity import LOCAL_ADMIN, Principal
from enclave_core.service import RagService
from ingest import Ingestor
from ingest.admin import AdminService
from ingest.pipeline import SourceFile, whole_groups
from tests.integration.conftest import Gateway


def _mail(marker: str) -> bytes:
    message = EmailMessage()
    message["From"] = "rota@example.org"
    message["Subject"] = "Keeper rota"
    message.set_content("The rota for next month is attached.")
    rota = f"Rota: the {marker} enclosure is cleaned on Fridays."
    message.add_attachment(rota.encode(), maintype="text", subtype="plain", filename="rota.txt")
    return message.as_bytes()


def test_uploaded_mail_brings_its_attachment_with_its_readers(gateway: Gateway) -> None:
    with gateway.client("hr") as client:
        files = [("files", ("rota.eml", _mail("wombat")))]
        response = client.post("/v1/collections/hr-only/documents", files=files, data={"groups": "hr"})
        assert response.status_code == 200, response.text
        assert response.json()["ingested"] == 1 and response.json()["failed"] == 0
        found = client.post("/v1/search", json={"question": "wombat enclosure cleaning", "collection": "hr-only"})
        assert found.status_code == 200, found.text
        assert "rota.eml/rota.txt" in {c["source"] for c in found.json()["citations"]}
    with gateway.client("hradmin") as admin:
        listing = admin.get("/v1/collections/hr-only/documents")
        assert listing.status_code == 200, listing.text
        child = next(d for d in listing.json()["documents"] if d["source"] == "rota.eml/rota.txt")
        assert child["acl"] == ["hr"]
    with gateway.client("eng") as outsider:
        hidden = outsider.post("/v1/search", json={"question": "wombat enclosure cleaning", "collection": "hr-only"})
        assert hidden.status_code in (403, 404) or "rota.eml/rota.txt" not in hidden.text


def test_cli_ingest_brings_the_attachment(core: Any, tmp_path: Path) -> None:
    (tmp_path / "rota.eml").write_bytes(_mail("numbat"))
    admin = AdminService(core, Ingestor(core), via="cli")
    seen: list[str] = []
    report = admin.ingest_paths(LOCAL_ADMIN, [tmp_path], "mail", ["ops"], False, lambda o: seen.append(o.source))
    assert report["ingested"] == 2 and "rota.eml/rota.txt" in seen
    reader = Principal(name="r", groups=frozenset({"ops"}), auth="api-key", subject="r")
    hits = RagService(core).search(reader, "mail", "numbat enclosure", top_k=3)
    assert any(h.source == "rota.eml/rota.txt" for h in hits)


def test_a_message_and_its_attachments_are_never_split_across_batches(core: Any, monkeypatch: Any) -> None:
    # A job journals a file as done once its batch is stored: were the attachment in the next batch,
    # a crash in between would resume the job without it.
    ingestor = Ingestor(core, batch_docs=1)
    batches: list[list[str]] = []
    real = ingestor._ingest_batch

    def recording(batch: Any, *args: Any) -> Any:
        batches.append([f.source for f in batch])
        return real(batch, *args)

    monkeypatch.setattr(ingestor, "_ingest_batch", recording)
    files = [SourceFile("a.txt", data=b"The aardvark pen is swept daily.")]
    files.append(SourceFile("rota.eml", data=_mail("quokka")))
    files.append(SourceFile("z.txt", data=b"The zebra paddock is raked weekly."))
    report = ingestor.ingest(files, "batches", ["ops"], attachments=True)
    assert [o.status for o in report.outcomes] == ["ingested"] * 4
    assert batches == [["a.txt"], ["rota.eml", "rota.eml/rota.txt"], ["z.txt"]]


def test_whole_groups_packs_groups_without_splitting_them() -> None:
    def files(*names: str) -> list[SourceFile]:
        return [SourceFile(n, data=b"x") for n in names]

    groups = [files("a"), files("m", "m/1", "m/2"), files("b"), files("c")]
    packed = [[f.source for f in batch] for batch in whole_groups(groups, 2)]
    assert packed == [["a"], ["m", "m/1", "m/2"], ["b", "c"]]
    assert whole_groups([], 4) == []
