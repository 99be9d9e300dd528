//! `shebao ask`: shows support staff which answer a question gets, with what score, and why.

use std::io::{BufRead, Write};

use serde::Serialize;

use crate::knowledge::KnowledgeBase;
use crate::matcher::{Decision, Outcome};

/// How results are printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Add the normalised text and the top candidates with the question each matched through.
    pub explain: bool,
    /// One JSON object per question, on one line.
    pub json: bool,
}

#[derive(Serialize)]
struct JsonCandidate<'a> {
    id: &'a str,
    score: f32,
    similarity: f32,
    question: &'a str,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    question: &'a str,
    id: Option<&'a str>,
    score: f32,
    decision: Decision,
    candidates: Vec<JsonCandidate<'a>>,
    answer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_of_scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<&'a str>,
}

/// Answers one question.
pub fn one(
    kb: &KnowledgeBase,
    question: &str,
    opts: Options,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let outcome = kb.ask(question);
    if opts.json {
        print_json(kb, question, &outcome, opts, out)
    } else {
        print_text(kb, &outcome, opts, out)
    }
}

/// Answers every line of `input` (empty lines skipped), loading nothing again between questions.
pub fn batch(
    kb: &KnowledgeBase,
    input: impl BufRead,
    opts: Options,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut first = true;
    for line in input.lines() {
        let line = line?;
        let question = line.trim();
        if question.is_empty() {
            continue;
        }
        if !opts.json {
            if !first {
                writeln!(out)?;
            }
            writeln!(out, "> {question}")?;
        }
        first = false;
        one(kb, question, opts, out)?;
    }
    Ok(())
}

fn print_json(
    kb: &KnowledgeBase,
    question: &str,
    outcome: &Outcome,
    opts: Options,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let labels: Vec<String> = outcome
        .candidates
        .iter()
        .map(|c| kb.target_label(c.target))
        .collect();
    let candidates = outcome
        .candidates
        .iter()
        .zip(&labels)
        .filter(|(c, _)| matches!(c.target, crate::matcher::Target::Entry(_)))
        .map(|(c, label)| JsonCandidate {
            id: label,
            score: round(c.score),
            similarity: round(c.similarity),
            question: kb.target_question(c.target, c.question),
        })
        .collect();
    let result = JsonResult {
        question,
        id: outcome.answer().map(|e| kb.entries[e].id.as_str()),
        score: round(outcome.best().map_or(0.0, |c| c.score)),
        decision: outcome.decision,
        candidates,
        answer: answer_text(kb, outcome),
        out_of_scope: outcome.out_of_scope().map(|t| kb.topics[t].id.as_str()),
        normalized: opts.explain.then_some(outcome.normalized.as_str()),
    };
    let line = serde_json::to_string(&result).expect("plain data always serialises");
    writeln!(out, "{line}")
}

fn print_text(
    kb: &KnowledgeBase,
    outcome: &Outcome,
    opts: Options,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let score = outcome.best().map_or(0.0, |c| c.score);
    let label = outcome
        .best()
        .map_or("-".to_string(), |c| kb.target_label(c.target));
    match outcome.decision {
        Decision::Answer => writeln!(out, "{label} {score:.2}")?,
        decision => writeln!(out, "{} {score:.2} (best: {label})", decision.as_str())?,
    }
    if opts.explain {
        writeln!(out, "normalised: {}", outcome.normalized)?;
        writeln!(out, "candidates:")?;
        for (n, c) in outcome.candidates.iter().enumerate() {
            writeln!(
                out,
                "  {}. {:<34} {:.3} (similarity {:.3}: nearest {:.2}, centroid {:.2})  via 「{}」",
                n + 1,
                kb.target_label(c.target),
                c.score,
                c.similarity,
                c.nearest,
                c.centroid,
                kb.target_question(c.target, c.question)
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", answer_text(kb, outcome))
}

/// The text a citizen would get: the answer, the fallback, or the clarifying question with its options.
fn answer_text(kb: &KnowledgeBase, outcome: &Outcome) -> String {
    if outcome.decision != Decision::Clarify {
        return kb.reply_text(outcome);
    }
    let mut text = String::from("您想问的是哪一个？");
    for (n, e) in outcome.clarify_options().into_iter().enumerate() {
        text.push_str(&format!(
            "\n[{}] {}",
            n + 1,
            kb.entries[e].canonical_question()
        ));
    }
    text
}

fn round(score: f32) -> f32 {
    (score * 1000.0).round() / 1000.0
}
