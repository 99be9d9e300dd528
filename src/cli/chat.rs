//! `shebao chat`: the dialogue engine in a terminal, for staff and for anyone without a Telegram token.
//!
//! Replies are printed as text; options one per line as `[1] label`; typing a number chooses that option
//! of the latest choices; any other line is a message; `/quit` or the end of input exits. Every line
//! takes the session's path ([`crate::session::commit`]): the state, records and replies are committed
//! and made durable before the reply is printed, so a second run with the same store continues where
//! the first stopped — even if the first was killed (replies it had not printed are printed first).
//!
//! With `--json` every reply is one JSON object on one line instead ([`JsonReply`]), so staff tools and
//! black-box tests can follow a whole conversation: what kind of reply, its text, the entry it answers
//! or the flow step it shows, its options, and the records kept for the staff.

use std::io::{BufRead, Write};

use anyhow::Context;
use serde::Serialize;

use crate::dialogue::{Effect, Phase, Record, Reply, State};
use crate::knowledge::KnowledgeBase;
use crate::session::{self, Incoming, Message, Rules};
use crate::store::{Delivery, Store};

/// The chat id the terminal conversation is stored under.
pub const TERMINAL_CHAT: i64 = 0;

/// How replies are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Text, options as `[n] label` lines.
    #[default]
    Text,
    /// One [`JsonReply`] per reply, one per line.
    Json,
}

/// One reply as `chat --json` prints it. Fields that do not apply to a kind are left out.
#[derive(Debug, Serialize)]
pub struct JsonReply<'a> {
    /// Which input line (1-based, blank lines not counted) this reply answers.
    pub turn: usize,
    /// `text`, `choices`, `delete_user_message` (replies), `forget_chat` or `record` (effects).
    pub kind: &'static str,
    /// The text, or the prompt above the options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'a str>,
    /// The FAQ entry whose answer this text holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<&'a str>,
    /// The flow and step this prompt shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<&'a str>,
    /// The options (buttons), in order: typing `n` chooses the n-th.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<&'a [String]>,
    /// What the staff's statistics and review keep (never a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<&'a Record>,
}

/// Runs the conversation until `/quit` or the end of `input`, replies as text. `now` gives the time in
/// Unix seconds.
pub fn run(
    kb: &KnowledgeBase,
    store: &dyn Store,
    input: impl BufRead,
    out: &mut impl Write,
    now: impl FnMut() -> i64,
) -> anyhow::Result<()> {
    run_as(kb, store, input, Format::Text, out, now)
}

/// Like [`run`], with the replies printed in `format`.
pub fn run_as(
    kb: &KnowledgeBase,
    store: &dyn Store,
    input: impl BufRead,
    format: Format,
    out: &mut impl Write,
    mut now: impl FnMut() -> i64,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // Replies a killed run committed but never printed.
    let left = runtime.block_on(store.claim(Some(TERMINAL_CHAT), usize::MAX, i64::MAX / 2))?;
    for pending in &left {
        match format {
            Format::Text => writeln!(out, "{}\n", shown(&pending.delivery))?,
            Format::Json => {
                let reply = JsonReply {
                    turn: 0,
                    kind: "text",
                    text: Some(&shown(&pending.delivery)),
                    entry: None,
                    flow: None,
                    step: None,
                    options: None,
                    record: None,
                };
                writeln!(out, "{}", serde_json::to_string(&reply)?)?;
            }
        }
    }
    let ids: Vec<_> = left.iter().map(|p| p.id).collect();
    runtime.block_on(store.mark_sent(&ids))?;
    let mut turn = 0;
    for line in input.lines() {
        let line = line.context("reading input")?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        turn += 1;
        if line == "/quit" || line == "/exit" {
            break;
        }
        let state = runtime.block_on(store.load(TERMINAL_CHAT))?.state;
        let incoming = match line.parse::<usize>() {
            // Only short numbers choose options: a six-digit number is a PIN and goes to the guard.
            Ok(n) if line.len() <= 2 && (1..=state.actions.len()).contains(&n) => {
                Incoming::Button {
                    message: None,
                    menu: state.menu,
                    index: n - 1,
                }
            }
            _ => Incoming::Text {
                message: None,
                text: line.to_string(),
            },
        };
        let message = Message {
            chat: TERMINAL_CHAT,
            update: None,
            incoming,
        };
        let now_ms = now().saturating_mul(1000);
        let done = runtime.block_on(async {
            let done = session::commit(store, kb, &message, Rules::default(), now_ms).await?;
            store.sync().await?;
            anyhow::Ok(done)
        })?;
        match format {
            Format::Text => {
                for reply in &done.replies {
                    writeln!(out, "{}\n", plain(reply))?;
                }
            }
            Format::Json => {
                for reply in json(kb, &done.state, &done.replies, &done.effects, turn) {
                    let line = serde_json::to_string(&reply).expect("plain data always serialises");
                    writeln!(out, "{line}")?;
                }
            }
        }
        out.flush()?;
        let ids: Vec<_> = done.pending.iter().map(|p| p.id).collect();
        runtime.block_on(store.mark_sent(&ids))?;
    }
    Ok(())
}

/// A reply waiting in the outbox as the terminal shows it.
fn shown(delivery: &Delivery) -> String {
    match delivery {
        Delivery::Text { text } => plain(&Reply::Text(text.clone())),
        Delivery::Choices {
            prompt,
            menu,
            options,
        } => plain(&Reply::Choices {
            prompt: prompt.clone(),
            menu: *menu,
            options: options.clone(),
        }),
        Delivery::DeleteMessage { .. } => plain(&Reply::DeleteUserMessage),
        Delivery::RemoveKeyboard { .. } => String::new(),
    }
}

/// A reply as the terminal shows it: the text, or the prompt and its options as `[n] label` lines.
pub fn plain(reply: &Reply) -> String {
    match reply {
        Reply::Text(text) => text.clone(),
        Reply::Choices {
            prompt, options, ..
        } => {
            let mut text = prompt.clone();
            for (n, label) in options.iter().enumerate() {
                text.push_str(&format!("\n[{}] {label}", n + 1));
            }
            text
        }
        Reply::DeleteUserMessage => {
            "（您的上一条消息含有敏感数字，已删除，不会被记录。）".to_string()
        }
    }
}

/// The replies and then the effects of one turn as JSON objects: the answer text tagged with its entry
/// (the one the turn's `Answered` record names), the prompt of the flow step the conversation is now at
/// tagged with it.
pub fn json<'a>(
    kb: &'a KnowledgeBase,
    state: &'a State,
    replies: &'a [Reply],
    effects: &'a [Effect],
    turn: usize,
) -> Vec<JsonReply<'a>> {
    let answered = effects.iter().find_map(|e| match e {
        Effect::Record(Record::Answered { entry }) => kb.entry(entry),
        _ => None,
    });
    let blank = || JsonReply {
        turn,
        kind: "",
        text: None,
        entry: None,
        flow: None,
        step: None,
        options: None,
        record: None,
    };
    let at = match &state.phase {
        Phase::Flow { flow, step, .. } => kb
            .flows
            .get(flow)
            .and_then(|f| f.step(step))
            .map(|s| (flow.as_str(), s)),
        Phase::Idle => None,
    };
    let replies = replies.iter().map(|reply| {
        let mut j = blank();
        match reply {
            Reply::Text(text) => {
                j.kind = "text";
                j.text = Some(text);
                j.entry = answered
                    .filter(|e| text.contains(e.answer.trim()))
                    .map(|e| e.id.as_str());
            }
            Reply::Choices {
                prompt, options, ..
            } => {
                j.kind = "choices";
                j.text = Some(prompt);
                j.options = Some(options);
                if let Some((flow, step)) = at.filter(|(_, s)| prompt.contains(s.text.trim())) {
                    j.flow = Some(flow);
                    j.step = Some(&step.id);
                }
            }
            Reply::DeleteUserMessage => j.kind = "delete_user_message",
        }
        j
    });
    let effects = effects.iter().map(|effect| {
        let mut j = blank();
        match effect {
            Effect::Forget => j.kind = "forget_chat",
            Effect::Record(record) => {
                j.kind = "record";
                j.record = Some(record);
            }
        }
        j
    });
    replies.chain(effects).collect()
}
