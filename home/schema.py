"""HOME's database schema as numbered migrations; ``PRAGMA user_version`` records how many ran."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE snapshot (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            token TEXT NOT NULL,
            jti TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            applied_at TEXT NOT NULL)""",
        """CREATE TABLE entries (
            position INTEGER PRIMARY KEY,
            assignment_id TEXT NOT NULL UNIQUE,
            quarters INTEGER NOT NULL CHECK (quarters > 0),
            assigned_at TEXT NOT NULL,
            valid_until TEXT NOT NULL,
            renewable_until TEXT,
            subscription_id TEXT NOT NULL,
            order_id TEXT NOT NULL,
            duration TEXT NOT NULL,
            subscription_state TEXT NOT NULL)""",
        """CREATE TABLE receipt (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            token TEXT NOT NULL,
            issued_at TEXT NOT NULL)""",
        """CREATE TABLE perpetual (
            jti TEXT PRIMARY KEY,
            license_type TEXT NOT NULL,
            count INTEGER NOT NULL CHECK (count > 0),
            token TEXT NOT NULL,
            applied_at TEXT NOT NULL)""",
        """CREATE TABLE resources (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            license_type_needed TEXT NOT NULL,
            count INTEGER NOT NULL CHECK (count > 0),
            license_type TEXT NOT NULL CHECK (license_type IN ('default', 'perpetual', 'credits')),
            status TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'unlicensed')),
            perpetual_in_use INTEGER NOT NULL DEFAULT 0,
            credits_in_use INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL)""",
    ),
)
