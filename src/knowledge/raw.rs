//! The knowledge files exactly as editors write them: plain serde types that mirror the YAML, unvalidated.

use serde::Deserialize;

/// One FAQ entry of `faq.yaml` (the file is `entries:` followed by a list of these).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntry {
    pub id: Option<String>,
    #[serde(default)]
    pub questions: Vec<String>,
    pub answer: Option<String>,
    pub flow: Option<String>,
}

/// `synonyms.yaml`: groups of interchangeable words (first is canonical) and filler words to drop.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSynonyms {
    #[serde(default)]
    pub groups: Vec<Vec<String>>,
    #[serde(default)]
    pub fillers: Vec<String>,
    /// Words that leave open which of two entries is meant (see `knowledge::ambiguity`).
    #[serde(default)]
    pub ambiguous: Vec<RawAmbiguity>,
}

/// One word of `synonyms.yaml`'s `ambiguous:` list: the word, the words that settle what it means, the
/// entries the matcher may pick for it and the entry of its other reading.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAmbiguity {
    pub word: String,
    #[serde(default)]
    pub settled_by: Vec<String>,
    #[serde(default)]
    pub when_answering: Vec<String>,
    pub also_offer: String,
}

/// One nearby subject the bot must not answer, in `out_of_scope.yaml` (a `topics:` list of these).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub id: Option<String>,
    pub hint: Option<String>,
    #[serde(default)]
    pub questions: Vec<String>,
}

/// `flows.yaml`: guided dialogues, such as the step-by-step password reset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlows {
    /// A flow idle longer than this expires (default 30).
    pub timeout_minutes: Option<u64>,
    #[serde(default)]
    pub flows: Vec<RawFlow>,
}

/// One guided flow.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    pub id: String,
    /// Label of the button that offers the flow after an FAQ answer.
    pub title: String,
    pub start: String,
    /// The step that 「遇到问题」 leads to from any walk-through step.
    pub problems: Option<String>,
    pub steps: Vec<RawStep>,
}

/// One step: a choice step has `options`, a walk-through step has `next`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub id: String,
    pub text: String,
    pub options: Option<Vec<RawOption>>,
    pub next: Option<String>,
    /// Reaching this step counts the flow as completed (in the staff's `/stats`).
    #[serde(default)]
    pub completes: bool,
}

/// One button of a choice step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOption {
    pub label: String,
    pub goto: String,
    /// Words a citizen types mid-flow ("刷不了脸") that lead here before any FAQ answer.
    #[serde(default)]
    pub keywords: Vec<String>,
}
