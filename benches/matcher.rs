//! Benchmarks of matching latency and knowledge loading, on the shipped knowledge and at scale.
//!
//! Why: a citizen's question must be answered at once, and a knowledge reload must not stall the bot, even
//! when editors grow the FAQ far beyond its shipped size. What is measured:
//!
//! - `match/shipped/*`: one `KnowledgeBase::ask` on the embedded knowledge, one benchmark per realistic
//!   question (Simplified, Traditional, a typo, a nearby out-of-scope subject);
//! - `match/generated_50k`: one `ask` on a synthetic 10,000 entries x 5 questions knowledge base, each
//!   iteration taking the next of 300 perturbed queries (so the time is per question);
//! - `load/shipped`: `KnowledgeBase::load(&Source::embedded())` (parse, validate, normalise, index);
//! - `load/reload_shipped`: a running bot's reload of an edited copy of the shipped knowledge: read the
//!   files, every check of `shebao check` with the regression cases, and the swap;
//! - `load/generated/N`: the same for N = 1,000, 10,000 and 50,000 generated questions, to read off growth.
//!
//! The synthetic knowledge mirrors `benches/compare_rapidfuzz.py` (same character pool, question frames,
//! shape and perturbations; a different PRNG, so not the same questions), so the numbers are comparable
//! with that side-by-side. Run with `cargo bench --bench matcher`.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use shebao::knowledge::{KnowledgeBase, Source, SourceFile};
use shebao::matcher::Target;

/// Realistic questions for the shipped knowledge, with ASCII labels for the benchmark names.
const SHIPPED_QUERIES: [(&str, &str); 6] = [
    ("forgot", "电子社保卡密码忘了怎么办"),
    ("locked", "密码被锁了"),
    ("medical_card", "医保卡怎么激活"),
    ("traditional", "電子社保卡密碼忘記了"),
    ("typo", "电子社保卡密码忘了怎么半"),
    ("change", "怎么修改电子社保卡的六位数密码"),
];

/// Questions per generated entry, and perturbed queries asked of the generated knowledge.
const PER_ENTRY: usize = 5;
const QUERIES: usize = 300;
const SEED: u64 = 7;

const CHARS: &str = concat!(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种",
    "面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本",
    "去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比",
    "或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总",
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做",
    "必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权",
    "收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信",
    "马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连",
    "断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存",
    "候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞",
);

const FRAMES: [(&str, &str); 10] = [
    ("怎么", ""),
    ("", "怎么办"),
    ("如何", ""),
    ("", "在哪里办"),
    ("为什么", ""),
    ("", "需要什么"),
    ("能不能", ""),
    ("", "是什么意思"),
    ("请问", ""),
    ("", "多久能好"),
];

/// splitmix64: small, seeded and deterministic, enough to generate test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// `k` distinct items of `items`, in random order.
    fn sample<T: Clone>(&mut self, items: &[T], k: usize) -> Vec<T> {
        let mut chosen: Vec<usize> = Vec::with_capacity(k);
        while chosen.len() < k {
            let i = self.below(items.len());
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
        chosen.into_iter().map(|i| items[i].clone()).collect()
    }
}

/// `n` distinct words of 2 (two times in three) or 3 characters from the pool, sorted.
fn make_words(rng: &mut Rng, pool: &[char], n: usize) -> Vec<String> {
    let mut words = HashSet::new();
    while words.len() < n {
        let len = *rng.pick(&[2, 2, 3]);
        words.insert((0..len).map(|_| *rng.pick(pool)).collect::<String>());
    }
    let mut words: Vec<String> = words.into_iter().collect();
    words.sort();
    words
}

/// `entries` entries of `PER_ENTRY` questions each, as in `compare_rapidfuzz.py`: each entry has three
/// topic words; a question shuffles them, keeps two or three, may add an unrelated word, and puts the
/// result in a frame. Questions are distinct over the whole knowledge (shebao refuses duplicates).
fn generate(entries: usize, seed: u64) -> Vec<Vec<String>> {
    let pool: Vec<char> = CHARS.chars().collect();
    let mut rng = Rng(seed);
    let vocab = make_words(&mut rng, &pool, 6000);
    let mut taken = HashSet::new();
    let mut kb = Vec::with_capacity(entries);
    for _ in 0..entries {
        let topic = rng.sample(&vocab, 3);
        let mut questions = Vec::with_capacity(PER_ENTRY);
        while questions.len() < PER_ENTRY {
            let mut words = topic.clone();
            rng.shuffle(&mut words);
            let extra_count = rng.below(2);
            let extra = rng.sample(&vocab, extra_count);
            let keep = *rng.pick(&[2, 3]);
            let body: String = words[..2]
                .iter()
                .chain(&extra)
                .chain(&words[2..keep])
                .map(String::as_str)
                .collect();
            let (before, after) = rng.pick(&FRAMES);
            let q = format!("{before}{body}{after}");
            if taken.insert(q.clone()) {
                questions.push(q);
            }
        }
        questions.sort();
        kb.push(questions);
    }
    kb
}

/// Deletes, replaces or inserts one or two characters (a deletion only above four characters, else an
/// insertion), as in `compare_rapidfuzz.py`.
fn perturb(rng: &mut Rng, pool: &[char], text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..*rng.pick(&[1, 2]) {
        let op = rng.below(3);
        let at = rng.below(chars.len());
        match op {
            0 if chars.len() > 4 => {
                chars.remove(at);
            }
            1 => chars[at] = *rng.pick(pool),
            _ => chars.insert(at, *rng.pick(pool)),
        }
    }
    chars.into_iter().collect()
}

/// `QUERIES` perturbed questions of `kb`, each with the index of the entry it came from.
fn queries(kb: &[Vec<String>], seed: u64) -> Vec<(String, usize)> {
    let pool: Vec<char> = CHARS.chars().collect();
    let owned: Vec<(usize, &str)> = kb
        .iter()
        .enumerate()
        .flat_map(|(e, qs)| qs.iter().map(move |q| (e, q.as_str())))
        .collect();
    let mut rng = Rng(seed);
    (0..QUERIES)
        .map(|_| {
            let (entry, q) = *rng.pick(&owned);
            (perturb(&mut rng, &pool, q), entry)
        })
        .collect()
}

/// An in-memory knowledge source holding only a `faq.yaml` with the generated entries.
fn source(kb: &[Vec<String>]) -> Source {
    let mut yaml = String::from("entries:\n");
    for (i, questions) in kb.iter().enumerate() {
        yaml.push_str(&format!("  - id: e{i}\n    questions:\n"));
        for q in questions {
            yaml.push_str(&format!("      - {q}\n"));
        }
        yaml.push_str(&format!(
            "    answer: 第e{i}条的回答。如有疑问请拨打12333。\n"
        ));
    }
    Source {
        origin: "generated".to_string(),
        files: vec![SourceFile {
            name: "faq.yaml",
            display: "generated/faq.yaml".to_string(),
            text: yaml,
        }],
        unknown_files: Vec::new(),
    }
}

fn load(source: &Source) -> KnowledgeBase {
    KnowledgeBase::load(source).unwrap_or_else(|e| panic!("knowledge does not load: {e:?}"))
}

fn bench_match(c: &mut Criterion) {
    let mut group = c.benchmark_group("match");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));

    let shipped = load(&Source::embedded());
    for (label, question) in SHIPPED_QUERIES {
        group.bench_with_input(BenchmarkId::new("shipped", label), question, |b, q| {
            b.iter(|| shipped.ask(black_box(q)))
        });
    }

    let kb = generate(10_000, SEED);
    let queries = queries(&kb, SEED + 1);
    let generated = load(&source(&kb));
    let right = queries
        .iter()
        .filter(|(q, entry)| {
            generated.ask(q).best().map(|c| c.target) == Some(Target::Entry(*entry))
        })
        .count();
    eprintln!(
        "generated_50k: {} questions, best candidate is the source entry for {right}/{} queries",
        generated.question_count(),
        queries.len()
    );
    let mut next = 0;
    group.bench_function("generated_50k", |b| {
        b.iter(|| {
            let (q, _) = &queries[next % queries.len()];
            next += 1;
            generated.ask(black_box(q))
        })
    });
    group.finish();
}

fn bench_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));

    let embedded = Source::embedded();
    group.bench_function("shipped", |b| b.iter(|| load(black_box(&embedded))));

    // What a running bot pays for each accepted edit: read the directory, check it as `shebao check`
    // does (regression cases included), swap. Each iteration changes a comment so the files differ.
    let dir = tempfile::tempdir().expect("temp dir");
    for file in &embedded.files {
        std::fs::write(dir.path().join(file.name), &file.text).expect("write knowledge");
    }
    let live = shebao::live::LiveKnowledge::open(Some(dir.path())).expect("the shipped knowledge");
    let tests = dir.path().join("tests.tsv");
    let cases = std::fs::read_to_string(&tests).expect("tests.tsv");
    let mut round = 0u64;
    group.bench_function("reload_shipped", |b| {
        b.iter(|| {
            round += 1;
            std::fs::write(&tests, format!("{cases}# edit {round}\n")).expect("write tests.tsv");
            assert!(live.reload().is_update());
        })
    });

    for questions in [1_000, 10_000, 50_000] {
        let source = source(&generate(questions / PER_ENTRY, SEED));
        group.bench_with_input(BenchmarkId::new("generated", questions), &source, |b, s| {
            b.iter(|| load(black_box(s)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_match, bench_load);
criterion_main!(benches);
