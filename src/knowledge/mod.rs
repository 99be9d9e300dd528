//! The validated knowledge base: FAQ entries, out-of-scope topics, synonyms and regression cases, indexed.
//!
//! Editors write YAML ([`raw`]); [`KnowledgeBase::load`] turns a [`Source`] into a knowledge base or into
//! the complete list of [`Problem`]s, each with its file and line. Nothing reaches citizens unvalidated.

pub mod ambiguity;
mod baseline;
mod cases;
pub mod flows;
pub mod history;
pub mod lint;
mod load;
pub mod locate;
mod problem;
pub mod raw;
mod source;
mod yaml;

use std::fmt;
use std::path::Path;

pub use baseline::{BASELINE_FILE, Baseline, Compared};
pub use cases::{Case, Evaluation, Miss, NONE, parse as parse_cases, unknown_ids};
pub use lint::{MIN_QUESTIONS, Warning};
pub use problem::{Problem, Problems};
pub use source::{KNOWN_FILES, Source, SourceFile};

use crate::matcher::calibration::{self, Calibration};
use crate::matcher::{Evidence, Matcher, Outcome, Target};

/// Ids the product relies on; `check` (and a running bot's reload) reports any that is missing, while
/// `ask` and `eval` accept any knowledge that loads.
pub const REQUIRED_IDS: [&str; 19] = [
    "what_is_pin",
    "physical_card_pin",
    "apply_ecard",
    "set_pin",
    "pin_format",
    "choose_strong_pin",
    "forgot_pin",
    "reset_offline",
    "change_pin",
    "pin_locked",
    "never_share_pin",
    "phishing_scam",
    "bind_phone",
    "safety_tips",
    "regional_differences",
    "contact_support",
    "bot_scope",
    "greeting",
    "thanks",
];

/// Entries that are small talk (a greeting, thanks): no 👍/👎 under their answer, and no second entry offered
/// as a button beside them or for them.
pub const SMALL_TALK: [&str; 2] = ["greeting", "thanks"];

/// Longest text Telegram accepts in one message.
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// The reply when no entry fits: what the bot can help with, and where to go instead.
pub const FALLBACK_TEXT: &str = "抱歉，这个问题我还答不上来。我只能解答电子社保卡六位数密码的问题，比如：忘记密码、修改密码、密码被锁、设置密码、防诈骗。\n\n其他社保问题，请拨打12333人社服务热线，或到当地社保经办机构咨询。";

/// A stable snake_case identifier of an FAQ entry or topic, such as `forgot_pin`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct EntryId(String);

impl EntryId {
    /// Accepts lower-case ASCII letters, digits and underscores, starting with a letter.
    pub fn parse(s: &str) -> Result<EntryId, String> {
        let mut chars = s.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(EntryId(s.to_string()))
        } else {
            Err(format!(
                "id `{s}` is not snake_case (lower-case letters, digits and _, starting with a letter)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EntryId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        EntryId::parse(&s)
    }
}

impl From<EntryId> for String {
    fn from(id: EntryId) -> String {
        id.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One FAQ entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: EntryId,
    /// The first question is canonical: it is shown when the bot offers this entry as a choice.
    pub questions: Vec<String>,
    /// Line of each question in `faq.yaml`, in the order of `questions`.
    pub question_lines: Vec<usize>,
    pub answer: String,
    /// Line of the `answer:` key in `faq.yaml`.
    pub answer_line: usize,
    /// The guided flow this entry offers to start, if any.
    pub flow: Option<String>,
    /// Line of the entry in `faq.yaml`.
    pub line: usize,
}

impl Entry {
    pub fn canonical_question(&self) -> &str {
        &self.questions[0]
    }
}

/// A nearby subject the bot does not cover, with a pointer to who does.
#[derive(Debug, Clone)]
pub struct Topic {
    pub id: EntryId,
    pub hint: Option<String>,
    pub questions: Vec<String>,
    /// The line of each question in its file, for `eval`'s list of misses.
    pub question_lines: Vec<usize>,
}

/// What a knowledge source holds, counted even when it does not load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub entries: usize,
    pub questions: usize,
    pub topics: usize,
    pub cases: usize,
}

/// The result of `shebao check`: the knowledge if it loaded, every problem, every warning, and what was
/// counted.
#[derive(Debug)]
pub struct Report {
    pub knowledge: Option<KnowledgeBase>,
    pub problems: Vec<Problem>,
    /// Advice for editors that does not stop the knowledge from going live. Empty unless the report
    /// comes from [`KnowledgeBase::check_and_lint`].
    pub warnings: Vec<Warning>,
    pub summary: Summary,
}

/// How an out-of-scope topic's id is written where entries and topics share one list of labels
/// ([`KnowledgeBase::target_label`], problems about a topic, `eval`'s boundaries): `out_of_scope:topic_id`.
pub const TOPIC_LABEL: &str = "out_of_scope:";

/// The validated, indexed knowledge.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    /// Where it was loaded from (`embedded` or a directory).
    pub origin: String,
    pub entries: Vec<Entry>,
    pub topics: Vec<Topic>,
    pub flows: flows::Flows,
    pub cases: Vec<Case>,
    pub matcher: Matcher,
    /// Words of `synonyms.yaml` that leave open which entry is meant: asked, not guessed.
    pub ambiguities: Vec<ambiguity::Ambiguity>,
}

impl KnowledgeBase {
    /// Validates and indexes `source`, or returns every problem found.
    pub fn load(source: &Source) -> Result<KnowledgeBase, Problems> {
        load::load(source)
    }

    /// Whether `source` may go live: loading, the required ids, and the regression cases when it loaded.
    /// A running bot applies this verdict before it accepts a new version. It does not lint (the report's
    /// `warnings` stay empty): see [`KnowledgeBase::check_and_lint`].
    pub fn check(source: &Source) -> Report {
        let (loaded, summary) = load::validate(source);
        match loaded {
            Ok(kb) => {
                let faq = source.display_name("faq.yaml");
                let mut problems: Vec<Problem> = REQUIRED_IDS
                    .iter()
                    .filter(|id| kb.entry(id).is_none())
                    .map(|id| Problem::new(&faq, 1, format!("required entry `{id}` is missing")))
                    .collect();
                if kb.flows.get(crate::dialogue::RESET_FLOW).is_none() {
                    problems.push(Problem::new(
                        source.display_name("flows.yaml"),
                        1,
                        format!(
                            "required flow `{}` is missing (/reset starts it)",
                            crate::dialogue::RESET_FLOW
                        ),
                    ));
                }
                problems.extend(kb.regressions());
                Report {
                    problems,
                    knowledge: Some(kb),
                    warnings: Vec::new(),
                    summary,
                }
            }
            Err(Problems(problems)) => Report {
                knowledge: None,
                problems,
                warnings: Vec::new(),
                summary,
            },
        }
    }

    /// Everything `shebao check` reports: [`KnowledgeBase::check`], plus the warnings of
    /// [`KnowledgeBase::lint`] when the knowledge loaded. Linting asks every question against an index
    /// built without it, hundreds of times slower than `check`, so a running bot does not lint.
    pub fn check_and_lint(source: &Source) -> Report {
        let mut report = KnowledgeBase::check(source);
        if let Some(kb) = &report.knowledge {
            report.warnings = kb.lint(source);
        }
        report
    }

    /// Warnings for editors about knowledge that loads but will serve citizens badly (see [`lint`]),
    /// ordered by line; `source` is where the knowledge was loaded from, for the file names.
    pub fn lint(&self, source: &Source) -> Vec<Warning> {
        lint::lint(self, source)
    }

    /// The knowledge embedded in the binary. It is checked by the test suite, so it always loads.
    pub fn embedded() -> Result<KnowledgeBase, Problems> {
        KnowledgeBase::load(&Source::embedded())
    }

    /// Reads and validates the knowledge in `dir`.
    pub fn from_dir(dir: &Path) -> anyhow::Result<KnowledgeBase> {
        use anyhow::Context;
        let source = Source::from_dir(dir)
            .with_context(|| format!("reading knowledge from {}", dir.display()))?;
        Ok(KnowledgeBase::load(&source)?)
    }

    /// The entry with this id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id.as_str() == id)
    }

    /// Position of the entry with this id.
    pub fn entry_index(&self, id: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.id.as_str() == id)
    }

    /// Matches a question against the knowledge. The normalised form and clauses in the outcome, which staff
    /// views show and records keep, have every number of four digits or more masked (`text::redact`).
    pub fn ask(&self, question: &str) -> Outcome {
        let mut outcome = self.matcher.find(question);
        ambiguity::apply(&self.ambiguities, &mut outcome);
        for text in std::iter::once(&mut outcome.normalized).chain(outcome.clauses.iter_mut()) {
            if let std::borrow::Cow::Owned(scrubbed) = crate::text::redact::scrub(text) {
                *text = scrubbed;
            }
        }
        outcome
    }

    /// The id of a match target, `entry_id` or `out_of_scope:topic_id`.
    pub fn target_label(&self, target: Target) -> String {
        match target {
            Target::Entry(e) => self.entries[e].id.to_string(),
            Target::OutOfScope(t) => format!("{TOPIC_LABEL}{}", self.topics[t].id),
        }
    }

    /// The question text a candidate matched through.
    pub fn target_question(&self, target: Target, question: usize) -> &str {
        match target {
            Target::Entry(e) => &self.entries[e].questions[question],
            Target::OutOfScope(t) => &self.topics[t].questions[question],
        }
    }

    /// Under an answer, the entry offered as one more button: the matcher's likeliest other entry
    /// ([`Outcome::also_offered`]), unless it or the answer is small talk ([`SMALL_TALK`]).
    pub fn also_offered(&self, outcome: &Outcome) -> Option<usize> {
        let small_talk = |e: usize| SMALL_TALK.contains(&self.entries[e].id.as_str());
        let answer = outcome.answer()?;
        outcome
            .also_offered()
            .filter(|&e| !small_talk(e) && !small_talk(answer))
    }

    /// The text to send for an outcome: the answer, or the fallback (with the topic's pointer when one
    /// matched). A `clarify` outcome has no single text; callers offer [`Outcome::clarify_options`].
    pub fn reply_text(&self, outcome: &Outcome) -> String {
        if let Some(e) = outcome.answer() {
            return self.entries[e].answer.clone();
        }
        self.fallback_text(outcome)
    }

    /// The fallback reply for an outcome.
    pub fn fallback_text(&self, outcome: &Outcome) -> String {
        match outcome
            .out_of_scope()
            .and_then(|t| self.topics[t].hint.as_deref())
        {
            Some(hint) => format!("{}\n\n{FALLBACK_TEXT}", hint.trim()),
            None => FALLBACK_TEXT.to_string(),
        }
    }

    /// Runs the regression cases of `tests.tsv`; each failing case is a problem at its line.
    pub fn regressions(&self) -> Vec<Problem> {
        self.evaluate(&self.cases)
            .misses
            .iter()
            .map(|m| Problem::new(&m.case.file, m.case.line, m.describe()))
            .collect()
    }

    /// Measures how well labelled cases are answered.
    pub fn evaluate(&self, cases: &[Case]) -> Evaluation {
        cases::evaluate(self, cases)
    }

    /// Measures how well each question is answered by the others (see `shebao eval --leave-one-out`).
    pub fn leave_one_out(&self) -> Evaluation {
        cases::leave_one_out(self)
    }

    /// K-fold cross-validation on the knowledge's own questions (see `shebao eval --folds K`).
    pub fn cross_validate(&self, folds: usize) -> Evaluation {
        cases::folds(self, folds)
    }

    /// The calibration that `folds`-fold cross-validation of the knowledge (and `tests.tsv`) fits, with
    /// the samples it was fitted on (see `shebao eval --folds K --calibrate`).
    pub fn fit_calibration(&self, folds: usize) -> (Calibration, Vec<(Evidence, bool)>) {
        let samples = cases::calibration_samples(self, folds);
        (calibration::fit(&samples), samples)
    }

    /// Total number of questions over all entries.
    pub fn question_count(&self) -> usize {
        self.entries.iter().map(|e| e.questions.len()).sum()
    }
}
