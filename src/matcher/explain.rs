//! Why the matcher decided what it did, as data, so `shebao ask`, its `--json` and the staff's `/why` say the same.
//!
//! The decision rule ([`super::judge`]) returns a [`Reason`], the decision follows from it, and
//! [`Outcome::reason`] gives the same reason back: the rule and its explanation cannot drift apart.

#[cfg(test)]
use super::Target;
use super::{ANSWER_CONFIDENCE, Candidate, Decision, Outcome};
#[cfg(doc)]
use super::{SIMILARITY_FLOOR, TOPIC_MARGIN};

/// The rule that made the decision, with the candidates it looked at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// Answered: the best entry's confidence reaches [`ANSWER_CONFIDENCE`] and no other entry is within
    /// [`CLARIFY_LEAD`](super::CLARIFY_LEAD) of it; `runner_up` is the next entry, if it reaches
    /// [`SIMILARITY_FLOOR`].
    Confident {
        best: Candidate,
        runner_up: Option<Candidate>,
    },
    /// Asked back: two entries' similarities are within [`CLARIFY_LEAD`](super::CLARIFY_LEAD), too close
    /// to call whatever the confidence.
    TooClose {
        best: Candidate,
        runner_up: Candidate,
    },
    /// Asked back: the best entry's confidence is below [`ANSWER_CONFIDENCE`], so an answer would too
    /// likely be the wrong one; the best entry is offered, with the others likely or near enough (see
    /// [`Outcome::clarify_options`]). `runner_up` as in `Confident`.
    LowConfidence {
        best: Candidate,
        runner_up: Option<Candidate>,
    },
    /// Asked back: the question uses a word the knowledge declares open (社保卡 alone: which card?), so
    /// `best` and the entry of the other reading, `offered`, are both offered.
    Ambiguous { best: Candidate, offered: usize },
    /// Fell back: an out-of-scope topic, at least [`SIMILARITY_FLOOR`], is closer than every entry. Not
    /// asked back, because the nearest subject is one the bot must not answer; `entry` is the best entry,
    /// if any.
    OutOfScope {
        topic: Candidate,
        entry: Option<Candidate>,
    },
    /// Fell back: the best entry leads the nearest out-of-scope topic by less than [`TOPIC_MARGIN`], so
    /// the question speaks about as much for a subject the bot must not answer.
    NearOutOfScope { best: Candidate, topic: Candidate },
    /// Fell back: even the best candidate (entry or topic) is below [`SIMILARITY_FLOOR`]; nothing to offer
    /// in asking back, and no subject to point to.
    TooFar { best: Candidate },
    /// Fell back: after normalisation the question shares nothing with the knowledge (no words at all,
    /// or only words nothing uses).
    NothingInCommon,
}

impl Reason {
    /// A stable name for scripts (`ask --json`'s `reason.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Confident { .. } => "confident",
            Reason::LowConfidence { .. } => "low_confidence",
            Reason::TooClose { .. } => "too_close",
            Reason::Ambiguous { .. } => "ambiguous",
            Reason::OutOfScope { .. } => "out_of_scope",
            Reason::NearOutOfScope { .. } => "near_out_of_scope",
            Reason::TooFar { .. } => "below_floor",
            Reason::NothingInCommon => "nothing_in_common",
        }
    }

    /// The decision this reason leads to.
    pub fn decision(&self) -> Decision {
        match self {
            Reason::Confident { .. } => Decision::Answer,
            Reason::TooClose { .. } | Reason::LowConfidence { .. } | Reason::Ambiguous { .. } => {
                Decision::Clarify
            }
            _ => Decision::Fallback,
        }
    }
}

impl Outcome {
    /// Why the decision is what it is: the rule that decided (the matcher's `judge`), or, when the
    /// question left open a word synonyms.yaml declares ambiguous, that word's choice.
    pub fn reason(&self) -> Reason {
        let Some(&best) = self.best() else {
            return Reason::NothingInCommon;
        };
        if self.decision == Decision::Clarify && !self.offered.is_empty() {
            return Reason::Ambiguous {
                best,
                offered: self.offered[0],
            };
        }
        let judged = super::judge(&self.candidates);
        if judged.decision() == self.decision {
            return judged;
        }
        // An outcome the rule did not decide (made by hand, or read back from an old record): say what
        // its candidates can say for its decision.
        let runner_up = self.entry_candidates().nth(1).copied();
        match self.decision {
            Decision::Fallback => Reason::TooFar { best },
            Decision::Clarify => match runner_up {
                Some(runner_up) if best.score >= ANSWER_CONFIDENCE => {
                    Reason::TooClose { best, runner_up }
                }
                _ => Reason::LowConfidence { best, runner_up },
            },
            Decision::Answer => Reason::Confident { best, runner_up },
        }
    }
}

#[cfg(test)]
impl Outcome {
    /// An outcome of a question normalised to `问题`, for tests of what is made of outcomes.
    pub(crate) fn for_test(decision: Decision, candidates: Vec<Candidate>) -> Outcome {
        Outcome {
            normalized: "问题".into(),
            read_as: Vec::new(),
            decision,
            candidates,
            clauses: Vec::new(),
            offered: Vec::new(),
            open_word: None,
        }
    }
}

#[cfg(test)]
impl Candidate {
    /// A candidate matched through the target's first question, for tests of what is made of candidates.
    pub(crate) fn for_test(target: Target, similarity: f32, score: f32) -> Candidate {
        Candidate {
            target,
            score,
            similarity,
            question: 0,
            nearest: similarity,
            centroid: similarity,
            posterior: 0.0,
            model: 0.0,
            clause: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(target: Target, similarity: f32, score: f32) -> Candidate {
        Candidate::for_test(target, similarity, score)
    }

    fn outcome(decision: Decision, candidates: Vec<Candidate>) -> Outcome {
        Outcome::for_test(decision, candidates)
    }

    #[test]
    fn a_fallback_caused_by_a_topic_names_the_topic_and_the_best_entry() {
        let topic = candidate(Target::OutOfScope(2), 0.4, 0.7);
        let entry = candidate(Target::Entry(1), 0.3, 0.4);
        let reason = outcome(Decision::Fallback, vec![topic, entry]).reason();
        assert_eq!(
            reason,
            Reason::OutOfScope {
                topic,
                entry: Some(entry)
            }
        );
        assert_eq!(reason.code(), "out_of_scope");
        assert_eq!(reason.decision(), Decision::Fallback);
    }

    #[test]
    fn a_fallback_below_the_floor_and_one_without_candidates_differ() {
        let far = candidate(Target::Entry(0), 0.05, 0.5);
        assert_eq!(
            outcome(Decision::Fallback, vec![far]).reason(),
            Reason::TooFar { best: far }
        );
        assert_eq!(
            outcome(Decision::Fallback, vec![]).reason(),
            Reason::NothingInCommon
        );
    }

    #[test]
    fn a_topic_below_the_floor_is_not_named_as_what_the_question_is_about() {
        let topic = candidate(Target::OutOfScope(1), 0.07, 0.6);
        let entry = candidate(Target::Entry(0), 0.05, 0.5);
        let fallback = outcome(Decision::Fallback, vec![topic, entry]);
        assert_eq!(fallback.reason(), Reason::TooFar { best: topic });
        assert_eq!(fallback.out_of_scope(), None);
        let near = outcome(
            Decision::Fallback,
            vec![candidate(Target::OutOfScope(1), 0.2, 0.6), entry],
        );
        assert_eq!(near.out_of_scope(), Some(1));
    }

    #[test]
    fn a_fallback_for_an_entry_barely_ahead_of_a_topic_names_both_not_the_floor() {
        let entry = candidate(Target::Entry(0), 0.19, 0.75);
        let topic = candidate(Target::OutOfScope(1), 0.16, 0.38);
        let reason = outcome(Decision::Fallback, vec![entry, topic]).reason();
        assert_eq!(reason, Reason::NearOutOfScope { best: entry, topic });
        assert_eq!(reason.code(), "near_out_of_scope");
        assert_eq!(reason.decision(), Decision::Fallback);
    }

    #[test]
    fn a_clarification_says_whether_confidence_or_closeness_decided() {
        let a = candidate(Target::Entry(0), 0.30, 0.45);
        let b = candidate(Target::Entry(1), 0.29, 0.45);
        let reason = outcome(Decision::Clarify, vec![a, b]).reason();
        assert_eq!(reason.code(), "low_confidence");
        let a = candidate(Target::Entry(0), 0.294, 0.90);
        let reason = outcome(Decision::Clarify, vec![a, b]).reason();
        assert_eq!(reason.code(), "too_close");
    }

    #[test]
    fn an_unsure_best_entry_is_asked_back_even_with_no_other_entry_near() {
        let best = candidate(Target::Entry(0), 0.40, 0.55);
        let far = candidate(Target::Entry(1), 0.12, 0.30);
        let reason = outcome(Decision::Clarify, vec![best, far]).reason();
        assert_eq!(
            reason,
            Reason::LowConfidence {
                best,
                runner_up: Some(far)
            }
        );
        assert_eq!(reason.decision(), Decision::Clarify);
        let alone = outcome(Decision::Clarify, vec![best]).reason();
        assert_eq!(
            alone,
            Reason::LowConfidence {
                best,
                runner_up: None
            }
        );
        let sure = candidate(Target::Entry(0), 0.40, 0.90);
        assert_eq!(
            outcome(Decision::Answer, vec![sure, far]).reason().code(),
            "confident"
        );
    }

    #[test]
    fn an_outcome_the_rule_did_not_decide_is_explained_by_its_own_decision() {
        // Read back from a record: the rule would answer these candidates, the record says fallback.
        let entry = candidate(Target::Entry(0), 0.8, 0.9);
        let reason = outcome(Decision::Fallback, vec![entry]).reason();
        assert_eq!(reason, Reason::TooFar { best: entry });
        assert_eq!(reason.decision(), Decision::Fallback);
    }

    #[test]
    fn the_reason_agrees_with_the_decision_on_real_matches() {
        let entries = vec![
            vec!["电子社保卡密码忘了怎么办".to_string(), "密码忘记了".into()],
            vec!["电子社保卡密码被锁定了".to_string(), "密码锁了".into()],
        ];
        let topics = vec![vec!["银行卡密码忘了".to_string()]];
        let matcher =
            super::super::Matcher::new(crate::text::Normalizer::plain(), &entries, &topics);
        for q in [
            "密码忘了怎么办",
            "银行卡的密码忘了",
            "明天下雨吗",
            "？？",
            "密码",
        ] {
            let outcome = matcher.find(q);
            assert_eq!(outcome.reason().decision(), outcome.decision, "{q}");
        }
    }
}
