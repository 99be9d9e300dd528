//! The inverted index and the model learned from it at load time: normalised questions as weighted
//! n-gram features, and the scoring of a query.
//!
//! Features are every token (a Chinese char, or a run of Latin letters or digits) and every pair of
//! adjacent tokens, weighted by rarity across targets (an idf): 密码, shared by every entry, counts
//! little; 锁定 counts a lot. The pinyin syllables of the Chinese chars, and their adjacent pairs, are
//! features too, at a quarter weight: a homophone typo (往记 for 忘记) still shares its syllables with the
//! knowledge, and pinyin typed without picking characters (`wangji mima`), in a query or in a question of
//! the knowledge alike, is read as those syllables.
//! A target (an FAQ entry or an out-of-scope topic) is scored by three views of its questions:
//!
//! - **nearest questions**: the mean similarity of its two closest questions, each a blend of weighted
//!   Sørensen–Dice overlap and strsim's Levenshtein similarity and an LCS ratio over chars (which forgives a
//!   typo that breaks two bigrams); a question retyped with a typo or two scores at least by its edit
//!   similarity;
//! - **centroid**: the cosine between the query and the sum of the target's question vectors, which
//!   rewards words spread over many alternates ("the language of this entry");
//! - **naive Bayes**: the posterior of the target under a multinomial model of each target's wording,
//!   trained in one counting pass (closed form, linear in the questions): it weighs each word by how
//!   much more one target uses it than the others, which idf alone cannot (找回 vs 设置).
//!
//! Two kinds of evidence then reduce scores. An FAQ entry's score is reduced by the share of the query it
//! cannot account for: words that only out-of-scope topics use (医保, qq, 开机), Latin or number words no
//! question uses (95588, iphone) and, less, char pairs no question uses (often a typo). And a second naive
//! Bayes model, in scope (any entry) against out of scope (any topic), gives each feature its log-odds:
//! the query's mean log-odds pulls topics down when it speaks for the scope (电子社保卡) and entries down
//! when it speaks against it (银行卡, 公积金); topics are pulled down too when no single feature of the
//! query speaks clearly against the scope, since every topic is about some other card, app or subject
//! (「刷脸过不了」 alone is not about another app), and entries when the strongest feature against the
//! scope outweighs the strongest for it by as much (医保卡 in an e-card question's place). The weights of
//! the views were chosen by `shebao eval --folds 10` on the knowledge, never on a development sample.

use rustc_hash::FxHashMap;

use super::model::{Example, Softmax};
use crate::text::normalize::is_word_char;
use crate::text::pinyin;

/// Stands for a word read as typed pinyin while tokenising; such words are dropped from the chars and
/// counted as their syllables.
const TYPED_PINYIN: u32 = u32::MAX;
/// Marks a syllable of typed pinyin in the token sequence that edit similarity compares (never a feature):
/// `dianzi shebaoka zenme gai mima` retyped is still that question.
const TYPED_SYLLABLE: u32 = 1 << 30;
/// Token ids below this are Unicode scalar values (one Chinese char = one token); ids from here on are words.
const WORD_BASE: u32 = 0x11_0000;
/// Marks bigram feature keys, so they never collide with unigram keys.
const BIGRAM: u64 = 1 << 63;
/// Marks pinyin feature keys, so they never collide with char or word keys.
const PINYIN: u64 = 1 << 62;
/// Weight of a pinyin feature relative to the char feature it shadows: enough to carry a homophone typo
/// or typed pinyin, little enough that the chars themselves decide when they are there.
const PINYIN_WEIGHT: f32 = 0.5;

/// Share of a question's similarity given to weighted n-gram overlap; the rest is edit similarity.
/// `eval --folds 10` on the shipped knowledge, with the nearest share at 0.7 and the temperature below:
/// 0.5: 0.886 overall / 102 wrong, 0.6: 0.885 / 102, 0.7: 0.887 / 104; with the previous temperature
/// (16) and nearest share 0.5, before misfiled questions were fixed, 0.5 gave 0.869 against 0.7's 0.864.
const OVERLAP_SHARE: f32 = 0.5;
/// Share of the similarity views given to a target's nearest questions; the rest is the centroid cosine.
/// `eval --folds 10` cannot tell 0.5 from 0.7: on the shipped knowledge (1,186 questions) 0.888 overall /
/// 101 wrong against 0.886 / 102, and on the knowledge before its citizen-style alternates (735) 0.827
/// against 0.830. 0.7 lets a query two edits from questions of two entries go to the entry with more
/// near questions, where rapidfuzz goes to the nearer one (one of 300 in the seed-7 comparison), and below
/// 0.5 a retyped question among 50,000 can lose to another target's centroid.
const NEAREST_SHARE: f32 = 0.5;
/// Edit similarity above which a question counts as the same question retyped: the target then scores
/// at least the similarity's position between this and 1 (a typo in a known question is that question).
const RETYPED: f32 = 0.7;
/// How many nearest questions of a target are averaged.
const NEAREST: usize = 2;
/// How strongly words known only from out-of-scope topics pull an FAQ entry down.
const FOREIGN_PENALTY: f32 = 1.0;
/// How strongly unknown Latin or number words (a new name, another hotline) pull an FAQ entry down.
const UNKNOWN_WORD_PENALTY: f32 = 1.0;
/// How strongly other unknown features (a new char pair, often a typo) pull an FAQ entry down.
const UNKNOWN_PENALTY: f32 = 0.5;
/// Smoothing of the in-scope evidence: a feature seen in no question at all is neutral.
const SCOPE_SMOOTHING: f32 = 0.5;
/// Bound on one feature's in-scope log-odds, so one word cannot decide the scope alone.
const SCOPE_CLAMP: f32 = 3.0;
/// How strongly the query's in-scope evidence pulls the other side down (per unit of mean log-odds).
const SCOPE_STRENGTH: f32 = 0.5;
/// In-scope log-odds against the scope (see `Index::scope`) that a query's strongest such feature needs for
/// out-of-scope topics to score in full; below it they are scaled down in proportion. Chosen by `shebao eval
/// --folds 10` on the shipped knowledge among 0.5 to 3 (none: 0.937 overall, 93 wrong; 0.5: 0.938, 93;
/// 1: 0.939, 93; 1.5: 0.939, 93; 2: 0.938, 98; 3: 0.936, 106): from 2 on, out-of-scope questions that
/// name their subject by a word in-scope questions also use get answered.
const TOPIC_EVIDENCE: f32 = 1.0;
/// Share of a target's score given to the naive Bayes posterior.
const NB_SHARE: f32 = 0.3;
/// Share of a target's score given to the softmax regression's probability (see [`super::model`]); the
/// rest, after naive Bayes, goes to the nearest questions and the centroid. Chosen by `shebao eval
/// --folds 10` with the five-order model among 0.1 to 0.4: each step up answers more in-scope questions
/// and more wrongly (0.10: 0.790 overall, 78 wrong; 0.20: 0.803, 88; 0.30: 0.812, 91; 0.40: 0.811, 102);
/// 0.2 took most of the gain before the wrong answers climbed. Chosen again the same way when the knowledge
/// had grown to 1,632 questions and 674 out of scope, from which the regression learns more: 0.20: 0.933
/// overall, 93 wrong; 0.25: 0.937, 93; 0.30: 0.938, 96; 0.35: 0.937, 97.
const MODEL_SHARE: f32 = 0.25;
/// Additive smoothing of the naive Bayes model of each target's wording.
const NB_SMOOTHING: f32 = 0.5;
/// Temperature of the naive Bayes posterior over targets: lower is sharper. Chosen with
/// [`OVERLAP_SHARE`] over a grid by `eval --folds 10` on the shipped knowledge and, as a check against
/// fitting one set, on the knowledge before its citizen-style alternates: with the nearest share at 0.7,
/// 5: 0.883 overall / 108 wrong, 6: 0.886 / 102, 7: 0.884 / 100; the previous 16 (and overlap share 0.7)
/// 0.872 / 100, and 0.808 against 0.830 on the smaller knowledge.
const NB_TEMPERATURE: f32 = 6.0;
/// How many targets are rescored with edit similarity.
const SHORTLIST: usize = 16;

/// Splits normalised text into tokens: each Chinese char is a token, each run of Latin letters or digits
/// is one. `word_id` gives the id of a word.
pub(crate) fn tokenize(text: &str, mut word_id: impl FnMut(&str) -> u32) -> Vec<u32> {
    let mut tokens = Vec::with_capacity(text.len() / 2);
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
    tokens
}

/// The ids of the syllables word `w` splits into wholly, when it reads as pinyin made of `known` ones.
fn typed_syllables(known: &FxHashMap<&'static str, u32>, w: &str) -> Option<Vec<u32>> {
    pinyin::split_pinyin(w, |s| known.contains_key(s))
        .map(|syllables| syllables.iter().map(|s| known[s]).collect())
}

/// Splits tokens read with [`TYPED_PINYIN`] markers into the tokens that make features (the markers
/// dropped) and the sequence edit similarity compares (each marker replaced by its word's syllables,
/// `words` in order), and appends the typed syllables to `syllables`.
fn split_typed(
    tokens: Vec<u32>,
    words: Vec<Vec<u32>>,
    syllables: &mut Vec<u32>,
) -> (Vec<u32>, Vec<u32>) {
    if words.is_empty() {
        return (tokens.clone(), tokens);
    }
    let mut words = words.into_iter();
    let mut edit = Vec::with_capacity(tokens.len());
    let mut features = Vec::with_capacity(tokens.len());
    for t in tokens {
        if t == TYPED_PINYIN {
            let word = words.next().unwrap_or_default();
            edit.extend(word.iter().map(|&s| TYPED_SYLLABLE | s));
            syllables.extend(word);
        } else {
            edit.push(t);
            features.push(t);
        }
    }
    (features, edit)
}

/// The distinct feature keys of a token sequence and its syllable sequence: every token and every
/// adjacent pair of each.
fn feature_keys(tokens: &[u32], syllables: &[u32], out: &mut Vec<u64>) {
    out.clear();
    for (seq, space) in [(tokens, 0), (syllables, PINYIN)] {
        out.extend(seq.iter().map(|&t| space | t as u64));
        out.extend(
            seq.windows(2)
                .map(|w| space | BIGRAM | ((w[0] as u64) << 32) | w[1] as u64),
        );
    }
    out.sort_unstable();
    out.dedup();
}

/// `tokens` as they sound: each Chinese char whose syllable is `known` becomes that syllable, marked as
/// typed pinyin is, so that 「mima suole」 and 「密码锁了」 are the same sequence.
fn spoken(tokens: &[u32], known: &FxHashMap<&'static str, u32>) -> Vec<u32> {
    tokens
        .iter()
        .map(|&t| {
            if t >= WORD_BASE {
                return t;
            }
            char::from_u32(t)
                .and_then(pinyin::syllable)
                .and_then(|s| known.get(s))
                .map_or(t, |&s| TYPED_SYLLABLE | s)
        })
        .collect()
}

/// The syllable ids of the Chinese chars of normalised `text`, in order; `id` gives a syllable's id.
fn syllables_of(text: &str, mut id: impl FnMut(&'static str) -> u32) -> Vec<u32> {
    text.chars()
        .filter_map(pinyin::syllable)
        .map(&mut id)
        .collect()
}

/// A query read by [`Index::read_query`].
struct QueryKeys {
    keys: Vec<u64>,
    /// The tokens edit similarity compares (typed pinyin as its syllables).
    tokens: Vec<u32>,
    /// The share of the query's syllables typed as pinyin.
    typed: f32,
    /// Word ids from here on were handed out to words no question has.
    unseen_from: u32,
}

/// One indexed question.
#[derive(Debug, Clone)]
struct Doc {
    target: u32,
    tokens: Vec<u32>,
    /// The tokens as they sound: each Chinese char as its syllable (see [`spoken`]), for comparing with
    /// a query typed in pinyin.
    spoken: Vec<u32>,
    /// Sum of its feature weights (for Dice).
    weight: f32,
    /// The part of `weight` from char and word features, which a query typed in pinyin cannot share.
    written: f32,
}

/// A target's score against a query, with the parts it is made of and its closest question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TargetScore {
    pub target: u32,
    /// The target's closest question.
    pub doc: u32,
    /// Similarity to the closest questions (mean of the best [`NEAREST`]).
    pub nearest: f32,
    /// Cosine with the target's centroid.
    pub centroid: f32,
    /// Naive Bayes posterior of the target given the query's features.
    pub posterior: f32,
    /// The softmax regression's probability of the target; the likeliest out-of-scope topic carries its
    /// share of the other topics' too (0 when the knowledge is too large for the model).
    pub model: f32,
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
    /// Targets below this are FAQ entries; the others are out-of-scope topics.
    entries: usize,
    docs: Vec<Doc>,
    words: FxHashMap<Box<str>, u32>,
    /// Pinyin syllables of the knowledge's chars, numbered in the order met.
    syllables: FxHashMap<&'static str, u32>,
    features: FxHashMap<u64, u32>,
    /// Per feature: its idf weight, and whether any FAQ entry (not only topics) has it.
    weights: Vec<f32>,
    in_entries: Vec<bool>,
    /// Per feature: whether it is a pinyin feature.
    is_pinyin: Vec<bool>,
    /// Per feature: the log-odds that a question having it is in scope (asked of an FAQ entry rather than
    /// of an out-of-scope topic), learned from the questions by naive Bayes. 电子社保卡 speaks for the
    /// scope, 银行卡 or 公积金 against it, whatever the rest of the wording.
    scope: Vec<f32>,
    /// Docs having feature `f`: `post_docs[post_start[f]..post_start[f + 1]]`.
    post_start: Vec<u32>,
    post_docs: Vec<u32>,
    /// Targets having feature `f`, with the feature's value in the target's centroid and its naive Bayes
    /// evidence for the target, ln(1 + questions of the target having it / [`NB_SMOOTHING`]).
    tpost_start: Vec<u32>,
    tpost: Vec<(u32, f32, f32)>,
    /// Per target: the naive Bayes normaliser ln(feature occurrences / [`NB_SMOOTHING`] + features known).
    nb_norms: Vec<f32>,
    /// Length of each target's centroid vector.
    centroid_norms: Vec<f32>,
    /// The part of each target's squared centroid length from char and word features.
    written_squares: Vec<f32>,
    /// Weight of a feature that no question has (as rare as it gets).
    unseen_weight: f32,
    /// The softmax regression over the features, when the knowledge is small enough to train it.
    model: Option<Softmax>,
}

/// Compressed rows: for each key `0..n`, the values pushed for it, in push order.
fn compress<T: Copy + Default>(n: usize, pairs: &[(u32, T)]) -> (Vec<u32>, Vec<T>) {
    let mut start = vec![0u32; n + 1];
    for &(k, _) in pairs {
        start[k as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut values = vec![T::default(); pairs.len()];
    let mut fill = start.clone();
    for &(k, v) in pairs {
        values[fill[k as usize] as usize] = v;
        fill[k as usize] += 1;
    }
    (start, values)
}

impl Index {
    /// Indexes normalised questions, each labelled with its target; the questions of one target come
    /// one after another. Targets `0..entries` are FAQ entries, the rest out-of-scope topics, `targets`
    /// in all. Rarity is counted over targets, not
    /// questions, so an entry with many alternates does not make its own words look common.
    pub fn build<'a>(
        questions: impl IntoIterator<Item = (u32, &'a str)>,
        entries: usize,
        targets: usize,
    ) -> Index {
        let mut index = Index {
            entries,
            ..Index::default()
        };
        let mut doc_features: Vec<Vec<u32>> = Vec::new();
        let mut keys = Vec::new();
        // The syllables of the knowledge's Chinese chars come first: a Latin word of a question that
        // splits wholly into them is typed pinyin, indexed as those syllables just as a query reads it.
        // Kept as a word, `dianzi shebaoka` in one question would match only that question word for word.
        let questions: Vec<(u32, &str, Vec<u32>)> = questions
            .into_iter()
            .map(|(target, text)| {
                let known = &mut index.syllables;
                let syllables = syllables_of(text, |s| {
                    let next = known.len() as u32;
                    *known.entry(s).or_insert(next)
                });
                (target, text, syllables)
            })
            .collect();
        for (target, text, mut syllables) in questions {
            let words = &mut index.words;
            let known = &index.syllables;
            let mut typed_pinyin: Vec<Vec<u32>> = Vec::new();
            let tokens = tokenize(text, |w| {
                if let Some(syllables) = typed_syllables(known, w) {
                    typed_pinyin.push(syllables);
                    return TYPED_PINYIN;
                }
                let next = WORD_BASE + words.len() as u32;
                *words.entry(w.into()).or_insert(next)
            });
            let (features, tokens) = split_typed(tokens, typed_pinyin, &mut syllables);
            feature_keys(&features, &syllables, &mut keys);
            let ids = keys
                .iter()
                .map(|&k| {
                    let next = index.features.len() as u32;
                    *index.features.entry(k).or_insert(next)
                })
                .collect();
            doc_features.push(ids);
            let spoken = spoken(&tokens, known);
            index.docs.push(Doc {
                target,
                tokens,
                spoken,
                weight: 0.0,
                written: 0.0,
            });
        }
        let n_features = index.features.len();

        // How many targets have each feature: the questions of a target come one after another, so a
        // feature is counted once per run of questions (`counted_for` remembers the run that counted it).
        // No sort: building is in the loop of every held-out question of `check` and the leave-one-out.
        let mut df = vec![0u32; n_features];
        let mut counted_for = vec![u32::MAX; n_features];
        index.in_entries = vec![false; n_features];
        for (doc, ids) in index.docs.iter().zip(&doc_features) {
            for &f in ids {
                let f = f as usize;
                if counted_for[f] != doc.target {
                    counted_for[f] = doc.target;
                    df[f] += 1;
                }
                if (doc.target as usize) < entries {
                    index.in_entries[f] = true;
                }
            }
        }
        // Questions having each feature, in entries and in topics, for the in-scope evidence.
        let mut in_count = vec![0u32; n_features];
        let mut out_count = vec![0u32; n_features];
        let mut questions_in = 0u32;
        for (doc, ids) in index.docs.iter().zip(&doc_features) {
            let count = if (doc.target as usize) < entries {
                questions_in += 1;
                &mut in_count
            } else {
                &mut out_count
            };
            for &f in ids {
                count[f as usize] += 1;
            }
        }
        let questions_out = index.docs.len() as u32 - questions_in;
        let single: Vec<bool> = in_count
            .iter()
            .zip(&out_count)
            .map(|(&a, &b)| a + b == 1)
            .collect();
        let rate = |count: u32, total: u32| {
            (count as f32 + SCOPE_SMOOTHING) / (total as f32 + 2.0 * SCOPE_SMOOTHING)
        };
        index.scope = in_count
            .iter()
            .zip(&out_count)
            .map(|(&a, &b)| {
                (rate(a, questions_in) / rate(b, questions_out))
                    .ln()
                    .clamp(-SCOPE_CLAMP, SCOPE_CLAMP)
            })
            .collect();

        let n = targets.max(1) as f32;
        let idf = |df: f32| ((n + 1.0) / (df + 0.5)).ln().max(0.0);
        index.unseen_weight = idf(0.0);
        index.is_pinyin = vec![false; n_features];
        for (&key, &f) in &index.features {
            index.is_pinyin[f as usize] = key & PINYIN != 0;
        }
        let kinds: Vec<f32> = index
            .is_pinyin
            .iter()
            .map(|&p| if p { PINYIN_WEIGHT } else { 1.0 })
            .collect();
        index.weights = df
            .iter()
            .zip(&kinds)
            .map(|(&d, &k)| k * idf(d as f32))
            .collect();

        // Question postings, question weights, and each target's centroid (sum of unit question vectors),
        // accumulated over each target's run of questions (the questions of a target come together).
        let mut postings = Vec::new();
        // One more feature than the index has: the share of a question said in words no other has.
        let trainable = Softmax::worth_training(
            doc_features.len(),
            doc_features.iter().map(Vec::len).sum(),
            n_features + 1,
            targets,
        );
        let mut vectors: Vec<Vec<(u32, f32)>> = Vec::new();
        let mut tpost: Vec<(u32, (u32, f32, f32))> = Vec::new();
        let mut centroid: FxHashMap<u32, (f32, u32)> = FxHashMap::default();
        index.centroid_norms = vec![0.0; targets];
        let mut occurrences = vec![0u32; targets];
        let mut written_squares = vec![0.0f32; targets];
        let is_pinyin = &index.is_pinyin;
        let mut flush =
            |target: u32, centroid: &mut FxHashMap<u32, (f32, u32)>, norms: &mut Vec<f32>| {
                for (&f, &(v, count)) in centroid.iter() {
                    let nb = (1.0 + count as f32 / NB_SMOOTHING).ln();
                    tpost.push((f, (target, v, nb)));
                    norms[target as usize] += v * v;
                    if !is_pinyin[f as usize] {
                        written_squares[target as usize] += v * v;
                    }
                    occurrences[target as usize] += count;
                }
                centroid.clear();
            };
        for (d, ids) in doc_features.iter().enumerate() {
            let target = index.docs[d].target;
            if d > 0 && index.docs[d - 1].target != target {
                debug_assert!(index.docs[..d].iter().all(|doc| doc.target != target));
                flush(
                    index.docs[d - 1].target,
                    &mut centroid,
                    &mut index.centroid_norms,
                );
            }
            let weight: f32 = ids.iter().map(|&f| index.weights[f as usize]).sum();
            let written: f32 = ids
                .iter()
                .filter(|&&f| !index.is_pinyin[f as usize])
                .map(|&f| index.weights[f as usize])
                .sum();
            let norm = ids
                .iter()
                .map(|&f| index.weights[f as usize].powi(2))
                .sum::<f32>()
                .sqrt()
                .max(f32::MIN_POSITIVE);
            // The model's view of the question: its features, and how much of it is said in words no
            // other question uses, which is what an unseen word in a query will look like. Not kept
            // when the knowledge is too large for the model.
            if trainable {
                let mut vector: Vec<(u32, f32)> = ids
                    .iter()
                    .map(|&f| (f, index.weights[f as usize] / norm))
                    .collect();
                let rare = ids
                    .iter()
                    .filter(|&&f| single[f as usize])
                    .map(|&f| index.weights[f as usize].powi(2))
                    .sum::<f32>()
                    .sqrt()
                    / norm;
                if rare > 0.0 {
                    vector.push((n_features as u32, rare));
                }
                vectors.push(vector);
            }
            for &f in ids {
                postings.push((f, d as u32));
                let slot = centroid.entry(f).or_insert((0.0, 0));
                slot.0 += index.weights[f as usize] / norm;
                slot.1 += 1;
            }
            index.docs[d].weight = weight;
            index.docs[d].written = written;
        }
        if let Some(last) = index.docs.last() {
            flush(last.target, &mut centroid, &mut index.centroid_norms);
        }
        (index.post_start, index.post_docs) = compress(n_features, &postings);
        // `compress` keeps the push order within a feature, and targets were flushed in the order their
        // questions came: that is already by target number unless the caller listed targets otherwise.
        if !tpost.is_sorted_by_key(|&(_, (t, _, _))| t) {
            tpost.sort_by_key(|&(f, (t, _, _))| (f, t));
        }
        index.nb_norms = occurrences
            .iter()
            .map(|&n| (n as f32 / NB_SMOOTHING + n_features as f32).ln())
            .collect();
        for n in &mut index.centroid_norms {
            *n = n.sqrt().max(f32::MIN_POSITIVE);
        }
        index.written_squares = written_squares;
        (index.tpost_start, index.tpost) = compress(n_features, &tpost);
        let examples: Vec<Example> = index
            .docs
            .iter()
            .zip(&vectors)
            .map(|(doc, features)| Example {
                target: doc.target,
                features,
            })
            .collect();
        index.model = Softmax::train(&examples, n_features + 1, targets);
        index
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// A query's tokens and feature keys as the index reads them, or `None` when it has no char, word or
    /// syllable at all.
    fn read_query(&self, query: &str) -> Option<QueryKeys> {
        let unseen_from = WORD_BASE + self.words.len() as u32;
        let mut unseen = unseen_from;
        let mut unseen_syllable = self.syllables.len() as u32;
        let mut typed_pinyin: Vec<Vec<u32>> = Vec::new();
        let tokens = tokenize(query, |w| {
            // A word that reads as pinyin is taken as those syllables, not as a word, as in the index.
            if let Some(syllables) = typed_syllables(&self.syllables, w) {
                typed_pinyin.push(syllables);
                return TYPED_PINYIN;
            }
            if let Some(&id) = self.words.get(w) {
                return id;
            }
            unseen += 1;
            unseen
        });
        let mut syllables = syllables_of(query, |s| {
            self.syllables.get(s).copied().unwrap_or_else(|| {
                unseen_syllable += 1;
                unseen_syllable
            })
        });
        let typed_syllables: usize = typed_pinyin.iter().map(Vec::len).sum();
        let (features, tokens) = split_typed(tokens, typed_pinyin, &mut syllables);
        if features.is_empty() && syllables.is_empty() {
            return None;
        }
        let mut keys = Vec::new();
        feature_keys(&features, &syllables, &mut keys);
        Some(QueryKeys {
            keys,
            tokens,
            typed: typed_syllables as f32 / syllables.len().max(1) as f32,
            unseen_from,
        })
    }

    /// Scores the targets most similar to the normalised `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<TargetScore> {
        let Some(QueryKeys {
            keys,
            tokens,
            typed,
            unseen_from,
        }) = self.read_query(query)
        else {
            return Vec::new();
        };
        // Typed syllables cannot share the questions' char features, so as much of each question's chars
        // is left out of what it is compared with: 「dianzi shebaoka mima suole」 is compared with what
        // 「电子社保卡密码锁了」 sounds like.
        let spoken_query = (typed > 0.0).then(|| spoken(&tokens, &self.syllables));
        let Weighed {
            known,
            squares,
            share,
            ..
        } = self.weigh(&keys, unseen_from);
        let total = share.total;
        let query_norm = f32::sqrt(squares);
        let model = match &self.model {
            Some(model) => {
                let x = self.model_input(&known, squares);
                let mut p = vec![0.0; model.targets()];
                model.probabilities(&x, &mut p);
                // Out of scope is one decision whichever topic says it: the topic the model finds
                // likeliest carries, besides its own probability, its share of the other topics'. A
                // question the model splits between 银行卡 and 微信支付 is not answered by an entry
                // that only leads each of them, while one spread thin over every topic (a vague
                // 「太复杂了我不会弄」) gains little. The other topics keep their own and rank below it.
                let topics = p[self.entries..].iter().sum::<f32>();
                if let Some(likeliest) = p[self.entries..]
                    .iter_mut()
                    .reduce(|best, t| if *t > *best { t } else { best })
                {
                    let own = *likeliest;
                    *likeliest = own + (topics - own) * own / topics.max(f32::MIN_POSITIVE);
                }
                p
            }
            None => Vec::new(),
        };
        let model_share = if model.is_empty() { 0.0 } else { MODEL_SHARE };
        // The query's in-scope log-odds, in one pass: their mean (unknown features count as neutral),
        // and its strongest word for the scope and against it.
        let (sum, strongest_for, against) = known.iter().map(|&f| self.scope[f as usize]).fold(
            (0.0f32, 0.0f32, 0.0f32),
            |(sum, most_for, most_against), v| (sum + v, most_for.max(v), most_against.max(-v)),
        );
        let evidence = sum / keys.len() as f32;
        // The mean pulls the other side down. An entry also needs its scope not to be named against:
        // a query whose strongest word against the scope (医保卡, 支付宝) outweighs its strongest word
        // for it (电子社保卡) by more than TOPIC_EVIDENCE asks about that other card or app, however
        // much of an entry's wording it shares (the mean hardly moves when one word of a long question
        // is another card's).
        let entry_scope = (SCOPE_STRENGTH * evidence.min(0.0)).exp()
            * (-SCOPE_STRENGTH * (against - strongest_for - TOPIC_EVIDENCE).max(0.0)).exp();
        // A topic needs a word of its own: its questions all name another card, app or subject, so a
        // query whose strongest word against the scope is weak (密码 忘 锁 刷脸, said of any card) is
        // not about one, however much of its wording a topic shares.
        let topic_scope =
            (-SCOPE_STRENGTH * evidence.max(0.0)).exp() * (against / TOPIC_EVIDENCE).min(1.0);

        // Stage 1: overlap with each question, dot product with each target's centroid. Weights are
        // always positive, so a zero accumulator means "not touched yet".
        let mut shared = vec![0f32; self.docs.len()];
        let mut touched_docs = Vec::new();
        let mut dot = vec![0f32; self.centroid_norms.len()];
        // Naive Bayes log-likelihood of the query's features under each target's wording, less the part
        // every target shares; a pinyin feature counts at its lower weight.
        let mut nb = vec![0f32; self.centroid_norms.len()];
        for &f in &known {
            let w = self.weights[f as usize];
            for &d in self.postings(f) {
                if shared[d as usize] == 0.0 {
                    touched_docs.push(d);
                }
                shared[d as usize] += w;
            }
            let kind = if self.is_pinyin[f as usize] {
                PINYIN_WEIGHT
            } else {
                1.0
            };
            for &(t, v, evidence) in self.target_postings(f) {
                dot[t as usize] += w * v;
                nb[t as usize] += kind * evidence;
            }
        }
        let nb_features: f32 = keys
            .iter()
            .map(|&k| if k & PINYIN != 0 { PINYIN_WEIGHT } else { 1.0 })
            .sum();
        for (t, value) in nb.iter_mut().enumerate() {
            *value = (*value - nb_features * self.nb_norms[t]) / NB_TEMPERATURE;
        }
        let nb_max = nb.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let nb_sum: f32 = nb.iter().map(|&v| (v - nb_max).exp()).sum();
        let posterior = |t: u32| (nb[t as usize] - nb_max).exp() / nb_sum;
        // The nearest questions of each target by overlap.
        let mut nearest = vec![[(u32::MAX, -1.0f32); NEAREST]; self.centroid_norms.len()];
        let mut touched_targets = Vec::new();
        // The order of visits does not matter: `insert_best` breaks ties by question number.
        for &d in &touched_docs {
            let doc = &self.docs[d as usize];
            let dice = 2.0 * shared[d as usize] / (total + doc.weight - typed * doc.written);
            let best = &mut nearest[doc.target as usize];
            if best[0].0 == u32::MAX {
                touched_targets.push(doc.target);
            }
            insert_best(best, (d, dice));
        }
        let entry_factor = share.entry_factor();
        // Only a query with a char pair no question has can be a known question retyped with a typo: one
        // whose every feature is known (重置 where a question has 设置) is another wording, not a typo.
        // A query typed in pinyin shares no chars with the questions: how close it sounds to one is all
        // it can show, so a near one (by `spoken` edit similarity) is that question retyped too.
        let retyped_floor = if share.unknown + share.unknown_words > 0.0 || typed > 0.0 {
            RETYPED
        } else {
            1.0
        };
        let score = |ts: &TargetScore, edit: f32| {
            let blend = (1.0 - NB_SHARE - model_share)
                * (NEAREST_SHARE * ts.nearest + (1.0 - NEAREST_SHARE) * ts.centroid)
                + NB_SHARE * ts.posterior
                + model_share * ts.model;
            let raw = if edit >= 1.0 {
                1.0
            } else if edit > retyped_floor {
                blend.max((edit - retyped_floor) / (1.0 - retyped_floor))
            } else {
                blend
            };
            let factor = if (ts.target as usize) < self.entries {
                entry_factor * entry_scope
            } else {
                topic_scope
            };
            (raw * factor).clamp(0.0, 1.0)
        };
        let mut leaders: Vec<(TargetScore, [(u32, f32); NEAREST])> = touched_targets
            .into_iter()
            .map(|target| {
                let best = nearest[target as usize];
                let mut ts = TargetScore {
                    target,
                    doc: best[0].0,
                    nearest: mean_similarity(&best),
                    centroid: dot[target as usize]
                        / (query_norm * self.centroid_norm(target, typed)),
                    posterior: posterior(target),
                    model: model.get(target as usize).copied().unwrap_or(0.0),
                    score: 0.0,
                };
                ts.score = score(&ts, 0.0);
                (ts, best)
            })
            .collect();
        let keep = SHORTLIST.max(limit * 2);
        if leaders.len() > keep {
            leaders.select_nth_unstable_by(keep - 1, |a, b| TargetScore::ranking(&a.0, &b.0));
            leaders.truncate(keep);
        }

        // Stage 2: edit similarity with the nearest questions of the leading targets.
        let mut results: Vec<TargetScore> = leaders
            .into_iter()
            .map(|(mut ts, mut best)| {
                let mut closest_edit = 0.0f32;
                for (d, sim) in best.iter_mut().filter(|(d, _)| *d != u32::MAX) {
                    let doc = &self.docs[*d as usize];
                    let mut edit = edit_similarity(&tokens, &doc.tokens);
                    if let Some(spoken) = &spoken_query {
                        edit = edit.max(edit_similarity(spoken, &doc.spoken));
                    }
                    closest_edit = closest_edit.max(edit);
                    *sim = OVERLAP_SHARE * *sim + (1.0 - OVERLAP_SHARE) * edit;
                }
                best.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                ts.doc = best[0].0;
                ts.nearest = mean_similarity(&best);
                ts.score = score(&ts, closest_edit);
                ts
            })
            .collect();
        results.sort_unstable_by(TargetScore::ranking);
        results.truncate(limit);
        results
    }

    /// A query's feature keys weighed against the index: the features it knows, the
    /// sum of every key's squared weight (unknown ones at [`Index::unknown_weight`]) and how the weight
    /// splits by where the features are known. What [`Index::search`] scores and
    /// [`Index::contributions`] explains are read by this one pass.
    fn weigh(&self, keys: &[u64], unseen_from: u32) -> Weighed {
        let mut out = Weighed {
            known: Vec::with_capacity(keys.len()),
            squares: 0.0,
            share: Shares::default(),
        };
        for &k in keys {
            let w = match self.features.get(&k) {
                Some(&f) => {
                    out.known.push(f);
                    let w = self.weights[f as usize];
                    if !self.in_entries[f as usize] {
                        out.share.topics_only += w;
                    }
                    w
                }
                None => {
                    let w = self.unknown_weight(k);
                    if k & PINYIN == 0 && has_unseen_word(k, unseen_from) {
                        out.share.unknown_words += w;
                    } else {
                        out.share.unknown += w;
                    }
                    w
                }
            };
            out.share.total += w;
            out.squares += w * w;
        }
        out
    }

    /// The weight of feature `key` when no question has it: as rare as it gets, at a pinyin feature's
    /// lower weight for syllables.
    fn unknown_weight(&self, key: u64) -> f32 {
        if key & PINYIN != 0 {
            PINYIN_WEIGHT * self.unseen_weight
        } else {
            self.unseen_weight
        }
    }

    /// The regression's input for a query: its known features at unit length, and the share of the
    /// query said in words no question has (the model learned what such words mean from the words used
    /// only once), from the query's summed squared feature weights, unknown ones included.
    fn model_input(&self, known: &[u32], squares: f32) -> Vec<(u32, f32)> {
        let known_squares: f32 = known
            .iter()
            .map(|&f| self.weights[f as usize].powi(2))
            .sum();
        let norm = known_squares.sqrt().max(f32::MIN_POSITIVE);
        let mut x: Vec<(u32, f32)> = known
            .iter()
            .map(|&f| (f, self.weights[f as usize] / norm))
            .collect();
        let rare =
            (squares - known_squares).max(0.0).sqrt() / squares.sqrt().max(f32::MIN_POSITIVE);
        if rare > 0.0 {
            x.push((self.weights.len() as u32, rare));
        }
        x
    }

    /// What each feature of `query` adds to the regression's preference for target `a` over target `b`
    /// (its value times the difference of its two weights), summed by the text it reads as and largest
    /// first either way; empty without a model. Words no question has are one item, `None`.
    pub fn contributions(&self, query: &str, a: u32, b: u32) -> super::WordWeights {
        let (Some(model), Some(read)) = (&self.model, self.read_query(query)) else {
            return Vec::new();
        };
        let Weighed { known, squares, .. } = self.weigh(&read.keys, read.unseen_from);
        // Which key each known feature was read from, to name it (the explanation's path only: search()
        // needs no names).
        let key_of: FxHashMap<u32, u64> = read
            .keys
            .iter()
            .filter_map(|&k| self.features.get(&k).map(|&f| (f, k)))
            .collect();
        let mut by_text: Vec<(Option<String>, f32)> = Vec::new();
        for (f, v) in self.model_input(&known, squares) {
            let delta = v * (model.weight(f, a) - model.weight(f, b));
            let label = key_of.get(&f).map(|&k| self.describe(k));
            match by_text.iter_mut().find(|(l, _)| *l == label) {
                Some((_, sum)) => *sum += delta,
                None => by_text.push((label, delta)),
            }
        }
        by_text.sort_by(|x, y| y.1.abs().total_cmp(&x.1.abs()).then(x.0.cmp(&y.0)));
        by_text
    }

    /// Feature `key` as a person reads it: a char or word, two of them, or syllables.
    fn describe(&self, key: u64) -> String {
        let token = |t: u32| -> String {
            if key & PINYIN != 0 {
                let syllable = self
                    .syllables
                    .iter()
                    .find(|&(_, &id)| id == t)
                    .map(|(s, _)| *s);
                return syllable.map_or_else(|| "?".to_string(), |s| format!("{s} "));
            }
            if t >= WORD_BASE {
                let word = self.words.iter().find(|&(_, &id)| id == t).map(|(w, _)| w);
                return word.map_or_else(|| "?".to_string(), |w| format!(" {w} "));
            }
            char::from_u32(t).map_or_else(|| "?".to_string(), String::from)
        };
        let text = if key & BIGRAM != 0 {
            token(((key & !(BIGRAM | PINYIN)) >> 32) as u32) + &token(key as u32)
        } else {
            token(key as u32)
        };
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The length of `target`'s centroid as a query with a `typed` share of pinyin sees it: without that
    /// share of its char and word features.
    fn centroid_norm(&self, target: u32, typed: f32) -> f32 {
        let t = target as usize;
        let norm = self.centroid_norms[t];
        if typed == 0.0 {
            return norm;
        }
        (norm * norm - typed * self.written_squares[t])
            .max(0.0)
            .sqrt()
            .max(f32::MIN_POSITIVE)
    }

    fn postings(&self, f: u32) -> &[u32] {
        let (s, e) = (self.post_start[f as usize], self.post_start[f as usize + 1]);
        &self.post_docs[s as usize..e as usize]
    }

    fn target_postings(&self, f: u32) -> &[(u32, f32, f32)] {
        let (s, e) = (
            self.tpost_start[f as usize],
            self.tpost_start[f as usize + 1],
        );
        &self.tpost[s as usize..e as usize]
    }
}

/// A query's features as the index weighs them (see [`Index::weigh`]).
struct Weighed {
    /// The features the index knows, in the query's order.
    known: Vec<u32>,
    /// The sum of the squared weights of all the query's features, unknown ones included.
    squares: f32,
    share: Shares,
}

/// How a query's feature weight splits by where the features are known.
#[derive(Debug, Default)]
struct Shares {
    total: f32,
    /// Known only from out-of-scope topics.
    topics_only: f32,
    /// Unknown features holding a Latin or number word no question has, and other unknown features.
    unknown_words: f32,
    unknown: f32,
}

impl Shares {
    /// The factor applied to an FAQ entry's score.
    fn entry_factor(&self) -> f32 {
        [
            (FOREIGN_PENALTY, self.topics_only),
            (UNKNOWN_WORD_PENALTY, self.unknown_words),
            (UNKNOWN_PENALTY, self.unknown),
        ]
        .iter()
        .map(|&(penalty, weight)| (1.0 - penalty * weight / self.total).max(0.0))
        .product()
    }
}

/// Whether feature `key` holds a word token with an id handed out to an unseen word.
fn has_unseen_word(key: u64, unseen_from: u32) -> bool {
    let (a, b) = if key & BIGRAM != 0 {
        (((key & !BIGRAM) >> 32) as u32, key as u32)
    } else {
        (key as u32, key as u32)
    };
    a > unseen_from || b > unseen_from
}

/// Keeps `best` sorted by similarity (then doc), holding the top [`NEAREST`].
fn insert_best(best: &mut [(u32, f32); NEAREST], item: (u32, f32)) {
    let better = |a: &(u32, f32), b: &(u32, f32)| a.1 > b.1 || (a.1 == b.1 && a.0 < b.0);
    if !better(&item, &best[NEAREST - 1]) {
        return;
    }
    best[NEAREST - 1] = item;
    let mut i = NEAREST - 1;
    while i > 0 && better(&best[i], &best[i - 1]) {
        best.swap(i, i - 1);
        i -= 1;
    }
}

/// Mean similarity of the nearest questions; a target with fewer questions counts the missing as 0.
fn mean_similarity(best: &[(u32, f32); NEAREST]) -> f32 {
    best.iter().map(|&(_, s)| s.max(0.0)).sum::<f32>() / NEAREST as f32
}

/// Edit similarity over tokens, never over bytes (a Chinese char is three bytes): the mean of the
/// normalised Levenshtein similarity (strsim) and the longest-common-subsequence ratio (an insertion
/// costs one, a replacement two), which together tell a dropped or added char from a wrong one.
fn edit_similarity(a: &Vec<u32>, b: &Vec<u32>) -> f32 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let levenshtein = 1.0 - strsim::generic_levenshtein(a, b) as f32 / longest as f32;
    let lcs = 2.0 * longest_common_subsequence(a, b) as f32 / (a.len() + b.len()) as f32;
    (levenshtein + lcs) / 2.0
}

/// Length of the longest common subsequence, in one row of memory.
fn longest_common_subsequence(a: &[u32], b: &[u32]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for &x in a {
        let mut diagonal = 0;
        for (j, &y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
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
                (1, "密码锁定"),
                (2, "你好"),
                (3, "医保卡密码忘记"),
            ],
            3,
            4,
        )
    }

    #[test]
    fn chinese_chars_are_one_token_each_and_latin_words_one_token() {
        let mut words = Vec::new();
        let tokens = tokenize("用app改 12333", |w| {
            words.push(w.to_string());
            WORD_BASE + words.len() as u32 - 1
        });
        assert_eq!(tokens.len(), 4);
        assert_eq!(words, ["app", "12333"]);
    }

    #[test]
    fn a_known_question_ranks_its_entry_first() {
        let best = index().search("密码忘记", 3)[0];
        assert_eq!(best.target, 0);
        assert!(best.score > 0.6, "{best:?}");
    }

    #[test]
    fn rare_words_decide_between_targets() {
        assert_eq!(index().search("密码锁定了", 3)[0].target, 1);
    }

    #[test]
    fn words_known_only_from_out_of_scope_topics_pull_entries_down() {
        let results = index().search("医保卡密码忘记了", 3);
        assert_eq!(results[0].target, 3, "{results:?}");
    }

    #[test]
    fn unrelated_text_scores_low() {
        let results = index().search("明天天气", 3);
        assert!(results.iter().all(|r| r.score < 0.3), "{results:?}");
    }

    #[test]
    fn targets_listed_out_of_order_score_the_same() {
        let questions = [
            (0, "电子社保卡密码忘记怎么办"),
            (0, "密码忘记"),
            (1, "电子社保卡密码被锁定"),
            (1, "密码锁定"),
            (2, "你好"),
            (3, "医保卡密码忘记"),
        ];
        let shuffled = [4, 5, 2, 3, 0, 1].map(|i| questions[i]);
        let search = |index: Index| index.search("电子社保卡密码忘记了", 4);
        let (a, b) = (
            search(Index::build(shuffled, 3, 4)),
            search(Index::build(questions, 3, 4)),
        );
        assert_eq!(a.len(), b.len());
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(a.target, b.target);
            // Features are numbered in the order they are met, so sums may differ in the last bit.
            assert!((a.score - b.score).abs() < 1e-6, "{a:?} {b:?}");
            assert!((a.centroid - b.centroid).abs() < 1e-6, "{a:?} {b:?}");
        }
    }

    #[test]
    fn words_of_the_scope_pull_topics_down_and_words_against_it_pull_entries_down() {
        let index = Index::build(
            [
                (0, "电子社保卡密码忘记"),
                (0, "电子社保卡密码想不起"),
                (1, "电子社保卡密码锁定"),
                (2, "银行卡密码忘记"),
                (2, "银行卡密码锁定"),
            ],
            2,
            3,
        );
        let card =
            |f: &str| index.scope[index.features[&(f.chars().next().unwrap() as u64)] as usize];
        assert!(card("电") > 0.0);
        assert!(card("银") < 0.0);
        assert_eq!(index.search("电子社保卡密码忘记了", 3)[0].target, 0);
        assert_eq!(index.search("银行卡的密码忘记了", 3)[0].target, 2);
    }

    #[test]
    fn a_word_that_names_another_card_pulls_entries_down_when_nothing_names_the_e_card() {
        let tails = [
            "忘记了",
            "想不起来",
            "忘了咋办",
            "记不住了",
            "忘记怎么办",
            "不记得了",
        ];
        let stems = [
            (0, "电子社保卡密码"),
            (0, "密码"),
            (1, "银行卡密码"),
            (1, "支付宝密码"),
        ];
        let mut questions: Vec<(u32, String)> = stems
            .iter()
            .flat_map(|&(t, stem)| tails.iter().map(move |tail| (t, format!("{stem}{tail}"))))
            .collect();
        for tail in ["怎么激活", "丢了", "余额", "能报销吗", "在哪办", "怎么用"] {
            questions.push((2, format!("医保卡{tail}")));
        }
        let index = Index::build(questions.iter().map(|(t, q)| (*t, q.as_str())), 1, 3);
        // The e-card's question with the card swapped: 医 speaks against the scope, nothing for it.
        let results = index.search("医保卡密码忘记怎么办", 3);
        assert_ne!(results[0].target, 0, "{results:?}");
        // Named beside the e-card, the other card is context.
        let results = index.search("电子社保卡和医保卡密码忘记怎么办", 3);
        assert_eq!(results[0].target, 0, "{results:?}");
    }

    /// Ends of questions that any card's PIN may be asked with: enough of them, after a few stems, for a
    /// model to be trained.
    const TAILS: [&str; 18] = [
        "忘了",
        "锁了",
        "怎么改",
        "输错了",
        "想不起来",
        "被冻结",
        "在哪设置",
        "能不能重置",
        "多少位",
        "不对",
        "失效了",
        "怎么找回",
        "过期了",
        "要换吗",
        "是什么",
        "错了三次",
        "不会设",
        "太简单",
    ];

    /// An index of each stem (a target, in order) asked with every tail, the first `entries` of them FAQ
    /// entries; large enough to train the regression.
    fn stems_with_tails(stems: [&str; 3], entries: usize) -> Index {
        let questions: Vec<(u32, String)> = (stems.iter().enumerate())
            .flat_map(|(t, stem)| {
                TAILS
                    .iter()
                    .map(move |tail| (t as u32, format!("{stem}{tail}")))
            })
            .collect();
        let index = Index::build(questions.iter().map(|(t, q)| (*t, q.as_str())), entries, 3);
        assert!(index.model.is_some());
        index
    }

    #[test]
    fn the_words_that_tell_two_targets_apart_are_named_with_their_weight_either_way() {
        let index = stems_with_tails(["电子社保卡密码", "银行卡密码", "门禁卡密码"], 2);
        let bank = index.contributions("银行卡密码锁了", 1, 0);
        let (first, weight) = &bank[0];
        let first = first.as_deref().unwrap_or_default();
        assert!(
            *weight > 0.0 && (first.contains('银') || first.contains('行')),
            "{bank:?}"
        );
        // The shared words (密码, 锁了) weigh little either way; the other order is the same, negated.
        let back = index.contributions("银行卡密码锁了", 0, 1);
        for (label, c) in &bank {
            let mirrored = back.iter().find(|(l, _)| l == label).unwrap().1;
            assert!(
                (c + mirrored).abs() < 1e-5,
                "{label:?}: {c} against {mirrored}"
            );
        }
        // A word no question has is one item, named by nothing.
        assert!(
            index
                .contributions("银行卡密码锁了 qwxz", 1, 0)
                .iter()
                .any(|(l, _)| l.is_none())
        );
    }

    #[test]
    fn a_feature_reads_as_its_chars_its_word_or_its_syllables() {
        let index = index();
        let key = |k: u64| index.describe(k);
        assert_eq!(key('锁' as u64), "锁");
        assert_eq!(key(BIGRAM | ('密' as u64) << 32 | '码' as u64), "密码");
        let (mi, ma) = (index.syllables["mi"] as u64, index.syllables["ma"] as u64);
        assert_eq!(key(PINYIN | BIGRAM | mi << 32 | ma), "mi ma");
        assert_eq!(key(PINYIN | mi), "mi");
    }

    #[test]
    fn the_likeliest_topic_carries_its_share_of_the_other_topics_probability() {
        let index = stems_with_tails(["电子社保卡密码", "银行卡密码", "微信支付密码"], 1);
        let results = index.search("银行卡和微信支付的密码都锁了", 3);
        let model = |target| results.iter().find(|r| r.target == target).unwrap().model;
        let (likeliest, other) = (model(1).max(model(2)), model(1).min(model(2)));
        assert!(
            other > 0.01,
            "the question speaks for both topics: {results:?}"
        );
        // The likeliest topic's own probability, and what it carries: its own and, of the other
        // topic's, the share it has of all topics.
        let own = 1.0 - model(0) - other;
        let carried = own + other * own / (own + other);
        assert!((likeliest - carried).abs() < 1e-4, "{results:?}");
        assert_ne!(results[0].target, 0, "{results:?}");
    }

    #[test]
    fn a_topic_does_not_take_a_question_that_names_nothing_of_its_own() {
        let index = Index::build(
            [
                (0, "电子社保卡重置密码时人脸识别失败"),
                (0, "人脸识别失败重置不了电子社保卡密码"),
                (0, "给老人重置密码人脸识别失败"),
                (0, "人脸识别失败去哪里重置密码"),
                (1, "电子社保卡密码锁定"),
                (2, "微信人脸识别失败"),
                (2, "支付宝人脸识别失败"),
                (2, "银行人脸识别失败"),
                (2, "抖音人脸识别失败"),
            ],
            2,
            3,
        );
        // Said of no other app, failing face recognition is the card's; naming one, it is that app's.
        assert_eq!(index.search("人脸识别失败", 3)[0].target, 0);
        assert_eq!(index.search("抖音人脸识别失败了", 3)[0].target, 2);
    }

    #[test]
    fn naive_bayes_favours_the_target_whose_words_the_query_uses() {
        let results = index().search("锁定", 4);
        let locked = results.iter().find(|r| r.target == 1).unwrap();
        assert!(
            results.iter().all(|r| r.posterior <= locked.posterior),
            "{results:?}"
        );
        let total: f32 = results.iter().map(|r| r.posterior).sum();
        assert!(total <= 1.0 + 1e-4, "{results:?}");
    }

    #[test]
    fn homophones_and_typed_pinyin_meet_the_knowledge_on_syllables() {
        let index = Index::build(
            [(0, "密码忘记"), (1, "电子社保卡怎么申领"), (2, "今天天气")],
            2,
            3,
        );
        assert_eq!(index.search("密码往记", 3)[0].target, 0);
        assert_eq!(index.search("mima wangji", 3)[0].target, 0);
        assert_eq!(index.search("shenling", 3)[0].target, 1);
    }

    #[test]
    fn a_question_retyped_in_pinyin_is_compared_with_how_the_questions_sound() {
        let index = index();
        let typed = index.search("dianzi shebaoka mima bei suoding", 2);
        assert_eq!(typed[0].target, 1);
        // Every syllable of the question, in order: the question itself, as a typo in it would be.
        assert!(typed[0].score > 0.9, "{typed:?}");
        // The same words said in another order are no retyping: compared by sound, not chars they lack.
        let scrambled = index.search("suoding bei mima shebaoka dianzi", 2);
        assert_eq!(scrambled[0].target, 1);
        assert!(scrambled[0].score < typed[0].score - 0.2, "{scrambled:?}");
    }

    #[test]
    fn pinyin_typed_in_a_question_of_the_knowledge_is_read_as_syllables_too() {
        let index = Index::build(
            [
                (0, "电子社保卡密码忘记"),
                (0, "dianzi shebaoka mima wangji"),
                (1, "怎么修改电子社保卡密码"),
                (2, "今天天气"),
            ],
            2,
            3,
        );
        // The knowledge's pinyin question shares the words `dianzi shebaoka mima`, but the query asks
        // what entry 1 says in characters (修改, xiugai).
        assert_eq!(
            index.search("zenme xiugai dianzi shebaoka mima", 3)[0].target,
            1
        );
        // Retyped, the pinyin question is still that question.
        let retyped = index.search("dianzi shebaoka mima wangji", 3);
        assert_eq!(retyped[0].target, 0);
        assert!(retyped[0].score > 0.9, "{retyped:?}");
    }

    #[test]
    fn a_different_known_word_is_not_a_typo_of_a_question() {
        let index = Index::build(
            [(0, "密码怎么设置"), (1, "密码怎么重置"), (1, "重置密码")],
            2,
            2,
        );
        // 重置 is known: 「密码怎么重置呢」 is not 「密码怎么设置」 retyped.
        assert_eq!(index.search("密码怎么重置呢", 2)[0].target, 1);
    }

    #[test]
    fn results_hold_one_score_per_target() {
        let results = index().search("电子社保卡密码忘记", 10);
        let mut targets: Vec<_> = results.iter().map(|r| r.target).collect();
        targets.sort();
        targets.dedup();
        assert_eq!(targets.len(), results.len());
    }

    #[test]
    fn edit_similarity_counts_chars_not_bytes() {
        let a: Vec<u32> = "密码忘记".chars().map(|c| c as u32).collect();
        let b: Vec<u32> = "密码忘计".chars().map(|c| c as u32).collect();
        assert!((edit_similarity(&a, &b) - 0.75).abs() < 1e-6);
        let swapped: Vec<u32> = "码密忘记".chars().map(|c| c as u32).collect();
        assert!(edit_similarity(&a, &swapped) > 0.5);
    }

    #[test]
    fn a_dropped_char_is_closer_than_a_wrong_one() {
        let chars = |s: &str| s.chars().map(|c| c as u32).collect::<Vec<_>>();
        let a = chars("密码忘记了");
        assert!(
            edit_similarity(&a, &chars("密码忘了")) > edit_similarity(&a, &chars("密码忘计了"))
        );
        assert_eq!(
            longest_common_subsequence(&chars("abcde"), &chars("ace")),
            3
        );
    }
}
