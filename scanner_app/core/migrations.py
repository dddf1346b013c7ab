"""Versioned schema migrations; `PRAGMA user_version` says how many have run."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils


def _v1_core(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE node_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE events (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            description TEXT,
            starts_at TEXT,
            ends_at TEXT,
            venue TEXT,
            max_capacity INTEGER,
            status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'cancelled')),
            allow_reentry INTEGER NOT NULL DEFAULT 0,
            settings TEXT NOT NULL DEFAULT '{}',
            origin TEXT NOT NULL DEFAULT 'local',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE tiers (
            id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL REFERENCES events(id),
            name TEXT NOT NULL,
            price INTEGER NOT NULL DEFAULT 0,
            quantity INTEGER,
            position INTEGER NOT NULL DEFAULT 0,
            UNIQUE (event_id, name)
        );
        CREATE TABLE event_keys (
            event_id TEXT NOT NULL REFERENCES events(id),
            kid TEXT NOT NULL,
            alg TEXT NOT NULL,
            public_jwk TEXT NOT NULL,
            private_pem TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (event_id, kid)
        );
        CREATE TABLE tickets (
            id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL,
            booking_id TEXT,
            attendee_name TEXT,
            tier_name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('valid', 'cancelled')),
            qr_payload TEXT,
            updated_at TEXT NOT NULL,
            seq INTEGER NOT NULL
        );
        CREATE INDEX tickets_event_seq ON tickets (event_id, seq);
        CREATE INDEX tickets_seq ON tickets (seq);
        CREATE TABLE checkins (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            event_id TEXT NOT NULL,
            ticket_id TEXT,
            device_id TEXT NOT NULL,
            gate TEXT NOT NULL,
            scanned_at TEXT NOT NULL,
            observed_at TEXT NOT NULL,
            clock_offset_ms INTEGER NOT NULL DEFAULT 0,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            success INTEGER NOT NULL,
            reason TEXT,
            kind TEXT NOT NULL DEFAULT 'scan' CHECK (kind IN ('scan', 'manual', 'void')),
            voids_id TEXT,
            voided_by TEXT,
            attendee_name TEXT,
            tier_name TEXT,
            conflict INTEGER NOT NULL DEFAULT 0,
            first_checked_in_at TEXT,
            first_scanned_by TEXT,
            source TEXT NOT NULL DEFAULT 'local',
            received_at TEXT NOT NULL,
            pushed_at TEXT,
            upstream_status TEXT
        );
        CREATE INDEX checkins_ticket ON checkins (event_id, ticket_id, scanned_at);
        CREATE INDEX checkins_event_seq ON checkins (event_id, seq);
        CREATE INDEX checkins_outbox ON checkins (seq) WHERE pushed_at IS NULL;
        """
    )


def _v2_search(db: sqlite_utils.Database) -> None:
    # remove_diacritics 2: "jose" finds "José"; ids split on "_" so prefixes of them match.
    db["tickets"].enable_fts(
        ["attendee_name", "id", "booking_id"],
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )


def _v3_server_and_sync(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            scopes TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'organiser',
            rate_limit INTEGER,
            rate_burst INTEGER,
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            last_used_at TEXT
        );
        CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            event_id TEXT NOT NULL,
            gate TEXT NOT NULL,
            key_id TEXT NOT NULL REFERENCES api_keys(id),
            created_at TEXT NOT NULL,
            last_seen_at TEXT
        );
        CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            created_at TEXT NOT NULL,
            deleted_at TEXT
        );
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            webhook_id TEXT NOT NULL REFERENCES webhooks(id),
            event_type TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            delivered_at TEXT
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
            WHERE status = 'pending';
        CREATE TABLE sync_state (
            upstream TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (upstream, name)
        );
        """
    )


def _v4_hub_counters(db: sqlite_utils.Database) -> None:
    # Per-gate "check-ins received" is counted in the upload's own transaction (no table scan
    # per dashboard refresh); deliveries are listed per webhook.
    db.executescript(
        """
        ALTER TABLE devices ADD COLUMN checkins_received INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX devices_key ON devices (key_id);
        CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, created_at);
        """
    )


def _v5_key_retirement(db: sqlite_utils.Database) -> None:
    # A leaked key is retired, not deleted: its row stays for the audit trail, and NULL (what
    # every older row gets) means active. retired_by: 'local' (an organiser here, final) or
    # 'upstream' (the upstream's JWKS dropped it; undone if the key comes back).
    db.executescript(
        """
        ALTER TABLE event_keys ADD COLUMN retired_at TEXT;
        ALTER TABLE event_keys ADD COLUMN retired_by TEXT
            CHECK (retired_by IS NULL OR retired_by IN ('local', 'upstream'));
        """
    )


def _v6_gate_reports(db: sqlite_utils.Database) -> None:
    # What a gate last said about itself on a sync (the dashboard's "pending" and version):
    # NULL until it reports, so "unknown" is not shown as 0. The index serves the live view
    # (arrivals per 5 minutes, scans per minute: time ranges within an event).
    db.executescript(
        """
        ALTER TABLE devices ADD COLUMN pending INTEGER;
        ALTER TABLE devices ADD COLUMN app_version TEXT;
        ALTER TABLE devices ADD COLUMN reported_at TEXT;
        CREATE INDEX checkins_event_time ON checkins (event_id, scanned_at);
        """
    )


def _v7_set_aside(db: sqlite_utils.Database) -> None:
    # A check-in the upstream will never take (it refused the row, or the row names no
    # event) leaves the outbox with the reason, instead of staying pending forever; the
    # row itself stays for the audit trail and the export shows why it was not uploaded.
    db.executescript("ALTER TABLE checkins ADD COLUMN set_aside_reason TEXT;")


def _v8_proof_of_presentation(db: sqlite_utils.Database) -> None:
    # proof: the token scanned for an admission (uploaded with it, checked by the receiver);
    # refused: why the receiver would not count an uploaded admission (DESIGN.md §10). A
    # refused row is kept as audit with success = 0, so nothing counts it as an admission.
    db.executescript(
        """
        ALTER TABLE checkins ADD COLUMN proof TEXT;
        ALTER TABLE checkins ADD COLUMN refused TEXT;
        """
    )


def _v9_enrolments(db: sqlite_utils.Database) -> None:
    # One-time enrolment offers (the `enrol` of a v2 setup code, DESIGN.md §10), stored hashed
    # like keys: a gate redeems one for its device key, once, before it expires.
    db.executescript(
        """
        CREATE TABLE enrolments (
            token_hash TEXT PRIMARY KEY,
            device_id TEXT NOT NULL REFERENCES devices(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX enrolments_device ON enrolments (device_id);
        """
    )


def _v10_names_at_rest(db: sqlite_utils.Database) -> None:
    # Attendee names are kept sealed (core/names.py) and searched in memory
    # (core/name_index.py), so the full-text index, a plain copy of every name, goes; its
    # freed pages are overwritten. Sealing the names themselves needs the node key, which
    # a schema step does not have: the mark below has the node do it when it opens
    # (names.seal_existing_names). Self-contained, so it can be renumbered on merge.
    conn = db.conn
    before = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")
    triggers = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tickets'"
        " AND sql LIKE '%tickets_fts%'"
    ).fetchall()
    for (name,) in triggers:
        conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    conn.execute("DROP TABLE IF EXISTS tickets_fts")
    conn.execute(
        "INSERT INTO node_settings (key, value) VALUES ('names.seal_pending', '1')"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    )
    conn.execute(f"PRAGMA secure_delete = {int(before)}")


Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[Migration] = [
    _v1_core,
    _v2_search,
    _v3_server_and_sync,
    _v4_hub_counters,
    _v5_key_retirement,
    _v6_gate_reports,
    _v7_set_aside,
    _v8_proof_of_presentation,
    _v9_enrolments,
    _v10_names_at_rest,
]
