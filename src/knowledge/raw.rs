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
