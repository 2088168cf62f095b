"""Property: whatever a client sends to the fleet's HTTP server, it gets a clear 4xx in the contract's error
shape, never a 5xx, and the fleet stays up with its nodes as they were.

Every route of the fleet app (read from its own route table, so a new route is covered without being added
here) is driven with generated hostile input: odd system ids and queries, nested and surrogate-laden JSON,
huge numbers, wrong types, request encodings, foreign origins, and the wrong method. Deterministic
(derandomized) and bounded, so it runs in ``scripts/test``.
"""

import asyncio
import json
import random
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from flex_emulator import START
from flex_emulator.home.fleet.api import create_fleet_app
from flex_emulator.home.fleet.config import FleetConfig
from flex_emulator.home.link import cloud_link
from flex_emulator.inprocess import LoopThread
from flex_emulator.shared.clock import VirtualClock
from tests.e2e.fuzz_input import ENCODINGS, JSON_TYPES, ORIGINS, encode_body, json_body, path_value, query
from tests.e2e.fuzz_world import Route, routes_of
from tests.kit.home import write_jwks
from tests.kit.processes import free_port

pytestmark = pytest.mark.slow  # generated hostile input against every route

T = TypeVar("T")
NODES = 3
FUZZ = settings(
    max_examples=60, derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)  # fmt: skip
METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"]


@dataclass(repr=False)  # a failing example's report shows the input, not the world
class FleetWorld:
    folder: Path
    runner: web.AppRunner | None = None
    url: str = ""
    session: aiohttp.ClientSession | None = None
    system_ids: list[str] = field(default_factory=list)
    nodes: dict[str, Any] = field(default_factory=dict)
    requests: int = 0
    _thread: LoopThread | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        assert self._thread is not None
        return self._thread.run(coro, timeout)

    def start(self) -> None:
        self._thread = LoopThread()
        self.run(self._start())

    def stop(self) -> None:
        self.run(self._stop())
        assert self._thread is not None
        self._thread.stop()

    def app(self) -> web.Application:
        config = FleetConfig(
            data_dir=self.folder / "fleet",
            count=NODES,
            cloud_url=f"http://127.0.0.1:{free_port()}",  # nobody answers there: switched on, the links retry
            offline=True,
            virtual_clock=True,
            cloud_key_file=write_jwks(self.folder / "cloud-keys.json", Ed25519PrivateKey.generate()),
            reconnect_min_seconds=0.05,
            reconnect_max_seconds=0.2,
        )
        return create_fleet_app(config, VirtualClock(start=START))

    async def _start(self) -> None:
        self.runner = web.AppRunner(self.app(), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        _, listing = await self.call("GET", "/api/v1/nodes")
        self.system_ids = [item["system_id"] for item in listing["nodes"]]
        self.nodes = await self.holdings()

    async def _stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self.session is not None
        async with self.session.request(method, self.url + path, json=body) as answer:
            return answer.status, await answer.json()

    async def holdings(self) -> dict[str, Any]:
        """What each node holds: its identity, label, applied seq and credits."""
        found = {}
        for system_id in self.system_ids:
            _, node = await self.call("GET", f"/api/v1/nodes/{system_id}")
            _, credits = await self.call("GET", f"/api/v1/nodes/{system_id}/licenses/credits")
            found[system_id] = (node["label"], node["seq"], node["registration_code"], credits["total"], credits["seq"])
        return found


def fleet_routes() -> list[Route]:
    """Every route of the fleet app, read from an app built as the fuzz builds it (create_fleet_app does no I/O)."""
    app = create_fleet_app(FleetConfig(data_dir=Path("unused"), count=1), VirtualClock(start=START))
    return sorted(set(routes_of(app, "fleet")), key=str)


ROUTES = fleet_routes()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetWorld]:
    world = FleetWorld(Path(tmp_path_factory.mktemp("fleet-fuzz")))
    with pytest.MonkeyPatch.context() as patch:
        # the links' reconnect jitter would draw from the global random while Hypothesis draws, which it refuses
        patch.setattr(cloud_link, "random", random.Random(0))
        world.start()
        yield world
        world.stop()


@st.composite
def request_for(draw: st.DrawFn, world: FleetWorld, route: Route) -> dict[str, Any]:
    path = route.path.replace("{sys}", draw(path_value(world.system_ids)))
    method = route.method if draw(st.integers(0, 5)) else draw(st.sampled_from(METHODS))
    headers = {"Accept": draw(st.sampled_from(["application/json", "text/html", "*/*"]))}
    origin = draw(st.sampled_from(ORIGINS))
    if origin is not None:
        headers["Origin"] = world.url if origin == "own" else origin
    body = b""
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        body = draw(json_body(world.system_ids))
        content_type = draw(st.sampled_from(JSON_TYPES))
        if content_type is not None:
            headers["Content-Type"] = content_type
        body, encoding = encode_body(body, draw(st.sampled_from(ENCODINGS)))
        if encoding is not None:
            headers["Content-Encoding"] = encoding
    return {"method": method, "path": path + draw(query(world.system_ids)), "headers": headers, "body": body}


async def send(world: FleetWorld, sent: dict[str, Any]) -> tuple[int, str, bytes]:
    assert world.session is not None
    url = URL(world.url + sent["path"], encoded=True)
    async with world.session.request(
        sent["method"], url, data=sent["body"] or None, headers=sent["headers"], allow_redirects=False,
        skip_auto_headers=["Content-Type"],
    ) as response:  # fmt: skip
        return response.status, response.content_type, await response.read()


async def send_all(world: FleetWorld, batch: list[dict[str, Any]]) -> list[tuple[int, str, bytes]]:
    return list(await asyncio.gather(*(send(world, sent) for sent in batch)))


def check_answer(route: Route, sent: dict[str, Any], status: int, content_type: str, body: bytes) -> None:
    context = f"{route} {sent | {'body': sent['body'][:200]}} -> {status} {content_type} {body[:300]!r}"
    assert status < 500, context
    if status < 400 or sent["method"] == "HEAD":
        return
    assert content_type == "application/json", context
    data = json.loads(body)
    assert isinstance(data, dict) and set(data) == {"error"} and set(data["error"]) == {"code", "message"}, context
    assert isinstance(data["error"]["message"], str) and len(data["error"]["message"]) > 10, context


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_fleet_route_answers_hostile_input_with_a_clear_4xx(fleet: FleetWorld, route: Route) -> None:
    @FUZZ
    @given(data=st.data())
    def property_holds(data: st.DataObject) -> None:
        # one request, or a few at once (a link switched on and off while another request reads it)
        batch = data.draw(st.lists(request_for(fleet, route), min_size=1, max_size=3))
        answers = fleet.run(send_all(fleet, batch))
        fleet.requests += len(batch)
        for sent, (status, content_type, body) in zip(batch, answers, strict=True):
            check_answer(route, sent, status, content_type, body)

    property_holds()


def test_the_fleet_is_up_and_its_nodes_as_they_were_after_the_fuzz(fleet: FleetWorld) -> None:
    assert fleet.requests > 0
    assert fleet.run(fleet.call("GET", "/healthz")) == (200, {"status": "ok"})
    assert fleet.run(fleet.holdings()) == fleet.nodes
    status, switched = fleet.run(fleet.call("PUT", "/api/v1/nodes/cloud-link", {"enabled": False}))
    assert status == 200 and switched == {"count": NODES, "states": {"disabled": NODES}}
