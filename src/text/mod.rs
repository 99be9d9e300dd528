//! Text handling shared by every path a message takes: normalisation and the safety checks on wording.

pub mod guard;
pub mod normalize;
pub mod solicit;

pub use normalize::{Normalizer, fold};
