"""HOME's schema as numbered migrations, applied at start-up and tracked in ``PRAGMA user_version``.
Times are epoch seconds (INTEGER), as in the cloud: see docs/architecture.md, "The store"."""

# SQLite cannot change a column's type in place: a table is rebuilt under a new name and renamed back.
_EPOCH = "CAST(strftime('%s', {0}) AS INTEGER)"

MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE snapshot (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        token TEXT NOT NULL,
        jti TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        applied_at TEXT NOT NULL);
    CREATE TABLE entries (
        position INTEGER PRIMARY KEY,
        assignment_id TEXT NOT NULL UNIQUE,
        quarters INTEGER NOT NULL CHECK (quarters > 0),
        assigned_at TEXT NOT NULL,
        valid_until TEXT NOT NULL,
        renewable_until TEXT,
        subscription_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        duration TEXT NOT NULL,
        subscription_state TEXT NOT NULL);
    CREATE TABLE receipt (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        token TEXT NOT NULL,
        issued_at TEXT NOT NULL);
    CREATE TABLE perpetual (
        jti TEXT PRIMARY KEY,
        license_type TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        token TEXT NOT NULL,
        applied_at TEXT NOT NULL);
    CREATE TABLE resources (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        license_type_needed TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        license_type TEXT NOT NULL CHECK (license_type IN ('default', 'perpetual', 'credits')),
        status TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'unlicensed')),
        perpetual_in_use INTEGER NOT NULL DEFAULT 0,
        credits_in_use INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL);
    """,
    # ISO 8601 text times become epoch seconds, like the cloud's; a saved state keeps working.
    f"""
    CREATE TABLE snapshot_v2 (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        token TEXT NOT NULL,
        jti TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        applied_at INTEGER NOT NULL);
    INSERT INTO snapshot_v2 SELECT id, seq, token, jti, {_EPOCH.format("issued_at")}, {_EPOCH.format("expires_at")},
        {_EPOCH.format("applied_at")} FROM snapshot;
    DROP TABLE snapshot;
    ALTER TABLE snapshot_v2 RENAME TO snapshot;

    CREATE TABLE entries_v2 (
        position INTEGER PRIMARY KEY,
        assignment_id TEXT NOT NULL UNIQUE,
        quarters INTEGER NOT NULL CHECK (quarters > 0),
        assigned_at INTEGER NOT NULL,
        valid_until INTEGER NOT NULL,
        renewable_until INTEGER,
        subscription_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        duration TEXT NOT NULL,
        subscription_state TEXT NOT NULL);
    INSERT INTO entries_v2 SELECT position, assignment_id, quarters, {_EPOCH.format("assigned_at")},
        {_EPOCH.format("valid_until")}, {_EPOCH.format("NULLIF(renewable_until, '')")}, subscription_id, order_id,
        duration, subscription_state FROM entries;
    DROP TABLE entries;
    ALTER TABLE entries_v2 RENAME TO entries;

    CREATE TABLE receipt_v2 (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        token TEXT NOT NULL,
        issued_at INTEGER NOT NULL);
    INSERT INTO receipt_v2 SELECT id, seq, token, {_EPOCH.format("issued_at")} FROM receipt;
    DROP TABLE receipt;
    ALTER TABLE receipt_v2 RENAME TO receipt;

    CREATE TABLE perpetual_v2 (
        jti TEXT PRIMARY KEY,
        license_type TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        token TEXT NOT NULL,
        applied_at INTEGER NOT NULL);
    INSERT INTO perpetual_v2 SELECT jti, license_type, count, token, {_EPOCH.format("applied_at")} FROM perpetual;
    DROP TABLE perpetual;
    ALTER TABLE perpetual_v2 RENAME TO perpetual;

    CREATE TABLE resources_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        license_type_needed TEXT NOT NULL,
        count INTEGER NOT NULL CHECK (count > 0),
        license_type TEXT NOT NULL CHECK (license_type IN ('default', 'perpetual', 'credits')),
        status TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'unlicensed')),
        perpetual_in_use INTEGER NOT NULL DEFAULT 0,
        credits_in_use INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL);
    INSERT INTO resources_v2 SELECT id, name, license_type_needed, count, license_type, status, perpetual_in_use,
        credits_in_use, {_EPOCH.format("created_at")} FROM resources;
    DROP TABLE resources;
    ALTER TABLE resources_v2 RENAME TO resources;

    UPDATE meta SET value = strftime('%s', value) WHERE key = 'time_mark' AND strftime('%s', value) IS NOT NULL;
    """,
    """
    -- The event journal (GET /_emulator/events); times are epoch seconds, as everywhere.
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        system_id TEXT,
        detail TEXT NOT NULL DEFAULT '{}');
    """,
    """
    -- When each fact was noted by the machine's clock, in microseconds: orders it against the cloud's journal.
    ALTER TABLE journal ADD COLUMN noted_us INTEGER;
    """,
    """
    -- The order of each resource's latest start: when HOME holds fewer credits than its running resources use,
    -- the credits it holds go to them in the order they started (the others show Unlicensed while they run).
    ALTER TABLE resources ADD COLUMN started_order INTEGER NOT NULL DEFAULT 0;
    UPDATE resources SET started_order = id WHERE status = 'running';
    """,
]
