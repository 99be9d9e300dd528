//! Pinyin syllables for Chinese text and for pinyin typed without picking characters, so that a homophone
//! typo (往记 for 忘记) or a question typed as `wangji mima` meets the knowledge on the same tokens.
//!
//! Each Chinese char is read by its most common reading, without tone (`pinyin` crate); the same reading is
//! used for the knowledge and for every question, so a heteronym is at worst consistently read one way.
//! A run of Latin letters counts as typed pinyin when it splits wholly into syllables that the caller
//! knows (the syllables of the knowledge: a syllable nobody uses can never match anyway).
//!
//! ```
//! use shebao::text::pinyin::{syllable, split_pinyin};
//! assert_eq!(syllable('忘'), Some("wang"));
//! assert_eq!(syllable('往'), syllable('忘'));
//! let known = |s: &str| ["wang", "ji", "mi", "ma"].contains(&s);
//! assert_eq!(split_pinyin("wangjimima", known), Some(vec!["wang", "ji", "mi", "ma"]));
//! assert_eq!(split_pinyin("iphone", known), None);
//! ```

use pinyin::ToPinyin;

/// The longest toneless syllable (`zhuang`, `chuang`, `shuang`).
const LONGEST: usize = 6;

/// The toneless pinyin of a Chinese char, if it has one.
pub fn syllable(c: char) -> Option<&'static str> {
    c.to_pinyin().map(|p| p.plain())
}

/// Splits a run of lower-case Latin letters into the fewest syllables for which `known` holds, or `None`
/// when it cannot be split wholly (an English word, a brand, a typo too far from pinyin).
pub fn split_pinyin(word: &str, known: impl Fn(&str) -> bool) -> Option<Vec<&str>> {
    if word.is_empty() || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let n = word.len();
    // best[i]: the fewest syllables covering word[..i], and where the last one starts.
    let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 0));
    for end in 1..=n {
        for start in end.saturating_sub(LONGEST)..end {
            let Some((count, _)) = best[start] else {
                continue;
            };
            if known(&word[start..end]) && best[end].is_none_or(|(c, _)| count + 1 < c) {
                best[end] = Some((count + 1, start));
            }
        }
    }
    best[n]?;
    let mut syllables = Vec::new();
    let mut end = n;
    while end > 0 {
        let (_, start) = best[end]?;
        syllables.push(&word[start..end]);
        end = start;
    }
    syllables.reverse();
    Some(syllables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homophones_share_a_syllable() {
        assert_eq!(syllable('密'), syllable('米'));
        assert_eq!(syllable('码'), syllable('马'));
        assert_eq!(syllable('a'), None);
    }

    #[test]
    fn typed_pinyin_splits_into_the_fewest_known_syllables() {
        let known = |s: &str| ["xi", "an", "xian", "dian", "zi"].contains(&s);
        assert_eq!(split_pinyin("xian", known), Some(vec!["xian"]));
        assert_eq!(split_pinyin("dianzi", known), Some(vec!["dian", "zi"]));
        assert_eq!(split_pinyin("dianzix", known), None);
        assert_eq!(split_pinyin("12333", known), None);
    }
}
