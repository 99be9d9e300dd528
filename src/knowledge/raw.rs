//! The knowledge files exactly as editors write them: plain serde types that mirror the YAML, unvalidated.

use serde::Deserialize;

/// `faq.yaml`: the question-and-answer entries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFaq {
    pub entries: Vec<serde_yaml::Value>,
}

/// One FAQ entry. Entries are deserialised one at a time, so one bad entry does not hide the others.
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
}

/// `out_of_scope.yaml`: nearby topics the bot must not answer, with example questions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutOfScope {
    #[serde(default)]
    pub topics: Vec<serde_yaml::Value>,
}

/// One out-of-scope topic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub id: Option<String>,
    pub hint: Option<String>,
    #[serde(default)]
    pub questions: Vec<String>,
}
