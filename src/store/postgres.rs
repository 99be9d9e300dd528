//! The conversation store that several replicas share: PostgreSQL, so that any replica can serve any chat.
//!
//! Each chat is a row of `chats`; [`Store::commit`] runs in one transaction that locks that row
//! (`SELECT … FOR UPDATE`, inserting it first for a new chat), so two replicas handling the same chat take
//! turns: the second sees the version the first wrote and gets [`Committed::Conflict`] (or
//! [`Committed::Duplicate`] for an update already applied), never a silent overwrite. The state, the staff's
//! records and the replies (the `outbox` table) are written together or not at all; a commit is durable
//! when it returns (PostgreSQL's own `COMMIT`), so [`Store::sync`] has nothing to do.
//!
//! The outbox is claimed with `FOR UPDATE SKIP LOCKED` on each chat's oldest reply: replicas sweeping at
//! the same moment take disjoint sets of chats, so a chat's replies never go out of order or twice. Old records are pruned under a transaction-level advisory lock taken with
//! `pg_try_advisory_xact_lock`, so one replica prunes and the others return at once. A staff `/reload` is
//! announced to the other replicas with `NOTIFY` ([`Store::announce_reload`]); each listens
//! ([`Store::reload_announcements`]) and reloads and validates its own copy, as a local reload does.
//! Published versions of the knowledge live in the database too ([`PgHistory`], [`Store::history`]):
//! after a publish is announced, every replica loads the newest version and validates it before it
//! swaps.
//!
//! The schema lives in `src/store/migrations/`, embedded in the binary and applied by
//! [`PgStore::connect`]. sqlx's migrator takes a session-level advisory lock (keyed by the database
//! name) before it even creates its bookkeeping table, so replicas starting together on an empty database
//! apply each migration once and wait for each other; it runs on a connection of its own, closed after,
//! so a failed migration cannot leave the lock held by a pooled connection.
//!
//! The address is a libpq-style URL (`postgres://user:password@host:5432/db`, `sslmode=require` for TLS
//! by rustls); `pool_size=N` in its query sets the number of connections (else [`DEFAULT_POOL`]).

mod history;

pub use history::PgHistory;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{Connection, Postgres, Row as _, Transaction};
use tracing::warn;

use super::api::{CLAIM_LEASE, Chat, Commit, Committed, Delivery, OutboxId, Pending, Store};
use super::records::{Counter, MAX_TEXT_CHARS, hour_of};
use super::{Counts, NotHelpfulRecord, Row, StoreError, UnansweredRecord, decode_row, encode_row};
use crate::dialogue::{Record, State, Unanswered};
use crate::matcher::Decision;
use crate::text::redact::Redacted;

/// Connections in the pool when the address does not say (`pool_size=N`).
pub const DEFAULT_POOL: u32 = 10;
/// How long an operation waits for a free (or new) connection before it fails with a store error.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// The `NOTIFY` channel of reload announcements.
const RELOAD_CHANNEL: &str = "shebao_reload";
/// The advisory lock held while pruning ("shebao" and 1).
#[doc(hidden)]
pub const PRUNE_LOCK: i64 = 0x7368_6562_616f_0001;
/// A commit that PostgreSQL aborted to break a deadlock (or a serialisation failure) is tried this often.
const COMMIT_ATTEMPTS: usize = 3;
/// Pause before listening again after the reload channel failed.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations");

/// The PostgreSQL store (see the module's documentation).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    options: PgConnectOptions,
    /// The address without its password.
    shown: String,
    /// Payload of this store's reload announcements, so it does not hear its own.
    me: String,
}

impl PgStore {
    /// Connects to the database at `url`, applies the embedded migrations, and opens a pool of `pool`
    /// connections (else the address's `pool_size`, else [`DEFAULT_POOL`]).
    pub async fn connect(url: &str, pool: Option<u32>) -> Result<PgStore, StoreError> {
        let (options, shown, from_url) = parse(url)?;
        let size = pool.or(from_url).unwrap_or(DEFAULT_POOL);
        if size == 0 {
            return Err(StoreError::Address(
                "the pool needs at least one connection".into(),
            ));
        }
        let mut conn = PgConnection::connect_with(&options).await?;
        // `run` on a connection trips "Acquire is not general enough" in a spawned task; `run_direct` is
        // sqlx's own way around it, with the same locking.
        MIGRATOR.run_direct(&mut conn).await?;
        conn.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        let me = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        Ok(PgStore {
            pool,
            options,
            shown,
            me,
        })
    }

    /// The most connections the pool opens.
    pub fn pool_size(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    /// Closes the pool's connections (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn try_commit(&self, commit: &Commit) -> Result<Committed, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (version, applied) = match lock_chat(&mut tx, commit.chat).await? {
            Some(row) => row,
            None => {
                // A new chat: insert its row, or wait for the replica inserting it at the same moment.
                sqlx::query(
                    "INSERT INTO chats (chat, version) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                )
                .bind(commit.chat)
                .execute(&mut *tx)
                .await?;
                match lock_chat(&mut tx, commit.chat).await? {
                    Some(row) => row,
                    None => return Ok(Committed::Conflict),
                }
            }
        };
        if let Some(update) = commit.update
            && applied != 0
            && update <= applied
        {
            return Ok(Committed::Duplicate);
        }
        if u64::try_from(version).ok() != Some(commit.version) {
            return Ok(Committed::Conflict);
        }
        // The row, the counters and the outbox in one statement (one round trip); the chat's row is
        // locked already, and counters are touched in kind order (see `keep_for_review`).
        let (kinds, counts) = counted(&commit.records);
        let rows = sqlx::query(
            "WITH chat AS (UPDATE chats SET state = $2, version = version + 1, \
             applied = GREATEST(COALESCE($3, applied), applied), recent = $4, last_active = $5 \
             WHERE chat = $1), \
             counted AS (INSERT INTO counters (kind, hour, count) \
             SELECT k, $6, n FROM UNNEST($7::SMALLINT[], $8::BIGINT[]) AS t(k, n) ORDER BY k \
             ON CONFLICT (kind, hour) DO UPDATE SET count = counters.count + EXCLUDED.count) \
             INSERT INTO outbox (chat, delivery, claimed_until) \
             SELECT $1, d, $10 FROM jsonb_array_elements($9) WITH ORDINALITY AS t(d, n) ORDER BY n \
             RETURNING id",
        )
        .bind(commit.chat)
        .bind(commit.state.as_ref().map(encode_state))
        .bind(commit.update)
        .bind(&commit.recent)
        .bind(commit.state.as_ref().map_or(0, |s| s.last_active))
        .bind(i64::from(hour_of(commit.now)))
        .bind(&kinds)
        .bind(&counts)
        .bind(Json(&commit.outbox))
        .bind(lease_end(commit.now))
        .fetch_all(&mut *tx)
        .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            ids.push(row.try_get::<i64, _>(0)? as OutboxId);
        }
        ids.sort_unstable();
        keep_for_review(&mut tx, &commit.records, commit.now).await?;
        tx.commit().await?;
        Ok(Committed::Applied(ids))
    }
}

/// The connect options, the address without its password, and the pool size it asks for.
fn parse(url: &str) -> Result<(PgConnectOptions, String, Option<u32>), StoreError> {
    let mut parsed =
        url::Url::parse(url).map_err(|e| StoreError::Address(format!("not a URL: {e}")))?;
    let mut pool = None;
    let mut kept = Vec::new();
    for (key, value) in parsed.query_pairs() {
        if key == "pool_size" {
            pool = Some(value.parse::<u32>().map_err(|_| {
                StoreError::Address(format!("pool_size must be a number, not {value:?}"))
            })?);
        } else {
            kept.push((key.into_owned(), value.into_owned()));
        }
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    let options = PgConnectOptions::from_str(parsed.as_str())
        .map_err(|e| StoreError::Address(e.to_string()))?;
    let _ = parsed.set_password(None);
    parsed.set_query(None);
    Ok((options, parsed.to_string(), pool))
}

/// Locks the chat's row for the transaction: its version and last applied update, if it exists.
async fn lock_chat(
    tx: &mut Transaction<'_, Postgres>,
    chat: i64,
) -> Result<Option<(i64, i64)>, StoreError> {
    let row = sqlx::query("SELECT version, applied FROM chats WHERE chat = $1 FOR UPDATE")
        .bind(chat)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
        None => None,
    })
}

/// A state in the stores' versioned row encoding (only its state part: version, applied update and recent
/// times are columns, so SQL can compare them), so it migrates or resets with a notice as sled's does.
fn encode_state(state: &State) -> Vec<u8> {
    encode_row(&Row {
        state: Some(state.clone()),
        ..Row::default()
    })
}

fn decode_state(bytes: &[u8]) -> State {
    decode_row(bytes).state.unwrap_or_default()
}

/// When a claim taken at `now` lapses.
fn lease_end(now: i64) -> i64 {
    now.saturating_add(CLAIM_LEASE.as_secs() as i64)
}

/// The counters the records add to, by kind (in kind order), and how much.
fn counted(records: &[Record]) -> (Vec<i16>, Vec<i64>) {
    let mut counters: BTreeMap<Counter, i64> = BTreeMap::new();
    for record in records {
        *counters.entry(Counter::of(record)).or_default() += 1;
    }
    counters
        .into_iter()
        .map(|(c, n)| (c as u8 as i16, n))
        .unzip()
}

/// Keeps the unanswered questions and 👎 answers for the staff's review. Every commit touches rows in
/// one global order (its chat, counters by kind, then questions, then entries, each sorted), so
/// concurrent commits cannot deadlock on them.
async fn keep_for_review(
    tx: &mut Transaction<'_, Postgres>,
    records: &[Record],
    now: i64,
) -> Result<(), StoreError> {
    let mut questions: Vec<&Unanswered> = Vec::new();
    let mut entries: Vec<&str> = Vec::new();
    for record in records {
        match record {
            // A question with nothing left to match on (only emoji or punctuation) teaches nothing.
            Record::Unanswered(u) if !u.normalized.is_empty() => questions.push(u),
            Record::Feedback {
                entry,
                helpful: false,
            } => entries.push(entry),
            _ => {}
        }
    }
    let mut questions: Vec<(Redacted, Redacted, &Unanswered)> = questions
        .into_iter()
        .map(|u| {
            (
                u.normalized.truncated(MAX_TEXT_CHARS),
                u.text.truncated(MAX_TEXT_CHARS),
                u,
            )
        })
        .collect();
    questions.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    for (normalized, text, u) in questions {
        sqlx::query(
            "INSERT INTO unanswered (normalized, text, count, first_seen, last_seen, decision, top, score) \
             VALUES ($1, $2, 1, $3, $3, $4, $5, $6) \
             ON CONFLICT (normalized) DO UPDATE SET count = unanswered.count + 1, \
             last_seen = GREATEST(unanswered.last_seen, EXCLUDED.last_seen), \
             decision = EXCLUDED.decision, top = EXCLUDED.top, score = EXCLUDED.score",
        )
        .bind(normalized.as_str())
        .bind(text.as_str())
        .bind(now)
        .bind(u.decision.as_str())
        .bind(u.top.as_deref())
        .bind(u.score)
        .execute(&mut **tx)
        .await?;
    }
    entries.sort_unstable();
    for entry in entries {
        sqlx::query(
            "INSERT INTO not_helpful (entry, count, first_seen, last_seen) VALUES ($1, 1, $2, $2) \
             ON CONFLICT (entry) DO UPDATE SET count = not_helpful.count + 1, \
             last_seen = GREATEST(not_helpful.last_seen, EXCLUDED.last_seen)",
        )
        .bind(entry)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Whether PostgreSQL aborted the transaction to resolve a deadlock or a serialisation conflict.
fn retryable(e: &StoreError) -> bool {
    let StoreError::Postgres(e) = e else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40P01" || code == "40001")
}

fn unanswered_of(row: &PgRow) -> Result<UnansweredRecord, StoreError> {
    let decision: String = row.try_get("decision")?;
    Ok(UnansweredRecord {
        text: Redacted::from(row.try_get::<String, _>("text")?),
        normalized: Redacted::from(row.try_get::<String, _>("normalized")?),
        count: row.try_get::<i64, _>("count")?.max(0) as u64,
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        decision: serde_json::from_value(serde_json::Value::String(decision))
            .unwrap_or(Decision::Fallback),
        top: row.try_get("top")?,
        score: row.try_get("score")?,
    })
}

#[async_trait::async_trait]
impl Store for PgStore {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    async fn load(&self, chat: i64) -> Result<Chat, StoreError> {
        let row = sqlx::query("SELECT state, version, applied, recent FROM chats WHERE chat = $1")
            .bind(chat)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(Chat::default());
        };
        let state: Option<Vec<u8>> = row.try_get(0)?;
        Ok(Chat {
            state: state.map(|bytes| decode_state(&bytes)).unwrap_or_default(),
            version: row.try_get::<i64, _>(1)?.max(0) as u64,
            applied: row.try_get(2)?,
            recent: row.try_get(3)?,
        })
    }

    async fn commit(&self, commit: Commit) -> Result<Committed, StoreError> {
        let mut attempt = 1;
        loop {
            match self.try_commit(&commit).await {
                Err(e) if attempt < COMMIT_ATTEMPTS && retryable(&e) => attempt += 1,
                outcome => return outcome,
            }
        }
    }

    async fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn claim(
        &self,
        chat: Option<i64>,
        limit: usize,
        now: i64,
    ) -> Result<Vec<Pending>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        // A chat's replies go out in order, so a sweeper takes whole chats: those whose oldest reply has
        // lapsed and is not locked by another sweeper (or by its sender marking it sent) this moment.
        let chats: Vec<i64> = sqlx::query_scalar(
            "SELECT chat FROM outbox WHERE id IN (SELECT DISTINCT ON (chat) id FROM outbox \
             WHERE $2::BIGINT IS NULL OR chat = $2 ORDER BY chat, id) \
             AND claimed_until <= $1 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(chat)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if chats.is_empty() {
            return Ok(Vec::new());
        }
        // Their lapsed replies, oldest first, up to the first one still held.
        let rows = sqlx::query(
            "WITH due AS (SELECT id FROM outbox o WHERE chat = ANY($3) AND claimed_until <= $2 \
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.chat = o.chat AND p.id < o.id \
             AND p.claimed_until > $2) ORDER BY id LIMIT $4 FOR UPDATE) \
             UPDATE outbox SET claimed_until = $1 FROM due WHERE outbox.id = due.id \
             RETURNING outbox.id, outbox.chat, outbox.delivery",
        )
        .bind(lease_end(now))
        .bind(now)
        .bind(&chats)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut pending = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for row in rows {
            let id: i64 = row.try_get(0)?;
            let value: serde_json::Value = row.try_get(2)?;
            match serde_json::from_value::<Delivery>(value) {
                Ok(delivery) => pending.push(Pending {
                    id: id as OutboxId,
                    chat: row.try_get(1)?,
                    delivery,
                }),
                Err(e) => {
                    warn!(id, error = %e, "dropping a reply this version cannot read");
                    unreadable.push(id as OutboxId);
                }
            }
        }
        if !unreadable.is_empty() {
            self.mark_sent(&unreadable).await?;
        }
        pending.sort_by_key(|p| p.id);
        Ok(pending)
    }

    async fn mark_sent(&self, ids: &[OutboxId]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
        // Rows are locked in id order, as a sweeper's claim locks them, so the two rarely wait on each other
        // crosswise (a deadlock PostgreSQL would break by failing one of them).
        sqlx::query(
            "DELETE FROM outbox WHERE id IN \
             (SELECT id FROM outbox WHERE id = ANY($1) ORDER BY id FOR UPDATE)",
        )
        .bind(&ids)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    async fn unanswered(&self, since: i64) -> Result<Vec<UnansweredRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT normalized, text, count, first_seen, last_seen, decision, top, score \
             FROM unanswered WHERE last_seen >= $1 ORDER BY count DESC, last_seen DESC, normalized",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(unanswered_of).collect()
    }

    async fn not_helpful(&self, since: i64) -> Result<Vec<NotHelpfulRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT entry, count, first_seen, last_seen FROM not_helpful WHERE last_seen >= $1 \
             ORDER BY count DESC, last_seen DESC, entry",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NotHelpfulRecord {
                    entry: row.try_get(0)?,
                    count: row.try_get::<i64, _>(1)?.max(0) as u64,
                    first_seen: row.try_get(2)?,
                    last_seen: row.try_get(3)?,
                })
            })
            .collect()
    }

    async fn counts(&self, since: i64) -> Result<Counts, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, SUM(count)::BIGINT FROM counters WHERE hour >= $1 GROUP BY kind",
        )
        .bind(i64::from(hour_of(since)))
        .fetch_all(&self.pool)
        .await?;
        let mut counts = Counts::default();
        for row in rows {
            let kind: i16 = row.try_get(0)?;
            let n: i64 = row.try_get(1)?;
            if let Some(counter) = u8::try_from(kind).ok().and_then(Counter::from_code) {
                counts.add(counter, n.max(0) as u64);
            }
        }
        Ok(counts)
    }

    async fn active_chats(&self, since: i64, except: &[i64]) -> Result<usize, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM chats WHERE state IS NOT NULL AND last_active >= $1 \
             AND chat <> ALL($2)",
        )
        .bind(since)
        .bind(except)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.max(0) as usize)
    }

    async fn prune(&self, before: i64) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(PRUNE_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !mine {
            return Ok(0);
        }
        let mut removed = 0;
        for (sql, bound) in [
            (
                "DELETE FROM counters WHERE hour < $1",
                i64::from(hour_of(before)),
            ),
            ("DELETE FROM unanswered WHERE last_seen < $1", before),
            ("DELETE FROM not_helpful WHERE last_seen < $1", before),
        ] {
            removed += sqlx::query(sql)
                .bind(bound)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(removed as usize)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn announce_reload(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(RELOAD_CHANNEL)
            .bind(&self.me)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn history(&self) -> Option<std::sync::Arc<dyn crate::knowledge::history::History>> {
        Some(std::sync::Arc::new(PgHistory {
            pool: self.pool.clone(),
            shown: self.shown.clone(),
        }))
    }

    async fn reload_announcements(&self) -> Result<Option<BoxStream<'static, ()>>, StoreError> {
        // A connection of its own, outside the pool the handlers share.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(self.options.clone())
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(RELOAD_CHANNEL).await?;
        let me = self.me.clone();
        let announcements = stream::unfold(listener, move |mut listener| {
            let me = me.clone();
            async move {
                loop {
                    match listener.try_recv().await {
                        Ok(Some(n)) if n.payload() == me => {}
                        Ok(Some(_)) => return Some(((), listener)),
                        Ok(None) => {
                            // The connection dropped and is listening again: an announcement made
                            // meanwhile was lost, so reload anyway (an unchanged knowledge is a no-op).
                            warn!("the reload channel was reconnected");
                            return Some(((), listener));
                        }
                        Err(e) => {
                            warn!(error = %e, "cannot listen for reload announcements; retrying");
                            tokio::time::sleep(LISTEN_RETRY).await;
                        }
                    }
                }
            }
        });
        Ok(Some(announcements.boxed()))
    }
}
