//! `shebao webhook set URL | delete | info`: registers the replicas' webhook with Telegram once, from an admin's shell, so no replica ever changes it when it starts or stops.
//!
//! `set` passes the secret of `SHEBAO_WEBHOOK_SECRET` (Telegram sends it back with every update; the
//! replicas refuse requests without it) and the update kinds the bot handles. `delete` goes back to
//! polling (`shebao run` without `--webhook`). `info` shows what Telegram has registered, its backlog
//! and its last delivery error.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, WebhookInfo};

use crate::http::Secret;

/// The update kinds the bot handles; Telegram sends no others.
pub const ALLOWED_UPDATES: [AllowedUpdate; 3] = [
    AllowedUpdate::Message,
    AllowedUpdate::EditedMessage,
    AllowedUpdate::CallbackQuery,
];

/// What to ask Telegram.
#[derive(Debug, Clone)]
pub enum Action {
    /// Deliver updates to this HTTPS URL (the load balancer in front of the replicas, path `/telegram`).
    Set {
        url: url::Url,
        /// Parallel requests Telegram may make (1-100; its default is 40).
        max_connections: Option<u8>,
        /// Drop the updates waiting for delivery.
        drop_pending: bool,
    },
    Delete {
        drop_pending: bool,
    },
    Info,
}

/// Runs `action` with the bot of `TELOXIDE_TOKEN` (and `TELOXIDE_API_URL`); exit status 2 when the token
/// or, for `set`, the secret is missing.
pub fn run(action: Action, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    let Some(bot) = super::bot_from_env()? else {
        return Ok(ExitCode::from(2));
    };
    let secret = match &action {
        Action::Set { .. } => match Secret::from_env() {
            Ok(secret) => Some(secret),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match action {
            Action::Set {
                url,
                max_connections,
                drop_pending,
            } => {
                let secret = secret.expect("checked above");
                let mut request = bot
                    .set_webhook(url.clone())
                    .secret_token(secret.expose().to_owned())
                    .allowed_updates(ALLOWED_UPDATES.to_vec())
                    .drop_pending_updates(drop_pending);
                if let Some(n) = max_connections {
                    request = request.max_connections(n);
                }
                request.await.context("setWebhook")?;
                writeln!(
                    out,
                    "webhook set: {url} (secret token from SHEBAO_WEBHOOK_SECRET)"
                )?;
            }
            Action::Delete { drop_pending } => {
                bot.delete_webhook()
                    .drop_pending_updates(drop_pending)
                    .await
                    .context("deleteWebhook")?;
                writeln!(
                    out,
                    "webhook deleted: updates wait for `shebao run` polling"
                )?;
            }
            Action::Info => {
                let info = bot.get_webhook_info().await.context("getWebhookInfo")?;
                write_info(&info, out)?;
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn write_info(info: &WebhookInfo, out: &mut impl Write) -> std::io::Result<()> {
    match &info.url {
        Some(url) => writeln!(out, "url: {url}")?,
        None => writeln!(out, "url: none (updates are fetched by polling)")?,
    }
    writeln!(out, "pending updates: {}", info.pending_update_count)?;
    if let Some(n) = info.max_connections {
        writeln!(out, "max connections: {n}")?;
    }
    if let Some(kinds) = &info.allowed_updates {
        let names: Vec<String> = kinds
            .iter()
            .map(|k| {
                serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        writeln!(out, "allowed updates: {}", names.join(", "))?;
    }
    if let Some(at) = info.last_error_date {
        writeln!(
            out,
            "last error: {} at {at}",
            info.last_error_message.as_deref().unwrap_or("(no message)")
        )?;
    }
    Ok(())
}
