//! A stand-in Telegram Bot API server, so the bot can be driven end to end on localhost: queue what users do, read back what the bot sent.
//!
//! Start it with [`BotApi::start`], point the bot at [`BotApi::url`] (as `TELOXIDE_API_URL`, or
//! [`BotApi::bot`] in-process) with [`TOKEN`], queue updates with the `push_*` methods and inspect the
//! recorded [`Call`]s. It answers like Telegram does where the bot can tell the difference:
//!
//! - Methods are matched case-insensitively (teloxide sends `GetUpdates`, `SendMessage`); bodies are JSON.
//!   A wrong token gets 401 `Unauthorized`; an unknown method 404 `Not Found: method not found`.
//! - `getUpdates` long-polls: `offset` confirms (drops) updates below it, a negative offset keeps only the
//!   last `-offset` updates, `limit` defaults to 100, `timeout` (capped at 50 s) is waited on a `Notify`,
//!   so a pushed update ends the wait at once. `allowed_updates` is recorded but not applied: every queued
//!   update is delivered, so tests can check that the bot ignores the kinds it does not handle.
//! - `sendMessage` assigns message ids from 1000 up and rejects an empty text and (without `parse_mode`)
//!   a text over 4096 characters, with Telegram's descriptions. Queued user messages number from 1 up.
//! - `editMessageText` / `editMessageReplyMarkup` answer `message is not modified` when nothing changes,
//!   `message to edit not found` after a delete; a message this server never sent is edited as if it
//!   existed (Telegram keeps messages across bot restarts). Omitting `reply_markup` removes the keyboard.
//! - `deleteMessage` answers `message to delete not found` the second time, and
//!   `message can't be deleted` in chats given to [`BotApi::refuse_deletes`].
//! - `getMe`, `answerCallbackQuery`, `sendChatAction`, `setMyCommands`, `deleteMyCommands`,
//!   `getMyCommands` (the commands last set, initially none).
//! - `setWebhook` (an `https://` URL; a `secret_token` of Telegram's alphabet), `getWebhookInfo`,
//!   `deleteWebhook`; while a webhook is set, `getUpdates` answers 409 `Conflict`, as Telegram does.
//!   Delivering to a webhook is [`webhook`]'s: POSTs to replicas the way Telegram does.
//! - Faults from [`BotApi::fail_next`] replace the next matching call's answer ([`Fault::Hold`]: never
//!   answer it); they are recorded with `fault: true`. Note that teloxide sleeps 10 s after any 5xx before returning the error.
//!
//! Dates are the current time (a bot may skip stale messages). In a group (negative chat id) a button
//! press, sticker or edit comes from the user whose id is the chat id without its sign.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};

#[path = "botapi/webhook.rs"]
pub mod webhook;

pub const TOKEN: &str = "123456:TEST-TOKEN";
pub const BOT_USERNAME: &str = "shebao_test_bot";
/// The bot's user id (the token's prefix, as with real tokens).
pub const BOT_ID: i64 = 123456;

const FIRST_BOT_MESSAGE_ID: i32 = 1000;
const MAX_POLL_SECONDS: u64 = 50;
const MAX_TEXT_CHARS: usize = 4096;
const UNKNOWN_MESSAGE_TEXT: &str = "(a message the stand-in did not send)";

/// A message with an inline keyboard: (message id, text, [(label, data)]).
type Keyboard = (i32, String, Vec<(String, String)>);

/// One request the bot made, in arrival order.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method name lower-cased, e.g. `"sendmessage"`.
    pub method: String,
    /// The JSON body (`{}` when empty).
    pub params: Value,
    /// The whole answer (`{"ok":true,"result":..}` or an error envelope); `None` while a
    /// `getUpdates` is still waiting, or if the bot hung up on it.
    pub response: Option<Value>,
    /// The answer was a fault queued with [`BotApi::fail_next`].
    pub fault: bool,
    /// When the request arrived.
    pub at: Instant,
}

impl Call {
    /// The call was answered with `"ok": true`.
    pub fn succeeded(&self) -> bool {
        self.response.as_ref().is_some_and(|r| r["ok"] == true)
    }

    /// The `error_code` of an error answer (400, 429, 500...).
    pub fn error_code(&self) -> Option<i64> {
        self.response.as_ref()?.get("error_code")?.as_i64()
    }

    /// The `result` of a successful answer.
    pub fn result(&self) -> Option<&Value> {
        self.response.as_ref()?.get("result")
    }

    /// The `chat_id` parameter, if numeric.
    pub fn chat_id(&self) -> Option<i64> {
        chat_id_of(&self.params)
    }

    /// The `text` parameter.
    pub fn text(&self) -> Option<&str> {
        self.params.get("text")?.as_str()
    }
}

/// A failure to answer the next call of a method with, instead of the normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
    RetryAfter(u32),
    /// 500 `Internal Server Error`.
    ServerError,
    /// 400 with this description; `Bad Request: ` is prefixed unless already there, so teloxide maps
    /// known texts (e.g. `"message can't be deleted"`) to their `ApiError` variants.
    BadRequest(&'static str),
    /// No answer at all: the call is recorded (with no response) and left waiting until the stand-in
    /// stops or the bot hangs up, like a Telegram that accepted the connection and then went silent.
    Hold,
}

impl Fault {
    fn envelope(&self) -> Value {
        match self {
            Fault::RetryAfter(seconds) => json!({
                "ok": false,
                "error_code": 429,
                "description": format!("Too Many Requests: retry after {seconds}"),
                "parameters": {"retry_after": seconds},
            }),
            Fault::ServerError => error(500, "Internal Server Error"),
            Fault::BadRequest(description) => {
                bad_request(description.trim_start_matches("Bad Request: "))
            }
            Fault::Hold => error(504, "Gateway Timeout"),
        }
    }
}

/// The server's handle; clones share it. It stops when the last clone is dropped or on [`BotApi::shutdown`].
#[derive(Clone)]
pub struct BotApi {
    shared: Arc<Shared>,
    _alive: Arc<StopOnDrop>,
}

struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.shutdown.send_replace(true);
    }
}

struct Shared {
    addr: SocketAddr,
    state: Mutex<State>,
    /// Signalled after every recorded call or answer.
    calls_changed: Notify,
    /// Signalled after every queued update.
    updates_queued: Notify,
    /// Signalled, per chat, after every message sent to it.
    chat_sent: Mutex<HashMap<i64, Arc<Notify>>>,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct State {
    calls: Vec<Call>,
    /// Queued, not yet confirmed updates, in id order.
    updates: VecDeque<Value>,
    next_update_id: i64,
    confirmed: i64,
    next_user_message_id: i32,
    next_bot_message_id: i32,
    next_callback_id: u64,
    /// Messages the bot sent, as they are now (after edits), by (chat, message id).
    sent: HashMap<(i64, i32), Value>,
    deleted: HashSet<(i64, i32)>,
    refuse_deletes: HashSet<i64>,
    faults: VecDeque<(String, Fault)>,
    commands: Value,
    /// The parameters of the last `setWebhook`, until `deleteWebhook`.
    webhook: Option<Value>,
    /// Texts sent to each chat, in order.
    texts: HashMap<i64, Vec<String>>,
    /// The messages with an inline keyboard sent to each chat, in order: (message id, text, [(label, data)]).
    keyboards: HashMap<i64, Vec<Keyboard>>,
}

impl BotApi {
    /// Binds 127.0.0.1:0 and serves in a tokio task until dropped or `shutdown`.
    pub async fn start() -> BotApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the stand-in Bot API");
        let addr = listener.local_addr().expect("stand-in address");
        let shared = Arc::new(Shared {
            addr,
            state: Mutex::new(State {
                calls: Vec::new(),
                updates: VecDeque::new(),
                next_update_id: 1,
                confirmed: 0,
                next_user_message_id: 1,
                next_bot_message_id: FIRST_BOT_MESSAGE_ID,
                next_callback_id: 1,
                sent: HashMap::new(),
                deleted: HashSet::new(),
                refuse_deletes: HashSet::new(),
                faults: VecDeque::new(),
                commands: json!([]),
                webhook: None,
                texts: HashMap::new(),
                keyboards: HashMap::new(),
            }),
            calls_changed: Notify::new(),
            updates_queued: Notify::new(),
            chat_sent: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let mut stop = shared.shutdown.subscribe();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await;
        });
        BotApi {
            _alive: Arc::new(StopOnDrop(shared.clone())),
            shared,
        }
    }

    /// Base URL to put in TELOXIDE_API_URL, e.g. "http://127.0.0.1:PORT/".
    pub fn url(&self) -> String {
        format!("http://{}/", self.shared.addr)
    }

    /// A teloxide bot with [`TOKEN`] pointed at this server.
    pub fn bot(&self) -> teloxide::Bot {
        teloxide::Bot::new(TOKEN).set_api_url(self.url().parse().expect("stand-in URL"))
    }

    /// Queue a private text message from user `chat_id` (user id = chat id); returns its message_id.
    pub fn push_text(&self, chat_id: i64, text: &str) -> i32 {
        self.push(|state| state.text_message(chat_id, chat_id, text))
    }

    /// Queue a text message in a group chat (negative id) from user `from`.
    pub fn push_group_text(&self, chat_id: i64, from: i64, text: &str) -> i32 {
        self.push(|state| state.text_message(chat_id, from, text))
    }

    /// Queue a button press on message `message_id` (which the bot sent) with callback `data`;
    /// returns the callback query id. The query carries the message as it is now.
    pub fn push_callback(&self, chat_id: i64, message_id: i32, data: &str) -> String {
        self.push(|state| state.callback(chat_id, message_id, data))
    }

    /// Queue a sticker message from user `chat_id`.
    pub fn push_sticker(&self, chat_id: i64) -> i32 {
        self.push(|state| {
            let (id, mut message) = state.user_message(chat_id, chat_id);
            message.insert(
                "sticker".into(),
                json!({
                    "file_id": "sticker-file-id",
                    "file_unique_id": "sticker-unique-id",
                    "file_size": 1024,
                    "width": 512,
                    "height": 512,
                    "is_animated": false,
                    "is_video": false,
                    "type": "regular",
                    "emoji": "👍",
                }),
            );
            state.queue("message", Value::Object(message));
            id
        })
    }

    /// Queue an edit by user `chat_id` of their message `message_id` to `text`.
    pub fn push_edited_text(&self, chat_id: i64, message_id: i32, text: &str) {
        self.push(|state| {
            let mut message = incoming(message_id, chat_json(chat_id), Some(user_json(chat_id)));
            message.insert("edit_date".into(), json!(now()));
            with_text(&mut message, text);
            state.queue("edited_message", Value::Object(message));
        })
    }

    /// Queue a post in channel `chat_id` (negative id).
    pub fn push_channel_post(&self, chat_id: i64, text: &str) {
        self.push(|state| {
            let channel = json!({"id": chat_id, "type": "channel", "title": "Test channel"});
            let id = state.next_user_message_id();
            let mut message = incoming(id, channel.clone(), None);
            message.insert("sender_chat".into(), channel);
            with_text(&mut message, text);
            state.queue("channel_post", Value::Object(message));
        })
    }

    /// Queue private text messages for many chats at once (load tests): (chat_id, text) pairs.
    pub fn push_many(&self, items: &[(i64, String)]) {
        self.push(|state| {
            for (chat_id, text) in items {
                state.text_message(*chat_id, *chat_id, text);
            }
        })
    }

    /// Make the next call of `method` (case-insensitive) fail with `fault`; each call of this
    /// queues one more failure.
    /// The id of the latest update queued (0 before any).
    pub fn pushed(&self) -> i64 {
        self.shared.lock().next_update_id - 1
    }

    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.shared
            .lock()
            .faults
            .push_back((method.to_ascii_lowercase(), fault));
    }

    /// Make deleteMessage fail (400 "message can't be deleted") for this chat from now on.
    pub fn refuse_deletes(&self, chat_id: i64) {
        self.shared.lock().refuse_deletes.insert(chat_id);
    }

    /// All calls so far, in order (getUpdates included).
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Handling latency of a polling bot: from the `getUpdates` answer that delivered an update to the
    /// next reply sent to its chat, one per update that got a reply (for the benches).
    #[allow(dead_code)]
    pub fn polling_latencies(&self) -> Vec<Duration> {
        let mut delivered: HashMap<i64, Vec<Instant>> = HashMap::new();
        let mut replies: HashMap<i64, Vec<Instant>> = HashMap::new();
        for call in self.calls() {
            match call.method.as_str() {
                "getupdates" => {
                    for u in call
                        .result()
                        .and_then(|r| r.as_array())
                        .into_iter()
                        .flatten()
                    {
                        let chat = u["message"]["chat"]["id"]
                            .as_i64()
                            .or_else(|| u["callback_query"]["message"]["chat"]["id"].as_i64());
                        if let Some(chat) = chat {
                            delivered.entry(chat).or_default().push(call.at);
                        }
                    }
                }
                "sendmessage" if call.succeeded() => {
                    if let Some(chat) = call.chat_id() {
                        replies.entry(chat).or_default().push(call.at);
                    }
                }
                _ => {}
            }
        }
        let mut latencies = Vec::new();
        for (chat, got) in &delivered {
            let sent = replies.get(chat).map_or(&[][..], |v| v.as_slice());
            for at in got {
                if let Some(reply) = sent.iter().find(|r| *r >= at) {
                    latencies.push(reply.duration_since(*at));
                }
            }
        }
        latencies
    }

    /// Calls of one method (name compared case-insensitively).
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        let method = method.to_ascii_lowercase();
        let state = self.shared.lock();
        state
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Waits until `pred(&calls)` is true, woken on every call and answer; panics after `timeout`
    /// listing the calls seen. `pred` may call other `BotApi` methods.
    pub async fn wait_until(&self, timeout: Duration, pred: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let mut changed = pin!(self.shared.calls_changed.notified());
            changed.as_mut().enable();
            self.catch_up(&mut seen);
            if pred(&seen) {
                return seen;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                self.catch_up(&mut seen);
                if pred(&seen) {
                    return seen;
                }
                panic!(
                    "the Bot API stand-in waited {timeout:?} in vain; {} calls so far:\n{}",
                    seen.len(),
                    describe(&seen)
                );
            }
        }
    }

    /// Texts successfully sent to `chat_id` by sendMessage, in order.
    pub fn sent_texts(&self, chat_id: i64) -> Vec<String> {
        self.shared
            .lock()
            .texts
            .get(&chat_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until the texts sent to `chat_id` satisfy `pred`, woken by each message sent to that chat
    /// only; panics after `timeout` with the texts sent.
    pub async fn wait_for_texts(
        &self,
        chat_id: i64,
        timeout: Duration,
        pred: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let signal = self.chat_signal(chat_id);
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut sent = pin!(signal.notified());
            sent.as_mut().enable();
            let texts = self.sent_texts(chat_id);
            if pred(&texts) {
                return texts;
            }
            if tokio::time::timeout_at(deadline, sent).await.is_err() {
                let texts = self.sent_texts(chat_id);
                if pred(&texts) {
                    return texts;
                }
                panic!(
                    "chat {chat_id} waited {timeout:?} in vain; it was sent:\n{}",
                    texts.join("\n---\n")
                );
            }
        }
    }

    fn chat_signal(&self, chat_id: i64) -> Arc<Notify> {
        let mut signals = self
            .shared
            .chat_sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        signals.entry(chat_id).or_default().clone()
    }

    /// The conversation with `chat_id` as a person would read it: what the user sent (delivered by
    /// getUpdates), what the bot sent with its buttons, and the messages it deleted; one line each.
    pub fn transcript(&self, chat_id: i64) -> String {
        let state = self.shared.lock();
        let mut out = String::new();
        let mut labels: Vec<(String, String)> = Vec::new();
        for c in state.calls.iter().filter(|c| c.succeeded()) {
            match c.method.as_str() {
                "getupdates" => {
                    for update in c.result().and_then(Value::as_array).into_iter().flatten() {
                        let message = &update["message"];
                        let query = &update["callback_query"];
                        if chat_id_of(&message["chat"]).or(message["chat"]["id"].as_i64())
                            == Some(chat_id)
                        {
                            out.push_str(&format!(
                                "user: {}\n",
                                message["text"].as_str().unwrap_or("…")
                            ));
                        } else if query["message"]["chat"]["id"].as_i64() == Some(chat_id) {
                            let data = query["data"].as_str().unwrap_or_default();
                            let label = labels
                                .iter()
                                .find(|(_, d)| d == data)
                                .map_or(data, |(l, _)| l.as_str());
                            out.push_str(&format!("user presses [{label}]\n"));
                        }
                    }
                }
                "sendmessage" if c.chat_id() == Some(chat_id) => {
                    out.push_str(&format!(
                        "bot: {}\n",
                        c.text().unwrap_or_default().replace('\n', "\n     ")
                    ));
                    if let Some(markup) = inline_markup(&c.params) {
                        labels = markup["inline_keyboard"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_array)
                            .flatten()
                            .map(|b| {
                                (
                                    b["text"].as_str().unwrap_or_default().to_owned(),
                                    b["callback_data"].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect();
                        let row: Vec<String> =
                            labels.iter().map(|(l, _)| format!("[{l}]")).collect();
                        out.push_str(&format!("     {}\n", row.join(" ")));
                    }
                }
                "deletemessage" if c.chat_id() == Some(chat_id) => {
                    out.push_str("bot deletes the message\n")
                }
                _ => {}
            }
        }
        out
    }

    /// The latest successful sendMessage to `chat_id` that had an inline keyboard, as sent:
    /// (message_id, [(label, callback_data)]); a URL button gives its URL as the data.
    pub fn last_keyboard(&self, chat_id: i64) -> Option<(i32, Vec<(String, String)>)> {
        let state = self.shared.lock();
        let (id, _, buttons) = state.keyboards.get(&chat_id)?.last()?;
        Some((*id, buttons.clone()))
    }

    /// Presses the button labelled `label` of `keyboard` (as [`BotApi::last_keyboard`] gives it) in
    /// `chat`. Panics when there is no keyboard or no such button.
    pub fn press(&self, chat: i64, keyboard: Option<(i32, Vec<(String, String)>)>, label: &str) {
        let (message, buttons) =
            keyboard.unwrap_or_else(|| panic!("chat {chat}: no menu to press {label} in"));
        let data = &buttons
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("chat {chat}: no button {label} in {buttons:?}"))
            .1;
        self.push_callback(chat, message, data);
    }

    /// Presses `label` under the latest keyboard of every chat in `chats` (the load benches walk a
    /// thousand chats through the reset this way).
    #[allow(dead_code)]
    pub fn press_in_every_chat(&self, chats: std::ops::RangeInclusive<i64>, label: &str) {
        for chat in chats {
            self.press(chat, self.last_keyboard(chat), label);
        }
    }

    /// The text of the latest message to `chat_id` with an inline keyboard.
    pub fn last_menu(&self, chat_id: i64) -> Option<String> {
        let state = self.shared.lock();
        Some(state.keyboards.get(&chat_id)?.last()?.1.clone())
    }

    /// The latest message to `chat_id` with text `text` and an inline keyboard, as
    /// [`BotApi::last_keyboard`] gives it (a reply sent again after a crash may come after newer ones).
    pub fn keyboard_under(&self, chat_id: i64, text: &str) -> Option<(i32, Vec<(String, String)>)> {
        let state = self.shared.lock();
        let (id, _, buttons) = state
            .keyboards
            .get(&chat_id)?
            .iter()
            .rfind(|(_, t, _)| t == text)?;
        Some((*id, buttons.clone()))
    }

    /// The parameters of the webhook set, if any.
    pub fn webhook(&self) -> Option<Value> {
        self.shared.lock().webhook.clone()
    }

    /// The highest update_id the bot has confirmed (offset passed to getUpdates minus one).
    pub fn confirmed(&self) -> i64 {
        self.shared.lock().confirmed
    }

    /// Stops serving: waiting getUpdates calls return at once, new connections are refused.
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }

    fn push<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.shared.lock());
        self.shared.updates_queued.notify_waiters();
        out
    }

    /// Appends calls not yet in `seen` and refreshes those that were still waiting for an answer.
    fn catch_up(&self, seen: &mut Vec<Call>) {
        let state = self.shared.lock();
        for (mine, now) in seen.iter_mut().zip(&state.calls) {
            if mine.response.is_none() && now.response.is_some() {
                mine.clone_from(now);
            }
        }
        seen.extend_from_slice(&state.calls[seen.len()..]);
    }
}

impl State {
    fn next_user_message_id(&mut self) -> i32 {
        let id = self.next_user_message_id;
        self.next_user_message_id += 1;
        id
    }

    fn queue(&mut self, kind: &str, payload: Value) {
        let mut update = Map::new();
        update.insert("update_id".into(), json!(self.next_update_id));
        update.insert(kind.into(), payload);
        self.next_update_id += 1;
        self.updates.push_back(Value::Object(update));
    }

    /// A message from user `from` in `chat_id`, without content yet.
    fn user_message(&mut self, chat_id: i64, from: i64) -> (i32, Map<String, Value>) {
        let id = self.next_user_message_id();
        (id, incoming(id, chat_json(chat_id), Some(user_json(from))))
    }

    fn text_message(&mut self, chat_id: i64, from: i64, text: &str) -> i32 {
        let (id, mut message) = self.user_message(chat_id, from);
        with_text(&mut message, text);
        self.queue("message", Value::Object(message));
        id
    }

    fn callback(&mut self, chat_id: i64, message_id: i32, data: &str) -> String {
        let id = format!("cq{}", self.next_callback_id);
        self.next_callback_id += 1;
        let message = self
            .sent
            .get(&(chat_id, message_id))
            .cloned()
            .unwrap_or_else(|| bot_message(chat_id, message_id, UNKNOWN_MESSAGE_TEXT));
        self.queue(
            "callback_query",
            json!({
                "id": id,
                "from": user_json(chat_id),
                "chat_instance": format!("ci{chat_id}"),
                "data": data,
                "message": message,
            }),
        );
        id
    }

    /// Takes a [`Fault::Hold`] queued for `method`, recording the call unanswered; false when none is.
    fn hold(&mut self, method: &str, params: &Value) -> bool {
        let held = self
            .faults
            .iter()
            .position(|(m, f)| m == method && matches!(f, Fault::Hold));
        match held.and_then(|i| self.faults.remove(i)) {
            Some(_) => {
                self.record(method, params.clone(), None, true);
                true
            }
            None => false,
        }
    }

    fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let index = self.faults.iter().position(|(m, _)| m == method)?;
        self.faults.remove(index).map(|(_, fault)| fault)
    }

    fn record(
        &mut self,
        method: &str,
        params: Value,
        response: Option<Value>,
        fault: bool,
    ) -> usize {
        self.calls.push(Call {
            method: method.to_owned(),
            params,
            response,
            fault,
            at: Instant::now(),
        });
        self.calls.len() - 1
    }

    /// Drops the updates an offset confirms.
    fn confirm(&mut self, offset: i64) {
        let keep_last = if offset < 0 {
            offset.unsigned_abs() as usize
        } else {
            usize::MAX
        };
        while let Some(first) = self.updates.front() {
            let id = first["update_id"].as_i64().unwrap_or_default();
            if id >= offset && self.updates.len() <= keep_last {
                break;
            }
            self.confirmed = self.confirmed.max(id);
            self.updates.pop_front();
        }
        if offset > 0 {
            self.confirmed = self.confirmed.max(offset - 1);
        }
    }

    fn answer(&mut self, method: &str, params: &Value) -> Value {
        match method {
            "getme" => ok(json!({
                "id": BOT_ID,
                "is_bot": true,
                "first_name": "shebao",
                "username": BOT_USERNAME,
                "can_join_groups": true,
                "can_read_all_group_messages": false,
                "supports_inline_queries": false,
                "can_connect_to_business": false,
                "has_main_web_app": false,
            })),
            "getwebhookinfo" => {
                let mut info = json!({
                    "url": "",
                    "has_custom_certificate": false,
                    "pending_update_count": self.updates.len(),
                });
                if let Some(webhook) = &self.webhook {
                    info["url"] = webhook["url"].clone();
                    for field in ["max_connections", "allowed_updates"] {
                        if let Some(value) = webhook.get(field) {
                            info[field] = value.clone();
                        }
                    }
                }
                ok(info)
            }
            "setwebhook" => self.set_webhook(params),
            "deletewebhook" => {
                self.webhook = None;
                if params["drop_pending_updates"] == true {
                    self.updates.clear();
                }
                ok(json!(true))
            }
            "answercallbackquery" | "sendchataction" => ok(json!(true)),
            "setmycommands" => {
                self.commands = params.get("commands").cloned().unwrap_or(json!([]));
                ok(json!(true))
            }
            "deletemycommands" => {
                self.commands = json!([]);
                ok(json!(true))
            }
            "getmycommands" => ok(self.commands.clone()),
            "sendmessage" => self.send_message(params),
            "editmessagetext" => self.edit_message(params, true),
            "editmessagereplymarkup" => self.edit_message(params, false),
            "deletemessage" => self.delete_message(params),
            _ => error(404, "Not Found: method not found"),
        }
    }

    fn set_webhook(&mut self, params: &Value) -> Value {
        let url = params["url"].as_str().unwrap_or_default();
        if url.is_empty() {
            self.webhook = None;
            return ok(json!(true));
        }
        if !url.starts_with("https://") {
            return bad_request("bad webhook: An HTTPS URL must be provided for webhook");
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if let Some(secret) = params.get("secret_token").and_then(Value::as_str)
            && (secret.is_empty() || secret.len() > 256 || !secret.chars().all(allowed))
        {
            return bad_request("secret token contains unallowed characters");
        }
        if params["drop_pending_updates"] == true {
            self.updates.clear();
        }
        self.webhook = Some(params.clone());
        ok(json!(true))
    }

    fn send_message(&mut self, params: &Value) -> Value {
        let Some(chat_id) = chat_id_of(params) else {
            return bad_request("chat not found");
        };
        let text = params["text"].as_str().unwrap_or_default();
        if text.trim().is_empty() {
            return bad_request("message text is empty");
        }
        if params.get("parse_mode").is_none() && text.chars().count() > MAX_TEXT_CHARS {
            return bad_request("message is too long");
        }
        let id = self.next_bot_message_id;
        self.next_bot_message_id += 1;
        let mut message = bot_message(chat_id, id, text);
        if let Some(markup) = inline_markup(params) {
            let buttons = markup["inline_keyboard"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_array)
                .flatten()
                .map(|b| {
                    let label = b["text"].as_str().unwrap_or_default().to_owned();
                    let data = b["callback_data"].as_str().or(b["url"].as_str());
                    (label, data.unwrap_or_default().to_owned())
                })
                .collect();
            self.keyboards
                .entry(chat_id)
                .or_default()
                .push((id, text.to_owned(), buttons));
            message["reply_markup"] = markup;
        }
        self.texts.entry(chat_id).or_default().push(text.to_owned());
        self.sent.insert((chat_id, id), message.clone());
        ok(message)
    }

    fn edit_message(&mut self, params: &Value, with_text: bool) -> Value {
        if params.get("inline_message_id").is_some() {
            return ok(json!(true));
        }
        let (Some(chat_id), Some(id)) = (chat_id_of(params), message_id_of(params)) else {
            return bad_request("message to edit not found");
        };
        if self.deleted.contains(&(chat_id, id)) {
            return bad_request("message to edit not found");
        }
        let before = self
            .sent
            .get(&(chat_id, id))
            .cloned()
            .unwrap_or_else(|| bot_message(chat_id, id, UNKNOWN_MESSAGE_TEXT));
        let mut after = before.clone();
        if with_text {
            let text = params["text"].as_str().unwrap_or_default();
            if text.trim().is_empty() {
                return bad_request("message text is empty");
            }
            after["text"] = json!(text);
        }
        match inline_markup(params) {
            Some(markup) => after["reply_markup"] = markup,
            None => {
                if let Some(fields) = after.as_object_mut() {
                    fields.remove("reply_markup");
                }
            }
        }
        if after == before {
            return bad_request(
                "message is not modified: specified new message content and reply markup are \
                 exactly the same as a current content and reply markup of the message",
            );
        }
        after["edit_date"] = json!(now());
        self.sent.insert((chat_id, id), after.clone());
        ok(after)
    }

    fn delete_message(&mut self, params: &Value) -> Value {
        let (Some(chat_id), Some(id)) = (chat_id_of(params), message_id_of(params)) else {
            return bad_request("message to delete not found");
        };
        if self.refuse_deletes.contains(&chat_id) {
            return bad_request("message can't be deleted");
        }
        if !self.deleted.insert((chat_id, id)) {
            return bad_request("message to delete not found");
        }
        self.sent.remove(&(chat_id, id));
        ok(json!(true))
    }
}

async fn handle(
    extract::State(shared): extract::State<Arc<Shared>>,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let method = match method_of(uri.path()) {
        Ok(method) => method,
        Err(refusal) => return reply(refusal),
    };
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let params = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(json!({}))
    } else if let Some(boundary) = content_type.split("boundary=").nth(1) {
        Ok(multipart_fields(
            &String::from_utf8_lossy(&body),
            boundary.trim_matches('"'),
        ))
    } else {
        serde_json::from_slice::<Value>(&body)
    };
    let response = match params {
        Ok(params) if method == "getupdates" => return reply(get_updates(&shared, params).await),
        Ok(params) if shared.lock().hold(&method, &params) => {
            shared.calls_changed.notify_waiters();
            let mut stop = shared.shutdown.subscribe();
            let _ = stop.wait_for(|stopped| *stopped).await;
            Fault::Hold.envelope()
        }
        Ok(params) => {
            let mut state = shared.lock();
            let (response, fault) = match state.take_fault(&method) {
                Some(fault) => (fault.envelope(), true),
                None => (state.answer(&method, &params), false),
            };
            let sent_to = (method == "sendmessage" && response["ok"] == true)
                .then(|| chat_id_of(&params))
                .flatten();
            state.record(&method, params, Some(response.clone()), fault);
            drop(state);
            if let Some(chat) = sent_to {
                let signal = shared
                    .chat_sent
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&chat)
                    .cloned();
                if let Some(signal) = signal {
                    signal.notify_waiters();
                }
            }
            response
        }
        Err(_) => {
            let response = bad_request("the stand-in accepts JSON bodies only");
            let body = String::from_utf8_lossy(&body).into_owned();
            shared
                .lock()
                .record(&method, json!(body), Some(response.clone()), false);
            response
        }
    };
    shared.calls_changed.notify_waiters();
    reply(response)
}

async fn get_updates(shared: &Shared, params: Value) -> Value {
    let limit = params["limit"]
        .as_u64()
        .filter(|l| (1..=100).contains(l))
        .unwrap_or(100) as usize;
    let wait = Duration::from_secs(
        params["timeout"]
            .as_u64()
            .unwrap_or(0)
            .min(MAX_POLL_SECONDS),
    );
    let deadline = tokio::time::Instant::now() + wait;
    let index = {
        let mut state = shared.lock();
        if let Some(fault) = state.take_fault("getupdates") {
            let response = fault.envelope();
            state.record("getupdates", params, Some(response.clone()), true);
            drop(state);
            shared.calls_changed.notify_waiters();
            return response;
        }
        if state.webhook.is_some() {
            let response = error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            );
            state.record("getupdates", params, Some(response.clone()), false);
            drop(state);
            shared.calls_changed.notify_waiters();
            return response;
        }
        if let Some(offset) = params.get("offset").and_then(Value::as_i64) {
            state.confirm(offset);
        }
        state.record("getupdates", params, None, false)
    };
    shared.calls_changed.notify_waiters();

    let mut stop = shared.shutdown.subscribe();
    let updates = loop {
        let mut queued = pin!(shared.updates_queued.notified());
        queued.as_mut().enable();
        let updates: Vec<Value> = shared.lock().updates.iter().take(limit).cloned().collect();
        if !updates.is_empty() || tokio::time::Instant::now() >= deadline || *stop.borrow() {
            break updates;
        }
        tokio::select! {
            _ = queued => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = stop.wait_for(|stopped| *stopped) => {}
        }
    };
    let response = ok(Value::Array(updates));
    shared.lock().calls[index].response = Some(response.clone());
    shared.calls_changed.notify_waiters();
    response
}

/// The text fields of a `multipart/form-data` body (teloxide sends `setWebhook` so), as a JSON object;
/// a field holding JSON (`allowed_updates`) is parsed.
fn multipart_fields(body: &str, boundary: &str) -> Value {
    let mut fields = Map::new();
    for part in body.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let parsed = match serde_json::from_str::<Value>(value) {
            Ok(v @ (Value::Array(_) | Value::Object(_) | Value::Bool(_) | Value::Number(_))) => v,
            _ => json!(value),
        };
        fields.insert(name.to_owned(), parsed);
    }
    Value::Object(fields)
}

/// The lower-cased method of `/bot<token>/<Method>`, or the error envelope to answer with.
fn method_of(path: &str) -> Result<String, Value> {
    let path = path.replace("%3A", ":").replace("%3a", ":");
    let mut segments = path.trim_start_matches('/').split('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some(bot), Some(method), None) if bot.starts_with("bot") && !method.is_empty() => {
            if bot != format!("bot{TOKEN}") {
                return Err(error(401, "Unauthorized"));
            }
            Ok(method.to_ascii_lowercase())
        }
        _ => Err(error(404, "Not Found")),
    }
}

fn reply(envelope: Value) -> Response {
    let code = envelope["error_code"].as_u64().unwrap_or(200);
    let status = u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok());
    (status.unwrap_or(StatusCode::OK), axum::Json(envelope)).into_response()
}

fn ok(result: Value) -> Value {
    json!({"ok": true, "result": result})
}

fn error(code: u16, description: &str) -> Value {
    json!({"ok": false, "error_code": code, "description": description})
}

fn bad_request(what: &str) -> Value {
    error(400, &format!("Bad Request: {what}"))
}

fn now() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// `chat_id` as a number or a numeric string.
fn chat_id_of(params: &Value) -> Option<i64> {
    let id = params.get("chat_id")?;
    id.as_i64().or_else(|| id.as_str()?.parse().ok())
}

fn message_id_of(params: &Value) -> Option<i32> {
    i32::try_from(params.get("message_id")?.as_i64()?).ok()
}

/// The `reply_markup` parameter if it is an inline keyboard (the only kind a Message carries).
fn inline_markup(params: &Value) -> Option<Value> {
    let markup = match params.get("reply_markup")? {
        Value::String(text) => serde_json::from_str(text).ok()?,
        markup => markup.clone(),
    };
    markup.get("inline_keyboard")?.is_array().then_some(markup)
}

fn user_json(id: i64) -> Value {
    json!({"id": id.unsigned_abs(), "is_bot": false, "first_name": "Test"})
}

fn bot_json() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "shebao", "username": BOT_USERNAME})
}

/// A private chat for positive ids, a group (or a supergroup for -100… ids) for negative ones.
fn chat_json(id: i64) -> Value {
    match id {
        0.. => json!({"id": id, "type": "private", "first_name": "Test"}),
        ..=-1_000_000_000_000 => json!({"id": id, "type": "supergroup", "title": "Test group"}),
        _ => json!({"id": id, "type": "group", "title": "Test group"}),
    }
}

fn incoming(message_id: i32, chat: Value, from: Option<Value>) -> Map<String, Value> {
    let mut message = Map::new();
    message.insert("message_id".into(), json!(message_id));
    message.insert("date".into(), json!(now()));
    message.insert("chat".into(), chat);
    if let Some(from) = from {
        message.insert("from".into(), from);
    }
    message
}

fn bot_message(chat_id: i64, message_id: i32, text: &str) -> Value {
    let mut message = incoming(message_id, chat_json(chat_id), Some(bot_json()));
    message.insert("text".into(), json!(text));
    Value::Object(message)
}

fn with_text(message: &mut Map<String, Value>, text: &str) {
    message.insert("text".into(), json!(text));
    let entities = entities(text);
    if !entities.is_empty() {
        message.insert("entities".into(), Value::Array(entities));
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Entities as Telegram marks them (offsets in UTF-16 units): a leading `/command[@bot]`, and `@username`s.
fn entities(text: &str) -> Vec<Value> {
    let entity = |kind: &str, start: usize, end: usize| {
        let (offset, length) = (utf16_len(&text[..start]), utf16_len(&text[start..end]));
        json!({"type": kind, "offset": offset, "length": length})
    };
    let word_len = |from: usize| text[from..].bytes().take_while(|b| is_word(*b)).count();
    let mut found = Vec::new();
    let mut from = 0;
    if text.starts_with('/') && word_len(1) > 0 {
        let mut end = 1 + word_len(1);
        if text[end..].starts_with('@') && word_len(end + 1) > 0 {
            end += 1 + word_len(end + 1);
        }
        found.push(entity("bot_command", 0, end));
        from = end;
    }
    while let Some(at) = text[from..].find('@').map(|i| from + i) {
        let len = word_len(at + 1);
        if len >= 5 && (at == 0 || !is_word(text.as_bytes()[at - 1])) {
            found.push(entity("mention", at, at + 1 + len));
        }
        from = at + 1 + len;
    }
    found
}

/// One line per call (seconds since the first, method, params, answer), the latest 200, each cut to 400 characters.
fn describe(calls: &[Call]) -> String {
    let skip = calls.len().saturating_sub(200);
    let mut out = String::new();
    if skip > 0 {
        let _ = writeln!(out, "  ({skip} earlier calls left out)");
    }
    for (i, call) in calls.iter().enumerate().skip(skip) {
        let answer = call
            .response
            .as_ref()
            .map_or("(waiting)".to_owned(), Value::to_string);
        let after = call.at.saturating_duration_since(calls[0].at).as_secs_f64();
        let line = format!("+{after:.3}s {} {} -> {answer}", call.method, call.params);
        let cut: String = line.chars().take(400).collect();
        let more = if cut.len() < line.len() { "…" } else { "" };
        let _ = writeln!(out, "  #{i} {cut}{more}");
    }
    out
}

/// A free loopback port: bound and released, for a process started later to bind (also after a restart).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;

    use teloxide::ApiError;
    use teloxide::RequestError;
    use teloxide::prelude::*;
    use teloxide::types::{
        InlineKeyboardButton, InlineKeyboardMarkup, MediaKind, MessageEntityKind, MessageId,
        MessageKind, UpdateKind,
    };

    const PATIENCE: Duration = Duration::from_secs(10);

    async fn within<F: IntoFuture>(future: F) -> F::Output {
        tokio::time::timeout(PATIENCE, future)
            .await
            .expect("the stand-in answers in time")
    }

    fn text_of(message: &Message) -> Option<&str> {
        message.text()
    }

    fn keyboard() -> InlineKeyboardMarkup {
        InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("好，开始", "m1:0"),
            InlineKeyboardButton::callback("先不用了", "m1:1"),
        ]])
    }

    #[tokio::test]
    async fn get_me_describes_the_test_bot() {
        let api = BotApi::start().await;
        let me = within(api.bot().get_me()).await.unwrap();
        assert_eq!(me.username(), BOT_USERNAME);
        assert_eq!(me.id, UserId(BOT_ID as u64));
        assert!(me.is_bot && me.can_join_groups && !me.can_read_all_group_messages);
        assert_eq!(api.calls_of("GetMe").len(), 1);
        assert!(api.calls()[0].succeeded());
    }

    #[tokio::test]
    async fn every_kind_of_queued_update_parses_in_teloxide() {
        let api = BotApi::start().await;
        let bot = api.bot();
        let sent = within(
            bot.send_message(ChatId(7), "选一个")
                .reply_markup(keyboard()),
        )
        .await
        .unwrap();

        let text_id = api.push_text(7, "/start now");
        api.push_group_text(-42, 9, "@shebao_test_bot 密码忘了");
        api.push_sticker(7);
        api.push_edited_text(7, text_id, "edited");
        api.push_channel_post(-1001234567890, "news");
        let query_id = api.push_callback(7, sent.id.0, "m1:0");

        let updates = within(bot.get_updates()).await.unwrap();
        assert_eq!(updates.len(), 6, "{updates:#?}");
        let ids: Vec<u32> = updates.iter().map(|u| u.id.0).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6]);

        let UpdateKind::Message(m) = &updates[0].kind else {
            panic!("{:?}", updates[0])
        };
        assert_eq!(
            (m.id.0, m.chat.id, text_of(m)),
            (text_id, ChatId(7), Some("/start now"))
        );
        assert!(m.chat.is_private());
        assert_eq!(m.from.as_ref().unwrap().id, UserId(7));
        let entity = &m.parse_entities().unwrap()[0];
        assert_eq!(
            (entity.kind(), entity.text()),
            (&MessageEntityKind::BotCommand, "/start")
        );

        let UpdateKind::Message(m) = &updates[1].kind else {
            panic!("{:?}", updates[1])
        };
        assert!(m.chat.is_group());
        assert_eq!(m.from.as_ref().unwrap().id, UserId(9));
        let entity = &m.parse_entities().unwrap()[0];
        assert_eq!(
            (entity.kind(), entity.text()),
            (&MessageEntityKind::Mention, "@shebao_test_bot")
        );

        let UpdateKind::Message(m) = &updates[2].kind else {
            panic!("{:?}", updates[2])
        };
        assert!(m.sticker().is_some(), "{m:?}");
        assert!(
            matches!(&m.kind, MessageKind::Common(c) if matches!(c.media_kind, MediaKind::Sticker(_)))
        );

        let UpdateKind::EditedMessage(m) = &updates[3].kind else {
            panic!("{:?}", updates[3])
        };
        assert_eq!((m.id.0, text_of(m)), (text_id, Some("edited")));

        let UpdateKind::ChannelPost(m) = &updates[4].kind else {
            panic!("{:?}", updates[4])
        };
        assert!(m.chat.is_channel());
        assert_eq!(text_of(m), Some("news"));

        let UpdateKind::CallbackQuery(q) = &updates[5].kind else {
            panic!("{:?}", updates[5])
        };
        assert_eq!(
            (q.id.0.as_str(), q.data.as_deref()),
            (query_id.as_str(), Some("m1:0"))
        );
        let pressed = q.regular_message().expect("the pressed message");
        assert_eq!((pressed.id, text_of(pressed)), (sent.id, Some("选一个")));
        assert_eq!(pressed.reply_markup(), Some(&keyboard()));
    }

    #[tokio::test]
    async fn send_message_returns_the_message_and_records_the_text() {
        let api = BotApi::start().await;
        let bot = api.bot();
        let first = within(bot.send_message(ChatId(1), "hi")).await.unwrap();
        let second = within(
            bot.send_message(ChatId(-5), "大家好")
                .reply_markup(keyboard()),
        )
        .await
        .unwrap();
        assert_eq!((first.id, text_of(&first)), (MessageId(1000), Some("hi")));
        assert_eq!(
            first.from.as_ref().map(|u| u.id),
            Some(UserId(BOT_ID as u64))
        );
        assert!(first.chat.is_private() && second.chat.is_group());
        assert_eq!(second.id, MessageId(1001));
        assert_eq!(second.reply_markup(), Some(&keyboard()));

        assert_eq!(api.sent_texts(1), ["hi"]);
        assert_eq!(api.sent_texts(-5), ["大家好"]);
        let labels = vec![
            ("好，开始".into(), "m1:0".into()),
            ("先不用了".into(), "m1:1".into()),
        ];
        assert_eq!(api.last_keyboard(-5), Some((1001, labels)));
        assert_eq!(api.last_keyboard(1), None);
        let call = &api.calls_of("sendmessage")[0];
        assert_eq!((call.chat_id(), call.text()), (Some(1), Some("hi")));
        assert_eq!(call.result().unwrap()["message_id"], 1000);
    }

    #[tokio::test]
    async fn a_queued_retry_after_fails_one_send_and_is_recorded_as_a_fault() {
        let api = BotApi::start().await;
        let bot = api.bot();
        api.fail_next("sendmessage", Fault::RetryAfter(1));
        let failed = within(bot.send_message(ChatId(1), "hi")).await;
        assert!(
            matches!(&failed, Err(RequestError::RetryAfter(s)) if s.duration() == Duration::from_secs(1)),
            "{failed:?}"
        );
        within(bot.send_message(ChatId(1), "again")).await.unwrap();

        let calls = api.calls_of("SendMessage");
        assert_eq!(calls.len(), 2);
        assert!(calls[0].fault && !calls[0].succeeded());
        assert_eq!(calls[0].error_code(), Some(429));
        assert!(!calls[1].fault && calls[1].succeeded());
        assert_eq!(api.sent_texts(1), ["again"]);
    }

    #[tokio::test]
    async fn a_queued_bad_request_maps_to_its_api_error() {
        let api = BotApi::start().await;
        api.fail_next(
            "editMessageText",
            Fault::BadRequest("message to edit not found"),
        );
        let failed = within(api.bot().edit_message_text(ChatId(1), MessageId(5), "x")).await;
        assert!(
            matches!(
                failed,
                Err(RequestError::Api(ApiError::MessageToEditNotFound))
            ),
            "{failed:?}"
        );
    }

    #[tokio::test]
    async fn a_server_error_reaches_the_bot_as_an_api_error() {
        let api = BotApi::start().await;
        api.fail_next("getme", Fault::ServerError);
        // teloxide sleeps 10 s after a 5xx before it reports it.
        let failed = tokio::time::timeout(PATIENCE * 2, api.bot().get_me())
            .await
            .unwrap();
        assert!(
            matches!(failed, Err(RequestError::Api(ApiError::Unknown(_)))),
            "{failed:?}"
        );
        assert_eq!(api.calls()[0].error_code(), Some(500));
    }

    #[tokio::test]
    async fn refused_deletes_fail_with_message_cant_be_deleted_in_that_chat_only() {
        let api = BotApi::start().await;
        let bot = api.bot();
        api.refuse_deletes(3);
        let refused = within(bot.delete_message(ChatId(3), MessageId(1))).await;
        assert!(
            matches!(
                refused,
                Err(RequestError::Api(ApiError::MessageCantBeDeleted))
            ),
            "{refused:?}"
        );

        within(bot.delete_message(ChatId(4), MessageId(1)))
            .await
            .unwrap();
        let again = within(bot.delete_message(ChatId(4), MessageId(1))).await;
        assert!(
            matches!(
                again,
                Err(RequestError::Api(ApiError::MessageToDeleteNotFound))
            ),
            "{again:?}"
        );
    }

    #[tokio::test]
    async fn edits_change_the_message_a_later_press_carries() {
        let api = BotApi::start().await;
        let bot = api.bot();
        let sent = within(
            bot.send_message(ChatId(2), "第1步")
                .reply_markup(keyboard()),
        )
        .await
        .unwrap();

        let edited = within(bot.edit_message_text(ChatId(2), sent.id, "第2步"))
            .await
            .unwrap();
        assert_eq!(text_of(&edited), Some("第2步"));
        assert_eq!(
            edited.reply_markup(),
            None,
            "no reply_markup removes the keyboard"
        );
        let same = within(bot.edit_message_reply_markup(ChatId(2), sent.id)).await;
        assert!(
            matches!(same, Err(RequestError::Api(ApiError::MessageNotModified))),
            "{same:?}"
        );
        let marked = within(
            bot.edit_message_reply_markup(ChatId(2), sent.id)
                .reply_markup(keyboard()),
        )
        .await
        .unwrap();
        assert_eq!(marked.reply_markup(), Some(&keyboard()));

        api.push_callback(2, sent.id.0, "m1:1");
        let updates = within(bot.get_updates()).await.unwrap();
        let UpdateKind::CallbackQuery(q) = &updates[0].kind else {
            panic!("{updates:?}")
        };
        let pressed = q.regular_message().unwrap();
        assert_eq!(text_of(pressed), Some("第2步"));
        within(bot.answer_callback_query(q.id.clone()))
            .await
            .unwrap();

        within(bot.delete_message(ChatId(2), sent.id))
            .await
            .unwrap();
        let gone = within(bot.edit_message_text(ChatId(2), sent.id, "第3步")).await;
        assert!(
            matches!(
                gone,
                Err(RequestError::Api(ApiError::MessageToEditNotFound))
            ),
            "{gone:?}"
        );
    }

    #[tokio::test]
    async fn empty_and_overlong_texts_are_rejected_like_telegram_does() {
        let api = BotApi::start().await;
        let bot = api.bot();
        let empty = within(bot.send_message(ChatId(1), " ")).await;
        assert!(
            matches!(empty, Err(RequestError::Api(ApiError::MessageTextIsEmpty))),
            "{empty:?}"
        );
        let long = within(bot.send_message(ChatId(1), "字".repeat(4097))).await;
        assert!(
            matches!(long, Err(RequestError::Api(ApiError::MessageIsTooLong))),
            "{long:?}"
        );
        within(bot.send_message(ChatId(1), "字".repeat(4096)))
            .await
            .unwrap();
        assert_eq!(api.sent_texts(1).len(), 1);
    }

    #[tokio::test]
    async fn offsets_confirm_updates_and_limit_caps_a_batch() {
        let api = BotApi::start().await;
        let bot = api.bot();
        let items: Vec<(i64, String)> = (1..=150).map(|i| (i, format!("q{i}"))).collect();
        api.push_many(&items);

        let first = within(bot.get_updates()).await.unwrap();
        assert_eq!(first.len(), 100);
        assert_eq!(api.confirmed(), 0);
        let again = within(bot.get_updates().offset(1).limit(10)).await.unwrap();
        assert_eq!(again.len(), 10, "nothing is confirmed by offset 1");
        let rest = within(bot.get_updates().offset(101)).await.unwrap();
        assert_eq!((rest.len(), rest[0].id.0), (50, 101));
        assert_eq!(api.confirmed(), 100);
        let last = within(bot.get_updates().offset(-1)).await.unwrap();
        assert_eq!(last.iter().map(|u| u.id.0).collect::<Vec<_>>(), [150]);
        assert_eq!(api.confirmed(), 149);
        let none = within(bot.get_updates().offset(151)).await.unwrap();
        assert!(none.is_empty());
        assert_eq!(api.confirmed(), 150);
    }

    #[tokio::test]
    async fn a_long_poll_returns_as_soon_as_an_update_is_pushed() {
        let api = BotApi::start().await;
        let bot = api.bot();
        let poll = tokio::spawn(async move { bot.get_updates().timeout(15).await });
        api.wait_until(PATIENCE, |calls| {
            calls.iter().any(|c| c.method == "getupdates")
        })
        .await;
        let started = Instant::now();
        api.push_text(5, "你好");
        let updates = within(poll).await.unwrap().unwrap();
        assert!(started.elapsed() < PATIENCE);
        assert_eq!(updates.len(), 1);
        let answered = api
            .wait_until(PATIENCE, |calls| calls[0].response.is_some())
            .await;
        assert!(answered[0].succeeded());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_thousand_chats_are_drained_in_batches_and_wait_until_keeps_up() {
        let api = BotApi::start().await;
        let items: Vec<(i64, String)> = (1..=1000).map(|i| (i, format!("问题{i}"))).collect();
        api.push_many(&items);
        let bot = api.bot();
        tokio::spawn(async move {
            let mut offset = 0;
            loop {
                let Ok(updates) = bot.get_updates().offset(offset).timeout(5).await else {
                    return;
                };
                let replies = updates.iter().filter_map(|u| match &u.kind {
                    UpdateKind::Message(m) => {
                        Some(bot.send_message(m.chat.id, "收到").into_future())
                    }
                    _ => None,
                });
                for reply in futures::future::join_all(replies).await {
                    reply.unwrap();
                }
                if let Some(last) = updates.last() {
                    offset = last.id.0 as i32 + 1;
                }
            }
        });
        let calls = api
            .wait_until(PATIENCE, |calls| {
                calls.iter().filter(|c| c.method == "sendmessage").count() == 1000
            })
            .await;
        let polls = calls.iter().filter(|c| c.method == "getupdates").count();
        assert!(
            polls >= 10,
            "{polls} polls for 1000 updates in batches of 100"
        );
        assert_eq!(api.sent_texts(1000), ["收到"]);
        api.wait_until(PATIENCE, |_| api.confirmed() == 1000).await;
    }

    #[tokio::test]
    async fn a_long_poll_without_updates_returns_empty_after_its_timeout() {
        let api = BotApi::start().await;
        let started = Instant::now();
        let updates = within(api.bot().get_updates().timeout(1)).await.unwrap();
        assert!(updates.is_empty());
        assert!(started.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn teloxide_polling_delivers_updates_and_confirms_them_when_stopped() {
        use futures::StreamExt;
        use teloxide::update_listeners::{AsUpdateStream, UpdateListener, polling_default};

        let api = BotApi::start().await;
        api.push_text(1, "one");
        api.push_text(2, "two");
        let mut listener = polling_default(api.bot()).await;
        let stop = listener.stop_token();
        {
            let stream = listener.as_stream();
            let mut stream = pin!(stream);
            for expected in [1, 2] {
                let update = within(stream.next()).await.unwrap().unwrap();
                assert_eq!(update.id.0, expected);
            }
            stop.stop();
            while within(stream.next()).await.is_some() {}
        }
        assert_eq!(api.confirmed(), 2);
        assert_eq!(api.calls()[0].method, "getwebhookinfo");
    }

    #[tokio::test]
    async fn commands_set_are_returned_and_other_housekeeping_calls_succeed() {
        use teloxide::types::BotCommand;

        let api = BotApi::start().await;
        let bot = api.bot();
        assert!(within(bot.get_my_commands()).await.unwrap().is_empty());
        within(bot.set_my_commands([BotCommand::new("help", "帮助")]))
            .await
            .unwrap();
        assert_eq!(
            within(bot.get_my_commands()).await.unwrap()[0].command,
            "help"
        );
        within(bot.delete_my_commands()).await.unwrap();
        within(bot.delete_webhook()).await.unwrap();
        within(bot.send_chat_action(ChatId(1), teloxide::types::ChatAction::Typing))
            .await
            .unwrap();
        assert!(within(bot.get_webhook_info()).await.unwrap().url.is_none());
    }

    #[tokio::test]
    async fn unknown_methods_and_wrong_tokens_are_refused() {
        let api = BotApi::start().await;
        let unknown = within(api.bot().leave_chat(ChatId(-1))).await;
        assert!(
            matches!(&unknown, Err(RequestError::Api(ApiError::Unknown(d))) if d.contains("Not Found"))
        );
        let stranger = teloxide::Bot::new("1:OTHER").set_api_url(api.url().parse().unwrap());
        let refused = within(stranger.get_me()).await;
        assert!(
            matches!(refused, Err(RequestError::Api(ApiError::InvalidToken))),
            "{refused:?}"
        );
        assert_eq!(api.calls().len(), 1, "a stranger's calls are not recorded");
    }

    #[tokio::test]
    async fn wait_until_panics_listing_the_calls_seen() {
        let api = BotApi::start().await;
        within(api.bot().send_message(ChatId(1), "hi"))
            .await
            .unwrap();
        let waiting = tokio::spawn({
            let api = api.clone();
            async move { api.wait_until(Duration::from_millis(100), |_| false).await }
        });
        let panic = within(waiting).await.unwrap_err().into_panic();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("1 calls so far") && message.contains("sendmessage"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn shutdown_ends_a_waiting_poll_and_refuses_later_calls() {
        let api = BotApi::start().await;
        let bot = api.bot();
        let poll = tokio::spawn({
            let bot = bot.clone();
            async move { bot.get_updates().timeout(30).await }
        });
        api.wait_until(PATIENCE, |calls| !calls.is_empty()).await;
        api.shutdown();
        assert!(within(poll).await.unwrap().unwrap().is_empty());
        assert!(within(bot.get_me()).await.is_err());
    }

    #[test]
    fn entities_use_utf16_offsets_and_include_the_bot_suffix_of_a_command() {
        let found = entities("/help@shebao_test_bot 😀 @someone @abc");
        assert_eq!(
            found[0],
            json!({"type": "bot_command", "offset": 0, "length": 21})
        );
        assert_eq!(
            found[1],
            json!({"type": "mention", "offset": 25, "length": 8})
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(entities("/ 你好").is_empty());
    }
}
