"""Strange input on purpose: every class of bad request to HOME is a clear 4xx, and no other site can drive it."""

import asyncio
import gzip
from typing import Any

from aiohttp.test_utils import TestClient

from tests.kit.api import assert_error
from tests.kit.cross_site import EMPTY_FORM_TYPES, assert_foreign_origins_refused
from tests.kit.home import HTML, csrf_token, post_form

JSON = {"Content-Type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000
RESOURCE = b'{"name": "Cam 1", "license_type_needed": "MV", "count": 1}'
MULTIPART = "multipart/form-data; boundary=XX"


async def answer(response: Any) -> tuple[int, Any]:
    body = await response.json() if response.content_type == "application/json" else await response.text()
    return response.status, body


async def post_raw(home: TestClient, path: str, data: bytes, headers: dict[str, str] = JSON) -> tuple[int, Any]:
    return await answer(await home.post(path, data=data, headers=headers))


async def resource_count(home: TestClient) -> int:
    return len((await (await home.get("/api/v1/resources")).json())["resources"])


async def test_deeply_nested_json_is_a_400(home: TestClient) -> None:
    for method, path in (("POST", "/api/v1/resources"), ("PUT", "/api/v1/cloud-link"), ("POST", "/_emulator/clock")):
        status, body = await answer(await home.request(method, path, data=DEEP, headers=JSON))
        assert status == 400, (path, body)
        assert_error(body, "bad_json")


async def test_lone_surrogates_are_refused(home: TestClient) -> None:
    for raw in (
        b'{"name": "\\ud800", "license_type_needed": "MV", "count": 1}',
        b'{"name": "Cam", "license_type_needed": "\\udfff", "count": 1}',
        b'{"name": "Cam", "license_type_needed": "MV", "count": 1, "\\ud800": 1}',
    ):
        status, body = await post_raw(home, "/api/v1/resources", raw)
        assert status == 400, body
        assert_error(body, "bad_json")
    assert await resource_count(home) == 0


async def test_resource_ids_and_counts_take_ascii_digits_only(home: TestClient) -> None:
    status, _ = await post_raw(home, "/api/v1/resources", RESOURCE)
    assert status == 201
    for raw in ("²", "１", "٣", "1１"):
        for suffix in ("", "/start", "/stop"):
            method = "GET" if not suffix else "POST"
            status, body = await answer(await home.request(method, f"/api/v1/resources/{raw}{suffix}"))
            assert status == 404, (raw, suffix, body)
            assert_error(body, "not_found")
    token = await csrf_token(home, "/resources")
    for count in ("１", "٣", "²"):
        response = await post_form(
            home,
            "/resources",
            {"name": "Cam", "license_type_needed": "MV", "count": count, "license_type": "default"},
            token,
        )
        assert response.status == 400, await response.text()
    response = await post_form(home, "/resources/１/start", {}, token)
    assert response.status == 303
    assert (await home.get("/api/v1/resources/1")).status == 200
    assert (await (await home.get("/api/v1/resources/1")).json())["resource"]["status"] == "stopped"
    assert await resource_count(home) == 1


async def test_form_bodies_that_are_not_utf8_are_a_400(home: TestClient) -> None:
    token = await csrf_token(home, "/resources")
    for content_type, data in (
        ("application/x-www-form-urlencoded", b"name=\xff\xfe&csrf_token=" + token.encode()),
        ("application/x-www-form-urlencoded; charset=no-such-charset", b"name=a&csrf_token=" + token.encode()),
        (
            MULTIPART,
            b'--XX\r\nContent-Disposition: form-data; name="name"\r\n'
            b"Content-Type: text/plain; charset=no-such\r\n\r\nA\r\n--XX--\r\n",
        ),
    ):
        for path in ("/resources", "/settings/cloud", "/resources/1/start"):
            response = await home.post(
                path, data=data, headers=HTML | {"Content-Type": content_type}, allow_redirects=False
            )
            assert response.status == 400, (path, content_type, response.status, await response.text())
    assert await resource_count(home) == 0


def part(headers: bytes, body: bytes = b"hello") -> bytes:
    return b"--XX\r\n" + headers + b"\r\n\r\n" + body + b"\r\n--XX--\r\n"


async def test_malformed_multipart_uploads_are_a_400_and_the_connection_stays_usable(home: TestClient) -> None:
    cases: list[tuple[bytes, dict[str, str]]] = [
        (part(b'Content-Disposition: form-data; name="file"\r\nX-Big: ' + b"a" * 9000), {"Content-Type": MULTIPART}),
        (part(b'Content-Disposition: form-data; name="file"; filename="a\x01\x7f.jwt"'), {"Content-Type": MULTIPART}),
        (
            part(b"Content-Disposition: form-data; name=\"file\"; filename*=utf-8''%ED%A0%80%FF"),
            {"Content-Type": MULTIPART},
        ),
        (b"not gzip at all", {"Content-Type": MULTIPART, "Content-Encoding": "gzip"}),
        (b"not gzip at all", {"Content-Type": "application/jwt", "Content-Encoding": "gzip"}),
        (b"not deflate at all", {"Content-Type": "application/jwt", "Content-Encoding": "deflate"}),
    ]
    for data, headers in cases:
        for path, extra in (("/api/v1/file-licenses", {}), ("/file-licenses", HTML)):
            status, body = await answer(
                await home.post(path, data=data, headers=headers | extra, allow_redirects=False)
            )
            if path.startswith("/api/"):
                assert 400 <= status < 500, (path, data[:80], headers, status, body)
                assert body["error"]["code"] in ("malformed", "bad_body", "unsupported_encoding"), body
            else:  # the page says so in its one-time message, as for any refused upload
                assert status == 303 or 400 <= status < 500, (path, data[:80], headers, status, body)
            assert (await home.get("/healthz")).status == 200
    # a multipart body is read only as it is (browsers never encode one); a raw file may come gzip-encoded
    status, body = await post_raw(
        home,
        "/api/v1/file-licenses",
        gzip.compress(part(b'Content-Disposition: form-data; name="file"')),
        {"Content-Type": MULTIPART, "Content-Encoding": "gzip"},
    )
    assert status == 415 and body["error"]["code"] == "unsupported_encoding", body
    status, body = await post_raw(
        home,
        "/api/v1/file-licenses",
        gzip.compress(b"not a licence"),
        {"Content-Type": "application/jwt", "Content-Encoding": "gzip"},
    )
    assert status == 400 and body["error"]["code"] == "malformed", body


async def test_an_undecodable_deflate_body_sent_after_the_headers_gets_an_answer(home: TestClient) -> None:
    assert home.server.port is not None
    for path, content_type, deflate in (
        ("/api/v1/resources", "application/json", b"400"),
        ("/api/v1/file-licenses", "application/jwt", b"400"),
        ("/resources", "application/x-www-form-urlencoded", b"415"),  # forms are read only as they are
    ):
        for encoding, status in (
            ("deflate", deflate),
            ("br", b"415"),
            ("x-unknown", b"415"),
            ("gzip, deflate", b"415"),
        ):
            body = b"this is not compressed"
            head = (
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
                f"Content-Encoding: {encoding}\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            for split in (True, False):  # the body after the headers, or in the same packet
                reader, writer = await asyncio.open_connection("127.0.0.1", home.server.port)
                writer.write(head.encode() + (b"" if split else body))
                await writer.drain()
                if split:
                    await asyncio.sleep(0.05)
                    writer.write(body)
                    await writer.drain()
                reply = await asyncio.wait_for(reader.read(200), 5)
                writer.close()
                assert reply.startswith(b"HTTP/1.1 " + status) and b"application/json" in reply, (
                    path,
                    encoding,
                    split,
                    reply,
                )


async def test_the_json_api_refuses_cross_site_writes(home: TestClient) -> None:
    for origin in ("null", "http://evil.example", "not a url", "http://["):
        for method, path, data in (
            ("POST", "/api/v1/resources", RESOURCE),
            ("PUT", "/api/v1/cloud-link", b'{"enabled": true}'),
            ("POST", "/api/v1/file-licenses", b"x"),
        ):
            status, body = await answer(await home.request(method, path, data=data, headers=JSON | {"Origin": origin}))
            assert status == 403, (origin, path, body)
            assert_error(body, "cross_origin")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        status, body = await post_raw(home, "/api/v1/resources", RESOURCE, {"Content-Type": content_type})
        assert status == 415, (content_type, body)
        assert_error(body, "unsupported_media_type")
    assert await resource_count(home) == 0
    # scripts (no Origin) and HOME's own pages (same origin) still work
    status, _ = await post_raw(home, "/api/v1/resources", RESOURCE)
    assert status == 201
    own = f"http://{home.host}:{home.port}"
    status, _ = await post_raw(home, "/api/v1/resources", RESOURCE, JSON | {"Origin": own})
    assert status == 201
    status, _ = await answer(await home.post("/api/v1/resources/1/start"))
    assert status == 200


async def test_page_forms_from_a_null_origin_are_refused(home: TestClient) -> None:
    token = await csrf_token(home, "/resources")
    fields = {"name": "Cam", "license_type_needed": "MV", "count": "1", "license_type": "default"}
    response = await home.post(
        "/resources", data=fields | {"csrf_token": token}, headers=HTML | {"Origin": "null"}, allow_redirects=False
    )
    assert response.status == 403
    assert await resource_count(home) == 0


async def test_no_emulator_route_answers_another_sites_page(home: TestClient) -> None:
    """Reading HOME's journal or clock is refused to another site's page too, not only its writes; a body-less form
    is not an empty JSON body."""
    await post_raw(home, "/api/v1/resources", RESOURCE)
    assert await assert_foreign_origins_refused(home) >= 4
    for content_type in EMPTY_FORM_TYPES:
        for path in ("/_emulator/reset", "/_emulator/clock"):
            status, body = await post_raw(home, path, b"", {"Content-Type": content_type})
            assert status == 415, (path, content_type, body)
            assert_error(body, "unsupported_media_type")
    assert await resource_count(home) == 1
    own = f"http://{home.host}:{home.port}"
    status, _ = await answer(await home.get("/_emulator/events", headers={"Origin": own}))
    assert status == 200
    status, _ = await post_raw(home, "/_emulator/reset", b"", JSON | {"Origin": own})
    assert status == 200
    assert await resource_count(home) == 0
