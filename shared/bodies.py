"""Reading what a client sends, so that any strange input is a clear 4xx: JSON, forms, encodings.

Every JSON body, WebSocket message and form of both services passes through here, so each
class of hostile input is refused in one place rather than in each handler.
"""

import json
import zlib
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import BodyPartReader
from multidict import MultiDict, MultiDictProxy

from flex_emulator.shared.errors import ApiError, BadRequest, PayloadTooLarge

MAX_JSON_DEPTH = 32
SUPPORTED_ENCODINGS = ("identity", "gzip", "deflate")
# Both apps decode request bodies themselves (decode_body): aiohttp's own decoder answers a bad body
# that arrives with the headers in plain text, before any of our code runs, and has none for br or zstd.
HANDLER_ARGS = {"auto_decompress": False}
JSON_TYPES = ("application/json",)

FormData = MultiDictProxy[str | bytes | bytearray | web.FileField]


class BadJson(ValueError):
    """Text that is not a JSON document we accept (syntax, nesting, lone surrogates)."""


def parse_json(raw: bytes | str) -> Any:
    """The JSON document in ``raw``; nesting past ``MAX_JSON_DEPTH`` and lone surrogates are refused.

    A lone surrogate (``"\\ud800"``) is valid JSON syntax but not text: SQLite, PyJWT and the
    ledger cannot encode it, so it is refused here, before any of them sees it.
    """
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadJson("The JSON is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        raise BadJson("The text is not valid JSON.") from None
    _check(data)
    return data


def _check(data: Any) -> None:
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, (list, dict)):
            if depth >= MAX_JSON_DEPTH:
                raise BadJson(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadJson("The JSON holds a lone surrogate (such as \\ud800), which is not text.") from None


def is_json_type(content_type: str) -> bool:
    return content_type in JSON_TYPES or (content_type.startswith("application/") and content_type.endswith("+json"))


def refuse_unsupported_encoding(request: web.Request) -> None:
    """415 before the body is read when it comes in an encoding this service does not decode."""
    encoding = request.headers.get("Content-Encoding")
    if encoding is None or not request.body_exists:
        return
    if encoding.strip().lower() not in SUPPORTED_ENCODINGS:
        raise ApiError(
            f"Request bodies may be sent as identity, gzip or deflate, not {encoding[:40]!r}.",
            code="unsupported_encoding",
            status=415,
        )


def body_error() -> BadRequest:
    return BadRequest(
        "The request body could not be read: it is cut short or not in the encoding it claims.", code="bad_body"
    )


def content_encoding(request: web.Request) -> str | None:
    """``gzip`` or ``deflate`` when the body is sent so (after refuse_unsupported_encoding), else None."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    return encoding if encoding in ("gzip", "deflate") else None


def decode_body(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """``raw`` decoded from ``encoding``; never more than ``limit`` bytes come out (413), a bad stream is a 400."""
    if encoding is None:
        return raw
    attempts = (
        [zlib.MAX_WBITS | 16] if encoding == "gzip" else [zlib.MAX_WBITS, -zlib.MAX_WBITS]
    )  # deflate: zlib-wrapped or raw
    for wbits in attempts:
        decoder = zlib.decompressobj(wbits)
        try:
            data = decoder.decompress(raw, limit + 1)
        except zlib.error:
            continue
        if len(data) > limit:
            raise PayloadTooLarge(
                f"The request body is larger than the {limit // 1024} KiB this service accepts once decoded."
            )
        if not decoder.eof or decoder.unused_data:
            break
        return data
    raise body_error()


async def read_body(request: web.Request) -> bytes:
    try:
        raw = await request.read()
    except (web.RequestPayloadError, HttpProcessingError):
        raise body_error() from None
    return decode_body(raw, content_encoding(request), request.client_max_size)


def refuse_encoded_form(request: web.Request) -> None:
    if content_encoding(request) is not None:
        raise ApiError(
            "Forms and uploads are read as they are: send them without a Content-Encoding.",
            code="unsupported_encoding",
            status=415,
        )


async def read_form(request: web.Request) -> FormData:
    """The posted form; a body that is not UTF-8, names an unknown charset or is malformed is a 400."""
    refuse_encoded_form(request)
    try:
        if request.content_type.startswith("multipart/"):
            return await _multipart_fields(request)
        return await request.post()
    except (web.RequestPayloadError, HttpProcessingError, UnicodeDecodeError, LookupError, ValueError, AssertionError):
        raise BadRequest("The form could not be read: send it as UTF-8 from the page.", code="bad_form") from None


async def _multipart_fields(request: web.Request) -> FormData:
    """A multipart page form's text fields. Read here, not by ``request.post()``: that spools each file part to
    a temporary file and leaves it open when a later part is malformed. No page form takes a file (HOME's
    upload reads its own multipart), so a file part is refused before anything is spooled."""
    fields: MultiDict[str | bytes | bytearray | web.FileField] = MultiDict()
    budget = request.client_max_size
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.filename is not None:
            raise BadRequest("A page's form holds text fields only, never a file.", code="bad_form")
        raw = bytearray()
        while chunk := await part.read_chunk():
            budget -= len(chunk)
            if budget < 0:
                raise PayloadTooLarge("The form is larger than this service accepts.")
            raw.extend(chunk)
        fields.add(part.name or "", bytes(part.decode(raw)).decode(part.get_charset(default="utf-8")))
    return MultiDictProxy(fields)
