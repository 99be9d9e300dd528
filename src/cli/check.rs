//! `shebao check`: validates the knowledge files, runs the regression cases and lints, for FAQ editors.

use std::io::Write;
use std::path::PathBuf;

use crate::knowledge::{Baseline, KnowledgeBase, Source};

/// Which warnings to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Compare with this baseline file and show only warnings it does not hold (see
    /// [`Baseline`](crate::knowledge::Baseline)). `None`: every warning.
    pub baseline: Option<PathBuf>,
    /// Write the current warnings to `baseline` instead of comparing with it.
    pub write_baseline: bool,
}

/// Prints every problem as `file:line: message`, then every warning (or, with a baseline, every new
/// warning) as `file:line: warning: message`, then a one-line summary. Returns whether the knowledge
/// may go live: warnings do not change that.
pub fn run(source: &Source, opts: &Options, out: &mut impl Write) -> anyhow::Result<bool> {
    use anyhow::Context;
    let report = KnowledgeBase::check_and_lint(source);
    for problem in &report.problems {
        writeln!(out, "{problem}")?;
    }
    let total = report.warnings.len();
    let warnings = match &opts.baseline {
        // Nothing was linted: comparing would call every baseline warning fixed, writing would empty it.
        Some(path) if report.knowledge.is_none() => format!(
            "warnings not checked (the knowledge did not load; {} left as it is)",
            path.display()
        ),
        Some(path) if opts.write_baseline => {
            std::fs::write(path, Baseline::render(&report.warnings))
                .with_context(|| format!("writing {}", path.display()))?;
            format!("{} written to {}", count(total, "warning"), path.display())
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the baseline {}", path.display()))?;
            let compared = Baseline::parse(&text).compare(report.warnings);
            for warning in &compared.new {
                writeln!(out, "{warning}")?;
            }
            let gone = match compared.gone {
                0 => String::new(),
                n => format!(
                    "; {} no longer occur (`shebao check --write-baseline` drops them)",
                    count(n, "baseline warning")
                ),
            };
            format!(
                "{} against {} ({} known, not shown{gone})",
                count(compared.new.len(), "new warning"),
                path.display(),
                compared.known
            )
        }
        None => {
            for warning in &report.warnings {
                writeln!(out, "{warning}")?;
            }
            count(total, "warning")
        }
    };
    let s = report.summary;
    let cases = if report.knowledge.is_some() {
        format!("{} cases", s.cases)
    } else {
        format!("{} cases (not run: the knowledge did not load)", s.cases)
    };
    writeln!(
        out,
        "{}: {} entries, {} questions, {} out-of-scope topics, {cases}, {}, {warnings}",
        source.origin,
        s.entries,
        s.questions,
        s.topics,
        count(report.problems.len(), "problem"),
    )?;
    Ok(report.problems.is_empty())
}

/// `1 problem`, `3 problems`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
