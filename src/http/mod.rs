//! One axum router for what a replica serves over HTTP: Telegram's webhook, health checks for a load balancer, and Prometheus metrics.
//!
//! - `POST /telegram` ([`webhook`]): an update from Telegram, answered 200 only after its effects are
//!   committed (see the module for every status).
//! - `GET /livez`: 200 while the process serves HTTP at all (restart it when this fails).
//! - `GET /readyz`: 200 when the store answers and the knowledge is loaded; 503 otherwise and while
//!   draining (send it no more traffic).
//! - `GET /metrics`: [`crate::metrics`] in Prometheus' text format; the outbox backlog is read from the
//!   store at each scrape.
//!
//! [`Drain`] is the shutdown: [`Drain::start`] turns new updates away with 503 and `/readyz` to 503,
//! [`Drain::finished`] waits for the updates in flight, and then [`serve`] stops.
//!
//! What the router serves comes from a [`Backend`]: the session and the store in `shebao run`,
//! fakes in tests.

pub mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use teloxide::types::Update;
use tokio::sync::Notify;

use crate::metrics::Outcome;

/// The largest webhook body accepted (Telegram's updates are a few kilobytes; a message holds at most
/// 4096 characters).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// What a refused request tells the sender to wait, in seconds (Telegram retries on its own schedule).
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Why an update could not be handled now; the sender should deliver it again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// What the router serves.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Handles one update until its effects are committed (and its replies sent or left in the outbox);
    /// `Err` when the store failed, so nothing was committed.
    async fn handle(&self, update: Update) -> Result<Outcome, Unavailable>;

    /// Whether this replica can serve: the store answers and the knowledge is loaded.
    async fn ready(&self) -> Result<(), Unavailable>;

    /// Replies committed and not yet sent, for the metrics (`None` when the store cannot say).
    async fn backlog(&self) -> Option<u64>;
}

/// The webhook secret (`SHEBAO_WEBHOOK_SECRET`): Telegram sends it back in
/// `X-Telegram-Bot-Api-Secret-Token`. Never printed.
#[derive(Clone)]
pub struct Secret(Arc<[u8]>);

/// Why a webhook secret is refused (Telegram allows 1-256 characters `A-Z`, `a-z`, `0-9`, `_` and `-`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error(
        "SHEBAO_WEBHOOK_SECRET is not set; webhook mode needs it (1-256 characters A-Z a-z 0-9 _ -)"
    )]
    Missing,
    #[error("SHEBAO_WEBHOOK_SECRET must be 1-256 characters A-Z a-z 0-9 _ - (Telegram's rule)")]
    Invalid,
}

impl Secret {
    pub fn new(secret: &str) -> Result<Secret, SecretError> {
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(SecretError::Missing);
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        if secret.len() > 256 || !secret.bytes().all(allowed) {
            return Err(SecretError::Invalid);
        }
        Ok(Secret(secret.as_bytes().into()))
    }

    /// From `SHEBAO_WEBHOOK_SECRET`.
    pub fn from_env() -> Result<Secret, SecretError> {
        Secret::new(&std::env::var("SHEBAO_WEBHOOK_SECRET").unwrap_or_default())
    }

    /// The secret as Telegram's `setWebhook` takes it.
    pub fn expose(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Compares in time independent of where the first difference is.
    pub fn matches(&self, given: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        // `ct_eq` returns early only on a length difference, which reveals the length alone.
        self.0.ct_eq(given).into()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The shutdown of a replica: first refuse new work, then wait for the work in flight.
#[derive(Default)]
pub struct Drain {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
}

/// Held while an update is handled; [`Drain::finished`] waits until none is held.
pub struct InFlight<'a>(&'a Drain);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Drain {
    /// From now on, new updates get 503 and `/readyz` answers 503.
    pub fn start(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.idle.notify_waiters();
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Counts an update in flight, unless draining has started (then `None`: refuse it).
    pub fn enter(&self) -> Option<InFlight<'_>> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(self);
        // Checked after counting, so `finished` cannot miss an update that got in.
        (!self.is_draining()).then_some(guard)
    }

    /// Completes once draining has started and no update is in flight.
    pub async fn finished(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.is_draining() && self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// Everything the handlers share.
pub struct App {
    pub backend: Arc<dyn Backend>,
    /// `None` serves no webhook (polling mode: health and metrics only).
    pub secret: Option<Secret>,
    pub metrics: PrometheusHandle,
    pub drain: Arc<Drain>,
}

/// The router: the webhook (when `app.secret` is set), health and metrics.
pub fn router(app: Arc<App>) -> Router {
    let mut router = Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    if app.secret.is_some() {
        router = router.route("/telegram", post(webhook::telegram));
    }
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn livez() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.drain.is_draining() {
        return unavailable("draining\n");
    }
    match app.backend.ready().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            unavailable(format!("not ready: {e}\n"))
        }
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    if let Some(replies) = app.backend.backlog().await {
        crate::metrics::backlog(replies);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

/// 503 with a short `Retry-After`.
fn unavailable(body: impl IntoResponse) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_SECONDS.to_string())],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests;
