#!/usr/bin/env python3
"""Side-by-side retrieval at scale: `shebao ask --json` against rapidfuzz on the same synthetic knowledge.

Generates a knowledge base of ENTRIES x QUESTIONS synthetic Chinese questions (default 10,000 x 5 = 50,000),
300 queries made by deleting, replacing or inserting one or two characters in randomly chosen questions,
then measures wall time (knowledge loading included) and how often the best candidate is the entry the
query came from:

- shebao: one batch `shebao ask --json --knowledge DIR` over all queries (one process, one load);
- rapidfuzz: the better of `process.extractOne(q, questions, scorer=fuzz.WRatio)` per query and
  `process.cdist(queries, questions, scorer=fuzz.WRatio, workers=-1)` followed by argmax.

Usage: python3 benches/compare_rapidfuzz.py [--shebao target/release/shebao] [--entries N] [--seed S]
Needs: pip install rapidfuzz numpy pyyaml-free (the YAML is written by hand).
"""
import argparse, json, os, random, subprocess, sys, tempfile, time

# Common characters to build words from (the 500 most frequent, roughly), and question frames.
CHARS = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞")
FRAMES = ["怎么{}", "{}怎么办", "如何{}", "{}在哪里办", "为什么{}", "{}需要什么", "能不能{}", "{}是什么意思", "请问{}", "{}多久能好"]


def make_words(rng, n):
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(CHARS) for _ in range(rng.choice((2, 2, 3)))))
    return sorted(words)


def generate(entries, per_entry, seed):
    rng = random.Random(seed)
    vocab = make_words(rng, 6000)
    kb, taken = [], set()
    for i in range(entries):
        topic = rng.sample(vocab, 3)
        questions = set()
        while len(questions) < per_entry:
            words = topic[:]
            rng.shuffle(words)
            extra = rng.sample(vocab, rng.choice((0, 1)))
            q = rng.choice(FRAMES).format("".join(words[:2] + extra + words[2:rng.choice((2, 3))]))
            if q not in taken:  # shebao refuses a question listed under two entries
                taken.add(q)
                questions.add(q)
        kb.append((f"e{i}", sorted(questions)))
    return kb


def perturb(rng, text):
    chars = list(text)
    for _ in range(rng.choice((1, 2))):
        op = rng.choice(("delete", "replace", "insert"))
        at = rng.randrange(len(chars))
        if op == "delete" and len(chars) > 4:
            del chars[at]
        elif op == "replace":
            chars[at] = rng.choice(CHARS)
        else:
            chars.insert(at, rng.choice(CHARS))
    return "".join(chars)


def write_knowledge(kb, directory):
    with open(os.path.join(directory, "faq.yaml"), "w", encoding="utf-8") as f:
        f.write("entries:\n")
        for id_, questions in kb:
            f.write(f"  - id: {id_}\n    questions:\n")
            for q in questions:
                f.write(f"      - {q}\n")
            f.write(f"    answer: 第{id_}条的回答。如有疑问请拨打12333。\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shebao", default="target/release/shebao")
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--questions", type=int, default=5)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-extract-one", action="store_true")
    args = ap.parse_args()

    kb = generate(args.entries, args.questions, args.seed)
    rng = random.Random(args.seed + 1)
    questions, owner = [], []
    for id_, qs in kb:
        questions += qs
        owner += [id_] * len(qs)
    picks = [rng.randrange(len(questions)) for _ in range(args.queries)]
    queries = [perturb(rng, questions[p]) for p in picks]
    truth = [owner[p] for p in picks]

    with tempfile.TemporaryDirectory() as d:
        write_knowledge(kb, d)
        t0 = time.perf_counter()
        run = subprocess.run([args.shebao, "ask", "--json", "--knowledge", d], input="\n".join(queries) + "\n",
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(run.stderr)
        out = run.stdout
        shebao_time = time.perf_counter() - t0
    results = [json.loads(line) for line in out.splitlines()]
    shebao_right = sum(1 for r, t in zip(results, truth) if r["candidates"] and r["candidates"][0]["id"] == t)

    from rapidfuzz import fuzz, process
    import numpy as np
    t0 = time.perf_counter()
    scores = process.cdist(queries, questions, scorer=fuzz.WRatio, workers=-1)
    best = np.argmax(scores, axis=1)
    cdist_time = time.perf_counter() - t0
    rf_right = sum(1 for b, t in zip(best, truth) if owner[b] == t)
    timings = {"cdist+argmax": cdist_time}
    if not args.skip_extract_one:
        t0 = time.perf_counter()
        picks1 = [process.extractOne(q, questions, scorer=fuzz.WRatio) for q in queries]
        timings["extractOne"] = time.perf_counter() - t0
        rf_right = max(rf_right, sum(1 for p, t in zip(picks1, truth) if owner[p[2]] == t))
    rf_best = min(timings.values())

    print(f"knowledge: {args.entries} entries x {args.questions} questions = {len(questions)}; queries: {len(queries)}")
    print(f"shebao ask --json (load included): {shebao_time:.3f} s, best candidate right {shebao_right}/{len(queries)}")
    for name, t in timings.items():
        print(f"rapidfuzz {name}: {t:.3f} s")
    print(f"rapidfuzz best right {rf_right}/{len(queries)}")
    print(f"speed-up over rapidfuzz's fastest: {rf_best / shebao_time:.1f}x")
    ok = rf_best / shebao_time >= 5 and shebao_right >= rf_right
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
