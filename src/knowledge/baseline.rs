//! The warnings editors have already seen (`warnings.baseline`), so `check` can show what a change caused.
//!
//! A warning is identified by its [`Warning::fingerprint`]: the file name and the message with every
//! number masked. Not by its line, which any edit above it shifts, nor by its similarities, which any
//! edit anywhere nudges: a confusion between the same two entries through the same question is the
//! same warning before and after an unrelated edit.

use std::collections::HashMap;

use super::Warning;

/// The baseline's file name, beside the knowledge files.
pub const BASELINE_FILE: &str = "warnings.baseline";

impl Warning {
    /// What identifies this warning across edits: `faq.yaml: message` with each number written `#`,
    /// and for a confusion only who is confused with whom (what it matched through, and how closely,
    /// move with every edit to either entry).
    pub fn fingerprint(&self) -> String {
        let file = self
            .0
            .file
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&self.0.file);
        let message = self.0.message.split(" (via ").next().unwrap_or_default();
        format!("{file}: {}", mask_numbers(message))
    }
}

/// `similarity 0.43 (line 12)` -> `similarity # (line #)`.
fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_digit() {
            out.push(c);
            continue;
        }
        while let Some(&next) = chars.peek() {
            let decimal_point = next == '.' && {
                let mut ahead = chars.clone();
                ahead.next();
                ahead.peek().is_some_and(char::is_ascii_digit)
            };
            if next.is_ascii_digit() || decimal_point {
                chars.next();
            } else {
                break;
            }
        }
        out.push('#');
    }
    out
}

/// The accepted warnings, counted by fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    known: HashMap<String, usize>,
}

/// Warnings split against a baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compared {
    /// Warnings the baseline does not hold: what the change caused.
    pub new: Vec<Warning>,
    /// Warnings the baseline holds (not shown).
    pub known: usize,
    /// Baseline lines no current warning matches: fixed since.
    pub gone: usize,
}

impl Baseline {
    /// Reads a baseline: one fingerprint a line; blank lines and `#` comments skipped.
    pub fn parse(text: &str) -> Baseline {
        let mut known = HashMap::new();
        for line in text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                *known.entry(line.to_string()).or_insert(0) += 1;
            }
        }
        Baseline { known }
    }

    /// The baseline text for `warnings`, sorted so that it diffs well.
    pub fn render(warnings: &[Warning]) -> String {
        let mut lines: Vec<String> = warnings.iter().map(Warning::fingerprint).collect();
        lines.sort();
        let mut text = String::from(
            "# Warnings of `shebao check` accepted for now: `check` shows only warnings not listed here.\n# One per line, numbers written #, no line numbers. Rewrite with `shebao check --write-baseline`.\n",
        );
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
        text
    }

    /// Splits `warnings` into the new ones and a count of the known ones.
    pub fn compare(&self, warnings: Vec<Warning>) -> Compared {
        let mut left = self.known.clone();
        let mut compared = Compared::default();
        for warning in warnings {
            match left.get_mut(&warning.fingerprint()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    compared.known += 1;
                }
                _ => compared.new.push(warning),
            }
        }
        compared.gone = left.values().sum();
        compared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(file: &str, line: usize, message: &str) -> Warning {
        Warning::new(file, line, message)
    }

    #[test]
    fn a_fingerprint_ignores_the_directory_the_line_and_the_numbers() {
        let a = warning(
            "/tmp/x/faq.yaml",
            12,
            "question `密码忘了12333` of `a` is closer to `b` (via `c`, similarity 0.43) than to its own entry (0.40)",
        );
        let b = warning(
            "knowledge/faq.yaml",
            30,
            "question `密码忘了12333` of `a` is closer to `b` (via `c`, similarity 0.4512) than to its own entry (0.41)",
        );
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(
            a.fingerprint(),
            "faq.yaml: question `密码忘了#` of `a` is closer to `b`"
        );
        let moved = warning(
            "faq.yaml",
            31,
            "question `密码忘了12333` of `a` is closer to `b` (via `d`, similarity 0.2) than to its own entry (not among the 5 nearest)",
        );
        assert_eq!(a.fingerprint(), moved.fingerprint());
    }

    #[test]
    fn only_warnings_missing_from_the_baseline_are_new() {
        let old = [
            warning("faq.yaml", 3, "entry `a` has only 2 question(s)"),
            warning("faq.yaml", 9, "entry `b` has only 1 question(s)"),
        ];
        let baseline = Baseline::parse(&Baseline::render(&old));
        let now = vec![
            // Shifted by an edit above it: still known.
            warning("faq.yaml", 5, "entry `a` has only 2 question(s)"),
            warning("faq.yaml", 40, "entry `c` has only 2 question(s)"),
        ];
        let compared = baseline.compare(now);
        assert_eq!(compared.known, 1);
        assert_eq!(compared.gone, 1, "`b` was fixed");
        assert_eq!(compared.new.len(), 1);
        assert_eq!(compared.new[0].0.line, 40);
    }
}
