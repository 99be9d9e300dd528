//! Words that leave open which of two things a citizen means, declared by editors in `synonyms.yaml`,
//! so the bot asks instead of guessing.
//!
//! 「社保卡密码忘了」 may be about the physical card's PIN (set at the bank, reset at a counter) or about
//! the electronic card's (reset in the app). No amount of matching can tell, because the citizen did
//! not say; only the knowledge knows that 社保卡 alone is open and which entries read it each way. An
//! editor declares it:
//!
//! ```yaml
//! ambiguous:
//!   - word: 社保卡
//!     settled_by: [电子社保卡, 实体社保卡, 手机, 支付宝]   # any of these says which card
//!     when_answering: [forgot_pin, pin_locked]            # the electronic reading's entries
//!     also_offer: physical_card_pin                       # the other reading's entry
//! ```
//!
//! When a message contains `word` and none of `settled_by` (all compared after normalisation, so
//! synonyms and Traditional characters count), and the matcher would answer with one of
//! `when_answering`, the bot offers that entry and `also_offer` as buttons instead of answering.

use super::Problem;
use super::raw::RawAmbiguity;
use crate::matcher::{Decision, Outcome, Target};
use crate::text::Normalizer;

/// One validated declaration of `synonyms.yaml`'s `ambiguous:` list, in normalised words and entry
/// positions.
#[derive(Debug, Clone, PartialEq)]
pub struct Ambiguity {
    word: String,
    settled_by: Vec<String>,
    when_answering: Vec<usize>,
    also_offer: usize,
}

impl Ambiguity {
    /// Validates the raw declarations against the loaded entries (`id_of` gives an entry's position);
    /// every unknown id or empty word is a problem at the declaration's line in `file`.
    pub(super) fn load(
        raw: &[RawAmbiguity],
        normalizer: &Normalizer,
        id_of: impl Fn(&str) -> Option<usize>,
        file: &str,
        text: &str,
        problems: &mut Vec<Problem>,
    ) -> Vec<Ambiguity> {
        let line_of = |word: &str| {
            text.lines()
                .position(|l| l.contains("word:") && l.contains(word))
                .map_or(1, |i| i + 1)
        };
        let mut loaded = Vec::new();
        for declared in raw {
            let line = line_of(&declared.word);
            let word = normalizer.normalize(&declared.word);
            if word.is_empty() {
                problems.push(Problem::new(
                    file,
                    line,
                    format!(
                        "ambiguous word `{}` has no letters or digits",
                        declared.word
                    ),
                ));
                continue;
            }
            let mut resolve = |id: &str| {
                let found = id_of(id);
                if found.is_none() {
                    problems.push(Problem::new(
                        file,
                        line,
                        format!("ambiguous word `{}` names entry `{id}`, which faq.yaml does not define", declared.word),
                    ));
                }
                found
            };
            let when_answering: Vec<Option<usize>> = declared
                .when_answering
                .iter()
                .map(|id| resolve(id))
                .collect();
            let also_offer = resolve(&declared.also_offer);
            let (Some(when_answering), Some(also_offer)) = (
                when_answering.into_iter().collect::<Option<Vec<usize>>>(),
                also_offer,
            ) else {
                continue;
            };
            if when_answering.is_empty() {
                problems.push(Problem::new(
                    file,
                    line,
                    format!(
                        "ambiguous word `{}` needs `when_answering`: the entries of the reading the matcher picks",
                        declared.word
                    ),
                ));
                continue;
            }
            loaded.push(Ambiguity {
                word,
                settled_by: declared
                    .settled_by
                    .iter()
                    .map(|w| normalizer.normalize(w))
                    .filter(|w| !w.is_empty())
                    .collect(),
                when_answering,
                also_offer,
            });
        }
        loaded
    }

    /// Whether `normalized` (a normalised message) uses the word and nothing that settles it.
    fn open_in(&self, normalized: &str) -> bool {
        normalized.contains(&self.word) && !self.settled_by.iter().any(|w| normalized.contains(w))
    }
}

/// Turns an answer into a choice when the message leaves open which reading it means; the outcome's
/// [`Outcome::offered`] then holds the other reading's entry. An outcome that falls back stays as it is.
pub(super) fn apply(ambiguities: &[Ambiguity], outcome: &mut Outcome) {
    if outcome.decision == Decision::Fallback {
        return;
    }
    let Some(Target::Entry(best)) = outcome.best().map(|c| c.target) else {
        return;
    };
    for a in ambiguities {
        if a.when_answering.contains(&best)
            && a.also_offer != best
            && a.open_in(&outcome.normalized)
            && !outcome.offered.contains(&a.also_offer)
        {
            outcome.decision = Decision::Clarify;
            outcome.offered.push(a.also_offer);
            outcome.open_word.get_or_insert_with(|| a.word.clone());
        }
    }
}
