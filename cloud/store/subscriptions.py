"""SQL for subscriptions and the credits they hold."""

from datetime import datetime

from cloud.models import Subscription
from cloud.store.records import (
    SUBSCRIPTION_COLUMNS,
    subscription_row,
    subscription_values,
    ts,
)
from shared.sqlite import Sql


class SubscriptionQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, sub: Subscription) -> None:
        marks = ", ".join("?" * len(SUBSCRIPTION_COLUMNS.split(",")))
        await self._sql.run(f"INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES ({marks})", subscription_values(sub))

    async def get(self, sub_id: str) -> Subscription | None:
        row = await self._sql.one(f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?", (sub_id,))
        return None if row is None else subscription_row(row)

    async def of_account(self, account_id: str) -> list[Subscription]:
        rows = await self._sql.all(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE account_id = ? ORDER BY created_at, order_id",
            (account_id,),
        )
        return [subscription_row(row) for row in rows]

    async def set_state(
        self, sub_id: str, state: str, term_start: datetime | None, term_end: datetime | None, cancelled_at: datetime | None
    ) -> None:
        # The first term's start is kept as activated_at: every later term end is counted from it.
        await self._sql.run(
            "UPDATE subscriptions SET state = ?, term_start = ?, term_end = ?, cancelled_at = ?, "
            "activated_at = COALESCE(activated_at, ?) WHERE id = ?",
            (state, ts(term_start), ts(term_end), ts(cancelled_at), ts(term_start), sub_id),
        )

    async def take_quarters(self, sub_id: str, quarters: int) -> bool:
        """Take credits out of a subscription; False when it does not have them (never over-assigns)."""
        changed = await self._sql.run(
            "UPDATE subscriptions SET quarters_available = quarters_available - ? WHERE id = ? AND quarters_available >= ?",
            (quarters, sub_id, quarters),
        )
        return changed == 1

    async def give_back_quarters(self, sub_id: str, quarters: int) -> None:
        await self._sql.run(
            "UPDATE subscriptions SET quarters_available = quarters_available + ? WHERE id = ?", (quarters, sub_id)
        )
