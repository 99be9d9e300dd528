//! shebao answers citizens' questions about the six-digit password (PIN) of China's electronic social
//! security card (电子社保卡), and never asks for the PIN.
//!
//! # Layout
//!
//! - [`text`]: normalisation (NFKC, Traditional -> Simplified, synonyms), pinyin syllables, wording checks;
//!   `numerals` reads digits in every script, `guard` finds secrets by number shape and context, `redact`
//!   masks every long number in what is stored or shown (`Redacted`).
//! - [`knowledge`]: raw YAML -> validated [`knowledge::KnowledgeBase`], every problem reported with file:line;
//!   warnings for editors (`knowledge::lint`); words that leave open which entry is meant, asked about
//!   instead of guessed (`knowledge::ambiguity`); published versions (`knowledge::history`: files beside
//!   `--knowledge DIR`, or the PostgreSQL store's `PgHistory`).
//! - [`matcher`]: homophone typos read as the knowledge writes them (`matcher::homophone`), the inverted
//!   index and the model learned from the knowledge at load time (nearest
//!   questions, centroids, naive Bayes, in-scope evidence, a softmax regression in `matcher::model`), clause scoring of long messages, the decision;
//!   pure, deterministic, explainable ([`matcher::Reason`]: which rule decided, for `ask --explain`,
//!   `ask --json` and the staff's `/why`; `Matcher::deciding_words`: what of the message tells the two best
//!   apart).
//! - [`console`]: the web console for staff and FAQ editors (axum router, sign-in, try-it, sandbox chat,
//!   review inbox, editor with publish/history/rollback, trends, health), on the live knowledge it is
//!   given: its own (`shebao console`) or the bot's (`shebao run --console`).
//! - [`dialogue`]: `State`, `Input`, `Reply` (what the user sees), `Effect` (records, forget), `step()`:
//!   the conversation engine, pure, no I/O; `dialogue::understand` reads a typed message as a button, a
//!   fact, small talk or a scam alarm first.
//! - [`session`]: the one path every message takes (terminal, polling, webhook): load the chat's row, skip
//!   an applied update, flood limit, `step`, commit {state or forget, records, outbox} atomically, sync,
//!   deliver through the adapter's `Deliver`, mark sent; on a conflict, step again.
//! - [`store`]: the `Store` trait in domain verbs (`store::api`), chosen by URL (`store::open`): `sled`
//!   (embedded default), `postgres` (shared by replicas: row-locked commits, a `SKIP LOCKED` outbox,
//!   reloads announced with `NOTIFY`, published knowledge versions (`Store::history`), schema in
//!   `store/migrations`) and `memory` (tests), the same
//!   conformance `suite` for each; chat rows with a
//!   version, the outbox of replies, and the records the staff review (unanswered questions, answers
//!   marked 👎, hourly counts), tied to no chat.
//! - [`maintenance`]: background upkeep: the outbox sweeper (replies a dead process left) and pruning.
//! - [`live`]: the knowledge a running bot serves, swapped atomically when an edit or a published
//!   version passes `check`; `live::refresh` loads the newest published version (PostgreSQL) or the
//!   directory again.
//! - [`review`]: unanswered questions (wordless messages dropped) grouped and ranked, answers marked 👎,
//!   and activity counts, as the staff read them.
//! - [`staff`]: staff operations as data: what a citizen gets for a question and why (`ask`, `/why`, the
//!   console's try-it page).
//! - [`telegram`]: bot setup (`connect` builds the `Session`), `poll` (confirms only handled updates),
//!   `classify` (update -> `session::Incoming`), `deliver` (outbox -> Bot API calls), `webhook`
//!   (Telegram's POSTs through [`http`]); reload requests; the staff's commands.
//! - [`http`]: one axum router: Telegram's webhook (`POST /telegram`, 200 only after the commit, the secret
//!   token checked in constant time), `/livez`, `/readyz` and `/metrics`; the drain at SIGTERM.
//! - [`metrics`]: what Prometheus scrapes (updates by kind and outcome, handling seconds, outbox backlog,
//!   fallbacks, secrets intercepted), never labelled with a chat.
//! - [`cli`]: one module per subcommand (`ask`, `check`, `eval`, `chat`, `run`, `console`, `knowledge`,
//!   `unanswered`, `webhook`); `main.rs` only parses and wires.
//!
//! Data flows one way: knowledge files -> `KnowledgeBase` (normalises and indexes); each message ->
//! `session` -> `text::guard` (secrets masked) -> `dialogue::step` (asks the matcher, walks the flows) ->
//! one atomic commit of the new `State`, the `Effect`s and the `Reply`s (as outbox `Delivery`s) -> sync ->
//! the adapter (terminal or Telegram) renders the replies. The engine's `Effect::Record`s (answered,
//! unanswered, flow completed, secret intercepted, 👍/👎) go to the store for the staff's `/stats`,
//! `/unanswered` and `shebao unanswered`; the text they carry is `text::redact::Redacted`.

pub mod cli;
pub mod console;
pub mod dialogue;
pub mod http;
pub mod knowledge;
pub mod live;
pub mod maintenance;
pub mod matcher;
pub mod metrics;
pub mod review;
pub mod session;
pub mod staff;
pub mod store;
pub mod telegram;
pub mod text;

/// The wall clock in Unix seconds, for the drivers of the engine (the engine itself takes `now` as an argument).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The wall clock in Unix milliseconds (the flood limit counts within seconds).
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
