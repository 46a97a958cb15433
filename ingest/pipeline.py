"""The write path: file -> loader -> redaction -> chunks -> embeddings -> Qdrant (with ACL payload).

Personal data is redacted at block level, before chunking, so that no chunk text, title or
vector is ever computed from plaintext PII. Documents are processed in batches so the NLP
and embedding models see many texts per call. Per document, the order of writes makes a
crash harmless: new points first (deterministic ids, so a rerun overwrites them), then
removal of points the new version no longer has, and the manifest row - the commit
marker - last.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from enclave_core.documents import Chunk, LoadedDocument
from enclave_core.errors import DocumentConflict, EnclaveError, InputError, NotFoundError
from enclave_core.failpoints import failpoint
from enclave_core.language import detect_language
from enclave_core.regex_cache import regex_cache_key, regex_cache_path
from enclave_core.retrieval import embedding_text, validate_collection_name
from enclave_core.runtime import Core
from enclave_core.vectorstore import PointRecord, payload
from ingest.analysis_pool import AnalysisPool, Kind, can_spawn
from ingest.attachments import with_attachments
from ingest.chunking import chunk_document
from ingest.loaders import SUPPORTED_EXTENSIONS, load_document
from ingest.loaders.locators import chunk_locator
from ingest.manifest import DocumentRecord, Manifest

if TYPE_CHECKING:
    from enclave_core.redaction import Detection, Redacted

    _Analysis = Future[list[list[Detection]] | list[Redacted]]  # a detection running in a child process

__all__ = [
    "FileOutcome",
    "IngestReport",
    "Ingestor",
    "SourceFile",
    "collect_files",
    "document_id",
    "path_texts",
    "replacement_refused",
]

log = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("6f1c2a52-4d1e-4a8e-9a51-3c2f7c1e9b10")

Status = Literal["ingested", "unchanged", "failed", "skipped"]


def document_id(collection: str, source: str, acl: Sequence[str], key: bytes) -> str:
    """A document's id: the collection, its readers and its path, keyed with the data key.

    The readers are part of it, so two departments' ``policy.pdf`` are two documents, never one
    replacing the other by accident. The key makes the id useless for guessing the path: paths
    hold names ("reviews/Jane Doe.txt"), and an unkeyed hash of them can be brute-forced."""
    readers = "\x1f".join(sorted(set(acl)))
    mac = hmac.new(key, f"doc\x00{collection}\x00{readers}\x00{source}".encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=mac[:16], version=4))


def replacement_refused(names: Sequence[str], collection: str) -> DocumentConflict:
    """The error for an upload that would replace documents its uploader may not replace."""
    return DocumentConflict(
        f"{', '.join(names)}: a different document with this path and these readers exists in "
        f"'{collection}'; replacing it needs the right to delete it (the collection's 'admin' "
        "permission). Upload it under another name, or ask an administrator."
    )


def path_texts(source: str) -> tuple[list[str], str]:
    """The parts of a relative path that may hold personal data, as text for the detectors: each
    folder name and the file name without its extension, with ``_`` read as a space
    ("Jane_Doe" is a name). Returns them and the extension (kept as it is: loaders need it)."""
    folders, _, name = source.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    parts = [*(folders.split("/") if folders else []), stem]
    return [p.replace("_", " ") for p in parts], (f".{ext}" if ext else "")


def _join_path(parts: Sequence[str], ext: str) -> str:
    return "/".join(parts) + ext


def validate_groups(groups: Iterable[str]) -> list[str]:
    """ACL group names: short printable strings without commas (the CLI and forms split on them)."""
    out = sorted(set(groups))
    for g in out:
        if not g or len(g) > 128 or "," in g or not g.isprintable():
            raise InputError(f"invalid group name {g[:40]!r}")
    return out


def chunk_id(doc_id: str, index: int, text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return str(uuid.uuid5(_NAMESPACE, f"chunk\x00{doc_id}\x00{index}\x00{digest}"))


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest: where it came from (relative path), and how to read it."""

    source: str
    path: Path | None = None
    data: bytes | None = None
    doc_id: str | None = None  # defaults to document_id(collection, source, acl, data key)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


@dataclass
class FileOutcome:
    source: str
    status: Status
    doc_id: str | None = None
    chunks: int = 0
    error: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestReport:
    collection: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def collect_files(paths: Iterable[Path]) -> tuple[list[SourceFile], list[FileOutcome]]:
    """Expand files and folders. In a folder, files of unsupported types are skipped (reported);
    a file named explicitly must be supported, else it fails with a clear error."""
    files: list[SourceFile] = []
    outcomes: list[FileOutcome] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if child.suffix.lower() in SUPPORTED_EXTENSIONS:
                    files.append(SourceFile(rel.as_posix(), path=child))
                else:
                    outcomes.append(FileOutcome(rel.as_posix(), "skipped", error="unsupported file type"))
        elif path.is_file():
            files.append(SourceFile(path.name, path=path))
        else:
            outcomes.append(FileOutcome(str(path), "failed", error=f"{path}: no such file or folder"))
    return files, outcomes


@dataclass
class _Prepared:
    file: SourceFile
    doc_id: str
    sha: str
    doc: LoadedDocument
    outcome: FileOutcome
    shown: str  # the source path as stored and shown: its personal data replaced
    chunks: list[Chunk] = field(default_factory=list)


ProgressCallback = Callable[[FileOutcome], None]


def whole_groups(groups: Sequence[list[SourceFile]], batch_docs: int) -> list[list[SourceFile]]:
    """Batches of about ``batch_docs`` files that never split a group (a message and its
    attachments): a job journals a file as done when its batch is stored, so a crash between a
    message's batch and its attachments' would leave the attachments out of the resumed job."""
    batches: list[list[SourceFile]] = []
    current: list[SourceFile] = []
    for group in groups:
        if current and len(current) + len(group) > batch_docs:
            batches.append(current)
            current = []
        current.extend(group)
    if current:
        batches.append(current)
    return batches


def _path_parts(sources: Sequence[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """The parts of each path that the detectors see (``path_texts``), and how many each path has."""
    texts: list[str] = []
    shapes: list[tuple[int, str]] = []
    for source in sources:
        parts, ext = path_texts(source)
        texts.extend(parts)
        shapes.append((len(parts), ext))
    return texts, shapes


def _analysis_texts(prepared: Sequence[_Prepared]) -> tuple[list[str], list[str]]:
    """Every title, block and heading of a batch (in the order ``_redact`` takes them back), and its document."""
    texts: list[str] = []
    owners: list[str] = []
    for item in prepared:
        parts = [item.doc.title, *(b.text for b in item.doc.blocks)]
        parts.extend(sorted({b.heading for b in item.doc.blocks if b.heading}))
        texts.extend(parts)
        owners.extend([item.doc_id] * len(parts))
    return texts, owners


@dataclass
class _Batch:
    """A batch between its two halves: files read and loaded, its detection maybe still running."""

    outcomes: list[FileOutcome]
    prepared: list[_Prepared]
    analysis: _Analysis | None = None


class Ingestor:
    def __init__(
        self,
        core: Core,
        manifest: Manifest | None = None,
        batch_docs: int = 16,
        analysis_processes: int | None = None,
    ) -> None:
        """``analysis_processes``: children that detect personal data while this process embeds
        (default: settings ``ingest.analysis_processes``; 0: all in this process)."""
        self.core = core
        self.settings = core.settings
        self.manifest = manifest or Manifest(core.settings.state_dir / "ingest.sqlite")
        self.batch_docs = batch_docs
        if analysis_processes is None:
            analysis_processes = core.settings.ingest.analysis_processes
        self.analysis_processes = analysis_processes

    def ingest(
        self,
        files: Sequence[SourceFile],
        collection: str,
        groups: Sequence[str] = (),
        *,
        force: bool = False,
        redact: bool = True,
        may_replace: bool = True,
        progress: ProgressCallback | None = None,
        attachments: bool = False,
    ) -> IngestReport:
        """Ingest files; each succeeds or fails on its own.

        ``may_replace``: whether an existing document (same readers and path) may be replaced by
        new content. Callers pass whether the principal holds the rights that deleting and
        re-permissioning need; without them a changed document fails with a conflict.

        Outcomes name each file by its path with personal data replaced, as it is stored.
        ``attachments``: ingest each mail attachment as a child document with the same readers."""
        validate_collection_name(collection)
        started = time.perf_counter()
        report = IngestReport(collection)
        acl = validate_groups(groups)
        bundles = [[file] for file in files]  # a file with its attachments, when they are expanded
        if attachments:
            bundles = [with_attachments(b, lambda name, data: SourceFile(name, data=data)) for b in bundles]
        self.core.embedders.prepare(collection)  # creates it bound to its model, or refuses another model
        batches = whole_groups(bundles, self.batch_docs)
        pool = self._analysis_pool(len(files), redact)

        def finish(outcomes: list[FileOutcome]) -> None:
            for outcome in outcomes:
                report.outcomes.append(outcome)
                if progress:
                    progress(outcome)

        if pool is None:
            for batch in batches:
                finish(self._ingest_batch(batch, collection, acl, force, redact, may_replace))
        else:
            # Batch n+1.. are read, loaded and sent to the children while batch n is embedded and
            # stored here; batches are still stored and reported in order, one after the other,
            # so a job's journal sees exactly what the sequential loop gives it.
            try:
                # Every batch's path names first (short texts, no vault writes until each batch
                # begins), so that beginning a batch never waits behind another's text.
                kind = self._analysis_kind(collection)
                paths = [pool.submit(kind, _path_parts([f.source for f in b])[0]) for b in batches]
                pending: deque[_Batch] = deque()
                for batch, names in zip(batches, paths, strict=True):
                    pending.append(self._begin_batch(batch, collection, acl, force, redact, may_replace, pool, names))
                    if len(pending) > pool.processes:
                        finish(self._end_batch(pending.popleft(), collection, acl, redact))
                while pending:
                    finish(self._end_batch(pending.popleft(), collection, acl, redact))
            finally:
                pool.close()
        report.seconds = time.perf_counter() - started
        return report

    def _analysis_pool(self, files: int, redact: bool) -> AnalysisPool | None:
        """Children for the detection of a job big enough to repay their start (a few CPU-seconds each)."""
        if not redact or self.analysis_processes < 1 or files < self.settings.ingest.analysis_min_files:
            return None
        if not can_spawn():
            return None
        return AnalysisPool(
            self.settings.redaction_policy_path,
            self.analysis_processes,
            regex_cache=regex_cache_path(self.settings.data_dir),
            regex_cache_key=regex_cache_key(self.core.data_key),
        )

    def _ingest_batch(
        self,
        batch: Sequence[SourceFile],
        collection: str,
        acl: list[str],
        force: bool,
        redact: bool,
        may_replace: bool,
    ) -> list[FileOutcome]:
        started = self._begin_batch(batch, collection, acl, force, redact, may_replace, None)
        return self._end_batch(started, collection, acl, redact)

    def _begin_batch(
        self,
        batch: Sequence[SourceFile],
        collection: str,
        acl: list[str],
        force: bool,
        redact: bool,
        may_replace: bool,
        pool: AnalysisPool | None,
        names: _Analysis | None = None,
    ) -> _Batch:
        """Read, check against the manifest and load the batch's files; with a pool, start the
        detection of their text there. Writes nothing but the paths' pseudonyms to the vault."""
        outcomes: list[FileOutcome] = []
        prepared: list[_Prepared] = []
        doc_ids = [file.doc_id or document_id(collection, file.source, acl, self.core.data_key) for file in batch]
        shown = self.shown_sources(collection, [f.source for f in batch], doc_ids, names) if redact else None
        for i, (file, doc_id) in enumerate(zip(batch, doc_ids, strict=True)):
            name = shown[i] if shown else file.source
            outcome = FileOutcome(name, "ingested", doc_id=doc_id)
            outcomes.append(outcome)
            try:
                data = file.read()
                sha = hashlib.sha256(data).hexdigest()
                previous = self.manifest.get(collection, doc_id)
                if not force and previous and previous.content_sha256 == sha and list(previous.acl) == acl:
                    outcome.status, outcome.chunks = "unchanged", len(previous.chunk_ids)
                    continue
                if previous and not may_replace:
                    raise replacement_refused([name], collection)
                failpoint(f"ingest.load{Path(name).suffix.lower()}")  # a parser that crashes the process
                doc = load_document(data, name, max_bytes=self.settings.gateway.max_upload_mb << 20)
            except InputError as exc:
                outcome.status, outcome.error = "failed", str(exc)
                continue
            except OSError as exc:
                outcome.status, outcome.error = "failed", f"{name}: cannot read ({exc.strerror})"
                continue
            prepared.append(_Prepared(file, doc_id, sha, doc, outcome, name))
        started = _Batch(outcomes, prepared)
        if prepared and redact and pool is not None:
            with contextlib.suppress(BrokenProcessPool):  # a child died (see _pii): analysed here
                started.analysis = pool.submit(self._analysis_kind(collection), _analysis_texts(prepared)[0])
        return started

    def _end_batch(self, started: _Batch, collection: str, acl: list[str], redact: bool) -> list[FileOutcome]:
        """Redact (or take the children's detection), chunk, embed and store the batch."""
        outcomes, prepared = started.outcomes, started.prepared
        if not prepared:
            return outcomes
        if redact:
            self._redact(prepared, collection, started.analysis)
        for item in prepared:
            item.chunks = chunk_document(
                item.doc,
                max_words=self.settings.chunking.max_words,
                overlap_words=self.settings.chunking.overlap_words,
            )
        self._store(prepared, collection, acl)
        return outcomes

    def shown_sources(
        self, collection: str, sources: Sequence[str], doc_ids: Sequence[str], analysis: _Analysis | None = None
    ) -> list[str]:
        """Source paths with their personal data replaced as in the documents' text (pseudonyms of
        the collection, owned by the document): what the store, the manifest, the job journal,
        citations and the LLM see instead of "reviews/Jane Doe - performance review.txt".
        ``analysis``: the detection of ``_path_parts(sources)``, already started in a child process."""
        texts, shapes = _path_parts(sources)
        owners = [doc_id for doc_id, (n, _) in zip(doc_ids, shapes, strict=True) for _ in range(n)]
        results = iter(self._pii(collection, texts, owners, analysis)) if texts else iter(())
        return [_join_path([next(results).text for _ in range(n)], ext) for n, ext in shapes]

    def _analysis_kind(self, collection: str) -> Kind:
        return "detect" if self.core.pii.needs_detections(collection) else "redact"

    def _pii(self, collection: str, texts: list[str], owners: list[str], analysis: _Analysis | None) -> list[Redacted]:
        """``pii.process_many``, or its second half on a child's detection when one was started."""
        pii = self.core.pii
        done = None
        if analysis is not None:
            try:
                done = analysis.result()
            except BrokenProcessPool:
                # A child was killed (out of memory) or could not start (a script that starts
                # ingest without a ``__main__`` guard): the same analysis runs here instead.
                log.warning("analysis process lost; detecting in the ingest process")
        if done is None:
            return pii.process_many(collection, texts, owners)
        if pii.needs_detections(collection):
            return pii.apply_detections(collection, texts, owners, cast("list[list[Detection]]", done))
        return cast("list[Redacted]", done)

    def redacted_sources(self, sources: Sequence[str]) -> list[str]:
        """Source paths with personal data replaced by typed placeholders (no vault entry)."""
        texts: list[str] = []
        shapes: list[tuple[int, str]] = []
        for source in sources:
            parts, ext = path_texts(source)
            texts.extend(parts)
            shapes.append((len(parts), ext))
        results = iter(self.core.redactor.redact_many(texts)) if texts else iter(())
        return [_join_path([next(results).text for _ in range(n)], ext) for n, ext in shapes]

    def _redact(
        self,
        prepared: list[_Prepared],
        collection: str,
        analysis: _Analysis | None = None,
    ) -> None:
        """Redact or pseudonymize every title, heading and block of the batch in one NLP pass
        (``analysis``: that pass already started in a child process)."""
        texts, owners = _analysis_texts(prepared)
        results = iter(self._pii(collection, texts, owners, analysis))
        for item in prepared:
            counts: dict[str, int] = {}

            def take(counts: dict[str, int] = counts) -> str:
                result = next(results)
                for key, value in result.counts.items():
                    counts[key] = counts.get(key, 0) + value
                return result.text

            title = take()
            blocks = [replace(b, text=take()) for b in item.doc.blocks]
            headings = {h: take() for h in sorted({b.heading for b in item.doc.blocks if b.heading})}
            blocks = [replace(b, heading=headings[b.heading]) if b.heading else b for b in blocks]
            item.doc = replace(item.doc, title=title, blocks=blocks)
            item.outcome.redactions = counts

    def _store(self, prepared: list[_Prepared], collection: str, acl: list[str]) -> None:
        texts = [embedding_text(i.doc.title, c.heading, c.text) for i in prepared for c in i.chunks]
        # The model and variant (float32 / int8) that built the collection, not only what settings say now.
        vectors = self.core.embedders.check(collection).embed_documents(texts)
        sparse = self.core.sparse
        now = datetime.now(UTC).isoformat(timespec="seconds")
        position = 0
        for item in prepared:
            points: list[PointRecord] = []
            for chunk in item.chunks:
                pid = chunk_id(item.doc_id, chunk.index, chunk.text)
                points.append(
                    PointRecord(
                        id=pid,
                        dense=vectors[position],
                        sparse=sparse.encode_document(texts[position]),
                        payload={
                            payload.DOC_ID: item.doc_id,
                            payload.SOURCE: item.shown,
                            payload.TITLE: item.doc.title,
                            payload.PAGE: chunk.page,
                            payload.HEADING: chunk.heading,
                            payload.LOCATOR: chunk_locator(item.doc, chunk),
                            payload.CHUNK_INDEX: chunk.index,
                            payload.TEXT: chunk.text,
                            payload.ACL: acl,
                            payload.CONTENT_SHA256: item.sha,
                            payload.INGESTED_AT: now,
                            payload.LANG: detect_language(chunk.text),
                        },
                    )
                )
                position += 1
            try:
                self._commit(collection, item, points, acl)
            except (EnclaveError, OSError, sqlite3.Error) as exc:
                # The document could not be stored (store down, disk full): it fails alone, its
                # commit marker is not written, and a retry starts it over cleanly.
                log.warning("storing %s failed: %s", item.doc_id, exc.__class__.__name__)
                item.outcome.status, item.outcome.error = "failed", f"{item.shown}: {exc}"
                continue
            item.outcome.chunks = len(points)

    def _commit(self, collection: str, item: _Prepared, points: list[PointRecord], acl: list[str]) -> None:
        store = self.core.store
        new_ids = [p.id for p in points]
        previous = self.manifest.get(collection, item.doc_id)
        old_ids = set(previous.chunk_ids if previous else ()) | self.manifest.pending(collection, item.doc_id)
        self.manifest.begin(collection, item.doc_id, sorted(old_ids | set(new_ids)))
        failpoint("ingest.after_begin")
        store.upsert(collection, points)
        failpoint("ingest.after_upsert")
        store.delete_points(collection, sorted(old_ids - set(new_ids)))
        failpoint("ingest.after_delete")
        self.manifest.put(collection, item.doc_id, item.shown, item.sha, new_ids, acl)
        failpoint("ingest.after_commit")

    def set_acl(self, collection: str, doc_id: str, groups: Sequence[str]) -> DocumentRecord:
        """Change a document's readers: payload update of its chunks, no re-embedding."""
        record = self.manifest.get(collection, doc_id)
        if record is None:
            raise NotFoundError(f"no document '{doc_id}' in collection '{collection}'")
        acl = validate_groups(groups)
        self.core.store.set_document_payload(collection, doc_id, {payload.ACL: acl})
        self.manifest.put(collection, doc_id, record.source, record.content_sha256, list(record.chunk_ids), acl)
        updated = self.manifest.get(collection, doc_id)
        assert updated is not None
        return updated

    def delete_document(self, collection: str, doc_id: str) -> int:
        """Remove a document's points, its vault entries no other document uses, and its manifest row."""
        store = self.core.store
        record = self.manifest.get(collection, doc_id)
        ids = set(record.chunk_ids) if record else store.document_point_ids(collection, doc_id)
        store.delete_points(collection, sorted(ids))
        self.core.vault.forget_document(collection, doc_id)
        self.manifest.delete(collection, doc_id)
        return len(ids)
