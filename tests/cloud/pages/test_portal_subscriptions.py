"""The Subscriptions page: TYPE (STATE), the yellow warning, and Activate / Cancel for admins only."""

from typing import Any

from tests.kit.portal import OPERATOR, Client, Portal, SignIn


async def test_subscriptions_show_order_type_state_duration_credits_and_term(admin: Portal) -> None:
    html = await admin.page(f"{admin.base}/subscriptions")
    for text in (
        "SO-2026-00042",
        "Monthly (Active)",
        "Annual (Active)",
        "Annual (Cancelled)",
        "Monthly (Inactive)",
        "12 months",
        "1 month",
    ):
        assert text in html
    assert '<th scope="col">Type (State)</th>' in html
    assert "28 Nov 2026 – " not in html  # the term shows as two dates in <time> elements
    assert (
        '<time datetime="2026-11-28T10:00:00Z" title="Saturday 28 November 2026, 10:00:00 UTC">' in html
    )  # tooltips read as times
    assert 'title="2026-' not in html


async def test_a_cancelled_but_usable_subscription_has_the_yellow_warning(admin: Portal) -> None:
    html = await admin.page(f"{admin.base}/subscriptions")
    row = html[html.index("SO-2026-00044") :].split("</tr>")[0]
    assert 'class="badge badge-warning usable-until"' in row
    assert "Cancelled: usable until 28 Nov 2027" in row
    assert html.count("badge-warning") == 1


async def test_activate_and_cancel_open_the_same_confirmation_dialog_not_a_browser_popup(
    admin: Portal, subs: dict[str, Any]
) -> None:
    html = await admin.page(f"{admin.base}/subscriptions")
    assert "data-confirm=" not in html and "confirm(" not in html
    for action, order in (("activate", "SO-2026-00045"), ("cancel", "SO-2026-00042")):
        link = f"{admin.base}/subscriptions/{subs[order]['id']}/{action}"
        assert f'href="{link}" data-dialog>' in html, action
        dialog = await admin.page(link)
        assert "data-dialog-content" in dialog and f"subscription {order}?</h1>" in dialog
        assert f'<form method="post" action="{link}">' in dialog and "Keep it as it is" in dialog
    cancel = await admin.page(f"{admin.base}/subscriptions/{subs['SO-2026-00042']['id']}/cancel")
    assert "stay usable until the end of the term" in cancel and "cannot be undone" in cancel


async def test_admin_activates_an_inactive_subscription(admin: Portal, subs: dict[str, Any]) -> None:
    dialog = f"{admin.base}/subscriptions/{subs['SO-2026-00045']['id']}/activate"
    path, html = await admin.post_and_follow(dialog, form_page=dialog)
    assert path == f"{admin.base}/subscriptions"
    assert "Subscription SO-2026-00045 is active" in html and "Monthly (Inactive)" not in html


async def test_admin_cancels_an_active_subscription_and_sees_the_warning(admin: Portal, subs: dict[str, Any]) -> None:
    dialog = f"{admin.base}/subscriptions/{subs['SO-2026-00042']['id']}/cancel"
    _, html = await admin.post_and_follow(dialog, form_page=dialog)
    assert "Subscription SO-2026-00042 is cancelled. Its credits stay usable until 28 Dec 2026." in html
    assert html.count("badge-warning") == 2


async def test_a_refused_action_is_shown_in_its_dialog(admin: Portal, subs: dict[str, Any]) -> None:
    html = await admin.post_refused(f"{admin.base}/subscriptions/{subs['SO-2026-00042']['id']}/activate", status=409)
    assert '<p class="error" role="alert" data-problem>' in html and "only an inactive one can be activated" in html
    assert "data-dialog-content" in html


async def test_operator_sees_no_activate_or_cancel_and_is_refused_anyway(sign_in: SignIn, subs: dict[str, Any]) -> None:
    operator = await sign_in(*OPERATOR)
    html = await operator.page(f"{operator.base}/subscriptions")
    assert "SO-2026-00045" in html and ">Activate<" not in html and ">Cancel<" not in html
    for action, order in (("activate", "SO-2026-00045"), ("cancel", "SO-2026-00042")):
        assert "Only an admin" in await operator.page(
            f"{operator.base}/subscriptions/{subs[order]['id']}/{action}", status=403
        )
        response = await operator.post(f"{operator.base}/subscriptions/{subs[order]['id']}/{action}")
        assert response.status == 403
        assert "Only an admin of this account may do this." in await response.text()
    html = await operator.page(f"{operator.base}/subscriptions")
    assert "Monthly (Inactive)" in html and "Monthly (Active)" in html


async def test_an_expired_subscription_loses_the_warning(admin: Portal, client: Client) -> None:
    await client.post("/_emulator/clock", json={"advance_seconds": 366 * 86400})
    html = await admin.page(f"{admin.base}/subscriptions")
    assert "Annual (Expired)" in html and "badge-warning" not in html
