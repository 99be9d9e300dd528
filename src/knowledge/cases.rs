//! Labelled questions (`accepted ids TAB question`): regression cases in `tests.tsv` and evaluation sets.

use super::{KnowledgeBase, Problem};
use crate::matcher::Decision;

/// The label meaning "must fall back".
pub const NONE: &str = "none";

/// One labelled question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Accepted entry ids, or just `none` for a question the bot must not answer.
    pub accepted: Vec<String>,
    pub question: String,
    pub file: String,
    pub line: usize,
}

impl Case {
    pub fn expects_fallback(&self) -> bool {
        self.accepted.iter().any(|a| a == NONE)
    }
}

/// Parses a TSV of cases. Blank lines and lines starting with `#` are skipped.
pub fn parse(text: &str, file: &str) -> (Vec<Case>, Vec<Problem>) {
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((ids, question)) = line.split_once('\t') else {
            problems.push(Problem::new(
                file,
                line_no,
                "expected `accepted_ids<TAB>question`, found no TAB",
            ));
            continue;
        };
        let accepted: Vec<String> = ids
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if accepted.is_empty() || question.trim().is_empty() {
            problems.push(Problem::new(
                file,
                line_no,
                "a case needs both accepted ids and a question",
            ));
            continue;
        }
        cases.push(Case {
            accepted,
            question: question.trim().to_string(),
            file: file.to_string(),
            line: line_no,
        });
    }
    (cases, problems)
}

/// A case the knowledge got wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    pub case: Case,
    pub decision: Decision,
    /// The best candidate's label and score, if any.
    pub got: Option<(String, f32)>,
}

impl Miss {
    /// One line: what was expected and what came out.
    pub fn describe(&self) -> String {
        let got = match &self.got {
            Some((label, score)) => format!("{} {label} ({score:.2})", self.decision.as_str()),
            None => self.decision.as_str().to_string(),
        };
        format!(
            "case `{}` expected {}, got {got}",
            self.case.question,
            self.case.accepted.join("|")
        )
    }
}

/// Scores on a set of labelled questions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub in_domain: usize,
    pub in_domain_correct: usize,
    pub out_of_scope: usize,
    pub out_of_scope_rejected: usize,
    pub misses: Vec<Miss>,
}

impl Evaluation {
    /// Share of in-scope questions answered with an accepted entry (top-1, decision `answer`).
    pub fn accuracy(&self) -> f64 {
        ratio(self.in_domain_correct, self.in_domain)
    }

    /// Share of out-of-scope questions that fell back.
    pub fn rejection(&self) -> f64 {
        ratio(self.out_of_scope_rejected, self.out_of_scope)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

pub(super) fn evaluate(kb: &KnowledgeBase, cases: &[Case]) -> Evaluation {
    let mut eval = Evaluation::default();
    for case in cases {
        let outcome = kb.ask(&case.question);
        let ok = if case.expects_fallback() {
            eval.out_of_scope += 1;
            outcome.decision == Decision::Fallback
        } else {
            eval.in_domain += 1;
            outcome
                .answer()
                .is_some_and(|e| case.accepted.iter().any(|a| a == kb.entries[e].id.as_str()))
        };
        if ok {
            if case.expects_fallback() {
                eval.out_of_scope_rejected += 1;
            } else {
                eval.in_domain_correct += 1;
            }
        } else {
            eval.misses.push(Miss {
                case: case.clone(),
                decision: outcome.decision,
                got: outcome.best().map(|c| (kb.target_label(c.target), c.score)),
            });
        }
    }
    eval
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_parsed_with_alternatives_and_line_numbers() {
        let (cases, problems) = parse(
            "# header\n\nforgot_pin|reset_offline\t密码忘了\nnone\t天气\n",
            "t.tsv",
        );
        assert!(problems.is_empty());
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].accepted, ["forgot_pin", "reset_offline"]);
        assert_eq!(cases[0].line, 3);
        assert!(cases[1].expects_fallback());
    }

    #[test]
    fn a_line_without_tab_is_a_problem_at_its_line() {
        let (_, problems) = parse("forgot_pin 密码忘了\n", "t.tsv");
        assert_eq!(
            problems[0].to_string(),
            "t.tsv:1: expected `accepted_ids<TAB>question`, found no TAB"
        );
    }
}
