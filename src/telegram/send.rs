//! Outgoing Bot API calls with retries: 429 `retry_after` is honoured, network errors and 5xx answers
//! are retried with backoff, and nothing here ever panics or logs message text. A call that still fails
//! returns its error: [`transient`] tells whether a later try may succeed.

use std::future::Future;
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId};
use teloxide::{ApiError, RequestError};
use tracing::warn;

use super::keyboard::callback_data;
use super::{TgBot, call};

/// Attempts per call before giving up.
const ATTEMPTS: u32 = 6;

/// Whether an error is worth retrying: rate limits, the network, and server-side failures.
pub fn transient(e: &RequestError) -> bool {
    match e {
        RequestError::RetryAfter(_) | RequestError::Network(_) | RequestError::Io(_) => true,
        RequestError::InvalidJson { .. } => true,
        RequestError::Api(ApiError::Unknown(description)) => {
            let d = description.to_ascii_lowercase();
            d.contains("internal server error")
                || d.contains("bad gateway")
                || d.contains("gateway")
                || d.contains("too many requests")
        }
        _ => false,
    }
}

/// Whether Telegram refused the token itself.
pub fn is_token_error(e: &ApiError) -> bool {
    matches!(e, ApiError::InvalidToken)
}

/// Runs `call` until it succeeds, a permanent error occurs, or the attempts run out.
pub async fn retry<T, F, Fut>(what: &str, mut call: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                let wait = match &e {
                    RequestError::RetryAfter(seconds) => seconds.duration(),
                    _ => delay,
                };
                warn!(call = what, attempt, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(Duration::from_secs(10));
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Sends a text.
pub async fn text(bot: &TgBot, chat: ChatId, text: &str) -> Result<(), RequestError> {
    let text = text.to_string();
    retry("sendMessage", || {
        call!(bot, |b| b.send_message(chat, text.clone()))
    })
    .await
    .map(drop)
}

/// Sends a prompt with one button per option (one per row: long labels stay readable on a phone).
pub async fn choices(
    bot: &TgBot,
    chat: ChatId,
    prompt: &str,
    menu: u32,
    options: &[String],
) -> Result<(), RequestError> {
    let rows: Vec<Vec<InlineKeyboardButton>> = options
        .iter()
        .enumerate()
        .map(|(i, label)| {
            vec![InlineKeyboardButton::callback(
                label.clone(),
                callback_data(menu, i),
            )]
        })
        .collect();
    let markup = InlineKeyboardMarkup::new(rows);
    let prompt = prompt.to_string();
    retry("sendMessage", || {
        call!(bot, |b| b
            .send_message(chat, prompt.clone())
            .reply_markup(markup.clone()))
    })
    .await
    .map(drop)
}

/// Deletes a user's message (Telegram refuses when it is too old, or in a group without the right).
pub async fn delete(bot: &TgBot, chat: ChatId, message: MessageId) -> Result<(), RequestError> {
    retry("deleteMessage", || {
        call!(bot, |b| b.delete_message(chat, message))
    })
    .await
    .map(drop)
}

/// Removes the buttons of a message whose option was pressed, so the old menu cannot be pressed again.
pub async fn remove_keyboard(
    bot: &TgBot,
    chat: ChatId,
    message: MessageId,
) -> Result<(), RequestError> {
    retry("editMessageReplyMarkup", || {
        call!(bot, |b| b.edit_message_reply_markup(chat, message))
    })
    .await
    .map(drop)
}
