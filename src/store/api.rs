//! What every conversation store promises, in the session's words, so sled, PostgreSQL and memory are interchangeable.
//!
//! A chat is one row: its [`State`] (or none, once forgotten), the last update applied to it, a version
//! that every commit bumps, and the times of its recent messages (the flood limit, shared by replicas).
//! [`Store::commit`] writes, in one atomic step, the new state, the records the staff review and the
//! replies to send (the outbox) — and refuses when the update was already applied ([`Committed::Duplicate`])
//! or the row changed since it was loaded ([`Committed::Conflict`]: the session loads again and steps
//! again). So two replicas can never apply the same update twice or overwrite each other's state.
//!
//! Replies leave the outbox only when [`Store::mark_sent`] says they were delivered. A commit claims its
//! own replies for [`CLAIM_LEASE`], so the committer sends them at once while a sweeper
//! ([`Store::claim`]) picks up whatever a dead process left behind after the lease. A reply is never lost;
//! one may be sent twice only if a process died between sending it and marking it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Counts, NotHelpfulRecord, StoreError, UnansweredRecord};
use crate::dialogue::{Record, State};

/// How long a claimed reply is left to its claimer before a sweeper may send it.
pub const CLAIM_LEASE: Duration = Duration::from_secs(30);

/// Bumped by every commit of a chat; 0 for a chat never stored.
pub type Version = u64;

/// Identifies a reply in the outbox; increasing in commit order, so a chat's replies go out in order.
pub type OutboxId = u64;

/// One chat as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chat {
    /// The state, or the default for a new or forgotten chat (a damaged stored state is reset with a notice).
    pub state: State,
    /// Compare-and-set token for [`Commit::version`].
    pub version: Version,
    /// The last Telegram update applied to this chat (0: none). Kept after the chat is forgotten, so a
    /// redelivered `/forget` is not applied again.
    pub applied: i64,
    /// Unix milliseconds of the chat's recent messages, oldest first (for the flood limit).
    pub recent: Vec<i64>,
}

/// What one handled update changes, written atomically by [`Store::commit`].
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub chat: i64,
    /// The [`Chat::version`] the step started from.
    pub version: Version,
    /// The update applied; must be greater than [`Chat::applied`] (else [`Committed::Duplicate`]).
    /// `None` for inputs that are not Telegram updates (the terminal).
    pub update: Option<i64>,
    /// The new state; `None` forgets the chat (its `applied` and `recent` stay).
    pub state: Option<State>,
    /// The new [`Chat::recent`].
    pub recent: Vec<i64>,
    /// What the staff's statistics and review keep (none for staff chats).
    pub records: Vec<Record>,
    /// The replies to send, in order.
    pub outbox: Vec<Delivery>,
    /// Unix seconds, for the records and the claim on the outbox.
    pub now: i64,
}

/// The outcome of a [`Commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// Written; the replies are in the outbox under these ids, claimed by the caller for [`CLAIM_LEASE`].
    Applied(Vec<OutboxId>),
    /// The update was applied before: nothing was written.
    Duplicate,
    /// The chat changed since it was loaded: nothing was written; load and step again.
    Conflict,
}

/// A reply as the outbox keeps it: what to do in the chat, independent of the adapter's client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delivery {
    Text {
        text: String,
    },
    Choices {
        prompt: String,
        menu: u32,
        options: Vec<String>,
    },
    /// Delete the user's message `message` (it held a secret); if Telegram refuses, ask the user to.
    DeleteMessage {
        message: i32,
    },
    /// Remove the buttons under the bot's message `message` (a pressed, now stale menu).
    RemoveKeyboard {
        message: i32,
    },
}

/// A reply waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: OutboxId,
    pub chat: i64,
    pub delivery: Delivery,
}

/// A conversation store. Implementations: `sled` (embedded, the default), `postgres` (shared by replicas)
/// and `memory` (unit tests). The same test suite runs against each.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Where the store is, for logs and errors (never a password).
    fn describe(&self) -> String;

    /// The chat's row; a chat never stored is `Chat::default()`.
    async fn load(&self, chat: i64) -> Result<Chat, StoreError>;

    /// Writes a handled update atomically (see the module's documentation).
    async fn commit(&self, commit: Commit) -> Result<Committed, StoreError>;

    /// Makes every commit that returned before this call durable (sled's group commit: one flush for
    /// a batch); a no-op where each commit is durable on its own.
    async fn sync(&self) -> Result<(), StoreError>;

    /// Claims up to `limit` unsent replies whose claim has lapsed (of `chat` only, when given), oldest
    /// first, for [`CLAIM_LEASE`] from `now` (Unix seconds). With PostgreSQL, replicas claim disjoint sets.
    /// A chat with an older reply still claimed (by anyone) is skipped, so a chat's replies go out in order.
    async fn claim(
        &self,
        chat: Option<i64>,
        limit: usize,
        now: i64,
    ) -> Result<Vec<Pending>, StoreError>;

    /// Removes delivered replies from the outbox.
    async fn mark_sent(&self, ids: &[OutboxId]) -> Result<(), StoreError>;

    /// Replies not yet marked sent.
    async fn backlog(&self) -> Result<u64, StoreError>;

    /// Unanswered questions last seen at or after `since` (Unix seconds), most asked first.
    async fn unanswered(&self, since: i64) -> Result<Vec<UnansweredRecord>, StoreError>;

    /// Answers marked 👎 at or after `since`, most often first.
    async fn not_helpful(&self, since: i64) -> Result<Vec<NotHelpfulRecord>, StoreError>;

    /// What happened at or after `since`, counted by the hour.
    async fn counts(&self, since: i64) -> Result<Counts, StoreError>;

    /// Chats active at or after `since`, the chats in `except` (staff) not counted.
    async fn active_chats(&self, since: i64, except: &[i64]) -> Result<usize, StoreError>;

    /// Deletes records and counters older than `before`; returns how many. Runs in one place at a time:
    /// where another process is pruning, returns 0 without waiting.
    async fn prune(&self, before: i64) -> Result<usize, StoreError>;

    /// Whether the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Asks the other processes sharing this store to reload their knowledge (PostgreSQL: `NOTIFY`);
    /// nothing to do for a store only one process opens (sled, memory).
    async fn announce_reload(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The reload announcements of the other processes sharing this store, one item per request to
    /// reload (and validate before swapping, as a local reload does); `None` where no other process
    /// shares the store.
    async fn reload_announcements(
        &self,
    ) -> Result<Option<futures::stream::BoxStream<'static, ()>>, StoreError> {
        Ok(None)
    }

    /// Where published versions of the knowledge live when this store keeps them (PostgreSQL: in the
    /// database every replica shares); `None` where they are files beside `--knowledge DIR` (sled, memory).
    fn history(&self) -> Option<std::sync::Arc<dyn crate::knowledge::history::History>> {
        None
    }

    /// What happened on each of the `days` days up to and including the day of `now` (days in China
    /// Standard Time), oldest first, as (the day's first second, its counts). The default takes
    /// differences of [`Store::counts`] at day boundaries; a store may answer it in one query.
    async fn counts_by_day(&self, days: u32, now: i64) -> Result<Vec<(i64, Counts)>, StoreError> {
        const DAY: i64 = 86_400;
        const CST: i64 = 8 * 3600;
        let today = (now + CST).div_euclid(DAY) * DAY - CST;
        let starts: Vec<i64> = (0..i64::from(days.max(1)))
            .rev()
            .map(|d| today - d * DAY)
            .collect();
        let mut from = Vec::with_capacity(starts.len());
        for &start in &starts {
            from.push(self.counts(start).await?);
        }
        let mut out = Vec::with_capacity(starts.len());
        for (i, &start) in starts.iter().enumerate() {
            let (all, later) = (from[i], from.get(i + 1).copied().unwrap_or_default());
            out.push((
                start,
                Counts {
                    answered: all.answered.saturating_sub(later.answered),
                    fallbacks: all.fallbacks.saturating_sub(later.fallbacks),
                    clarified: all.clarified.saturating_sub(later.clarified),
                    flows_completed: all.flows_completed.saturating_sub(later.flows_completed),
                    secrets: all.secrets.saturating_sub(later.secrets),
                    helpful: all.helpful.saturating_sub(later.helpful),
                    not_helpful: all.not_helpful.saturating_sub(later.not_helpful),
                },
            ));
        }
        Ok(out)
    }
}
