"""Named schema migrations, applied in order and recorded in ``_sqlite_migrations``.

Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("archiver")


@MIGRATIONS(name="0001_strategies_archives_audit")
def _initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE strategies (
            id TEXT PRIMARY KEY,
            source_type TEXT NOT NULL,
            name TEXT,
            first_seen_at TEXT NOT NULL,
            last_archived_at TEXT
        );
        CREATE TABLE archives (
            id TEXT PRIMARY KEY,
            idempotency_key TEXT NOT NULL UNIQUE,
            strategy_id TEXT NOT NULL REFERENCES strategies(id),
            source_type TEXT NOT NULL,
            strategy_name TEXT NOT NULL,
            version_count INTEGER NOT NULL,
            version_ids TEXT NOT NULL,
            archive_timestamp TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            location TEXT NOT NULL,
            created_at TEXT NOT NULL,
            submission TEXT NOT NULL,
            submission_detail TEXT,
            submission_attempts INTEGER NOT NULL DEFAULT 0,
            submitted_at TEXT
        );
        CREATE INDEX archives_by_strategy ON archives(strategy_id, created_at);
        CREATE INDEX archives_by_submission ON archives(submission);
        CREATE TABLE archived_versions (
            archive_id TEXT NOT NULL REFERENCES archives(id),
            strategy_id TEXT NOT NULL,
            version_id TEXT NOT NULL,
            PRIMARY KEY (archive_id, version_id)
        );
        CREATE INDEX archived_versions_by_strategy ON archived_versions(strategy_id, version_id);
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT,
            detail TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log entries cannot be changed'); END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log entries cannot be deleted'); END;
        """
    )


@MIGRATIONS(name="0002_events_jobs_meta")
def _events_jobs(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE events (
            id TEXT PRIMARY KEY,
            dedup_key TEXT NOT NULL UNIQUE,
            topic TEXT NOT NULL,
            source_type TEXT,
            strategy_id TEXT,
            correlation_id TEXT,
            eventbridge_id TEXT,
            outcome TEXT NOT NULL,
            reason TEXT,
            job_id TEXT,
            received_at TEXT NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX events_by_strategy ON events(strategy_id, received_at);
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            strategy_id TEXT NOT NULL,
            source_type TEXT NOT NULL,
            state TEXT NOT NULL,
            full INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL,
            events INTEGER NOT NULL DEFAULT 0,
            tries INTEGER NOT NULL DEFAULT 0,
            run_at TEXT NOT NULL,
            lease_owner TEXT,
            lease_expires_at TEXT,
            last_error TEXT,
            result TEXT,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT
        );
        -- At most one job per strategy waits, and at most one runs.
        CREATE UNIQUE INDEX jobs_one_waiting ON jobs(strategy_id) WHERE state = 'waiting';
        CREATE UNIQUE INDEX jobs_one_running ON jobs(strategy_id) WHERE state = 'running';
        CREATE INDEX jobs_by_state ON jobs(state, run_at);
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
    )


@MIGRATIONS(name="0003_outbox")
def _outbox(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE outbox_events (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            strategy_id TEXT,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE deliveries (
            id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL REFERENCES outbox_events(id),
            target TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_status INTEGER,
            last_error TEXT,
            lease_owner TEXT,
            lease_expires_at TEXT,
            created_at TEXT NOT NULL,
            delivered_at TEXT
        );
        CREATE UNIQUE INDEX deliveries_once ON deliveries(event_id, target);
        CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
        """
    )


# Unix seconds of an ISO-8601 text time (to its milliseconds), for the leases held when
# 0004 is applied.
_EPOCH = "round((julianday({0}) - 2440587.5) * 86400.0, 3)"


@MIGRATIONS(name="0004_job_keys_numeric_leases")
def _job_keys_numeric_leases(db: Database) -> None:
    # A job is for a strategy id *and* a source type: a flow and a routing strategy with
    # one id are two jobs. Leases expire at a number (Unix seconds), compared as numbers.
    # strategy_sources remembers every source type an id was queued for (strategies keeps
    # one row per id, which archives reference), so the sweep loses none of them.
    lease = _EPOCH.format("lease_expires_at")
    db.executescript(
        f"""
        ALTER TABLE jobs ADD COLUMN lease_until REAL;
        UPDATE jobs SET lease_until = {lease} WHERE lease_expires_at IS NOT NULL;
        ALTER TABLE jobs DROP COLUMN lease_expires_at;
        DROP INDEX jobs_one_waiting;
        DROP INDEX jobs_one_running;
        CREATE UNIQUE INDEX jobs_one_waiting ON jobs(strategy_id, source_type)
            WHERE state = 'waiting';
        CREATE UNIQUE INDEX jobs_one_running ON jobs(strategy_id, source_type)
            WHERE state = 'running';
        ALTER TABLE deliveries ADD COLUMN lease_until REAL;
        UPDATE deliveries SET lease_until = {lease} WHERE lease_expires_at IS NOT NULL;
        ALTER TABLE deliveries DROP COLUMN lease_expires_at;
        CREATE TABLE strategy_sources (
            strategy_id TEXT NOT NULL REFERENCES strategies(id),
            source_type TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            PRIMARY KEY (strategy_id, source_type)
        );
        INSERT INTO strategy_sources (strategy_id, source_type, first_seen_at)
            SELECT id, source_type, first_seen_at FROM strategies;
        -- Source types queued before 0004 but lost to the one row per id (dead jobs aside:
        -- a wrong source type for an id fails for good, and must not be swept again).
        INSERT OR IGNORE INTO strategy_sources (strategy_id, source_type, first_seen_at)
            SELECT strategy_id, source_type, min(created_at) FROM jobs
            WHERE state != 'dead' AND strategy_id IN (SELECT id FROM strategies)
            GROUP BY strategy_id, source_type;
        -- Only rows whose body is still kept: pruning old bodies finds them without a scan.
        CREATE INDEX events_body_kept ON events(received_at) WHERE body != '';
        CREATE INDEX outbox_events_body_kept ON outbox_events(created_at) WHERE body != '';
        """
    )


@MIGRATIONS(name="0005_audit_anchor")
def _audit_anchor(db: Database) -> None:
    # Removing the last audit entries breaks no hash: this one row names the chain's end
    # where deleting entries cannot reach it. It starts at the existing end (ledgers made
    # by earlier versions); a trigger moves it on every insert, whatever code inserts, and
    # it refuses to be deleted, replaced or moved back.
    genesis = "0" * 64
    db.executescript(
        f"""
        CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL
        );
        INSERT INTO audit_head (id, seq, hash)
        SELECT 1, coalesce(max(seq), 0),
               coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '{genesis}')
        FROM audit_log;
        CREATE TRIGGER audit_head_follows_log AFTER INSERT ON audit_log
        BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;
        CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
        WHEN NEW.id IS NOT OLD.id OR NEW.seq <= OLD.seq
            OR NOT EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq AND hash = NEW.hash)
        BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward, to a new entry'); END;
        CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'the audit head cannot be deleted'); END;
        CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
        BEGIN SELECT RAISE(ABORT, 'the audit head cannot be replaced'); END;
        """
    )


@MIGRATIONS(name="0006_event_actor")
def _event_actor(db: Database) -> None:
    # Who made the change an event reports (the audit topic's user and OAuth client, a
    # flow operation's user and client), so that listings can say who changed what.
    db.executescript(
        """
        ALTER TABLE events ADD COLUMN user_id TEXT;
        ALTER TABLE events ADD COLUMN user_name TEXT;
        ALTER TABLE events ADD COLUMN client_id TEXT;
        ALTER TABLE events ADD COLUMN client_name TEXT;
        """
    )


@MIGRATIONS(name="0007_deletions")
def _deletions(db: Database) -> None:
    # Deleted objects (contract section 11), per (id, source type): when and by whom, how
    # it was learnt; seen_at is when Genesys last showed the object (a discovery listed it
    # or a read answered), which is what lets a later 404 mean "deleted".
    db.executescript(
        """
        ALTER TABLE strategy_sources ADD COLUMN deleted_at TEXT;
        ALTER TABLE strategy_sources ADD COLUMN deleted_by TEXT;
        ALTER TABLE strategy_sources ADD COLUMN deleted_reason TEXT;
        ALTER TABLE strategy_sources ADD COLUMN seen_at TEXT;
        """
    )


@MIGRATIONS(name="0008_skipped_versions")
def _skipped_versions(db: Database) -> None:
    # Version entries the last run of a strategy left out of its archive (a missing date, an
    # id without a number), with the reason, so that an operator sees them; each run
    # replaces them, so a fixed entry leaves this table when it is archived.
    db.executescript(
        """
        CREATE TABLE skipped_versions (
            strategy_id TEXT NOT NULL,
            source_type TEXT NOT NULL,
            version_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            times INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (strategy_id, source_type, version_id)
        );
        """
    )


@MIGRATIONS(name="0009_history")
def _history(db: Database) -> None:
    # The history's queue (contract section 10): one item per archive and per deletion, in
    # the order the ledger recorded them, added in the same transaction; and each commit
    # made, a version once (so --full never commits it again). The archives and deletions
    # of an existing ledger are queued here, in their order, so that it gets its history.
    db.executescript(
        """
        CREATE TABLE history_items (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('archive', 'deletion')),
            archive_id TEXT REFERENCES archives(id),
            source_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            name TEXT,
            deleted_at TEXT,
            deleted_by TEXT,
            announce INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
            created_at TEXT NOT NULL,
            done_at TEXT
        );
        CREATE INDEX history_items_pending ON history_items(seq) WHERE state = 'pending';
        CREATE TABLE history_commits (
            n INTEGER PRIMARY KEY AUTOINCREMENT,
            commit_id TEXT NOT NULL UNIQUE,
            item_seq INTEGER NOT NULL REFERENCES history_items(seq),
            source_type TEXT NOT NULL,
            object_id TEXT NOT NULL,
            version_id TEXT,
            archive_key TEXT,
            name TEXT NOT NULL,
            author TEXT NOT NULL,
            email TEXT NOT NULL,
            authored_at TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX history_commits_once ON history_commits(source_type, object_id,
            version_id) WHERE version_id IS NOT NULL;
        CREATE INDEX history_commits_by_object ON history_commits(object_id, source_type, n);
        -- In the order the ledger recorded them: the audit log's (its archive.stored and
        -- strategy.deleted entries), by time where an entry is missing.
        WITH stored AS (
            SELECT json_extract(detail, '$.archiveId') AS archive_id, min(seq) AS seq
            FROM audit_log WHERE action = 'archive.stored' GROUP BY 1
        ), deleted AS (
            SELECT subject, json_extract(detail, '$.sourceType') AS source_type, max(seq) AS seq
            FROM audit_log WHERE action = 'strategy.deleted' GROUP BY 1, 2
        )
        INSERT INTO history_items (kind, archive_id, source_type, object_id, name, deleted_at,
            deleted_by, state, created_at)
        SELECT kind, archive_id, source_type, object_id, name, deleted_at, deleted_by,
            'pending', strftime('%Y-%m-%dT%H:%M:%fZ')
        FROM (
            SELECT 'archive' AS kind, a.id AS archive_id, a.source_type,
                a.strategy_id AS object_id, NULL AS name, NULL AS deleted_at,
                NULL AS deleted_by, s.seq AS seq, a.created_at AS at, a.rowid AS n
            FROM archives a LEFT JOIN stored s ON s.archive_id = a.id
            UNION ALL
            SELECT 'deletion', NULL, s.source_type, s.strategy_id, t.name, s.deleted_at,
                s.deleted_by, d.seq, s.deleted_at, 0
            FROM strategy_sources s JOIN strategies t ON t.id = s.strategy_id
            LEFT JOIN deleted d ON d.subject = s.strategy_id AND d.source_type = s.source_type
            WHERE s.deleted_at IS NOT NULL AND EXISTS (SELECT 1 FROM archives a
                WHERE a.strategy_id = s.strategy_id AND a.source_type = s.source_type)
        )
        ORDER BY seq IS NULL, seq, at, kind = 'deletion', n;
        """
    )


@MIGRATIONS(name="0010_history_deleted_by_id")
def _history_deleted_by_id(db: Database) -> None:
    # The id of the user who deleted an object, beside the name listings show: the
    # history's deletion commit takes it as its author's e-mail (contract section 10).
    db.executescript("ALTER TABLE history_items ADD COLUMN deleted_by_id TEXT;")


@MIGRATIONS(name="0011_events_by_job")
def _events_by_job(db: Database) -> None:
    # Each job's run reads the newest event that joined it (its author, for a source
    # without authors of its own): without this index, a scan of every event ever kept.
    db.executescript(
        "CREATE INDEX events_by_job ON events(job_id, received_at) WHERE job_id IS NOT NULL;"
    )
