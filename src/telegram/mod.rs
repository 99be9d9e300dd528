//! The Telegram adapter: bot setup here; [`poll`] gets updates, [`classify`] reads them, the session
//! ([`crate::session`]) steps and commits them, [`deliver`] turns the outbox into Bot API calls.
//!
//! Polling is our own loop rather than teloxide's dispatcher, because teloxide's polling confirms an
//! update (moves the offset) before its handler has finished: an update in flight at a kill would never
//! come back. Here a batch of updates is committed — and made durable with one sync (group commit) —
//! before any of its replies is sent, and delivered before the next `getUpdates` confirms it. A kill at
//! any point therefore loses nothing: an update not yet committed comes again; one committed comes again
//! too but is skipped as already applied, and its replies wait in the outbox until the sweeper
//! ([`crate::maintenance`]) sends them after restart.
//!
//! Updates of one chat are handled in order; different chats run concurrently. Every outgoing call goes
//! through teloxide's `Throttle` (Telegram's limits: about 30 messages a second overall and one a second
//! per chat) and is retried on 429 `retry_after`, network errors and 5xx answers.
//!
//! The knowledge is [`LiveKnowledge`]: each update is answered by the version live when it is handled.
//! Reload requests ([`Trigger`]: SIGHUP, a changed file, debounced) are served by a task of their own;
//! the outcome goes to the log and to the staff chats, and a refused edit leaves the last good version
//! live. Staff chats (`--staff`) also have the commands of [`staff`].

pub mod classify;
pub mod deliver;
mod keyboard;
mod poll;
mod reload;
mod send;
pub mod staff;
pub mod webhook;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use teloxide::adaptors::Throttle;
use teloxide::adaptors::throttle::Limits;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, ChatId};
use tracing::{info, warn};

use crate::dialogue::Command;
use crate::live::LiveKnowledge;
use crate::session::Session;
use crate::store::Store;

pub use crate::session::{FLOOD_LIMIT, FLOOD_WINDOW};
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

impl Config {
    /// The bot client `config` describes: throttled to Telegram's limits unless told otherwise.
    pub fn bot(&self) -> TgBot {
        let mut raw = Bot::new(self.token.clone());
        if let Some(url) = &self.api_url {
            raw = raw.set_api_url(url.clone());
        }
        match self.limits {
            Some(limits) => TgBot::Throttled(raw.throttle(limits)),
            None => TgBot::Direct(raw),
        }
    }
}

/// Connects to Telegram (retrying while it is unreachable; a rejected token is an error), registers
/// the command menus, and returns the session every way of receiving updates (polling, webhook) hands
/// them to. `None` when `shutdown` completed first.
pub async fn connect(
    config: &Config,
    knowledge: Arc<LiveKnowledge>,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<Option<Arc<Session>>> {
    let bot = config.bot();
    let me = tokio::select! {
        _ = shutdown => return Ok(None),
        me = get_me(&bot) => me?,
    };
    let username = me.username.clone().unwrap_or_default();
    info!(bot = %username, "connected to Telegram");
    register_commands(&bot, &config.staff).await;
    Ok(Some(Arc::new(Session {
        store,
        knowledge,
        deliver: Arc::new(deliver::Telegram { bot }),
        staff: config.staff.clone(),
        username,
        retention: config.retention,
    })))
}

/// Runs the bot by long polling until `shutdown` completes: stops polling, finishes the updates in
/// flight, syncs the store. `triggers` asks for the knowledge to be reloaded (the sender side is the
/// caller's: a signal handler, a file watcher, a test).
pub async fn run(
    config: Config,
    knowledge: Arc<LiveKnowledge>,
    store: Arc<dyn Store>,
    triggers: tokio::sync::mpsc::Receiver<Trigger>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(shutdown);
    let Some(session) = connect(&config, knowledge, store.clone(), &mut shutdown).await? else {
        return Ok(());
    };
    let background = Background::start(&config, &session, triggers);
    poll::run(&config.bot(), &session, config.poll_timeout, &mut shutdown).await;
    background.stop().await;
    store.sync().await?;
    info!("stopped");
    Ok(())
}

/// The tasks a running bot has beside receiving updates: reloads (reported to the staff chats) and
/// maintenance (the outbox sweeper, pruning). Polling and webhook mode both start them.
pub struct Background {
    reloads: tokio::task::JoinHandle<()>,
    maintenance: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Background {
    /// Starts serving `triggers` and the maintenance of `session`'s store.
    pub fn start(
        config: &Config,
        session: &Arc<Session>,
        triggers: tokio::sync::mpsc::Receiver<Trigger>,
    ) -> Background {
        let reloads = tokio::spawn(reload::serve(
            config.bot(),
            session.knowledge.clone(),
            config.staff.clone(),
            session.store.clone(),
            triggers,
        ));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let maintenance = tokio::spawn(crate::maintenance::run(
            session.clone(),
            config.retention,
            stopped,
        ));
        Background {
            reloads,
            maintenance,
            stop,
        }
    }

    /// Stops both; a sweep or prune in progress finishes first.
    pub async fn stop(self) {
        self.reloads.abort();
        let _ = self.stop.send(true);
        let _ = self.maintenance.await;
    }
}

/// The citizens' command menu for everyone, with the staff commands added in staff chats.
async fn register_commands(bot: &TgBot, staff: &[i64]) {
    let commands: Vec<BotCommand> = Command::ALL
        .iter()
        .map(|(_, name, description)| BotCommand::new(*name, *description))
        .collect();
    if let Err(e) = retry("setMyCommands", || {
        call!(bot, |b| b.set_my_commands(commands.clone()))
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
    for &chat in staff {
        let scope = teloxide::types::BotCommandScope::Chat {
            chat_id: teloxide::types::Recipient::Id(ChatId(chat)),
        };
        if let Err(e) = retry("setMyCommands", || {
            call!(bot, |b| b
                .set_my_commands(staff_commands.clone())
                .scope(scope.clone()))
        })
        .await
        {
            warn!(chat, error = %e, "could not register the staff command menu");
        }
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
