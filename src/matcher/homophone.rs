//! Reads a homophone typo as the char the knowledge uses: 「密码所了」 as 「密码锁了」, 「初使密码」 as
//! 「初始密码」, 「店子社保卡」 as 「电子社保卡」. Pinyin keyboards and voice-to-text put the wrong char of the
//! right sound in citizens' messages; the index's pinyin features only half-see it (the typo's own char
//! pairs stay unknown and count against the match), so the message is read with the char the knowledge
//! writes before it is scored.
//!
//! Only the knowledge decides, no list of typos is kept: a char is read as another of the same sound when
//! it pairs with neither neighbour as any question writes them, and the other char makes, with its
//! neighbours, three chars that a question writes. Three chars, not two pairs: pairs across a word
//! boundary (了家, 家社) are common enough to turn 「请不了假社保局」 into 家. At the start or end of a
//! run of Chinese chars the three are the char and its two neighbours on the side it has. Chars of a word
//! synonyms.yaml rewrites or drops are the editors' and are left as they are.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::text::{fold, pinyin};

/// The chars, char pairs and runs of three chars of the knowledge's questions, by sound.
#[derive(Debug, Clone, Default)]
pub(crate) struct Homophones {
    pairs: FxHashSet<(char, char)>,
    /// In how many questions each run of three Chinese chars is written.
    triples: FxHashMap<(char, char, char), u32>,
    /// The chars the questions use, by toneless syllable, in char order.
    by_sound: FxHashMap<&'static str, Vec<char>>,
}

fn chinese(c: char) -> bool {
    pinyin::syllable(c).is_some()
}

impl Homophones {
    /// Learns from questions as written, normalised, or any other text the knowledge holds (synonyms).
    #[cfg(test)]
    pub fn build<'a>(texts: impl IntoIterator<Item = &'a str>) -> Homophones {
        let mut h = Homophones::default();
        for text in texts {
            h.learn(text);
        }
        h.finish();
        h
    }

    /// Learns the chars, pairs and runs of three of one text; [`Homophones::finish`] when all are learned.
    pub fn learn(&mut self, text: &str) {
        let cs: Vec<char> = fold(text).chars().collect();
        for &c in &cs {
            if let Some(s) = pinyin::syllable(c) {
                self.by_sound.entry(s).or_default().push(c);
            }
        }
        for w in cs.windows(2) {
            if chinese(w[0]) && chinese(w[1]) {
                self.pairs.insert((w[0], w[1]));
            }
        }
        let mut seen = FxHashSet::default();
        for w in cs.windows(3) {
            if w.iter().all(|&c| chinese(c)) && seen.insert((w[0], w[1], w[2])) {
                *self.triples.entry((w[0], w[1], w[2])).or_insert(0) += 1;
            }
        }
    }

    /// Orders the chars of each sound, once everything is learned.
    pub fn finish(&mut self) {
        for v in self.by_sound.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
    }

    fn triple(&self, a: char, b: char, c: char) -> u32 {
        self.triples.get(&(a, b, c)).copied().unwrap_or(0)
    }

    /// Folded `text` with each homophone typo replaced by the char the knowledge writes there, or `None`
    /// when nothing was replaced. `kept` says, by byte offset, which chars must stay as they are.
    pub fn correct(&self, text: &str, kept: impl Fn(usize) -> bool) -> Option<String> {
        let original: Vec<(usize, char)> = text.char_indices().collect();
        let mut cs: Vec<char> = original.iter().map(|&(_, c)| c).collect();
        let at = |i: Option<usize>, cs: &[char]| {
            i.and_then(|i| cs.get(i).copied()).filter(|&c| chinese(c))
        };
        let mut changed = false;
        for i in 0..cs.len() {
            let (offset, c) = original[i];
            let Some(sound) = pinyin::syllable(c) else {
                continue;
            };
            if kept(offset) {
                continue;
            }
            let prev = at(i.checked_sub(1), &cs);
            let next = at(Some(i + 1), &cs);
            // The char as written pairs with a neighbour as some question does: not a typo.
            if prev.is_some_and(|p| self.pairs.contains(&(p, c)))
                || next.is_some_and(|n| self.pairs.contains(&(c, n)))
            {
                continue;
            }
            let support = |r: char| -> u32 {
                match (prev, next) {
                    (Some(p), Some(n)) => self.triple(p, r, n),
                    (Some(p), None) => {
                        at(i.checked_sub(2), &cs).map_or(0, |pp| self.triple(pp, p, r))
                    }
                    (None, Some(n)) => at(Some(i + 2), &cs).map_or(0, |nn| self.triple(r, n, nn)),
                    (None, None) => 0,
                }
            };
            let best = self
                .by_sound
                .get(sound)
                .into_iter()
                .flatten()
                .filter(|&&r| r != c)
                .map(|&r| (support(r), r))
                .filter(|&(s, _)| s > 0)
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            if let Some((_, r)) = best {
                cs[i] = r;
                changed = true;
            }
        }
        changed.then(|| cs.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homophones() -> Homophones {
        Homophones::build([
            "电子社保卡密码锁了怎么办",
            "密码锁了怎么解",
            "初始密码是什么",
            "电子社保卡的初始密码",
            "社保卡密码忘了",
            "我老了家里没人帮",
            "回老家社保局办",
        ])
    }

    fn correct(h: &Homophones, text: &str) -> Option<String> {
        h.correct(text, |_| false)
    }

    #[test]
    fn a_char_that_pairs_with_neither_neighbour_is_read_as_the_homophone_the_knowledge_writes_there()
     {
        let h = homophones();
        assert_eq!(correct(&h, "密码所了咋办").as_deref(), Some("密码锁了咋办"));
        assert_eq!(
            correct(&h, "初使密码是什么").as_deref(),
            Some("初始密码是什么")
        );
        assert_eq!(correct(&h, "店子社保卡").as_deref(), Some("电子社保卡"));
    }

    #[test]
    fn pairs_that_meet_across_a_word_boundary_are_not_enough() {
        // 了家 and 家社 are both written, but not 了家社 with 假 read as 家.
        let h = homophones();
        assert_eq!(correct(&h, "请不了假社保局"), None);
    }

    #[test]
    fn text_the_knowledge_writes_or_that_has_no_homophone_to_pair_with_is_left_alone() {
        let h = homophones();
        assert_eq!(correct(&h, "电子社保卡密码锁了"), None);
        assert_eq!(correct(&h, "农行卡密码忘了"), None);
        assert_eq!(correct(&h, "iphone"), None);
        assert_eq!(correct(&h, ""), None);
    }

    #[test]
    fn chars_the_caller_keeps_are_not_corrected() {
        let h = homophones();
        assert_eq!(h.correct("密码所了", |offset| offset == "密码".len()), None);
    }
}
