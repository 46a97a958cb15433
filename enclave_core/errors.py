"""The exception tree shared by the gateway, ingest and the CLI.

EnclaveError
├── InputError            bad input from a user: 4xx over REST, exit 2 in the CLI
│   ├── UnsupportedFileType
│   ├── CorruptDocument
│   ├── EmptyDocument
│   ├── DocumentTooLarge
│   ├── InvalidName
│   └── DocumentConflict  another document holds this name and the caller may not replace it: 409
├── NotFoundError         a named thing does not exist: 404
│   └── UnknownCollection
├── PolicyError           a policy or settings file is invalid: refuses start-up
├── AccessDenied          the principal may not do this: 403
└── DependencyUnavailable the vector store or the LLM cannot be reached: 503
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "CorruptDocument",
    "DependencyUnavailable",
    "DocumentConflict",
    "DocumentTooLarge",
    "EmptyDocument",
    "EnclaveError",
    "InputError",
    "InvalidName",
    "NotFoundError",
    "PolicyError",
    "UnknownCollection",
    "UnsupportedFileType",
]


class EnclaveError(Exception):
    """Base of every error the product raises on purpose."""


class InputError(EnclaveError):
    """The caller sent something we cannot use; the message says what."""


class UnsupportedFileType(InputError):
    pass


class CorruptDocument(InputError):
    pass


class UndecodableDocument(CorruptDocument):
    """A text file in none of the encodings we read (UTF-8/16/32, Shift_JIS/CP932, EUC-JP, cp1252)."""


class EmptyDocument(InputError):
    pass


class DocumentTooLarge(InputError):
    pass


class InvalidName(InputError):
    pass


class DocumentConflict(InputError):
    """An upload would replace a document, and the caller lacks the rights to replace it."""


class NotFoundError(EnclaveError):
    pass


class UnknownCollection(NotFoundError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown collection '{name}'")
        self.name = name


class PolicyError(EnclaveError):
    """A policy or settings file failed validation."""


class AccessDenied(EnclaveError):
    pass


class DependencyUnavailable(EnclaveError):
    """A backing service (vector store, LLM) is down, hanging or refusing."""

    def __init__(self, dependency: str, detail: str) -> None:
        super().__init__(f"{dependency} unavailable: {detail}")
        self.dependency = dependency
        self.detail = detail
