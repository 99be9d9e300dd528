//! `POST /telegram`: Telegram delivers an update here, and learns from the status whether to deliver it again.
//!
//! Telegram sends a chat's next update only after the previous request for that chat ended, and retries a
//! request answered with a non-2xx status (or not answered within about a minute). So the answer is 200
//! only after the update's state, records and replies are committed: per-chat order and at-least-once
//! delivery across replicas, with the store refusing an update applied before.
//!
//! | request | answer |
//! |---------|--------|
//! | `X-Telegram-Bot-Api-Secret-Token` missing or wrong | 401 (compared in constant time) |
//! | draining (SIGTERM) | 503, `Retry-After: 1`: another replica takes it |
//! | body over [`super::MAX_BODY_BYTES`] | 413 |
//! | body that is not an update | 200, logged without its content: delivering it again cannot help |
//! | handled (applied, a duplicate, ignored, flooded) | 200 |
//! | the store failed (nothing committed) | 503, `Retry-After: 1` |
//!
//! A reply the Bot API refuses with a 400 that retrying cannot fix (a repeated `answerCallbackQuery`,
//! "message is not modified") is the delivery's business, after the commit: it never turns into a 5xx
//! here, or Telegram would redeliver the update for minutes.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use teloxide::types::Update;

use super::{App, unavailable};
use crate::metrics::{self, Outcome};

/// The header Telegram sends the secret of `setWebhook` in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub(super) async fn telegram(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let authorised = app.secret.as_ref().is_some_and(|s| s.matches(given));
    if !authorised {
        metrics::webhook_rejected("secret");
        tracing::warn!("webhook request without the right secret token: 401");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(_in_flight) = app.drain.enter() else {
        metrics::webhook_rejected("draining");
        return unavailable("draining\n");
    };
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(e) => {
            // Only where and what kind of error: serde's message may quote what a citizen typed.
            metrics::webhook_rejected("unparsed");
            tracing::warn!(
                category = ?e.classify(),
                line = e.line(),
                column = e.column(),
                bytes = body.len(),
                "webhook body is not an update; ignored"
            );
            return StatusCode::OK.into_response();
        }
    };
    let kind = metrics::kind_of(&update);
    let started = Instant::now();
    let outcome = app.backend.handle(update).await;
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(outcome) => {
            metrics::update_handled(kind, outcome, seconds);
            StatusCode::OK.into_response()
        }
        Err(e) => {
            metrics::update_handled(kind, Outcome::Failed, seconds);
            tracing::warn!(error = %e, "update not handled; Telegram will deliver it again");
            unavailable("store unavailable\n")
        }
    }
}
