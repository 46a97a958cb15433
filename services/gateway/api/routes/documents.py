from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from enclave_core.errors import DocumentTooLarge, InputError, NotFoundError, UnknownCollection
from enclave_core.retrieval import validate_collection_name
from ingest.pipeline import validate_groups
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep, JobsDep, authorize
from services.gateway.schemas import AclUpdate, DocumentOut, DocumentsResponse, IngestResponse, JobAccepted

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


@router.post(
    "/v1/collections/{name}/documents",
    response_model=IngestResponse,
    responses={202: {"model": JobAccepted, "description": "with wait=false: queued as a job"}},
)
def upload_documents(
    name: str,
    request: Request,
    files: Annotated[list[UploadFile], File(description="one or more documents")],
    core: CoreDep,
    jobs: JobsDep,
    principal: CurrentPrincipal,
    groups: Annotated[str, Form(description="comma-separated groups allowed to read; '*' = everyone")] = "",
    paths: Annotated[list[str] | None, Form(description="relative path per file, in order")] = None,
    wait: Annotated[bool, Query(description="false: return 202 with a job id at once")] = True,
) -> Any:
    """Ingest uploaded files as a job; each file succeeds or fails on its own.

    The job and its (encrypted) files are journaled before any work starts, so a crash resumes
    it on restart. ``wait=true`` (default) answers when it is done; ``wait=false`` answers 202
    with ``job_id`` to poll at ``GET /v1/jobs/{job_id}``.
    """
    validate_collection_name(name)
    authorize(core, principal, "write", name, request)
    limit = core.settings.gateway.max_upload_mb << 20
    if paths is not None and len(paths) != len(files):
        raise InputError("'paths' must give one relative path per uploaded file")
    staged: list[tuple[str, bytes]] = []
    for i, upload in enumerate(files):
        source = (paths[i] if paths else None) or upload.filename or f"upload-{i}"
        if source.startswith("/") or ".." in source.split("/") or len(source) > 512 or not source.isprintable():
            raise InputError(f"invalid source path {source[:80]!r}")
        staged.append((source, _read_limited(upload, limit)))
    acl = validate_groups(_groups(groups))
    job_id = jobs.submit(name, acl, principal.name, staged)
    if not wait:
        jobs.enqueue(job_id)
        body = {"job_id": job_id, "status": "queued", "status_url": f"/v1/jobs/{job_id}"}
        return JSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{job_id}"})
    job = jobs.run(job_id)
    return _job_report(job)


def _job_report(job: dict[str, Any]) -> dict[str, Any]:
    files = job["files"]
    return {
        "job_id": job["job_id"],
        "status": job["status"],
        "collection": job["collection"],
        "ingested": sum(f["status"] == "ingested" for f in files),
        "unchanged": sum(f["status"] == "unchanged" for f in files),
        "failed": sum(f["status"] == "failed" for f in files),
        "chunks": sum(f["chunks"] for f in files),
        "files": files,
    }


@router.get("/v1/jobs/{job_id}", response_model=IngestResponse)
def get_job(job_id: str, jobs: JobsDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """State and per-file progress of an ingestion job (its owner and admins only)."""
    if len(job_id) > 64:
        raise NotFoundError("no such job")
    job = jobs.journal.get(job_id)
    if job["principal"] != principal.name and not principal.is_admin:
        raise NotFoundError(f"no job '{job_id}'")  # do not confirm that someone else's job exists
    return {**_job_report(job), "progress": job["progress"]}


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
