"""The server-rendered HOME pages: content, forms with CSRF protection, and POST-redirect-GET."""

import io
import re
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.appkeys import LINK
from flex_emulator.shared.clock import VirtualClock
from tests.kit.home import (
    DAY,
    HTML,
    START,
    HomeFactory,
    credits_view,
    csrf_token,
    entry,
    license_token,
    page,
    post_form,
    snapshot_token,
    system_id,
    upload,
)


async def post_file(
    home: TestClient, content: bytes, token: str | None, name: str = "credits.jwt"
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    if token is not None:
        form.add_field("csrf_token", token)
    form.add_field("file", io.BytesIO(content), filename=name, content_type="application/octet-stream")
    return await home.post("/file-licenses", data=form, headers=HTML, allow_redirects=False)


async def test_every_page_renders_in_the_layout(home: TestClient) -> None:
    for path, heading in [
        ("/file-licenses", "<h1>FileLicenses</h1>"),
        ("/licenses/credits", "Credit Total"),
        ("/licenses/perpetual", "Perpetual licenses"),
        ("/resources", "<h1>Resources</h1>"),
        ("/settings/cloud", "Registration code"),
    ]:
        html = await page(home, path)
        assert heading in html
        assert 'id="system-label"' in html and ">HOME<" in html
        assert re.search(
            r'id="link-state" href="/settings/cloud"\s+title="[^"]*switched off here; the portal shows this system '
            r'Offline[^"]*">.*Disconnected</a>',
            html,
        )
        assert '<nav class="mainnav" aria-label="Main">' in html
        assert 'aria-current="page"' in html
        assert "http://" not in html.split("<main")[0].replace('href="http', "")  # no asset from elsewhere


async def test_overview_paths_redirect_to_their_first_page(home: TestClient) -> None:
    for path, target in [
        ("/", "/licenses/credits"),
        ("/licenses", "/licenses/credits"),
        ("/settings", "/settings/cloud"),
    ]:
        response = await home.get(path, allow_redirects=False)
        assert response.status == 302 and response.headers["Location"] == target


async def test_stylesheet_and_script_are_served_locally(home: TestClient) -> None:
    css = await home.get("/static/style.css")
    assert css.status == 200 and ".badge-online" in await css.text()
    js = await home.get("/static/home/home.js")
    assert js.status == 200 and "navigator.clipboard" in await js.text()


async def test_uploading_a_credits_file_shows_the_result_once(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    token = await csrf_token(home)
    sid = await system_id(home)
    response = await post_file(home, snapshot_token(cloud_key, sid, 2, (entry("a1", 9),)).encode(), token)
    assert response.status == 303 and response.headers["Location"] == "/file-licenses"
    html = await page(home, "/file-licenses")
    assert "Credits file applied" in html and "2.25" in html
    assert 'role="status"' in html
    assert "Credits file applied" not in await page(home, "/file-licenses")  # shown once
    assert (await credits_view(home))["total"] == 2.25


async def test_uploading_a_license_file_by_form(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    token = await csrf_token(home)
    response = await post_file(home, license_token(cloud_key, await system_id(home), "MV", 3).encode(), token, "mv.lic")
    assert response.status == 303
    assert "Perpetual license added" in await page(home, "/file-licenses")
    html = await page(home, "/licenses/perpetual")
    assert '<th scope="row">MV</th>' in html


async def test_a_refused_file_is_explained_on_the_page_and_changes_nothing(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    sid = await system_id(home)
    await upload(home, snapshot_token(cloud_key, sid, 5, (entry(),)))
    before = await credits_view(home)
    token = await csrf_token(home)
    cases = [
        (snapshot_token(cloud_key, sid, 4, ()).encode(), "older than the one already applied"),
        (snapshot_token(cloud_key, "home-other0000000000", 9, ()).encode(), "for another HOME system"),
        (b"not a token at all", "This is not a credits or license file"),
        (b"", "The file is empty"),
    ]
    for content, text in cases:
        response = await post_file(home, content, token)
        assert response.status == 303
        html = await page(home, "/file-licenses")
        assert text in html
        assert 'role="alert"' in html
    response = await post_file(home, b"", token, name="")  # what a browser sends when no file was chosen
    assert "No file was chosen" in await page(home, "/file-licenses")
    assert await credits_view(home) == before


async def test_forms_without_a_valid_csrf_token_are_refused(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    good = await csrf_token(home)
    sid = await system_id(home)
    checks = [
        await post_file(home, snapshot_token(cloud_key, sid, 1, (entry(),)).encode(), None),
        await post_file(home, snapshot_token(cloud_key, sid, 1, (entry(),)).encode(), good + "x"),
        await post_form(
            home,
            "/resources",
            {"name": "A", "license_type_needed": "MV", "count": "1", "license_type": "default"},
            None,
        ),
        await post_form(home, "/resources/1/start", {}, "forged.token"),
        await post_form(home, "/settings/cloud", {"enabled": "on"}, None),
    ]
    for response in checks:
        assert response.status == 403
        html = await response.text()
        assert "security token" in html and "Nothing was changed" in html
    assert (await credits_view(home))["seq"] == 0
    assert (await (await home.get("/api/v1/resources")).json())["resources"] == []
    assert home.app[LINK].enabled is False


async def test_a_form_from_another_site_is_refused(home: TestClient) -> None:
    token = await csrf_token(home)
    response = await home.post(
        "/settings/cloud",
        data={"enabled": "on", "csrf_token": token},
        headers=HTML | {"Origin": "http://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert "another site" in await response.text()


async def test_two_homes_on_one_host_keep_their_own_form_tokens(start_home: HomeFactory, tmp_path: Path) -> None:
    """Browsers share cookies across the ports of one host, as on a laptop running both HOMEs."""
    studio = await start_home(data_dir=tmp_path / "studio")
    van = await start_home(data_dir=tmp_path / "van")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=HTML) as browser:
        studio_form = await (await browser.get(studio.make_url("/settings/cloud"))).text()
        await browser.get(van.make_url("/settings/cloud"))  # sets the van's own token cookie
        token = re.search(r'name="csrf_token" value="([^"]+)"', studio_form)
        assert token
        response = await browser.post(
            studio.make_url("/settings/cloud"),
            data={"enabled": "on", "csrf_token": token.group(1)},
            allow_redirects=False,
        )
        assert response.status == 303
    assert studio.app[LINK].enabled is True
    assert van.app[LINK].enabled is False


async def test_credits_page_shows_totals_entries_graph_and_revoke_key(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    sid = await system_id(home)
    entries = (
        entry("a1", 8, valid_until=START + 10 * DAY),
        entry("a2", 5, valid_until=START + 3 * DAY, order_id="SO-9"),
    )
    body = await (await upload(home, snapshot_token(cloud_key, sid, 6, entries))).json()
    html = await page(home, "/licenses/credits")
    assert re.search(r'id="credit-total">3.25<', html)
    assert re.search(r'id="credit-remaining">3.25<', html)
    assert 'id="entry-a1"' in html and "SO-9" in html
    assert 'title="08 Dec 2026, 10:00 UTC"' in html  # exact validity as a tooltip
    assert html.count('class="bar-valid"') == 11  # 28 Nov to 8 Dec: the days on which something is valid
    assert 'class="bar-renewable"' in html
    assert ">28 Nov</text>" in html and ">05 Dec</text>" in html  # day and month on the x axis, as dates read elsewhere
    assert 'id="revoke-key" class="mono" rows="4" readonly' in html
    assert body["revoke_key"] in html
    assert 'data-copy-target="revoke-key"' in html
    assert 'aria-current="page">Credits</a>' in html


async def test_credits_page_before_any_credits_says_none_yet_and_shows_no_empty_graph(home: TestClient) -> None:
    html = await page(home, "/licenses/credits")
    assert "No credits have been delivered to this HOME yet." in html and "holds no credits yet" in html
    assert 'id="graph-empty"' in html and 'id="credits-graph"' not in html  # a message, not an empty 0–1 axis


async def test_credits_page_after_every_credit_was_revoked_does_not_say_none_yet(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    sid = await system_id(home)
    await upload(home, snapshot_token(cloud_key, sid, 1, (entry("a1", 8, valid_until=START + 10 * DAY),)))
    await upload(home, snapshot_token(cloud_key, sid, 2, ()))  # the cloud's next file: the credits were revoked
    html = await page(home, "/licenses/credits")
    assert "yet" not in html.split('id="credit-status"')[1].split("</div>")[0]
    assert (
        "holds no credits now: the latest credits (file number 2) have none, because they were revoked or returned"
        in html
    )
    assert "No credits have been delivered" not in html and "the latest credits (file number 2) have none" in html
    assert 'id="graph-empty"' in html and "this HOME holds no credits now" in html and 'id="credits-graph"' not in html
    assert (await credits_view(home))["status"]["message"].startswith("This HOME holds no credits now")


async def test_credits_page_with_only_expired_credits_says_so_instead_of_an_empty_graph(
    home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    sid = await system_id(home)
    await upload(home, snapshot_token(cloud_key, sid, 1, (entry("a1", 8, valid_until=START + DAY),)))
    clock.advance(3 * 86400)
    html = await page(home, "/licenses/credits")
    assert 'id="graph-empty"' in html and "the credits this HOME holds have expired" in html


async def test_settings_say_disconnected_for_a_link_switched_off_here(home: TestClient) -> None:
    html = await page(home, "/settings/cloud")
    assert re.search(r'id="cloud-state" data-state="disabled">Disconnected<', html)
    assert 'id="cloud-disconnected">The link is switched off here, so the portal shows this system Offline.' in html


async def test_perpetual_page_sorts_by_any_column(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    for kind, count in [("MV", 1), ("HOME Pass", 5), ("NMOS Proxy", 3)]:
        await upload(home, license_token(cloud_key, sid, kind, count))

    def names(html: str) -> list[str]:
        return re.findall(r'<th scope="row">([^<]+)</th>', html)

    assert names(await page(home, "/licenses/perpetual")) == ["HOME Pass", "MV", "NMOS Proxy"]
    assert names(await page(home, "/licenses/perpetual?sort=total&dir=desc")) == ["HOME Pass", "NMOS Proxy", "MV"]
    html = await page(home, "/licenses/perpetual?sort=total&dir=asc")
    assert names(html) == ["MV", "NMOS Proxy", "HOME Pass"]
    assert 'aria-sort="ascending"' in html


async def test_resources_are_added_started_and_stopped_from_the_page(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
    await upload(home, snapshot_token(cloud_key, await system_id(home), 1, (entry("a1", 4),)))
    token = await csrf_token(home, "/resources")
    fields = {"name": "<Cam & 1>", "license_type_needed": "HOME Pass", "count": "2", "license_type": "default"}
    response = await post_form(home, "/resources", fields, token)
    assert response.status == 303 and response.headers["Location"] == "/resources"
    html = await page(home, "/resources")
    assert "Resource added" in html
    assert "&lt;Cam &amp; 1&gt;" in html and "<Cam & 1>" not in html  # escaped
    found = re.search(r'id="resource-(\d+)"', html)
    assert found
    resource_id = found.group(1)
    await post_form(home, f"/resources/{resource_id}/start", {}, token)
    html = await page(home, "/resources")
    assert "is running" in html and ">Running<" in html
    await post_form(home, f"/resources/{resource_id}/stop", {}, token)
    assert ">Stopped<" in await page(home, "/resources")
    await post_form(home, "/resources/9999/start", {}, token)
    assert "There is no resource 9999" in await page(home, "/resources")


async def test_unlicensed_start_is_explained(home: TestClient) -> None:
    token = await csrf_token(home, "/resources")
    await post_form(
        home, "/resources", {"name": "MV", "license_type_needed": "MV", "count": "1", "license_type": "credits"}, token
    )
    found = re.search(r'id="resource-(\d+)"', await page(home, "/resources"))
    assert found
    resource_id = found.group(1)
    await post_form(home, f"/resources/{resource_id}/start", {}, token)
    html = await page(home, "/resources")
    assert "is unlicensed" in html and "needs 4 credits" in html and ">Unlicensed<" in html


async def test_invalid_resource_form_is_shown_again_with_clear_errors(home: TestClient) -> None:
    token = await csrf_token(home, "/resources")
    fields = {"name": " ", "license_type_needed": "Teleporter", "count": "zero", "license_type": "default"}
    response = await post_form(home, "/resources", fields, token)
    assert response.status == 400
    html = await response.text()
    assert "The resource was not added" in html
    assert "Give the resource a name." in html and "Enter a whole number from 1 to 10000." in html
    assert 'aria-invalid="true"' in html
    assert 'value="zero"' in html  # what was typed is kept


async def test_settings_page_switches_the_cloud_link(home: TestClient) -> None:
    html = await page(home, "/settings/cloud")
    assert 'id="cloud-url"' in html and "http://127.0.0.1:9" in html
    assert 'id="registration-code"' in html and ">Connect</button>" in html
    token = await csrf_token(home, "/settings/cloud")
    response = await post_form(home, "/settings/cloud", {"enabled": "on"}, token)
    assert response.status == 303
    assert home.app[LINK].enabled is True
    html = await page(home, "/settings/cloud")
    assert ">Disconnect</button>" in html and "Connecting" in html
    await post_form(home, "/settings/cloud", {"enabled": "off"}, token)
    assert home.app[LINK].state == "disabled"
    assert ">Connect</button>" in await page(home, "/settings/cloud")


@pytest.mark.parametrize("path", ["/no-such-page", "/licenses/nothing"])
async def test_unknown_pages_render_an_error_page_for_browsers(home: TestClient, path: str) -> None:
    html = await page(home, path, status=404)
    assert "Page not found" in html and f"There is nothing at {path}" in html


async def test_credits_page_warns_when_the_clock_was_set_back(home: TestClient, clock: VirtualClock) -> None:
    assert 'id="clock-warning"' not in await page(home, "/licenses/credits")
    clock.advance(86400)
    await page(home, "/licenses/credits")
    clock.rewind(START)
    html = await page(home, "/licenses/credits")
    assert 'id="clock-warning"' in html and "29 Nov 2026, 10:00 UTC" in html


async def test_a_form_opened_before_a_restart_is_still_accepted_after_it(
    start_home: HomeFactory, tmp_path: Path
) -> None:
    before = await start_home(data_dir=tmp_path / "home")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=HTML) as browser:
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', await (await browser.get(before.make_url("/settings/cloud"))).text()
        )
        assert token
        await before.close()
        after = await start_home(data_dir=tmp_path / "home")
        response = await browser.post(
            after.make_url("/settings/cloud"),
            data={"enabled": "on", "csrf_token": token.group(1)},
            allow_redirects=False,
        )
        assert response.status == 303
    assert after.app[LINK].enabled is True
