from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile

from enclave_core.errors import DocumentTooLarge, InputError, NotFoundError, UnknownCollection
from enclave_core.retrieval import validate_collection_name
from ingest import SourceFile
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep, authorize
from services.gateway.schemas import AclUpdate, DocumentOut, DocumentsResponse, IngestResponse

router = APIRouter(tags=["documents"])


def _read_limited(upload: UploadFile, limit: int) -> bytes:
    """Read an upload into memory (never a temp file: it holds plaintext PII) up to ``limit`` bytes."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(f"{upload.filename}: larger than the {limit >> 20} MB upload limit")
    return data


def _groups(value: str) -> list[str]:
    groups = [g.strip() for g in value.split(",") if g.strip()]
    for g in groups:
        if len(g) > 128 or "\x00" in g:
            raise InputError(f"invalid group name {g[:40]!r}")
    return groups


@router.post("/v1/collections/{name}/documents", response_model=IngestResponse)
def upload_documents(
    name: str,
    request: Request,
    files: Annotated[list[UploadFile], File(description="one or more documents")],
    core: CoreDep,
    ingestor: IngestorDep,
    principal: CurrentPrincipal,
    groups: Annotated[str, Form(description="comma-separated groups allowed to read; '*' = everyone")] = "",
    paths: Annotated[list[str] | None, Form(description="relative path per file, in order")] = None,
) -> dict[str, object]:
    """Ingest uploaded files into a collection; each file succeeds or fails on its own."""
    validate_collection_name(name)
    authorize(core, principal, "write", name, request)
    limit = core.settings.gateway.max_upload_mb << 20
    if paths is not None and len(paths) != len(files):
        raise InputError("'paths' must give one relative path per uploaded file")
    sources: list[SourceFile] = []
    for i, upload in enumerate(files):
        source = (paths[i] if paths else None) or upload.filename or f"upload-{i}"
        if source.startswith("/") or ".." in source.split("/") or len(source) > 512:
            raise InputError(f"invalid source path '{source[:80]}'")
        sources.append(SourceFile(source, data=_read_limited(upload, limit)))
    acl = _groups(groups)
    report = ingestor.ingest(sources, name, acl)
    core.audit.append(
        "ingest",
        principal=principal.name,
        groups=sorted(principal.groups),
        collection=name,
        documents=[o.doc_id for o in report.outcomes if o.doc_id],
        acl=acl,
        policy_version=core.access.version,
        decision="allow",
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


def _document_out(d: object) -> dict[str, object]:
    return {
        "doc_id": d.doc_id,  # type: ignore[attr-defined]
        "source": d.source,  # type: ignore[attr-defined]
        "chunks": len(d.chunk_ids),  # type: ignore[attr-defined]
        "acl": list(d.acl),  # type: ignore[attr-defined]
        "ingested_at": d.ingested_at,  # type: ignore[attr-defined]
    }


@router.get("/v1/collections/{name}/documents", response_model=DocumentsResponse)
def list_documents(
    name: str, request: Request, core: CoreDep, ingestor: IngestorDep, principal: CurrentPrincipal
) -> dict[str, object]:
    """Documents of a collection whose ACL lets the caller read them."""
    validate_collection_name(name)
    authorize(core, principal, "read", name, request)
    if not core.store.collection_exists(name):
        raise UnknownCollection(name)
    visible = principal.groups | {"*"}
    docs = [d for d in ingestor.manifest.documents(name) if principal.is_admin or visible.intersection(d.acl)]
    return {"collection": name, "documents": [_document_out(d) for d in docs]}


@router.put("/v1/collections/{name}/documents/{doc_id}/acl", response_model=DocumentOut)
def set_document_acl(
    name: str,
    doc_id: str,
    body: AclUpdate,
    request: Request,
    core: CoreDep,
    ingestor: IngestorDep,
    principal: CurrentPrincipal,
) -> dict[str, object]:
    """Change who may read a document: updates its chunks' payloads in place (no re-embedding)."""
    validate_collection_name(name)
    authorize(core, principal, "admin", name, request)
    record = ingestor.set_acl(name, doc_id, _groups(",".join(body.groups)))
    core.audit.append(
        "acl.change",
        principal=principal.name,
        groups=sorted(principal.groups),
        collection=name,
        documents=[doc_id],
        acl=list(record.acl),
        policy_version=core.access.version,
        decision="allow",
        outcome="ok",
    )
    return _document_out(record)


@router.delete("/v1/collections/{name}/documents/{doc_id}")
def delete_document(
    name: str,
    doc_id: str,
    request: Request,
    core: CoreDep,
    ingestor: IngestorDep,
    principal: CurrentPrincipal,
) -> dict[str, object]:
    """Remove a document's chunks and vectors."""
    validate_collection_name(name)
    authorize(core, principal, "admin", name, request)
    if ingestor.manifest.get(name, doc_id) is None:
        raise NotFoundError(f"no document '{doc_id}' in collection '{name}'")
    removed = ingestor.delete_document(name, doc_id)
    core.audit.append(
        "delete",
        principal=principal.name,
        groups=sorted(principal.groups),
        collection=name,
        documents=[doc_id],
        chunks_removed=removed,
        policy_version=core.access.version,
        decision="allow",
        outcome="ok",
    )
    return {"doc_id": doc_id, "chunks_removed": removed}
