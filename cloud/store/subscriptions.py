"""SQL for subscriptions and the credits they hold."""

from datetime import datetime

from flex_emulator.cloud.domain.models import Subscription
from flex_emulator.cloud.store.records import (
    SUBSCRIPTION_COLUMNS,
    prefixed,
    subscription_row,
    subscription_values,
    ts,
)
from flex_emulator.shared.sql import Sql

# Never over-assigns: a subscription that does not hold the credits is left as it is (no row changed).
TAKE_QUARTERS = (
    "UPDATE subscriptions SET quarters_available = quarters_available - ? WHERE id = ? AND quarters_available >= ?"
)


class SubscriptionQueries:
    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    async def insert(self, sub: Subscription) -> None:
        marks = ", ".join("?" * len(SUBSCRIPTION_COLUMNS.split(",")))
        await self._sql.run(
            f"INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES ({marks})", subscription_values(sub)
        )

    async def get(self, sub_id: str) -> Subscription | None:
        row = await self._sql.one(f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?", (sub_id,))
        return None if row is None else subscription_row(row)

    async def get_many(self, ids: list[str]) -> dict[str, Subscription]:
        rows = await self._sql.all(
            f"SELECT {prefixed(SUBSCRIPTION_COLUMNS, 't')} FROM {self._sql.each('j')} "
            "JOIN subscriptions t ON t.id = j.value",
            (self._sql.ids(ids),),
        )
        return {row["id"]: subscription_row(row) for row in rows}

    async def of_account(self, account_id: str) -> list[Subscription]:
        rows = await self._sql.all(
            f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE account_id = ? ORDER BY created_at, order_id",
            (account_id,),
        )
        return [subscription_row(row) for row in rows]

    async def set_state(
        self,
        sub_id: str,
        state: str,
        term_start: datetime | None,
        term_end: datetime | None,
        cancelled_at: datetime | None,
    ) -> None:
        await self.set_states([(sub_id, state, term_start, term_end, cancelled_at)])

    async def set_states(
        self, changes: list[tuple[str, str, datetime | None, datetime | None, datetime | None]]
    ) -> None:
        """(id, state, term start, term end, cancelled at) for each subscription."""
        # The first term's start is kept as activated_at: every later term end is counted from it.
        await self._sql.many(
            "UPDATE subscriptions SET state = ?, term_start = ?, term_end = ?, cancelled_at = ?, "
            "activated_at = COALESCE(activated_at, ?) WHERE id = ?",
            [
                (state, ts(start), ts(end), ts(cancelled), ts(start), sub_id)
                for sub_id, state, start, end, cancelled in changes
            ],
        )

    async def take_quarters(self, sub_id: str, quarters: int) -> bool:
        """Take credits out of a subscription; False when it does not have them (never over-assigns)."""
        changed = await self._sql.run(TAKE_QUARTERS, (quarters, sub_id, quarters))
        return changed == 1

    async def give_back_quarters(self, quarters: dict[str, int]) -> None:
        """Credits back into each subscription (id -> quarters)."""
        await self._sql.many(
            "UPDATE subscriptions SET quarters_available = quarters_available + ? WHERE id = ?",
            [(count, sub_id) for sub_id, count in quarters.items()],
        )
