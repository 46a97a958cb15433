"""Request bodies: nothing is read before the caller is known, and nothing beyond a limit.

``BodyGuard`` is a pure ASGI middleware in front of every route. For all but the public ones
(``/healthz``, the UI page and its static assets) it authenticates the credential first, with
the routes' own ``get_principal``, and answers 401 without reading a byte of the body. Then it
bounds the body: a declared ``Content-Length`` over the route's limit gets 413 at once, and a
chunked body is counted as the application reads it, 413 as soon as it crosses the limit. An
answer given before the body was read whole closes the connection, so the client stops sending.

Uploads (``MultipartUpload``) are parsed as they stream in, with python-multipart's streaming
parser, and each file goes straight into the encrypted staging area (``ingest.jobs.Staging``):
never a temp file, never a whole file in memory. The per-file, per-request count and total
limits are enforced while streaming; a refused or broken upload leaves nothing staged.

Limits (``gateway`` settings): ``max_body_kb`` for any body but an upload's, ``max_upload_mb``
per file, ``max_upload_files`` and ``max_upload_total_mb`` per upload request.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enclave_core.errors import DocumentTooLarge, EnclaveError, InputError
from enclave_core.settings import GatewaySettings
from ingest.jobs import StagedWriter, Staging
from services.gateway.api.routes.openai_compat import is_openai_path, openai_error_response
from services.gateway.deps import get_principal
from services.gateway.errors import status_for

__all__ = ["BodyGuard", "BodyTooLarge", "MultipartUpload", "UploadLimits", "is_public", "is_upload"]

_PUBLIC_PATHS = frozenset({"/healthz", "/", "/favicon.ico"})
_PUBLIC_PREFIX = "/ui/"
_UPLOAD = re.compile(r"/v1/collections/[^/]+/documents/?")
# Room for the multipart framing and the form fields beyond the files' own bytes.
_FIELDS_KB = 64


class BodyTooLarge(DocumentTooLarge):
    """A request body over a configured limit (HTTP 413)."""


def is_public(path: str) -> bool:
    """Served without a credential: liveness and the UI's own files (it signs in with a key)."""
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIX)


def is_upload(method: str, path: str) -> bool:
    return method == "POST" and _UPLOAD.fullmatch(path) is not None


@dataclass(frozen=True)
class UploadLimits:
    file_bytes: int
    files: int
    total_bytes: int
    fields_bytes: int  # all form fields (groups, paths) together

    @classmethod
    def from_settings(cls, gateway: GatewaySettings) -> UploadLimits:
        return cls(
            file_bytes=gateway.max_upload_mb << 20,
            files=gateway.max_upload_files,
            total_bytes=gateway.max_upload_total_mb << 20,
            fields_bytes=max(gateway.max_body_kb, _FIELDS_KB) << 10,
        )

    @property
    def body_bytes(self) -> int:
        """The most an upload's raw body may hold: its files, its fields, and their framing."""
        return self.total_bytes + self.fields_bytes + self.files * 1024


class BodyGuard:
    """Authenticate, then bound the body (see the module's docstring)."""

    def __init__(self, app: ASGIApp, gateway: GatewaySettings) -> None:
        self.app = app
        self.json_limit = gateway.max_body_kb << 10
        self.upload = UploadLimits.from_settings(gateway)

    def limit_for(self, method: str, path: str) -> tuple[int, str]:
        if is_upload(method, path):
            mb = self.upload.total_bytes >> 20
            return self.upload.body_bytes, f"an upload may hold at most {mb} MB (gateway.max_upload_total_mb)"
        kb = self.json_limit >> 10
        return self.json_limit, f"a request body may hold at most {kb} KB (gateway.max_body_kb)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        headers = request.headers
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        try:
            declared: int | None = int(headers["content-length"]) if "content-length" in headers else None
        except ValueError:
            declared = None
        expects_body = chunked or bool(declared)

        if not is_public(scope["path"]):
            refusal = await self._authenticate(request)
            if refusal is not None:
                await _close_after(refusal, expects_body)(scope, receive, send)
                return
        limit, message = self.limit_for(scope["method"], scope["path"])
        if declared is not None and declared > limit:
            refused = await self._error(request, BodyTooLarge(message))
            await _close_after(refused, expects_body)(scope, receive, send)
            return

        received = 0
        body_done = not expects_body
        exceeded = False
        started = False
        replaced = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done, exceeded
            message_in = await receive()
            if message_in["type"] == "http.request":
                received += len(message_in.get("body", b""))
                if not message_in.get("more_body", False):
                    body_done = True
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(message)
            return message_in

        async def guarded_send(message_out: Message) -> None:
            nonlocal replaced, started
            if replaced:
                return  # the application's own answer to a body it could not read whole
            if message_out["type"] == "http.response.start":
                started = True
                if exceeded:
                    # Whatever the application made of the cut body (a parse error, say): the answer is 413.
                    replaced = True
                    refused = await self._error(request, BodyTooLarge(message))
                    await _close_after(refused, True)(scope, receive, send)
                    return
                if not body_done:
                    message_out = {**message_out, "headers": [*message_out.get("headers", []), _CLOSE]}
            await send(message_out)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except BodyTooLarge:
            if started:
                if replaced:
                    return
                raise
            refused = await self._error(request, BodyTooLarge(message))
            await _close_after(refused, True)(scope, receive, send)

    async def _authenticate(self, request: Request) -> Response | None:
        """None when the credential is valid, else the 401 (or other) answer the routes would give."""
        state = request.app.state.enclave
        try:
            await get_principal(request, state)  # a valid API key without a thread hop
        except EnclaveError as exc:
            return await self._error(request, exc)
        return None

    async def _error(self, request: Request, exc: EnclaveError) -> Response:
        """The answer the application's own error handler gives (services.gateway.errors), or, on
        the OpenAI-compatible routes, the same error in OpenAI's shape."""
        if is_openai_path(request.url.path):
            return openai_error_response(exc)
        handler = getattr(request.app, "exception_handlers", {}).get(EnclaveError)
        if handler is not None:
            response: Response = await handler(request, exc)
            return response
        return JSONResponse({"error": exc.__class__.__name__, "detail": str(exc)}, status_code=status_for(exc))


_CLOSE = (b"connection", b"close")


def _close_after(response: Response, body_pending: bool) -> Response:
    """The response, telling the client (and the server) to close the connection when the request
    body was not read: the server then stops reading it, and the client stops sending it."""
    if body_pending:
        response.headers["connection"] = "close"
    return response


# --- streaming multipart uploads --------------------------------------------------------------


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    writer: StagedWriter | None = None
    data: bytearray = field(default_factory=bytearray)
    header_name: bytes = b""
    header_value: bytes = b""
    disposition: bytes = b""


class MultipartUpload:
    """A multipart/form-data upload parsed as it arrives (``feed`` chunk by chunk, then ``finish``).

    Parts named ``files`` are streamed into ``staging`` under a fresh staging id (file i at index
    i); ``groups`` and ``paths`` are kept (the other fields are ignored, as before). Every limit
    is checked as the bytes come: ``DocumentTooLarge``/``BodyTooLarge`` (413) at the first byte
    over one. ``discard`` removes whatever was staged. Blocking (it encrypts and writes): call it
    from a worker thread.
    """

    def __init__(self, staging: Staging, content_type: str, limits: UploadLimits) -> None:
        kind, params = parse_options_header(content_type)
        if kind != b"multipart/form-data" or not params.get(b"boundary"):
            raise _missing_files()
        charset = params.get(b"charset", b"utf-8").decode("latin-1")
        try:
            self._charset = codecs.lookup(charset).name
        except LookupError:
            self._charset = "latin-1"
        self.staging = staging
        self.limits = limits
        self.stage_id = staging.new_upload()
        self.filenames: list[str | None] = []
        self.groups = ""
        self.paths: list[str] | None = None
        self._writers: list[StagedWriter] = []
        self._total = 0
        self._fields_bytes = 0
        self._fields = 0
        self._part = _Part()
        self._ended = False
        callbacks: dict[str, Callable[..., None]] = {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }
        try:
            self._parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
        except FormParserError as exc:
            raise InputError("invalid multipart boundary") from exc

    @property
    def sha256s(self) -> list[str]:
        return [w.sha256 for w in self._writers]

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise InputError("malformed multipart body") from exc

    def finish(self) -> None:
        if not self.filenames:
            raise _missing_files()
        if not self._ended:
            raise InputError("the multipart body ended before its closing boundary")

    def discard(self) -> None:
        for writer in self._writers:
            if not writer.closed:
                writer.abort()
        self.staging.drop_job(self.stage_id)

    # -- parser callbacks -------------------------------------------------------------------

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode(self._charset)
        except (UnicodeDecodeError, LookupError):
            return raw.decode("latin-1")

    def _on_part_begin(self) -> None:
        self._part = _Part()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._part.header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._part.header_value += data[start:end]

    def _on_header_end(self) -> None:
        if self._part.header_name.lower() == b"content-disposition":
            self._part.disposition = self._part.header_value
        self._part.header_name = self._part.header_value = b""

    def _on_headers_finished(self) -> None:
        part = self._part
        _, options = parse_options_header(part.disposition)
        if b"name" not in options:
            raise InputError('a multipart part without a name (Content-Disposition: form-data; name="...")')
        part.name = self._decode(options[b"name"])
        if part.name == "files":
            if len(self.filenames) >= self.limits.files:
                raise BodyTooLarge(f"an upload holds at most {self.limits.files} files (gateway.max_upload_files)")
            part.filename = self._decode(options[b"filename"]) if b"filename" in options else None
            part.writer = self.staging.writer(self.stage_id, len(self.filenames))
            self._writers.append(part.writer)
            self.filenames.append(part.filename)
            return
        self._fields += 1
        if self._fields > self.limits.files + 16:
            raise BodyTooLarge("too many form fields in one upload")

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part, size = self._part, end - start
        if part.writer is None:
            self._fields_bytes += size
            if self._fields_bytes > self.limits.fields_bytes:
                kb = self.limits.fields_bytes >> 10
                raise BodyTooLarge(f"the form fields of an upload may hold at most {kb} KB in all")
            part.data += data[start:end]
            return
        self._total += size
        if part.writer.size + size > self.limits.file_bytes:
            shown = part.filename or f"file {len(self.filenames)}"
            mb = self.limits.file_bytes >> 20
            raise DocumentTooLarge(
                f"{shown[:80]}: larger than the {mb} MB per-file upload limit (gateway.max_upload_mb)"
            )
        if self._total > self.limits.total_bytes:
            mb = self.limits.total_bytes >> 20
            raise BodyTooLarge(f"the files of one upload may hold at most {mb} MB in all (gateway.max_upload_total_mb)")
        part.writer.write(data[start:end])

    def _on_part_end(self) -> None:
        part = self._part
        if part.writer is not None:
            part.writer.close()
        elif part.name == "groups":
            self.groups = self._decode(bytes(part.data))  # the last one wins, as with a form field
        elif part.name == "paths":
            self.paths = [*(self.paths or []), self._decode(bytes(part.data))]

    def _on_end(self) -> None:
        self._ended = True


def _missing_files() -> RequestValidationError:
    """What a request without any ``files`` part always got: 422, field required."""
    return RequestValidationError([{"type": "missing", "loc": ("body", "files"), "msg": "Field required"}])
