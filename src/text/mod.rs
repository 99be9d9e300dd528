//! Text handling shared by every path a message takes: normalisation, pinyin and the safety checks on wording.

pub mod guard;
pub mod normalize;
pub mod pinyin;
pub mod solicit;

pub use normalize::{Normalizer, fold};
