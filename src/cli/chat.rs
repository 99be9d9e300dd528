//! `shebao chat`: the dialogue engine in a terminal, for staff and for anyone without a Telegram token.
//!
//! Replies are printed as text; options one per line as `[1] label`; typing a number chooses that option
//! of the latest choices; any other line is a message; `/quit` or the end of input exits. The state is
//! saved (and flushed) after every line, before the reply is printed, so a second run with the same
//! database continues where the first stopped — even if the first was killed.

use std::io::{BufRead, Write};

use anyhow::Context;

use crate::dialogue::{Input, Reply, step};
use crate::knowledge::KnowledgeBase;
use crate::store::Store;

/// The chat id the terminal conversation is stored under.
pub const TERMINAL_CHAT: i64 = 0;

/// Runs the conversation until `/quit` or the end of `input`. `now` gives the time in Unix seconds.
pub fn run(
    kb: &KnowledgeBase,
    store: &Store,
    input: impl BufRead,
    out: &mut impl Write,
    mut now: impl FnMut() -> i64,
) -> anyhow::Result<()> {
    for line in input.lines() {
        let line = line.context("reading input")?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/quit" || line == "/exit" {
            break;
        }
        let state = store.load(TERMINAL_CHAT)?;
        let input = match line.parse::<usize>() {
            // Only short numbers choose options: a six-digit number is a PIN and goes to the guard.
            Ok(n) if line.len() <= 2 && (1..=state.actions.len()).contains(&n) => Input::Choice {
                menu: state.menu,
                index: n - 1,
            },
            _ => Input::Text(line.to_string()),
        };
        let now = now();
        let (state, replies) = step(kb, state, input, now);
        for reply in &replies {
            if let Reply::Record(record) = reply {
                store.record(record, now)?;
            }
        }
        if replies.contains(&Reply::ForgetChat) {
            store.remove(TERMINAL_CHAT)?;
        } else {
            store.save(TERMINAL_CHAT, &state)?;
        }
        for reply in &replies {
            render(reply, out)?;
        }
        out.flush()?;
    }
    Ok(())
}

fn render(reply: &Reply, out: &mut impl Write) -> std::io::Result<()> {
    match reply {
        Reply::Text(text) => writeln!(out, "{text}\n"),
        Reply::Choices {
            prompt, options, ..
        } => {
            writeln!(out, "{prompt}")?;
            for (n, label) in options.iter().enumerate() {
                writeln!(out, "[{}] {label}", n + 1)?;
            }
            writeln!(out)
        }
        Reply::DeleteUserMessage => writeln!(
            out,
            "（您的上一条消息含有敏感数字，已删除，不会被记录。）\n"
        ),
        Reply::ForgetChat | Reply::Record(_) => Ok(()),
    }
}
