"""Every error path of the HOME API answers with the contract's one error shape."""

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from flex_emulator.shared.clock import WallClock
from tests.kit.home import HomeFactory


def assert_error(body: Any, code: str) -> None:
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and len(body["error"]["message"]) > 10, body


CASES: list[tuple[str, str, Any, int, str]] = [
    ("GET", "/api/v1/nothing-here", None, 404, "not_found"),
    ("GET", "/nothing-here", None, 404, "not_found"),
    ("DELETE", "/api/v1/system", None, 405, "method_not_allowed"),
    ("PUT", "/api/v1/cloud-link", b"{not json", 400, "bad_json"),
    ("PUT", "/api/v1/cloud-link", b"[true]", 400, "bad_json"),
    ("PUT", "/api/v1/cloud-link", {}, 400, "missing_field"),
    ("PUT", "/api/v1/cloud-link", {"enabled": "yes"}, 400, "wrong_type"),
    ("POST", "/api/v1/resources", {}, 400, "missing_field"),
    ("POST", "/api/v1/resources", {"name": 5, "license_type_needed": "MV", "count": 1}, 400, "wrong_type"),
    ("POST", "/api/v1/resources", {"name": "A", "license_type_needed": "Teleporter", "count": 1}, 400, "invalid_value"),
    ("POST", "/api/v1/resources", {"name": "A", "license_type_needed": "MV"}, 400, "missing_field"),
    ("POST", "/api/v1/resources", {"name": "A", "license_type_needed": "MV", "count": "2"}, 400, "wrong_type"),
    ("POST", "/api/v1/resources", {"name": "A", "license_type_needed": "MV", "count": 0}, 400, "out_of_range"),
    (
        "POST",
        "/api/v1/resources",
        {"name": "A", "license_type_needed": "MV", "count": 1, "license_type": "x"},
        400,
        "invalid_value",
    ),
    ("POST", "/api/v1/resources/12345/start", None, 404, "not_found"),
    ("POST", "/api/v1/resources/12345/stop", None, 404, "not_found"),
    ("GET", "/api/v1/resources/nope", None, 404, "not_found"),
    ("POST", "/api/v1/file-licenses", b"", 400, "malformed"),
    ("POST", "/_emulator/clock", {}, 400, "missing_field"),
    ("POST", "/_emulator/clock", {"advance_seconds": -5}, 400, "clock_backwards"),
    ("POST", "/_emulator/clock", {"now": "2020-01-01T00:00:00Z"}, 400, "clock_backwards"),
    ("POST", "/_emulator/clock", {"now": "yesterday"}, 400, "wrong_type"),
    ("POST", "/_emulator/clock", {"advance_seconds": "soon"}, 400, "wrong_type"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"), CASES, ids=[f"{c[0]} {c[1]} {c[4]}" for c in CASES]
)
async def test_error_paths_answer_with_the_error_shape(
    home: TestClient, method: str, path: str, body: Any, status: int, code: str
) -> None:
    kwargs: dict[str, Any] = (
        {"data": body, "headers": {"Content-Type": "application/json"}}
        if isinstance(body, bytes)
        else ({"json": body} if body is not None else {})
    )
    response = await home.request(method, path, **kwargs)
    assert response.status == status
    assert response.content_type == "application/json"
    assert_error(await response.json(), code)


async def test_emulator_routes_are_absent_without_the_emulator_api(start_home: HomeFactory) -> None:
    home = await start_home(emulator_api=False)
    for method in ("GET", "POST"):
        response = await home.request(method, "/_emulator/clock", json={"advance_seconds": 5})
        assert response.status == 404
        assert_error(await response.json(), "not_found")


async def test_wall_clock_cannot_be_moved(start_home: HomeFactory) -> None:
    home = await start_home(clock=WallClock())
    got = await (await home.get("/_emulator/clock")).json()
    assert got["virtual"] is False
    response = await home.post("/_emulator/clock", json={"advance_seconds": 60})
    assert response.status == 409
    assert_error(await response.json(), "clock_not_virtual")


async def test_api_writes_from_another_sites_page_are_refused(home: TestClient) -> None:
    body = {"name": "A", "license_type_needed": "MV", "count": 1}
    response = await home.post("/api/v1/resources", json=body, headers={"Origin": "http://evil.example"})
    assert response.status == 403
    assert_error(await response.json(), "cross_origin")
    same_site = await home.post("/api/v1/resources", json=body, headers={"Origin": str(home.make_url("")).rstrip("/")})
    assert same_site.status == 201
    assert (await home.get("/api/v1/system", headers={"Origin": "http://evil.example"})).status == 200


async def test_every_json_answer_ends_with_a_newline(home: TestClient) -> None:
    for path, status in (("/api/v1/system", 200), ("/api/v1/licenses/credits", 200), ("/api/v1/nowhere", 404)):
        response = await home.get(path)
        body = await response.read()
        assert response.status == status and response.content_type == "application/json"
        assert body.endswith(b"}\n") and body.count(b"\n") == 1, body
