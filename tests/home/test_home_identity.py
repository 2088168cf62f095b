"""HOME's identity: made on first start, kept across restarts, shown with a verifiable registration code."""

from pathlib import Path

from flex_emulator.shared.keys import system_id_for
from flex_emulator.shared.tokens import verify_registration
from tests.kit.home import HomeFactory, system_id


async def test_identity_is_created_on_first_start_and_kept(start_home: HomeFactory, data_dir: Path) -> None:
    first = await start_home(label="Studio A")
    body = await (await first.get("/api/v1/system")).json()
    await first.close()
    assert (data_dir / "home_key.pem").exists()
    assert (data_dir / "home.sqlite3").exists()

    second = await start_home()
    again = await (await second.get("/api/v1/system")).json()
    assert again["system_id"] == body["system_id"]
    assert again["label"] == "Studio A"  # stored at first start, kept without --label


async def test_registration_code_proves_the_system_id_and_label(start_home: HomeFactory) -> None:
    home = await start_home(label="Studio B")
    body = await (await home.get("/api/v1/system")).json()
    registration = verify_registration(body["registration_code"])
    assert registration.system_id == body["system_id"] == system_id_for(registration.public_key)
    assert registration.label == "Studio B"
    assert body["system_id"].startswith("home-")


async def test_default_label_is_home_and_a_new_label_replaces_it(start_home: HomeFactory) -> None:
    home = await start_home()
    assert (await (await home.get("/api/v1/system")).json())["label"] == "HOME"
    await home.close()
    home = await start_home(label="Renamed")
    assert (await (await home.get("/api/v1/system")).json())["label"] == "Renamed"


async def test_system_shows_the_cloud_link(start_home: HomeFactory) -> None:
    home = await start_home(cloud_url="http://127.0.0.1:8700")
    body = await (await home.get("/api/v1/system")).json()
    assert body["cloud"]["url"] == "http://127.0.0.1:8700"
    assert body["cloud"]["enabled"] is False
    assert body["cloud"]["state"] == "disabled"
    assert await system_id(home) == body["system_id"]


async def test_healthz_answers_ok(start_home: HomeFactory) -> None:
    home = await start_home()
    response = await home.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
