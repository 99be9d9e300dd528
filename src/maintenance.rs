//! Background upkeep of a running bot: the outbox sweeper and the pruning of old records, each on its interval until shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use crate::session::Session;

/// How often replies left in the outbox are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// How often old records are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Sweeps the outbox at once and every [`SWEEP_EVERY`], prunes records older than `retention` at once
/// and every [`PRUNE_EVERY`], until `stop` changes or its sender is dropped.
pub async fn run(session: Arc<Session>, retention: Duration, mut stop: watch::Receiver<bool>) {
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = sweep.tick() => {
                if let Err(e) = session.sweep().await {
                    warn!(error = %e, "could not sweep the outbox");
                }
            }
            _ = prune.tick() => {
                let before = crate::unix_now() - retention.as_secs() as i64;
                match session.store.prune(before).await {
                    Ok(removed) => info!(removed, "pruned records older than the retention period"),
                    Err(e) => warn!(error = %e, "could not prune old records"),
                }
            }
        }
    }
}
