//! `shebao ask`: shows support staff exactly what a citizen gets for a question, with what score, and why.
//!
//! The question takes the conversation's own path: the secret guard first ([`guard`]), then the matcher
//! on the redacted text, then the engine's reply to it as the first message of a new chat. Nothing of a
//! masked secret reaches any output, `--json` included.

use std::io::{BufRead, Write};

use serde::Serialize;

use crate::knowledge::KnowledgeBase;
use crate::matcher::{
    ALSO_OFFER, ANSWER_CONFIDENCE, CLARIFY_SPREAD, Candidate, Decision, SIMILARITY_FLOOR, Target,
    three_decimals,
};
use crate::staff::ask::{DecidingWords, View, reported_score, verdict};
use crate::text::guard::{SecretKind, guard};

/// How results are printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Add the normalised text, the top candidates with the question each matched through, a legend,
    /// and the decision in one plain sentence.
    pub explain: bool,
    /// One JSON object per question, on one line.
    pub json: bool,
}

#[derive(Serialize)]
struct JsonCandidate<'a> {
    /// `entry` or `out_of_scope`.
    kind: &'static str,
    /// The entry id, or `out_of_scope:topic`.
    id: String,
    score: f32,
    similarity: f32,
    question: &'a str,
}

#[derive(Serialize)]
struct JsonReason {
    code: &'static str,
    text: String,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    question: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    secrets: &'a [SecretKind],
    id: Option<&'a str>,
    score: Option<f32>,
    decision: Decision,
    reason: JsonReason,
    candidates: Vec<JsonCandidate<'a>>,
    answer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_of_scope: Option<&'a str>,
    /// Under an answer, the other entry offered as one more button.
    #[serde(skip_serializing_if = "Option::is_none")]
    also: Option<&'a str>,
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
    let view = View::of(kb, question);
    if opts.json {
        print_json(kb, &view, opts, out)
    } else {
        print_text(kb, &view, opts, out)
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
            writeln!(out, "> {}", guard(question).redacted)?;
        }
        first = false;
        one(kb, question, opts, out)?;
    }
    Ok(())
}

fn print_json(
    kb: &KnowledgeBase,
    view: &View,
    opts: Options,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let outcome = &view.outcome;
    let candidates = outcome
        .candidates
        .iter()
        .map(|c| JsonCandidate {
            kind: match c.target {
                Target::Entry(_) => "entry",
                Target::OutOfScope(_) => "out_of_scope",
            },
            id: kb.target_label(c.target),
            score: three_decimals(c.score),
            similarity: three_decimals(c.similarity),
            question: kb.target_question(c.target, c.question),
        })
        .collect();
    let result = JsonResult {
        question: &view.redacted,
        secrets: &view.secrets,
        id: view.id(),
        score: reported_score(outcome).map(three_decimals),
        decision: outcome.decision,
        reason: JsonReason {
            code: if view.withheld() {
                "secret_withheld"
            } else {
                outcome.reason().code()
            },
            text: verdict(kb, view),
        },
        candidates,
        answer: view.reply_text(),
        out_of_scope: outcome.out_of_scope().map(|t| kb.topics[t].id.as_str()),
        also: kb.also_offered(outcome).map(|e| kb.entries[e].id.as_str()),
        normalized: opts.explain.then_some(outcome.normalized.as_str()),
    };
    let line = serde_json::to_string(&result).expect("plain data always serialises");
    writeln!(out, "{line}")
}

/// What `--explain` prints under the candidates.
const LEGEND: &str = "legend: score = calibrated confidence (0-1) that the candidate is the right one, from its similarity, its lead over the next, whether the scorings agree on it and whether a clause alone found it;\n        similarity = match strength (0-1; 1 = the same question), a blend of: nearest = its closest questions, centroid = all its questions together,\n        words = how often its questions use the message's chars and words, against the other candidates' (naive Bayes, summing to 1 over all),\n        model = the probability the regression trained on the knowledge gives it (word by word: what tells entries apart);\n        lowered when the message's words speak for the other side (the e-card, or another card or app); a known question retyped counts as itself;\n        via = the question of the knowledge it matched through; out_of_scope:… = a subject the bot must not answer;\n        words deciding = what of the message (chars, char pairs, words, syllables) the regression weighs most for the first candidate over the second, and against.";

fn print_text(
    kb: &KnowledgeBase,
    view: &View,
    opts: Options,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let outcome = &view.outcome;
    let best = |c: &Candidate| format!("{} {:.2}", kb.target_label(c.target), c.score);
    match (outcome.decision, outcome.best()) {
        (_, Some(c)) if view.withheld() => writeln!(
            out,
            "withheld: a secret and nothing answerable besides (the matcher alone: {} {})",
            outcome.decision.as_str(),
            best(c)
        )?,
        (_, None) if view.withheld() => writeln!(out, "withheld: a secret and nothing else")?,
        (Decision::Answer, Some(c)) => writeln!(out, "{}", best(c))?,
        (Decision::Fallback, Some(c)) => writeln!(out, "fallback (nearest: {})", best(c))?,
        (decision, Some(c)) => writeln!(out, "{} (best: {})", decision.as_str(), best(c))?,
        (decision, None) => writeln!(out, "{} (no candidate)", decision.as_str())?,
    }
    if !view.secrets.is_empty() {
        writeln!(out, "masked: {}", view.redacted)?;
    }
    if opts.explain {
        writeln!(out, "normalised: {}", outcome.normalized)?;
        if !outcome.read_as.is_empty() {
            let read: Vec<String> = (outcome.read_as.iter())
                .map(|(typed, read)| format!("{typed} as {read}"))
                .collect();
            writeln!(
                out,
                "read homophones: {} (the knowledge writes those chars there)",
                read.join(", ")
            )?;
        }
        writeln!(out, "candidates:")?;
        for (n, c) in outcome.candidates.iter().enumerate() {
            writeln!(
                out,
                "  {}. {:<34} score {:.3}  similarity {:.3} (nearest {:.2}, centroid {:.2}, words {:.2}, model {:.2})  via 「{}」{}",
                n + 1,
                kb.target_label(c.target),
                c.score,
                c.similarity,
                c.nearest,
                c.centroid,
                c.posterior,
                c.model,
                kb.target_question(c.target, c.question),
                c.clause
                    .and_then(|i| outcome.clauses.get(i))
                    .map_or(String::new(), |clause| format!(
                        "  in the clause 「{clause}」"
                    ))
            )?;
        }
        if let Some(words) = view.deciding_words(kb, 4) {
            writeln!(
                out,
                "words deciding {} over {} (regression): for {}; against {}",
                kb.target_label(words.best),
                kb.target_label(words.other),
                DecidingWords::list(&words.toward),
                DecidingWords::list(&words.away)
            )?;
        }
        writeln!(out, "{LEGEND}")?;
        writeln!(
            out,
            "rule: fall back when an out-of-scope topic is nearest or similarity < {SIMILARITY_FLOOR:.2}; ask back when the best entry's score < {ANSWER_CONFIDENCE:.2}, when the runner-up entry's similarity is nearly equal to the best's, or when the question leaves open a word synonyms.yaml declares ambiguous, offering the best entry and those within {CLARIFY_SPREAD:.2} of it or scoring {ALSO_OFFER:.2} or more; otherwise answer."
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", view.reply_text())?;
    if opts.explain {
        writeln!(out)?;
        writeln!(out, "{}", verdict(kb, view))?;
    }
    Ok(())
}
