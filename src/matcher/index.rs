//! The inverted index: normalised questions as tokens and weighted n-gram features, and the scoring of a query.
//!
//! A query is scored in two stages. First every question sharing a feature with it gets a weighted
//! Sørensen–Dice overlap from the posting lists (features weighted by rarity across targets, so 密码,
//! shared by every entry, counts little and 锁定 counts a lot). The best few are then rescored with the
//! character-level edit similarity of strsim, which forgives a typo that breaks two bigrams.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashMap;

use crate::text::normalize::is_word_char;

/// Token ids below this are Unicode scalar values (one Chinese char = one token); ids from here on are words.
const WORD_BASE: u32 = 0x11_0000;
/// Marks bigram feature keys, so they never collide with unigram keys.
const BIGRAM: u64 = 1 << 63;

/// How much a unigram counts relative to a bigram of the same rarity.
const UNIGRAM_FACTOR: f32 = 0.5;
/// Share of a question's similarity given to the weighted n-gram overlap; the rest is edit similarity.
const OVERLAP_SHARE: f32 = 0.7;
/// Share of a target's score given to the coverage of the query by all its questions together.
const COVERAGE_SHARE: f32 = 0.5;
/// How many overlap leaders are rescored with edit similarity.
const SHORTLIST: usize = 48;

/// Splits normalised text into tokens: each word of the lexicon is a token (longest first), each other
/// Chinese char is a token, and each run of Latin letters or digits is one. `word_id` gives the id of a
/// word; unknown words get fresh ids that match nothing in the index.
pub(crate) fn tokenize(
    text: &str,
    lexicon: Option<&AhoCorasick>,
    mut word_id: impl FnMut(&str) -> u32,
) -> Vec<u32> {
    let mut tokens = Vec::with_capacity(text.len() / 2);
    let mut last = 0;
    if let Some(lexicon) = lexicon {
        for m in lexicon.find_iter(text) {
            split_plain(&text[last..m.start()], &mut tokens, &mut word_id);
            tokens.push(word_id(&text[m.start()..m.end()]));
            last = m.end();
        }
    }
    split_plain(&text[last..], &mut tokens, &mut word_id);
    tokens
}

/// Tokens of text outside lexicon words: one per Chinese char, one per Latin word.
fn split_plain(text: &str, tokens: &mut Vec<u32>, word_id: &mut impl FnMut(&str) -> u32) {
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(s) = word_start.take() {
            tokens.push(word_id(&text[s..i]));
        }
        if c != ' ' {
            tokens.push(c as u32);
        }
    }
    if let Some(s) = word_start {
        tokens.push(word_id(&text[s..]));
    }
}

/// The distinct feature keys of a token sequence: every token and every adjacent pair.
fn feature_keys(tokens: &[u32], out: &mut Vec<u64>) {
    out.clear();
    out.extend(tokens.iter().map(|&t| t as u64));
    out.extend(
        tokens
            .windows(2)
            .map(|w| BIGRAM | ((w[0] as u64) << 32) | w[1] as u64),
    );
    out.sort_unstable();
    out.dedup();
}

fn key_factor(key: u64) -> f32 {
    if key & BIGRAM != 0 || key as u32 >= WORD_BASE {
        1.0
    } else {
        UNIGRAM_FACTOR
    }
}

/// One indexed question.
#[derive(Debug, Clone)]
struct Doc {
    target: u32,
    tokens: Box<[u32]>,
    weight: f32,
}

/// A target's score against a query, with the parts it is made of and its closest question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TargetScore {
    pub target: u32,
    /// The target's closest question.
    pub doc: u32,
    /// Share of the query's weight found among the target's questions.
    pub coverage: f32,
    /// Similarity to the closest question.
    pub similarity: f32,
    pub score: f32,
}

impl TargetScore {
    /// Best score first; ties go to the target written first.
    fn ranking(a: &TargetScore, b: &TargetScore) -> std::cmp::Ordering {
        b.score.total_cmp(&a.score).then(a.target.cmp(&b.target))
    }
}

/// The inverted index over all questions of all targets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    docs: Vec<Doc>,
    /// Multi-char words that are one token each (the canonical forms of the synonyms).
    lexicon: Option<AhoCorasick>,
    words: FxHashMap<Box<str>, u32>,
    features: FxHashMap<u64, u32>,
    weights: Vec<f32>,
    /// Postings in compressed rows: docs of feature `f` are `post_docs[post_start[f]..post_start[f + 1]]`.
    post_start: Vec<u32>,
    post_docs: Vec<u32>,
    /// Targets having feature `f`: `tpost_targets[tpost_start[f]..tpost_start[f + 1]]`.
    tpost_start: Vec<u32>,
    tpost_targets: Vec<u32>,
    /// Weight of a feature that no question has (as rare as it gets).
    unseen_weight: f32,
}

impl Index {
    /// Indexes normalised questions, each labelled with the target (entry or topic) it belongs to.
    /// `targets` is the number of distinct targets; rarity is counted over targets, not questions,
    /// so an entry with many alternates does not make its own words look common.
    pub fn build<'a>(
        questions: impl IntoIterator<Item = (u32, &'a str)>,
        targets: usize,
        lexicon: &[&str],
    ) -> Index {
        let mut index = Index {
            lexicon: (!lexicon.is_empty()).then(|| {
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(lexicon)
                    .expect("lexicon words are plain strings and always build")
            }),
            ..Index::default()
        };
        let mut doc_keys: Vec<Vec<u32>> = Vec::new();
        let mut keys = Vec::new();
        for (target, text) in questions {
            let words = &mut index.words;
            let tokens = tokenize(text, index.lexicon.as_ref(), |w| {
                let next = WORD_BASE + words.len() as u32;
                *words.entry(w.into()).or_insert(next)
            });
            feature_keys(&tokens, &mut keys);
            let ids = keys
                .iter()
                .map(|&k| {
                    let next = index.features.len() as u32;
                    *index.features.entry(k).or_insert(next)
                })
                .collect();
            doc_keys.push(ids);
            index.docs.push(Doc {
                target,
                tokens: tokens.into(),
                weight: 0.0,
            });
        }
        let n_features = index.features.len();
        // Document frequency by target: count a feature once per target.
        let mut df = vec![0u32; n_features];
        let mut last_target = vec![u32::MAX; n_features];
        let mut post_len = vec![0u32; n_features];
        for (doc, ids) in index.docs.iter().zip(&doc_keys) {
            for &f in ids {
                post_len[f as usize] += 1;
                if last_target[f as usize] != doc.target {
                    last_target[f as usize] = doc.target;
                    df[f as usize] += 1;
                }
            }
        }
        // A feature seen in several docs of a target counts once only if that target's docs are adjacent;
        // targets are fed in order, so they are. The same holds for the target postings built here.
        index.tpost_start = Vec::with_capacity(n_features + 1);
        let mut acc = 0u32;
        for &d in &df {
            index.tpost_start.push(acc);
            acc += d;
        }
        index.tpost_start.push(acc);
        index.tpost_targets = vec![0; acc as usize];
        let mut fill = index.tpost_start.clone();
        last_target.fill(u32::MAX);
        for (doc, ids) in index.docs.iter().zip(&doc_keys) {
            for &f in ids {
                if last_target[f as usize] != doc.target {
                    last_target[f as usize] = doc.target;
                    index.tpost_targets[fill[f as usize] as usize] = doc.target;
                    fill[f as usize] += 1;
                }
            }
        }
        let n = targets.max(1) as f32;
        let idf = |df: f32| ((n + 1.0) / (df + 0.5)).ln().max(0.0);
        index.unseen_weight = idf(0.0);
        let mut factors = vec![0f32; n_features];
        for (&k, &f) in &index.features {
            factors[f as usize] = key_factor(k);
        }
        index.weights = df
            .iter()
            .zip(&factors)
            .map(|(&d, &fac)| idf(d as f32) * fac)
            .collect();
        // Postings as compressed rows.
        index.post_start = Vec::with_capacity(n_features + 1);
        let mut acc = 0u32;
        for &len in &post_len {
            index.post_start.push(acc);
            acc += len;
        }
        index.post_start.push(acc);
        index.post_docs = vec![0; acc as usize];
        let mut fill = index.post_start.clone();
        for (d, ids) in doc_keys.iter().enumerate() {
            let mut weight = 0.0;
            for &f in ids {
                index.post_docs[fill[f as usize] as usize] = d as u32;
                fill[f as usize] += 1;
                weight += index.weights[f as usize];
            }
            index.docs[d].weight = weight;
        }
        index
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Scores the targets most similar to the normalised `query`, best first.
    ///
    /// A target's score blends how much of the query its questions cover together (weighted by rarity,
    /// so words no question uses, such as 医保 or qq, pull the score down) with the similarity of its single
    /// closest question (n-gram overlap and edit similarity).
    pub fn search(&self, query: &str, limit: usize) -> Vec<TargetScore> {
        let mut unseen = WORD_BASE + self.words.len() as u32;
        let tokens = tokenize(query, self.lexicon.as_ref(), |w| {
            self.words.get(w).copied().unwrap_or_else(|| {
                unseen += 1;
                unseen
            })
        });
        if tokens.is_empty() {
            return Vec::new();
        }
        let mut keys = Vec::new();
        feature_keys(&tokens, &mut keys);
        let mut query_weight = 0.0;
        let mut known = Vec::with_capacity(keys.len());
        for &k in &keys {
            match self.features.get(&k) {
                Some(&f) => {
                    query_weight += self.weights[f as usize];
                    known.push(f);
                }
                None => query_weight += self.unseen_weight * key_factor(k),
            }
        }
        // Stage 1: weighted overlap with each question and with each target's pooled questions.
        let mut shared: FxHashMap<u32, f32> = FxHashMap::default();
        let mut covered: FxHashMap<u32, f32> = FxHashMap::default();
        for &f in &known {
            let w = self.weights[f as usize];
            for &d in self.postings(f) {
                *shared.entry(d).or_insert(0.0) += w;
            }
            for &t in self.target_postings(f) {
                *covered.entry(t).or_insert(0.0) += w;
            }
        }
        // The closest question of each target by overlap.
        let mut closest: FxHashMap<u32, (u32, f32)> = FxHashMap::default();
        for (&d, &m) in &shared {
            let doc = &self.docs[d as usize];
            let dice = 2.0 * m / (query_weight + doc.weight);
            let slot = closest.entry(doc.target).or_insert((d, dice));
            if dice > slot.1 || (dice == slot.1 && d < slot.0) {
                *slot = (d, dice);
            }
        }
        let mut leaders: Vec<TargetScore> = closest
            .into_iter()
            .map(|(target, (doc, dice))| {
                let coverage = covered.get(&target).copied().unwrap_or(0.0) / query_weight;
                TargetScore {
                    target,
                    doc,
                    coverage,
                    similarity: dice,
                    score: COVERAGE_SHARE * coverage + (1.0 - COVERAGE_SHARE) * dice,
                }
            })
            .collect();
        leaders.sort_unstable_by(TargetScore::ranking);
        leaders.truncate(SHORTLIST.max(limit * 4));
        // Stage 2: edit similarity with the closest question of each leading target.
        for t in &mut leaders {
            let edit = edit_similarity(&tokens, &self.docs[t.doc as usize].tokens);
            t.similarity = OVERLAP_SHARE * t.similarity + (1.0 - OVERLAP_SHARE) * edit;
            t.score = (COVERAGE_SHARE * t.coverage + (1.0 - COVERAGE_SHARE) * t.similarity)
                .clamp(0.0, 1.0);
        }
        leaders.sort_unstable_by(TargetScore::ranking);
        leaders.truncate(limit);
        leaders
    }

    fn postings(&self, f: u32) -> &[u32] {
        let (s, e) = (self.post_start[f as usize], self.post_start[f as usize + 1]);
        &self.post_docs[s as usize..e as usize]
    }

    fn target_postings(&self, f: u32) -> &[u32] {
        let (s, e) = (
            self.tpost_start[f as usize],
            self.tpost_start[f as usize + 1],
        );
        &self.tpost_targets[s as usize..e as usize]
    }
}

/// Normalised Damerau–Levenshtein similarity over tokens, never over bytes (a Chinese char is three bytes);
/// a swapped pair of chars counts as one edit.
fn edit_similarity(a: &[u32], b: &[u32]) -> f32 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let distance = strsim::generic_damerau_levenshtein(a, b);
    1.0 - distance as f32 / longest as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Index {
        Index::build(
            [
                (0, "电子社保卡密码忘记怎么办"),
                (0, "密码忘记"),
                (1, "电子社保卡密码被锁定"),
                (2, "你好"),
            ],
            3,
            &["电子社保卡", "密码", "忘记"],
        )
    }

    #[test]
    fn chinese_chars_are_one_token_each_and_latin_words_one_token() {
        let mut words = Vec::new();
        let tokens = tokenize("用app改 12333", None, |w| {
            words.push(w.to_string());
            WORD_BASE + words.len() as u32 - 1
        });
        assert_eq!(tokens.len(), 4);
        assert_eq!(words, ["app", "12333"]);
    }

    #[test]
    fn lexicon_words_are_one_token_each() {
        let lexicon = AhoCorasick::new(["重置", "密码"]).unwrap();
        let mut words = Vec::new();
        let tokens = tokenize("重置密码了", Some(&lexicon), |w| {
            words.push(w.to_string());
            WORD_BASE + words.len() as u32 - 1
        });
        assert_eq!(tokens.len(), 3);
        assert_eq!(words, ["重置", "密码"]);
    }

    #[test]
    fn an_identical_question_scores_one() {
        let best = index().search("密码忘记", 3)[0];
        assert!((best.coverage - 1.0).abs() < 1e-6, "{best:?}");
        assert_eq!(best.target, 0);
        assert!((best.score - 1.0).abs() < 1e-6, "{best:?}");
    }

    #[test]
    fn rare_words_decide_between_targets() {
        assert_eq!(index().search("密码锁定了", 3)[0].target, 1);
    }

    #[test]
    fn unrelated_text_scores_low() {
        let results = index().search("明天天气", 3);
        assert!(results.iter().all(|r| r.score < 0.3), "{results:?}");
    }

    #[test]
    fn results_hold_one_question_per_target() {
        let results = index().search("电子社保卡密码忘记", 10);
        let mut targets: Vec<_> = results.iter().map(|r| r.target).collect();
        targets.dedup();
        assert_eq!(targets.len(), results.len());
    }

    #[test]
    fn edit_similarity_counts_chars_not_bytes() {
        let a: Vec<u32> = "密码忘记".chars().map(|c| c as u32).collect();
        let b: Vec<u32> = "密码忘计".chars().map(|c| c as u32).collect();
        assert!((edit_similarity(&a, &b) - 0.75).abs() < 1e-6);
    }
}
