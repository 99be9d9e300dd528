//! Labelled questions (`accepted ids TAB question`): regression cases in `tests.tsv` and evaluation sets.

use super::{KnowledgeBase, Problem, TOPIC_LABEL};
use crate::matcher::{Decision, Evidence, Matcher, Outcome, Target};

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
    /// Whether falling back is an acceptable outcome.
    pub fn accepts_fallback(&self) -> bool {
        self.accepted.iter().any(|a| a == NONE)
    }

    /// Whether the question is out of scope: falling back is the only acceptable outcome.
    pub fn is_out_of_scope(&self) -> bool {
        self.accepted.iter().all(|a| a == NONE)
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
        if accepted.is_empty() {
            problems.push(Problem::new(
                file,
                line_no,
                "no expected id before the TAB: write the entry that should answer (or `none` if the bot must not answer)",
            ));
            continue;
        }
        if question.trim().is_empty() {
            problems.push(Problem::new(file, line_no, "no question after the TAB"));
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

/// A problem for each accepted id of `cases` that is not among `ids` (`none` aside), at the case's line.
pub fn unknown_ids(cases: &[Case], ids: &[impl AsRef<str>]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for case in cases {
        for id in &case.accepted {
            if id != NONE && !ids.iter().any(|known| known.as_ref() == id) {
                problems.push(Problem::new(
                    &case.file,
                    case.line,
                    format!("case names unknown entry `{id}`"),
                ));
            }
        }
    }
    problems
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
    /// Questions answered with a wrong entry (in scope) or answered at all (out of scope): the worst outcome.
    pub wrong_answers: usize,
    /// The in-scope part of [`Evaluation::wrong_answers`]: answered with an entry the case does not accept
    /// (what `../shared/eval/peer.py` counts as a peer's wrong answers).
    pub wrong_entries: usize,
    /// In-scope questions whose right entry ranked first, whatever the decision.
    pub ranked_first: usize,
    /// In-scope questions whose right entry was answered or offered as a button (a clarification, or the
    /// other entry offered under an answer): one tap away.
    pub one_tap: usize,
    /// Questions answered (decision `answer`), right or wrong, in scope or not.
    pub answers: usize,
    /// Answers under which another entry was offered too (see [`KnowledgeBase::also_offered`]), and how many of
    /// those in scope it was the right one for.
    pub also_offered: usize,
    pub also_offered_right: usize,
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

    /// Share of all questions handled right (answered with an accepted entry, or fell back when they must).
    pub fn overall(&self) -> f64 {
        ratio(
            self.in_domain_correct + self.out_of_scope_rejected,
            self.in_domain + self.out_of_scope,
        )
    }

    /// Where the knowledge's lines blur: the misses that went to a wrong target (answered with another
    /// entry, an out-of-scope question answered, an in-scope one sent to an out-of-scope topic), counted by
    /// what was expected and what came instead, those seen at least `min` times, most first. Misses that
    /// asked back, or fell back on no topic, say nothing about a boundary and are left out.
    pub fn confusions(&self, min: usize) -> Vec<Confusion> {
        let mut counts: Vec<Confusion> = Vec::new();
        for miss in &self.misses {
            let Some((got, _)) = &miss.got else { continue };
            let across = match miss.decision {
                Decision::Answer => true,
                Decision::Fallback => !miss.case.is_out_of_scope() && got.starts_with(TOPIC_LABEL),
                Decision::Clarify => false,
            };
            if !across {
                continue;
            }
            let expected = miss.case.accepted.join("|");
            match counts
                .iter_mut()
                .find(|c| c.expected == expected && c.got == *got && c.decision == miss.decision)
            {
                Some(c) => c.count += 1,
                None => counts.push(Confusion {
                    expected,
                    got: got.clone(),
                    decision: miss.decision,
                    count: 1,
                }),
            }
        }
        counts.retain(|c| c.count >= min);
        counts.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.expected.cmp(&b.expected))
                .then_with(|| a.got.cmp(&b.got))
        });
        counts
    }
}

/// Misses that went from one target to another, counted (see [`Evaluation::confusions`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    /// The ids the cases accepted, as written (`none` for out of scope).
    pub expected: String,
    /// The label of the target they got instead.
    pub got: String,
    /// Whether they were answered with it or fell back to it.
    pub decision: Decision,
    pub count: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

pub(super) fn evaluate(kb: &KnowledgeBase, cases: &[Case]) -> Evaluation {
    evaluate_with(kb, cases, |_, question| kb.ask(question))
}

/// Asks every question of the knowledge against an index built without it: FAQ questions must still
/// get their entry, out-of-scope questions must still fall back. This shows how well the alternates
/// generalise to phrasings nobody wrote down, without needing a labelled set.
pub(super) fn leave_one_out(kb: &KnowledgeBase) -> Evaluation {
    held_out(kb, None)
}

/// K-fold cross-validation on the knowledge: question `i` of every entry and every out-of-scope topic
/// goes to fold `i mod k` (the assignment `../shared/eval/peer.py` uses), and each fold is asked against
/// a model built from the other folds.
pub(super) fn folds(kb: &KnowledgeBase, k: usize) -> Evaluation {
    held_out(kb, Some(k.max(2)))
}

/// Every knowledge question as a labelled case, with where it sits in the knowledge.
fn knowledge_cases(kb: &KnowledgeBase) -> (Vec<Case>, Vec<(Target, usize)>) {
    let mut cases = Vec::new();
    let mut held_out = Vec::new();
    for (e, entry) in kb.entries.iter().enumerate() {
        for (q, question) in entry.questions.iter().enumerate() {
            cases.push(Case {
                accepted: vec![entry.id.to_string()],
                question: question.clone(),
                file: "faq.yaml".into(),
                line: entry.question_lines[q],
            });
            held_out.push((Target::Entry(e), q));
        }
    }
    for (t, topic) in kb.topics.iter().enumerate() {
        for (q, question) in topic.questions.iter().enumerate() {
            cases.push(Case {
                accepted: vec![NONE.into()],
                question: question.clone(),
                file: "out_of_scope.yaml".into(),
                line: topic.question_lines[q],
            });
            held_out.push((Target::OutOfScope(t), q));
        }
    }
    (cases, held_out)
}

/// Leave-one-out (`folds: None`) or k-fold cross-validation over the knowledge's own questions.
fn held_out(kb: &KnowledgeBase, folds: Option<usize>) -> Evaluation {
    let (cases, questions) = knowledge_cases(kb);
    let held = HeldOut::new(kb);
    let outcomes = match folds {
        None => held.ask_all(&questions),
        Some(k) => held.ask_folds(&questions, k),
    };
    evaluate_with(kb, &cases, |n, _| outcomes[n].clone())
}

/// What the matcher's calibration is fitted on (see `crate::matcher::calibration`): for every question of
/// the knowledge asked against a model built without its fold, and every regression case of `tests.tsv`,
/// the evidence of the best candidate when it is an entry and the question did not fall back, labelled
/// by whether that entry is right. An out-of-scope question whose best candidate is an entry is a wrong one.
pub(super) fn calibration_samples(kb: &KnowledgeBase, k: usize) -> Vec<(Evidence, bool)> {
    let (cases, questions) = knowledge_cases(kb);
    let outcomes = HeldOut::new(kb).ask_folds(&questions, k.max(2));
    let regressions = kb
        .cases
        .iter()
        .map(|case| (case, kb.matcher.find(&case.question)));
    cases
        .iter()
        .zip(outcomes)
        .chain(regressions)
        .filter(|(_, outcome)| outcome.decision != Decision::Fallback)
        .filter_map(|(case, outcome)| match outcome.best()?.target {
            Target::Entry(e) => Some((
                Evidence::of(&outcome.candidates, 0),
                case.accepted.iter().any(|a| a == kb.entries[e].id.as_str()),
            )),
            Target::OutOfScope(_) => None,
        })
        .collect()
}

/// Asks questions of the knowledge against an index built without them: what the matcher would do with
/// that phrasing if nobody had written it down.
pub(super) struct HeldOut<'kb> {
    kb: &'kb KnowledgeBase,
    /// The normalised questions of each entry and each topic, normalised once for all the indexes.
    entries: Vec<Vec<String>>,
    topics: Vec<Vec<String>>,
}

impl<'kb> HeldOut<'kb> {
    pub(super) fn new(kb: &'kb KnowledgeBase) -> HeldOut<'kb> {
        let normalizer = kb.matcher.normalizer();
        let normalize = |questions: &[String]| -> Vec<String> {
            questions.iter().map(|q| normalizer.normalize(q)).collect()
        };
        HeldOut {
            kb,
            entries: kb.entries.iter().map(|e| normalize(&e.questions)).collect(),
            topics: kb.topics.iter().map(|t| normalize(&t.questions)).collect(),
        }
    }

    /// A matcher over every question for which `keep(target, question)` holds.
    fn matcher_without(&self, keep: impl Fn(Target, usize) -> bool) -> Matcher {
        let select = |lists: &mut dyn Iterator<Item = &[String]>, target: fn(usize) -> Target| {
            lists
                .enumerate()
                .map(|(i, qs)| {
                    qs.iter()
                        .enumerate()
                        .filter(|&(n, _)| keep(target(i), n))
                        .map(|(_, s)| s.clone())
                        .collect()
                })
                .collect::<Vec<Vec<String>>>()
        };
        let kb = self.kb;
        let written = [
            select(
                &mut kb.entries.iter().map(|e| &e.questions[..]),
                Target::Entry,
            ),
            select(
                &mut kb.topics.iter().map(|t| &t.questions[..]),
                Target::OutOfScope,
            ),
        ];
        Matcher::from_normalized(
            kb.matcher.normalizer().clone(),
            &select(&mut self.entries.iter().map(|qs| &qs[..]), Target::Entry),
            &select(
                &mut self.topics.iter().map(|qs| &qs[..]),
                Target::OutOfScope,
            ),
            written.iter().flatten().flatten().map(String::as_str),
        )
    }

    /// Asks question `q` of `target` against an index of every other question.
    pub(super) fn ask(&self, target: Target, q: usize) -> Outcome {
        let keep = |t, n| (t, n) != (target, q);
        let outcome = self
            .matcher_without(keep)
            .find(self.kb.target_question(target, q));
        self.renumbered(outcome, keep)
    }

    /// `outcome` of a matcher built from the questions `keep` selects, with each candidate's question
    /// numbered as in the knowledge (the held-out matcher numbers only the questions it kept).
    fn renumbered(&self, mut outcome: Outcome, keep: impl Fn(Target, usize) -> bool) -> Outcome {
        for c in &mut outcome.candidates {
            let count = match c.target {
                Target::Entry(e) => self.entries[e].len(),
                Target::OutOfScope(t) => self.topics[t].len(),
            };
            if let Some(n) = (0..count).filter(|&n| keep(c.target, n)).nth(c.question) {
                c.question = n;
            }
        }
        outcome
    }

    /// Asks each of `questions` against a model built without its fold (question `i` of a target is in
    /// fold `i mod k`); the outcomes come in the same order.
    pub(super) fn ask_folds(&self, questions: &[(Target, usize)], k: usize) -> Vec<Outcome> {
        let folds: Vec<usize> = (0..k).collect();
        let per_fold = parallel(&folds, |&f| {
            let keep = |_, n: usize| n % k != f;
            let matcher = self.matcher_without(keep);
            questions
                .iter()
                .enumerate()
                .filter(|(_, (_, q))| q % k == f)
                .map(|(i, &(t, q))| {
                    let outcome = matcher.find(self.kb.target_question(t, q));
                    (i, self.renumbered(outcome, keep))
                })
                .collect::<Vec<_>>()
        });
        let mut outcomes: Vec<Option<Outcome>> = vec![None; questions.len()];
        for (i, outcome) in per_fold.into_iter().flatten() {
            outcomes[i] = Some(outcome);
        }
        outcomes.into_iter().flatten().collect()
    }

    /// Asks each of `questions` as [`HeldOut::ask`] does, spread over the available cores (each builds
    /// its own index); the outcomes come in the same order.
    pub(super) fn ask_all(&self, questions: &[(Target, usize)]) -> Vec<Outcome> {
        parallel(questions, |&(t, q)| self.ask(t, q))
    }
}

/// Maps `f` over `items` spread over the available cores, keeping the order.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn evaluate_with(
    kb: &KnowledgeBase,
    cases: &[Case],
    mut ask: impl FnMut(usize, &str) -> Outcome,
) -> Evaluation {
    let mut eval = Evaluation::default();
    for (n, case) in cases.iter().enumerate() {
        let outcome = ask(n, &case.question);
        let accepted = |e: usize| case.accepted.iter().any(|a| a == kb.entries[e].id.as_str());
        // A clarification right for the case: every button it offers is an accepted answer (a case
        // accepting `safety_tips|change_pin` is served as well by a choice between exactly those).
        let clarified_within = || {
            let options = outcome.clarify_options();
            !options.is_empty() && options.into_iter().all(accepted)
        };
        let also = kb.also_offered(&outcome);
        let ok = match outcome.answer() {
            Some(e) => accepted(e),
            None if outcome.decision == Decision::Clarify => clarified_within(),
            None => outcome.decision == Decision::Fallback && case.accepts_fallback(),
        };
        if case.is_out_of_scope() {
            eval.out_of_scope += 1;
        } else {
            eval.in_domain += 1;
        }
        if !ok && outcome.decision == Decision::Answer {
            eval.wrong_answers += 1;
            if !case.is_out_of_scope() {
                eval.wrong_entries += 1;
            }
        }
        if !case.is_out_of_scope() {
            if outcome
                .entry_candidates()
                .next()
                .is_some_and(|c| matches!(c.target, Target::Entry(e) if accepted(e)))
                && outcome
                    .best()
                    .is_some_and(|c| matches!(c.target, Target::Entry(_)))
            {
                eval.ranked_first += 1;
            }
            if ok
                || outcome.clarify_options().into_iter().any(accepted)
                || also.is_some_and(accepted)
            {
                eval.one_tap += 1;
            }
        }
        if outcome.decision == Decision::Answer {
            eval.answers += 1;
        }
        if let Some(e) = also {
            eval.also_offered += 1;
            if accepted(e) {
                eval.also_offered_right += 1;
            }
        }
        if ok {
            if case.is_out_of_scope() {
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

    fn miss(accepted: &str, decision: Decision, got: Option<&str>) -> Miss {
        let (cases, _) = parse(&format!("{accepted}\tq\n"), "t.tsv");
        Miss {
            case: cases[0].clone(),
            decision,
            got: got.map(|g| (g.to_string(), 0.9)),
        }
    }

    #[test]
    fn confusions_count_misses_that_went_to_another_target_most_first() {
        let eval = Evaluation {
            misses: vec![
                miss("choose_strong_pin", Decision::Answer, Some("pin_format")),
                miss(
                    "reset_offline",
                    Decision::Fallback,
                    Some("out_of_scope:other_app_verification"),
                ),
                miss("choose_strong_pin", Decision::Answer, Some("pin_format")),
                miss("none", Decision::Answer, Some("pin_locked")),
                // Asking back, and falling back on an entry too weak to answer, cross no boundary.
                miss("change_pin", Decision::Clarify, Some("pin_format")),
                miss("bind_phone", Decision::Fallback, Some("bind_phone")),
                miss("forgot_pin", Decision::Fallback, None),
            ],
            ..Evaluation::default()
        };
        let all = eval.confusions(1);
        let seen: Vec<(&str, &str, Decision, usize)> = all
            .iter()
            .map(|c| (c.expected.as_str(), c.got.as_str(), c.decision, c.count))
            .collect();
        assert_eq!(
            seen,
            [
                ("choose_strong_pin", "pin_format", Decision::Answer, 2),
                ("none", "pin_locked", Decision::Answer, 1),
                (
                    "reset_offline",
                    "out_of_scope:other_app_verification",
                    Decision::Fallback,
                    1
                ),
            ]
        );
        assert_eq!(eval.confusions(2).len(), 1);
    }

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
        assert!(cases[1].is_out_of_scope());
        assert!(!cases[0].accepts_fallback());
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
