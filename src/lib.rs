//! shebao answers citizens' questions about the six-digit password (PIN) of China's electronic social
//! security card (电子社保卡), and never asks for the PIN.
//!
//! # Layout
//!
//! - [`text`]: normalisation (NFKC, Traditional -> Simplified, synonyms), pinyin syllables, wording checks;
//!   `numerals` reads digits in every script, `guard` finds secrets by number shape and context, `redact`
//!   masks every long number in what is stored or shown (`Redacted`).
//! - [`knowledge`]: raw YAML -> validated [`knowledge::KnowledgeBase`], every problem reported with file:line;
//!   warnings for editors (`knowledge::lint`).
//! - [`matcher`]: the inverted index and the model learned from the knowledge at load time (nearest
//!   questions, centroids, naive Bayes, in-scope evidence, a softmax regression in `matcher::model`), clause scoring of long messages, the decision;
//!   pure, deterministic, explainable ([`matcher::Reason`]: which rule decided, for `ask --explain`,
//!   `ask --json` and the staff's `/why`).
//! - [`dialogue`]: `State`, `Input`, `Reply`, `step()`: the conversation engine, pure, no I/O;
//!   `dialogue::understand` reads a typed message as a button, a fact, small talk or a scam alarm first.
//! - [`store`]: sled-backed conversation state (teloxide's `Storage<State>`), versioned encoding; and the
//!   records the staff review (unanswered questions, answers marked 👎, hourly counts), tied to no chat.
//! - [`live`]: the knowledge a running bot serves, swapped atomically when an edit passes `check`.
//! - [`review`]: unanswered questions (wordless messages dropped) grouped and ranked, answers marked 👎,
//!   and activity counts, as the staff read them.
//! - [`telegram`]: updates -> `Input`, `Reply` -> Bot API calls; polling that confirms only handled updates;
//!   reload requests; the staff's commands.
//! - [`cli`]: one module per subcommand (`ask`, `check`, `eval`, `chat`, `run`, `unanswered`); `main.rs`
//!   only parses and wires.
//!
//! Data flows one way: knowledge files -> `KnowledgeBase` (normalises and indexes); each message ->
//! `text::guard` (secrets masked) -> `dialogue::step` (asks the matcher, walks the flows) -> `Reply`s that
//! an adapter (terminal or Telegram) renders, after the new `State` is flushed to the store. The engine's
//! `Reply::Record`s (answered, unanswered, flow completed, secret intercepted, 👍/👎) go to the store for the
//! staff's `/stats`, `/unanswered` and `shebao unanswered`; the text they carry is `text::redact::Redacted`.

pub mod cli;
pub mod dialogue;
pub mod knowledge;
pub mod live;
pub mod matcher;
pub mod review;
pub mod store;
pub mod telegram;
pub mod text;

/// The wall clock in Unix seconds, for the drivers of the engine (the engine itself takes `now` as an argument).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
