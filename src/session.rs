//! The one path every message takes, whatever brought it (terminal, polling, webhook): load, step, commit, deliver.
//!
//! For each message: load the chat's row → skip an update already applied → the flood limit (counted in
//! the row, so replicas share it) → the guard (inside [`dialogue::step`], which sees every text first) →
//! `step` → commit {state or forget, records, outbox} in one atomic write → make it durable
//! ([`Store::sync`]) → deliver the replies in order → mark them sent. When another writer changed the
//! row meanwhile the commit is refused ([`Committed::Conflict`]) and the message is stepped again on
//! the fresh row, so no step is lost or applied twice.
//!
//! A reply is only delivered after the state it belongs to is durable. If the process dies after the
//! commit, the replies wait in the outbox, claimed by the committer for [`crate::store::api::CLAIM_LEASE`];
//! after that any sweeper ([`Session::sweep`]) delivers them. A reply repeats only if a process died
//! between delivering it and marking it sent.
//!
//! Adapters supply a [`Deliver`]: Telegram (Bot API calls) or the terminal.

use std::sync::Arc;
use std::time::Duration;

use teloxide::types::Update;
use tracing::{debug, info, warn};

use crate::dialogue::{self, Effect, Input, Record, Reply, State};
use crate::knowledge::KnowledgeBase;
use crate::live::LiveKnowledge;
use crate::store::{Commit, Committed, Delivery, Pending, Store, StoreError};
use crate::telegram::classify;
use crate::telegram::staff::{self, StaffCommand};
use crate::text::guard::guard;

/// Messages per chat allowed within [`FLOOD_WINDOW`] before the bot stops answering that chat.
pub const FLOOD_LIMIT: usize = 20;
pub const FLOOD_WINDOW: Duration = Duration::from_secs(10);
/// Message times kept per chat: enough to tell the first message over the limit from the later ones.
const FLOOD_KEPT: usize = 2 * FLOOD_LIMIT;
pub const FLOOD_NOTICE: &str = "您发得太快了，我先歇一下。过十几秒再发消息，我会接着回答您。";
pub const PLEASE_TYPE: &str = "我只能看懂文字。请直接打字提问，比如「密码忘了怎么办」。";
/// Times a message is stepped again after losing a race for its chat before the session gives up.
const MAX_ATTEMPTS: usize = 16;
/// Replies the sweeper claims at a time.
const SWEEP_BATCH: usize = 100;

/// Why a message could not be handled: the store failed (a webhook answers 5xx so Telegram retries).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("chat {0} kept changing under the session; gave up after {MAX_ATTEMPTS} attempts")]
    Contended(i64),
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Committed; `delivered` of its `replies` were delivered, the rest wait in the outbox.
    Applied { replies: usize, delivered: usize },
    /// Applied before: nothing changed; `resent` replies of it that were still pending went out.
    Duplicate { resent: usize },
    /// Over the flood limit: counted, not answered (except for one notice).
    Flooded,
    /// Nothing to do (a kind of update the bot does not handle).
    Ignored,
}

/// Carries replies to a chat: the adapter's side of the outbox.
#[async_trait::async_trait]
pub trait Deliver: Send + Sync + 'static {
    /// Does what `delivery` says in `chat`. `true` when done, or when it can never be done (a refusal
    /// that retrying cannot fix: logged, and counted as delivered); `false` to leave it in the outbox
    /// for a later try.
    async fn deliver(&self, chat: i64, delivery: &Delivery) -> bool;

    /// Stops the spinner of a pressed button (Telegram's `answerCallbackQuery`); nothing elsewhere.
    async fn acknowledge(&self, _query: &str) {}
}

/// A message as the session takes it, whatever the adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub chat: i64,
    /// The Telegram update it came in; `None` for the terminal.
    pub update: Option<i64>,
    pub incoming: Incoming,
}

/// A message stepped and committed, before its replies are delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub chat: i64,
    pub outcome: Outcome,
    /// The state after the step (for the terminal's JSON: which flow step a prompt shows).
    pub state: State,
    /// What the engine said and did, for adapters that show more than the outbox (the terminal).
    pub replies: Vec<Reply>,
    pub effects: Vec<Effect>,
    /// The committed replies, in order, claimed by this session.
    pub pending: Vec<Pending>,
}

impl Turn {
    /// Steps the engine from the turn's state.
    fn step(&mut self, kb: &KnowledgeBase, input: Input, now: i64) {
        let (state, replies, effects) =
            dialogue::step(kb, std::mem::take(&mut self.state), input, now);
        self.state = state;
        self.replies = replies;
        self.effects = effects;
    }
}

/// What a message asks of the session, once an adapter classified it.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A text for the engine; `message` is the user's message (to delete it if it holds a secret).
    Text { message: Option<i32>, text: String },
    /// A button pressed under the bot's `message`.
    Button {
        message: Option<i32>,
        menu: u32,
        index: usize,
    },
    /// A private message without text (a sticker, a photo): the user is asked to type.
    NotText,
    /// A message the engine does not answer (group chatter, an edit) but the guard still reads.
    GuardOnly { message: i32, text: String },
    /// Replies decided before the session (a staff command's answer).
    Said {
        message: Option<i32>,
        replies: Vec<Reply>,
    },
    /// Nothing to do.
    Ignored,
}

impl Incoming {
    /// The kind, for logs (never the text).
    pub fn kind(&self) -> &'static str {
        match self {
            Incoming::Text { .. } => "text",
            Incoming::Button { .. } => "button",
            Incoming::NotText => "not_text",
            Incoming::GuardOnly { .. } => "guard_only",
            Incoming::Said { .. } => "staff",
            Incoming::Ignored => "ignored",
        }
    }
}

/// What the commit said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
    Flooded,
    Ignored,
}

/// The flood limit on a chat's recent message times (Unix milliseconds): the times to keep, and
/// `None` when the message may go on, `Some(notice)` when it is over the limit (`notice`: the first one
/// over it, which gets one polite notice).
fn flood(recent: &[i64], now_ms: i64) -> (Vec<i64>, Option<bool>) {
    let window = FLOOD_WINDOW.as_millis() as i64;
    let mut kept: Vec<i64> = recent
        .iter()
        .copied()
        .filter(|t| now_ms - t <= window)
        .collect();
    kept.push(now_ms);
    let count = kept.len();
    if kept.len() > FLOOD_KEPT {
        kept.drain(..kept.len() - FLOOD_KEPT);
    }
    let verdict = (count > FLOOD_LIMIT).then_some(count == FLOOD_LIMIT + 1);
    (kept, verdict)
}

/// How a chat is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rules {
    /// A staff chat: nothing of it is recorded for the statistics and review.
    pub staff: bool,
    /// Apply the flood limit (Telegram chats; not the terminal's one local user).
    pub flood_limit: bool,
}

/// Steps `message` on its chat and commits the outcome; retries on a conflict. Returns the turn with
/// its replies committed but not yet durable: call [`Store::sync`] before delivering them.
pub async fn commit(
    store: &dyn Store,
    kb: &KnowledgeBase,
    message: &Message,
    rules: Rules,
    now_ms: i64,
) -> Result<Turn, SessionError> {
    let now = now_ms.div_euclid(1000);
    for _ in 0..MAX_ATTEMPTS {
        let row = store.load(message.chat).await?;
        let mut turn = Turn {
            chat: message.chat,
            outcome: Outcome::Applied,
            state: row.state.clone(),
            replies: Vec::new(),
            effects: Vec::new(),
            pending: Vec::new(),
        };
        if message
            .update
            .is_some_and(|u| row.applied != 0 && u <= row.applied)
        {
            turn.outcome = Outcome::Duplicate;
            return Ok(turn);
        }
        let (recent, flooded) = match rules.flood_limit {
            true => flood(&row.recent, now_ms),
            false => (row.recent.clone(), None),
        };
        let mut user_message = None;
        match (flooded, &message.incoming) {
            (_, Incoming::Ignored) => {
                turn.outcome = Outcome::Ignored;
                return Ok(turn);
            }
            (Some(notice), _) => {
                turn.outcome = Outcome::Flooded;
                if notice {
                    turn.replies.push(Reply::Text(FLOOD_NOTICE.to_string()));
                }
            }
            (None, Incoming::NotText) => turn.replies.push(Reply::Text(PLEASE_TYPE.to_string())),
            (None, Incoming::GuardOnly { message, text }) => {
                // Nothing of this text is kept, so only a likely secret is worth acting on (and deleting).
                let guarded = guard(text);
                if !guarded.must_delete() {
                    turn.outcome = Outcome::Ignored;
                    return Ok(turn);
                }
                info!(
                    chat = turn.chat,
                    secrets = guarded.secrets.len(),
                    "secret in a message; deleting"
                );
                user_message = Some(*message);
                turn.replies = vec![
                    Reply::DeleteUserMessage,
                    Reply::Text(dialogue::texts::secret_warning(&guarded.secrets)),
                ];
                turn.effects = vec![Effect::Record(Record::SecretIntercepted)];
            }
            (None, Incoming::Said { message, replies }) => {
                user_message = *message;
                turn.replies = replies.clone();
            }
            (None, Incoming::Text { message, text }) => {
                user_message = *message;
                turn.step(kb, Input::Text(text.clone()), now);
            }
            (None, Incoming::Button { menu, index, .. }) => {
                let input = Input::Choice {
                    menu: *menu,
                    index: *index,
                };
                turn.step(kb, input, now);
            }
        }
        let mut outbox = Vec::with_capacity(turn.replies.len() + 1);
        if let (
            None,
            Incoming::Button {
                message: Some(m), ..
            },
        ) = (flooded, &message.incoming)
        {
            // The pressed menu loses its buttons before the answer comes, so it cannot be pressed again.
            outbox.push(Delivery::RemoveKeyboard { message: *m });
        }
        outbox.extend(
            turn.replies
                .iter()
                .filter_map(|r| delivery(r, user_message)),
        );
        let forget = turn.effects.contains(&Effect::Forget);
        let records = if rules.staff {
            Vec::new()
        } else {
            turn.effects
                .iter()
                .filter_map(|e| match e {
                    Effect::Record(r) => Some(r.clone()),
                    Effect::Forget => None,
                })
                .collect()
        };
        let commit = Commit {
            chat: message.chat,
            version: row.version,
            update: message.update,
            state: (!forget).then(|| turn.state.clone()),
            recent,
            records,
            outbox: outbox.clone(),
            now,
        };
        match store.commit(commit).await? {
            Committed::Applied(ids) => {
                turn.pending = ids
                    .into_iter()
                    .zip(outbox)
                    .map(|(id, delivery)| Pending {
                        id,
                        chat: message.chat,
                        delivery,
                    })
                    .collect();
                return Ok(turn);
            }
            Committed::Duplicate => {
                turn.outcome = Outcome::Duplicate;
                turn.replies.clear();
                turn.effects.clear();
                return Ok(turn);
            }
            Committed::Conflict => {
                debug!(
                    chat = message.chat,
                    "the chat changed meanwhile; stepping again"
                );
            }
        }
    }
    Err(SessionError::Contended(message.chat))
}

/// A reply as the outbox keeps it; a deletion needs the user's message.
fn delivery(reply: &Reply, user_message: Option<i32>) -> Option<Delivery> {
    match reply {
        Reply::Text(text) => Some(Delivery::Text { text: text.clone() }),
        Reply::Choices {
            prompt,
            menu,
            options,
        } => Some(Delivery::Choices {
            prompt: prompt.clone(),
            menu: *menu,
            options: options.clone(),
        }),
        Reply::DeleteUserMessage => user_message.map(|message| Delivery::DeleteMessage { message }),
    }
}

/// Delivers `pending` in order through `to`, stopping at the first that must wait; marks each
/// delivered one sent at once (so a crash repeats at most the reply in flight). Returns how many were
/// delivered.
pub async fn deliver(
    store: &dyn Store,
    to: &dyn Deliver,
    pending: &[Pending],
) -> Result<usize, StoreError> {
    for (n, p) in pending.iter().enumerate() {
        if !to.deliver(p.chat, &p.delivery).await {
            warn!(
                chat = p.chat,
                left = pending.len() - n,
                "replies left in the outbox for a later try"
            );
            return Ok(n);
        }
        store.mark_sent(&[p.id]).await?;
    }
    Ok(pending.len())
}

/// Everything the Telegram adapters (polling, webhook) share: the store, the knowledge, delivery.
pub struct Session {
    pub store: Arc<dyn Store>,
    pub knowledge: Arc<LiveKnowledge>,
    pub deliver: Arc<dyn Deliver>,
    /// Chats whose members are support staff: they get the staff commands; nothing of theirs is counted.
    pub staff: Vec<i64>,
    /// The bot's username, to tell a group message addressed to the bot.
    pub username: String,
    /// Unanswered questions and counters older than this are deleted (and not shown by `/unanswered`).
    pub retention: Duration,
}

impl Session {
    /// Handles one Telegram update completely: commit, make durable, deliver. `Err` only when the store
    /// failed (nothing was shown to the user for an uncommitted state).
    pub async fn handle(&self, update: Update) -> Result<Handled, SessionError> {
        let Some(turn) = self.apply(update).await? else {
            return Ok(Handled::Ignored);
        };
        self.store.sync().await?;
        Ok(self.finish(turn).await?)
    }

    /// The first half of [`Session::handle`], for a batch that shares one [`Store::sync`] (group
    /// commit) before [`Session::finish`] delivers: classifies, answers a button press, commits.
    /// `None` for updates without a chat.
    pub async fn apply(&self, update: Update) -> Result<Option<Turn>, SessionError> {
        let Some(chat) = update.chat().map(|c| c.id.0) else {
            debug!(update = update.id.0, "update without a chat ignored");
            return Ok(None);
        };
        let incoming = classify::classify(&self.username, &update);
        if let Some(query) = classify::callback_query(&update) {
            // Every press is answered, stale or not, so the client stops its spinner.
            self.deliver.acknowledge(query).await;
        }
        let rules = Rules {
            staff: self.staff.contains(&chat),
            flood_limit: true,
        };
        let incoming = match incoming {
            // A staff command is answered before the commit, so a redelivered one is recognised first
            // and not run again (the commit then skips it as a duplicate).
            Incoming::Text { message, text }
                if rules.staff && !self.already_applied(chat, update.id.0).await? =>
            {
                self.staff_command(message, text).await
            }
            other => other,
        };
        let message = Message {
            chat,
            update: Some(i64::from(update.id.0)),
            incoming,
        };
        let kind = message.incoming.kind();
        let kb = self.knowledge.current();
        let turn = commit(&*self.store, &kb, &message, rules, crate::unix_now_ms()).await?;
        match turn.outcome {
            Outcome::Applied => info!(
                chat,
                kind,
                update = update.id.0,
                replies = turn.pending.len(),
                "handled"
            ),
            Outcome::Duplicate => debug!(chat, update = update.id.0, "already applied; skipped"),
            Outcome::Flooded => debug!(chat, kind, "flood limit: ignored"),
            Outcome::Ignored => debug!(chat, kind, "ignored"),
        }
        Ok(Some(turn))
    }

    /// The second half of [`Session::handle`], once the turn is durable: delivers its replies (or, for
    /// a redelivered update, whatever of the chat is still pending and unclaimed).
    pub async fn finish(&self, turn: Turn) -> Result<Handled, StoreError> {
        match turn.outcome {
            Outcome::Applied => {
                let delivered = deliver(&*self.store, &*self.deliver, &turn.pending).await?;
                Ok(Handled::Applied {
                    replies: turn.pending.len(),
                    delivered,
                })
            }
            Outcome::Flooded => {
                deliver(&*self.store, &*self.deliver, &turn.pending).await?;
                Ok(Handled::Flooded)
            }
            Outcome::Duplicate => {
                let pending = self
                    .store
                    .claim(Some(turn.chat), SWEEP_BATCH, crate::unix_now())
                    .await?;
                let resent = deliver(&*self.store, &*self.deliver, &pending).await?;
                Ok(Handled::Duplicate { resent })
            }
            Outcome::Ignored => Ok(Handled::Ignored),
        }
    }

    /// Delivers replies whose claim has lapsed (their committer died or gave up), in order per chat;
    /// returns how many were delivered. The maintenance task calls it at start and every few seconds.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        self.sweep_at(crate::unix_now()).await
    }

    /// [`Session::sweep`] as if the clock said `now` (Unix seconds).
    pub async fn sweep_at(&self, now: i64) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let pending = self.store.claim(None, SWEEP_BATCH, now).await?;
            if pending.is_empty() {
                return Ok(total);
            }
            let claimed = pending.len();
            let mut by_chat: Vec<(i64, Vec<Pending>)> = Vec::new();
            for p in pending {
                match by_chat.iter_mut().find(|(c, _)| *c == p.chat) {
                    Some((_, list)) => list.push(p),
                    None => by_chat.push((p.chat, vec![p])),
                }
            }
            let mut tasks = tokio::task::JoinSet::new();
            for (_, list) in by_chat {
                let (store, to) = (self.store.clone(), self.deliver.clone());
                tasks.spawn(async move { deliver(&*store, &*to, &list).await });
            }
            let mut delivered = 0;
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok(n) => delivered += n?,
                    Err(e) => warn!(error = %e, "delivering swept replies failed"),
                }
            }
            info!(delivered, "sent replies left in the outbox");
            total += delivered;
            if delivered < claimed || claimed < SWEEP_BATCH {
                return Ok(total);
            }
        }
    }

    /// Whether `chat` has applied update `update` already (a redelivery).
    async fn already_applied(&self, chat: i64, update: u32) -> Result<bool, StoreError> {
        let row = self.store.load(chat).await?;
        Ok(row.applied != 0 && i64::from(update) <= row.applied)
    }

    /// A staff chat's text: its staff command answered now (only the redacted text is read), or the
    /// text for the engine.
    async fn staff_command(&self, message: Option<i32>, text: String) -> Incoming {
        let guarded = guard(&text);
        match StaffCommand::parse(&guarded.redacted) {
            Some(command) => {
                info!(command = command.kind(), "staff command");
                let (mut replies, _) = dialogue::guard_replies(&guarded);
                replies.extend(staff::run(self, command).await.into_iter().map(Reply::Text));
                Incoming::Said { message, replies }
            }
            None => Incoming::Text { message, text },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use serde_json::json;

    use super::*;
    use crate::store::api::CLAIM_LEASE;
    use crate::store::{Chat, Counts, MemoryStore, NotHelpfulRecord, OutboxId, UnansweredRecord};

    /// Records what it delivers; refuses everything while `down`.
    #[derive(Default)]
    struct Recorder {
        sent: Mutex<Vec<(i64, Delivery)>>,
        down: AtomicBool,
    }

    impl Recorder {
        fn texts(&self, chat: i64) -> Vec<String> {
            let sent = self.sent.lock().unwrap();
            sent.iter()
                .filter(|(c, _)| *c == chat)
                .filter_map(|(_, d)| match d {
                    Delivery::Text { text } => Some(text.clone()),
                    Delivery::Choices { prompt, .. } => Some(prompt.clone()),
                    _ => None,
                })
                .collect()
        }
    }

    #[async_trait::async_trait]
    impl Deliver for Recorder {
        async fn deliver(&self, chat: i64, delivery: &Delivery) -> bool {
            if self.down.load(Ordering::SeqCst) {
                return false;
            }
            self.sent.lock().unwrap().push((chat, delivery.clone()));
            true
        }
    }

    fn session(store: Arc<dyn Store>, staff: &[i64]) -> (Session, Arc<Recorder>) {
        let recorder = Arc::new(Recorder::default());
        let kb = KnowledgeBase::embedded().expect("the embedded knowledge loads");
        let session = Session {
            store,
            knowledge: Arc::new(LiveKnowledge::fixed(kb)),
            deliver: recorder.clone(),
            staff: staff.to_vec(),
            username: "shebao_bot".into(),
            retention: Duration::from_secs(90 * 86_400),
        };
        (session, recorder)
    }

    fn text_update(id: i64, chat: i64, text: &str) -> Update {
        update(json!({
            "update_id": id,
            "message": {
                "message_id": id,
                "date": 1_750_000_000,
                "chat": {"id": chat, "type": "private", "first_name": "a"},
                "from": {"id": chat, "is_bot": false, "first_name": "a"},
                "text": text,
            }
        }))
    }

    /// A message in the staff group -100.
    fn staff_update(id: i64, text: &str) -> Update {
        update(json!({
            "update_id": id,
            "message": {
                "message_id": id,
                "date": 1_750_000_000,
                "chat": {"id": -100, "type": "group", "title": "staff"},
                "from": {"id": 7, "is_bot": false, "first_name": "wang"},
                "text": text,
            }
        }))
    }

    /// teloxide reads an update from text (from a `Value` every update is an `Error` kind).
    fn update(json: serde_json::Value) -> Update {
        serde_json::from_str(&json.to_string()).expect("a valid update")
    }

    #[tokio::test]
    async fn a_handled_update_is_committed_delivered_in_order_and_marked_sent() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (session, sent) = session(store.clone(), &[]);
        let handled = session.handle(text_update(1, 5, "/start")).await.unwrap();
        assert!(
            matches!(handled, Handled::Applied { replies, delivered } if replies == delivered && replies >= 2)
        );
        assert_eq!(sent.texts(5)[0], dialogue::texts::WELCOME);
        assert_eq!(store.backlog().await.unwrap(), 0);
        let chat = store.load(5).await.unwrap();
        assert_eq!((chat.applied, chat.version, chat.recent.len()), (1, 1, 1));
    }

    #[tokio::test]
    async fn a_redelivered_update_changes_nothing_and_sends_only_what_is_still_pending() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (session, sent) = session(store.clone(), &[]);
        session.handle(text_update(1, 5, "/start")).await.unwrap();
        let before = sent.texts(5).len();
        let again = session.handle(text_update(1, 5, "/start")).await.unwrap();
        assert_eq!(again, Handled::Duplicate { resent: 0 });
        assert_eq!(sent.texts(5).len(), before);
        assert_eq!(store.load(5).await.unwrap().version, 1);

        // Telegram was down when the next update was handled: its replies wait, claimed for the lease.
        sent.down.store(true, Ordering::SeqCst);
        let waiting = session.handle(text_update(2, 5, "/help")).await.unwrap();
        assert!(
            matches!(waiting, Handled::Applied { delivered: 0, .. }),
            "{waiting:?}"
        );
        sent.down.store(false, Ordering::SeqCst);
        let backlog = store.backlog().await.unwrap();
        assert!(backlog > 0);
        // Redelivered within the lease: still claimed by the first attempt, so nothing is sent twice.
        assert_eq!(
            session.handle(text_update(2, 5, "/help")).await.unwrap(),
            Handled::Duplicate { resent: 0 }
        );
        // After the lease the sweeper sends them, in order, once.
        let later = crate::unix_now() + CLAIM_LEASE.as_secs() as i64 + 1;
        assert_eq!(session.sweep_at(later).await.unwrap() as u64, backlog);
        assert_eq!(store.backlog().await.unwrap(), 0);
        assert_eq!(sent.texts(5)[before], dialogue::texts::HELP);
        assert_eq!(session.sweep_at(later).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn the_flood_limit_lives_in_the_chat_row_so_two_sessions_share_it() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (a, sent_a) = session(store.clone(), &[]);
        let (b, sent_b) = session(store.clone(), &[]);
        let mut outcomes = Vec::new();
        for id in 1..=(FLOOD_LIMIT as i64 + 5) {
            // Alternate replicas, as a load balancer would.
            let replica = if id % 2 == 0 { &a } else { &b };
            outcomes.push(replica.handle(text_update(id, 7, "/help")).await.unwrap());
        }
        let flooded = outcomes.iter().filter(|o| **o == Handled::Flooded).count();
        assert_eq!(flooded, 5);
        let notices: usize = [&sent_a, &sent_b]
            .iter()
            .map(|s| s.texts(7).iter().filter(|t| *t == FLOOD_NOTICE).count())
            .sum();
        assert_eq!(notices, 1, "one notice for the whole flood");
        assert_eq!(store.load(7).await.unwrap().applied, FLOOD_LIMIT as i64 + 5);
    }

    #[test]
    fn the_flood_window_forgets_old_messages_and_keeps_a_bounded_list() {
        let second = 1000;
        let full: Vec<i64> = (0..FLOOD_LIMIT as i64).map(|i| i * 10).collect();
        assert_eq!(
            flood(&full, 500).1,
            Some(true),
            "the first over the limit gets the notice"
        );
        let (kept, verdict) = flood(&full, FLOOD_WINDOW.as_millis() as i64 + 1 + 10);
        assert_eq!(verdict, None, "the oldest two fell out of the window");
        assert_eq!(kept.len(), FLOOD_LIMIT - 1);
        let many: Vec<i64> = vec![5 * second; 3 * FLOOD_LIMIT];
        let (kept, verdict) = flood(&many, 6 * second);
        assert_eq!(verdict, Some(false), "later ones are ignored quietly");
        assert_eq!(kept.len(), FLOOD_KEPT);
    }

    /// A store where another writer changes the chat just before the session's first commit.
    struct Racing {
        inner: MemoryStore,
        raced: AtomicBool,
    }

    #[async_trait::async_trait]
    impl Store for Racing {
        fn describe(&self) -> String {
            "racing".into()
        }
        async fn load(&self, chat: i64) -> Result<Chat, StoreError> {
            self.inner.load(chat).await
        }
        async fn commit(&self, commit: Commit) -> Result<Committed, StoreError> {
            if !self.raced.swap(true, Ordering::SeqCst) {
                let row = self.inner.load(commit.chat).await?;
                let rival = Commit {
                    update: None,
                    state: Some(State {
                        menu: 40,
                        ..row.state
                    }),
                    outbox: Vec::new(),
                    records: Vec::new(),
                    ..commit.clone()
                };
                assert!(matches!(
                    self.inner.commit(rival).await?,
                    Committed::Applied(_)
                ));
            }
            self.inner.commit(commit).await
        }
        async fn sync(&self) -> Result<(), StoreError> {
            self.inner.sync().await
        }
        async fn claim(
            &self,
            c: Option<i64>,
            l: usize,
            n: i64,
        ) -> Result<Vec<Pending>, StoreError> {
            self.inner.claim(c, l, n).await
        }
        async fn mark_sent(&self, ids: &[OutboxId]) -> Result<(), StoreError> {
            self.inner.mark_sent(ids).await
        }
        async fn backlog(&self) -> Result<u64, StoreError> {
            self.inner.backlog().await
        }
        async fn unanswered(&self, s: i64) -> Result<Vec<UnansweredRecord>, StoreError> {
            self.inner.unanswered(s).await
        }
        async fn not_helpful(&self, s: i64) -> Result<Vec<NotHelpfulRecord>, StoreError> {
            self.inner.not_helpful(s).await
        }
        async fn counts(&self, s: i64) -> Result<Counts, StoreError> {
            self.inner.counts(s).await
        }
        async fn active_chats(&self, s: i64, e: &[i64]) -> Result<usize, StoreError> {
            self.inner.active_chats(s, e).await
        }
        async fn prune(&self, b: i64) -> Result<usize, StoreError> {
            self.inner.prune(b).await
        }
        async fn ping(&self) -> Result<(), StoreError> {
            self.inner.ping().await
        }
    }

    #[tokio::test]
    async fn a_lost_race_for_the_chat_steps_again_on_the_fresh_row() {
        let store: Arc<dyn Store> = Arc::new(Racing {
            inner: MemoryStore::new(),
            raced: AtomicBool::new(false),
        });
        let (session, sent) = session(store.clone(), &[]);
        let handled = session.handle(text_update(3, 9, "/start")).await.unwrap();
        assert!(matches!(handled, Handled::Applied { .. }));
        let chat = store.load(9).await.unwrap();
        assert_eq!(chat.version, 2, "the rival's commit, then the session's");
        assert!(
            chat.state.menu > 40,
            "stepped on the rival's state: {}",
            chat.state.menu
        );
        assert_eq!(sent.texts(9)[0], dialogue::texts::WELCOME, "replied once");
        assert_eq!(
            sent.texts(9)
                .iter()
                .filter(|t| *t == dialogue::texts::WELCOME)
                .count(),
            1
        );
    }

    #[tokio::test]
    async fn a_redelivered_staff_command_is_not_run_again() {
        let dir = tempfile::tempdir().unwrap();
        for file in &crate::knowledge::Source::embedded().files {
            std::fs::write(dir.path().join(file.name), &file.text).unwrap();
        }
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (mut session, _) = session(store.clone(), &[-100]);
        session.knowledge = Arc::new(LiveKnowledge::open(Some(dir.path())).unwrap());
        let before = session.knowledge.current();
        let first = session.handle(staff_update(1, "/reload")).await.unwrap();
        assert!(matches!(first, Handled::Applied { .. }), "{first:?}");
        // An editor adds a question; the same `/reload` update arrives again (Telegram redelivers).
        let faq = dir.path().join("faq.yaml");
        let text = std::fs::read_to_string(&faq).unwrap().replacen(
            "    questions:\n",
            "    questions:\n      - 一个新加的问法\n",
            1,
        );
        std::fs::write(&faq, text).unwrap();
        let again = session.handle(staff_update(1, "/reload")).await.unwrap();
        assert_eq!(again, Handled::Duplicate { resent: 0 });
        assert!(
            Arc::ptr_eq(&before, &session.knowledge.current()),
            "the redelivered /reload reloaded the knowledge"
        );
        // A new /reload does reload.
        session.handle(staff_update(2, "/reload")).await.unwrap();
        assert!(!Arc::ptr_eq(&before, &session.knowledge.current()));
    }

    #[tokio::test]
    async fn staff_chats_keep_no_records_and_citizens_do() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let (session, _) = session(store.clone(), &[-100]);
        let asked = session
            .handle(staff_update(1, "@shebao_bot 密码忘了怎么办"))
            .await
            .unwrap();
        assert!(
            matches!(asked, Handled::Applied { replies, .. } if replies > 0),
            "{asked:?}"
        );
        assert_eq!(store.counts(0).await.unwrap(), Counts::default());
        session
            .handle(text_update(2, 8, "密码忘了怎么办"))
            .await
            .unwrap();
        assert_eq!(store.counts(0).await.unwrap().answered, 1);
    }
}
