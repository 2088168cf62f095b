"""Fixes from the HOME audit: upload budget, idle time mark, shared clock, expired wording, live page, details."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from home import wording
from home.appkeys import LINK, NODE
from home.identity import Identity, load_identity
from home.node import TIME_MARK_META
from home.uploads import MAX_PARTS
from shared.clock import VirtualClock
from shared.timefmt import from_epoch
from tests.home.home_testkit import (
    DAY,
    START,
    FakeCloud,
    HomeFactory,
    credits_view,
    entry,
    license_token,
    snapshot_token,
    system_id,
    upload,
)
from tests.home.test_home_pages import csrf_token, page, post_form

RAW_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def form_with_fields(token: str, fields: list[tuple[str, str]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields:
        form.add_field(name, value)
    form.add_field("file", token.encode(), filename="credits.jwt", content_type="application/jwt")
    return form


def multipart_body(boundary: str, fields: list[tuple[str, str]], token: str) -> bytes:
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in fields]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="credits.jwt"\r\n'
        f"Content-Type: application/jwt\r\n\r\n{token}\r\n--{boundary}--\r\n"
    )
    return "".join(parts).encode()


async def chunked(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    """An upload without a Content-Length: the server only learns its size by reading it."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


# --- 1. one budget for a whole multipart form --------------------------------------------------------


async def test_a_form_with_too_many_parts_is_refused_and_changes_nothing(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
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
        "/api/v1/file-licenses", data=chunked(small), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert response.status == 200
    assert (await credits_view(home))["total"] == 2


# --- 2. an idle HOME still moves its time mark on ----------------------------------------------------


async def stored_mark(home: TestClient) -> datetime | None:
    async with home.app[NODE].store.read() as db:
        value = await db.meta(TIME_MARK_META)
    return from_epoch(int(value)) if value else None


async def test_an_idle_home_writes_its_time_mark_down_so_a_rewind_and_restart_bring_nothing_back(
    start_home: HomeFactory, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    home = await start_home(time_mark_seconds=0.02)
    response = await upload(home, snapshot_token(cloud_key, await system_id(home), 1, (entry("long", 8, valid_until=START + 30 * DAY),)))
    assert response.status == 200
    clock.advance(31 * 86400)  # 31 days pass; nobody reads HOME
    async with asyncio.timeout(5):
        while (mark := await stored_mark(home)) is None or mark < START + 31 * DAY:
            await asyncio.sleep(0.02)
    clock.rewind(START + DAY)
    assert (await credits_view(home))["total"] == 0
    await home.close()
    home = await start_home()
    view = await credits_view(home)
    assert view["total"] == 0 and view["status"]["state"] == "expired"
    assert view["now"] == "2026-12-29T10:00:00Z"


# --- 3. a HOME on a shared clock file does not move the time --------------------------------------------


async def test_home_on_a_shared_clock_file_refuses_to_move_time_and_points_to_the_cloud(
    start_home: HomeFactory, tmp_path: Path
) -> None:
    clock_file = tmp_path / "clock"
    shared = VirtualClock(start=START, path=clock_file)
    home = await start_home(clock=shared, clock_file=clock_file, virtual_clock=True)
    for body in ({"advance_seconds": 3600}, {"now": "2026-12-01T00:00:00Z"}):
        response = await home.post("/_emulator/clock", json=body)
        assert response.status == 409
        error = (await response.json())["error"]
        assert error["code"] == "clock_shared"
        assert "cloud's POST /_emulator/clock" in error["message"]
    assert shared.now() == START
    got = await home.get("/_emulator/clock")
    assert got.status == 200 and (await got.json())["now"] == "2026-11-28T10:00:00Z"


# --- 4. expired credits say so, and how to get new ones ---------------------------------------------


def row_html(html: str, assignment_id: str) -> str:
    match = re.search(rf'<tr id="entry-{assignment_id}">(.*?)</tr>', html, re.DOTALL)
    assert match, html
    return match.group(1)


async def test_expired_credits_say_they_expired_and_how_to_get_new_ones_when_disconnected(
    home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    await upload(home, snapshot_token(cloud_key, await system_id(home), 1, (entry("a1", 8, valid_until=START + DAY),)))
    clock.advance(2 * 86400)
    html = await page(home, "/licenses/credits")
    status = re.search(r'<div class="error" id="credit-status".*?</div>', html, re.DOTALL)
    assert status
    assert "have expired" in status.group(0) and "download a new credits file" in status.group(0)
    assert "before validity ends" not in html
    row = row_html(html, "a1")
    assert "Expired; upload a new credits file from the portal" in row
    assert "Renews" not in row


async def start_online(start_home: HomeFactory, cloud_server: TestServer, fake_cloud: FakeCloud, data_dir: Path) -> tuple[TestClient, Identity]:
    identity = load_identity(data_dir / "home_key.pem")
    fake_cloud.linked[identity.system_id] = identity.public_key
    home = await start_home(cloud_url=str(cloud_server.make_url("")), offline=False)
    await home.app[LINK].wait_for_state("online")
    return home, identity


async def test_expired_credits_on_an_online_home_point_to_check_in_and_the_portal(
    start_home: HomeFactory,
    cloud_server: TestServer,
    fake_cloud: FakeCloud,
    data_dir: Path,
    cloud_key: Ed25519PrivateKey,
    clock: VirtualClock,
) -> None:
    home, identity = await start_online(start_home, cloud_server, fake_cloud, data_dir)
    await fake_cloud.send("snapshot", token=snapshot_token(cloud_key, identity.system_id, 1, (entry("a1", 8, valid_until=START + DAY),)))
    await home.app[LINK].wait_for_seq(1)
    clock.advance(2 * 86400)
    html = await page(home, "/licenses/credits")
    assert "have expired" in html and "renewed copy at check-in" in html and "assigned again in the portal" in html
    assert "before validity ends" not in html
    row = row_html(html, "a1")
    assert "Expired; renewed at check-in if still assigned in the portal" in row
    assert "Renews" not in row


# --- 5. the Credits page follows changes by itself ---------------------------------------------------


async def test_credits_page_carries_what_its_script_compares_with_the_api(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    await upload(home, snapshot_token(cloud_key, await system_id(home), 3, (entry("a1", 9),)))
    html = await page(home, "/licenses/credits")
    live = re.search(r"<section[^>]*data-live-credits=\"([^\"]+)\"[^>]*>", html)
    assert live
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', live.group(0)))
    view = await credits_view(home)
    assert live.group(1) == "/api/v1/licenses/credits"
    assert int(attrs["seq"]) == view["seq"] == 3
    assert float(attrs["total"]) == view["total"] == 2.25
    assert float(attrs["in-use"]) == view["in_use"]
    assert attrs["state"] == view["status"]["state"]
    script = await (await home.get("/static/home/home.js")).text()
    assert "data-live-credits" in script and "location.reload" in script


# --- 6 and 8. dates on the Credits page are formatted, never raw ISO ------------------------------------


async def test_a_cancelled_subscription_shows_when_it_ends(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    ends = START + 10 * DAY
    cancelled = entry("a1", 8, valid_until=ends, renewable_until=ends, state="cancelled")
    await upload(home, snapshot_token(cloud_key, await system_id(home), 1, (cancelled,)))
    row = row_html(await page(home, "/licenses/credits"), "a1")
    badge = re.search(r'<span class="badge badge-warning sub-ends"[^>]*>.*?</span>', row, re.DOTALL)
    assert badge
    assert 'title="Cancelled: usable until 08 Dec 2026, 10:00 UTC"' in badge.group(0)
    assert re.sub(r"<[^>]+>", "", badge.group(0)).strip() == "Ends 08 Dec 2026"


async def test_tooltips_on_the_credits_page_show_readable_times(home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock) -> None:
    entries = (entry("a1", 8, valid_until=START + 10 * DAY), entry("a2", 4, valid_until=START + DAY))
    await upload(home, snapshot_token(cloud_key, await system_id(home), 1, entries))
    clock.advance(2 * 86400)
    html = await page(home, "/licenses/credits")
    titles = re.findall(r'title="([^"]*)"', html)
    assert titles and not [title for title in titles if RAW_ISO.search(title)]
    assert 'title="Valid until 08 Dec 2026, 10:00 UTC">Valid<' in row_html(html, "a1")
    assert 'title="Expired on 29 Nov 2026, 10:00 UTC">Expired<' in row_html(html, "a2")


# --- 7. the cloud link switch is a switch -----------------------------------------------------------------


async def test_cloud_link_switch_has_the_switch_role_and_its_state(home: TestClient) -> None:
    switch = re.compile(r'<button[^>]*id="cloud-link-switch"[^>]*>')

    async def attrs() -> str:
        found = switch.search(await page(home, "/settings/cloud"))
        assert found
        return found.group(0)

    off = await attrs()
    assert 'role="switch"' in off and 'aria-checked="false"' in off
    await post_form(home, "/settings/cloud", {"enabled": "on"}, await csrf_token(home, "/settings/cloud"))
    on = await attrs()
    assert 'role="switch"' in on and 'aria-checked="true"' in on


# --- 9. singular and plural ----------------------------------------------------------------------


def test_counts_agree_with_their_nouns() -> None:
    assert wording.count_of(1, "MV perpetual license") == "1 MV perpetual license"
    assert wording.count_of(3, "MV perpetual license") == "3 MV perpetual licenses"
    assert wording.credits_of(4) == "1 credit"
    assert wording.credits_of(1) == "0.25 credits"
    assert wording.credits_of(8) == "2 credits"
    assert wording.credits_agree(4, "is", "are") == "1 credit is"
    assert wording.credits_agree(5, "is", "are") == "1.25 credits are"


async def resource_flash(home: TestClient, fields: dict[str, Any]) -> str:
    token = await csrf_token(home, "/resources")
    await post_form(home, "/resources", fields, token)
    ids = re.findall(r'id="resource-(\d+)"', await page(home, "/resources"))
    await post_form(home, f"/resources/{ids[-1]}/start", {}, token)
    html = await page(home, "/resources")
    flash = re.search(r'<div id="flash".*?</div>', html, re.DOTALL)
    assert flash
    return flash.group(0)


async def test_messages_use_singular_and_plural_properly(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    form_token = await csrf_token(home)
    form = form_with_fields(snapshot_token(cloud_key, sid, 1, (entry("a1", 4),)), [("csrf_token", form_token)])
    await home.post("/file-licenses", data=form, headers={"Accept": "text/html"}, allow_redirects=False)
    html = await page(home, "/file-licenses")
    assert "1 credit is valid now" in html and "<strong>1</strong> credit valid" in html
    form = form_with_fields(license_token(cloud_key, sid, "HOME Pass", 1), [("csrf_token", form_token)])
    await home.post("/file-licenses", data=form, headers={"Accept": "text/html"}, allow_redirects=False)
    assert "1 HOME Pass perpetual license added" in await page(home, "/file-licenses")

    unlicensed = await resource_flash(home, {"name": "Viewer", "license_type_needed": "MV", "count": "1", "license_type": "default"})
    assert "needs 1 MV license: 0 perpetual licenses are free and 1 credit remains" in unlicensed
    running = await resource_flash(home, {"name": "Cam", "license_type_needed": "HOME Pass", "count": "1", "license_type": "default"})
    assert "It uses 1 perpetual license." in running
    by_credits = await resource_flash(home, {"name": "Cam 2", "license_type_needed": "HOME Pass", "count": "1", "license_type": "credits"})
    assert "It uses 0.25 credits." in by_credits
    resources = await page(home, "/resources")
    assert "1 perpetual, 0 credits" in resources and "0 perpetual, 0.25 credits" in resources
    assert "license(s)" not in unlicensed + running + by_credits
    assert ": 1 credit valid" in await page(home, "/licenses/credits")  # the graph's day tooltips
