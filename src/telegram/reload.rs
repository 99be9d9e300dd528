//! Reload requests of a running bot: SIGHUP, saved files (debounced) and other replicas' announcements, served one at a time, reported to the staff.
//!
//! Where the store keeps published versions (PostgreSQL) and holds at least one, every request loads the
//! newest published version ([`crate::live::refresh`]) and a saved file changes nothing: the database,
//! not a replica's directory, says what is live (editors publish files with `shebao knowledge import`).

use std::sync::Arc;
use std::time::Duration;

use teloxide::types::ChatId;
use tokio::sync::mpsc;
use tracing::{info, warn};

use futures::StreamExt;
use futures::stream::BoxStream;

use super::{TgBot, send};
use crate::live::{LiveKnowledge, Reload};
use crate::store::Store;

/// File changes closer together than this are one edit: the reload waits until the files are quiet.
pub const DEBOUNCE: Duration = Duration::from_millis(400);

/// Why the knowledge should be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// SIGHUP: reload and report whatever the outcome.
    Signal,
    /// A knowledge file changed (debounced; an unchanged or already-reported outcome is not reported again).
    FileChanged,
    /// Another replica sharing the store reloaded at the staff's `/reload` (the staff heard its outcome
    /// there): reload too, and report only a refusal not reported yet (this replica's files differ).
    Announced,
}

/// Reloads the knowledge on each trigger, after file changes have been quiet for [`DEBOUNCE`]. The
/// outcome is logged and sent to the staff chats; a file change that leaves the knowledge as it was, or
/// repeats the refusal already reported, is only logged (unless it puts back the live version after a
/// refusal, which the staff hear about). `store` brings the other replicas' announcements.
pub(super) async fn serve(
    bot: TgBot,
    knowledge: Arc<LiveKnowledge>,
    staff: Vec<i64>,
    store: Arc<dyn Store>,
    mut triggers: mpsc::Receiver<Trigger>,
) {
    let mut announcements = match store.reload_announcements().await {
        Ok(announcements) => announcements,
        Err(e) => {
            warn!(error = %e, "cannot hear other replicas' reloads");
            None
        }
    };
    let versions = store.history();
    let mut last_refusal: Option<Reload> = None;
    loop {
        let mut trigger = tokio::select! {
            trigger = triggers.recv() => match trigger {
                Some(trigger) => trigger,
                None => break,
            },
            Some(()) = next(&mut announcements) => Trigger::Announced,
        };
        // Let an editor's save (truncate, write, rename...) finish before reading the files.
        if trigger == Trigger::FileChanged {
            loop {
                match tokio::time::timeout(DEBOUNCE, triggers.recv()).await {
                    Ok(Some(Trigger::Signal)) => trigger = Trigger::Signal,
                    Ok(Some(Trigger::FileChanged | Trigger::Announced)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
        if trigger == Trigger::FileChanged
            && let Some(history) = &versions
            && let Ok(Some(published)) = history.latest().await
        {
            info!(
                version = published.number,
                "a knowledge file changed, but the published versions in the database say what is live: \
                 not reloaded (publish files with `shebao knowledge import`)"
            );
            continue;
        }
        let outcome = crate::live::refresh(&knowledge, versions.as_deref()).await;
        match &outcome {
            Reload::Refused(problems) => {
                warn!(?trigger, outcome = %outcome.summary(), "knowledge reload refused");
                for p in problems {
                    warn!("{p}");
                }
            }
            _ => info!(?trigger, outcome = %outcome.summary(), "knowledge reload"),
        }
        let news = match &outcome {
            Reload::Updated(_) | Reload::Unchanged | Reload::Embedded
                if trigger == Trigger::Announced =>
            {
                false
            }
            Reload::Updated(_) => true,
            // Somebody asked for a reload that cannot happen: tell them why.
            Reload::Embedded => trigger == Trigger::Signal,
            // After a refusal, files put back as they were settle the matter: say so.
            Reload::Unchanged => trigger == Trigger::Signal || last_refusal.is_some(),
            Reload::Refused(_) | Reload::Unreadable(_) => {
                trigger == Trigger::Signal || last_refusal.as_ref() != Some(&outcome)
            }
        };
        last_refusal = match &outcome {
            Reload::Refused(_) | Reload::Unreadable(_) => Some(outcome.clone()),
            Reload::Updated(_) | Reload::Unchanged => None,
            Reload::Embedded => last_refusal,
        };
        if news {
            let report = outcome.report();
            for &chat in &staff {
                if let Err(e) = send::text(&bot, ChatId(chat), &report).await {
                    warn!(chat, error = %e, "could not report the reload");
                }
            }
        }
    }
}

/// The next announcement, or never when the store has none to give.
async fn next(announcements: &mut Option<BoxStream<'static, ()>>) -> Option<()> {
    match announcements {
        Some(announcements) => announcements.next().await,
        None => std::future::pending().await,
    }
}
