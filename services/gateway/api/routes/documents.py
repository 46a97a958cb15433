from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from enclave_core.audit import AuditEvent, write_event
from enclave_core.errors import InputError, NotFoundError, UnknownCollection
from enclave_core.retrieval import validate_collection_name
from enclave_core.service import RagService
from ingest.pipeline import validate_groups
from services.gateway.bodyguard import MultipartUpload, UploadLimits
from services.gateway.deps import CoreDep, CurrentPrincipal, IngestorDep, JobsDep, authorize
from services.gateway.schemas import AclUpdate, DocumentOut, DocumentsResponse, IngestResponse, JobAccepted

router = APIRouter(tags=["documents"])


def _groups(value: str) -> list[str]:
    groups = [g.strip() for g in value.split(",") if g.strip()]
    for g in groups:
        if len(g) > 128 or "\x00" in g:
            raise InputError(f"invalid group name {g[:40]!r}")
    return groups


# The body is parsed by MultipartUpload as it streams in (not by File/Form parameters, which
# read it whole, into a temp file, before the caller is even authenticated): documented here.
_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "title": "Upload",
                "type": "object",
                "required": ["files"],
                "properties": {
                    "files": {
                        "type": "array",
                        "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                        "description": "one or more documents",
                    },
                    "groups": {
                        "type": "string",
                        "default": "",
                        "description": "comma-separated groups allowed to read; '*' = everyone",
                    },
                    "paths": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "relative path per file, in order",
                    },
                },
            }
        }
    },
}


@router.post(
    "/v1/collections/{name}/documents",
    response_model=IngestResponse,
    responses={
        202: {"model": JobAccepted, "description": "with wait=false: queued as a job"},
        413: {"description": "over an upload limit: per file, files per upload, or in all"},
    },
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_documents(
    name: str,
    request: Request,
    core: CoreDep,
    jobs: JobsDep,
    principal: CurrentPrincipal,
    wait: Annotated[bool, Query(description="false: return 202 with a job id at once")] = True,
) -> Any:
    """Ingest uploaded files as a job; each file succeeds or fails on its own.

    Multipart fields: ``files`` (one or more), ``groups`` (comma-separated groups allowed to
    read; ``*`` = everyone), ``paths`` (a relative path per file, in order). The files are
    streamed into the encrypted staging area as they arrive, within the upload limits (413 at
    the first byte over one). The job is journaled before any work starts, so a crash resumes
    it on restart. ``wait=true`` (default) answers when it is done; ``wait=false`` answers 202
    with ``job_id`` to poll at ``GET /v1/jobs/{job_id}``.
    """
    validate_collection_name(name)
    await run_in_threadpool(authorize, core, principal, "write", name, request)  # before the body is read
    limits = UploadLimits.from_settings(core.settings.gateway)
    upload = MultipartUpload(jobs.staging, request.headers.get("content-type", ""), limits)
    try:
        async for chunk in request.stream():
            await run_in_threadpool(upload.feed, chunk)
        upload.finish()
        paths = upload.paths
        if paths is not None and len(paths) != len(upload.filenames):
            raise InputError("'paths' must give one relative path per uploaded file")
        sources: list[str] = []
        for i, filename in enumerate(upload.filenames):
            source = (paths[i] if paths else None) or filename or f"upload-{i}"
            if source.startswith("/") or ".." in source.split("/") or len(source) > 512 or not source.isprintable():
                raise InputError(f"invalid source path {source[:80]!r}")
            sources.append(source)
        acl = validate_groups(_groups(upload.groups))
        replace = await run_in_threadpool(RagService(core).authorize_upload, principal, name, acl, request.url.path)
        files = list(zip(sources, upload.sha256s, strict=True))
        job_id = await run_in_threadpool(
            jobs.submit_staged, name, acl, principal.key, upload.stage_id, files, may_replace=replace
        )
    except BaseException:
        upload.discard()  # a refused or broken upload leaves nothing staged
        raise
    if not wait:
        jobs.enqueue(job_id)
        body = {"job_id": job_id, "status": "queued", "status_url": f"/v1/jobs/{job_id}"}
        return JSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{job_id}"})
    job = await run_in_threadpool(jobs.run, job_id)
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
    if job["principal"] != principal.key and not principal.is_admin:
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
    if not docs and not principal.is_admin:
        raise UnknownCollection(name)  # nothing readable: answered as an unknown one (no existence probe)
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
    event = AuditEvent.by(
        principal,
        "acl.change",
        "ok",
        via="api",
        collection=name,
        decision="allow",
        policy_version=core.access.version,
        documents=[doc_id],
        acl=list(record.acl),
    )
    write_event(core.audit, event)
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
    event = AuditEvent.by(
        principal,
        "delete",
        "ok",
        via="api",
        collection=name,
        decision="allow",
        policy_version=core.access.version,
        documents=[doc_id],
        chunks_removed=removed,
    )
    write_event(core.audit, event)
    return {"doc_id": doc_id, "chunks_removed": removed}
