"""Signing in and out, the session cookie, CSRF, the account menu and the error pages."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from yarl import URL

from flex_emulator.cloud.web.access import SESSION_COOKIE
from flex_emulator.cloud.web.pages import subscriptions as pages_subscriptions
from tests.kit import DEMO_ADMIN
from tests.kit.portal import ADMIN, OPERATOR, Client, Portal, SignIn, csrf_in


async def test_a_visitor_without_a_session_is_sent_to_sign_in(client: Client) -> None:
    response = await client.get("/", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/signin")
    response = await client.get("/accounts/acc_x/systems", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/signin?next=/accounts/acc_x/systems"


async def test_sign_in_sets_an_http_only_lax_session_cookie_and_opens_systems(client: Client) -> None:
    form = await client.get("/signin")
    html = await form.text()
    assert 'type="email"' in html and 'type="password"' in html and '<label for="email">' in html
    response = await client.post(
        "/signin",
        data={"csrf": csrf_in(html), "email": DEMO_ADMIN[0], "password": DEMO_ADMIN[1], "next": "/"},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    page = await client.get(response.headers["Location"])
    assert page.url.path.endswith("/systems")
    text = await page.text()
    assert "Demo Broadcast" in text and "admin@example.com" in text and "<h1>Systems</h1>" in text


# Browsers drop tabs and newlines from a URL and read a backslash as a slash: each of these would leave the site
# (or, as a header, break the answer). Only a plain path on this site is followed.
OFF_SITE = (
    "//evil.example/",
    "https://evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "\t//evil.example/",
    "/\\evil.example/",
    "/ /evil.example/",
    "/\x00/evil.example/",
    "/\x7f/evil.example/",
    "/\u2028/evil.example/",
    "javascript:alert(1)",
)


async def test_signed_in_the_sign_in_page_follows_next_only_to_a_path_on_this_site(
    admin: Portal, client: Client
) -> None:
    for target in OFF_SITE:
        response = await client.get(
            URL("/signin").with_query(next=target), allow_redirects=False
        )  # the raw ?next=/%09/evil.example/ of a link
        assert (response.status, response.headers["Location"]) == (303, "/"), target
    response = await client.get(
        URL("/signin").with_query(next="/accounts/acc_x/history?kind=assigned"), allow_redirects=False
    )
    assert response.headers["Location"] == "/accounts/acc_x/history?kind=assigned"


async def test_sign_in_follows_next_but_never_off_site(client: Client) -> None:
    for target, expected in (
        ("/accounts/acc_x/history", "/accounts/acc_x/history"),
        *((item, "/") for item in OFF_SITE),
    ):
        client.session.cookie_jar.clear()
        html = await (await client.get("/signin")).text()
        response = await client.post(
            "/signin",
            data={"csrf": csrf_in(html), "email": DEMO_ADMIN[0], "password": DEMO_ADMIN[1], "next": target},
            allow_redirects=False,
        )
        assert response.headers["Location"] == expected


async def test_a_wrong_password_shows_a_clear_error_and_no_session(client: Client) -> None:
    html = await (await client.get("/signin")).text()
    response = await client.post(
        "/signin", data={"csrf": csrf_in(html), "email": "admin@example.com", "password": "nope"}, allow_redirects=False
    )
    assert response.status == 401 and response.url.path == "/signin"
    html = await response.text()
    assert '<p class="error" role="alert" id="signin-problem">The email or password is not right.</p>' in html
    email = re.search(r'<input id="email"[^>]*>', html)
    password = re.search(r'<input id="password"[^>]*>', html)
    assert email is not None and 'value="admin@example.com"' in email.group(0), "the email typed stays in its field"
    assert password is not None and "value=" not in password.group(0) and "autofocus" in password.group(0)
    assert SESSION_COOKIE not in {cookie.key for cookie in client.session.cookie_jar}
    retry = await client.post(
        "/signin",
        data={"csrf": csrf_in(html), "email": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]},
        allow_redirects=False,
    )
    assert retry.status == 303, "the form shown again signs in"


async def test_sign_in_without_the_csrf_token_is_refused(client: Client) -> None:
    await client.get("/signin")
    for data in ({}, {"csrf": "forged"}):
        response = await client.post(
            "/signin", data={**data, "email": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]}, allow_redirects=False
        )
        assert (response.status, response.headers["Location"]) == (303, "/signin")
        assert SESSION_COOKIE not in response.cookies
    follow = await client.get("/signin")
    assert "The sign-in form had expired" in await follow.text()


async def test_sign_out_ends_the_session(admin: Portal, client: Client) -> None:
    old_session = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    path, html = await admin.post_and_follow("/signout")
    assert path == "/signin" and "You are signed out." in html
    response = await client.get(f"{admin.base}/systems", allow_redirects=False, cookies={SESSION_COOKIE: old_session})
    assert response.status == 303 and response.headers["Location"].startswith("/signin")


async def test_a_post_without_the_csrf_token_changes_nothing(
    admin: Portal, client: Client, subs: dict[str, Any]
) -> None:
    inactive = subs["SO-2026-00045"]["id"]
    for data in ({}, {"csrf": "0" * 64}):
        response = await client.post(f"{admin.base}/subscriptions/{inactive}/activate", data=data)
        assert response.status == 403
        assert "did not come from the portal" in await response.text()
    html = await admin.page(f"{admin.base}/subscriptions")
    assert "Monthly (Inactive)" in html


async def test_a_csrf_token_of_another_session_is_refused(
    sign_in: SignIn, client: Client, subs: dict[str, Any]
) -> None:
    admin = await sign_in()
    stolen = csrf_in(await admin.page(f"{admin.base}/subscriptions"))
    await sign_in()
    response = await admin.post(f"{admin.base}/subscriptions/{subs['SO-2026-00045']['id']}/activate", csrf=stolen)
    assert response.status == 403


async def test_the_account_menu_switches_accounts_and_keeps_the_section(admin: Portal, client: Client) -> None:
    created = await client.post(
        "/_emulator/accounts",
        json={"name": "Second Studio", "admin": {"email": "boss@example.com", "password": "secret-pass"}},
    )
    second = (await created.json())["account"]["id"]
    added = await client.post(
        f"/_emulator/accounts/{second}/users",
        json={"email": "admin@example.com", "password": "x" * 8, "role": "operator"},
    )
    assert added.status == 201
    html = await admin.page(f"{admin.base}/history")
    assert "Switch account" in html and "Second Studio" in html
    assert f'href="/accounts/{second}/history"' in html
    users_html = await admin.page(f"{admin.base}/users")
    assert f'href="/accounts/{second}/systems"' in users_html  # an operator there has no Users page
    assert "Second Studio" in await admin.page(f"/accounts/{second}/history")
    path, _ = await admin.follow("/")
    assert path == "/accounts"


async def test_an_outsider_gets_the_not_found_page(sign_in: SignIn, client: Client) -> None:
    created = await client.post(
        "/_emulator/accounts",
        json={"name": "Other Co", "admin": {"email": "other@example.com", "password": "secret-pass"}},
    )
    other = (await created.json())["account"]["id"]
    await sign_in()
    response = await client.get(f"/accounts/{other}/systems")
    html = await response.text()
    assert response.status == 404 and "Not found" in html and "Other Co" not in html
    assert response.headers["Content-Type"].startswith("text/html")


async def test_unknown_pages_and_wrong_roles_get_friendly_error_pages(sign_in: SignIn, client: Client) -> None:
    operator = await sign_in(*OPERATOR)
    response = await client.get("/no/such/page")
    assert response.status == 404 and "There is nothing at /no/such/page." in await response.text()
    html = await operator.page(f"{operator.base}/users", status=403)
    assert "Not allowed" in html and "Only an admin of this account may do this." in html
    assert "operator@example.com" in html and ">Sign out</button>" in html  # still signed in on the error page


async def test_pages_carry_a_strict_content_security_policy(admin: Portal, client: Client) -> None:
    response = await client.get(f"{admin.base}/systems")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    api = await client.get("/healthz")
    assert "Content-Security-Policy" not in api.headers


async def test_api_errors_stay_json_even_for_a_browser(client: Client) -> None:
    response = await client.get("/api/v1/accounts")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_a_failure_on_our_side_shows_a_friendly_error_page(
    admin: Portal, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(pages_subscriptions, "subscription_view", broken)
    response = await client.get(f"{admin.base}/subscriptions")
    html = await response.text()
    assert response.status == 500 and "Something went wrong" in html and "the change was not made" in html
    assert "boom" not in html and "Traceback" not in html


async def test_a_sign_in_form_opened_before_a_restart_still_works_after_it(
    make_client: Callable[[], Awaitable[Client]],
) -> None:
    before = await make_client()
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Accept": "text/html"}
    ) as browser:
        form = await (await browser.get(before.make_url("/signin"))).text()
        await before.close()
        after = await make_client()
        response = await browser.post(
            after.make_url("/signin"),
            data={"csrf": csrf_in(form), "email": ADMIN[0], "password": ADMIN[1], "next": "/"},
            allow_redirects=False,
        )
        assert (response.status, response.headers["Location"]) == (303, "/")  # not back to /signin as "expired"
