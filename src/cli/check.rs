//! `shebao check`: validates the knowledge files and runs the regression cases, for FAQ editors.

use std::io::Write;

use crate::knowledge::{KnowledgeBase, Source};

/// Prints every problem as `file:line: message` and a one-line summary. Returns whether all is well.
pub fn run(source: &Source, out: &mut impl Write) -> std::io::Result<bool> {
    let report = KnowledgeBase::check(source);
    for problem in &report.problems {
        writeln!(out, "{problem}")?;
    }
    let s = report.summary;
    let cases = if report.knowledge.is_some() {
        format!("{} cases", s.cases)
    } else {
        format!("{} cases (not run: the knowledge did not load)", s.cases)
    };
    writeln!(
        out,
        "{}: {} entries, {} questions, {} out-of-scope topics, {cases}, {} problem{}",
        source.origin,
        s.entries,
        s.questions,
        s.topics,
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" },
    )?;
    Ok(report.problems.is_empty())
}
