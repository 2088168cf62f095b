"""Input at the edges: huge numbers, NaN, bodies that lie about their encoding; each is a clear 400."""

import gzip
import json
import logging
import subprocess
import sys
from typing import Any

from aiohttp.test_utils import TestClient

from flex_emulator.cloud.appkeys import CONFIG
from tests.kit.api import assert_error, assert_invariant, call, new_tenant

JSON = {"Content-Type": "application/json"}


async def raw_post(client: TestClient, path: str, data: bytes, expect: int, headers: dict[str, str] = JSON) -> Any:
    response = await client.post(path, data=data, headers=headers)
    assert response.status == expect, await response.text()
    return await response.json()


async def test_an_absurd_credit_amount_is_refused_and_changes_nothing(cloud: TestClient) -> None:
    tenant = await new_tenant(cloud)
    sub = await tenant.subscription(4)
    system, _ = await tenant.link_new_system()
    for credits in (1e30, "1e30", "1_0", 10**12):
        assert_error(await tenant.assign(system["id"], sub["id"], credits, expect=400), "invalid_credits")
    body = {"duration": "monthly", "credits": 1e30, "state": "active"}
    assert_error(
        await call(cloud, "POST", f"/_emulator/accounts/{tenant.account_id}/subscriptions", json=body, expect=400),
        "invalid_credits",
    )
    assert (await tenant.sub_state(sub["id"]))["credits_available"] == 4
    assert len((await tenant.get("/subscriptions"))["subscriptions"]) == 1
    await assert_invariant(cloud.server.app)


async def test_clock_moves_must_be_finite_and_bounded(cloud: TestClient) -> None:
    before = await call(cloud, "GET", "/_emulator/clock")
    for raw, code in (
        (b'{"advance_seconds": NaN}', "wrong_type"),
        (b'{"advance_seconds": Infinity}', "wrong_type"),
        (b'{"now": "9999-12-31T00:00:00Z"}', "out_of_range"),
    ):
        assert_error(await raw_post(cloud, "/_emulator/clock", raw, 400), code)
    assert await call(cloud, "GET", "/_emulator/clock") == before


async def test_a_body_that_is_not_the_gzip_it_claims_is_a_400(cloud: TestClient) -> None:
    headers = JSON | {"Content-Encoding": "gzip"}
    assert_error(await raw_post(cloud, "/api/v1/auth/token", b'{"email": "a@b.c"}', 400, headers), "bad_body")
    real = gzip.compress(json.dumps({"email": "nobody@b.c", "password": "x"}).encode())
    assert_error(await raw_post(cloud, "/api/v1/auth/token", real, 401, headers), "bad_credentials")


async def test_too_large_a_body_is_refused_with_a_sentence(cloud: TestClient) -> None:
    limit = cloud.app[CONFIG].max_body_bytes  # room for a revoke key from the fullest HOME
    body = await raw_post(cloud, "/api/v1/auth/token", b"x" * (limit + 1), 413)
    assert_error(body, "too_large")
    assert body["error"]["message"].endswith(".") and "Entity" not in body["error"]["message"]


def test_json_logs_keep_the_traceback() -> None:
    script = (
        "from shared.logging import configure_logging; import structlog\n"
        "configure_logging()\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    structlog.get_logger().exception('request_failed')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    event = json.loads(done.stderr.strip().splitlines()[-1])
    assert event["event"] == "request_failed" and event["level"] == logging.getLevelName(logging.ERROR).lower()
    assert "ZeroDivisionError" in event["exception"]
