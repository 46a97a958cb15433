"""Where CLI commands run: in this process, or through the running gateway.

The embedded vector store can be open in one process only. When ``enclave serve`` (or
``make run``) holds it, the CLI sends its work to that gateway over loopback with the
local administrator's key instead of failing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from enclave_cli.lean_imports import defer_spacy_cli
from enclave_core.errors import (
    DependencyUnavailable,
    EnclaveError,
    InputError,
    NotFoundError,
)
from enclave_core.identity import LOCAL_ADMIN
from enclave_core.keys import KeyStore, atomic_write
from enclave_core.regex_cache import RegexCache, deny_terms_excluded, regex_cache_key, regex_cache_path
from enclave_core.requestctx import REQUEST_ID_HEADER, current_request_id
from enclave_core.runtime import Core
from enclave_core.service import RagService
from enclave_core.settings import Settings
from enclave_core.vectorstore import StoreLocked

if TYPE_CHECKING:  # the ingest package (loaders, chunking) loads only for the commands that write
    import httpx  # and the HTTP client only when the gateway does the work (RemoteBackend)

    from ingest import AdminService, SourceFile

CLI_PATH = "cli"  # what a refusal's audit record names as the path of a CLI command

__all__ = ["Backend", "LocalBackend", "RemoteBackend", "local_admin_key", "open_backend"]


class Backend(Protocol):
    def ingest(
        self, paths: Sequence[Path], collection: str, groups: Sequence[str], force: bool, progress: Any
    ) -> dict[str, Any]: ...

    def search(self, question: str, collection: str, top_k: int | None, mode: str | None) -> dict[str, Any]: ...

    def ask(self, question: str, collection: str, top_k: int | None) -> dict[str, Any]: ...

    def ask_stream(self, question: str, collection: str, top_k: int | None) -> Iterator[dict[str, Any]]: ...

    def documents(self, collection: str) -> dict[str, Any]: ...

    def set_acl(self, collection: str, doc_id: str, groups: Sequence[str]) -> dict[str, Any]: ...

    def delete(self, collection: str, doc_id: str) -> dict[str, Any]: ...

    def close(self) -> None: ...


def _request_id_header() -> dict[str, str]:
    """The command's request id, so the gateway's records of its work carry it too."""
    rid = current_request_id()
    return {REQUEST_ID_HEADER: rid} if rid else {}


def local_admin_key(settings: Settings) -> str:
    """The CLI's credential for the gateway: created on first use, owner-readable only."""
    path = settings.secrets_dir / "local-admin.key"
    keys = KeyStore(settings.secrets_dir / "api-keys.json")
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if keys.authenticate(key):
            return key
    _, secret = keys.create(LOCAL_ADMIN.name, [], sorted(LOCAL_ADMIN.roles))
    atomic_write(path, (secret + "\n").encode())
    return secret


class LocalBackend:
    """Work done in this process, through the same services as the gateway's routes."""

    def __init__(self, core: Core) -> None:
        self.core = core
        core.store.check()  # raises StoreLocked now if the gateway holds the embedded store
        self._admin: AdminService | None = None
        self._regex_cache: RegexCache | None = None
        self.rag = RagService(core, via="cli")

    def _cache_compiles(self) -> None:
        """Serve the PII analyzer's regex compiles from the data directory's cache (seconds of a cold
        command otherwise); written back, without any deny-list pattern, when the command closes.
        spaCy's own command line, which its package imports for nothing here, is deferred too."""
        if self._regex_cache is None:
            defer_spacy_cli()
            terms = [t for rule in self.core.redactor.policy.deny_list for t in rule.terms]
            path = regex_cache_path(self.core.settings.data_dir)
            key = regex_cache_key(self.core.data_key)  # the file is authenticated under the data key
            self._regex_cache = RegexCache(path, deny_terms_excluded(terms), key=key).install()

    @property
    def admin(self) -> AdminService:
        if self._admin is None:
            from ingest import AdminService, Ingestor

            self._admin = AdminService(self.core, Ingestor(self.core), via="cli")
        return self._admin

    def ingest(
        self, paths: Sequence[Path], collection: str, groups: Sequence[str], force: bool, progress: Any
    ) -> dict[str, Any]:
        self._cache_compiles()
        return self.admin.ingest_paths(LOCAL_ADMIN, paths, collection, groups, force, progress)

    def search(self, question: str, collection: str, top_k: int | None, mode: str | None) -> dict[str, Any]:
        self._cache_compiles()
        citations = self.rag.search(LOCAL_ADMIN, collection, question, top_k=top_k, mode=mode)
        return {"citations": [c.to_json() for c in citations]}

    def ask(self, question: str, collection: str, top_k: int | None) -> dict[str, Any]:
        self._cache_compiles()
        return self.rag.answer(LOCAL_ADMIN, collection, question, top_k=top_k)

    def ask_stream(self, question: str, collection: str, top_k: int | None) -> Iterator[dict[str, Any]]:
        self._cache_compiles()
        return self.rag.stream(LOCAL_ADMIN, collection, question, top_k=top_k)

    def documents(self, collection: str) -> dict[str, Any]:
        return self.admin.documents(LOCAL_ADMIN, collection, CLI_PATH)

    def set_acl(self, collection: str, doc_id: str, groups: Sequence[str]) -> dict[str, Any]:
        return self.admin.set_acl(LOCAL_ADMIN, collection, doc_id, groups, CLI_PATH)

    def delete(self, collection: str, doc_id: str) -> dict[str, Any]:
        return self.admin.delete_document(LOCAL_ADMIN, collection, doc_id, CLI_PATH)

    def close(self) -> None:
        if self._regex_cache is not None:
            self._regex_cache.uninstall()
            self._regex_cache.save()
        if self._admin is not None:
            self._admin.ingestor.manifest.close()
        self.core.close()


class RemoteBackend:
    """Talks to the local gateway with the local admin key (same JSON as the local backend)."""

    def __init__(self, settings: Settings, timeout_s: float = 600.0) -> None:
        import httpx

        self._http_error: type[Exception] = httpx.HTTPError
        self._client = httpx.Client(
            base_url=settings.gateway_url,
            headers={"Authorization": f"Bearer {local_admin_key(settings)}", **_request_id_header()},
            timeout=httpx.Timeout(timeout_s, connect=2.0),
        )

    def _check(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code < 400:
            return dict(response.json())
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        if response.status_code == 404:
            raise NotFoundError(str(detail))
        if response.status_code == 503:
            raise DependencyUnavailable("gateway dependency", str(detail))
        if response.status_code < 500:
            raise InputError(str(detail))
        raise EnclaveError(f"gateway error {response.status_code}: {detail}")

    def _post(self, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.post(path, **kwargs)
        except self._http_error as exc:
            raise DependencyUnavailable("gateway", f"{exc.__class__.__name__}") from exc

    def ingest(
        self, paths: Sequence[Path], collection: str, groups: Sequence[str], force: bool, progress: Any
    ) -> dict[str, Any]:
        from ingest import FileOutcome, collect_files, outcomes_report

        files, early = collect_files(paths)
        for outcome in early:
            progress(outcome)
        result = outcomes_report(collection, early)
        for batch_start in range(0, len(files), 8):
            batch: list[SourceFile] = files[batch_start : batch_start + 8]
            uploads = [("files", (f.source.rsplit("/", 1)[-1], f.read())) for f in batch]
            data = {"groups": ",".join(groups), "paths": [f.source for f in batch]}
            body = self._check(self._post(f"/v1/collections/{collection}/documents", files=uploads, data=data))
            for key in ("ingested", "unchanged", "failed", "chunks"):
                result[key] += body[key]
            result["files"].extend(body["files"])
            for f in body["files"]:
                progress(FileOutcome(f["source"], f["status"], f["doc_id"], f["chunks"], f["error"]))
        return result

    def search(self, question: str, collection: str, top_k: int | None, mode: str | None) -> dict[str, Any]:
        body = {"question": question, "collection": collection, "top_k": top_k, "mode": mode}
        return self._check(self._post("/v1/search", json=body))

    def ask(self, question: str, collection: str, top_k: int | None) -> dict[str, Any]:
        body = {"question": question, "collection": collection, "top_k": top_k}
        return self._check(self._post("/v1/query", json=body))

    def ask_stream(self, question: str, collection: str, top_k: int | None) -> Iterator[dict[str, Any]]:
        body = {"question": question, "collection": collection, "top_k": top_k, "stream": True}
        with self._client.stream("POST", "/v1/query", json=body) as response:
            if response.status_code >= 400:
                response.read()
                self._check(response)
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    yield json.loads(line[len("data: ") :])

    def documents(self, collection: str) -> dict[str, Any]:
        try:
            return self._check(self._client.get(f"/v1/collections/{collection}/documents"))
        except self._http_error as exc:
            raise DependencyUnavailable("gateway", exc.__class__.__name__) from exc

    def set_acl(self, collection: str, doc_id: str, groups: Sequence[str]) -> dict[str, Any]:
        try:
            url = f"/v1/collections/{collection}/documents/{doc_id}/acl"
            return self._check(self._client.put(url, json={"groups": list(groups)}))
        except self._http_error as exc:
            raise DependencyUnavailable("gateway", exc.__class__.__name__) from exc

    def delete(self, collection: str, doc_id: str) -> dict[str, Any]:
        try:
            return self._check(self._client.delete(f"/v1/collections/{collection}/documents/{doc_id}"))
        except self._http_error as exc:
            raise DependencyUnavailable("gateway", exc.__class__.__name__) from exc

    def close(self) -> None:
        self._client.close()


def open_backend(settings: Settings) -> Backend:
    core = Core(settings)
    try:
        return LocalBackend(core)
    except StoreLocked:
        return RemoteBackend(settings)
