//! Telegram updates read as what they ask of the session ([`Incoming`]): a text, a button, chatter to guard.

use teloxide::types::{Update, UpdateKind};

use super::keyboard::parse_callback;
use crate::session::Incoming;
use crate::text::guard::guard;

/// What `update` asks. In a private chat every text is for the engine; in a group only commands and
/// messages mentioning `@username` are (the mention removed), the rest is only guarded. An edit is only
/// guarded; a press of a button the bot did not make is ignored.
pub fn classify(username: &str, update: &Update) -> Incoming {
    match &update.kind {
        UpdateKind::Message(m) => {
            let private = m.chat.is_private();
            match m.text() {
                Some(text) if private => Incoming::Text {
                    message: Some(m.id.0),
                    text: text.to_string(),
                },
                Some(text) => {
                    let mention = format!("@{username}");
                    let addressed =
                        text.starts_with('/') || (!username.is_empty() && text.contains(&mention));
                    if addressed && guard(text).is_clean() {
                        let text = text.replace(&mention, " ").trim().to_string();
                        Incoming::Text {
                            message: Some(m.id.0),
                            text,
                        }
                    } else if addressed {
                        // A secret in an addressed group message: the engine deletes and warns.
                        Incoming::Text {
                            message: Some(m.id.0),
                            text: text.to_string(),
                        }
                    } else {
                        Incoming::GuardOnly {
                            message: m.id.0,
                            text: text.to_string(),
                        }
                    }
                }
                None if private => Incoming::NotText,
                None => Incoming::Ignored,
            }
        }
        UpdateKind::EditedMessage(m) => match m.text() {
            Some(text) => Incoming::GuardOnly {
                message: m.id.0,
                text: text.to_string(),
            },
            None => Incoming::Ignored,
        },
        UpdateKind::CallbackQuery(q) => match q.data.as_deref().and_then(parse_callback) {
            Some((menu, index)) => Incoming::Button {
                message: q.message.as_ref().map(|m| m.id().0),
                menu,
                index,
            },
            None => Incoming::Ignored,
        },
        _ => Incoming::Ignored,
    }
}

/// The id of a button press to acknowledge, if `update` is one.
pub fn callback_query(update: &Update) -> Option<&str> {
    match &update.kind {
        UpdateKind::CallbackQuery(q) => Some(&q.id.0),
        _ => None,
    }
}
