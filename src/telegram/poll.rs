//! Long polling: a batch of updates is committed, synced once (group commit), delivered, then confirmed.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use teloxide::prelude::*;
use tracing::warn;

use super::{TgBot, call, send};
use crate::dialogue::texts;
use crate::metrics;
use crate::session::{Session, Turn};

/// Polls until `shutdown` completes; the batch in hand is finished first, then confirmed.
pub(super) async fn run(
    bot: &TgBot,
    session: &Arc<Session>,
    poll_timeout: u32,
    shutdown: &mut (impl Future<Output = ()> + Unpin),
) {
    let mut offset: i32 = 0;
    let mut backoff = Duration::from_millis(500);
    loop {
        let request = call!(bot, |b| b
            .get_updates()
            .offset(offset)
            .timeout(poll_timeout));
        let updates = tokio::select! {
            _ = &mut *shutdown => break,
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
                    _ = &mut *shutdown => break,
                    _ = tokio::time::sleep(wait) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let Some(last) = updates.iter().map(|u| u.id.0).max() else {
            continue;
        };
        handle_batch(bot, session, updates).await;
        offset = last as i32 + 1;
    }
    // Confirm the last batch so Telegram does not send it again, without waiting for new updates.
    if offset > 0 {
        let _ = call!(bot, |b| b.get_updates().offset(offset).timeout(0).limit(1)).await;
    }
}

/// A committed turn with its update's kind and when handling it began (for the metrics).
type Timed = (Turn, &'static str, Instant);

/// Handles a batch: each chat's updates in order, chats concurrently; returns when all are done.
async fn handle_batch(bot: &TgBot, session: &Arc<Session>, updates: Vec<Update>) {
    let mut by_chat: Vec<(i64, Vec<Update>)> = Vec::new();
    for update in updates {
        let chat = update.chat().map_or(0, |c| c.id.0);
        match by_chat.iter_mut().find(|(c, _)| *c == chat) {
            Some((_, list)) => list.push(update),
            None => by_chat.push((chat, vec![update])),
        }
    }
    // 1. Every chat steps through its updates and commits them; nothing is durable yet.
    let mut tasks = tokio::task::JoinSet::new();
    for (chat, list) in by_chat {
        let session = session.clone();
        tasks.spawn(async move {
            let mut turns = Vec::new();
            let mut failed = false;
            for update in list {
                let (kind, started) = (metrics::kind_of(&update), Instant::now());
                match session.apply(update).await {
                    Ok(Some(turn)) => turns.push((turn, kind, started)),
                    Ok(None) => {
                        let seconds = started.elapsed().as_secs_f64();
                        metrics::update_handled(kind, metrics::Outcome::Ignored, seconds);
                    }
                    Err(e) => {
                        let seconds = started.elapsed().as_secs_f64();
                        metrics::update_handled(kind, metrics::Outcome::Failed, seconds);
                        // The update is lost to this chat (it is confirmed with its batch): say so.
                        warn!(chat, error = %e, "could not commit an update");
                        failed = true;
                    }
                }
            }
            (chat, turns, failed)
        });
    }
    let mut ready: Vec<(i64, Vec<Timed>, bool)> = Vec::new();
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok(done) => ready.push(done),
            Err(e) => warn!(error = %e, "an update handler failed"),
        }
    }
    // 2. One sync for the whole batch (group commit): every state is durable before any reply is sent.
    if let Err(e) = session.store.sync().await {
        warn!(error = %e, "could not make the batch durable; replies not sent");
        for (chat, _, _) in &ready {
            let _ = send::text(bot, ChatId(*chat), texts::INTERNAL_ERROR).await;
        }
        return;
    }
    // 3. Replies, each chat's in order, chats concurrently.
    let mut sends = tokio::task::JoinSet::new();
    for (chat, turns, failed) in ready {
        let (session, bot) = (session.clone(), bot.clone());
        sends.spawn(async move {
            for (turn, kind, started) in turns {
                let outcome = match session.finish(turn).await {
                    Ok(handled) => super::webhook::outcome(&handled),
                    Err(e) => {
                        warn!(chat, error = %e, "could not mark replies sent");
                        metrics::Outcome::Failed
                    }
                };
                metrics::update_handled(kind, outcome, started.elapsed().as_secs_f64());
            }
            if failed {
                let _ = send::text(&bot, ChatId(chat), texts::INTERNAL_ERROR).await;
            }
        });
    }
    while let Some(result) = sends.join_next().await {
        if let Err(e) = result {
            warn!(error = %e, "sending replies failed");
        }
    }
}
