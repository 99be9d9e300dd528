//! shebao answers citizens' questions about the six-digit password (PIN) of China's electronic social
//! security card (电子社保卡), and never asks for the PIN.
//!
//! # Layout
//!
//! - [`text`]: normalisation (NFKC, Traditional -> Simplified, synonyms) and wording checks.
//! - [`knowledge`]: raw YAML -> validated [`knowledge::KnowledgeBase`], every problem reported with file:line.
//! - [`matcher`]: scoring and the inverted index; pure, deterministic, explainable.
//! - [`cli`]: one module per subcommand (`ask`, `check`, `eval`); `main.rs` only parses and wires.
//!
//! Data flows one way: knowledge files -> `KnowledgeBase` (normalises and indexes) -> `Matcher::find` for
//! each question -> an `Outcome` (answer / clarify / fallback) that the front ends turn into text.

pub mod cli;
pub mod knowledge;
pub mod matcher;
pub mod text;
