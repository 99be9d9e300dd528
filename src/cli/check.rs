//! `shebao check`: validates the knowledge files, runs the regression cases and lints, for FAQ editors.

use std::io::Write;

use crate::knowledge::{KnowledgeBase, Source};

/// Prints every problem as `file:line: message`, then every warning as `file:line: warning: message`,
/// then a one-line summary. Returns whether the knowledge may go live: warnings do not change that.
pub fn run(source: &Source, out: &mut impl Write) -> std::io::Result<bool> {
    let report = KnowledgeBase::check_and_lint(source);
    for problem in &report.problems {
        writeln!(out, "{problem}")?;
    }
    for warning in &report.warnings {
        writeln!(out, "{warning}")?;
    }
    let s = report.summary;
    let cases = if report.knowledge.is_some() {
        format!("{} cases", s.cases)
    } else {
        format!("{} cases (not run: the knowledge did not load)", s.cases)
    };
    writeln!(
        out,
        "{}: {} entries, {} questions, {} out-of-scope topics, {cases}, {}, {}",
        source.origin,
        s.entries,
        s.questions,
        s.topics,
        count(report.problems.len(), "problem"),
        count(report.warnings.len(), "warning"),
    )?;
    Ok(report.problems.is_empty())
}

/// `1 problem`, `3 problems`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
