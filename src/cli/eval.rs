//! `shebao eval FILE.tsv`: measures matching quality on labelled questions and lists every miss.
//!
//! `--leave-one-out` and `--folds K` measure the same on the knowledge's own questions, each asked against a
//! model built without it. The first three lines carry everything `../shared/eval/peer.py` shows side by
//! side with its peers: in-domain accuracy, out-of-scope rejection, overall accuracy and wrong answers
//! (split, because peer.py counts only in-scope questions answered with another entry as a peer's wrong answers).

use std::io::Write;

use crate::knowledge::{Evaluation, KnowledgeBase};
use crate::matcher::calibration::{self, Calibration, Evidence};
use crate::matcher::{ANSWER_CONFIDENCE, CALIBRATION};

/// Prints the calibration that `folds`-fold cross-validation fits beside the shipped [`CALIBRATION`]: the
/// weights, how well each fits (log-loss: lower is better) and what each would answer among the samples
/// at [`ANSWER_CONFIDENCE`], so an editor whose knowledge changed much can see whether to refit.
pub fn print_calibration(
    kb: &KnowledgeBase,
    folds: usize,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let (fitted, samples) = kb.fit_calibration(folds);
    let right = samples.iter().filter(|(_, r)| *r).count();
    writeln!(
        out,
        "calibration, fitted on the best entry of {} held-out questions and tests.tsv cases that did not fall back ({right} right):",
        samples.len()
    )?;
    let line = |name: &str, c: &Calibration| {
        let answered: Vec<&(Evidence, bool)> = samples
            .iter()
            .filter(|(e, _)| c.confidence(e) >= ANSWER_CONFIDENCE)
            .collect();
        let wrong = answered.iter().filter(|(_, r)| !r).count();
        format!(
            "  {name}: {c}; log-loss {:.3}; {} confident at {ANSWER_CONFIDENCE}, {wrong} of them wrong",
            calibration::log_loss(c, &samples),
            answered.len()
        )
    };
    writeln!(out, "{}", line("shipped", &CALIBRATION))?;
    writeln!(out, "{}", line("fitted ", &fitted))
}

/// A confusion between two targets seen this often is a boundary worth an editor's look; once is an
/// accident of one wording.
const CONFUSED_AT_LEAST: usize = 2;

/// Prints in-domain top-1 accuracy, out-of-scope rejection rate, the boundaries the misses cross most
/// often, and each miss.
pub fn print(eval: &Evaluation, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "in-domain top-1 accuracy: {}",
        share(eval.accuracy(), eval.in_domain_correct, eval.in_domain)
    )?;
    writeln!(
        out,
        "out-of-scope rejection:   {}",
        share(
            eval.rejection(),
            eval.out_of_scope_rejected,
            eval.out_of_scope
        )
    )?;
    writeln!(
        out,
        "overall:                  {:.3} ({}/{}), wrong answers {} ({} in scope with another entry, {} out of scope answered)",
        eval.overall(),
        eval.in_domain_correct + eval.out_of_scope_rejected,
        eval.in_domain + eval.out_of_scope,
        eval.wrong_answers,
        eval.wrong_entries,
        eval.wrong_answers - eval.wrong_entries,
    )?;
    writeln!(
        out,
        "right entry ranked first: {:.3}, answered or offered in one tap: {:.3} (of {} in scope)",
        ratio(eval.ranked_first, eval.in_domain),
        ratio(eval.one_tap, eval.in_domain),
        eval.in_domain
    )?;
    writeln!(
        out,
        "another entry offered under {} of {} answers; the right one for {}",
        eval.also_offered, eval.answers, eval.also_offered_right
    )?;
    let confusions = eval.confusions(CONFUSED_AT_LEAST);
    if !confusions.is_empty() {
        writeln!(
            out,
            "where the entries' lines blur (expected, then what came instead; {CONFUSED_AT_LEAST} times or more):"
        )?;
        for c in &confusions {
            writeln!(
                out,
                "  {:>3}  {} -> {} {}",
                c.count,
                c.expected,
                c.decision.as_str(),
                c.got
            )?;
        }
    }
    if !eval.misses.is_empty() {
        writeln!(out, "misses ({}):", eval.misses.len())?;
    }
    for miss in &eval.misses {
        writeln!(
            out,
            "  {}:{}: {}",
            miss.case.file,
            miss.case.line,
            miss.describe()
        )?;
    }
    Ok(())
}

/// `0.957 (88/92)`, or `n/a (no questions)` for a class the file has none of (rather than a perfect score).
fn share(ratio: f64, hits: usize, of: usize) -> String {
    if of == 0 {
        "n/a (no questions of this kind)".to_string()
    } else {
        format!("{ratio:.3} ({hits}/{of})")
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}
