"""The credits view: totals, validity status and the day-by-day timeline."""

from datetime import timedelta

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.domain import holdings
from tests.kit.home import (
    DAY,
    START,
    credits_view,
    entry,
    snapshot_token,
    system_id,
    upload,
)


def test_timeline_shows_valid_then_renewable_days() -> None:
    entries = [
        entry("renews", 8, valid_until=START + 5 * DAY),  # renews while check-ins continue
        entry("ends", 4, valid_until=START + 3 * DAY, renewable_until=START + 3 * DAY),  # cancelled: ends
        entry("cycle", 4, valid_until=START + 2 * DAY, renewable_until=START + 10 * DAY),
    ]
    days = holdings.timeline(entries, START)
    assert len(days) == 35
    assert days[0].date == START.date()
    assert (days[0].valid, days[0].renewable) == (16, 0)
    # A day counts what is valid at any moment of it (valid_until after the day's start).
    assert (days[2].valid, days[2].renewable) == (16, 0)
    assert (days[3].valid, days[3].renewable) == (12, 4)  # "cycle" ended, renews later
    assert (days[4].valid, days[4].renewable) == (8, 4)  # "ends" is gone for good
    assert (days[6].valid, days[6].renewable) == (0, 12)
    assert (days[10].valid, days[10].renewable) == (0, 12)
    assert (days[11].valid, days[11].renewable) == (0, 8)  # "cycle" cannot renew past its end


def test_expired_entries_count_for_nothing() -> None:
    entries = [entry("old", 8, valid_until=START - DAY)]
    assert holdings.totals(entries, 0, START) == holdings.Totals(0, 0, 0)
    assert all(day.valid == day.renewable == 0 for day in holdings.timeline(entries, START))


def test_in_use_above_total_leaves_nothing_remaining() -> None:
    assert holdings.totals([entry("a", 4)], 8, START) == holdings.Totals(4, 8, 0)


def test_status_tells_how_to_refresh() -> None:
    assert holdings.status([], START, online=False).state == "none"
    soon = holdings.status([entry(valid_until=START + DAY)], START, online=True)
    assert soon.state == "renew_soon" and "by itself 24 hours before" in soon.message
    valid = holdings.status([entry(valid_until=START + 20 * DAY)], START, online=False)
    assert valid.state == "valid" and "upload it on FileLicenses" in valid.message
    assert valid.valid_until == START + 20 * DAY
    expired = holdings.status([entry(valid_until=START - timedelta(seconds=1))], START, online=False)
    assert expired.state == "expired"


async def test_credits_view_shows_entries_status_and_timeline(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    entries = (
        entry("a1", 5, valid_until=START + 10 * DAY, renewable_until=START + 10 * DAY, state="cancelled"),
        entry("a2", 8, valid_until=START + 30 * DAY, duration="annual"),
    )
    await upload(home, snapshot_token(cloud_key, sid, 7, entries))
    view = await credits_view(home)
    assert (view["total"], view["in_use"], view["remaining"], view["seq"]) == (3.25, 0, 3.25, 7)
    first, second = view["entries"]
    assert first == {
        "assignment_id": "a1",
        "credits": 1.25,
        "assigned_at": "2026-11-28T10:00:00Z",
        "valid_until": "2026-12-08T10:00:00Z",
        "renewable_until": "2026-12-08T10:00:00Z",
        "subscription_id": "sub-1",
        "order_id": "SO-2026-00042",
        "duration": "monthly",
        "subscription_state": "cancelled",
        "renewal": "none",
        "expired": False,
    }
    # This HOME's link is off: the second entry renews only by a new file, never by itself.
    assert second["renewal"] == "by_file" and second["duration"] == "annual"
    assert view["status"]["state"] == "valid"
    assert view["status"]["valid_until"] == "2026-12-08T10:00:00Z"
    assert "FileLicenses" in view["status"]["message"]
    timeline = view["timeline"]
    assert timeline[0] == {"date": "2026-11-28", "valid": 3.25, "renewable": 0}
    assert timeline[11] == {"date": "2026-12-09", "valid": 2, "renewable": 0}
    assert timeline[31] == {"date": "2026-12-29", "valid": 0, "renewable": 2}
