"""The demo account ``--demo`` seeds into a new database: two users and a subscription in every state."""

import structlog

from flex_emulator.cloud.domain.ids import new_id
from flex_emulator.cloud.domain.models import SubscriptionState
from flex_emulator.cloud.domain.passwords import hash_password
from flex_emulator.cloud.domain.subscriptions import Subscriptions
from flex_emulator.cloud.store import Database
from flex_emulator.shared.clock import Clock

log = structlog.get_logger()

DEMO_ACCOUNT = "Demo Broadcast"
# The demo users' sign-in (email, password): written here once, read by scripts/run, the tour (flex-emulator demo)
# and the tests.
DEMO_ADMIN = ("admin@example.com", "flex-admin")
DEMO_OPERATOR = ("operator@example.com", "flex-operator")
DEMO_USERS = ((*DEMO_ADMIN, "admin"), (*DEMO_OPERATOR, "operator"))
# (order id, duration, credits, what happens to it after creation)
DEMO_SUBSCRIPTIONS = (
    ("SO-2026-00042", "monthly", 40, SubscriptionState.ACTIVE),
    ("SO-2026-00043", "annual", 120, SubscriptionState.ACTIVE),
    ("SO-2026-00044", "annual", 16, SubscriptionState.CANCELLED),
    ("SO-2026-00045", "monthly", 24, SubscriptionState.INACTIVE),
)


async def seed_demo(db: Database, subscriptions: Subscriptions, clock: Clock) -> str | None:
    """Seed once: a database that already has the demo account is left alone."""
    if await db.read.meta.get("demo_account") is not None:
        return None
    now = clock.now()
    account_id = new_id("acc")
    hashed = [(email, hash_password(password), role) for email, password, role in DEMO_USERS]
    # One transaction, marker included: a crash part-way leaves nothing, so the next start seeds it all.
    async with db.transaction() as tx:
        await tx.accounts.create(account_id, DEMO_ACCOUNT, now)
        for email, password_hash, role in hashed:
            user = await tx.users.create(new_id("usr"), email, password_hash, now)
            await tx.accounts.add_member(account_id, user.id, role)
        for order_id, duration, credits, state in DEMO_SUBSCRIPTIONS:
            start = SubscriptionState.INACTIVE if state == SubscriptionState.INACTIVE else SubscriptionState.ACTIVE
            sub = await subscriptions.insert(tx, account_id, duration, credits * 4, start, order_id, "demo", now)
            if state == SubscriptionState.CANCELLED:
                await subscriptions.cancel_in(tx, sub, now, "demo")  # no systems yet: nothing to send
        await tx.meta.set("demo_account", account_id)
    log.info("demo_seeded", account_id=account_id)
    return account_id
