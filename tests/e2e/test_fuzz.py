"""Property: whatever a client sends, to any route, page form or the link, it gets a clear 4xx, never a 5xx.

Every route of both services (read from the apps' own route tables: a new route is covered
without being added here) is driven with generated hostile input: nested and surrogate-laden
JSON, huge exponents, overflowing times, foreign digits, non-UTF-8 and malformed forms and
uploads, request encodings, foreign origins. Each error must be in the contract's shape;
afterwards both services are healthy and the cloud's invariant holds. Deterministic (derandomized)
and bounded, so it runs in ``scripts/test``.
"""

import json
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from flex_emulator.home.link import cloud_link
from flex_emulator.shared import protocol
from flex_emulator.shared.tokens import sign_link_auth
from tests.e2e.fuzz_input import (
    ENCODINGS,
    FOREIGN_ORIGINS,
    FORM_TYPES,
    JSON_TYPES,
    ORIGINS,
    encode_body,
    expand,
    form_body,
    json_body,
    link_message,
    path_value,
    query,
)
from tests.e2e.fuzz_world import FuzzWorld, Route, all_routes

pytestmark = pytest.mark.slow  # generated hostile input against every route

EXAMPLES_PER_ROUTE = 25
LINK_EXAMPLES = 100
FUZZ = settings(
    max_examples=EXAMPLES_PER_ROUTE, derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)  # fmt: skip
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
PLACEHOLDER = re.compile(r"\{(\w+)[^}]*\}")
# Routes that end a session or wipe the world go last, so the others are fuzzed with a signed-in, seeded world.
DESTRUCTIVE = ("/reset", "/state", "/logout", "/signout", "/remove")


def route_order(route: Route) -> tuple[bool, str]:
    return (route.method == "DELETE" or route.path.endswith(DESTRUCTIVE), str(route))


ROUTES = sorted(all_routes(), key=route_order)


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzWorld]:
    world = FuzzWorld(Path(tmp_path_factory.mktemp("fuzz")))
    with pytest.MonkeyPatch.context() as patch:
        # HOME's reconnect jitter would draw from the global random while Hypothesis draws, which it refuses
        patch.setattr(cloud_link, "random", random.Random(0))
        world.start()
        started = time.monotonic()
        yield world
        elapsed = time.monotonic() - started
        world.stop()
    sys.stdout.write(f"\nfuzz: {world.requests} requests and {world.messages} link messages in {elapsed:.0f} s\n")


def sent_as_form(sent: dict[str, Any]) -> bool:
    content_type = sent["headers"].get("Content-Type", "")
    return sent["method"] in ("POST", "PUT") and content_type.startswith(FORM_TYPES)


def check_answer(
    route: Route, sent: dict[str, Any], status: int, content_type: str, body: bytes, headers: dict[str, str]
) -> None:
    """No 5xx; an error is the contract's JSON shape (or an error page, for a browser on a page route)."""
    shown = sent | {"body": sent["body"][:200]}
    context = f"{route} {shown} -> {status} {content_type} {body[:300]!r}"
    assert status < 500, context
    if 300 <= status < 400:  # no answer ever sends a browser off-site (a sign-in's ?next= included)
        location = headers.get("Location", "")
        assert location.startswith("/") and not location.startswith("//") and location.isprintable(), context
        assert "\\" not in location and " " not in location, context
    if route.path.startswith("/_emulator/") and sent["headers"].get("Origin") in FOREIGN_ORIGINS:
        # refused for its Origin (or, first, for a body encoding no one accepts, or a static file that is not there)
        refusals = ("cross_origin", "unsupported_encoding") + (("not_found",) if "/static" in route.path else ())
        assert json.loads(body)["error"]["code"] in refusals, context
    if route.path.startswith("/_emulator/") and sent_as_form(sent):
        assert status >= 400, context  # a form, empty or not, is never read as JSON (nor a reset)
    if status < 400 or sent["method"] == "HEAD":
        return
    if content_type == "application/json":
        data = json.loads(body)
        assert isinstance(data, dict) and set(data) == {"error"}, context
        assert set(data["error"]) == {"code", "message"}, context
        assert SNAKE.match(data["error"]["code"]), context
        assert isinstance(data["error"]["message"], str) and len(data["error"]["message"]) > 10, context
    else:  # house style: pages answer with an error page instead
        assert content_type == "text/html" and not route.is_api, context


@st.composite
def request_for(draw: st.DrawFn, world: FuzzWorld, route: Route) -> dict[str, Any]:
    known = [value for values in world.known.values() for value in values]
    path = PLACEHOLDER.sub(
        lambda match: draw(path_value(world.known.get((route.service, match.group(1)), []))), route.path
    )
    if path.startswith("/static"):
        path += "/" + draw(st.sampled_from(["portal.css", "home.js", "..%2F..%2Fetc%2Fpasswd", "%ED%A0%80", "nope"]))
    headers: dict[str, str] = {"Accept": draw(st.sampled_from(["application/json", "text/html", "*/*"]))}
    origin = draw(st.sampled_from(ORIGINS))
    if origin is not None:
        headers["Origin"] = world.own_origin(route.service) if origin == "own" else origin
    if route.service == "cloud" and route.is_api and draw(st.integers(0, 4)) > 0:
        headers["Authorization"] = f"Bearer {world.token}"
    body = b""
    if route.method in ("POST", "PUT", "PATCH", "DELETE"):
        if route.is_form:
            csrf_field = "csrf_token" if route.service == "home" else "csrf"
            csrf = world.csrf.get("signin" if route.path == "/signin" else route.service, "")
            body, content_type = draw(form_body(csrf_field, csrf, known))
        else:
            body, content_type = draw(json_body(known)), draw(st.sampled_from(JSON_TYPES))
        if content_type is not None:
            headers["Content-Type"] = content_type
        body, encoding = encode_body(body, draw(st.sampled_from(ENCODINGS)))
        if encoding is not None:
            headers["Content-Encoding"] = encoding
    return {"method": route.method, "path": path + draw(query(known)), "headers": headers, "body": body}


async def send(world: FuzzWorld, route: Route, sent: dict[str, Any]) -> tuple[int, str, bytes, dict[str, str]]:
    session = world.pages[route.service] if route.is_form or not route.is_api else world.api
    assert session is not None
    url = URL(world.base[route.service] + sent["path"], encoded=True)
    async with session.request(
        sent["method"], url, data=sent["body"] or None, headers=sent["headers"], allow_redirects=False,
        skip_auto_headers=["Content-Type"],
    ) as response:  # fmt: skip
        if response.content_type == "text/event-stream":  # a live feed never ends: its first line is its answer
            return response.status, response.content_type, await response.content.readline(), dict(response.headers)
        return response.status, response.content_type, await response.read(), dict(response.headers)


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_route_answers_hostile_input_with_a_clear_4xx(fuzz: FuzzWorld, route: Route) -> None:
    fuzz.run(fuzz.refresh())

    @FUZZ
    @given(data=st.data())
    def property_holds(data: st.DataObject) -> None:
        sent = data.draw(request_for(fuzz, route))
        status, content_type, body, headers = fuzz.run(send(fuzz, route, sent))
        fuzz.requests += 1
        check_answer(route, sent, status, content_type, body, headers)

    property_holds()
    assert fuzz.run(fuzz.call("cloud", "GET", "/_emulator/invariant"))[1]["ok"] is True


async def link_exchange(world: FuzzWorld, messages: list[str | bytes], authenticate: bool) -> list[dict[str, Any]]:
    """Send ``messages`` over a fresh link (after a real handshake, or instead of one); the cloud's replies."""
    assert world.api is not None
    replies: list[dict[str, Any]] = []
    async with world.api.ws_connect(world.base["cloud"] + "/api/v1/link", max_msg_size=0) as socket:
        challenge = await socket.receive_json(timeout=5)
        home = world.link_system
        if authenticate:
            token = sign_link_auth(home.key, home.system_id, challenge["nonce"], datetime.now(UTC))
            await socket.send_str(
                protocol.encode(protocol.AUTH, system_id=home.system_id, token=token, seq=0, receipt=None)
            )
            welcome = await socket.receive_json(timeout=5)
            assert welcome["type"] == protocol.WELCOME, welcome
        sentinel = 987_654_321
        oversized = "<oversized>" in messages
        try:
            for message in map(expand, messages):
                await (socket.send_bytes(message) if isinstance(message, bytes) else socket.send_str(message))
            if authenticate:
                await socket.send_str(f'{{"id": {sentinel}, "type": "sentinel"}}')
        except ConnectionError:  # the cloud closed the link on a message over its limit while more were on the way
            assert oversized, f"the link closed after {messages!r:.300}"
            return replies
        while True:
            try:
                raw = await socket.receive(timeout=5)
            except TimeoutError:
                raise AssertionError(f"the cloud went silent: {messages!r:.300}") from None
            if raw.type != aiohttp.WSMsgType.TEXT:
                assert not authenticate or oversized, f"the link closed after {messages!r:.300}: {raw}"
                return replies
            reply = protocol.decode(raw.data).body
            if reply.get("type") == protocol.ERROR:
                replies.append(reply)
                if reply.get("reply_to") == sentinel:
                    return replies


@settings(FUZZ, max_examples=LINK_EXAMPLES)
@given(messages=st.lists(link_message([]), min_size=1, max_size=3), authenticate=st.booleans())
def test_the_link_answers_hostile_messages_with_an_error_and_stays_up(
    fuzz: FuzzWorld, messages: list[str | bytes], authenticate: bool
) -> None:
    fuzz.run(fuzz.ensure_seeded())
    replies = fuzz.run(link_exchange(fuzz, messages, authenticate))
    fuzz.messages += len(messages)
    for reply in replies:
        assert reply.get("code") != "internal_error", (messages, reply)
        assert isinstance(reply.get("message"), str), reply


def test_both_services_are_healthy_and_the_invariant_holds_after_the_fuzz(fuzz: FuzzWorld) -> None:
    for service in ("cloud", "home"):
        assert fuzz.run(fuzz.call(service, "GET", "/healthz")) == (200, {"status": "ok"})
    status, invariant = fuzz.run(fuzz.call("cloud", "GET", "/_emulator/invariant"))
    assert status == 200 and invariant["ok"] is True, invariant
    fuzz.run(fuzz.ensure_seeded())
    replies = fuzz.run(link_exchange(fuzz, ['{"id": 1, "type": "nope"}'], True))
    assert [reply["code"] for reply in replies] == ["unknown_type", "unknown_type"]
