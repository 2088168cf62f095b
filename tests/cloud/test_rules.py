from datetime import UTC, datetime, timedelta

from flex_emulator.cloud.domain import rules
from flex_emulator.cloud.domain.models import Assignment, Subscription

NOW = datetime(2026, 11, 28, 10, tzinfo=UTC)


def subscription(state: str, term_end: datetime | None = None) -> Subscription:
    return Subscription(
        id="sub_1",
        account_id="acc_1",
        order_id="SO-1",
        duration="monthly",
        quarters_total=40,
        quarters_available=40,
        state=state,
        created_at=NOW,
        term_start=NOW,
        term_end=term_end or NOW + timedelta(days=30),
        cancelled_at=None,
    )


def assignment(**changes: object) -> Assignment:
    base: dict[str, object] = {
        "id": "asg_1",
        "account_id": "acc_1",
        "system_id": "home-1",
        "subscription_id": "sub_1",
        "quarters": 4,
        "assigned_at": NOW,
        "auto_revoke_at": None,
        "downloaded": True,
        "valid_until": NOW + timedelta(days=30),
        "state": "active",
        "end_reason": None,
        "ended_at": None,
        "pending_after_seq": None,
        "pending_reason": None,
    }
    base.update(changes)
    return Assignment(**base)


def test_month_and_year_terms_follow_the_calendar() -> None:
    assert rules.term_end(datetime(2026, 1, 31, tzinfo=UTC), "monthly") == datetime(2026, 2, 28, tzinfo=UTC)
    assert rules.term_end(datetime(2028, 1, 31, tzinfo=UTC), "monthly") == datetime(2028, 2, 29, tzinfo=UTC)
    assert rules.term_end(NOW, "annual") == datetime(2027, 11, 28, 10, tzinfo=UTC)
    assert rules.term_end(datetime(2026, 12, 15, tzinfo=UTC), "monthly") == datetime(2027, 1, 15, tzinfo=UTC)


def test_only_active_and_still_usable_cancelled_subscriptions_are_selectable() -> None:
    assert rules.is_selectable(subscription("active"), NOW)
    assert rules.is_selectable(subscription("cancelled", NOW + timedelta(seconds=1)), NOW)  # its term's last second
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
    active = subscription("active")
    assert rules.may_return_now(assignment(downloaded=False, valid_until=None), active, NOW)
    assert rules.returns_at(assignment(downloaded=False, valid_until=None), active) is None


def test_delivered_credits_return_only_after_every_copy_expired_plus_skew() -> None:
    item, active = assignment(), subscription("active")
    assert not rules.may_return_now(item, active, NOW)
    back = NOW + timedelta(days=30, minutes=5)
    assert rules.returns_at(item, active) == back
    assert not rules.may_return_now(item, active, back - timedelta(seconds=1))
    assert rules.may_return_now(item, active, back)


def test_a_cancelled_term_end_brings_credits_back_only_when_every_copy_ends_by_then() -> None:
    term_end = NOW + timedelta(days=10)
    capped = assignment(valid_until=term_end)
    for state in ("cancelled", "expired"):
        assert rules.ends_with_term(capped, subscription(state, term_end))
        assert rules.returns_at(capped, subscription(state, term_end)) == term_end
    assert not rules.ends_with_term(capped, subscription("active", term_end))
    assert rules.returns_at(capped, subscription("active", term_end)) == term_end + timedelta(minutes=5)
    outlasting = assignment(valid_until=term_end + timedelta(days=5))
    assert not rules.ends_with_term(outlasting, subscription("cancelled", term_end))
    assert rules.returns_at(outlasting, subscription("cancelled", term_end)) == term_end + timedelta(days=5, minutes=5)
    assert rules.ends_with_term(assignment(downloaded=False, valid_until=None), subscription("cancelled", term_end))


def test_monthly_terms_are_counted_from_activation_so_a_short_month_does_not_shift_them() -> None:
    jan31 = datetime(2027, 1, 31, 10, tzinfo=UTC)
    ends = [rules.term_end(jan31, "monthly")]
    for _ in range(4):
        ends.append(rules.next_term_end(jan31, "monthly", ends[-1]))
    assert [end.date().isoformat() for end in ends] == [
        "2027-02-28",
        "2027-03-31",
        "2027-04-30",
        "2027-05-31",
        "2027-06-30",
    ]
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    assert rules.next_term_end(leap, "annual", rules.term_end(leap, "annual")) == datetime(2030, 2, 28, tzinfo=UTC)
    assert rules.next_term_end(NOW, "monthly", NOW + timedelta(days=30)) == datetime(2027, 1, 28, 10, tzinfo=UTC)


def test_a_receipt_proves_a_revoke_only_for_a_later_snapshot_that_left_it_out() -> None:
    pending = assignment(state="revoke_pending", pending_after_seq=4)
    assert not rules.receipt_proves_dropped(pending, 4, ())
    assert rules.receipt_proves_dropped(pending, 5, ())
    assert not rules.receipt_proves_dropped(pending, 5, ("asg_1",))
    assert not rules.receipt_proves_dropped(assignment(), 9, ())
