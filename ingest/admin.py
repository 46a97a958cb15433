"""The write path as one service, next to the read-side ``RagService``: documents (list, change who
may read them, delete), ingestion jobs, API keys and erasure, each checked, done and audited here.

The gateway's routes, the admin console's routes and the CLI are thin over it, so a change made
from any of them is checked by the same rules and leaves the same audit record (one schema,
``enclave_core.audit.write_event``; ``via`` says where it came from). Collaborators that only
some callers have (the job runner, the key store, the job journal) are passed in; an operation
that needs one the caller did not give is a programming error, not a user's.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from enclave_core.audit import AuditEvent, write_event
from enclave_core.audit.events import matching_records
from enclave_core.errors import DependencyUnavailable, InputError, NotFoundError, UnknownCollection
from enclave_core.identity import ADMIN_ROLE, AUDITOR_ROLE, REVEAL_ROLE, Principal
from enclave_core.keys import ApiKey, KeyStore
from enclave_core.metrics import record_verification
from enclave_core.requestctx import current_request_id, request_scope
from enclave_core.retrieval import validate_collection_name
from enclave_core.runtime import Core
from enclave_core.service import RagService
from ingest.erasure import Eraser, ErasureReport
from ingest.jobs import JobJournal, JobRunner
from ingest.manifest import DocumentRecord
from ingest.pipeline import FileOutcome, Ingestor, collect_files

__all__ = ["AdminService", "document_json", "job_report", "key_json"]

MAX_JOB_ID = 64


def document_json(d: DocumentRecord) -> dict[str, Any]:
    return {
        "doc_id": d.doc_id,
        "source": d.source,
        "chunks": len(d.chunk_ids),
        "acl": list(d.acl),
        "ingested_at": d.ingested_at,
    }


def key_json(k: ApiKey) -> dict[str, Any]:
    """A key as listed: never its secret or the secret's hash."""
    return {
        "key_id": k.key_id,
        "user": k.user,
        "groups": k.groups,
        "roles": k.roles,
        "created_at": k.created_at,
        "revoked_at": k.revoked_at,
    }


def job_report(job: dict[str, Any]) -> dict[str, Any]:
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


def outcomes_report(collection: str, outcomes: list[FileOutcome]) -> dict[str, Any]:
    return {
        "collection": collection,
        "ingested": sum(o.status == "ingested" for o in outcomes),
        "unchanged": sum(o.status == "unchanged" for o in outcomes),
        "failed": sum(o.status == "failed" for o in outcomes),
        "chunks": sum(o.chunks for o in outcomes),
        "files": [
            {"source": o.source, "status": o.status, "doc_id": o.doc_id, "chunks": o.chunks, "error": o.error}
            for o in outcomes
        ],
    }


class AdminService:
    def __init__(
        self,
        core: Core,
        ingestor: Ingestor | None,
        *,
        jobs: JobRunner | None = None,
        keys: KeyStore | None = None,
        journal: JobJournal | None = None,
        via: str = "api",
    ) -> None:
        self.core = core
        self._ingestor = ingestor
        self.jobs = jobs
        self.keys = keys
        self.journal = journal or (jobs.journal if jobs is not None else None)
        self.via = via
        self.rag = RagService(core, via=via)
        # Which request submitted a job, so the job's record joins that request's chain even when
        # the worker thread runs it later (lost on restart: a resumed job gets "job-<id>").
        self._submitted_by: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- audit and checks ---------------------------------------------------------------------

    def _audit(
        self,
        principal: Principal,
        action: str,
        outcome: str = "ok",
        *,
        collection: str | None = None,
        documents: Sequence[str] | None = None,
        **details: Any,
    ) -> None:
        event = AuditEvent.by(
            principal,
            action,
            outcome,
            via=self.via,
            collection=collection,
            decision="allow",
            policy_version=self.core.access.version,
            documents=documents,
            **details,
        )
        write_event(self.core.audit, event)

    def require_admin(self, principal: Principal, path: str) -> None:
        """The appliance-wide operations (keys, every job, the console): the ``admin`` role, or 403."""
        self.rag.require_role(principal, ADMIN_ROLE, "this needs the 'admin' role", path)

    def _require(self, tool: Any, what: str) -> Any:
        if tool is None:
            raise RuntimeError(f"AdminService was built without {what}")
        return tool

    @property
    def ingestor(self) -> Ingestor:
        ingestor: Ingestor = self._require(self._ingestor, "an ingestor")
        return ingestor

    def with_via(self, via: str) -> AdminService:
        """The same service (same collaborators, same job bookkeeping) recording another ``via``."""
        twin = copy.copy(self)
        twin.via, twin.rag = via, RagService(self.core, via=via)
        return twin

    # -- collections and documents ------------------------------------------------------------

    def collections(self, principal: Principal) -> list[dict[str, Any]]:
        """Collections with at least one document the caller may read (all of them for admins)."""
        out = []
        for name in self.core.store.list_collections():
            if not self.core.access.allows(principal, "read", name):
                continue
            docs = self._visible(principal, name)
            if docs or principal.is_admin:
                out.append({"name": name, "documents": len(docs), "chunks": sum(len(d.chunk_ids) for d in docs)})
        return out

    def _visible(self, principal: Principal, collection: str) -> list[DocumentRecord]:
        visible = principal.groups | {"*"}
        docs = self.ingestor.manifest.documents(collection)
        return [d for d in docs if principal.is_admin or visible.intersection(d.acl)]

    def documents(self, principal: Principal, collection: str, path: str) -> dict[str, Any]:
        """Documents of a collection whose ACL lets the caller read them; a collection of which the
        caller can read nothing answers as an unknown one (no existence probe)."""
        validate_collection_name(collection)
        self.rag.authorize(principal, "read", collection, path=path)
        if not self.core.store.collection_exists(collection):
            raise UnknownCollection(collection)
        docs = self._visible(principal, collection)
        if not docs and not principal.is_admin:
            raise UnknownCollection(collection)
        return {"collection": collection, "documents": [document_json(d) for d in docs]}

    def set_acl(
        self, principal: Principal, collection: str, doc_id: str, groups: Sequence[str], path: str
    ) -> dict[str, Any]:
        """Change who may read a document: its chunks' payloads are updated in place, no re-embedding."""
        validate_collection_name(collection)
        self.rag.authorize(principal, "admin", collection, path=path)
        record = self.ingestor.set_acl(collection, doc_id, groups)
        self._audit(principal, "acl.change", collection=collection, documents=[doc_id], acl=list(record.acl))
        return document_json(record)

    def delete_document(self, principal: Principal, collection: str, doc_id: str, path: str) -> dict[str, Any]:
        """Remove a document's chunks and vectors (and vault entries no other document uses)."""
        validate_collection_name(collection)
        self.rag.authorize(principal, "admin", collection, path=path)
        if self.ingestor.manifest.get(collection, doc_id) is None:
            raise NotFoundError(f"no document '{doc_id}' in collection '{collection}'")
        removed = self.ingestor.delete_document(collection, doc_id)
        self._audit(principal, "delete", collection=collection, documents=[doc_id], chunks_removed=removed)
        return {"doc_id": doc_id, "chunks_removed": removed}

    # -- ingestion ----------------------------------------------------------------------------

    def ingest_paths(
        self,
        principal: Principal,
        paths: Sequence[Path],
        collection: str,
        groups: Sequence[str],
        force: bool,
        progress: Callable[[FileOutcome], None],
    ) -> dict[str, Any]:
        """Ingest files or folders in this process (the CLI with the store to itself)."""
        files, early = collect_files(paths)
        for outcome in early:
            progress(outcome)
        report = self.ingestor.ingest(files, collection, groups, force=force, progress=progress, attachments=True)
        outcomes = early + report.outcomes
        self._audit(
            principal,
            "ingest",
            "ok" if not report.failed else "partial",
            collection=collection,
            documents=[o.doc_id for o in outcomes if o.doc_id],
            acl=sorted(groups),
            files=[{"doc_id": o.doc_id, "status": o.status, "chunks": o.chunks} for o in outcomes],
        )
        return outcomes_report(collection, outcomes)

    def submit_upload(
        self,
        principal: Principal,
        collection: str,
        acl: list[str],
        stage_id: str,
        files: list[tuple[str, str]],
        path: str,
    ) -> str:
        """A staged upload becomes a journaled job (the collection's ``write`` was checked before the
        body was read); returns its id. Granting other groups or replacing documents needs more."""
        jobs: JobRunner = self._require(self.jobs, "a job runner")
        may_replace = self.rag.authorize_upload(principal, collection, acl, path)
        job_id = jobs.submit_staged(collection, acl, principal.key, stage_id, files, may_replace=may_replace)
        if rid := current_request_id():
            with self._lock:
                self._submitted_by[job_id] = rid
        return job_id

    def job_finished(self, job: dict[str, Any], redactions: dict[str, int]) -> None:
        """The job runner's ``on_finished``: one ``ingest`` record, under the submitting request's id."""
        with self._lock:
            rid = self._submitted_by.pop(job["job_id"], None)
        files = job["files"]
        failed = job["progress"]["failed"]
        event = AuditEvent(
            "ingest",
            {"done": "ok" if not failed else "partial"}.get(job["status"], job["status"]),
            job["principal"],
            "job",
            collection=job["collection"],
            decision="allow",
            policy_version=self.core.access.version,
            documents=[f["doc_id"] for f in files if f["doc_id"]],
            details={
                "job_id": job["job_id"],
                "acl": job["acl"],
                "files": [{"doc_id": f["doc_id"], "status": f["status"], "chunks": f["chunks"]} for f in files],
                "redactions": redactions,
            },
        )
        with request_scope(rid or current_request_id() or f"job-{job['job_id']}"):
            write_event(self.core.audit, event)

    def run_job(self, job_id: str, *, wait: bool) -> dict[str, Any] | None:
        """Run a submitted job now (its report), or queue it for the worker (None)."""
        jobs: JobRunner = self._require(self.jobs, "a job runner")
        if not wait:
            jobs.enqueue(job_id)
            return None
        return job_report(jobs.run(job_id))

    def job(self, principal: Principal, job_id: str) -> dict[str, Any]:
        """State and per-file progress of a job: its owner and admins only (others: "no such job")."""
        journal: JobJournal = self._require(self.journal, "a job journal")
        if len(job_id) > MAX_JOB_ID:
            raise NotFoundError("no such job")
        job = journal.get(job_id)
        if job["principal"] != principal.key and not principal.is_admin:
            raise NotFoundError(f"no job '{job_id}'")  # do not confirm that someone else's job exists
        return {**job_report(job), "progress": job["progress"]}

    def recent_jobs(self, principal: Principal, limit: int, path: str) -> list[dict[str, Any]]:
        """The newest jobs of everyone, with progress and per-file errors (the console's job list)."""
        self.require_admin(principal, path)
        journal: JobJournal = self._require(self.journal, "a job journal")
        jobs = [journal.get(job_id) for job_id in journal.recent(limit)]
        return [
            {**job_report(j), "progress": j["progress"], "created_at": j["created_at"], "updated_at": j["updated_at"]}
            for j in jobs
        ]

    # -- the audit trail and health (the console) -------------------------------------------------

    def audit_trail(
        self,
        principal: Principal,
        filters: dict[str, str | None],
        since: str | None,
        until: str | None,
        limit: int,
        path: str,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` records matching the filters, newest first."""
        self.require_admin(principal, path)
        found = deque(matching_records(self.core.audit.records(), filters, since, until), maxlen=limit)
        return list(reversed(found))

    def verify_audit(self, principal: Principal, path: str) -> dict[str, Any]:
        """Walk the whole chain, as ``enclave audit verify`` does (the metrics follow the result)."""
        self.require_admin(principal, path)
        result = self.core.audit.verify()
        record_verification(self.core.settings.state_dir, result)
        return {"ok": result.ok, "records": result.records, "first_bad": result.first_bad, "reason": result.reason}

    def health(self, principal: Principal, path: str) -> dict[str, Any]:
        """Every component's state: vector store, LLM (within the health timeout), audit chain
        (incremental walk), the audit volume's free space against its reserve, ingestion jobs."""
        self.require_admin(principal, path)
        settings = self.core.settings
        timeout = settings.llm.health_timeout_s
        checks = {"vector_store": self.core.store.check, "llm": self.core.llm.check}
        components: dict[str, dict[str, Any]] = {"gateway": {"ok": True, "detail": "answering"}}
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(check) for name, check in checks.items()}
            for name, future in futures.items():
                try:
                    future.result(timeout=timeout + 0.2)
                    components[name] = {"ok": True, "detail": "answering"}
                except DependencyUnavailable as exc:
                    components[name] = {"ok": False, "detail": f"unavailable: {exc.detail}"}
                except TimeoutError:
                    components[name] = {"ok": False, "detail": f"no answer within {timeout:g} s"}
        chain = self.core.audit.verify_incremental()
        detail = f"{chain.records} records" + ("" if chain.ok else f": {chain.reason}")
        components["audit_chain"] = {"ok": chain.ok, "detail": detail}
        free_mb = self.core.audit.free_bytes() >> 20
        reserve = settings.audit.min_free_mb
        components["audit_volume"] = {"ok": free_mb >= reserve, "detail": f"{free_mb} MB free (reserve {reserve} MB)"}
        if self.journal is not None:
            counts = self.journal.status_counts()
            states = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none yet"
            components["ingest_jobs"] = {"ok": not counts.get("failed"), "detail": states}
        return {"ok": all(c["ok"] for c in components.values()), "components": components}

    # -- API keys -----------------------------------------------------------------------------

    def create_key(
        self, principal: Principal, user: str, groups: list[str], roles: list[str], path: str
    ) -> tuple[dict[str, Any], str]:
        """A new key (its secret is returned once, never stored or audited)."""
        self.require_admin(principal, path)
        keys: KeyStore = self._require(self.keys, "a key store")
        unknown = sorted(set(roles) - {ADMIN_ROLE, AUDITOR_ROLE, REVEAL_ROLE})
        if unknown:
            raise InputError(f"unknown role(s): {', '.join(unknown)}")
        record, secret = keys.create(user, groups, roles)
        self._audit(
            principal,
            "key.create",
            key_id=record.key_id,
            user=record.user,
            key_groups=record.groups,
            roles=record.roles,
        )
        return key_json(record), secret

    def list_keys(self, principal: Principal, path: str) -> list[dict[str, Any]]:
        self.require_admin(principal, path)
        keys: KeyStore = self._require(self.keys, "a key store")
        return [key_json(k) for k in keys.list()]

    def revoke_key(self, principal: Principal, key_id: str, path: str) -> dict[str, Any]:
        self.require_admin(principal, path)
        keys: KeyStore = self._require(self.keys, "a key store")
        record = keys.revoke(key_id)
        self._audit(principal, "key.revoke", key_id=record.key_id)
        return key_json(record)

    # -- erasure ------------------------------------------------------------------------------

    def erase(
        self, principal: Principal, collections: Sequence[str], *, document: str | None, value: str | None, path: str
    ) -> list[ErasureReport]:
        """Erase one document, or every trace of a value, then verify no plaintext of it remains."""
        self.require_admin(principal, path)
        if (document is None) == (value is None):
            raise InputError("erase either a document or a value")
        eraser = Eraser(self.ingestor, self.journal)
        if document is not None:
            if len(collections) != 1:
                raise InputError("--document needs --collection")
            reports = [eraser.forget_document(collections[0], document)]
        else:
            reports = [eraser.forget_value(name, str(value)) for name in collections]
        for report in reports:
            self._audit(
                principal,
                "erasure",
                "ok" if report.clean else "incomplete",
                collection=report.collection,
                documents=report.documents,
                chunks_removed=report.chunks_removed,
                vault_entries_removed=report.vault_entries_removed,
                kind="document" if document is not None else "value",
            )
        return reports

    @staticmethod
    def erasure_json(reports: list[ErasureReport]) -> dict[str, Any]:
        return {"reports": [asdict(r) | {"clean": r.clean} for r in reports]}
