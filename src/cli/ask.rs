//! `shebao ask`: shows support staff exactly what a citizen gets for a question, with what score, and why.
//!
//! The question takes the conversation's own path: the secret guard first ([`guard`]), then the matcher
//! on the redacted text, then the engine's reply to it as the first message of a new chat. Nothing of a
//! masked secret reaches any output, `--json` included.

use std::io::{BufRead, Write};

use serde::Serialize;

use crate::dialogue::{Effect, Input, Record, Reply, State, step};
use crate::knowledge::KnowledgeBase;
use crate::matcher::{
    ANSWER_CONFIDENCE, Candidate, Decision, Outcome, Reason, SIMILARITY_FLOOR, Target,
};
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

/// What happens to one question, the way the conversation handles it.
struct View {
    /// The question with every secret masked.
    redacted: String,
    secrets: Vec<SecretKind>,
    outcome: Outcome,
    /// The entry the matcher answers with, when it decides to answer.
    matched: Option<String>,
    /// What the bot replies to it as the first message of a new chat.
    replies: Vec<Reply>,
    /// What that reply records (which entry answered).
    effects: Vec<Effect>,
}

impl View {
    fn of(kb: &KnowledgeBase, question: &str) -> View {
        let guarded = guard(question);
        let outcome = kb.ask(&guarded.redacted);
        let (_, replies, effects) =
            step(kb, State::default(), Input::Text(question.to_string()), 0);
        let matched = outcome.answer().map(|e| kb.entries[e].id.to_string());
        View {
            redacted: guarded.redacted,
            secrets: guarded.secrets,
            outcome,
            matched,
            replies,
            effects,
        }
    }

    /// The entry the conversation answered with, if it answered.
    fn answered(&self) -> Option<&str> {
        self.effects.iter().find_map(|e| match e {
            Effect::Record(Record::Answered { entry }) => Some(entry.as_str()),
            _ => None,
        })
    }

    /// The entry the question is answered with: the one the conversation answered with, or, where it
    /// replied in its own words (谢谢 gets a kind word, not the `thanks` entry's text), the one the matcher
    /// chose; none when a secret withheld the answer.
    fn id(&self) -> Option<&str> {
        if self.withheld() {
            return None;
        }
        self.answered().or(self.matched.as_deref())
    }

    /// The text the citizen sees: every reply, options as `[n] label` lines.
    fn reply_text(&self) -> String {
        let parts: Vec<String> = self
            .replies
            .iter()
            .map(|r| super::chat::plain(r).trim_end().to_string())
            .collect();
        parts.join("\n\n")
    }

    /// A message with a secret that the conversation deletes and warns about without answering.
    fn withheld(&self) -> bool {
        !self.secrets.is_empty() && self.answered().is_none()
    }
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

/// The confidence `ask` reports: the best entry's, unless the bot fell back (then there is none to
/// report: the nearest candidate may be a topic, and its confidence is not an answer's).
fn reported_score(outcome: &Outcome) -> Option<f32> {
    match outcome.decision {
        Decision::Fallback => None,
        _ => outcome.entry_candidates().next().map(|c| c.score),
    }
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
            score: round(c.score),
            similarity: round(c.similarity),
            question: kb.target_question(c.target, c.question),
        })
        .collect();
    let result = JsonResult {
        question: &view.redacted,
        secrets: &view.secrets,
        id: view.id(),
        score: reported_score(outcome).map(round),
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
        normalized: opts.explain.then_some(outcome.normalized.as_str()),
    };
    let line = serde_json::to_string(&result).expect("plain data always serialises");
    writeln!(out, "{line}")
}

/// What `--explain` prints under the candidates.
const LEGEND: &str = "legend: score = calibrated confidence (0-1) that the candidate is the right one, from its similarity and its lead over the next;\n        similarity = match strength (0-1; 1 = the same question): nearest = its closest questions, centroid = all its questions together;\n        via = the question of the knowledge it matched through; out_of_scope:… = a subject the bot must not answer.";

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
        writeln!(out, "candidates:")?;
        for (n, c) in outcome.candidates.iter().enumerate() {
            writeln!(
                out,
                "  {}. {:<34} score {:.3}  similarity {:.3} (nearest {:.2}, centroid {:.2})  via 「{}」",
                n + 1,
                kb.target_label(c.target),
                c.score,
                c.similarity,
                c.nearest,
                c.centroid,
                kb.target_question(c.target, c.question)
            )?;
        }
        writeln!(out, "{LEGEND}")?;
        writeln!(
            out,
            "rule: fall back when an out-of-scope topic is nearest or similarity < {SIMILARITY_FLOOR:.2}; ask back when the runner-up entry is above that and the best's score < {ANSWER_CONFIDENCE:.2} (or their similarities are nearly equal); otherwise answer."
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

/// How an entry or topic is named for a non-programmer: an entry by its id and canonical question, a
/// topic by the question it matched through.
fn name(kb: &KnowledgeBase, c: &Candidate) -> String {
    match c.target {
        Target::Entry(e) => format!(
            "{}「{}」",
            kb.entries[e].id,
            kb.entries[e].canonical_question()
        ),
        Target::OutOfScope(t) => format!(
            "「{}」这类问题（{}）",
            kb.target_question(c.target, c.question),
            kb.topics[t].id
        ),
    }
}

/// The decision in one plain Chinese sentence, with why it was not one of the other two.
fn verdict(kb: &KnowledgeBase, view: &View) -> String {
    if view.withheld() {
        let kinds: Vec<&str> = view.secrets.iter().map(|k| k.label()).collect();
        return format!(
            "没有作答，因为消息里有{}（已遮盖成******），去掉它剩下的不是一个能直接回答的问题：机器人会删除这条消息并提醒用户别发这些，其余不答。",
            kinds.join("、")
        );
    }
    let masked = if view.secrets.is_empty() {
        ""
    } else {
        "（消息里的敏感数字已遮盖，按遮盖后的问题判断）"
    };
    let sentence = match view.outcome.reason() {
        Reason::Confident { best, runner_up } => {
            let lead = match runner_up {
                Some(r) => format!(
                    "，领先第二接近的 {}（相似度 {:.2}）够多，所以不用反问",
                    name(kb, &r),
                    r.similarity
                ),
                None => format!("，别的条目都不够接近（相似度低于 {SIMILARITY_FLOOR:.2}），所以不用反问"),
            };
            let topic = view
                .outcome
                .candidates
                .iter()
                .find(|c| matches!(c.target, Target::OutOfScope(_)))
                .filter(|c| c.similarity >= SIMILARITY_FLOOR)
                .map_or(String::new(), |t| {
                    format!(
                        "；也没有转人工，因为不归本助手管的 {} 没它像（相似度 {:.2}）",
                        name(kb, t),
                        t.similarity
                    )
                });
            format!(
                "答了 {}，因为它和问题最像（相似度 {:.2}），把握 {:.2}，达到回答所需的 {ANSWER_CONFIDENCE:.2}{lead}{topic}。",
                name(kb, &best),
                best.similarity,
                best.score
            )
        }
        Reason::TooClose {
            best,
            runner_up,
            low_confidence,
        } => {
            let why = if low_confidence {
                format!(
                    "把握只有 {:.2}，不到回答所需的 {ANSWER_CONFIDENCE:.2}",
                    best.score
                )
            } else {
                "两者几乎一样接近".to_string()
            };
            format!(
                "反问用户想问哪一个，因为 {}（相似度 {:.2}）和 {}（{:.2}）太接近，{why}；没有转人工，因为两个都和问题相关。",
                name(kb, &best),
                best.similarity,
                name(kb, &runner_up),
                runner_up.similarity
            )
        }
        Reason::OutOfScope { topic, entry } => {
            let entry = match entry {
                Some(e) => format!(
                    "，比最接近的条目 {}（相似度 {:.2}）更像",
                    name(kb, &e),
                    e.similarity
                ),
                None => String::new(),
            };
            format!(
                "转人工，因为最接近的是 {}，不归本助手管（相似度 {:.2}）{entry}；没有反问，因为用户问的多半就是这件事，该去对的地方问。",
                name(kb, &topic),
                topic.similarity
            )
        }
        Reason::TooFar { best } => format!(
            "转人工，因为没有足够接近的内容：最接近的 {} 相似度只有 {:.2}，低于 {SIMILARITY_FLOOR:.2}；没有反问，因为没有像样的选项可给。",
            name(kb, &best),
            best.similarity
        ),
        Reason::NothingInCommon if view.outcome.normalized.is_empty() => {
            "转人工，因为去掉标点、表情和空格后什么也不剩，没有可以回答的内容；没有反问，因为没有选项可给。".to_string()
        }
        Reason::NothingInCommon => format!(
            "转人工，因为问题（规范化后是「{}」）和知识库里的问题没有一个共同的字；没有反问，因为没有选项可给。",
            view.outcome.normalized
        ),
    };
    format!("{sentence}{masked}")
}

fn round(score: f32) -> f32 {
    (score * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{Candidate, Target};

    fn candidate(target: Target, similarity: f32, score: f32) -> Candidate {
        Candidate::for_test(target, similarity, score)
    }

    fn view(decision: Decision, candidates: Vec<Candidate>) -> View {
        View {
            redacted: "问题".into(),
            secrets: Vec::new(),
            outcome: Outcome::for_test(decision, candidates),
            matched: None,
            replies: Vec::new(),
            effects: Vec::new(),
        }
    }

    #[test]
    fn every_reason_reads_as_one_plain_sentence_that_says_why_not_the_others() {
        let kb = KnowledgeBase::embedded().unwrap();
        let (a, b) = (Target::Entry(0), Target::Entry(1));
        let topic = Target::OutOfScope(0);
        let cases = [
            (
                view(
                    Decision::Answer,
                    vec![candidate(a, 0.6, 0.9), candidate(b, 0.2, 0.1)],
                ),
                "答了 ",
                "所以不用反问",
            ),
            (
                view(
                    Decision::Clarify,
                    vec![candidate(a, 0.3, 0.5), candidate(b, 0.29, 0.45)],
                ),
                "反问用户想问哪一个",
                "没有转人工",
            ),
            (
                view(
                    Decision::Clarify,
                    vec![candidate(a, 0.302, 0.6), candidate(b, 0.3, 0.4)],
                ),
                "反问用户想问哪一个",
                "几乎一样接近",
            ),
            (
                view(
                    Decision::Fallback,
                    vec![candidate(topic, 0.5, 0.9), candidate(a, 0.2, 0.1)],
                ),
                "转人工，因为最接近的是 ",
                "没有反问",
            ),
            (
                view(Decision::Fallback, vec![candidate(a, 0.05, 0.6)]),
                "转人工，因为没有足够接近的内容",
                "没有反问",
            ),
            (view(Decision::Fallback, vec![]), "转人工，因为", "没有反问"),
        ];
        for (view, start, why_not) in cases {
            let sentence = verdict(&kb, &view);
            assert!(sentence.starts_with(start), "{sentence}");
            assert!(sentence.contains(why_not), "{sentence}");
            assert!(
                sentence.ends_with('。') && !sentence.contains('\n'),
                "{sentence}"
            );
        }
    }

    #[test]
    fn a_fallback_reports_no_score() {
        let topic = candidate(Target::OutOfScope(0), 0.5, 0.9);
        let v = view(Decision::Fallback, vec![topic]);
        assert_eq!(reported_score(&v.outcome), None);
        let v = view(
            Decision::Clarify,
            vec![topic, candidate(Target::Entry(0), 0.3, 0.4)],
        );
        assert_eq!(
            reported_score(&v.outcome),
            Some(0.4),
            "the best entry's, not the topic's"
        );
    }
}
