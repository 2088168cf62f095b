"""Hypothesis strategies for hostile input: JSON bodies, forms, uploads, headers, paths and link messages."""

import gzip
import json
import zlib
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from flex_emulator.shared import protocol

DEEP = "[" * 100_000 + "]" * 100_000
FIELDS = [
    "email",
    "password",
    "name",
    "admin",
    "role",
    "credits",
    "subscription_id",
    "auto_revoke_at",
    "registration_code",
    "label",
    "revoke_key",
    "confirm",
    "enabled",
    "url",
    "count",
    "license_type",
    "license_type_needed",
    "duration",
    "state",
    "order_id",
    "now",
    "advance_seconds",
    "identity",
    "cut",
    "latency_ms",
    "drop_next",
    "duplicate_next",
    "clear",
    "format",
    "version",
    "token",
    "system_id",
    "seq",
    "receipt",
    "type",
    "id",
    "code",
    "message",
    "reply_to",
]
FORM_FIELDS = [
    "email",
    "password",
    "next",
    "subscription_id",
    "credits",
    "auto_revoke",
    "auto_revoke_date",
    "auto_revoke_time",
    "confirm",
    "revoke_key",
    "return_to",
    "registration_code",
    "label",
    "role",
    "name",
    "license_type_needed",
    "count",
    "license_type",
    "enabled",
]
QUERY_NAMES = [
    "limit",
    "after",
    "kind",
    "state",
    "timeout",
    "fault",
    "next",
    "step",
    "subscription",
    "credits",
    "sort",
    "order",
    "system",
]
HOSTILE_TEXT = [
    "\ud800",
    "a\udfffb",
    "1e1000000",
    "-1e1000000",
    "1e-1000000",
    "1E999999999",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01",
    "23:59-01:00",
    "２０２６-12-01T00:00:00Z",
    "2026-12-01T00:00:00Z",
    "2026-11-28T10:00:00.400Z",
    "2026-11-28T10:00:00.999999+00:00",
    "１",
    "٣",
    "²",
    "1_0",
    "NaN",
    "Infinity",
    "-0",
    "",
    " ",
    "\x00",
    "\u202e",
    "confirm",
    "admin",
    "operator",
    "monthly",
    "annual",
    "active",
    "inactive",
    "MV",
    "default",
    "credits",
    "perpetual",
    "snapshot",
    "receipt",
    "stale",
    "on",
    "off",
    "x" * 70_000,
    "a@b.c",
    "<script>",
    "../../etc/passwd",
    "//evil.example",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\\evil.example/",
    "%ED%A0%80",
    "1.25",
    "0.1",
    "99999999999999999999",
    "http://127.0.0.1:1",
    "http://10.0.0.1:8802",
    "http://[::1]:1/x",
    "http://user@localhost:1",
    "file:///etc/passwd",
    "12.0",
]
RAW_JSON = [
    b"",
    DEEP.encode(),
    b'{"credits": 1e1000000}',
    b'{"advance_seconds": 1e1000000}',
    b'{"now": "0001-01-01T00:00:00+01:00"}',
    b'{"a": NaN}',
    b'{"count": Infinity}',
    b"[1]",
    b'"text"',
    b"{",
    b"\xff\xfe",
    b'{"email": "\\ud800"}',
    b"null",
    b'{"a": ' * 40 + b"1" + b"}" * 40,
    b'{"count": ' + b"9" * 5000 + b"}",
    b'{"enabled": true, "enabled": "x"}',
]
JSON_TYPES = [
    "application/json",
    "application/json",
    "application/json",
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "application/vnd.fuzz+json",
    "application/jwt",
]
ENCODINGS = [None, None, None, None, "gzip", "deflate", "gzip-bad", "deflate-bad", "x-unknown", "br", "gzip, gzip"]
ORIGINS = [None, None, None, "null", "http://evil.example", "own", "http://[", "garbage"]
FOREIGN_ORIGINS = {"null", "http://evil.example", "http://[", "garbage"}
# What a browser's <form> can send: a body of one of these types is never JSON, not even when it is empty.
FORM_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=20))


def scalars(known: list[str]) -> st.SearchStrategy[Any]:
    numbers = st.one_of(
        st.integers(-(2**70), 2**70),
        st.sampled_from([0, 1, -1, 10**30, 2**53, 2**63]),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    return st.one_of(hostile_text(), numbers, st.booleans(), st.none(), st.sampled_from(known or ["none"]))


def json_values(known: list[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(known),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )


@st.composite
def json_body(draw: st.DrawFn, known: list[str]) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(RAW_JSON) | st.binary(max_size=64))
    data = draw(st.dictionaries(st.sampled_from(FIELDS), json_values(known), max_size=6))
    if draw(st.booleans()):
        return json.dumps(data).encode()  # lone surrogates as \\ud800 escapes
    return json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")  # ... or as raw, invalid UTF-8


def encode_body(body: bytes, encoding: str | None) -> tuple[bytes, str | None]:
    """The body as sent, and its Content-Encoding header."""
    if encoding == "gzip":
        return gzip.compress(body), "gzip"
    if encoding == "deflate":
        return zlib.compress(body), "deflate"
    if encoding in ("gzip-bad", "deflate-bad"):
        return body or b"not compressed", encoding.removesuffix("-bad")
    return body, encoding


def url_text(text: str) -> str:
    """Percent-encode anything, lone surrogates included (as the invalid UTF-8 bytes they would be)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def path_value(draw: st.DrawFn, known: list[str]) -> str:
    if known and draw(st.integers(0, 2)) > 0:
        return draw(st.sampled_from(known))
    return url_text(draw(hostile_text().filter(lambda text: 0 < len(text) < 300)))


@st.composite
def query(draw: st.DrawFn, known: list[str]) -> str:
    value = st.one_of(hostile_text().filter(lambda text: len(text) < 300), st.sampled_from(known or ["none"]))
    pairs = draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES), value), max_size=3))
    return ("?" + "&".join(f"{name}={url_text(value)}" for name, value in pairs)) if pairs else ""


@st.composite
def form_body(draw: st.DrawFn, csrf_field: str, csrf: str, known: list[str]) -> tuple[bytes, str]:
    """A form as a browser (or something pretending to be one) might post it: urlencoded, multipart, or broken."""
    fields = draw(
        st.dictionaries(
            st.sampled_from(FORM_FIELDS), st.one_of(hostile_text(), st.sampled_from(known or ["none"])), max_size=5
        )
    )
    if draw(st.integers(0, 3)) > 0:
        fields[csrf_field] = csrf
    kind = draw(st.sampled_from(["urlencoded", "urlencoded", "raw", "multipart", "multipart-broken"]))
    if kind == "urlencoded":
        return "&".join(
            f"{url_text(name)}={url_text(value)}" for name, value in fields.items()
        ).encode(), "application/x-www-form-urlencoded"
    if kind == "raw":
        raw = draw(
            st.sampled_from([b"name=\xff\xfe", b"email=%ED%A0%80&password=\xc3", b"a=1&&&==", b"\x00" * 10])
            | st.binary(max_size=64)
        )
        charset = draw(st.sampled_from(["", "; charset=utf-8", "; charset=no-such-charset", "; charset=utf-16"]))
        return raw, "application/x-www-form-urlencoded" + charset
    parts = [multipart_part(name, value) for name, value in fields.items()]
    if draw(st.booleans()):
        parts.append(
            multipart_part(
                "file",
                draw(st.binary(max_size=200)),
                filename=draw(st.sampled_from(["a.jwt", "x.lic", "é.jwt", "a\x01b"])),
            )
        )
    if kind == "multipart-broken":
        parts.append(draw(st.sampled_from(BROKEN_PARTS)))
    return b"".join(parts) + b"--XX--\r\n", "multipart/form-data; boundary=XX"


def multipart_part(name: str, value: str | bytes, filename: str | None = None) -> bytes:
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (
        b"--XX\r\nContent-Disposition: " + disposition.encode("utf-8", "surrogatepass") + b"\r\n\r\n" + data + b"\r\n"
    )


BROKEN_PARTS = [
    b'--XX\r\nContent-Disposition: form-data; name="file"\r\nX-Big: ' + b"a" * 9000 + b"\r\n\r\nx\r\n",
    b'--XX\r\nContent-Disposition: form-data; name="a\x01"; filename="\x7f"\r\n\r\nx\r\n',
    b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename*=utf-8''%ED%A0%80%FF\r\n\r\nx\r\n",
    b'--XX\r\nContent-Disposition: form-data; name="n"\r\nContent-Type: text/plain; charset=no-such\r\n\r\nx\r\n',
    b'--XX\r\nContent-Disposition: form-data; name="n"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n',
    b"--XX\r\nno headers at all",
    b"--YY\r\n\r\n",
]


def link_message(known: list[str]) -> st.SearchStrategy[str | bytes]:
    envelope = st.fixed_dictionaries(
        {
            "id": st.one_of(st.integers(-5, 2**64), hostile_text()),
            "type": st.sampled_from(["auth", "receipt", "error", "snapshot", "welcome", "nope"]) | hostile_text(),
        },
        optional={
            name: json_values(known) for name in ("token", "system_id", "seq", "receipt", "code", "message", "reply_to")
        },
    )
    as_text = envelope.map(lambda data: json.dumps(data))
    raw = st.sampled_from(
        [
            "<deep>",
            '{"id": 1, "type": "receipt", "token": "\\ud800"}',
            "not json",
            "[]",
            "null",
            '{"id": true, "type": "receipt"}',
            '{"id": 1e1000000, "type": "x"}',
        ]
    )
    return st.one_of(as_text, as_text, raw, st.binary(max_size=32), st.just("<oversized>"))


def expand(message: str | bytes) -> str | bytes:
    """The message to send: ``<deep>`` and ``<oversized>`` stand for ones too large to show in a report."""
    oversized = "x" * (protocol.MAX_MESSAGE_BYTES + 1)
    return {"<deep>": DEEP, "<oversized>": oversized}.get(message, message) if isinstance(message, str) else message
