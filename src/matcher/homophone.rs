//! Reads a homophone typo as the char the knowledge uses: 「密码所了」 as 「密码锁了」, 「初使密码」 as
//! 「初始密码」, 「修该密码」 as 「修改密码」. Pinyin keyboards and voice-to-text put the wrong char of the right
//! sound in citizens' messages; the index's pinyin features only half-see it (the typo's own char pairs
//! stay unknown and count against the match), so the message is read with the char the knowledge writes
//! before it is scored.
//!
//! Only the knowledge decides, no list of typos is kept. Within a piece of text (between punctuation and
//! spaces), a char is read as another of the same sound when it pairs with neither neighbour as any
//! question writes them, and the other char, between the same neighbours, makes three chars that at least
//! [`SUPPORT`] questions write. Three chars, not two pairs, because pairs meet across word boundaries
//! (了家, 家社 would turn 「请不了假社保局」 into 家); several questions, not one, because one question's
//! three chars can cross a boundary too (码在设 in 「修改密码在设置的哪一项」 would turn 「先输老密码再设」
//! into 在). The first char of a piece is read by the two after it; the last is never read as another,
//! since it is most often a particle typed as meant (吗, 呢) that a question happens to write otherwise
//! (「能帮我吗」 is not 「能帮我妈」). Chars of a word synonyms.yaml rewrites or drops are the editors' and are
//! left as typed. A char is read by its most common reading (`text::pinyin`), so a heteronym's other
//! reading (行 as háng) finds no homophones.

use rustc_hash::{FxHashMap, FxHashSet};

use super::pieces;
use crate::text::{Normalizer, fold, pinyin};

/// Questions that must write the three chars a corrected char makes with its neighbours.
const SUPPORT: u32 = 2;

/// The chars, char pairs and runs of three chars of the knowledge's questions as written, by sound.
#[derive(Debug, Clone, Default)]
pub(crate) struct Homophones {
    pairs: FxHashSet<(char, char)>,
    /// In how many questions (or synonym words) each run of three Chinese chars is written.
    triples: FxHashMap<(char, char, char), u32>,
    /// The chars the questions use, by toneless syllable, in char order once [`Homophones::finish`]ed.
    by_sound: FxHashMap<&'static str, Vec<char>>,
}

/// A message as read: its pieces, folded, with the chars read as others.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Reading {
    /// The folded pieces, corrected, joined by spaces (fold this to get the text as one).
    pub text: String,
    /// Each char read as another, in order: (as typed, as read).
    pub replaced: Vec<(char, char)>,
}

fn chinese(c: char) -> bool {
    pinyin::syllable(c).is_some()
}

impl Homophones {
    /// Learns the chars, pairs and runs of three of one question as written (or of one synonym word);
    /// [`Homophones::finish`] when all are learned.
    pub fn learn(&mut self, question: &str) {
        let mut seen = FxHashSet::default();
        for piece in pieces(question) {
            let cs: Vec<char> = fold(piece).chars().collect();
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
            for w in cs.windows(3) {
                if w.iter().all(|&c| chinese(c)) && seen.insert((w[0], w[1], w[2])) {
                    *self.triples.entry((w[0], w[1], w[2])).or_insert(0) += 1;
                }
            }
        }
    }

    /// Orders and dedups the chars of each sound, once everything is learned.
    pub fn finish(&mut self) {
        for v in self.by_sound.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
    }

    fn triple(&self, a: char, b: char, c: char) -> u32 {
        self.triples.get(&(a, b, c)).copied().unwrap_or(0)
    }

    /// `text` with each homophone typo read as the char the knowledge writes there, or `None` when no
    /// char is read as another. Words `normalizer` rewrites or drops are kept as typed.
    pub fn read(&self, text: &str, normalizer: &Normalizer) -> Option<Reading> {
        let mut reading = Reading::default();
        for piece in pieces(text) {
            let folded = fold(piece);
            let words = normalizer.rewritten(&folded);
            let mut cs: Vec<(usize, char)> = folded.char_indices().collect();
            for i in 0..cs.len() {
                let (offset, c) = cs[i];
                if words.iter().any(|w| w.contains(&offset)) {
                    continue;
                }
                if let Some(r) = self.homophone(&cs, i, c) {
                    cs[i].1 = r;
                    reading.replaced.push((c, r));
                }
            }
            if !reading.text.is_empty() {
                reading.text.push(' ');
            }
            reading.text.extend(cs.iter().map(|&(_, c)| c));
        }
        (!reading.replaced.is_empty()).then_some(reading)
    }

    /// The char to read in place of `cs[i]` (which is `c`), if it is a homophone typo.
    fn homophone(&self, cs: &[(usize, char)], i: usize, c: char) -> Option<char> {
        let sound = pinyin::syllable(c)?;
        let at = |j: Option<usize>| {
            j.and_then(|j| cs.get(j))
                .map(|&(_, c)| c)
                .filter(|&c| chinese(c))
        };
        let (prev, next) = (at(i.checked_sub(1)), at(Some(i + 1)));
        // The char as written pairs with a neighbour as some question does: not a typo.
        if prev.is_some_and(|p| self.pairs.contains(&(p, c)))
            || next.is_some_and(|n| self.pairs.contains(&(c, n)))
        {
            return None;
        }
        let support = |r: char| match (prev, next) {
            (Some(p), Some(n)) => self.triple(p, r, n),
            (None, Some(n)) => at(Some(i + 2)).map_or(0, |after| self.triple(r, n, after)),
            _ => 0,
        };
        self.by_sound
            .get(sound)?
            .iter()
            .filter(|&&r| r != c)
            .map(|&r| (support(r), r))
            .filter(|&(s, _)| s >= SUPPORT)
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, r)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homophones() -> Homophones {
        let mut h = Homophones::default();
        for q in [
            "电子社保卡密码锁了怎么办",
            "密码锁了怎么解",
            "初始密码是什么",
            "电子社保卡的初始密码",
            "社保卡密码忘了",
            "电子社保卡怎么领",
            "我老了家里没人帮",
            "回老家社保局办",
            "回老家社保局问",
            "能帮我妈改密码吗",
            "帮我妈弄一下",
            "修改密码在设置的哪一项",
        ] {
            h.learn(q);
        }
        h.finish();
        h
    }

    fn read(h: &Homophones, text: &str) -> Option<(String, Vec<(char, char)>)> {
        h.read(text, &Normalizer::plain())
            .map(|r| (fold(&r.text), r.replaced))
    }

    #[test]
    fn a_char_that_pairs_with_neither_neighbour_is_read_as_the_homophone_the_knowledge_writes_there()
     {
        let h = homophones();
        assert_eq!(
            read(&h, "密码所了咋办"),
            Some(("密码锁了咋办".into(), vec![('所', '锁')]))
        );
        assert_eq!(
            read(&h, "初使密码是什么").map(|r| r.0).as_deref(),
            Some("初始密码是什么")
        );
    }

    #[test]
    fn the_first_char_of_a_piece_is_read_by_the_two_after_it_and_the_last_is_never_read_as_another()
    {
        let h = homophones();
        assert_eq!(
            read(&h, "店子社保卡").map(|r| r.0).as_deref(),
            Some("电子社保卡")
        );
        // 我妈 is written twice, 我吗 never: a question ending in 吗 stays a question.
        assert_eq!(read(&h, "你能帮我吗"), None);
    }

    #[test]
    fn three_chars_written_by_one_question_or_pairs_across_a_word_boundary_are_not_enough() {
        let h = homophones();
        // 了家 and 家社 are both written, but not 了家社.
        assert_eq!(read(&h, "请不了假社保局"), None);
        // 码在设 is written, by one question only.
        assert_eq!(read(&h, "先输老密码再设"), None);
    }

    #[test]
    fn neighbours_are_looked_for_within_a_piece_only() {
        let h = homophones();
        // 「锁了」 after a comma is not the 锁了 of 「密码锁了」: 所 starts the piece and 了 ends it.
        assert_eq!(read(&h, "密码，所了"), None);
        assert_eq!(read(&h, "用app所了"), None);
    }

    #[test]
    fn text_the_knowledge_writes_or_that_has_no_homophone_is_left_alone() {
        let h = homophones();
        for text in [
            "电子社保卡密码锁了",
            "农行卡密码忘了",
            "iphone",
            "",
            "密",
            "所了",
        ] {
            assert_eq!(read(&h, text), None, "{text}");
        }
    }

    #[test]
    fn words_the_synonyms_rewrite_or_drop_are_kept_as_typed() {
        let h = homophones();
        let fillers = Normalizer::new(&[], &["所".into()]);
        assert_eq!(h.read("密码所了咋办", &fillers), None);
    }
}
