"""The narrated tour (``flex-emulator demo``) on one virtual clock: every step a sentence, the time steps included,
and what it says is what the inspector's timeline shows for each system."""

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flex_emulator import CloudClient, HomeClient
from flex_emulator.shared.clock import VirtualClock
from flex_emulator.tour import Tour
from tests.kit.browser import Stack, call

START = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """What scripts/run --virtual-clock starts: the demo account, Studio A online, OB Van 3 disconnected."""
    stack = Stack.start(tmp_path, {"Studio A": True, "OB Van 3": False}, clock=VirtualClock(start=START))
    stack.link("Studio A")
    stack.link("OB Van 3")
    stack.wait_online("Studio A")
    yield stack
    stack.stop()


def titles(stack: Stack, label: str) -> list[str]:
    system = stack.homes[label].system_id
    return [
        item["title"]
        for item in call("GET", f"{stack.cloud_url}/_emulator/inspector/timeline?system={system}")["items"]
    ]


def test_the_tour_says_each_step_and_the_inspector_shows_it_by_each_sides_clock(stack: Stack) -> None:
    said = io.StringIO()
    homes = stack.homes
    Tour(
        CloudClient(stack.cloud_url), HomeClient(homes["Studio A"].url), HomeClient(homes["OB Van 3"].url), 0, said
    ).run()
    lines = said.getvalue().splitlines()
    steps = [line for line in lines if line[:3].strip().rstrip(".").isdigit()]
    assert len(steps) == 12, lines
    assert "Assigned 1 credit to OB Van 3 with an Auto Revoke at 02 Nov 2026 09:30 UTC" in steps[10]
    assert "Moved the clock to 02 Nov 2026 09:42 UTC" in steps[11]
    assert "the cloud returned it at 02 Nov 2026 09:35 UTC, 5 minutes later" in steps[11]

    studio = titles(stack, "Studio A")
    assert "Receipt 2 accepted: HOME holds credits file 2; 1 assignment returned" in studio
    van = titles(stack, "OB Van 3")
    for title in [
        "Revoke key 2 entered: HOME's signature verified; 1 assignment returned",
        "Clock moved forward to 02 Nov 2026 09:42:00",
        "1 credit ended by HOME's clock",
        "Returned 1 credit to the subscription (Auto Revoke)",
    ]:
        assert title in van, (title, van)
    assert van.index("1 credit ended by HOME's clock") < van.index(
        "Returned 1 credit to the subscription (Auto Revoke)"
    )
