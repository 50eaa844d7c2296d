-- rsp-store schema 1 (SQLite). Times: INTEGER microseconds since the Unix epoch, UTC.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE eis_records (
    eid        TEXT PRIMARY KEY,
    smsr_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    document   BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE profiles (
    iccid      TEXT PRIMARY KEY,
    eid        TEXT NOT NULL,
    isd_p_aid  TEXT,
    state      TEXT NOT NULL,
    mno_id     TEXT NOT NULL,
    smdp_id    TEXT,
    version    INTEGER NOT NULL,
    document   BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX profiles_eid ON profiles (eid);

CREATE TABLE procedures (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    data         BLOB NOT NULL,
    correlation  TEXT,
    due_at       INTEGER,
    lease_holder TEXT,
    lease_until  INTEGER,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX procedures_due ON procedures (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX procedures_correlation ON procedures (correlation) WHERE correlation IS NOT NULL;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    destination     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    lease_holder    TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';

CREATE TABLE idempotency_keys (
    caller       TEXT NOT NULL,
    fcid         TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    response     BLOB,
    created_at   INTEGER NOT NULL,
    completed_at INTEGER,
    PRIMARY KEY (caller, fcid)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    eid    TEXT,
    iccid  TEXT,
    detail TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_eid ON audit_log (eid, at, id) WHERE eid IS NOT NULL;

INSERT INTO meta (key, value) VALUES ('schema_version', '1');
