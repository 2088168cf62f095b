"""The link's answers to what HOME reports: a refused snapshot, an impossible seq."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from flex_emulator.shared import protocol
from flex_emulator.shared.tokens import sign_link_auth
from tests.kit.api import assert_invariant, new_tenant
from tests.kit.portal import Home


async def open_link(
    cloud: TestClient, home: Home, seq: object = 0
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    """A HOME's side of the handshake, by hand; answers the socket and the cloud's reply to ``auth``."""
    socket = await cloud.session.ws_connect(cloud.make_url("/api/v1/link"))
    challenge = await socket.receive_json(timeout=5)
    token = sign_link_auth(home.key, home.system_id, challenge["nonce"], datetime.now(UTC))
    await socket.send_str(protocol.encode(protocol.AUTH, system_id=home.system_id, token=token, seq=seq, receipt=None))
    return socket, await socket.receive_json(timeout=5)


async def test_home_refusing_a_pushed_snapshot_releases_the_revoke_at_once(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(8)
    home = Home("Studio A")
    await tenant.link(home.registration_code)
    socket, welcome = await open_link(cloud, home)
    assert welcome["type"] == protocol.WELCOME
    replies: list[dict[str, Any]] = []

    async def refuse_every_snapshot() -> None:
        async for raw in socket:
            message = protocol.decode(raw.data)
            if message.type == protocol.SNAPSHOT:
                await socket.send_str(
                    protocol.error("stale", "This credits file is older than the one HOME has.", message.id)
                )
            else:
                replies.append(message.body)

    answering = asyncio.create_task(refuse_every_snapshot())
    try:
        item = await tenant.assign(home.system_id, sub["id"], 2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await tenant.revoke(home.system_id, item["id"])
        assert loop.time() - started < 2.0  # the cloud waits up to 5 s for a receipt that will not come
        assert answer["assignment"]["state"] == "revoke_pending"
        await asyncio.sleep(0.1)
        assert replies == []  # HOME's error is taken, not answered with another error
    finally:
        await socket.close()
        answering.cancel()
        await asyncio.gather(answering, return_exceptions=True)
    await assert_invariant(cloud.app)


@pytest.mark.parametrize("seq", [2**63, 2**53, -1, "7", None])
async def test_an_impossible_seq_from_home_gets_an_error_reply_not_a_crash(cloud: TestClient, seq: object) -> None:
    tenant = await new_tenant(cloud)
    home = Home("Studio A")
    await tenant.link(home.registration_code)
    socket, reply = await open_link(cloud, home, seq)
    assert reply["type"] == protocol.ERROR and reply["code"] == "invalid_message" and "seq" in reply["message"]
    assert (await socket.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await socket.close()
    assert (await tenant.get(f"/systems/{home.system_id}"))["system"]["seq"] == 0
    socket, welcome = await open_link(cloud, home, 0)
    assert welcome["type"] == protocol.WELCOME
    await socket.close()
