"""The Credits page: expired credits in words, readable times, its live refresh and the cloud link switch."""

import re
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.appkeys import LINK
from flex_emulator.home.domain.identity import Identity, load_identity
from flex_emulator.shared.clock import VirtualClock
from tests.kit.home import (
    DAY,
    START,
    FakeCloud,
    HomeFactory,
    credits_view,
    csrf_token,
    entry,
    page,
    post_form,
    snapshot_token,
    system_id,
    upload,
)

RAW_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


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


async def start_online(
    start_home: HomeFactory, cloud_server: TestServer, fake_cloud: FakeCloud, data_dir: Path
) -> tuple[TestClient, Identity]:
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
    await fake_cloud.send(
        "snapshot", token=snapshot_token(cloud_key, identity.system_id, 1, (entry("a1", 8, valid_until=START + DAY),))
    )
    await home.app[LINK].wait_for_seq(1)
    clock.advance(2 * 86400)
    html = await page(home, "/licenses/credits")
    assert "have expired" in html and "renewed copy at check-in" in html and "assigned again in the portal" in html
    assert "before validity ends" not in html
    row = row_html(html, "a1")
    assert "Expired; renewed at check-in if still assigned in the portal" in row
    assert "Renews" not in row


async def test_credits_page_carries_what_its_script_compares_with_the_api(
    home: TestClient, cloud_key: Ed25519PrivateKey
) -> None:
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


async def test_a_cancelled_subscription_shows_when_it_ends(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    ends = START + 10 * DAY
    cancelled = entry("a1", 8, valid_until=ends, renewable_until=ends, state="cancelled")
    await upload(home, snapshot_token(cloud_key, await system_id(home), 1, (cancelled,)))
    row = row_html(await page(home, "/licenses/credits"), "a1")
    badge = re.search(r'<span class="badge badge-warning sub-ends"[^>]*>.*?</span>', row, re.DOTALL)
    assert badge
    assert 'title="Cancelled: usable until 08 Dec 2026, 10:00 UTC"' in badge.group(0)
    assert re.sub(r"<[^>]+>", "", badge.group(0)).strip() == "Ends 08 Dec 2026"


async def test_tooltips_on_the_credits_page_show_readable_times(
    home: TestClient, cloud_key: Ed25519PrivateKey, clock: VirtualClock
) -> None:
    entries = (entry("a1", 8, valid_until=START + 10 * DAY), entry("a2", 4, valid_until=START + DAY))
    await upload(home, snapshot_token(cloud_key, await system_id(home), 1, entries))
    clock.advance(2 * 86400)
    html = await page(home, "/licenses/credits")
    titles = re.findall(r'title="([^"]*)"', html)
    assert titles and not [title for title in titles if RAW_ISO.search(title)]
    assert 'title="Valid until 08 Dec 2026, 10:00 UTC">Valid<' in row_html(html, "a1")
    assert 'title="Expired on 29 Nov 2026, 10:00 UTC">Expired<' in row_html(html, "a2")


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
