"""Portal forms fed strange input: bytes that are not UTF-8, foreign origins, impossible times and digits."""

import gc
from typing import Any

from tests.kit.portal import ADMIN, Client, Home, Portal, csrf_in

FORM = "application/x-www-form-urlencoded"


Subs = dict[str, dict[str, Any]]


def system_path(portal: Portal, home: Home) -> str:
    return f"{portal.base}/systems/{home.system_id}"


async def assignments(portal: Portal, token: str, home: Home) -> list[dict[str, Any]]:
    _, body = await portal.api("GET", f"/api/v1/accounts/{portal.account_id}/systems/{home.system_id}", token)
    return list(body["assignments"])


async def test_sign_in_with_a_body_that_is_not_utf8_is_a_400(client: Client) -> None:
    csrf = csrf_in(await (await client.get("/signin")).text())
    for content_type, data in (
        (FORM, b"email=\xff\xfe&password=x&csrf=" + csrf.encode()),
        (f"{FORM}; charset=no-such-charset", b"email=a&password=x&csrf=" + csrf.encode()),
        (
            "multipart/form-data; boundary=XX",
            b'--XX\r\nContent-Disposition: form-data; name="email"\r\n'
            b"Content-Type: text/plain; charset=nope\r\n\r\na\r\n--XX--\r\n",
        ),
        (
            "multipart/form-data; boundary=XX",
            b'--XX\r\nContent-Disposition: form-data; name="email"\r\nX-Big: '
            + b"a" * 9000
            + b"\r\n\r\na\r\n--XX--\r\n",
        ),
        (FORM, b"email=\xff"),
    ):
        response = await client.post(
            "/signin", data=data, headers={"Content-Type": content_type}, allow_redirects=False
        )
        assert response.status == 400, (content_type, response.status, await response.text())
        assert "text/html" in response.content_type


async def test_portal_forms_with_bad_bytes_are_a_400_and_change_nothing(
    admin: Portal, studio: Home, subs: Subs, token: str
) -> None:
    csrf = csrf_in(await admin.page(f"{admin.base}/systems"))
    path = f"{system_path(admin, studio)}/assignments"
    data = b"subscription_id=" + subs["SO-2026-00042"]["id"].encode() + b"&credits=\xff1&csrf=" + csrf.encode()
    response = await admin.client.post(path, data=data, headers={"Content-Type": FORM}, allow_redirects=False)
    assert response.status == 400, await response.text()
    assert await assignments(admin, token, studio) == []


async def test_portal_forms_from_a_foreign_origin_are_refused_even_with_a_valid_token(
    admin: Portal, studio: Home, subs: Subs, token: str
) -> None:
    csrf = csrf_in(await admin.page(f"{admin.base}/systems"))
    fields = {"csrf": csrf, "subscription_id": subs["SO-2026-00042"]["id"], "credits": "1"}
    path = f"{system_path(admin, studio)}/assignments"
    for origin in ("http://evil.example", "null", "http://["):
        response = await admin.client.post(path, data=fields, headers={"Origin": origin}, allow_redirects=False)
        assert response.status == 403, (origin, response.status)
    assert await assignments(admin, token, studio) == []
    own = str(admin.client.make_url("/")).rstrip("/")
    response = await admin.client.post(path, data=fields, headers={"Origin": own}, allow_redirects=False)
    assert response.status == 303
    assert len(await assignments(admin, token, studio)) == 1


async def test_sign_in_from_a_foreign_origin_is_refused(client: Client) -> None:
    csrf = csrf_in(await (await client.get("/signin")).text())
    fields = {"csrf": csrf, "email": ADMIN[0], "password": ADMIN[1], "next": "/"}
    response = await client.post(
        "/signin", data=fields, headers={"Origin": "http://evil.example"}, allow_redirects=False
    )
    assert response.status == 403
    response = await client.post("/signin", data=fields, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/"


async def post_assignment(admin: Portal, studio: Home, fields: dict[str, str]) -> Any:
    csrf = csrf_in(await admin.page(f"{admin.base}/systems"))
    return await admin.client.post(
        f"{system_path(admin, studio)}/assignments", data={"csrf": csrf, **fields}, allow_redirects=False
    )


async def test_portal_auto_revoke_times_that_overflow_and_foreign_digits_are_refused(
    admin: Portal, studio: Home, subs: Subs, token: str
) -> None:
    sub = subs["SO-2026-00042"]["id"]
    for fields in (
        {"credits": "1", "auto_revoke": "on", "auto_revoke_date": "0001-01-01", "auto_revoke_time": "00:00+01:00"},
        {"credits": "1", "auto_revoke": "on", "auto_revoke_date": "9999-12-31", "auto_revoke_time": "23:59-01:00"},
        {"credits": "１"},
        {"credits": "٣"},
    ):
        response = await post_assignment(admin, studio, {"subscription_id": sub, **fields})
        html = await response.text()
        assert response.status == 400, (fields, response.status, html)  # the form again, saying what is wrong
        assert 'class="error flash"' in html or 'role="alert"' in html, html
    assert await assignments(admin, token, studio) == []


async def test_a_page_form_with_a_file_is_a_400_and_leaves_no_file_open(client: Client) -> None:
    """A file part in a page's form (none takes one) is refused before it is spooled: aiohttp's form reader left
    the temporary file open when a later part was malformed (a ResourceWarning, an error under pytest)."""
    csrf = csrf_in(await (await client.get("/signin")).text())
    file_part = b'--XX\r\nContent-Disposition: form-data; name="email"; filename="a.jwt"\r\n\r\nabc\r\n'
    for tail in (b"--XX--\r\n", b"--XX\r\nno headers at all--XX--\r\n"):
        response = await client.post(
            "/signin",
            data=file_part + f'--XX\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'.encode() + tail,
            headers={"Content-Type": "multipart/form-data; boundary=XX"},
            allow_redirects=False,
        )
        assert response.status == 400, await response.text()
    gc.collect()  # an unclosed temporary file would warn here
