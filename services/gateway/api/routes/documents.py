from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from enclave_core.errors import DocumentTooLarge, InputError, UnknownCollection
from enclave_core.retrieval import validate_collection_name
from ingest import SourceFile
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep
from services.gateway.schemas import DocumentsResponse, IngestResponse

router = APIRouter(tags=["documents"])


def _read_limited(upload: UploadFile, limit: int) -> bytes:
    """Read an upload into memory (never a temp file: it holds plaintext PII) up to ``limit`` bytes."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(f"{upload.filename}: larger than the {limit >> 20} MB upload limit")
    return data


@router.post("/v1/collections/{name}/documents", response_model=IngestResponse)
def upload_documents(
    name: str,
    files: Annotated[list[UploadFile], File(description="one or more documents")],
    core: CoreDep,
    ingestor: IngestorDep,
    principal: CurrentPrincipal,
    groups: Annotated[str, Form(description="comma-separated groups allowed to read")] = "",
    paths: Annotated[list[str] | None, Form(description="relative path per file, in order")] = None,
) -> dict[str, object]:
    """Ingest uploaded files into a collection; each file succeeds or fails on its own."""
    validate_collection_name(name)
    limit = core.settings.gateway.max_upload_mb << 20
    if paths is not None and len(paths) != len(files):
        raise InputError("'paths' must give one relative path per uploaded file")
    sources: list[SourceFile] = []
    for i, upload in enumerate(files):
        source = (paths[i] if paths else None) or upload.filename or f"upload-{i}"
        if source.startswith("/") or ".." in source.split("/"):
            raise InputError(f"invalid source path '{source}'")
        sources.append(SourceFile(source, data=_read_limited(upload, limit)))
    acl = [g.strip() for g in groups.split(",") if g.strip()]
    report = ingestor.ingest(sources, name, acl)
    core.audit.append(
        "ingest",
        principal=principal.name,
        groups=sorted(principal.groups),
        collection=name,
        documents=[o.doc_id for o in report.outcomes if o.doc_id],
        acl=acl,
        outcome="ok" if not report.failed else "partial",
        files=[{"doc_id": o.doc_id, "status": o.status, "chunks": o.chunks} for o in report.outcomes],
        redactions=_sum_counts([o.redactions for o in report.outcomes]),
        latency_ms=round(report.seconds * 1000, 1),
    )
    return {
        "collection": name,
        "ingested": report.count("ingested"),
        "unchanged": report.count("unchanged"),
        "failed": report.count("failed"),
        "chunks": report.chunks,
        "files": [
            {"source": o.source, "status": o.status, "doc_id": o.doc_id, "chunks": o.chunks, "error": o.error}
            for o in report.outcomes
        ],
    }


def _sum_counts(counts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return total


@router.get("/v1/collections/{name}/documents", response_model=DocumentsResponse)
def list_documents(
    name: str, core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal
) -> dict[str, object]:
    validate_collection_name(name)
    if not core.store.collection_exists(name):
        raise UnknownCollection(name)
    visible = principal.groups
    docs = [d for d in ingestor.manifest.documents(name) if principal.is_admin or visible.intersection(d.acl)]
    return {
        "collection": name,
        "documents": [
            {
                "doc_id": d.doc_id,
                "source": d.source,
                "chunks": len(d.chunk_ids),
                "acl": list(d.acl),
                "ingested_at": d.ingested_at,
            }
            for d in docs
        ],
    }
