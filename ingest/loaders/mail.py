"""E-mail loaders: .eml through the standard library, Outlook .msg through extract-msg.

A message becomes one document (headers, then the body) and each attachment a child
document of its own, named "<message>/<attachment file name>", which the pipeline ingests
with the message's readers (see mail_attachments). The headers are text like any other:
the redaction pass replaces the addresses and names in them before anything is stored.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from enclave_core.documents import Block, LoadedDocument
from enclave_core.errors import CorruptDocument, InputError

from ._common import add_block, clean_inline, extension_of, short_reason, short_title, source_stem
from ._office import OLE_MAGIC
from .html_page import load_html

__all__ = ["MAIL_EXTENSIONS", "Attachment", "load_eml", "load_msg", "mail_attachments"]

MAIL_EXTENSIONS = frozenset({".eml", ".msg"})
MAX_ATTACHMENTS = 100
_HEADERS = ("From", "To", "Cc", "Date", "Subject")


@dataclass(frozen=True)
class Attachment:
    name: str  # "<message source>/<file name>": its extension picks the loader
    data: bytes


def _child_name(source: str, filename: str | None, index: int, taken: set[str]) -> str:
    base = (filename or f"attachment-{index}").replace("\\", "/").rsplit("/", 1)[-1].strip() or f"attachment-{index}"
    name = f"{source}/{base}"
    counter = 2
    while name in taken:
        stem, dot, ext = base.rpartition(".")
        name = f"{source}/{stem or base}-{counter}{dot}{ext if stem else ''}"
        counter += 1
    taken.add(name)
    return name


def _body_blocks(
    blocks: list[Block], plain: str | None, html: str | bytes | None, source: str, heading: str | None, max_bytes: int
) -> None:
    if plain and plain.strip():
        for paragraph in plain.replace("\r\n", "\n").split("\n\n"):
            add_block(blocks, paragraph, heading=heading)
    elif html:
        raw = html.encode("utf-8") if isinstance(html, str) else html
        try:
            page = load_html(raw, f"{source}#body.html", max_bytes)
        except InputError:
            return
        for block in page.blocks:
            add_block(blocks, block.text, kind=block.kind, heading=heading)


def _mail_document(
    source: str, headers: dict[str, str], attachments: list[str], media_type: str
) -> tuple[LoadedDocument, str | None]:
    subject = short_title(headers.get("Subject"))
    lines = [f"{key}: {clean_inline(value)}" for key, value in headers.items() if value and value.strip()]
    if attachments:
        lines.append("Attachments: " + ", ".join(name.rsplit("/", 1)[-1] for name in attachments))
    blocks: list[Block] = []
    add_block(blocks, "\n".join(lines), kind="list", heading=subject)
    doc = LoadedDocument(source=source, title=subject or source_stem(source), blocks=blocks, media_type=media_type)
    return doc, subject


def _parse_eml(data: bytes, source: str) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    if not any(message.get(h) for h in ("From", "To", "Subject", "Date", "Message-ID")):
        raise CorruptDocument(f"{source}: not a readable e-mail (no message headers)")
    return message


def _eml_attachments(message: EmailMessage, source: str) -> list[Attachment]:
    found: list[Attachment] = []
    taken: set[str] = set()
    for index, part in enumerate(message.iter_attachments(), start=1):
        if len(found) >= MAX_ATTACHMENTS:
            break
        filename: str | None
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else part.get_payload()
            payload = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
            filename = part.get_filename() or f"message-{index}.eml"
        else:
            content = part.get_payload(decode=True)
            payload = content if isinstance(content, bytes) else b""
            filename = part.get_filename()
        if payload:
            found.append(Attachment(_child_name(source, filename, index, taken), payload))
    return found


def load_eml(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Headers as a list block, then the plain-text body (or the HTML body's text)."""
    try:
        message = _parse_eml(data, source)
        headers = {h: str(message.get(h, "")) for h in _HEADERS}
        names = [a.name for a in _eml_attachments(message, source)]
        doc, subject = _mail_document(source, headers, names, "message/rfc822")
        plain_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        plain = plain_part.get_content() if plain_part is not None else None
        html = html_part.get_content() if html_part is not None else None
        _body_blocks(doc.blocks, plain, html, source, subject, max_bytes)
    except InputError:
        raise
    except Exception as exc:  # the email package raises many types on hostile MIME
        raise CorruptDocument(f"{source}: not a readable e-mail ({short_reason(exc)})") from exc
    return doc


def _open_msg(data: bytes, source: str) -> Any:
    import extract_msg  # imported lazily: it pulls in oletools, slow to import

    if not data.startswith(OLE_MAGIC):
        raise CorruptDocument(f"{source}: not a readable .msg (not an Outlook message file)")
    return extract_msg.openMsg(data)


def _msg_attachments(message: object, source: str) -> list[Attachment]:
    found: list[Attachment] = []
    taken: set[str] = set()
    for index, attachment in enumerate(getattr(message, "attachments", []) or [], start=1):
        if len(found) >= MAX_ATTACHMENTS:
            break
        payload = getattr(attachment, "data", None)
        filename = getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None)
        if isinstance(payload, bytes) and payload:
            found.append(Attachment(_child_name(source, filename, index, taken), payload))
    return found


def load_msg(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Outlook .msg (an OLE compound file) through extract-msg, read from memory."""
    try:
        message = _open_msg(data, source)
        try:
            headers = {
                "From": str(message.sender or ""),
                "To": str(message.to or ""),
                "Cc": str(message.cc or ""),
                "Date": str(message.date or ""),
                "Subject": str(message.subject or ""),
            }
            names = [a.name for a in _msg_attachments(message, source)]
            doc, subject = _mail_document(source, headers, names, "application/vnd.ms-outlook")
            _body_blocks(doc.blocks, message.body, message.htmlBody, source, subject, max_bytes)
        finally:
            message.close()
    except InputError:
        raise
    except Exception as exc:  # extract-msg/olefile raise many types on a damaged file
        raise CorruptDocument(f"{source}: not a readable .msg ({short_reason(exc)})") from exc
    return doc


def mail_attachments(data: bytes, source: str) -> list[Attachment]:
    """The attachments of a message as child documents; [] when the message cannot be read
    (the message itself then fails on its own with a clear error when it is loaded)."""
    try:
        if extension_of(source) == ".eml":
            return _eml_attachments(_parse_eml(data, source), source)
        if extension_of(source) == ".msg":
            message = _open_msg(data, source)
            try:
                return _msg_attachments(message, source)
            finally:
                message.close()
    except Exception:
        return []
    return []
