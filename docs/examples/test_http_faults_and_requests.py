"""Your own client under HTTP faults: it retries a 503 that says Retry-After, and the request journal shows
what it sent. The client here is a few lines of urllib, built from the world's connection details."""

import json
import urllib.error
import urllib.request
from typing import Any

from flex_emulator import World


class TinyCloudClient:
    """A stand-in for your licensing client: one retry on a 503, as a well-behaved client does."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def get(self, path: str) -> Any:
        for attempt in range(2):
            request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.token}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return json.loads(answer.read())
            except urllib.error.HTTPError as error:
                if error.code != 503 or attempt:
                    raise
                error.close()
        raise AssertionError("unreachable")


def test_my_client_retries_a_503_once_and_the_journal_shows_both_calls(flex_world: World) -> None:
    account = flex_world.create_account(subscriptions=[8])
    details = flex_world.connection_details()
    client = TinyCloudClient(details.cloud_url, details.account().token)

    flex_world.fail_requests("/api/v1/accounts/*", method="GET", status=503, retry_after=1, times=1)
    subscriptions = client.get(f"/api/v1/accounts/{account.id}/subscriptions")
    assert subscriptions["subscriptions"][0]["credits_available"] == 8

    calls = flex_world.requests(path="/api/v1/accounts/", method="GET")
    assert [call["status"] for call in calls] == [503, 200]
    assert calls[0]["headers"]["Authorization"] == "Bearer ***"  # secrets are masked
    assert [event["status"] for event in flex_world.events(kind="http_fault")] == [503]


def test_a_home_that_hangs_makes_my_client_time_out(flex_world: World) -> None:
    studio = flex_world.start_home("Studio A")
    studio.hang_requests("/api/v1/licenses/credits", times=1)
    try:
        urllib.request.urlopen(studio.url + "/api/v1/licenses/credits", timeout=0.2)
    except TimeoutError:
        pass
    else:
        raise AssertionError("a hung request must time out")
    with urllib.request.urlopen(studio.url + "/api/v1/licenses/credits", timeout=5) as answer:
        assert json.loads(answer.read())["total"] == 0
