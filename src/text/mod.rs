//! Text handling shared by every path a message takes: normalisation, pinyin, reading numbers, the secret guard
//! and redaction, and the safety checks on wording.

pub mod guard;
pub mod normalize;
pub mod numerals;
pub mod pinyin;
pub mod redact;
pub mod solicit;

pub use normalize::{Normalizer, fold};
