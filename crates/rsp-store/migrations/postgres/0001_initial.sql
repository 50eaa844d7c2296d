-- rsp-store schema 1 (PostgreSQL). Times: BIGINT microseconds since the Unix epoch, UTC
-- (the same representation as the SQLite schema).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE eis_records (
    eid        TEXT PRIMARY KEY,
    smsr_id    TEXT NOT NULL,
    version    BIGINT NOT NULL,
    document   BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE profiles (
    iccid      TEXT PRIMARY KEY,
    eid        TEXT NOT NULL,
    isd_p_aid  TEXT,
    state      TEXT NOT NULL,
    mno_id     TEXT NOT NULL,
    smdp_id    TEXT,
    version    BIGINT NOT NULL,
    document   BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX profiles_eid ON profiles (eid);

CREATE TABLE procedures (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    data         BYTEA NOT NULL,
    correlation  TEXT,
    due_at       BIGINT,
    lease_holder TEXT,
    lease_until  BIGINT,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX procedures_due ON procedures (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX procedures_correlation ON procedures (correlation) WHERE correlation IS NOT NULL;

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         BYTEA NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        BIGINT NOT NULL CHECK (attempts >= 0),
    next_attempt_at BIGINT NOT NULL,
    lease_holder    TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';

CREATE TABLE idempotency_keys (
    caller       TEXT NOT NULL,
    fcid         TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    response     BYTEA,
    created_at   BIGINT NOT NULL,
    completed_at BIGINT,
    PRIMARY KEY (caller, fcid)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE audit_log (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    eid    TEXT,
    iccid  TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_eid ON audit_log (eid, at, id) WHERE eid IS NOT NULL;

INSERT INTO meta (key, value) VALUES ('schema_version', '1');
