"""One budget for a whole multipart form: too many parts or too many bytes change nothing."""

from collections.abc import AsyncIterator

import aiohttp
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.web.uploads import MAX_PARTS
from tests.kit.home import (
    HomeFactory,
    credits_view,
    csrf_token,
    entry,
    page,
    snapshot_token,
    system_id,
)


def form_with_fields(token: str, fields: list[tuple[str, str]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields:
        form.add_field(name, value)
    form.add_field("file", token.encode(), filename="credits.jwt", content_type="application/jwt")
    return form


def multipart_body(boundary: str, fields: list[tuple[str, str]], token: str) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in fields
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="credits.jwt"\r\n'
        f"Content-Type: application/jwt\r\n\r\n{token}\r\n--{boundary}--\r\n"
    )
    return "".join(parts).encode()


async def chunked(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    """An upload without a Content-Length: the server only learns its size by reading it."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_form_with_too_many_parts_is_refused_and_changes_nothing(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    token = snapshot_token(cloud_key, await system_id(home), 1, (entry("a1", 8),))
    fields = [(f"extra{n}", "x") for n in range(MAX_PARTS * 3)]
    response = await home.post("/api/v1/file-licenses", data=form_with_fields(token, fields))
    assert response.status == 413
    error = (await response.json())["error"]
    assert error["code"] == "too_large" and f"more than {MAX_PARTS} parts" in error["message"]
    assert (await credits_view(home))["total"] == 0

    form_token = await csrf_token(home)
    form = form_with_fields(token, [("csrf_token", form_token), *fields])
    response = await home.post("/file-licenses", data=form, headers={"Accept": "text/html"}, allow_redirects=False)
    assert response.status == 303
    html = await page(home, "/file-licenses")
    assert "The upload is too large" in html and f"more than {MAX_PARTS} parts" in html
    assert (await credits_view(home))["total"] == 0


async def test_a_form_over_the_total_byte_budget_is_refused_even_when_each_part_is_small(
    start_home: HomeFactory, cloud_key: Ed25519PrivateKey
) -> None:
    home = await start_home(max_upload_bytes=4096)  # the whole form may hold 4 KiB + 16 KiB
    token = snapshot_token(cloud_key, await system_id(home), 1, (entry("a1", 8),))
    fields = [(f"pad{n}", "y" * 4000) for n in range(MAX_PARTS - 2)]  # each under the 4 KiB field cap
    boundary = "audit-boundary-7f3a"
    response = await home.post(
        "/api/v1/file-licenses",
        data=chunked(multipart_body(boundary, fields, token)),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status == 413
    error = (await response.json())["error"]
    assert error["code"] == "too_large" and "20 KiB" in error["message"]
    assert (await credits_view(home))["total"] == 0
    # The same file with the form's usual small fields is still accepted.
    small = multipart_body(boundary, [("note", "ok")], token)
    response = await home.post(
        "/api/v1/file-licenses",
        data=chunked(small),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status == 200
    assert (await credits_view(home))["total"] == 2
