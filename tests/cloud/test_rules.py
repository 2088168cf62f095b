from datetime import UTC, datetime, timedelta

from cloud import rules
from cloud.models import Assignment, Subscription

NOW = datetime(2026, 11, 28, 10, tzinfo=UTC)


def subscription(state: str, term_end: datetime | None = None) -> Subscription:
    return Subscription("sub_1", "acc_1", "SO-1", "monthly", 40, 40, state, NOW, NOW, term_end or NOW + timedelta(days=30), None)


def assignment(**changes: object) -> Assignment:
    base = dict(
        id="asg_1", account_id="acc_1", system_id="home-1", subscription_id="sub_1", quarters=4, assigned_at=NOW,
        auto_revoke_at=None, downloaded=True, valid_until=NOW + timedelta(days=30), state="active", end_reason=None,
        ended_at=None, pending_after_seq=None, pending_reason=None,
    )  # fmt: skip
    base.update(changes)
    return Assignment(**base)  # type: ignore[arg-type]


def test_month_and_year_terms_follow_the_calendar() -> None:
    assert rules.term_end(datetime(2026, 1, 31, tzinfo=UTC), "monthly") == datetime(2026, 2, 28, tzinfo=UTC)
    assert rules.term_end(datetime(2028, 1, 31, tzinfo=UTC), "monthly") == datetime(2028, 2, 29, tzinfo=UTC)
    assert rules.term_end(NOW, "annual") == datetime(2027, 11, 28, 10, tzinfo=UTC)
    assert rules.term_end(datetime(2026, 12, 15, tzinfo=UTC), "monthly") == datetime(2027, 1, 15, tzinfo=UTC)


def test_only_active_and_still_usable_cancelled_subscriptions_are_selectable() -> None:
    assert rules.is_selectable(subscription("active"), NOW)
    assert rules.is_selectable(subscription("cancelled", NOW + timedelta(days=1)), NOW)
    assert not rules.is_selectable(subscription("cancelled", NOW), NOW)
    assert not rules.is_selectable(subscription("inactive"), NOW)
    assert not rules.is_selectable(subscription("expired"), NOW)


def test_a_copy_is_valid_thirty_days_capped_by_auto_revoke_and_cancelled_term() -> None:
    active = subscription("active")
    assert rules.copy_valid_until(NOW, rules.validity_cap(active, None)) == NOW + timedelta(days=30)
    soon = NOW + timedelta(days=3)
    assert rules.copy_valid_until(NOW, rules.validity_cap(active, soon)) == soon
    cancelled = subscription("cancelled", NOW + timedelta(days=10))
    assert rules.copy_valid_until(NOW, rules.validity_cap(cancelled, None)) == NOW + timedelta(days=10)
    assert rules.validity_cap(cancelled, soon) == soon


def test_check_in_is_a_day_before_the_first_validity_a_renewal_extends() -> None:
    until = NOW + timedelta(days=30)
    assert rules.check_in_at([(until, None)]) == until - timedelta(hours=24)
    capped = NOW + timedelta(days=2)
    assert rules.check_in_at([(capped, capped)]) is None
    assert rules.check_in_at([(capped, capped), (until, None)]) == until - timedelta(hours=24)
    assert rules.check_in_at([]) is None


def test_credits_never_delivered_may_return_at_once() -> None:
    assert rules.may_return_now(assignment(downloaded=False, valid_until=None), NOW)
    assert rules.returns_at(assignment(downloaded=False, valid_until=None)) is None


def test_delivered_credits_return_only_after_every_copy_expired_plus_skew() -> None:
    item = assignment()
    assert not rules.may_return_now(item, NOW)
    back = NOW + timedelta(days=30, minutes=5)
    assert rules.returns_at(item) == back
    assert not rules.may_return_now(item, back - timedelta(seconds=1))
    assert rules.may_return_now(item, back)


def test_a_receipt_proves_a_revoke_only_for_a_later_snapshot_that_left_it_out() -> None:
    pending = assignment(state="revoke_pending", pending_after_seq=4)
    assert not rules.receipt_proves_dropped(pending, 4, ())
    assert rules.receipt_proves_dropped(pending, 5, ())
    assert not rules.receipt_proves_dropped(pending, 5, ("asg_1",))
    assert not rules.receipt_proves_dropped(assignment(), 9, ())
