//! A softmax regression over the index's features, trained when the knowledge loads: the discriminative
//! view that learns which words tell targets apart, where the other views only count how often they appear.
//!
//! Every question is a sparse vector (its features' idf weights, scaled to unit length) labelled with its
//! target; out-of-scope topics are targets like FAQ entries, so the model learns what sends a question
//! elsewhere as much as what brings it here. One extra feature carries how much of a question is said in
//! features no other question has: in training those are words used once, at query time words never seen,
//! so the model learns what an unknown word (another app, another card) says about the target. Training is
//! a few epochs of stochastic gradient descent in a fixed pseudo-random order with a decaying rate,
//! averaged over the epochs (averaged SGD), so the same knowledge always yields the same model. Its cost is questions × features per question × targets
//! × [`EPOCHS`] × [`SEEDS`]: a second or less up to a few hundred targets. A knowledge base so large that the weight
//! table would exceed [`BUDGET`], or whose training would exceed [`WORK_BUDGET`], gets no model; the matcher then scores with its other views alone (see
//! `benches/compare_rapidfuzz.py`, which indexes 10,000 entries).

/// Passes over the questions.
const EPOCHS: usize = 24;
/// Models trained, each visiting the questions in its own order, and averaged. One model's answers to
/// borderline questions depend on the accident of its order: adding five unrelated questions to the
/// knowledge moved one model's `eval --folds 10` by 1.5 points and 10 wrong answers, and an unrelated
/// new entry flipped a regression case. Averaging five orders moved the same comparisons by under half
/// a point (3 to 8 orders tried: 0.799 to 0.807 overall), at five times the training cost.
const SEEDS: usize = 5;
/// Learning rate of the first epoch; epoch `e` uses `RATE / (1 + e / 2)`. With unit-length inputs the
/// rate sets how sharp the model gets; averaging over the epochs is the only regularisation (weight decay,
/// an L2 penalty, lowered the cross-validation at every strength tried). Rates 1, 2, 3, 4, 6 and 8 were
/// tried with `shebao eval --folds 10`: 4 gave the best overall with the fewest wrong answers.
const RATE: f32 = 4.0;
/// Fewest questions a model is trained on: from a handful of questions a discriminative model learns
/// accidents of wording (the one entry that happens to say 电子社保卡) and the other views do better alone.
const FEWEST: usize = 50;
/// Largest weight table (features × targets) trained: 16 M weights, 64 MB for each of the [`SEEDS`] orders,
/// which train at once.
pub(crate) const BUDGET: usize = 16_000_000;
/// Most multiply-adds spent training (feature values × targets × [`EPOCHS`] × [`SEEDS`]): about a second
/// on one core. Training grows with questions × targets, faster than linearly with the knowledge, so
/// past this a knowledge base loads without the model rather than taking minutes (the shipped knowledge
/// needs about a tenth of it).
pub(crate) const WORK_BUDGET: usize = 2_000_000_000;

/// Feature-major weights of every (feature, target) pair and a bias per target.
#[derive(Debug, Clone, Default)]
pub(crate) struct Softmax {
    targets: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// A question as the model sees it: its target and its (feature, value) pairs.
pub(crate) struct Example<'a> {
    pub target: u32,
    pub features: &'a [(u32, f32)],
}

impl Softmax {
    /// Trains on `examples`, or gives `None` when the weight table would exceed [`BUDGET`], there are
    /// fewer than [`FEWEST`] questions or there is nothing to tell apart.
    pub fn train(examples: &[Example<'_>], features: usize, targets: usize) -> Option<Softmax> {
        let nonzero = examples.iter().map(|e| e.features.len()).sum();
        if !Softmax::worth_training(examples.len(), nonzero, features, targets) {
            return None;
        }
        let mut total = Softmax {
            targets,
            weights: vec![0.0; features * targets],
            bias: vec![0.0; targets],
        };
        // The orders are independent: each trains on its own thread, and they are added up in the order
        // of their seeds, so the model is the same however the threads were scheduled.
        std::thread::scope(|scope| {
            let runs: Vec<_> = (0..SEEDS)
                .map(|run| {
                    let seed =
                        0x9E37_79B9_7F4A_7C15u64 ^ (run as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
                    scope.spawn(move || Softmax::train_once(examples, features, targets, seed))
                })
                .collect();
            for run in runs {
                let one = run.join().expect("training one order does not panic");
                for (t, w) in total.weights.iter_mut().zip(&one.weights) {
                    *t += w / SEEDS as f32;
                }
                for (t, b) in total.bias.iter_mut().zip(&one.bias) {
                    *t += b / SEEDS as f32;
                }
            }
        });
        Some(total)
    }

    /// One model by averaged SGD, visiting the questions in the order `seed` shuffles them into.
    fn train_once(examples: &[Example<'_>], features: usize, targets: usize, seed: u64) -> Softmax {
        let mut model = Softmax {
            targets,
            weights: vec![0.0; features * targets],
            bias: vec![0.0; targets],
        };
        let mut sum = model.clone();
        // Visited by target first, so the order the targets are listed in does not change the model.
        let mut order: Vec<usize> = (0..examples.len()).collect();
        order.sort_by_key(|&i| examples[i].target);
        let mut seed = seed;
        let mut probabilities = vec![0.0; targets];
        for epoch in 0..EPOCHS {
            shuffle(&mut order, &mut seed);
            let rate = RATE / (1.0 + epoch as f32 / 2.0);
            for &i in &order {
                let example = &examples[i];
                model.probabilities(example.features, &mut probabilities);
                probabilities[example.target as usize] -= 1.0;
                for &(f, v) in example.features {
                    let row = model.row_mut(f);
                    for (w, g) in row.iter_mut().zip(&probabilities) {
                        *w -= rate * v * g;
                    }
                }
                for (b, g) in model.bias.iter_mut().zip(&probabilities) {
                    *b -= rate * g;
                }
            }
            for (s, w) in sum.weights.iter_mut().zip(&model.weights) {
                *s += w;
            }
            for (s, b) in sum.bias.iter_mut().zip(&model.bias) {
                *s += b;
            }
        }
        let epochs = EPOCHS as f32;
        sum.weights.iter_mut().for_each(|w| *w /= epochs);
        sum.bias.iter_mut().for_each(|b| *b /= epochs);
        sum
    }

    /// Whether a model of `questions` (with `nonzero` feature values among them) over `features` and
    /// `targets` would be trained: enough questions, a weight table within [`BUDGET`] and training work
    /// within [`WORK_BUDGET`].
    pub fn worth_training(
        questions: usize,
        nonzero: usize,
        features: usize,
        targets: usize,
    ) -> bool {
        let work = nonzero
            .saturating_mul(targets)
            .saturating_mul(EPOCHS * SEEDS);
        targets >= 2
            && questions >= FEWEST
            && features.saturating_mul(targets) <= BUDGET
            && work <= WORK_BUDGET
    }

    /// The probability of every target given a query's (feature, value) pairs, into `out`.
    pub fn probabilities(&self, features: &[(u32, f32)], out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for &(f, v) in features {
            for (o, w) in out.iter_mut().zip(self.row(f)) {
                *o += v * w;
            }
        }
        let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut total = 0.0;
        for o in out.iter_mut() {
            *o = (*o - max).exp();
            total += *o;
        }
        for o in out.iter_mut() {
            *o /= total;
        }
    }

    /// The weight of feature `f` for target `t` (0 for a feature the model was not trained with).
    pub fn weight(&self, f: u32, t: u32) -> f32 {
        let i = f as usize * self.targets + t as usize;
        self.weights.get(i).copied().unwrap_or(0.0)
    }

    pub fn targets(&self) -> usize {
        self.targets
    }

    fn row(&self, f: u32) -> &[f32] {
        let start = f as usize * self.targets;
        &self.weights[start..start + self.targets]
    }

    fn row_mut(&mut self, f: u32) -> &mut [f32] {
        let start = f as usize * self.targets;
        &mut self.weights[start..start + self.targets]
    }
}

/// Fisher–Yates with a fixed-seed xorshift: a different order each epoch, the same on every run.
fn shuffle(order: &mut [usize], seed: &mut u64) {
    for i in (1..order.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        order.swap(i, (*seed % (i as u64 + 1)) as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four questions, each asked [`FEWEST`] / 4 times.
    fn examples() -> Vec<(u32, Vec<(u32, f32)>)> {
        let four = [
            (0, vec![(0, 0.7), (1, 0.7)]),
            (0, vec![(0, 0.6), (2, 0.8)]),
            (1, vec![(3, 0.7), (1, 0.7)]),
            (1, vec![(3, 0.6), (2, 0.8)]),
        ];
        four.iter().cycle().take(FEWEST).cloned().collect()
    }

    fn as_examples(data: &[(u32, Vec<(u32, f32)>)]) -> Vec<Example<'_>> {
        data.iter()
            .map(|(t, f)| Example {
                target: *t,
                features: f,
            })
            .collect()
    }

    fn train(data: &[(u32, Vec<(u32, f32)>)]) -> Softmax {
        Softmax::train(&as_examples(data), 4, 2).unwrap()
    }

    #[test]
    fn the_word_only_one_target_uses_decides_between_them() {
        let model = train(&examples());
        let mut p = [0.0; 2];
        model.probabilities(&[(0, 1.0)], &mut p);
        assert!(p[0] > 0.8, "{p:?}");
        model.probabilities(&[(3, 0.7), (2, 0.7)], &mut p);
        assert!(p[1] > 0.7, "{p:?}");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn the_same_questions_give_the_same_model() {
        let (a, b) = (train(&examples()), train(&examples()));
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.bias, b.bias);
    }

    #[test]
    fn a_table_over_budget_or_too_few_questions_train_no_model() {
        let data = examples();
        let examples = as_examples(&data);
        assert!(Softmax::train(&examples, BUDGET, 2).is_none());
        assert!(Softmax::train(&examples, 4, 1).is_none());
        assert!(Softmax::train(&examples[..FEWEST - 1], 4, 2).is_none());
    }
}
