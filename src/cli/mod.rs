//! The subcommands, one module each; `main.rs` parses arguments and calls into them.

pub mod ask;
pub mod chat;
pub mod check;
pub mod console;
pub mod eval;
pub mod knowledge;
pub mod run;
pub mod unanswered;

use std::path::Path;

use anyhow::Context;

use crate::knowledge::{KnowledgeBase, Source};

/// Reads the knowledge from `dir`, or the copy embedded in the binary when `dir` is `None`.
pub fn source(dir: Option<&Path>) -> anyhow::Result<Source> {
    match dir {
        Some(dir) => Source::from_dir(dir)
            .with_context(|| format!("reading knowledge from {}", dir.display())),
        None => Ok(Source::embedded()),
    }
}

/// Loads and validates the knowledge; every problem is listed in the error.
pub fn load(dir: Option<&Path>) -> anyhow::Result<KnowledgeBase> {
    let source = source(dir)?;
    KnowledgeBase::load(&source)
        .with_context(|| format!("loading knowledge from {}", source.origin))
}
