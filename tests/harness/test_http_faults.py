"""Faults on the services' own HTTP APIs and the request journal, as a test author's own client meets them:
a plain urllib client (no harness header) against a real world."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from flex_emulator import World
from flex_emulator.transport import ApiError, json_request

T = TypeVar("T")


def send(
    url: str, method: str = "GET", body: Any = None, *, token: str | None = None, timeout: float = 10.0
) -> tuple[int, Any, dict[str, str]]:
    """What a user's own small client does: one request; the status, JSON answer and headers (errors included)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read()), dict(error.headers)


def eventually(get: Callable[[], T], done: Callable[[T], bool], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while not done(found := get()):
        assert time.monotonic() < deadline, f"still {found!r} after {timeout} s"
        time.sleep(0.01)
    return found


def test_a_status_fault_answers_its_5xx_in_the_contract_shape_the_given_number_of_times(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    path = f"/api/v1/accounts/{account.id}/subscriptions"
    fault = flex_world.fail_requests(path, method="GET", status=503, retry_after=7, times=2)
    assert (fault["action"], fault["status"], fault["retry_after"], fault["remaining"]) == ("status", 503, 7, 2)
    for _ in range(2):
        status, body, headers = send(flex_world.cloud_url + path, token=account.token)
        assert status == 503 and body["error"]["code"] == "injected_fault" and headers["Retry-After"] == "7"
    status, body, _ = send(flex_world.cloud_url + path, token=account.token)
    assert status == 200 and body["subscriptions"][0]["credits_total"] == 8
    assert flex_world.http_faults() == []  # spent
    applied = flex_world.events(kind="http_fault")
    assert [(event["method"], event["path"], event["status"]) for event in applied] == [("GET", path, 503)] * 2
    seen = flex_world.requests(path="/api/v1/accounts/")
    assert [entry["status"] for entry in seen] == [503, 503, 200]
    assert seen[0]["fault"] == {"id": fault["id"], "action": "status"} and "fault" not in seen[2]


def test_a_prefix_fault_on_home_holds_until_cleared_and_never_touches_the_emulator_routes(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    studio.fail_requests("/*", status=500)
    for path in ("/api/v1/licenses/credits", "/api/v1/system"):
        status, body, headers = send(studio.url + path)
        assert status == 500 and body["error"]["code"] == "injected_fault" and "Retry-After" not in headers
    assert send(studio.url + "/healthz")[0] == 200
    assert send(studio.url + "/_emulator/clock")[0] == 200
    account.assign(studio, 2)  # the world's own calls are never faulted
    studio.settle()
    assert [fault["remaining"] for fault in studio.http_faults()] == [None]
    studio.clear_http_faults()
    status, body, _ = send(studio.url + "/api/v1/licenses/credits")
    assert status == 200 and body["total"] == 2


def test_a_post_reset_or_hung_is_never_run_and_the_journal_shows_it_unanswered(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    studio = flex_world.start_home("Studio A", account=account)
    assign = f"/api/v1/accounts/{account.id}/systems/{studio.system_id}/assignments"
    body = {"subscription_id": account.subscriptions[0]["id"], "credits": 2}
    flex_world.reset_requests(assign, method="POST", times=1)
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        send(flex_world.cloud_url + assign, "POST", body, token=account.token)
    flex_world.hang_requests(assign, method="POST", times=1)
    with pytest.raises(TimeoutError):
        send(flex_world.cloud_url + assign, "POST", body, token=account.token, timeout=0.3)
    assert account.assignments(studio) == []  # neither ran
    status, created, _ = send(flex_world.cloud_url + assign, "POST", body, token=account.token)
    assert status == 201 and created["assignment"]["credits"] == 2
    # In the order they ended: the hung one when the service noticed its client had left.
    posts = eventually(lambda: flex_world.requests(path=assign, method="post"), lambda found: len(found) == 3)
    assert sorted((entry["status"] or 0, entry.get("fault", {}).get("action", "")) for entry in posts) == [
        (0, "hang"),
        (0, "reset"),
        (201, ""),
    ]
    assert [entry.get("json") for entry in posts if entry["status"]] == [body]


def test_latency_delays_the_real_answer(flex_world: World) -> None:
    studio = flex_world.start_home("Studio A")
    studio.delay_requests("/api/v1/system", 300, method="GET", times=1)
    with pytest.raises(TimeoutError):
        send(studio.url + "/api/v1/system", timeout=0.05)
    status, body, _ = send(studio.url + "/api/v1/system")
    assert status == 200 and body["system_id"] == studio.system_id
    seen = eventually(lambda: studio.requests(path="/api/v1/system"), lambda found: len(found) == 2)
    [late] = [entry for entry in seen if "fault" in entry]
    assert late["fault"]["action"] == "latency" and late["duration_ms"] >= 300


def test_the_journal_masks_secrets_and_keeps_what_the_client_sent(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    status, signed, _ = send(
        flex_world.cloud_url + "/api/v1/auth/token", "POST", {"email": account.email, "password": account.password}
    )
    assert status == 200
    send(flex_world.cloud_url + "/api/v1/accounts", token=signed["token"])
    send(flex_world.cloud_url + "/api/v1/accounts?limit=5&tag=a&tag=b", "POST", {"x": "y" * 70_000})
    sign_in, listed, big = flex_world.requests()
    assert sign_in["json"] == {"email": account.email, "password": "***"}
    assert listed["headers"]["Authorization"] == "Bearer ***" and signed["token"] not in json.dumps(listed)
    assert big["truncated"] is True and "json" not in big and big["query"] == {"limit": "5", "tag": ["a", "b"]}
    assert big["status"] == 405 and listed["status"] == 200
    account.subscription()  # the world's own call: left out unless asked for
    assert len(flex_world.requests()) == 3
    every = flex_world.requests(harness=True)
    assert (
        every[-1]["path"] == f"/api/v1/accounts/{account.id}/subscriptions" and every[-1]["headers"]["X-Flex-Harness"]
    )


def test_requests_of_a_stopped_and_restarted_service_are_kept(flex_world: World) -> None:
    studio = flex_world.start_home("Studio A")
    send(studio.url + "/api/v1/system")
    studio.restart(online=False)
    send(studio.url + "/api/v1/licenses/credits")
    assert [entry["path"] for entry in studio.requests()] == ["/api/v1/system", "/api/v1/licenses/credits"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"add": {"path": "/api/*"}}, "missing_field"),
        ({"add": {"path": "/api/*", "action": "explode"}}, "invalid_value"),
        ({"add": {"path": "/api/*", "action": "status", "status": 404}}, "invalid_value"),
        ({"add": {"path": "/api/*", "action": "latency"}}, "missing_field"),
        ({"add": {"path": "/api/*", "action": "reset", "latency_ms": 5}}, "invalid_value"),
        ({"add": {"path": "/api/*", "action": "reset", "times": 0}}, "invalid_value"),
        ({"add": {"path": "/_emulator/clock", "action": "reset"}}, "invalid_value"),
        ({"add": {"path": "/healthz", "action": "reset"}}, "invalid_value"),
        ({"add": {"path": "api", "action": "reset"}}, "invalid_value"),
        ({"add": {"path": "/a*b", "action": "reset"}}, "invalid_value"),
        ({"add": {"path": "/api/*", "action": "reset", "method": "BREW"}}, "invalid_value"),
        ({"add": {"path": "/api/*", "action": "reset", "colour": "red"}}, "unknown_field"),
        ({"clear": "yes"}, "invalid_value"),
        ({}, "invalid_request"),
    ],
)
def test_a_bad_fault_is_refused_and_arms_nothing(flex_world: World, body: dict[str, Any], code: str) -> None:
    with pytest.raises(ApiError) as refused:
        json_request("POST", flex_world.cloud_url + "/_emulator/http-faults", body)
    assert (refused.value.status, refused.value.code) == (400, code)
    assert flex_world.http_faults() == []
