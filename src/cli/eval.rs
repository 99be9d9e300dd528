//! `shebao eval FILE.tsv`: measures matching quality on labelled questions and lists every miss.

use std::io::Write;

use crate::knowledge::Evaluation;

/// Prints in-domain top-1 accuracy, out-of-scope rejection rate and each miss.
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
        "wrong answers:            {} of {} questions",
        eval.wrong_answers,
        eval.in_domain + eval.out_of_scope
    )?;
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
