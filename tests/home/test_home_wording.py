"""Counts agree with their nouns, on the pages and in messages."""

import re
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.domain import wording
from tests.kit.home import (
    csrf_token,
    entry,
    license_token,
    page,
    post_form,
    snapshot_token,
    system_id,
)


def form_with_fields(token: str, fields: list[tuple[str, str]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields:
        form.add_field(name, value)
    form.add_field("file", token.encode(), filename="credits.jwt", content_type="application/jwt")
    return form


def test_counts_agree_with_their_nouns() -> None:
    assert wording.count_of(1, "MV perpetual license") == "1 MV perpetual license"
    assert wording.count_of(3, "MV perpetual license") == "3 MV perpetual licenses"
    assert wording.credits_of(4) == "1 credit"
    assert wording.credits_of(1) == "0.25 credits"
    assert wording.credits_of(8) == "2 credits"
    assert wording.credits_agree(4, "is", "are") == "1 credit is"
    assert wording.credits_agree(5, "is", "are") == "1.25 credits are"


async def resource_flash(home: TestClient, fields: dict[str, Any]) -> str:
    token = await csrf_token(home, "/resources")
    await post_form(home, "/resources", fields, token)
    ids = re.findall(r'id="resource-(\d+)"', await page(home, "/resources"))
    await post_form(home, f"/resources/{ids[-1]}/start", {}, token)
    html = await page(home, "/resources")
    flash = re.search(r'<div id="flash".*?</div>', html, re.DOTALL)
    assert flash
    return flash.group(0)


async def test_messages_use_singular_and_plural_properly(home: TestClient, cloud_key: Ed25519PrivateKey) -> None:
    sid = await system_id(home)
    form_token = await csrf_token(home)
    form = form_with_fields(snapshot_token(cloud_key, sid, 1, (entry("a1", 4),)), [("csrf_token", form_token)])
    await home.post("/file-licenses", data=form, headers={"Accept": "text/html"}, allow_redirects=False)
    html = await page(home, "/file-licenses")
    assert "1 credit is valid now" in html and "<strong>1</strong> credit valid" in html
    form = form_with_fields(license_token(cloud_key, sid, "HOME Pass", 1), [("csrf_token", form_token)])
    await home.post("/file-licenses", data=form, headers={"Accept": "text/html"}, allow_redirects=False)
    assert "1 HOME Pass perpetual license added" in await page(home, "/file-licenses")

    unlicensed = await resource_flash(
        home, {"name": "Viewer", "license_type_needed": "MV", "count": "1", "license_type": "default"}
    )
    assert "needs 1 MV license: 0 perpetual licenses are free and 1 credit remains" in unlicensed
    running = await resource_flash(
        home, {"name": "Cam", "license_type_needed": "HOME Pass", "count": "1", "license_type": "default"}
    )
    assert "It uses 1 perpetual license." in running
    by_credits = await resource_flash(
        home, {"name": "Cam 2", "license_type_needed": "HOME Pass", "count": "1", "license_type": "credits"}
    )
    assert "It uses 0.25 credits." in by_credits
    resources = await page(home, "/resources")
    assert "1 perpetual, 0 credits" in resources and "0 perpetual, 0.25 credits" in resources
    assert "license(s)" not in unlicensed + running + by_credits
    assert ": 1 credit valid" in await page(home, "/licenses/credits")  # the graph's day tooltips
