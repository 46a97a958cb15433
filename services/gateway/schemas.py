"""Request and response models of the REST API (inputs and outputs kept separate)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SearchRequest(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    collection: str = Field(min_length=1, max_length=63)
    top_k: int | None = Field(None, ge=1, le=50)
    mode: Literal["hybrid", "dense", "sparse"] | None = None


class ChatTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20000)


class QueryRequest(SearchRequest):
    stream: bool = False
    history: list[ChatTurn] = Field(default_factory=list, max_length=20)
    reveal: bool = Field(False, description="replace pseudonyms by original values (role pii:reveal)")
    reveal_reason: str | None = Field(None, max_length=500, description="why; kept in the audit trail")


class Ranks(BaseModel):
    dense: int | None
    sparse: int | None


class Locator(BaseModel):
    kind: Literal["page", "slide", "sheet", "chapter", "message"]
    number: int | None = None
    name: str | None = None  # sheet name, as stored (pseudonymized)
    subject: str | None = None  # message subject, as stored (pseudonymized)
    date: str | None = None  # message date, as stored


class EvidenceOut(BaseModel):
    """A sentence of the citation's ``text`` (``text[start:end]``) that best supports the answer."""

    start: int
    end: int
    text: str
    score: float
    supports: bool


class CitationOut(BaseModel):
    source: str
    chunk_id: str
    score: float
    text: str
    doc_id: str
    title: str
    page: int | None
    heading: str | None
    # Where in the document: {"kind": "page"|"slide"|"sheet"|"chapter"|"message", "number", "name",
    # "subject", "date"} (enclave_core/locators.py) and the same in words ("slide 3"); None without one.
    locator: Locator | None = None
    location: str | None = None
    ranks: Ranks
    sent_to_model: bool = False  # the prompt profile passed this source to the model
    evidence: list[EvidenceOut] = Field(default_factory=list)


class SearchResponse(BaseModel):
    citations: list[CitationOut]


class Grounding(BaseModel):
    """Evidence checks' verdict (enclave_core.grounding): ``kind`` model | quote | refusal."""

    kind: Literal["model", "quote", "refusal"]
    supported: bool | None
    support: float | None
    retrieval_support: float | None
    reasons: list[str]
    calibrated: bool = True


class QueryResponse(BaseModel):
    answer: str
    citations: list[CitationOut]
    model: str | None = None  # the model that answered; None when it was not asked
    grounding: Grounding | None = None  # None when evidence checks are off
    model_answer: str | None = None  # the model's own text when it was not supported and was replaced


class FileResult(BaseModel):
    source: str
    status: Literal["queued", "ingested", "unchanged", "failed", "skipped"]
    doc_id: str | None
    chunks: int
    error: str | None


class JobProgress(BaseModel):
    files_total: int
    files_done: int
    chunks: int
    failed: int


class IngestResponse(BaseModel):
    job_id: str
    status: Literal["queued", "running", "interrupted", "done"]
    progress: JobProgress | None = None
    collection: str
    ingested: int
    unchanged: int
    failed: int
    chunks: int
    files: list[FileResult]


class AclUpdate(BaseModel):
    groups: list[str] = Field(max_length=256, description="groups allowed to read; [] = administrators only")


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"]
    status_url: str


class CollectionOut(BaseModel):
    name: str
    documents: int
    chunks: int


class CollectionsResponse(BaseModel):
    collections: list[CollectionOut]


class DocumentOut(BaseModel):
    doc_id: str
    source: str
    chunks: int
    acl: list[str]
    ingested_at: str


class DocumentsResponse(BaseModel):
    collection: str
    documents: list[DocumentOut]


class ReadyResponse(BaseModel):
    ready: bool
    checks: dict[str, str]


class ErrorResponse(BaseModel):
    error: str
    detail: str
