//! What a running bot counts for Prometheus (`/metrics`): the names in one place, the recorder, and a store wrapper that counts what every commit records.
//!
//! No label ever holds a chat id, a user id or any text: labels are small fixed sets (the kind of an
//! update, its outcome, a decision), so the number of series stays bounded and nothing a citizen typed
//! reaches the metrics.
//!
//! | name | type | labels |
//! |------|------|--------|
//! | `shebao_updates_total` | counter | `kind` (message, edited_message, callback_query, other), `outcome` |
//! | `shebao_duplicate_updates_total` | counter | — (updates already applied, skipped) |
//! | `shebao_update_handling_seconds` | histogram | `kind` |
//! | `shebao_outbox_backlog` | gauge | — (replies committed, not yet marked sent; read at each scrape) |
//! | `shebao_fallbacks_total` | counter | `decision` (fallback, clarify) |
//! | `shebao_secrets_intercepted_total` | counter | — |
//! | `shebao_store_errors_total` | counter | `op` (commit, load, backlog, ping) |
//! | `shebao_webhook_rejected_total` | counter | `reason` (secret, unparsed, draining) |

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use teloxide::types::{Update, UpdateKind};

use crate::dialogue::Record;
use crate::matcher::Decision;
use crate::store::api::{Chat, Commit, Committed, OutboxId, Pending, Store};
use crate::store::{Counts, NotHelpfulRecord, StoreError, UnansweredRecord};

pub const UPDATES: &str = "shebao_updates_total";
pub const DUPLICATES: &str = "shebao_duplicate_updates_total";
pub const HANDLING_SECONDS: &str = "shebao_update_handling_seconds";
pub const OUTBOX_BACKLOG: &str = "shebao_outbox_backlog";
pub const FALLBACKS: &str = "shebao_fallbacks_total";
pub const SECRETS_INTERCEPTED: &str = "shebao_secrets_intercepted_total";
pub const STORE_ERRORS: &str = "shebao_store_errors_total";
pub const WEBHOOK_REJECTED: &str = "shebao_webhook_rejected_total";

/// Buckets of [`HANDLING_SECONDS`]: from a cached answer (a millisecond) to a slow store (ten seconds).
const HANDLING_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What became of an update, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stepped and committed.
    Applied,
    /// Applied before (a redelivery): nothing new was done.
    Duplicate,
    /// Nothing to do (a channel post, an update without a chat, a button of no menu).
    Ignored,
    /// Over the chat's flood limit.
    Flooded,
    /// The store failed; the update will come again.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
            Outcome::Flooded => "flooded",
            Outcome::Failed => "failed",
        }
    }
}

/// Installs the process-wide recorder once and returns the handle that renders it; later calls return
/// the same handle (tests start several routers in one process).
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(HANDLING_SECONDS.into()),
                    HANDLING_BUCKETS,
                )
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may be installed already (a test harness): ours then renders nothing,
            // which only costs the metrics, never the bot.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already; /metrics will be empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(UPDATES, "Telegram updates handled, by kind and outcome.");
    metrics::describe_counter!(
        DUPLICATES,
        "Updates delivered again after they were applied, skipped."
    );
    metrics::describe_histogram!(
        HANDLING_SECONDS,
        metrics::Unit::Seconds,
        "Time from receiving an update to its commit and the sending of its replies."
    );
    metrics::describe_gauge!(OUTBOX_BACKLOG, "Replies committed and not yet marked sent.");
    metrics::describe_counter!(
        FALLBACKS,
        "Questions that got no single answer, by decision."
    );
    metrics::describe_counter!(
        SECRETS_INTERCEPTED,
        "Messages holding a secret, deleted and warned about."
    );
    metrics::describe_counter!(STORE_ERRORS, "Store operations that failed, by operation.");
    metrics::describe_counter!(WEBHOOK_REJECTED, "Webhook requests refused, by reason.");
}

/// The kind of an update, as a metric label.
pub fn kind_of(update: &Update) -> &'static str {
    match &update.kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::EditedMessage(_) => "edited_message",
        UpdateKind::CallbackQuery(_) => "callback_query",
        _ => "other",
    }
}

/// Counts one handled update and how long it took.
pub fn update_handled(kind: &'static str, outcome: Outcome, seconds: f64) {
    metrics::counter!(UPDATES, "kind" => kind, "outcome" => outcome.as_str()).increment(1);
    if outcome == Outcome::Duplicate {
        metrics::counter!(DUPLICATES).increment(1);
    }
    metrics::histogram!(HANDLING_SECONDS, "kind" => kind).record(seconds);
}

/// Counts a webhook request refused before it reached the session.
pub fn webhook_rejected(reason: &'static str) {
    metrics::counter!(WEBHOOK_REJECTED, "reason" => reason).increment(1);
}

/// Counts a failed store operation.
pub fn store_error(op: &'static str) {
    metrics::counter!(STORE_ERRORS, "op" => op).increment(1);
}

/// Sets the outbox backlog gauge.
pub fn backlog(replies: u64) {
    metrics::gauge!(OUTBOX_BACKLOG).set(replies as f64);
}

/// Counts what a committed update recorded for the staff.
fn records_committed(records: &[Record]) {
    for record in records {
        match record {
            Record::Unanswered(u) => {
                let decision = match u.decision {
                    Decision::Clarify => "clarify",
                    Decision::Fallback | Decision::Answer => "fallback",
                };
                metrics::counter!(FALLBACKS, "decision" => decision).increment(1);
            }
            Record::SecretIntercepted => metrics::counter!(SECRETS_INTERCEPTED).increment(1),
            Record::Answered { .. } | Record::FlowCompleted { .. } | Record::Feedback { .. } => {}
        }
    }
}

/// A [`Store`] that counts, on every applied commit, the fallbacks and intercepted secrets it records,
/// and every failed operation; whatever path committed (polling, webhook, terminal).
pub struct Metered(pub Arc<dyn Store>);

impl Metered {
    pub fn wrap(store: Arc<dyn Store>) -> Arc<dyn Store> {
        Arc::new(Metered(store))
    }
}

fn counted<T>(op: &'static str, result: Result<T, StoreError>) -> Result<T, StoreError> {
    if result.is_err() {
        store_error(op);
    }
    result
}

#[async_trait::async_trait]
impl Store for Metered {
    fn describe(&self) -> String {
        self.0.describe()
    }

    async fn load(&self, chat: i64) -> Result<Chat, StoreError> {
        counted("load", self.0.load(chat).await)
    }

    async fn commit(&self, commit: Commit) -> Result<Committed, StoreError> {
        let records = commit.records.clone();
        let committed = counted("commit", self.0.commit(commit).await)?;
        if matches!(committed, Committed::Applied(_)) {
            records_committed(&records);
        }
        Ok(committed)
    }

    async fn sync(&self) -> Result<(), StoreError> {
        counted("sync", self.0.sync().await)
    }

    async fn claim(
        &self,
        chat: Option<i64>,
        limit: usize,
        now: i64,
    ) -> Result<Vec<Pending>, StoreError> {
        counted("claim", self.0.claim(chat, limit, now).await)
    }

    async fn mark_sent(&self, ids: &[OutboxId]) -> Result<(), StoreError> {
        counted("mark_sent", self.0.mark_sent(ids).await)
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        let replies = counted("backlog", self.0.backlog().await)?;
        backlog(replies);
        Ok(replies)
    }

    async fn unanswered(&self, since: i64) -> Result<Vec<UnansweredRecord>, StoreError> {
        self.0.unanswered(since).await
    }

    async fn not_helpful(&self, since: i64) -> Result<Vec<NotHelpfulRecord>, StoreError> {
        self.0.not_helpful(since).await
    }

    async fn counts(&self, since: i64) -> Result<Counts, StoreError> {
        self.0.counts(since).await
    }

    async fn active_chats(&self, since: i64, except: &[i64]) -> Result<usize, StoreError> {
        self.0.active_chats(since, except).await
    }

    async fn prune(&self, before: i64) -> Result<usize, StoreError> {
        counted("prune", self.0.prune(before).await)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        counted("ping", self.0.ping().await)
    }

    async fn announce_reload(&self) -> Result<(), StoreError> {
        self.0.announce_reload().await
    }

    async fn counts_by_day(&self, days: u32, now: i64) -> Result<Vec<(i64, Counts)>, StoreError> {
        self.0.counts_by_day(days, now).await
    }

    fn history(&self) -> Option<Arc<dyn crate::knowledge::history::History>> {
        self.0.history()
    }

    async fn reload_announcements(
        &self,
    ) -> Result<Option<futures::stream::BoxStream<'static, ()>>, StoreError> {
        self.0.reload_announcements().await
    }
}
