"""The portal's Last seen for a connected system is now, on the pages and in their live updates."""

import json

from flex_emulator.shared.clock import VirtualClock
from flex_emulator.shared.timefmt import iso
from tests.kit.portal import Client, Home, LinkedHome, Portal


async def test_last_seen_keeps_up_with_the_clock_while_the_system_is_online(
    admin: Portal, studio: Home, client: Client, clock: VirtualClock
) -> None:
    link = await LinkedHome(studio, client.session, str(client.make_url("/api/v1/link"))).connect()
    try:
        await client.post("/_emulator/clock", json={"advance_seconds": 2 * 86400 + 3600})
        now = clock.now()
        presence = json.loads(await admin.page(f"{admin.base}/systems/{studio.system_id}/presence"))
        assert presence["online"] is True and presence["last_seen"] == iso(now)
        listing = json.loads(await admin.page(f"{admin.base}/presence"))
        assert listing["systems"][studio.system_id]["last_seen"] == iso(now)
        assert now.strftime("%d %b %Y, %H:%M UTC") in await admin.page(f"{admin.base}/systems/{studio.system_id}")
        assert now.strftime("%d %b %Y %H:%M") in await admin.page(f"{admin.base}/systems")
    finally:
        await link.close()
