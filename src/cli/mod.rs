//! The subcommands, one module each; `main.rs` parses arguments and calls into them.

pub mod ask;
pub mod chat;
pub mod check;
pub mod console;
pub mod eval;
pub mod knowledge;
pub mod run;
pub mod unanswered;
pub mod webhook;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::knowledge::{KnowledgeBase, Source};
use crate::store::{Store, StoreError};

/// Opens the store at `url` for a command-line tool (see [`crate::store::open`]); with `existing`, a
/// store that does not exist yet is an error instead of created.
pub fn open_store(url: &str, existing: bool) -> Result<Arc<dyn Store>, StoreError> {
    let runtime = runtime().map_err(|e| StoreError::Sled(e.into()))?;
    runtime.block_on(async {
        if existing {
            crate::store::open_existing(url).await
        } else {
            crate::store::open(url).await
        }
    })
}

/// The one async runtime of a command-line tool. A store is opened and used on the same runtime: a
/// PostgreSQL pool belongs to the runtime it was made on and fails once that runtime is gone. One worker,
/// so `block_on` may be called from several threads (tests do).
pub fn runtime() -> std::io::Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // Another thread may have won the race: its runtime is used, this one dropped.
    Ok(RUNTIME.get_or_init(|| built))
}

/// Reads the knowledge from `dir`, or the copy embedded in the binary when `dir` is `None`.
pub fn source(dir: Option<&Path>) -> anyhow::Result<Source> {
    match dir {
        Some(dir) => Source::from_dir(dir)
            .with_context(|| format!("reading knowledge from {}", dir.display())),
        None => Ok(Source::embedded()),
    }
}

/// Loads and validates the knowledge; every problem is listed in the error.
pub fn load(dir: Option<&Path>) -> anyhow::Result<KnowledgeBase> {
    let source = source(dir)?;
    KnowledgeBase::load(&source)
        .with_context(|| format!("loading knowledge from {}", source.origin))
}

/// The bot token (`TELOXIDE_TOKEN`) and Bot API base (`TELOXIDE_API_URL`, Telegram's own when unset);
/// `None`, after a one-line hint on stderr, when the token is missing (the caller exits with status 2).
pub fn telegram_env() -> anyhow::Result<Option<(String, Option<url::Url>)>> {
    let token = match std::env::var("TELOXIDE_TOKEN") {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            eprintln!(
                "error: TELOXIDE_TOKEN is not set; create a bot with @BotFather and run: TELOXIDE_TOKEN=123456:ABC... shebao run"
            );
            return Ok(None);
        }
    };
    let api_url = match std::env::var("TELOXIDE_API_URL") {
        Ok(url) if !url.trim().is_empty() => Some(
            url.trim()
                .parse::<url::Url>()
                .with_context(|| format!("TELOXIDE_API_URL is not a URL: {url}"))?,
        ),
        _ => None,
    };
    Ok(Some((token, api_url)))
}

/// A teloxide bot from [`telegram_env`].
pub fn bot_from_env() -> anyhow::Result<Option<teloxide::Bot>> {
    Ok(telegram_env()?.map(|(token, api_url)| {
        let bot = teloxide::Bot::new(token);
        match api_url {
            Some(url) => bot.set_api_url(url),
            None => bot,
        }
    }))
}
