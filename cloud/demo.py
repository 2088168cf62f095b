"""The demo account ``--demo`` seeds into a new database: two users and a subscription in every state."""

import structlog

from cloud.db import Database
from cloud.ids import new_id
from cloud.passwords import hash_password
from cloud.subscriptions import Subscriptions
from shared.clock import Clock

log = structlog.get_logger()

DEMO_ACCOUNT = "Demo Broadcast"
DEMO_USERS = (("admin@example.com", "flex-admin", "admin"), ("operator@example.com", "flex-operator", "operator"))
# (order id, duration, credits, what happens to it after creation)
DEMO_SUBSCRIPTIONS = (
    ("SO-2026-00042", "monthly", 40, "active"),
    ("SO-2026-00043", "annual", 120, "active"),
    ("SO-2026-00044", "annual", 16, "cancelled"),
    ("SO-2026-00045", "monthly", 24, "inactive"),
)


async def seed_demo(db: Database, subscriptions: Subscriptions, clock: Clock) -> str | None:
    """Seed once: a database that already has the demo account is left alone."""
    if await db.read.get_meta("demo_account") is not None:
        return None
    now = clock.now()
    account_id = new_id("acc")
    async with db.transaction() as tx:
        await tx.create_account(account_id, DEMO_ACCOUNT, now)
        for email, password, role in DEMO_USERS:
            user = await tx.create_user(new_id("usr"), email, hash_password(password), now)
            await tx.add_membership(account_id, user.id, role)
        await tx.set_meta("demo_account", account_id)
    for order_id, duration, credits, state in DEMO_SUBSCRIPTIONS:
        sub = await subscriptions.create(account_id, duration, credits * 4, "inactive" if state == "inactive" else "active", order_id, "demo")
        if state == "cancelled":
            await subscriptions.cancel(account_id, sub.id, "demo")
    log.info("demo_seeded", account_id=account_id)
    return account_id
