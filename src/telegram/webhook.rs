//! Webhook mode: Telegram POSTs each update to `/telegram`, and the replica answers 200 only after the session committed it, so several replicas can share one store behind a load balancer.
//!
//! Not teloxide's webhook listener: it answers 200 as soon as an update is queued, before its handler
//! ran (an update in flight at a crash would be lost), and deletes the webhook when a replica stops
//! (stopping one replica would stop them all). The webhook is registered once with
//! `shebao webhook set`, never here.
//!
//! At shutdown the replica drains ([`crate::http::Drain`]): new updates get 503 (Telegram delivers them
//! again, to another replica), `/readyz` answers 503, the updates in flight finish, then the server,
//! the sweeper and the reloads stop and the store is synced.

use std::future::Future;
use std::sync::Arc;

use tracing::info;

use super::{Background, Config, Trigger, connect};
use crate::http::{self, App, Backend, Drain, Secret, Unavailable};
use crate::live::LiveKnowledge;
use crate::metrics::Outcome;
use crate::session::{Handled, Session};
use crate::store::Store;

/// The session as the router's [`Backend`].
pub struct Replica(pub Arc<Session>);

#[async_trait::async_trait]
impl Backend for Replica {
    async fn handle(&self, update: teloxide::types::Update) -> Result<Outcome, Unavailable> {
        match self.0.handle(update).await {
            Ok(handled) => Ok(outcome(&handled)),
            Err(e) => Err(Unavailable(e.to_string())),
        }
    }

    async fn ready(&self) -> Result<(), Unavailable> {
        ready(&*self.0.store, &self.0.knowledge).await
    }

    async fn backlog(&self) -> Option<u64> {
        self.0.store.backlog().await.ok()
    }
}

/// What a handled update counts as in the metrics.
pub fn outcome(handled: &Handled) -> Outcome {
    match handled {
        Handled::Applied { .. } => Outcome::Applied,
        Handled::Duplicate { .. } => Outcome::Duplicate,
        Handled::Flooded => Outcome::Flooded,
        Handled::Ignored => Outcome::Ignored,
    }
}

/// Ready when the store answers and the knowledge holds entries.
pub async fn ready(store: &dyn Store, knowledge: &LiveKnowledge) -> Result<(), Unavailable> {
    store
        .ping()
        .await
        .map_err(|e| Unavailable(format!("store: {e}")))?;
    if knowledge.current().entries.is_empty() {
        return Err(Unavailable("no knowledge loaded".into()));
    }
    Ok(())
}

/// Serves Telegram's webhook (and health and metrics) on `listener` until `shutdown` completes, then
/// drains. `triggers` asks for the knowledge to be reloaded, as in polling mode.
pub async fn run(
    config: Config,
    knowledge: Arc<LiveKnowledge>,
    store: Arc<dyn Store>,
    triggers: tokio::sync::mpsc::Receiver<Trigger>,
    listener: tokio::net::TcpListener,
    secret: Secret,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut shutdown = Box::pin(shutdown);
    let Some(session) = connect(&config, knowledge, store.clone(), &mut shutdown).await? else {
        return Ok(());
    };
    let background = Background::start(&config, &session, triggers);
    let drain = Arc::new(Drain::default());
    let app = Arc::new(App {
        backend: Arc::new(Replica(session)),
        secret: Some(secret),
        metrics: crate::metrics::install(),
        drain: drain.clone(),
    });
    if let Ok(addr) = listener.local_addr() {
        info!(%addr, "serving Telegram's webhook at /telegram, /livez, /readyz, /metrics");
    }
    let draining = drain.clone();
    let stopping = async move {
        shutdown.await;
        draining.start();
        info!("draining: new updates get 503; finishing the updates in flight");
        draining.finished().await;
    };
    http::serve(listener, http::router(app), stopping).await?;
    background.stop().await;
    store.sync().await?;
    info!("stopped");
    Ok(())
}
