"""A world prepared ahead of time (``World.prepare``): taken by the world that fits it, and then exactly as
fresh as a world started on demand; a HOME prepared but not asked for leaves no trace; anything else
discards it."""

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flex_emulator import START, World
from flex_emulator.home.domain.identity import load_identity
from flex_emulator.inprocess import FIRST_HOME

HOME_NAME, HOME_LABEL = FIRST_HOME


def prepared_system_id(folder: Path) -> str:
    return load_identity(folder / HOME_NAME / "home_key.pem").system_id


def files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def an_online_test(world: World) -> dict[str, Any]:
    """What a short online test sees of its world, ids left out."""
    account = world.create_account(subscriptions=[8])
    studio = world.start_home(HOME_LABEL, account=account)
    item = account.assign(studio, 2)
    studio.settle()
    account.revoke(studio, item)
    studio.settle()
    return {
        "now": world.now(),
        "home": (studio.name, studio.label, studio.link_state(), studio.credits()["total"]),
        "cloud events": [(event["kind"], event["at"]) for event in world.events()],
        "home events": [(event["kind"], event["at"]) for event in studio.events()],
        "cloud requests": [(entry["method"], entry["status"]) for entry in world.requests(harness=True)],
        # the prepared HOME's first request (GET /api/v1/system) was made ahead, as the world makes it at once
        "home requests": [(entry["method"], entry["path"], entry["at"]) for entry in studio.requests(harness=True)],
    }


def test_a_prepared_world_is_taken_and_the_test_sees_what_a_world_started_on_demand_shows(tmp_path: Path) -> None:
    with World.start(tmp_path / "on-demand") as world:
        on_demand = an_online_test(world)
    prepared = World.prepare(tmp_path / "ahead")
    prepared.wait()
    system_id = prepared_system_id(tmp_path / "ahead")
    with World.start(tmp_path / "ahead", prepared=prepared) as world:
        assert not prepared.fits(tmp_path / "ahead", START, "info")  # taken: only once
        ahead = an_online_test(world)
        assert world.homes[0].system_id == system_id  # the HOME started ahead, not a new one
    assert ahead == on_demand
    assert files(tmp_path / "ahead") == files(tmp_path / "on-demand")


def test_a_prepared_home_not_asked_for_is_removed_and_the_world_starts_the_one_asked_for(tmp_path: Path) -> None:
    prepared = World.prepare(tmp_path / "world")
    prepared.wait()
    system_id = prepared_system_id(tmp_path / "world")
    with World.start(tmp_path / "world", prepared=prepared) as world:
        account = world.create_account()
        van = world.start_home("OB Van 3", account=account)
        assert van.name == "home-1-ob-van-3" and van.link_state() == "online"
        assert van.system_id != system_id
        assert not (tmp_path / "world" / HOME_NAME).exists()
        assert not (tmp_path / "world" / f"{HOME_NAME}.log").exists()
        second = world.start_home(HOME_LABEL)  # home-2-studio-a: started now, as any
        assert second.name == "home-2-studio-a" and second.system_id != system_id
    assert sorted(path.name for path in (tmp_path / "world").iterdir() if path.is_dir()) == [
        "cloud",
        "home-1-ob-van-3",
        "home-2-studio-a",
    ]


def test_a_world_that_starts_no_home_leaves_no_trace_of_the_prepared_one(tmp_path: Path) -> None:
    with World.start(tmp_path / "world", prepared=World.prepare(tmp_path / "world")) as world:
        world.create_account()
    assert sorted(path.name for path in (tmp_path / "world").iterdir()) == ["cloud", "cloud.log"]


def test_a_prepared_home_is_not_taken_once_the_clock_has_moved(tmp_path: Path) -> None:
    prepared = World.prepare(tmp_path / "world")
    prepared.wait()
    system_id = prepared_system_id(tmp_path / "world")
    with World.start(tmp_path / "world", prepared=prepared) as world:
        world.advance(hours=1)
        studio = world.start_home(HOME_LABEL, account=world.create_account())
        assert studio.name == HOME_NAME and studio.system_id != system_id
        assert studio.credits()["now"] == "2026-11-28T11:00:00Z"


@pytest.mark.parametrize(
    "differs",
    [{"start": datetime(2027, 1, 1, tzinfo=UTC)}, {"log_level": "debug"}, {"mode": "subprocess"}],
    ids=["start", "log_level", "mode"],
)
def test_a_world_of_other_settings_discards_the_prepared_one_and_starts_its_own(
    tmp_path: Path, differs: dict[str, Any]
) -> None:
    prepared = World.prepare(tmp_path / "world")
    prepared.wait()
    system_id = prepared_system_id(tmp_path / "world")
    with World.start(tmp_path / "world", prepared=prepared, **differs) as world:
        studio = world.start_home(HOME_LABEL, account=world.create_account())
        assert studio.system_id != system_id
        assert world.now() == differs.get("start", START)


def test_discarding_a_prepared_world_stops_it_and_removes_its_folder(tmp_path: Path) -> None:
    before = {thread.ident for thread in threading.enumerate()}
    prepared = World.prepare(tmp_path / "world")
    prepared.discard()
    prepared.discard()  # once is enough; again does nothing
    assert not (tmp_path / "world").exists()
    assert {thread.ident for thread in threading.enumerate()} <= before


def test_a_world_is_prepared_only_in_a_new_or_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="new or empty folder"):
        World.prepare(tmp_path / "used")
    assert (tmp_path / "used" / "notes.txt").read_text() == "mine"
