//! One normalisation, used identically for indexing the knowledge and for reading a citizen's question.
//!
//! The pipeline is: NFKC (full-width digits and letters become ASCII), Traditional -> Simplified,
//! lower case, punctuation / emoji / whitespace removed (a single space survives only between two
//! Latin words), then synonym and typo rewriting (longest match first) and filler removal, and last the
//! same rewriting for pinyin typed without picking characters (「suo le」 spelt as 锁定's 「suoding」).
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
    /// The same rewriting for pinyin typed without picking characters (see [`Spoken`]).
    spoken: Spoken,
}

/// Synonyms as they sound: a Chinese variant of two or more chars, typed as pinyin, is respelt as its
/// canonical word's pinyin (「mima suo le」 as 「mima suoding」, since 锁了 is written 锁定), so typed
/// pinyin meets the knowledge on the same syllables its chars would. A one-char variant (改, 换) is left
/// alone: one syllable typed alone is too often another word.
#[derive(Debug, Clone, Default)]
struct Spoken {
    /// A variant's syllables -> its canonical word's syllables, written as one word.
    respell: rustc_hash::FxHashMap<Vec<&'static str>, String>,
    /// The most syllables of a variant.
    longest: usize,
}

impl Spoken {
    /// From folded synonym groups, the first word of each canonical.
    fn new(groups: &[Vec<String>]) -> Spoken {
        let syllables = |word: &str| -> Option<Vec<&'static str>> {
            word.chars().map(crate::text::pinyin::syllable).collect()
        };
        let mut respell = rustc_hash::FxHashMap::default();
        // A sound two groups' variants share says neither for sure.
        let mut shared = rustc_hash::FxHashSet::default();
        for group in groups {
            let Some((canonical, variants)) = group.split_first() else {
                continue;
            };
            let Some(target) = syllables(canonical) else {
                continue;
            };
            // The canonical word spelt as itself, so that a longer canonical is not read as a shorter
            // variant inside it (dianzi shebaoka is 电子社保卡, not 电子社保 then ka).
            if target.len() >= 2 {
                respell.insert(target.clone(), target.concat());
            }
            for variant in variants {
                let Some(sound) = syllables(variant) else {
                    continue;
                };
                if sound.len() < 2 || sound == target {
                    continue;
                }
                match respell.get(&sound) {
                    Some(other) if *other != target.concat() => {
                        shared.insert(sound);
                    }
                    Some(_) => {}
                    None => {
                        respell.insert(sound, target.concat());
                    }
                }
            }
        }
        for sound in &shared {
            respell.remove(sound);
        }
        let longest = respell.keys().map(Vec::len).max().unwrap_or(0);
        Spoken { respell, longest }
    }

    /// `text` with every run of typed pinyin respelt (see [`Spoken`]); `None` when nothing changes.
    fn respelt(&self, text: &str) -> Option<String> {
        if self.respell.is_empty() || !text.bytes().any(|b| b.is_ascii_lowercase()) {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| c.is_ascii_lowercase()) {
            out.push_str(&rest[..start]);
            // A run of Latin words separated by single spaces.
            let run_len = rest[start..]
                .find(|c: char| !(c.is_ascii_lowercase() || c == ' '))
                .unwrap_or(rest.len() - start);
            let run = &rest[start..start + run_len];
            match self.respelt_run(run) {
                Some(new) => {
                    out.push_str(&new);
                    changed = true;
                }
                None => out.push_str(run),
            }
            rest = &rest[start + run_len..];
        }
        out.push_str(rest);
        changed.then_some(out)
    }

    /// A run of Latin words respelt, or `None` when no variant is in it. A word that is not pinyin (an
    /// app's name, English) stays as it is and parts the pinyin around it.
    fn respelt_run(&self, run: &str) -> Option<String> {
        let mut words: Vec<String> = Vec::new();
        let mut changed = false;
        // The syllables of the pinyin words since the last word that is not, with the word each is from.
        let mut sounds: Vec<(usize, &str)> = Vec::new();
        for (w, word) in run.split(' ').filter(|w| !w.is_empty()).enumerate() {
            match crate::text::pinyin::split_pinyin(word, is_syllable) {
                Some(split) => sounds.extend(split.into_iter().map(|s| (w, s))),
                None => {
                    changed |= self.respell_sounds(&std::mem::take(&mut sounds), &mut words);
                    words.push(word.to_string());
                }
            }
        }
        changed |= self.respell_sounds(&sounds, &mut words);
        changed.then(|| words.join(" "))
    }

    /// Appends the words `sounds` make, each variant's syllables as its canonical word and the others as
    /// the words they came from; whether a variant was respelt.
    fn respell_sounds(&self, sounds: &[(usize, &str)], words: &mut Vec<String>) -> bool {
        let mut changed = false;
        let mut word = String::new();
        let mut last_word = usize::MAX;
        let mut i = 0;
        while i < sounds.len() {
            // The longest run of syllables from here that a synonym is spelt with.
            let found = (2..=self.longest.min(sounds.len() - i))
                .rev()
                .find_map(|n| {
                    let key: Vec<&str> = sounds[i..i + n].iter().map(|&(_, s)| s).collect();
                    self.respell.get(&key).map(|canonical| (n, canonical))
                });
            if let Some((n, canonical)) = found {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                let typed: String = sounds[i..i + n].iter().map(|&(_, s)| s).collect();
                changed |= typed != *canonical;
                words.push(canonical.clone());
                last_word = usize::MAX;
                i += n;
                continue;
            }
            let (w, s) = sounds[i];
            if w != last_word && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.push_str(s);
            last_word = w;
            i += 1;
        }
        if !word.is_empty() {
            words.push(word);
        }
        changed
    }
}

/// Whether `s` is the toneless pinyin of some Chinese char.
fn is_syllable(s: &str) -> bool {
    static SYLLABLES: std::sync::OnceLock<rustc_hash::FxHashSet<&'static str>> =
        std::sync::OnceLock::new();
    SYLLABLES
        .get_or_init(|| {
            ('\u{4E00}'..='\u{9FFF}')
                .filter_map(crate::text::pinyin::syllable)
                .collect()
        })
        .contains(s)
}

impl Normalizer {
    /// Builds a normaliser from synonym groups (the first word of each group is canonical) and filler words.
    /// Words are folded first, so editors may write them in any script or width. Empty words are skipped.
    pub fn new(groups: &[Vec<String>], fillers: &[String]) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut replacements = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        let groups: Vec<Vec<String>> = groups
            .iter()
            .map(|group| group.iter().map(|word| fold(word)).collect())
            .collect();
        let spoken = Spoken::new(&groups);
        for group in &groups {
            let Some(canonical) = group.first() else {
                continue;
            };
            for word in group {
                if !word.is_empty() && seen.insert(word.clone()) {
                    patterns.push(word.clone());
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
            spoken,
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
        self.spoken.respelt(&out).unwrap_or(out)
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
            "mima wang le zenme ban",
        ] {
            let once = n.normalize(text);
            assert_eq!(n.normalize(&once), once, "{text}");
        }
    }

    #[test]
    fn typed_pinyin_of_a_synonym_is_spelt_as_its_canonical_word() {
        let n = normalizer();
        assert_eq!(
            n.normalize("mima wang le zenme ban"),
            "mima wangji zenmeban"
        );
        assert_eq!(n.normalize("Mima xiang bu qi lai le"), "mima wangji le");
        assert_eq!(n.normalize("koulingwangle"), "mima wangji");
        // Pinyin already spelt as the canonical words is left as typed.
        assert_eq!(n.normalize("mima wangji le"), "mima wangji le");
    }

    /// A normaliser of these synonym groups alone (the first word of each canonical), no fillers.
    fn with_synonyms(groups: &[&[&str]]) -> Normalizer {
        let groups: Vec<Vec<String>> = groups
            .iter()
            .map(|g| g.iter().map(|w| w.to_string()).collect())
            .collect();
        Normalizer::new(&groups, &[])
    }

    #[test]
    fn a_canonical_word_typed_in_pinyin_is_not_read_as_a_shorter_variant_inside_it() {
        let n = with_synonyms(&[&["电子社保卡", "电子社保"], &["锁定", "锁了"]]);
        assert_eq!(
            n.normalize("dianzi shebaoka suo le"),
            "dianzishebaoka suoding"
        );
        assert_eq!(
            n.normalize("dianzi shebao suo le"),
            "dianzishebaoka suoding"
        );
    }

    #[test]
    fn one_syllable_synonyms_and_words_that_are_not_pinyin_stay_as_typed() {
        let n = with_synonyms(&[&["修改", "改"], &["忘记", "忘了"]]);
        assert_eq!(n.normalize("gai mima"), "gai mima");
        assert_eq!(n.normalize("hello world"), "hello world");
        assert_eq!(n.normalize("iphone wang le"), "iphone wangji");
        assert_eq!(n.normalize("app里wang le"), "app里wangji");
    }

    #[test]
    fn empty_and_symbol_only_text_normalises_to_nothing() {
        assert_eq!(normalizer().normalize(""), "");
        assert_eq!(normalizer().normalize("？？？🙂🙂"), "");
    }
}
