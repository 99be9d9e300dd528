//! The Telegram adapter: turns updates into engine inputs and replies into Bot API calls, durably.
//!
//! Polling is our own loop rather than teloxide's dispatcher, because teloxide's polling confirms an
//! update (moves the offset) before its handler has finished: an update in flight at a kill would never
//! come back. Here a batch of updates is handled completely — state flushed to sled, replies sent — before
//! the next `getUpdates` confirms it. A kill at any point therefore means the batch is delivered again,
//! and each chat's state remembers the last update it applied, so a redelivered update is skipped rather
//! than advancing a flow twice. A batch shares one flush to disk (group commit) before any of its replies
//! is sent. (What a kill can lose: replies of the interrupted batch that were not yet sent are not sent
//! again, because its state changes are already stored; the user sees the next step when they press the
//! latest button or type again.)
//!
//! Updates of one chat are handled in order; different chats run concurrently. Every outgoing call goes
//! through teloxide's `Throttle` (Telegram's limits: about 30 messages a second overall and one a second
//! per chat) and is retried on 429 `retry_after`, network errors and 5xx answers.
//!
//! The knowledge is [`LiveKnowledge`]: each update is answered by the version live when it is handled.
//! Reload requests ([`Trigger`]: SIGHUP, a changed file, debounced) are served by a task of their own;
//! the outcome goes to the log and to the staff chats, and a refused edit leaves the last good version
//! live. Staff chats (`--staff`) also have the commands of [`staff`].

mod keyboard;
mod reload;
mod send;
pub mod staff;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Limits;
use teloxide::dispatching::dialogue::Storage;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, ChatId, MessageId, UpdateKind};
use tracing::{debug, info, warn};

use crate::dialogue::{self, Command, Input, Record, Reply};
use crate::live::LiveKnowledge;
use crate::store::Store;
use crate::text::guard::guard;
use staff::StaffCommand;

pub use keyboard::{callback_data, parse_callback};
pub use reload::{DEBOUNCE, Trigger};
use send::retry;

/// What the bot calls Telegram with: the Bot, throttled to Telegram's limits unless told otherwise
/// (teloxide's `Throttle` checks its queue every 250 ms, which a local stand-in or load test need not pay).
#[derive(Clone)]
pub enum TgBot {
    Throttled(Throttle<Bot>),
    Direct(Bot),
}

/// Makes the same request with whichever bot `$bot` holds, as one boxed future type.
macro_rules! call {
    ($bot:expr, |$b:ident| $request:expr) => {
        match $bot {
            $crate::telegram::TgBot::Throttled($b) => {
                Box::pin($request.send()) as futures::future::BoxFuture<'static, _>
            }
            $crate::telegram::TgBot::Direct($b) => Box::pin($request.send()),
        }
    };
}
pub(crate) use call;

/// How to reach Telegram.
#[derive(Debug, Clone)]
pub struct Config {
    pub token: String,
    /// Bot API base (a local Bot API server, or a test stand-in); Telegram's own when `None`.
    pub api_url: Option<url::Url>,
    /// Long-polling timeout in seconds.
    pub poll_timeout: u32,
    /// Telegram's rate limits; `None` sends without waiting.
    pub limits: Option<Limits>,
    /// Chats whose members are support staff: they get the staff commands and reload reports.
    pub staff: Vec<i64>,
    /// Unanswered questions and counters older than this are deleted.
    pub retention: Duration,
}

/// Unanswered questions and counters are kept this long unless configured otherwise.
pub const DEFAULT_RETENTION_DAYS: u64 = 90;
/// How often old records are pruned while the bot runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

impl Config {
    /// Telegram's published limits and a 10-second long poll (teloxide's HTTP client gives up on a
    /// request after 17 seconds, so a longer poll would fail every time the chats are quiet).
    pub fn new(token: String, api_url: Option<url::Url>) -> Config {
        Config {
            token,
            api_url,
            poll_timeout: 10,
            limits: Some(Limits::default()),
            staff: Vec::new(),
            retention: Duration::from_secs(DEFAULT_RETENTION_DAYS * 86_400),
        }
    }

    /// No rate limits (for tests and load measurements against a local stand-in).
    pub fn unthrottled(mut self) -> Config {
        self.limits = None;
        self
    }
}

/// Errors that stop the bot from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "Telegram rejected the bot token ({0}); check TELOXIDE_TOKEN (get a token from @BotFather)"
    )]
    TokenRejected(String),
}

/// Messages per chat allowed within [`FLOOD_WINDOW`] before the bot stops answering that chat.
pub const FLOOD_LIMIT: usize = 20;
pub const FLOOD_WINDOW: Duration = Duration::from_secs(10);
const FLOOD_NOTICE: &str = "您发得太快了，我先歇一下。过十几秒再发消息，我会接着回答您。";
const PLEASE_TYPE: &str = "我只能看懂文字。请直接打字提问，比如「密码忘了怎么办」。";

/// Per-chat message times, for the flood limit.
#[derive(Default)]
struct Flood {
    times: VecDeque<Instant>,
    noticed: bool,
}

/// Everything a handler needs.
struct Ctx {
    bot: TgBot,
    knowledge: Arc<LiveKnowledge>,
    store: Arc<Store>,
    username: String,
    flood: Mutex<HashMap<i64, Flood>>,
    staff: Vec<i64>,
    retention: Duration,
}

impl Ctx {
    fn is_staff(&self, chat: ChatId) -> bool {
        self.staff.contains(&chat.0)
    }
}

/// Runs the bot until `shutdown` completes: stops polling, finishes the updates in flight, flushes.
/// `triggers` asks for the knowledge to be reloaded (the sender side is the caller's: a signal handler,
/// a file watcher, a test).
pub async fn run(
    config: Config,
    knowledge: Arc<LiveKnowledge>,
    store: Arc<Store>,
    triggers: tokio::sync::mpsc::Receiver<Trigger>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut raw = Bot::new(config.token.clone());
    if let Some(url) = &config.api_url {
        raw = raw.set_api_url(url.clone());
    }
    let bot = match config.limits {
        Some(limits) => TgBot::Throttled(raw.throttle(limits)),
        None => TgBot::Direct(raw),
    };
    tokio::pin!(shutdown);

    let me = tokio::select! {
        _ = &mut shutdown => return Ok(()),
        me = get_me(&bot) => me?,
    };
    let username = me.username.clone().unwrap_or_default();
    info!(bot = %username, "connected to Telegram");
    let commands: Vec<BotCommand> = Command::ALL
        .iter()
        .map(|(_, name, description)| BotCommand::new(*name, *description))
        .collect();
    if let Err(e) = retry("setMyCommands", || {
        call!(&bot, |b| b.set_my_commands(commands.clone()))
    })
    .await
    {
        warn!(error = %e, "could not register the command menu");
    }
    // Staff chats see their commands in the menu too; nobody else does.
    let staff_commands: Vec<BotCommand> = commands
        .iter()
        .cloned()
        .chain(
            staff::MENU
                .iter()
                .map(|(name, description)| BotCommand::new(*name, *description)),
        )
        .collect();
    for &chat in &config.staff {
        let scope = teloxide::types::BotCommandScope::Chat {
            chat_id: teloxide::types::Recipient::Id(ChatId(chat)),
        };
        if let Err(e) = retry("setMyCommands", || {
            call!(&bot, |b| b
                .set_my_commands(staff_commands.clone())
                .scope(scope.clone()))
        })
        .await
        {
            warn!(chat, error = %e, "could not register the staff command menu");
        }
    }

    let ctx = Arc::new(Ctx {
        bot: bot.clone(),
        knowledge,
        store: store.clone(),
        username,
        flood: Mutex::new(HashMap::new()),
        staff: config.staff.clone(),
        retention: config.retention,
    });
    let reloads = tokio::spawn(reload::serve(ctx.clone(), triggers));
    let mut offset: i32 = 0;
    let mut backoff = Duration::from_millis(500);
    let mut next_prune = Instant::now();
    loop {
        if Instant::now() >= next_prune {
            prune(&ctx).await;
            next_prune = Instant::now() + PRUNE_EVERY;
        }
        let request = call!(&bot, |b| b
            .get_updates()
            .offset(offset)
            .timeout(config.poll_timeout));
        let updates = tokio::select! {
            _ = &mut shutdown => break,
            updates = request => updates,
        };
        let updates = match updates {
            Ok(updates) => {
                backoff = Duration::from_millis(500);
                updates
            }
            Err(e) => {
                warn!(error = %e, delay_ms = backoff.as_millis() as u64, "getUpdates failed; retrying");
                let wait = match &e {
                    teloxide::RequestError::RetryAfter(s) => s.duration(),
                    _ => backoff,
                };
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(wait) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let Some(last) = updates.iter().map(|u| u.id.0).max() else {
            continue;
        };
        handle_batch(&ctx, updates).await;
        offset = last as i32 + 1;
    }
    reloads.abort();
    // Confirm the last batch so Telegram does not send it again, without waiting for new updates.
    if offset > 0 {
        let _ = call!(&bot, |b| b.get_updates().offset(offset).timeout(0).limit(1)).await;
    }
    store.flush().await?;
    info!("stopped");
    Ok(())
}

/// Deletes unanswered questions and counters older than the retention period.
async fn prune(ctx: &Arc<Ctx>) {
    let store = ctx.store.clone();
    let before = crate::unix_now() - ctx.retention.as_secs() as i64;
    match tokio::task::spawn_blocking(move || store.prune(before)).await {
        Ok(Ok(removed)) => info!(removed, "pruned records older than the retention period"),
        Ok(Err(e)) => warn!(error = %e, "could not prune old records"),
        Err(e) => warn!(error = %e, "pruning failed"),
    }
}

/// Asks Telegram who we are, retrying while it is unreachable; a rejected token is an error.
async fn get_me(bot: &TgBot) -> Result<teloxide::types::Me, StartError> {
    let mut delay = Duration::from_millis(500);
    loop {
        match call!(bot, |b| b.get_me()).await {
            Ok(me) => return Ok(me),
            Err(teloxide::RequestError::Api(e)) if send::is_token_error(&e) => {
                return Err(StartError::TokenRejected(e.to_string()));
            }
            Err(e) => {
                warn!(error = %e, delay_ms = delay.as_millis() as u64, "Telegram unreachable; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
}

/// Handles a batch: each chat's updates in order, chats concurrently; returns when all are done.
async fn handle_batch(ctx: &Arc<Ctx>, updates: Vec<Update>) {
    let mut by_chat: Vec<(i64, Vec<Update>)> = Vec::new();
    for update in updates {
        let chat = update.chat().map_or(0, |c| c.id.0);
        match by_chat.iter_mut().find(|(c, _)| *c == chat) {
            Some((_, list)) => list.push(update),
            None => by_chat.push((chat, vec![update])),
        }
    }
    // 1. Every chat steps through its updates; states are written but not yet flushed.
    let mut tasks = tokio::task::JoinSet::new();
    for (_, list) in by_chat {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let mut outgoing = Vec::new();
            for update in list {
                outgoing.extend(handle_update(&ctx, update).await);
            }
            outgoing
        });
    }
    let mut ready: Vec<Vec<Outgoing>> = Vec::new();
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(outgoing) if !outgoing.is_empty() => ready.push(outgoing),
            Ok(_) => {}
            Err(e) => warn!(error = %e, "an update handler failed"),
        }
    }
    // 2. One flush for the whole batch (group commit): every state is durable before any reply is sent.
    if let Err(e) = ctx.store.flush().await {
        warn!(error = %e, "could not flush the states; replies not sent");
        for chat in ready.iter().filter_map(|o| o.first()).map(|o| o.chat) {
            send::text(&ctx.bot, chat, dialogue::texts::INTERNAL_ERROR).await;
        }
        return;
    }
    // 3. Replies, each chat's in order, chats concurrently.
    let mut sends = tokio::task::JoinSet::new();
    for outgoing in ready {
        let ctx = ctx.clone();
        sends.spawn(async move {
            for o in outgoing {
                deliver(&ctx, o).await;
            }
        });
    }
    while let Some(result) = sends.join_next().await {
        if let Err(e) = result {
            warn!(error = %e, "sending replies failed");
        }
    }
}

/// The replies of one handled update, waiting for the batch's flush.
struct Outgoing {
    chat: ChatId,
    replies: Vec<Reply>,
    /// The user's message, for a deletion.
    user_message: Option<MessageId>,
}

async fn deliver(ctx: &Ctx, o: Outgoing) {
    let chat = o.chat;
    for reply in &o.replies {
        match reply {
            Reply::Text(text) => send::text(&ctx.bot, chat, text).await,
            Reply::Choices {
                prompt,
                menu,
                options,
            } => send::choices(&ctx.bot, chat, prompt, *menu, options).await,
            Reply::DeleteUserMessage => {
                if let Some(m) = o.user_message
                    && !send::delete(&ctx.bot, chat, m).await
                {
                    send::text(&ctx.bot, chat, dialogue::texts::DELETE_IT_YOURSELF).await;
                }
            }
            Reply::ForgetChat | Reply::Record(_) => {}
        }
    }
}

/// What an update asks of the engine, once classified.
enum Incoming {
    Text {
        message: MessageId,
        text: String,
    },
    Button {
        query: teloxide::types::CallbackQueryId,
        message: Option<MessageId>,
        data: String,
    },
    NotText,
    /// A group message that neither is a command nor mentions the bot: only guarded.
    GroupText {
        message: MessageId,
        text: String,
    },
    /// An edited message: only guarded.
    Edited {
        message: MessageId,
        text: String,
    },
    Ignored,
}

/// Handles one update up to the point of replying: the new state is written (not yet flushed) and the
/// replies are returned for [`handle_batch`] to send after the flush. Immediate side effects that do not
/// depend on the state (answering a button press, removing old buttons, warnings outside the engine)
/// happen here.
async fn handle_update(ctx: &Ctx, update: Update) -> Option<Outgoing> {
    let Some(chat) = update.chat().map(|c| c.id) else {
        debug!(update = update.id.0, "update without a chat ignored");
        return None;
    };
    let incoming = classify(ctx, &update);
    let kind = match &incoming {
        Incoming::Text { .. } => "text",
        Incoming::Button { .. } => "button",
        Incoming::NotText => "not_text",
        Incoming::GroupText { .. } => "group_text",
        Incoming::Edited { .. } => "edited",
        Incoming::Ignored => "ignored",
    };
    if let Incoming::Button { query, .. } = &incoming {
        // Every press is answered, stale or not, so the client stops its spinner.
        let query = query.clone();
        if let Err(e) = retry("answerCallbackQuery", || {
            call!(&ctx.bot, |b| b.answer_callback_query(query.clone()))
        })
        .await
        {
            warn!(chat = chat.0, error = %e, "answerCallbackQuery failed");
        }
    }
    if flooded(ctx, chat).await {
        debug!(chat = chat.0, kind, "flood limit: ignored");
        return None;
    }
    let input = match incoming {
        Incoming::Ignored => return None,
        // Even replies that change no state wait for the batch's flush, so a chat's replies keep the
        // order of its messages.
        Incoming::NotText => {
            return Some(Outgoing {
                chat,
                replies: vec![Reply::Text(PLEASE_TYPE.to_string())],
                user_message: None,
            });
        }
        Incoming::GroupText { message, text } | Incoming::Edited { message, text } => {
            return guard_only(ctx, chat, message, &text);
        }
        Incoming::Text { message, text } if ctx.is_staff(chat) => {
            // The guard still comes first: only the redacted text is read as a staff command.
            let guarded = guard(&text);
            match StaffCommand::parse(&guarded.redacted) {
                Some(command) => {
                    // Staff chats are not counted: the guard's replies without its record.
                    let mut replies: Vec<Reply> = dialogue::guard_replies(&guarded)
                        .into_iter()
                        .filter(|r| !matches!(r, Reply::Record(_)))
                        .collect();
                    info!(
                        chat = chat.0,
                        command = staff_kind(&command),
                        "staff command"
                    );
                    replies.extend(staff::run(ctx, command).await.into_iter().map(Reply::Text));
                    return Some(Outgoing {
                        chat,
                        replies,
                        user_message: Some(message),
                    });
                }
                None => (Input::Text(text), Some(message)),
            }
        }
        Incoming::Text { message, text } => (Input::Text(text), Some(message)),
        Incoming::Button { message, data, .. } => match parse_callback(&data) {
            Some((menu, index)) => {
                if let Some(m) = message {
                    send::remove_keyboard(&ctx.bot, chat, m).await;
                }
                (Input::Choice { menu, index }, None)
            }
            None => return None,
        },
    };
    let (input, user_message) = input;
    let state = match ctx.store.clone().get_dialogue(chat).await {
        Ok(state) => state.unwrap_or_default(),
        Err(e) => {
            warn!(chat = chat.0, error = %e, "could not read the state");
            send::text(&ctx.bot, chat, dialogue::texts::INTERNAL_ERROR).await;
            return None;
        }
    };
    let update_id = i64::from(update.id.0);
    if state.last_update >= update_id && state.last_update != 0 {
        debug!(
            chat = chat.0,
            update = update_id,
            "already applied; skipped"
        );
        return None;
    }
    let now = crate::unix_now();
    let (mut state, replies) = dialogue::step(&ctx.knowledge.current(), state, input, now);
    state.last_update = update_id;
    let stored = if replies.contains(&Reply::ForgetChat) {
        ctx.store.forget(chat.0)
    } else {
        ctx.store.put(chat.0, &state)
    };
    if let Err(e) = stored {
        warn!(chat = chat.0, error = %e, "could not store the state; replies not sent");
        send::text(&ctx.bot, chat, dialogue::texts::INTERNAL_ERROR).await;
        return None;
    }
    // The staff's records are worth less than the citizen's reply: a failure is only logged.
    if let Err(e) = keep_records(ctx, chat, &replies, now) {
        warn!(chat = chat.0, error = %e, "could not keep the records for the staff");
    }
    info!(
        chat = chat.0,
        kind,
        update = update_id,
        replies = replies.len(),
        "handled"
    );
    Some(Outgoing {
        chat,
        replies,
        user_message,
    })
}

/// Stores what the engine recorded for the staff, except in the staff's own chats.
fn keep_records(
    ctx: &Ctx,
    chat: ChatId,
    replies: &[Reply],
    now: i64,
) -> Result<(), crate::store::StoreError> {
    if ctx.is_staff(chat) {
        return Ok(());
    }
    for reply in replies {
        if let Reply::Record(record) = reply {
            ctx.store.record(record, now)?;
        }
    }
    Ok(())
}

/// The name of a staff command, for the log (never its argument).
fn staff_kind(command: &StaffCommand) -> &'static str {
    match command {
        StaffCommand::Why(_) => "why",
        StaffCommand::Unanswered(_) => "unanswered",
        StaffCommand::Reload => "reload",
        StaffCommand::Stats => "stats",
    }
}

/// Guards a message the engine does not otherwise see (group chatter, edits): the deletion and warning to send.
fn guard_only(ctx: &Ctx, chat: ChatId, message: MessageId, text: &str) -> Option<Outgoing> {
    // Nothing of this text is kept, so only a likely secret is worth acting on (and deleting).
    let guarded = guard(text);
    if !guarded.must_delete() {
        return None;
    }
    info!(
        chat = chat.0,
        secrets = guarded.secrets.len(),
        "secret in a message; deleting"
    );
    let record = [Reply::Record(Record::SecretIntercepted)];
    if let Err(e) = keep_records(ctx, chat, &record, crate::unix_now()) {
        warn!(chat = chat.0, error = %e, "could not count an intercepted secret");
    }
    Some(Outgoing {
        chat,
        replies: vec![
            Reply::DeleteUserMessage,
            Reply::Text(dialogue::texts::secret_warning(&guarded.secrets)),
        ],
        user_message: Some(message),
    })
}

fn classify(ctx: &Ctx, update: &Update) -> Incoming {
    match &update.kind {
        UpdateKind::Message(m) => {
            let private = m.chat.is_private();
            match m.text() {
                Some(text) if private => Incoming::Text {
                    message: m.id,
                    text: text.to_string(),
                },
                Some(text) => {
                    let mention = format!("@{}", ctx.username);
                    let addressed = text.starts_with('/')
                        || (!ctx.username.is_empty() && text.contains(&mention));
                    if addressed && guard(text).is_clean() {
                        let text = text.replace(&mention, " ").trim().to_string();
                        Incoming::Text {
                            message: m.id,
                            text,
                        }
                    } else if addressed {
                        // A secret in an addressed group message: the engine deletes and warns.
                        Incoming::Text {
                            message: m.id,
                            text: text.to_string(),
                        }
                    } else {
                        Incoming::GroupText {
                            message: m.id,
                            text: text.to_string(),
                        }
                    }
                }
                None if private => Incoming::NotText,
                None => Incoming::Ignored,
            }
        }
        UpdateKind::EditedMessage(m) => match m.text() {
            Some(text) => Incoming::Edited {
                message: m.id,
                text: text.to_string(),
            },
            None => Incoming::Ignored,
        },
        UpdateKind::CallbackQuery(q) => Incoming::Button {
            query: q.id.clone(),
            message: q.message.as_ref().map(|m| m.id()),
            data: q.data.clone().unwrap_or_default(),
        },
        _ => Incoming::Ignored,
    }
}

/// Counts a message against the chat's flood limit; true when it must be ignored. The first message over
/// the limit gets one polite notice.
async fn flooded(ctx: &Ctx, chat: ChatId) -> bool {
    let notice = {
        let mut flood = ctx.flood.lock().expect("flood map lock");
        let entry = flood.entry(chat.0).or_default();
        let now = Instant::now();
        while entry
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) > FLOOD_WINDOW)
        {
            entry.times.pop_front();
        }
        entry.times.push_back(now);
        if entry.times.len() <= FLOOD_LIMIT {
            entry.noticed = false;
            return false;
        }
        !std::mem::replace(&mut entry.noticed, true)
    };
    if notice {
        send::text(&ctx.bot, chat, FLOOD_NOTICE).await;
    }
    true
}
