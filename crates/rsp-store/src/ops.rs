// Shared implementation of the store traits, compiled once per backend.
//
// This file is `include!`d by `sqlite.rs` and `postgres.rs`. Both accept `$n` placeholders
// and `RETURNING`, so the SQL is the same; each including module provides:
//   type Db, type Conn, type This (the store struct, with a `pool: sqlx::Pool<Db>` field),
//   const BACKEND, const CLAIM_PROCEDURES, const CLAIM_MESSAGES, const CLAIM_IN_TRANSACTION,
//   async fn begin_write(&sqlx::Pool<Db>) -> Result<sqlx::Transaction<'static, Db>, StoreError>.
// Writing it once keeps the two backends from drifting; the shared test battery checks both.

use async_trait::async_trait;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::OpenOptions;
use crate::error::{Entity, StoreError};
use crate::model::*;
use crate::traits::*;
use crate::ts::{from_micros, lease_until, to_micros};

type DbRow = <Db as sqlx::Database>::Row;

fn opt_time(us: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    us.map(from_micros).transpose()
}

fn opt_micros(t: Option<OffsetDateTime>) -> Result<Option<i64>, StoreError> {
    t.map(to_micros).transpose()
}

fn limit_arg(limit: u32) -> Result<i64, StoreError> {
    if limit == 0 {
        return Err(StoreError::InvalidInput("limit must be at least 1".into()));
    }
    Ok(i64::from(limit))
}

fn eis_from_row(row: &DbRow) -> Result<EisRecord, StoreError> {
    Ok(EisRecord {
        eid: row.try_get("eid")?,
        smsr_id: row.try_get("smsr_id")?,
        version: row.try_get("version")?,
        document: row.try_get("document")?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

fn profile_from_row(row: &DbRow) -> Result<ProfileRecord, StoreError> {
    Ok(ProfileRecord {
        iccid: row.try_get("iccid")?,
        eid: row.try_get("eid")?,
        isd_p_aid: row.try_get("isd_p_aid")?,
        state: row.try_get("state")?,
        mno_id: row.try_get("mno_id")?,
        smdp_id: row.try_get("smdp_id")?,
        version: row.try_get("version")?,
        document: row.try_get("document")?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

fn procedure_from_row(row: &DbRow) -> Result<ProcedureRecord, StoreError> {
    Ok(ProcedureRecord {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        state: row.try_get("state")?,
        data: row.try_get("data")?,
        correlation: row.try_get("correlation")?,
        due_at: opt_time(row.try_get("due_at")?)?,
        lease_holder: row.try_get("lease_holder")?,
        lease_until: opt_time(row.try_get("lease_until")?)?,
        version: row.try_get("version")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

fn outbox_from_row(row: &DbRow) -> Result<OutboxMessage, StoreError> {
    let status: String = row.try_get("status")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(OutboxMessage {
        id: row.try_get("id")?,
        destination: row.try_get("destination")?,
        kind: row.try_get("kind")?,
        payload: row.try_get("payload")?,
        status: OutboxStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox status {status:?}")))?,
        attempts: u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("outbox attempts {attempts}")))?,
        next_attempt_at: from_micros(row.try_get("next_attempt_at")?)?,
        lease_holder: row.try_get("lease_holder")?,
        lease_until: opt_time(row.try_get("lease_until")?)?,
        last_error: row.try_get("last_error")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

fn audit_from_row(row: &DbRow) -> Result<AuditRecord, StoreError> {
    let detail: String = row.try_get("detail")?;
    Ok(AuditRecord {
        id: row.try_get("id")?,
        at: from_micros(row.try_get("at")?)?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        eid: row.try_get("eid")?,
        iccid: row.try_get("iccid")?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
    })
}

/// After a conditional write touched no row: `Conflict` if the key exists, else `NotFound`.
async fn classify_miss(
    conn: &mut Conn,
    exists_sql: &'static str,
    entity: Entity,
    key: &str,
) -> StoreError {
    match sqlx::query(exists_sql)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
    {
        Ok(Some(_)) => StoreError::conflict(entity, key),
        Ok(None) => StoreError::not_found(entity, key),
        Err(e) => StoreError::Backend(e),
    }
}

// ---- EIS ----------------------------------------------------------------------------------

async fn eis_insert(
    conn: &mut Conn,
    data: &EisData,
    now: OffsetDateTime,
) -> Result<EisRecord, StoreError> {
    let row = sqlx::query(concat!(
        "INSERT INTO eis_records (eid, smsr_id, version, document, updated_at) \
         VALUES ($1, $2, 1, $3, $4) RETURNING ",
        eis_cols!()
    ))
    .bind(&data.eid)
    .bind(&data.smsr_id)
    .bind(&data.document)
    .bind(to_micros(now)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::from_insert(e, Entity::Eis, &data.eid))?;
    eis_from_row(&row)
}

async fn eis_update(
    conn: &mut Conn,
    data: &EisData,
    expected_version: i64,
    now: OffsetDateTime,
) -> Result<EisRecord, StoreError> {
    let row = sqlx::query(concat!(
        "UPDATE eis_records SET smsr_id = $2, document = $3, version = version + 1, \
         updated_at = $4 WHERE eid = $1 AND version = $5 RETURNING ",
        eis_cols!()
    ))
    .bind(&data.eid)
    .bind(&data.smsr_id)
    .bind(&data.document)
    .bind(to_micros(now)?)
    .bind(expected_version)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => eis_from_row(&row),
        None => Err(classify_miss(conn, EIS_EXISTS, Entity::Eis, &data.eid).await),
    }
}

const EIS_EXISTS: &str = "SELECT 1 FROM eis_records WHERE eid = $1";

async fn eis_delete(conn: &mut Conn, eid: &str, expected_version: i64) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM eis_records WHERE eid = $1 AND version = $2")
        .bind(eid)
        .bind(expected_version)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(classify_miss(conn, EIS_EXISTS, Entity::Eis, eid).await)
    }
}

// ---- profiles -----------------------------------------------------------------------------

const PROFILE_EXISTS: &str = "SELECT 1 FROM profiles WHERE iccid = $1";

async fn profile_insert(
    conn: &mut Conn,
    data: &ProfileData,
    now: OffsetDateTime,
) -> Result<ProfileRecord, StoreError> {
    let row = sqlx::query(concat!(
        "INSERT INTO profiles (iccid, eid, isd_p_aid, state, mno_id, smdp_id, version, \
         document, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) RETURNING ",
        profile_cols!()
    ))
    .bind(&data.iccid)
    .bind(&data.eid)
    .bind(&data.isd_p_aid)
    .bind(&data.state)
    .bind(&data.mno_id)
    .bind(&data.smdp_id)
    .bind(&data.document)
    .bind(to_micros(now)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::from_insert(e, Entity::Profile, &data.iccid))?;
    profile_from_row(&row)
}

async fn profile_update(
    conn: &mut Conn,
    data: &ProfileData,
    expected_version: i64,
    now: OffsetDateTime,
) -> Result<ProfileRecord, StoreError> {
    let row = sqlx::query(concat!(
        "UPDATE profiles SET eid = $2, isd_p_aid = $3, state = $4, mno_id = $5, smdp_id = $6, \
         document = $7, updated_at = $8, version = version + 1 \
         WHERE iccid = $1 AND version = $9 RETURNING ",
        profile_cols!()
    ))
    .bind(&data.iccid)
    .bind(&data.eid)
    .bind(&data.isd_p_aid)
    .bind(&data.state)
    .bind(&data.mno_id)
    .bind(&data.smdp_id)
    .bind(&data.document)
    .bind(to_micros(now)?)
    .bind(expected_version)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => profile_from_row(&row),
        None => Err(classify_miss(conn, PROFILE_EXISTS, Entity::Profile, &data.iccid).await),
    }
}

async fn profile_delete(
    conn: &mut Conn,
    iccid: &str,
    expected_version: i64,
) -> Result<(), StoreError> {
    let done = sqlx::query("DELETE FROM profiles WHERE iccid = $1 AND version = $2")
        .bind(iccid)
        .bind(expected_version)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(classify_miss(conn, PROFILE_EXISTS, Entity::Profile, iccid).await)
    }
}

// ---- procedures ---------------------------------------------------------------------------

const PROCEDURE_EXISTS: &str = "SELECT 1 FROM procedures WHERE id = $1";

async fn procedure_create(
    conn: &mut Conn,
    new: &NewProcedure,
    now: OffsetDateTime,
) -> Result<ProcedureRecord, StoreError> {
    let now = to_micros(now)?;
    let row = sqlx::query(concat!(
        "INSERT INTO procedures (id, kind, state, data, correlation, due_at, version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING ",
        procedure_cols!()
    ))
    .bind(&new.id)
    .bind(&new.kind)
    .bind(&new.state)
    .bind(&new.data)
    .bind(&new.correlation)
    .bind(opt_micros(new.due_at)?)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| StoreError::from_insert(e, Entity::Procedure, &new.id))?;
    procedure_from_row(&row)
}

async fn procedure_advance(
    conn: &mut Conn,
    id: &str,
    expected_version: i64,
    update: &ProcedureUpdate,
    now: OffsetDateTime,
) -> Result<ProcedureRecord, StoreError> {
    let row = sqlx::query(concat!(
        "UPDATE procedures SET state = $2, data = $3, correlation = $4, due_at = $5, \
         lease_holder = NULL, lease_until = NULL, version = version + 1, updated_at = $6 \
         WHERE id = $1 AND version = $7 RETURNING ",
        procedure_cols!()
    ))
    .bind(id)
    .bind(&update.state)
    .bind(&update.data)
    .bind(&update.correlation)
    .bind(opt_micros(update.due_at)?)
    .bind(to_micros(now)?)
    .bind(expected_version)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => procedure_from_row(&row),
        None => Err(classify_miss(conn, PROCEDURE_EXISTS, Entity::Procedure, id).await),
    }
}

async fn procedure_claim(
    conn: &mut Conn,
    kind: Option<&str>,
    now: OffsetDateTime,
    holder: &str,
    lease_for: Duration,
    limit: u32,
) -> Result<Vec<ProcedureRecord>, StoreError> {
    let rows = sqlx::query(CLAIM_PROCEDURES)
        .bind(holder)
        .bind(lease_until(now, lease_for)?)
        .bind(to_micros(now)?)
        .bind(limit_arg(limit)?)
        .bind(kind)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = rows
        .iter()
        .map(procedure_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    // RETURNING gives no order guarantee.
    out.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
    Ok(out)
}

// ---- outbox -------------------------------------------------------------------------------

async fn outbox_enqueue(
    conn: &mut Conn,
    msg: &NewOutboxMessage,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    let now = to_micros(now)?;
    let row = sqlx::query(
        "INSERT INTO outbox (destination, kind, payload, status, attempts, next_attempt_at, \
         created_at, updated_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4) RETURNING id",
    )
    .bind(&msg.destination)
    .bind(&msg.kind)
    .bind(&msg.payload)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

async fn outbox_classify(conn: &mut Conn, id: i64) -> StoreError {
    match sqlx::query("SELECT 1 FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
    {
        Ok(Some(_)) => StoreError::conflict(Entity::OutboxMessage, id.to_string()),
        Ok(None) => StoreError::not_found(Entity::OutboxMessage, id.to_string()),
        Err(e) => StoreError::Backend(e),
    }
}

async fn outbox_claim(
    conn: &mut Conn,
    kind: Option<&str>,
    now: OffsetDateTime,
    holder: &str,
    lease_for: Duration,
    limit: u32,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let rows = sqlx::query(CLAIM_MESSAGES)
        .bind(holder)
        .bind(lease_until(now, lease_for)?)
        .bind(to_micros(now)?)
        .bind(limit_arg(limit)?)
        .bind(kind)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = rows
        .iter()
        .map(outbox_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(|m| (m.next_attempt_at, m.id));
    Ok(out)
}

// ---- idempotency --------------------------------------------------------------------------

fn idem_key(caller: &str, fcid: &str) -> String {
    format!("{caller}/{fcid}")
}

async fn idem_begin(
    conn: &mut Conn,
    caller: &str,
    fcid: &str,
    request_hash: &[u8],
    now: OffsetDateTime,
) -> Result<IdempotencyBegin, StoreError> {
    let now = to_micros(now)?;
    // A concurrent purge or abandon can remove the row between the two statements: retry.
    for _ in 0..3 {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (caller, fcid, request_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (caller, fcid) DO NOTHING",
        )
        .bind(caller)
        .bind(fcid)
        .bind(request_hash)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(IdempotencyBegin::New);
        }
        let row = sqlx::query(
            "SELECT request_hash, response FROM idempotency_keys WHERE caller = $1 AND fcid = $2",
        )
        .bind(caller)
        .bind(fcid)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            let stored: Vec<u8> = row.try_get("request_hash")?;
            let response: Option<Vec<u8>> = row.try_get("response")?;
            return Ok(if stored != request_hash {
                IdempotencyBegin::Mismatch
            } else {
                match response {
                    Some(r) => IdempotencyBegin::Completed(r),
                    None => IdempotencyBegin::InProgress,
                }
            });
        }
    }
    Err(StoreError::conflict(
        Entity::Idempotency,
        idem_key(caller, fcid),
    ))
}

async fn idem_classify(conn: &mut Conn, caller: &str, fcid: &str) -> StoreError {
    match sqlx::query("SELECT 1 FROM idempotency_keys WHERE caller = $1 AND fcid = $2")
        .bind(caller)
        .bind(fcid)
        .fetch_optional(&mut *conn)
        .await
    {
        Ok(Some(_)) => StoreError::conflict(Entity::Idempotency, idem_key(caller, fcid)),
        Ok(None) => StoreError::not_found(Entity::Idempotency, idem_key(caller, fcid)),
        Err(e) => StoreError::Backend(e),
    }
}

async fn idem_complete(
    conn: &mut Conn,
    caller: &str,
    fcid: &str,
    response: &[u8],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET response = $3, completed_at = $4 \
         WHERE caller = $1 AND fcid = $2 AND response IS NULL",
    )
    .bind(caller)
    .bind(fcid)
    .bind(response)
    .bind(to_micros(now)?)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(idem_classify(conn, caller, fcid).await)
    }
}

// ---- audit --------------------------------------------------------------------------------

async fn audit_append(conn: &mut Conn, record: &NewAuditRecord) -> Result<i64, StoreError> {
    let detail = serde_json::to_string(&record.detail)
        .map_err(|e| StoreError::InvalidInput(format!("audit detail: {e}")))?;
    let row = sqlx::query(
        "INSERT INTO audit_log (at, actor, action, eid, iccid, detail) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(to_micros(record.at)?)
    .bind(&record.actor)
    .bind(&record.action)
    .bind(&record.eid)
    .bind(&record.iccid)
    .bind(detail)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

// ---- batch --------------------------------------------------------------------------------

async fn apply_op(
    conn: &mut Conn,
    op: &WriteOp,
    now: OffsetDateTime,
) -> Result<WriteResult, StoreError> {
    Ok(match op {
        WriteOp::InsertEis(data) => WriteResult::Eis(eis_insert(conn, data, now).await?),
        WriteOp::UpdateEis {
            data,
            expected_version,
        } => WriteResult::Eis(eis_update(conn, data, *expected_version, now).await?),
        WriteOp::InsertProfile(data) => {
            WriteResult::Profile(profile_insert(conn, data, now).await?)
        }
        WriteOp::UpdateProfile {
            data,
            expected_version,
        } => WriteResult::Profile(profile_update(conn, data, *expected_version, now).await?),
        WriteOp::DeleteProfile {
            iccid,
            expected_version,
        } => {
            profile_delete(conn, iccid, *expected_version).await?;
            WriteResult::Done
        }
        WriteOp::CreateProcedure(new) => {
            WriteResult::Procedure(procedure_create(conn, new, now).await?)
        }
        WriteOp::AdvanceProcedure {
            id,
            expected_version,
            update,
        } => WriteResult::Procedure(
            procedure_advance(conn, id, *expected_version, update, now).await?,
        ),
        WriteOp::Enqueue(msg) => WriteResult::Enqueued(outbox_enqueue(conn, msg, now).await?),
        WriteOp::AppendAudit(record) => WriteResult::Audited(audit_append(conn, record).await?),
        WriteOp::CompleteIdempotency {
            caller,
            fcid,
            response,
        } => {
            idem_complete(conn, caller, fcid, response, now).await?;
            WriteResult::Done
        }
    })
}

// ---- trait implementations ----------------------------------------------------------------

#[async_trait]
impl EisStore for This {
    async fn insert_eis(
        &self,
        data: &EisData,
        now: OffsetDateTime,
    ) -> Result<EisRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        eis_insert(&mut conn, data, now).await
    }

    async fn get_eis(&self, eid: &str) -> Result<Option<EisRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            eis_cols!(),
            " FROM eis_records WHERE eid = $1"
        ))
        .bind(eid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(eis_from_row).transpose()
    }

    async fn update_eis(
        &self,
        data: &EisData,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<EisRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        eis_update(&mut conn, data, expected_version, now).await
    }

    async fn delete_eis(&self, eid: &str, expected_version: i64) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        eis_delete(&mut conn, eid, expected_version).await
    }
}

#[async_trait]
impl ProfileStore for This {
    async fn insert_profile(
        &self,
        data: &ProfileData,
        now: OffsetDateTime,
    ) -> Result<ProfileRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        profile_insert(&mut conn, data, now).await
    }

    async fn get_profile(&self, iccid: &str) -> Result<Option<ProfileRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            profile_cols!(),
            " FROM profiles WHERE iccid = $1"
        ))
        .bind(iccid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(profile_from_row).transpose()
    }

    async fn profiles_by_eid(&self, eid: &str) -> Result<Vec<ProfileRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            profile_cols!(),
            " FROM profiles WHERE eid = $1 ORDER BY iccid"
        ))
        .bind(eid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(profile_from_row).collect()
    }

    async fn update_profile(
        &self,
        data: &ProfileData,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<ProfileRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        profile_update(&mut conn, data, expected_version, now).await
    }

    async fn delete_profile(&self, iccid: &str, expected_version: i64) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        profile_delete(&mut conn, iccid, expected_version).await
    }
}

#[async_trait]
impl ProcedureStore for This {
    async fn create_procedure(
        &self,
        new: &NewProcedure,
        now: OffsetDateTime,
    ) -> Result<ProcedureRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        procedure_create(&mut conn, new, now).await
    }

    async fn load_procedure(&self, id: &str) -> Result<Option<ProcedureRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            procedure_cols!(),
            " FROM procedures WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(procedure_from_row).transpose()
    }

    async fn procedures_by_correlation(
        &self,
        key: &str,
    ) -> Result<Vec<ProcedureRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            procedure_cols!(),
            " FROM procedures WHERE correlation = $1 ORDER BY created_at, id"
        ))
        .bind(key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(procedure_from_row).collect()
    }

    async fn advance_procedure(
        &self,
        id: &str,
        expected_version: i64,
        update: &ProcedureUpdate,
        now: OffsetDateTime,
    ) -> Result<ProcedureRecord, StoreError> {
        let mut conn = self.pool.acquire().await?;
        procedure_advance(&mut conn, id, expected_version, update, now).await
    }

    async fn delete_procedure(&self, id: &str, expected_version: i64) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let done = sqlx::query("DELETE FROM procedures WHERE id = $1 AND version = $2")
            .bind(id)
            .bind(expected_version)
            .execute(&mut *conn)
            .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(classify_miss(&mut conn, PROCEDURE_EXISTS, Entity::Procedure, id).await)
        }
    }

    async fn claim_due_procedures_filtered(
        &self,
        kind: Option<&str>,
        now: OffsetDateTime,
        holder: &str,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<ProcedureRecord>, StoreError> {
        if CLAIM_IN_TRANSACTION {
            let mut tx = begin_write(&self.pool).await?;
            let out = procedure_claim(&mut tx, kind, now, holder, lease_for, limit).await?;
            tx.commit().await?;
            Ok(out)
        } else {
            let mut conn = self.pool.acquire().await?;
            procedure_claim(&mut conn, kind, now, holder, lease_for, limit).await
        }
    }
}

#[async_trait]
impl OutboxStore for This {
    async fn enqueue(
        &self,
        msg: &NewOutboxMessage,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        outbox_enqueue(&mut conn, msg, now).await
    }

    async fn get_outbox_message(&self, id: i64) -> Result<Option<OutboxMessage>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            outbox_cols!(),
            " FROM outbox WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(outbox_from_row).transpose()
    }

    async fn claim_due_messages_filtered(
        &self,
        kind: Option<&str>,
        now: OffsetDateTime,
        holder: &str,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        if CLAIM_IN_TRANSACTION {
            let mut tx = begin_write(&self.pool).await?;
            let out = outbox_claim(&mut tx, kind, now, holder, lease_for, limit).await?;
            tx.commit().await?;
            Ok(out)
        } else {
            let mut conn = self.pool.acquire().await?;
            outbox_claim(&mut conn, kind, now, holder, lease_for, limit).await
        }
    }

    async fn mark_delivered(
        &self,
        id: i64,
        holder: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'delivered', lease_holder = NULL, lease_until = NULL, \
             updated_at = $3 WHERE id = $1 AND status = 'pending' AND lease_holder = $2",
        )
        .bind(id)
        .bind(holder)
        .bind(to_micros(now)?)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(outbox_classify(&mut conn, id).await)
        }
    }

    async fn mark_failed(
        &self,
        id: i64,
        holder: &str,
        error: &str,
        next_attempt_at: OffsetDateTime,
        max_attempts: u32,
        now: OffsetDateTime,
    ) -> Result<FailureOutcome, StoreError> {
        if max_attempts == 0 {
            return Err(StoreError::InvalidInput(
                "max_attempts must be at least 1".into(),
            ));
        }
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $3, next_attempt_at = $4, \
             status = CASE WHEN attempts + 1 >= $5 THEN 'dead' ELSE 'pending' END, \
             lease_holder = NULL, lease_until = NULL, updated_at = $6 \
             WHERE id = $1 AND status = 'pending' AND lease_holder = $2 \
             RETURNING attempts, status",
        )
        .bind(id)
        .bind(holder)
        .bind(error)
        .bind(to_micros(next_attempt_at)?)
        .bind(i64::from(max_attempts))
        .bind(to_micros(now)?)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Err(outbox_classify(&mut conn, id).await);
        };
        let attempts: i64 = row.try_get("attempts")?;
        let attempts = u32::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("outbox attempts {attempts}")))?;
        let status: String = row.try_get("status")?;
        match OutboxStatus::parse(&status) {
            Some(OutboxStatus::Dead) => Ok(FailureOutcome::DeadLettered { attempts }),
            Some(OutboxStatus::Pending) => Ok(FailureOutcome::Retry { attempts }),
            _ => Err(StoreError::Corrupt(format!("outbox status {status:?}"))),
        }
    }

    async fn dead_letters(
        &self,
        after_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            outbox_cols!(),
            " FROM outbox WHERE status = 'dead' AND id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id.unwrap_or(i64::MIN))
        .bind(limit_arg(limit)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    async fn requeue_dead_letter(&self, id: i64, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let now = to_micros(now)?;
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, \
             updated_at = $2 WHERE id = $1 AND status = 'dead'",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(outbox_classify(&mut conn, id).await)
        }
    }

    async fn purge_delivered(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM outbox WHERE status = 'delivered' AND updated_at < $1")
            .bind(to_micros(before)?)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl IdempotencyStore for This {
    async fn begin_idempotent(
        &self,
        caller: &str,
        fcid: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<IdempotencyBegin, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let out = idem_begin(&mut tx, caller, fcid, request_hash, now).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn complete_idempotent(
        &self,
        caller: &str,
        fcid: &str,
        response: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        idem_complete(&mut conn, caller, fcid, response, now).await
    }

    async fn abandon_idempotent(&self, caller: &str, fcid: &str) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE caller = $1 AND fcid = $2 AND response IS NULL",
        )
        .bind(caller)
        .bind(fcid)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(idem_classify(&mut conn, caller, fcid).await)
        }
    }

    async fn purge_idempotency(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(to_micros(before)?)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl AuditStore for This {
    async fn append_audit(&self, record: &NewAuditRecord) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        audit_append(&mut conn, record).await
    }

    async fn audit_by_eid(
        &self,
        eid: &str,
        after: Option<AuditCursor>,
        limit: u32,
    ) -> Result<AuditPage, StoreError> {
        // One extra row tells whether another page follows.
        let fetch = limit_arg(limit)? + 1;
        let rows = match after {
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    audit_cols!(),
                    " FROM audit_log WHERE eid = $1 ORDER BY at, id LIMIT $2"
                ))
                .bind(eid)
                .bind(fetch)
                .fetch_all(&self.pool)
                .await?
            }
            Some(cursor) => {
                sqlx::query(concat!(
                    "SELECT ",
                    audit_cols!(),
                    " FROM audit_log WHERE eid = $1 AND (at > $2 OR (at = $2 AND id > $3)) \
                     ORDER BY at, id LIMIT $4"
                ))
                .bind(eid)
                .bind(to_micros(cursor.at)?)
                .bind(cursor.id)
                .bind(fetch)
                .fetch_all(&self.pool)
                .await?
            }
        };
        let mut records = rows
            .iter()
            .map(audit_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let more = records.len() > limit as usize;
        records.truncate(limit as usize);
        let next = match records.last() {
            Some(last) if more => Some(AuditCursor {
                at: last.at,
                id: last.id,
            }),
            _ => None,
        };
        Ok(AuditPage { records, next })
    }
}

#[async_trait]
impl MetaStore for This {
    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::conflict(Entity::Meta, key))
        }
    }
}

#[async_trait]
impl Store for This {
    fn backend(&self) -> Backend {
        BACKEND
    }

    async fn apply(
        &self,
        ops: &[WriteOp],
        now: OffsetDateTime,
    ) -> Result<Vec<WriteResult>, StoreError> {
        let mut tx = begin_write(&self.pool).await?;
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            // An error drops `tx`, which rolls the whole batch back.
            results.push(apply_op(&mut tx, op, now).await?);
        }
        tx.commit().await?;
        Ok(results)
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        read_schema_version(&self.pool).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// Reads `meta.schema_version`.
async fn read_schema_version(pool: &sqlx::Pool<Db>) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = 'schema_version'")
        .fetch_optional(pool)
        .await?;
    let text: String = match row {
        Some(r) => r.try_get("value")?,
        None => return Err(StoreError::Migration("meta.schema_version missing".into())),
    };
    text.parse()
        .map_err(|_| StoreError::Migration(format!("meta.schema_version {text:?} is not a number")))
}

/// Runs the embedded migrations, then checks the schema version they leave behind.
async fn migrate_and_check(
    pool: &sqlx::Pool<Db>,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), StoreError> {
    // Refuses (VersionMissing) a database migrated by a newer build, and (VersionMismatch)
    // one whose applied migration files were later edited.
    migrator.run(pool).await?;
    let found = read_schema_version(pool).await?;
    if found != crate::SCHEMA_VERSION {
        return Err(StoreError::Migration(format!(
            "schema version {found} in the database, this build expects {}",
            crate::SCHEMA_VERSION
        )));
    }
    Ok(())
}
