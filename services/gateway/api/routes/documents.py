from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from enclave_core.errors import InputError
from enclave_core.retrieval import validate_collection_name
from ingest.pipeline import validate_groups
from services.gateway.bodyguard import MultipartUpload, UploadLimits
from services.gateway.deps import AdminDep, CoreDep, CurrentPrincipal, JobsDep, authorize
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
    admin: AdminDep,
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
        files = list(zip(sources, upload.sha256s, strict=True))
        job_id = await run_in_threadpool(
            admin.submit_upload, principal, name, acl, upload.stage_id, files, request.url.path
        )
    except BaseException:
        upload.discard()  # a refused or broken upload leaves nothing staged
        raise
    report = await run_in_threadpool(lambda: admin.run_job(job_id, wait=wait))
    if report is None:
        body = {"job_id": job_id, "status": "queued", "status_url": f"/v1/jobs/{job_id}"}
        return JSONResponse(body, status_code=202, headers={"Location": f"/v1/jobs/{job_id}"})
    return report


@router.get("/v1/jobs/{job_id}", response_model=IngestResponse)
def get_job(job_id: str, admin: AdminDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """State and per-file progress of an ingestion job (its owner and admins only)."""
    return admin.job(principal, job_id)


@router.get("/v1/collections/{name}/documents", response_model=DocumentsResponse)
def list_documents(name: str, request: Request, admin: AdminDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Documents of a collection whose ACL lets the caller read them."""
    return admin.documents(principal, name, request.url.path)


@router.put("/v1/collections/{name}/documents/{doc_id}/acl", response_model=DocumentOut)
def set_document_acl(
    name: str, doc_id: str, body: AclUpdate, request: Request, admin: AdminDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Change who may read a document: updates its chunks' payloads in place (no re-embedding)."""
    return admin.set_acl(principal, name, doc_id, _groups(",".join(body.groups)), request.url.path)


@router.delete("/v1/collections/{name}/documents/{doc_id}")
def delete_document(
    name: str, doc_id: str, request: Request, admin: AdminDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Remove a document's chunks and vectors."""
    return admin.delete_document(principal, name, doc_id, request.url.path)
