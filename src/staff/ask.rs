//! What a citizen gets for a question and why, as data and one plain Chinese sentence: `shebao ask`, the
//! staff's `/why` and the web console's try-it page render the same [`View`].
//!
//! The question takes the conversation's own path: the secret guard first, then the matcher on the
//! redacted text, then the engine's reply to it as the first message of a new chat. Nothing of a masked
//! secret is kept: only the redacted text and the kinds of secret.

use crate::dialogue::{Effect, Input, Reading, Record, Reply, State, step_reading};
use crate::knowledge::KnowledgeBase;
use crate::matcher::{
    ALSO_OFFER, ANSWER_CONFIDENCE, Candidate, Decision, Evidence, Outcome, Reason,
    SIMILARITY_FLOOR, TOPIC_MARGIN, Target, WordWeights, calibration::VIEWS,
};
use crate::text::guard::{SecretKind, guard};

/// The words that tell the first two candidates apart (see [`View::deciding_words`]); `None` stands for
/// the words no question of the knowledge has.
pub struct DecidingWords {
    pub best: Target,
    pub other: Target,
    pub toward: WordWeights,
    pub away: WordWeights,
}

impl DecidingWords {
    /// The words one way, as staff read them: 「忘」 +0.42, 「忘记」 +0.31; `none` when there are none.
    pub fn list(words: &WordWeights) -> String {
        let shown: Vec<String> = words
            .iter()
            .map(|(w, c)| match w {
                Some(w) => format!("「{w}」 {c:+.2}"),
                None => format!("(words no question has) {c:+.2}"),
            })
            .collect();
        if shown.is_empty() {
            "none".to_string()
        } else {
            shown.join(", ")
        }
    }
}

/// What happens to one question, the way the conversation handles it.
pub struct View {
    /// The question with every secret masked.
    pub redacted: String,
    pub secrets: Vec<SecretKind>,
    pub outcome: Outcome,
    /// The entry the matcher answers with, when it decides to answer.
    pub matched: Option<String>,
    /// What the bot replies to it as the first message of a new chat.
    pub replies: Vec<Reply>,
    /// What that reply records (which entry answered).
    pub effects: Vec<Effect>,
}

impl View {
    pub fn of(kb: &KnowledgeBase, question: &str) -> View {
        let guarded = guard(question);
        let (_, replies, effects, reading) =
            step_reading(kb, State::default(), Input::Text(question.to_string()), 0);
        // The engine's own reading when it asked the matcher about this very text; otherwise (small
        // talk, a call for a person) the matcher is asked here.
        let outcome = match reading {
            Some(Reading { text, outcome }) if text == guarded.redacted => outcome,
            _ => kb.ask(&guarded.redacted),
        };
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

    /// What of the message the regression weighs most for the first candidate over the second, and
    /// against it (`n` each way), read on the clause that found the first when one did; `None` with fewer
    /// than two candidates or without a regression.
    pub fn deciding_words(&self, kb: &KnowledgeBase, n: usize) -> Option<DecidingWords> {
        let [best, other, ..] = self.outcome.candidates.as_slice() else {
            return None;
        };
        let text = best
            .clause
            .and_then(|i| self.outcome.clauses.get(i))
            .unwrap_or(&self.outcome.normalized);
        let (toward, away) = kb
            .matcher
            .deciding_words(text, best.target, other.target, n);
        (!toward.is_empty() || !away.is_empty()).then_some(DecidingWords {
            best: best.target,
            other: other.target,
            toward,
            away,
        })
    }

    /// The entry the conversation answered with, if it answered.
    pub fn answered(&self) -> Option<&str> {
        self.effects.iter().find_map(|e| match e {
            Effect::Record(Record::Answered { entry }) => Some(entry.as_str()),
            _ => None,
        })
    }

    /// The entry the question is answered with: the one the conversation answered with, or, where it
    /// replied in its own words (谢谢 gets a kind word, not the `thanks` entry's text), the one the matcher
    /// chose; none when a secret withheld the answer.
    pub fn id(&self) -> Option<&str> {
        if self.withheld() {
            return None;
        }
        self.answered().or(self.matched.as_deref())
    }

    /// The text the citizen sees: every reply, options as `[n] label` lines.
    pub fn reply_text(&self) -> String {
        let parts: Vec<String> = self
            .replies
            .iter()
            .map(|r| crate::cli::chat::plain(r).trim_end().to_string())
            .collect();
        parts.join("\n\n")
    }

    /// A message with a secret that the conversation deletes and warns about without answering.
    pub fn withheld(&self) -> bool {
        !self.secrets.is_empty() && self.answered().is_none()
    }
}

/// The confidence `ask` reports: the best entry's, unless the bot fell back (then there is none to
/// report: the nearest candidate may be a topic, and its confidence is not an answer's).
pub fn reported_score(outcome: &Outcome) -> Option<f32> {
    match outcome.decision {
        Decision::Fallback => None,
        _ => outcome.entry_candidates().next().map(|c| c.score),
    }
}

/// How an entry or topic is named for a non-programmer: an entry by its id and canonical question, a
/// topic by the question it matched through.
pub fn name(kb: &KnowledgeBase, c: &Candidate) -> String {
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
pub fn verdict(kb: &KnowledgeBase, view: &View) -> String {
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
            let also = kb
                .also_offered(&view.outcome)
                .and_then(|e| {
                    view.outcome
                        .entry_candidates()
                        .find(|c| c.target == Target::Entry(e))
                })
                .map_or(String::new(), |c| {
                    format!(
                        "；回答下面另给了 {} 的按钮，因为它的把握 {:.2} 也达到了 {ALSO_OFFER:.2}",
                        name(kb, c),
                        c.score
                    )
                });
            // An answer read back from a record may have gone out under an older, lower bar: the
            // sentence must not claim today's bar was reached.
            let bar = if best.score >= ANSWER_CONFIDENCE {
                "达到"
            } else {
                "不到"
            };
            format!(
                "答了 {}，因为它和问题最像（相似度 {:.2}），把握 {:.2}，{bar}回答所需的 {ANSWER_CONFIDENCE:.2}{lead}{topic}{also}。",
                name(kb, &best),
                best.similarity,
                best.score
            )
        }
        Reason::TooClose { best, runner_up } => format!(
            "反问用户想问哪一个，因为 {}（相似度 {:.2}）和 {}（{:.2}）几乎一样接近；没有转人工，因为两个都和问题相关。",
            name(kb, &best),
            best.similarity,
            name(kb, &runner_up),
            runner_up.similarity
        ),
        Reason::LowConfidence { best, runner_up } => {
            let runner_up = match runner_up {
                Some(r) => format!(
                    "，第二接近的是 {}（相似度 {:.2}）",
                    name(kb, &r),
                    r.similarity
                ),
                None => String::new(),
            };
            format!(
                "反问用户是不是想问 {}（相似度 {:.2}），因为把握只有 {:.2}，不到回答所需的 {ANSWER_CONFIDENCE:.2}{}{runner_up}：答错的代价比多点一下大；没有转人工，因为它和问题相关。",
                name(kb, &best),
                best.similarity,
                best.score,
                doubts(kb, &view.outcome)
            )
        }
        Reason::Ambiguous { best, offered } => format!(
            "反问用户想问哪一个，因为问题里的「{}」没说清是哪一种（知识库 synonyms.yaml 的 ambiguous 里这么写了），所以 {}（相似度 {:.2}）和 {}「{}」都给用户选；没有直接回答，因为两种情况的办法不一样。",
            view.outcome.open_word.as_deref().unwrap_or_default(),
            name(kb, &best),
            best.similarity,
            kb.entries[offered].id,
            kb.entries[offered].questions[0]
        ),
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
        Reason::NearOutOfScope { best, topic } => format!(
            "转人工，因为最接近的条目 {}（相似度 {:.2}）只比不归本助手管的 {}（{:.2}）多 {:.2}，不到 {TOPIC_MARGIN:.2}：问题差不多同样像在问别的事；没有反问，因为那件事该去对的地方问。",
            name(kb, &best),
            best.similarity,
            name(kb, &topic),
            topic.similarity,
            best.similarity - topic.similarity
        ),
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

/// What made the matcher unsure of its best candidate, as a clause starting with `（` (empty when
/// nothing in particular did): the evidence the calibration weighs, in words.
fn doubts(kb: &KnowledgeBase, outcome: &Outcome) -> String {
    if outcome.candidates.is_empty() {
        return String::new();
    }
    let evidence = Evidence::of(&outcome.candidates, 0);
    let mut doubts = Vec::new();
    if evidence.agreement < 1.0 {
        let agreeing = (evidence.agreement * VIEWS as f32).round();
        doubts.push(format!("{VIEWS} 种打分里只有 {agreeing} 种把它排第一"));
    }
    if evidence.model_lead < 0.0
        && let Some(preferred) = outcome
            .candidates
            .iter()
            .max_by(|a, b| a.model.total_cmp(&b.model))
    {
        doubts.push(format!(
            "分类模型更看好 {}",
            kb.target_label(preferred.target)
        ));
    }
    if evidence.clause > 0.0 {
        doubts.push("只是长消息里的一句像它".to_string());
    }
    if doubts.is_empty() {
        String::new()
    } else {
        format!("（{}）", doubts.join("，"))
    }
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
                "反问用户是不是想问 ",
                "答错的代价比多点一下大；没有转人工",
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
