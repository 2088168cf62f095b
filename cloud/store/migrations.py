"""The cloud's schema as numbered migrations, applied at start-up and tracked in PRAGMA user_version.
Times are epoch seconds (INTEGER), in both services: see docs/architecture.md, "The store"."""

MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE memberships (
        account_id TEXT NOT NULL REFERENCES accounts(id),
        user_id TEXT NOT NULL REFERENCES users(id),
        role TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
        PRIMARY KEY (account_id, user_id)
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        order_id TEXT NOT NULL,
        duration TEXT NOT NULL CHECK (duration IN ('monthly', 'annual')),
        quarters_total INTEGER NOT NULL CHECK (quarters_total > 0),
        quarters_available INTEGER NOT NULL CHECK (quarters_available BETWEEN 0 AND quarters_total),
        state TEXT NOT NULL CHECK (state IN ('inactive', 'active', 'cancelled', 'expired')),
        created_at INTEGER NOT NULL,
        term_start INTEGER,
        term_end INTEGER,
        cancelled_at INTEGER
    );
    CREATE INDEX subscriptions_account ON subscriptions(account_id);
    CREATE TABLE systems (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        label TEXT NOT NULL,
        public_key BLOB NOT NULL,
        linked_at INTEGER NOT NULL,
        last_seen INTEGER,
        seq INTEGER NOT NULL DEFAULT 0,
        acked_seq INTEGER NOT NULL DEFAULT 0,
        dirty INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX systems_account ON systems(account_id);
    CREATE TABLE assignments (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        system_id TEXT NOT NULL REFERENCES systems(id),
        subscription_id TEXT NOT NULL REFERENCES subscriptions(id),
        quarters INTEGER NOT NULL CHECK (quarters > 0),
        assigned_at INTEGER NOT NULL,
        auto_revoke_at INTEGER,
        downloaded INTEGER NOT NULL DEFAULT 0,
        valid_until INTEGER,
        state TEXT NOT NULL CHECK (state IN ('active', 'revoke_pending', 'ended')),
        end_reason TEXT CHECK (end_reason IN ('revoked', 'auto_revoked', 'expired', 'subscription_ended')),
        ended_at INTEGER,
        pending_after_seq INTEGER,
        pending_reason TEXT
    );
    CREATE INDEX assignments_system ON assignments(system_id, state);
    CREATE INDEX assignments_subscription ON assignments(subscription_id, state);
    CREATE TABLE snapshots (
        system_id TEXT NOT NULL REFERENCES systems(id),
        seq INTEGER NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        check_in_at INTEGER,
        token TEXT NOT NULL,
        PRIMARY KEY (system_id, seq)
    );
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        account_id TEXT NOT NULL,
        subscription_id TEXT,
        system_id TEXT,
        assignment_id TEXT,
        quarters INTEGER NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX ledger_account ON ledger(account_id, id);
    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TABLE jobs (
        kind TEXT NOT NULL,
        ref TEXT NOT NULL,
        due_at INTEGER NOT NULL,
        PRIMARY KEY (kind, ref)
    );
    CREATE INDEX jobs_due ON jobs(due_at);
    """,
    """
    -- The highest seq an unlinked system ever had: a relinked HOME must never see seq go backwards.
    CREATE TABLE system_seq_floors (system_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    CREATE TABLE revoke_keys (
        jti TEXT PRIMARY KEY,
        system_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        entered_at INTEGER NOT NULL
    );
    -- valid_until is the latest validity HOME may still hold; issued_until that of the latest issued copy.
    ALTER TABLE assignments ADD COLUMN issued_until INTEGER;
    UPDATE assignments SET issued_until = valid_until;
    -- Terms are counted from the first activation, so a short month does not shift later term ends.
    ALTER TABLE subscriptions ADD COLUMN activated_at INTEGER;
    UPDATE subscriptions SET activated_at = term_start WHERE term_start IS NOT NULL;
    """,
    """
    -- The event journal (GET /_emulator/events): every ledger row, by trigger, in the same transaction,
    -- plus link facts and fault injections; one id sequence orders them all.
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        system_id TEXT,
        ledger_id INTEGER,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    INSERT INTO journal (at, kind, system_id, ledger_id) SELECT at, kind, system_id, id FROM ledger ORDER BY id;
    CREATE TRIGGER ledger_journal AFTER INSERT ON ledger
        BEGIN
            INSERT INTO journal (at, kind, system_id, ledger_id) VALUES (NEW.at, NEW.kind, NEW.system_id, NEW.id);
        END;
    """,
    """
    -- Due items are read in (due_at, kind, ref) order a batch at a time: an index in that order lets each
    -- batch read just its rows instead of sorting everything due.
    CREATE INDEX jobs_due_order ON jobs(due_at, kind, ref);
    DROP INDEX jobs_due;
    -- Who asked for a revoke is looked up by assignment, for many assignments at once.
    CREATE INDEX ledger_assignment ON ledger(assignment_id);
    """,
    """
    -- Joining an account needs the user's consent: an admin invites an email, its user accepts when signed in.
    CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        email TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
        invited_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (account_id, email)
    );
    CREATE INDEX invitations_email ON invitations(email);
    """,
    """
    -- Only revoke requests are looked up by assignment: an index of every row put a random-order insert
    -- into each batch of returns (one per returned assignment); the partial index takes none of those.
    CREATE INDEX ledger_revoke_requests ON ledger(assignment_id) WHERE kind = 'revoke_requested';
    DROP INDEX ledger_assignment;
    """,
    """
    -- When each row was written by the machine's clock, in microseconds: the inspector orders the cloud's and a
    -- HOME's journal by it (under a virtual clock every event of a step has the same time). The ledger carries it
    -- so the trigger can copy it.
    ALTER TABLE ledger ADD COLUMN noted_us INTEGER;
    ALTER TABLE journal ADD COLUMN noted_us INTEGER;
    DROP TRIGGER ledger_journal;
    CREATE TRIGGER ledger_journal AFTER INSERT ON ledger
        BEGIN
            INSERT INTO journal (at, kind, system_id, ledger_id, noted_us)
                VALUES (NEW.at, NEW.kind, NEW.system_id, NEW.id, NEW.noted_us);
        END;
    """,
    """
    -- A password an account's admin chose when inviting someone without a login of their own: it signs in
    -- to that account only, so whoever chose it reaches nothing of any other account. Such a login's
    -- users.password_hash is '' (no password of its own, which no password matches).
    CREATE TABLE account_passwords (
        user_id TEXT NOT NULL REFERENCES users(id),
        account_id TEXT NOT NULL REFERENCES accounts(id),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, account_id)
    );
    -- The accounts a session opened with such passwords reaches; a session without rows here was opened
    -- with the user's own password and reaches every account the user belongs to.
    CREATE TABLE session_accounts (
        token_hash TEXT NOT NULL REFERENCES sessions(token_hash),
        account_id TEXT NOT NULL REFERENCES accounts(id),
        PRIMARY KEY (token_hash, account_id)
    );
    """,
    """
    -- Which cloud process holds the system's link (NULL: not linked now). Kept with the row, so a change and the
    -- link coming up are ordered by the row itself, whichever processes make them.
    ALTER TABLE systems ADD COLUMN online_via TEXT;
    """,
    """
    -- One rule for an email's case: stored with its letters A-Z lower-case (SQLite's lower() changes exactly
    -- those), compared as stored. Logins and invitations made before were stored as typed, or lower-cased in
    -- Python; users.email is unique without regard to the case of A-Z, so no two rows become one here.
    -- (Compared as bytes: the column's NOCASE would find every row equal to its lower-case self.)
    UPDATE users SET email = lower(email) WHERE email COLLATE BINARY <> lower(email);
    UPDATE OR IGNORE invitations SET email = lower(email) WHERE email COLLATE BINARY <> lower(email);
    """,
    """
    -- What HOME's running resources used (quarters), as its latest receipt said (claim "use"), and when HOME
    -- signed that receipt: the portal warns before a revoke would leave a running resource unlicensed.
    ALTER TABLE systems ADD COLUMN home_in_use INTEGER;
    ALTER TABLE systems ADD COLUMN home_in_use_at INTEGER;
    """,
]
