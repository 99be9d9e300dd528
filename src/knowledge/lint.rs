//! Warnings for FAQ editors: knowledge that loads and passes its cases but will serve citizens badly.
//!
//! A [`Problem`](super::Problem) stops a version from going live; a [`Warning`] does not. `shebao check`
//! prints both. The warnings are:
//!
//! - **confusable questions**: a question that, if nobody had written it down, the matcher would answer
//!   with another entry or could not separate from another entry (asked against a matcher built without
//!   its fold, as `shebao eval --folds 10` does);
//! - **too few questions**: an entry with fewer than [`MIN_QUESTIONS`] questions;
//! - **app steps without a way out**: an answer giving app steps that never mentions 12333 or the local
//!   office, for the citizen whose app does not look like the steps.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::cases::HeldOut;
use super::{Entry, KnowledgeBase, Problem, Source};
use crate::matcher::{CANDIDATES, CLARIFY_SPREAD, Candidate, Decision, Outcome, Target};

/// Fewest questions (the canonical one and its alternates) an entry needs for the matcher to recognise
/// phrasings nobody wrote down: with one alternate left out, at least two others still describe the entry.
pub const MIN_QUESTIONS: usize = 3;

/// One warning in one knowledge file: located like a [`Problem`], printed as `file:line: warning: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning(pub Problem);

impl Warning {
    pub fn new(file: impl Into<String>, line: usize, message: impl Into<String>) -> Warning {
        Warning(Problem::new(file, line, message))
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.0;
        write!(f, "{}:{}: warning: {}", p.file, p.line, p.message)
    }
}

/// Every warning about `kb`, which was loaded from `source` (for file names), ordered by line.
pub(super) fn lint(kb: &KnowledgeBase, source: &Source) -> Vec<Warning> {
    let faq = source.display_name("faq.yaml");
    let mut warnings = confusable_questions(kb, &faq);
    for entry in &kb.entries {
        warnings.extend(too_few_questions(entry, &faq));
        warnings.extend(steps_without_way_out(entry, &faq));
    }
    warnings.sort_by_key(|w| w.0.line);
    warnings
}

/// Folds of the held-out matchers the confusable-questions warning asks through. Each matcher trains the
/// model, so leaving out one question at a time would train one per question (hundreds); ten folds
/// train ten, and hold each question out together with a tenth of the others, as `eval --folds 10` does.
pub const LINT_FOLDS: usize = 10;

/// Asks every question of every entry (with at least two) against a matcher built without its fold
/// (question `i` of each entry is in fold `i mod` [`LINT_FOLDS`]), and warns
/// when the matcher would then answer with another entry, or ask back because another entry is too
/// close to separate (its decision `clarify`). The rule has no threshold of its own: it is the matcher's
/// decision, with its [`SIMILARITY_FLOOR`](crate::matcher::SIMILARITY_FLOOR),
/// [`ANSWER_CONFIDENCE`](crate::matcher::ANSWER_CONFIDENCE) and [`CLARIFY_LEAD`](crate::matcher::CLARIFY_LEAD).
/// A question that merely falls back is not confused with anything: it is far from everything, which
/// the leave-one-out evaluation speaks to.
fn confusable_questions(kb: &KnowledgeBase, faq: &str) -> Vec<Warning> {
    // An entry with one question has nothing left to match once it is held out; the too-few warning
    // covers it.
    let held_out: Vec<(Target, usize)> = kb
        .entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.questions.len() > 1)
        .flat_map(|(e, entry)| (0..entry.questions.len()).map(move |q| (Target::Entry(e), q)))
        .collect();
    let outcomes = HeldOut::new(kb).ask_folds(&held_out, LINT_FOLDS);
    held_out
        .iter()
        .zip(&outcomes)
        .filter_map(|(&(target, q), outcome)| {
            let Target::Entry(e) = target else {
                return None;
            };
            let entry = &kb.entries[e];
            let message = confusion(kb, e, &entry.questions[q], outcome)?;
            Some(Warning::new(faq, entry.question_lines[q], message))
        })
        .collect()
}

/// What the matcher would confuse `question` of entry `own` with, from its held-out outcome.
fn confusion(kb: &KnowledgeBase, own: usize, question: &str, outcome: &Outcome) -> Option<String> {
    let best = outcome.best()?;
    let id = &kb.entries[own].id;
    let own_similarity = outcome
        .candidates
        .iter()
        .find(|c| c.target == Target::Entry(own))
        .map(|c| c.similarity);
    // The other entry's id, the question it matched through, and both similarities.
    let describe = |other: usize, candidate: &Candidate| {
        let (theirs, ours) = similarities(candidate.similarity, own_similarity);
        let via = kb.target_question(candidate.target, candidate.question);
        (&kb.entries[other].id, via, theirs, ours)
    };
    match (outcome.decision, best.target) {
        (Decision::Answer | Decision::Clarify, Target::Entry(other)) if other != own => {
            let (other, via, theirs, ours) = describe(other, best);
            Some(format!(
                "question `{question}` of `{id}` is closer to `{other}` (via `{via}`, similarity {theirs}) than to its own entry ({ours}): the matcher may confuse them"
            ))
        }
        (Decision::Clarify, Target::Entry(_)) => {
            // Asked back with the other entry near: a confusion. Asked back only for want of
            // confidence, with no other entry near, is not one entry taken for another.
            let runner_up = outcome
                .entry_candidates()
                .find(|c| c.target != Target::Entry(own))
                .filter(|c| best.similarity - c.similarity <= CLARIFY_SPREAD)?;
            let Target::Entry(other) = runner_up.target else {
                return None;
            };
            let (other, via, theirs, ours) = describe(other, runner_up);
            Some(format!(
                "question `{question}` of `{id}` is too close to `{other}` (via `{via}`, similarity {theirs}; its own entry {ours}): the matcher cannot separate them and asks which was meant"
            ))
        }
        _ => None,
    }
}

/// Another entry's similarity and the own entry's (if among the candidates) as text, with two decimals,
/// or up to four when two would print different numbers as equal.
fn similarities(other: f32, own: Option<f32>) -> (String, String) {
    let precision = (2..=4)
        .find(|&p| own.is_none_or(|own| format!("{own:.p$}") != format!("{other:.p$}")))
        .unwrap_or(2);
    let own = own.map_or_else(
        || format!("not among the {CANDIDATES} nearest"),
        |own| format!("{own:.precision$}"),
    );
    (format!("{other:.precision$}"), own)
}

/// Warns about an entry with fewer than [`MIN_QUESTIONS`] questions.
fn too_few_questions(entry: &Entry, faq: &str) -> Option<Warning> {
    let n = entry.questions.len();
    (n < MIN_QUESTIONS).then(|| {
        Warning::new(
            faq,
            entry.line,
            format!(
                "entry `{}` has only {n} question(s); add alternates the way citizens write, so the matcher can generalise",
                entry.id
            ),
        )
    })
}

/// Warns about an answer that gives app steps but no way out (see [`words`]).
fn steps_without_way_out(entry: &Entry, faq: &str) -> Option<Warning> {
    (gives_app_steps(&entry.answer) && !offers_way_out(&entry.answer)).then(|| {
        Warning::new(
            faq,
            entry.answer_line,
            format!(
                "answer of `{}` gives app steps but never mentions 12333 or the local office: add a way out for when the app looks different",
                entry.id
            ),
        )
    })
}

pub mod words {
    //! The words the app-steps lint looks for, in one place. Matching ignores width (１２３３３), script
    //! (Traditional characters) and case (APP, app).
    //!
    //! An answer *gives app steps* when a line starts with a step number ([`STEP_NUMBER_ENDS`] after one
    //! or two digits: `1.`, `1、`, `1）`), when it has a circled number (①) or `第N步` ([`STEP_WORD`]), or
    //! when it tells the user to tap ([`TAP_WORDS`]) or to open an app ([`OPEN_WORD`] then one of
    //! [`APP_WORDS`] in the same clause). It *offers a way out* when it mentions one of [`WAY_OUT`]: the
    //! hotline or a place to go.

    /// What follows the digits of a numbered step at the start of a line (after width folding).
    pub const STEP_NUMBER_ENDS: [char; 3] = ['.', '、', ')'];
    /// `第` + a number + this: 第1步, 第三步.
    pub const STEP_WORD: char = '步';
    /// Tap instructions.
    pub const TAP_WORDS: [&str; 9] = [
        "点击", "点开", "点按", "进入", "点「", "点“", "点\"", "点【", "点『",
    ];
    /// "Open", which gives an app step when one of [`APP_WORDS`] follows in the same clause.
    pub const OPEN_WORD: &str = "打开";
    pub const APP_WORDS: [&str; 2] = ["app", "小程序"];
    /// The hotline and the offices a citizen can turn to when the app does not work for them.
    pub const WAY_OUT: [&str; 11] = [
        "12333",
        "经办机构",
        "社保局",
        "人社局",
        "人社部门",
        "社保中心",
        "服务中心",
        "服务大厅",
        "窗口",
        "网点",
        "柜台",
    ];
}

use words::{APP_WORDS, OPEN_WORD, STEP_NUMBER_ENDS, STEP_WORD, TAP_WORDS, WAY_OUT};

/// Whether `text` gives app steps: numbered steps or tap instructions (see [`words`]).
pub fn gives_app_steps(text: &str) -> bool {
    if text.chars().any(|c| ('①'..='⑳').contains(&c)) {
        return true;
    }
    let plain = comparable(text);
    plain.lines().any(starts_with_step_number)
        || has_step_word(&plain)
        || TAP_WORDS.iter().any(|w| plain.contains(w))
        || opens_an_app(&plain)
}

/// Whether `text` mentions the 12333 hotline or an office (see [`words`]).
pub fn offers_way_out(text: &str) -> bool {
    let plain = comparable(text);
    WAY_OUT.iter().any(|w| plain.contains(w))
}

/// NFKC (full-width digits and punctuation to ASCII), Traditional to Simplified, lower case; line breaks
/// and punctuation kept, unlike [`crate::text::fold`].
fn comparable(text: &str) -> String {
    fast2s::convert(&text.nfkc().collect::<String>()).to_lowercase()
}

/// `1.`, `2、` or `3)` at the start of a line, not a decimal such as `1.5` nor a year.
fn starts_with_step_number(line: &str) -> bool {
    let line = line.trim_start();
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let mut rest = line[digits..].chars();
    (1..=2).contains(&digits)
        && rest.next().is_some_and(|c| STEP_NUMBER_ENDS.contains(&c))
        && !rest.next().is_some_and(|c| c.is_ascii_digit())
}

/// `第` followed by a number in digits or Chinese numerals, then `步`.
fn has_step_word(text: &str) -> bool {
    text.match_indices('第').any(|(i, _)| {
        let after = &text[i + '第'.len_utf8()..];
        let number = after
            .chars()
            .take_while(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(*c))
            .count();
        number > 0 && after.chars().nth(number) == Some(STEP_WORD)
    })
}

/// `打开` followed, in the same clause, by an app word: 打开微信App, 打开支付宝小程序.
fn opens_an_app(text: &str) -> bool {
    text.match_indices(OPEN_WORD).any(|(i, _)| {
        let clause = text[i..]
            .split(['。', '；', ';', '\n', '，', ','])
            .next()
            .unwrap_or("");
        APP_WORDS.iter().any(|w| clause.contains(w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_lines_are_app_steps() {
        assert!(gives_app_steps("先登录。\n1. 在App里点我的\n2. 选设置"));
        assert!(gives_app_steps("1、打开设置"));
        assert!(gives_app_steps("  2）选择重置密码"));
        assert!(gives_app_steps("１．全角的编号也算"));
    }

    #[test]
    fn circled_numbers_and_step_words_are_app_steps() {
        assert!(gives_app_steps("①登录 ②刷脸"));
        assert!(gives_app_steps("第1步：登录"));
        assert!(gives_app_steps("第三步，刷脸核验"));
    }

    #[test]
    fn tap_and_open_instructions_are_app_steps() {
        assert!(gives_app_steps("在App里点击忘记密码"));
        assert!(gives_app_steps("点「重置密码」"));
        assert!(gives_app_steps("点\"领取\"就行"));
        assert!(gives_app_steps("進入個人中心"));
        assert!(gives_app_steps("打开掌上12333 APP"));
        assert!(gives_app_steps("打开微信里的小程序"));
    }

    #[test]
    fn plain_explanations_are_not_app_steps() {
        assert!(!gives_app_steps("电子社保卡密码是6位数字，您自己设的。"));
        assert!(!gives_app_steps("费用1.5元"));
        assert!(!gives_app_steps("打开心扉，好好说话，app以后再说"));
        assert!(!gives_app_steps("第一次领卡时设的"));
        assert!(!gives_app_steps("2024.1起有新规定"));
    }

    #[test]
    fn the_hotline_and_offices_are_ways_out() {
        assert!(offers_way_out("拨打12333咨询"));
        assert!(offers_way_out("拨打１２３３３"));
        assert!(offers_way_out("到当地社保经办机构办理"));
        assert!(offers_way_out("去人社局窗口"));
        assert!(offers_way_out("到社保卡服务网点"));
        assert!(offers_way_out("到服務大廳"));
        assert!(!offers_way_out("在App里点击忘记密码，按提示操作。"));
    }

    /// A small knowledge from `faq.yaml` text alone.
    fn knowledge(faq: &str) -> (KnowledgeBase, Source) {
        let source = Source {
            origin: "test".into(),
            files: vec![crate::knowledge::SourceFile {
                name: "faq.yaml",
                display: "faq.yaml".into(),
                text: faq.into(),
            }],
            unknown_files: Vec::new(),
        };
        let kb = KnowledgeBase::load(&source).expect("the test knowledge loads");
        (kb, source)
    }

    const FAQ: &str = "\
entries:
  - id: forgot
    questions:
      - 密码忘了怎么办
      - 电子社保卡密码忘了
      - 密码忘了咋整
    answer: 在App里点「忘记密码」，按提示刷脸后设新密码；办不成请拨打12333。
  - id: locked
    questions:
      - 密码被锁定了
      - 密码被锁定了怎么解
      - 输错几次密码被锁定了
    answer: |
      一般第二天自动解锁。
      还不行请到当地社保经办机构。
  - id: scope
    questions:
      - 你能做什么
      - 你是谁能做什么
      - 你是谁
    answer: 我只解答电子社保卡密码的问题。
";

    #[test]
    fn distinct_entries_with_enough_questions_and_ways_out_get_no_warnings() {
        let (kb, source) = knowledge(FAQ);
        assert_eq!(lint(&kb, &source), Vec::new());
    }

    #[test]
    fn a_question_nearly_the_same_as_another_entrys_is_confusable_at_its_own_line() {
        let faq = FAQ.replace(
            "      - 输错几次密码被锁定了\n",
            "      - 输错几次密码被锁定了\n      - 密码忘了怎么办呢\n",
        );
        let (kb, source) = knowledge(&faq);
        let warnings = lint(&kb, &source);
        assert!(
            warnings.iter().any(|w| w.0.line == 13
                && w.0.message.starts_with(
                    "question `密码忘了怎么办呢` of `locked` is closer to `forgot` (via `密码忘了怎么办`"
                )),
            "{warnings:?}"
        );
    }

    #[test]
    fn an_entry_with_two_questions_is_warned_about_at_its_line() {
        let faq = FAQ.replace("      - 你是谁\n", "");
        let (kb, source) = knowledge(&faq);
        let warnings: Vec<String> = lint(&kb, &source)
            .iter()
            .filter(|w| w.0.message.contains("has only"))
            .map(Warning::to_string)
            .collect();
        assert_eq!(
            warnings,
            [
                "faq.yaml:16: warning: entry `scope` has only 2 question(s); add alternates the way citizens write, so the matcher can generalise"
            ]
        );
    }

    #[test]
    fn an_answer_with_app_steps_and_no_way_out_is_warned_about_at_its_answer_line() {
        let faq = FAQ.replace("；办不成请拨打12333", "");
        let (kb, source) = knowledge(&faq);
        let warnings = lint(&kb, &source);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0.line, 7);
        assert!(
            warnings[0]
                .0
                .message
                .starts_with("answer of `forgot` gives app steps but never mentions 12333"),
            "{warnings:?}"
        );
    }

    #[test]
    fn similarities_that_would_print_equal_get_a_third_decimal() {
        assert_eq!(
            similarities(0.5, Some(0.25)),
            ("0.50".into(), "0.25".into())
        );
        assert_eq!(
            similarities(0.2249, Some(0.2201)),
            ("0.225".into(), "0.220".into())
        );
        assert_eq!(
            similarities(0.27112, Some(0.27076)),
            ("0.2711".into(), "0.2708".into())
        );
        assert_eq!(similarities(0.4, Some(0.4)), ("0.40".into(), "0.40".into()));
        assert_eq!(
            similarities(0.3, None),
            ("0.30".into(), "not among the 5 nearest".into())
        );
    }

    #[test]
    fn a_warning_prints_as_file_line_warning_message() {
        let w = Warning::new("faq.yaml", 7, "something");
        assert_eq!(w.to_string(), "faq.yaml:7: warning: something");
    }
}
