//! One normalisation, used identically for indexing the knowledge and for reading a citizen's question.
//!
//! The pipeline is: NFKC (full-width digits and letters become ASCII), Traditional -> Simplified,
//! lower case, punctuation / emoji / whitespace removed (a single space survives only between two
//! Latin words), then synonym and typo rewriting (longest match first) and filler removal.
//!
//! ```
//! use shebao::text::Normalizer;
//! let n = Normalizer::new(&[vec!["忘记".into(), "忘了".into()]], &["请问".into()]);
//! assert_eq!(n.normalize("請問：電子社保卡密碼忘了！！😭"), "电子社保卡密码忘记");
//! assert_eq!(n.normalize("ＰＩＮ　１２３"), "pin 123");
//! ```

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use unicode_normalization::UnicodeNormalization;

/// Folds text to its comparable form without synonyms: NFKC, Traditional -> Simplified, lower case,
/// and only letters and digits kept. Latin words stay separated by one space.
pub fn fold(text: &str) -> String {
    let simplified = match unicode_normalization::is_nfkc_quick(text.chars()) {
        unicode_normalization::IsNormalized::Yes => fast2s::convert(text),
        _ => fast2s::convert(&text.nfkc().collect::<String>()),
    };
    let mut out = String::with_capacity(simplified.len());
    // Whether a separator (space, punctuation, emoji) was skipped since the last kept char.
    let mut gap = false;
    for c in simplified.chars() {
        // Chinese chars are by far the most common and need no case folding.
        if is_ideographic(c) {
            out.push(c);
            gap = false;
        } else if c.is_alphanumeric() {
            if gap && out.chars().next_back().is_some_and(is_word_char) {
                out.push(' ');
            }
            gap = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            gap = true;
        }
    }
    out
}

/// Whether `c` is part of a multi-character word (Latin letters, digits, other alphabetic scripts) rather than
/// a character that is a token by itself (Chinese characters, kana, hangul).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_ideographic(c)
}

/// CJK ideographs and the syllabic scripts written without spaces: each such char is a token by itself.
pub fn is_ideographic(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3005..=0x3007    // 々 〆 〇
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x3134F  // CJK extensions B..G
    )
}

/// Rewrites synonyms and typos to one canonical form and drops filler words, after [`fold`].
#[derive(Debug, Clone)]
pub struct Normalizer {
    rewriter: Option<AhoCorasick>,
    /// Replacement for each pattern of `rewriter`, by pattern index (empty for fillers).
    replacements: Vec<String>,
    /// Whether each pattern is a Latin word that must match whole words only.
    whole_word: Vec<bool>,
    /// The folded words it rewrites (synonyms, typos, fillers), by pattern index.
    patterns: Vec<String>,
}

impl Normalizer {
    /// Builds a normaliser from synonym groups (the first word of each group is canonical) and filler words.
    /// Words are folded first, so editors may write them in any script or width. Empty words are skipped.
    pub fn new(groups: &[Vec<String>], fillers: &[String]) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut replacements = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        for group in groups {
            let Some(canonical) = group.first().map(|w| fold(w)) else {
                continue;
            };
            for word in group {
                let folded = fold(word);
                if !folded.is_empty() && seen.insert(folded.clone()) {
                    patterns.push(folded);
                    replacements.push(canonical.clone());
                }
            }
        }
        for filler in fillers {
            let folded = fold(filler);
            if !folded.is_empty() && seen.insert(folded.clone()) {
                patterns.push(folded);
                replacements.push(String::new());
            }
        }
        let whole_word = patterns
            .iter()
            .map(|p| p.chars().any(is_word_char))
            .collect();
        let rewriter = (!patterns.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .expect("synonym patterns are plain strings and always build")
        });
        Normalizer {
            rewriter,
            replacements,
            whole_word,
            patterns,
        }
    }

    /// The words it rewrites or drops, folded: text a question may contain before it is normalised.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(String::as_str)
    }

    /// A normaliser that only folds (no synonyms, no fillers).
    pub fn plain() -> Self {
        Normalizer::new(&[], &[])
    }

    /// The comparable form of `text`: folded, synonyms rewritten, fillers removed.
    pub fn normalize(&self, text: &str) -> String {
        let folded = fold(text);
        if self.rewriter.is_none() {
            return folded;
        }
        let mut out = String::with_capacity(folded.len());
        let mut last = 0;
        for (range, pattern) in self.matches(&folded) {
            out.push_str(&folded[last..range.start]);
            push_joined(&mut out, &self.replacements[pattern]);
            last = range.end;
        }
        push_joined(&mut out, &folded[last..]);
        out
    }

    /// The byte ranges of folded text that [`Normalizer::normalize`] rewrites or drops.
    pub fn rewritten(&self, folded: &str) -> Vec<std::ops::Range<usize>> {
        self.matches(folded).map(|(range, _)| range).collect()
    }

    /// The synonym and filler words found in folded text, with their pattern index, as they are rewritten.
    fn matches<'a>(
        &'a self,
        folded: &'a str,
    ) -> impl Iterator<Item = (std::ops::Range<usize>, usize)> + 'a {
        self.rewriter
            .iter()
            .flat_map(move |rewriter| rewriter.find_iter(folded))
            .map(|m| (m.range(), m.pattern().as_usize()))
            .filter(move |(range, pattern)| {
                !self.whole_word[*pattern] || at_word_boundaries(folded, range.start, range.end)
            })
    }
}

/// Whether `text[start..end]` is not glued to Latin letters or digits on either side.
fn at_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
}

/// Appends `piece`, keeping the rule that only a single space separates two Latin words and nothing else.
fn push_joined(out: &mut String, piece: &str) {
    let piece = if out.is_empty() || out.ends_with(' ') {
        piece.trim_start_matches(' ')
    } else {
        piece
    };
    if piece.is_empty() {
        return;
    }
    let glue = out.chars().next_back().is_some_and(is_word_char)
        && piece.chars().next().is_some_and(is_word_char);
    if glue && !out.ends_with(' ') {
        out.push(' ');
    }
    out.push_str(piece);
    // A space left dangling before a Chinese char (e.g. after a removed filler) is dropped.
    if out.ends_with(' ') {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalizer() -> Normalizer {
        let groups = vec![
            vec!["忘记".to_string(), "忘了".into(), "想不起来".into()],
            vec![
                "密码".to_string(),
                "口令".into(),
                "pin码".into(),
                "pin".into(),
                "密马".into(),
            ],
            vec!["电子社保卡".to_string(), "电子社会保障卡".into()],
            vec!["怎么办".to_string(), "咋办".into()],
        ];
        Normalizer::new(&groups, &["请问".to_string(), "呀".into()])
    }

    #[test]
    fn full_width_digits_and_letters_become_ascii() {
        assert_eq!(fold("１２３３３ ＡＢＣ"), "12333 abc");
    }

    #[test]
    fn traditional_characters_become_simplified() {
        assert_eq!(fold("電子社保卡密碼忘記了"), "电子社保卡密码忘记了");
    }

    #[test]
    fn punctuation_emoji_and_spaces_are_removed() {
        assert_eq!(fold("密码 忘了？！😭🙏，怎么办。。。"), "密码忘了怎么办");
    }

    #[test]
    fn latin_words_keep_one_space_between_them() {
        assert_eq!(fold("Hello,   World!"), "hello world");
        assert_eq!(fold("用 APP 改"), "用app改");
    }

    #[test]
    fn synonyms_and_typos_map_to_the_canonical_form() {
        let n = normalizer();
        assert_eq!(
            n.normalize("电子社会保障卡密马想不起来了咋办"),
            "电子社保卡密码忘记了怎么办"
        );
        assert_eq!(n.normalize("PIN碼忘了"), "密码忘记");
    }

    #[test]
    fn latin_synonyms_match_whole_words_only() {
        let n = normalizer();
        assert_eq!(n.normalize("pin"), "密码");
        assert_eq!(n.normalize("ping"), "ping");
        assert_eq!(n.normalize("spin 忘了"), "spin忘记");
    }

    #[test]
    fn fillers_are_removed() {
        assert_eq!(normalizer().normalize("请问密码忘了呀"), "密码忘记");
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        let n = normalizer();
        for text in [
            "請問電子社會保障卡PIN碼想不起來了咋辦？",
            "hello world",
            "１２３ 密马",
        ] {
            let once = n.normalize(text);
            assert_eq!(n.normalize(&once), once, "{text}");
        }
    }

    #[test]
    fn empty_and_symbol_only_text_normalises_to_nothing() {
        assert_eq!(normalizer().normalize(""), "");
        assert_eq!(normalizer().normalize("？？？🙂🙂"), "");
    }
}
