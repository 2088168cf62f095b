"""Reading an uploaded file (multipart field ``file`` or the raw body) without ever holding more than the limit."""

from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from flex_emulator.home.domain.licensing import Applied, accept_file
from flex_emulator.home.domain.models import FileKind, UploadResult
from flex_emulator.home.domain.node import Node
from flex_emulator.home.domain.wording import size_of
from flex_emulator.home.link.cloud_link import CloudLink
from flex_emulator.shared.bodies import content_encoding, decode_body, refuse_encoded_form
from flex_emulator.shared.errors import BadRequest, PayloadTooLarge, TokenError
from flex_emulator.shared.journal import token_fields
from flex_emulator.shared.tokens import unverified_seq

CHUNK = 64 * 1024
MULTIPART_OVERHEAD = 16 * 1024  # boundaries, headers and small form fields around the file
MAX_FIELD_BYTES = 4096
MAX_PARTS = 8  # the page's form sends two (token and file); a few more leave room for other clients


@dataclass
class Upload:
    data: bytes
    filename: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


async def apply_upload(node: Node, link: CloudLink, data: bytes) -> Applied:
    """Apply an uploaded file; a credits file applied while online is acknowledged to the cloud at once."""
    try:
        applied = await accept_file(node, data)
    except TokenError as exc:
        node.journal.note("upload_refused", code=exc.code, **refused_file(data))
        raise
    node.journal.note("upload_applied", file=applied.kind, result=applied.result, seq=applied.seq)
    if applied.kind == FileKind.CREDITS and applied.result == UploadResult.APPLIED and applied.receipt:
        await link.send_receipt(applied.receipt, applied.seq)
    return applied


def refused_file(data: bytes) -> dict[str, Any]:
    """What the journal keeps of a refused file: the token it holds (to show what was wrong with it) and its seq."""
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        return {"file_bytes": len(data)}
    return {"seq": unverified_seq(text)} | token_fields(text)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The file is larger than the {size_of(limit)} this HOME accepts.")


@dataclass
class Budget:
    """The bytes and parts one multipart form may hold in all, whatever each part's own cap."""

    total: int
    used: int = 0
    parts: int = 0

    def take_part(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise PayloadTooLarge(f"The form has more than {MAX_PARTS} parts; send the file alone in the field 'file'.")

    def take(self, size: int) -> None:
        self.used += size
        if self.used > self.total:
            raise PayloadTooLarge(
                f"The form is larger than the {size_of(self.total)} this HOME accepts in all; "
                "send the file alone in the field 'file'."
            )


async def _read_part(part: BodyPartReader, cap: int, error: PayloadTooLarge, budget: Budget) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(CHUNK):
        size += len(chunk)
        if size > cap:
            raise error
        budget.take(len(chunk))
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: web.Request, limit: int) -> Upload:
    """The uploaded file; 413 ``too_large`` as soon as it is known to be over ``limit``.

    A body that cannot be read (bad gzip, a malformed multipart header) is a 400 ``malformed``."""
    try:
        return await _read_upload(request, limit)
    except (
        web.RequestPayloadError,
        HttpProcessingError,
    ):  # bad gzip or deflate, a part header too long or with control characters
        raise BadRequest(
            "The upload could not be read: it is cut short, malformed or not in the encoding it claims.",
            code="malformed",
        ) from None
    except (ValueError, AssertionError, LookupError):  # aiohttp's multipart reader says "malformed" this way
        raise BadRequest("The upload is not a valid multipart form.", code="malformed") from None


async def _read_upload(request: web.Request, limit: int) -> Upload:
    is_multipart = request.content_type.startswith("multipart/")
    declared = request.content_length
    if declared is not None and declared > limit + (MULTIPART_OVERHEAD if is_multipart else 0):
        raise _too_large(limit)
    if not is_multipart:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return Upload(decode_body(b"".join(chunks), content_encoding(request), limit))
    refuse_encoded_form(request)
    upload, fields = await _read_parts(await request.multipart(), limit)
    if upload is None:
        raise BadRequest(
            "The form has no 'file' field: choose a credits or license file to upload.", code="missing_field"
        )
    upload.fields = fields
    return upload


async def _read_parts(reader: MultipartReader, limit: int) -> tuple[Upload | None, dict[str, str]]:
    upload: Upload | None = None
    fields: dict[str, str] = {}
    budget = Budget(limit + MULTIPART_OVERHEAD)
    while (part := await reader.next()) is not None:
        budget.take_part()
        if not isinstance(part, BodyPartReader):
            raise BadRequest("Nested multipart forms are not accepted.", code="malformed")
        if part.name == "file" and upload is None:
            upload = Upload(await _read_part(part, limit, _too_large(limit), budget), filename=part.filename)
        elif part.name:
            error = PayloadTooLarge(f"The form field {part.name!r} is too long.")
            fields[part.name] = (await _read_part(part, MAX_FIELD_BYTES, error, budget)).decode(
                "utf-8", errors="replace"
            )
        else:
            await _read_part(part, MAX_FIELD_BYTES, PayloadTooLarge("The form holds an unexpected large part."), budget)
    return upload, fields
