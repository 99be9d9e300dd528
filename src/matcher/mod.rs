//! Decides which FAQ entry answers a question, how sure it is, and whether to answer, ask back or fall back.
//!
//! The matcher indexes every question of every FAQ entry and of every out-of-scope topic (nearby subjects
//! such as 医保卡 or 银行卡密码 that the bot must not answer). A query is normalised the same way,
//! scored against the index (see [`index`]), and the best question of each target becomes a candidate.
//! Then:
//!
//! - `fallback` when the best candidate is an out-of-scope topic, or scores below [`ANSWER_FLOOR`];
//! - `clarify` when the runner-up entry is within [`CLARIFY_MARGIN`] of the best;
//! - `answer` otherwise.
//!
//! Everything is deterministic: ties are broken by the order of the knowledge files.

mod index;

use crate::text::Normalizer;
use index::Index;

/// Below this score the best entry is not trusted: the bot falls back to 12333 rather than guess.
/// A score is a blend of weighted n-gram overlap and edit similarity, 1.0 for an identical question.
pub const ANSWER_FLOOR: f32 = 0.45;
/// When the two best entries are closer than this, the bot asks which one was meant.
pub const CLARIFY_MARGIN: f32 = 0.04;
/// Candidates kept in an [`Outcome`].
pub const CANDIDATES: usize = 5;

/// What a question was matched against: an FAQ entry or an out-of-scope topic, by position in the knowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Entry(usize),
    OutOfScope(usize),
}

/// One candidate answer with its score and the question (index within its target) it matched through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub target: Target,
    pub score: f32,
    pub question: usize,
    /// Mean similarity of the target's nearest questions (the closest is `question`).
    pub nearest: f32,
    /// Cosine with the sum of all the target's questions.
    pub centroid: f32,
}

/// What the bot should do with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Answer,
    Clarify,
    Fallback,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Answer => "answer",
            Decision::Clarify => "clarify",
            Decision::Fallback => "fallback",
        }
    }
}

/// The matcher's verdict on one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The question after normalisation, as the index saw it.
    pub normalized: String,
    pub decision: Decision,
    /// Best first, at most one per target, entries and out-of-scope topics mixed.
    pub candidates: Vec<Candidate>,
}

impl Outcome {
    /// The best candidate, if any question shared anything with the query.
    pub fn best(&self) -> Option<&Candidate> {
        self.candidates.first()
    }

    /// The entry to answer with, when the decision is `answer`.
    pub fn answer(&self) -> Option<usize> {
        match (self.decision, self.best().map(|c| c.target)) {
            (Decision::Answer, Some(Target::Entry(e))) => Some(e),
            _ => None,
        }
    }

    /// The entries to offer when the decision is `clarify`: those within the margin of the best, at most three.
    pub fn clarify_options(&self) -> Vec<usize> {
        if self.decision != Decision::Clarify {
            return Vec::new();
        }
        let best = self.best().map_or(0.0, |c| c.score);
        self.entry_candidates()
            .filter(|c| best - c.score < CLARIFY_MARGIN && c.score >= ANSWER_FLOOR)
            .filter_map(|c| match c.target {
                Target::Entry(e) => Some(e),
                Target::OutOfScope(_) => None,
            })
            .take(3)
            .collect()
    }

    /// The out-of-scope topic that caused a fallback, if one did.
    pub fn out_of_scope(&self) -> Option<usize> {
        match (self.decision, self.best().map(|c| c.target)) {
            (Decision::Fallback, Some(Target::OutOfScope(t))) => Some(t),
            _ => None,
        }
    }

    /// Candidates that are FAQ entries, best first.
    pub fn entry_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(|c| matches!(c.target, Target::Entry(_)))
    }
}

/// An index over the questions of the knowledge base, with the normaliser used to build it.
#[derive(Debug, Clone)]
pub struct Matcher {
    normalizer: Normalizer,
    index: Index,
    /// Entries come first in the index's target numbering, then topics.
    entries: usize,
    /// For each indexed question: its target and its position within the target.
    questions: Vec<(Target, usize)>,
}

impl Matcher {
    /// Indexes the questions of `entries` and `topics` (each a list of question texts), normalised by `normalizer`.
    pub fn new<E, T>(normalizer: Normalizer, entries: &[E], topics: &[T]) -> Matcher
    where
        E: AsRef<[String]>,
        T: AsRef<[String]>,
    {
        let mut normalized = Vec::new();
        let mut questions = Vec::new();
        let all = entries
            .iter()
            .map(AsRef::as_ref)
            .enumerate()
            .map(|(i, q)| (Target::Entry(i), q))
            .chain(
                topics
                    .iter()
                    .map(AsRef::as_ref)
                    .enumerate()
                    .map(|(i, q)| (Target::OutOfScope(i), q)),
            );
        for (target, qs) in all {
            let numeric = match target {
                Target::Entry(i) => i,
                Target::OutOfScope(i) => entries.len() + i,
            } as u32;
            for (n, q) in qs.iter().enumerate() {
                normalized.push((numeric, normalizer.normalize(q)));
                questions.push((target, n));
            }
        }
        let index = Index::build(
            normalized.iter().map(|(t, q)| (*t, q.as_str())),
            entries.len(),
            entries.len() + topics.len(),
        );
        Matcher {
            normalizer,
            index,
            entries: entries.len(),
            questions,
        }
    }

    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Number of indexed questions.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// Matches one question.
    pub fn find(&self, question: &str) -> Outcome {
        let normalized = self.normalizer.normalize(question);
        let candidates: Vec<Candidate> = self
            .index
            .search(&normalized, CANDIDATES)
            .into_iter()
            .map(|s| {
                let (target, question) = self.questions[s.doc as usize];
                debug_assert_eq!(
                    s.target as usize,
                    match target {
                        Target::Entry(i) => i,
                        Target::OutOfScope(i) => self.entries + i,
                    }
                );
                Candidate {
                    target,
                    score: s.score,
                    question,
                    nearest: s.nearest,
                    centroid: s.centroid,
                }
            })
            .collect();
        let decision = decide(&candidates);
        Outcome {
            normalized,
            decision,
            candidates,
        }
    }
}

/// The decision rule, given candidates best first.
fn decide(candidates: &[Candidate]) -> Decision {
    let Some(best) = candidates.first() else {
        return Decision::Fallback;
    };
    if matches!(best.target, Target::OutOfScope(_)) || best.score < ANSWER_FLOOR {
        return Decision::Fallback;
    }
    let runner_up = candidates[1..]
        .iter()
        .find(|c| matches!(c.target, Target::Entry(_)));
    match runner_up {
        Some(r) if best.score - r.score < CLARIFY_MARGIN && r.score >= ANSWER_FLOOR => {
            Decision::Clarify
        }
        _ => Decision::Answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> Matcher {
        let entries = vec![
            vec!["电子社保卡密码忘了怎么办".to_string(), "密码忘记了".into()],
            vec!["电子社保卡密码被锁定了".to_string(), "密码锁了".into()],
            vec!["你好".to_string()],
        ];
        let topics = vec![vec!["银行卡密码忘了".to_string(), "医保卡怎么激活".into()]];
        Matcher::new(
            Normalizer::new(&[vec!["忘记".into(), "忘了".into()]], &[]),
            &entries,
            &topics,
        )
    }

    #[test]
    fn a_known_question_is_answered() {
        let outcome = matcher().find("電子社保卡密碼忘記了怎麼辦？");
        assert_eq!(outcome.decision, Decision::Answer);
        assert_eq!(outcome.answer(), Some(0));
    }

    #[test]
    fn a_typo_still_matches() {
        assert_eq!(matcher().find("电子社保卡密码忘了怎么半").answer(), Some(0));
    }

    #[test]
    fn a_nearby_out_of_scope_topic_falls_back() {
        let outcome = matcher().find("银行卡的密码忘了");
        assert_eq!(outcome.decision, Decision::Fallback);
        assert_eq!(outcome.out_of_scope(), Some(0));
    }

    #[test]
    fn an_unrelated_question_falls_back() {
        assert_eq!(matcher().find("明天会下雨吗").decision, Decision::Fallback);
    }

    #[test]
    fn an_empty_question_falls_back_without_candidates() {
        let outcome = matcher().find("？？？");
        assert_eq!(outcome.decision, Decision::Fallback);
        assert!(outcome.candidates.is_empty());
    }

    #[test]
    fn two_entries_too_close_to_call_ask_back() {
        let c = |e, score| Candidate {
            target: Target::Entry(e),
            score,
            question: 0,
            nearest: score,
            centroid: score,
        };
        assert_eq!(decide(&[c(0, 0.70), c(1, 0.68)]), Decision::Clarify);
        assert_eq!(decide(&[c(0, 0.70), c(1, 0.50)]), Decision::Answer);
        assert_eq!(decide(&[c(0, 0.30), c(1, 0.29)]), Decision::Fallback);
    }
}
