//! The outbox's replies as Bot API calls; a refusal that retrying cannot fix counts as delivered.

use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{ChatId, MessageId};
use tracing::warn;

use super::{TgBot, call, send};
use crate::dialogue::texts;
use crate::session::Deliver;
use crate::store::Delivery;

/// Delivers to Telegram through `bot` (throttled or not).
pub struct Telegram {
    pub bot: TgBot,
}

impl Telegram {
    async fn call(&self, chat: ChatId, delivery: &Delivery) -> Result<(), RequestError> {
        match delivery {
            Delivery::Text { text } => send::text(&self.bot, chat, text).await,
            Delivery::Choices {
                prompt,
                menu,
                options,
            } => send::choices(&self.bot, chat, prompt, *menu, options).await,
            Delivery::DeleteMessage { message } => {
                match send::delete(&self.bot, chat, MessageId(*message)).await {
                    Err(e) if !send::transient(&e) => {
                        warn!(chat = chat.0, error = %e, "deleteMessage refused; asking the user");
                        send::text(&self.bot, chat, texts::DELETE_IT_YOURSELF).await
                    }
                    other => other,
                }
            }
            Delivery::RemoveKeyboard { message } => {
                send::remove_keyboard(&self.bot, chat, MessageId(*message)).await
            }
        }
    }
}

/// The Bot API method a delivery calls, for logs.
fn method(delivery: &Delivery) -> &'static str {
    match delivery {
        Delivery::Text { .. } | Delivery::Choices { .. } => "sendMessage",
        Delivery::DeleteMessage { .. } => "deleteMessage",
        Delivery::RemoveKeyboard { .. } => "editMessageReplyMarkup",
    }
}

#[async_trait::async_trait]
impl Deliver for Telegram {
    async fn deliver(&self, chat: i64, delivery: &Delivery) -> bool {
        match self.call(ChatId(chat), delivery).await {
            Ok(()) => true,
            Err(e) if send::transient(&e) => {
                warn!(chat, call = method(delivery), error = %e, "Telegram unreachable; will try again");
                false
            }
            // A 400 such as "message is not modified" or "message to edit not found": retrying
            // cannot help, and a reply stuck at the head of the outbox would hold back the chat.
            Err(e) => {
                warn!(chat, call = method(delivery), error = %e, "refused by Telegram; counted as delivered");
                true
            }
        }
    }

    async fn acknowledge(&self, query: &str) {
        let query = teloxide::types::CallbackQueryId(query.to_string());
        if let Err(e) = send::retry("answerCallbackQuery", || {
            call!(&self.bot, |b| b.answer_callback_query(query.clone()))
        })
        .await
        {
            warn!(error = %e, "answerCallbackQuery failed");
        }
    }
}
