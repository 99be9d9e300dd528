//! The shipped knowledge as citizens meet it: typos, Traditional characters, full-width digits, hard negatives.

use shebao::matcher::Decision;

use crate::helpers::shipped;

fn answer_id(question: &str) -> Option<String> {
    let kb = shipped();
    kb.ask(question)
        .answer()
        .map(|e| kb.entries[e].id.to_string())
}

#[test]
fn nearby_topics_that_share_words_fall_back() {
    let kb = shipped();
    for q in [
        "医保卡怎么激活",
        "银行卡密码忘了",
        "社保缴费年限怎么查",
        "95512是哪家公司",
        "QQ密码忘了怎么办",
        "支付宝支付密码忘了",
    ] {
        let outcome = kb.ask(q);
        assert_eq!(outcome.decision, Decision::Fallback, "{q}: {outcome:?}");
    }
}

#[test]
fn chit_chat_falls_back() {
    let kb = shipped();
    for q in [
        "明天会下雨吗",
        "给我讲个笑话",
        "哈哈哈哈哈",
        "🙂🙂🙂",
        "？？？",
        "",
    ] {
        assert_eq!(kb.ask(q).decision, Decision::Fallback, "{q}");
    }
}

#[test]
fn typos_still_match() {
    assert_eq!(
        answer_id("电子社保卡密马忘了怎么半").as_deref(),
        Some("forgot_pin")
    );
    assert_eq!(
        answer_id("电子社宝卡密码被锁定了").as_deref(),
        Some("pin_locked")
    );
    assert_eq!(answer_id("怎么重制密码").as_deref(), Some("forgot_pin"));
}

#[test]
fn traditional_characters_match_simplified_questions() {
    assert_eq!(
        answer_id("電子社保卡密碼忘記了怎麼辦").as_deref(),
        Some("forgot_pin")
    );
}

#[test]
fn full_width_text_and_emoji_match_too() {
    assert_eq!(answer_id("ＰＩＮ码忘了😭😭").as_deref(), Some("forgot_pin"));
    assert_eq!(
        answer_id("１２３３３是什么电话").as_deref(),
        Some("contact_support")
    );
}

#[test]
fn matching_is_deterministic() {
    let kb = shipped();
    for q in ["密码", "改密码", "电子社保卡", "社保卡密码"] {
        assert_eq!(kb.ask(q), kb.ask(q), "{q}");
    }
}

#[test]
fn scores_are_probabilities() {
    let kb = shipped();
    for q in ["密码忘了", "医保", "你好", "x"] {
        for c in kb.ask(q).candidates {
            assert!(
                (0.0..=1.0).contains(&c.score) && (0.0..=1.0).contains(&c.similarity),
                "{q}: {c:?}"
            );
        }
    }
}

#[test]
fn every_canonical_question_gets_its_own_entry() {
    let kb = shipped();
    for entry in &kb.entries {
        let outcome = kb.ask(entry.canonical_question());
        assert_eq!(
            outcome.answer(),
            kb.entry_index(entry.id.as_str()),
            "{}",
            entry.id
        );
    }
}

/// The development sample lives beside the repository (`../shared/eval/dev.tsv`); CI has it too.
fn dev_sample() -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/dev.tsv");
    std::fs::read_to_string(path).ok()
}

#[test]
fn no_line_of_the_dev_sample_is_pasted_into_the_knowledge() {
    let Some(dev) = dev_sample() else {
        eprintln!("../shared/eval/dev.tsv not found; skipped");
        return;
    };
    let knowledge: Vec<String> = shebao::knowledge::Source::embedded()
        .files
        .iter()
        .flat_map(|f| {
            f.text
                .lines()
                .map(|l| {
                    l.trim()
                        .trim_start_matches("- ")
                        .trim_matches('"')
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for line in dev.lines().filter(|l| !l.starts_with('#')) {
        let question = line.split('\t').nth(1).unwrap_or("").trim();
        assert!(
            question.is_empty()
                || !knowledge
                    .iter()
                    .any(|k| k == question || k.ends_with(&format!("\t{question}"))),
            "dev question pasted into knowledge: {question}"
        );
    }
}

#[test]
fn the_dev_sample_meets_the_quality_bar() {
    let Some(dev) = dev_sample() else {
        eprintln!("../shared/eval/dev.tsv not found; skipped");
        return;
    };
    let (cases, problems) = shebao::knowledge::parse_cases(&dev, "dev.tsv");
    assert!(problems.is_empty(), "{problems:?}");
    let eval = shipped().evaluate(&cases);
    assert!(
        eval.accuracy() >= 0.95,
        "in-domain top-1 {:.3}: {:#?}",
        eval.accuracy(),
        eval.misses
    );
    assert!(
        eval.rejection() >= 0.90,
        "out-of-scope rejection {:.3}: {:#?}",
        eval.rejection(),
        eval.misses
    );
}
