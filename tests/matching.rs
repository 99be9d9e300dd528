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

/// The examples of issue 10's "Why", as a new user would try them: each gets the right answer, the right
/// fallback, or a clarification that offers the right entry.
fn answered_or_offered(question: &str, id: &str) -> bool {
    let kb = shipped();
    let outcome = kb.ask(question);
    let offered = outcome
        .answer()
        .into_iter()
        .chain(outcome.clarify_options());
    offered
        .map(|e| kb.entries[e].id.as_str())
        .collect::<Vec<_>>()
        .contains(&id)
}

fn falls_back_to(question: &str, topic: &str) -> bool {
    let kb = shipped();
    let outcome = kb.ask(question);
    outcome.out_of_scope().map(|t| kb.topics[t].id.as_str()) == Some(topic)
}

#[test]
fn finding_a_password_again_is_not_setting_it_for_the_first_time() {
    assert_eq!(
        answer_id("电子社保卡的密码如何找回").as_deref(),
        Some("forgot_pin")
    );
}

#[test]
fn a_question_at_the_end_of_a_long_story_is_found() {
    let story = "我今年七十多了，眼睛不好使，去年孙女在我手机上弄了个电子社保卡，说看病拿药都能用。\
                 前几天去社区医院开药，收费的姑娘让我输密码，我试了两回都不对，后面排队的人都在催，\
                 我只好先用现金付了。回家打电话问孙女，她也不记得当时设的是啥了。\
                 我一个老太太真不会弄这些，这个电子社保卡密码忘了到底该怎么弄啊";
    assert!(answered_or_offered(story, "forgot_pin"));
}

#[test]
fn feelings_and_places_around_a_question_do_not_pull_it_elsewhere() {
    assert!(answered_or_offered(
        "电子社保卡密码忘了 着急 在排队",
        "forgot_pin"
    ));
    assert!(answered_or_offered(
        "在药店门口呢 电子社保卡的密码记不得了 急",
        "forgot_pin"
    ));
}

#[test]
fn other_passwords_fall_back_with_their_hint() {
    for q in [
        "银行卡密码忘了咋办",
        "支付宝密码忘了怎么办",
        "微信零钱密码想不起来咋整",
        "公积金密码忘了",
    ] {
        assert!(
            falls_back_to(q, "other_passwords") || falls_back_to(q, "housing_fund"),
            "{q}: {:?}",
            shipped().ask(q)
        );
    }
}

#[test]
fn cancelling_the_card_is_not_applying_for_it() {
    assert!(falls_back_to("电子社保卡怎么注销", "card_cancellation"));
}

#[test]
fn a_pasted_scam_text_gets_the_scam_warning() {
    assert_eq!(
        answer_id("【人社局】您的电子社保卡即将过期，请点击 http://x.cn/a1 激活").as_deref(),
        Some("phishing_scam")
    );
}

#[test]
fn pinyin_typed_without_picking_characters_is_understood() {
    assert!(answered_or_offered("wangji mima le", "forgot_pin"));
}

#[test]
fn a_particle_typed_in_pinyin_is_dropped_like_its_character() {
    // 「a」「ne」 are 啊 and 呢 typed without picking them: no question has them, and as words nothing
    // knows they made a short question look like chit-chat.
    for (question, id) in [
        ("mima wangle zenme ban a", "forgot_pin"),
        ("mima suo le ne", "pin_locked"),
    ] {
        assert_eq!(answer_id(question).as_deref(), Some(id), "{question}");
    }
}

#[test]
fn a_homophone_typo_not_in_the_synonyms_still_matches() {
    // 秘马 for 密码 is in no synonym group: the pinyin (mi ma) carries it.
    assert!(answered_or_offered("电子社保卡秘马忘记了", "forgot_pin"));
}

/// The ids a question is answered with or offered, in the order the buttons show them.
fn offered(question: &str) -> Vec<String> {
    let kb = shipped();
    let outcome = kb.ask(question);
    outcome
        .answer()
        .into_iter()
        .chain(outcome.clarify_options())
        .map(|e| kb.entries[e].id.to_string())
        .collect()
}

#[test]
fn a_social_security_card_pin_that_could_be_either_card_offers_both() {
    for question in [
        "社保卡密码忘了",
        "社保卡的密码记不起来了咋办",
        "社會保障卡密碼被鎖了",
    ] {
        let ids = offered(question);
        assert_eq!(
            shipped().ask(question).decision,
            Decision::Clarify,
            "{question}: {ids:?}"
        );
        assert!(
            ids.iter().any(|id| id == "physical_card_pin"),
            "{question}: {ids:?}"
        );
        assert!(
            ids.iter()
                .any(|id| id == "forgot_pin" || id == "pin_locked"),
            "{question}: {ids:?}"
        );
    }
}

#[test]
fn a_card_named_or_placed_is_not_asked_about() {
    for (question, id) in [
        ("电子社保卡密码忘了", "forgot_pin"),
        ("支付宝里的社保卡密码忘了", "forgot_pin"),
        // 电子 anywhere says which card, not only in the word 电子社保卡.
        ("社保卡的电子密码忘了", "forgot_pin"),
        ("实体社保卡密码忘了怎么办", "physical_card_pin"),
    ] {
        assert_eq!(answer_id(question).as_deref(), Some(id), "{question}");
    }
}

#[test]
fn the_six_digits_named_in_passing_are_not_a_question_about_length() {
    let kb = shipped();
    // 「六位数密码」 is what the PIN is called; only 几位 / 多少位 ask how long it is.
    let named = kb.ask("我想改一下六位数密码 旧的还记得");
    assert!(named.normalized.contains("六位数"), "{}", named.normalized);
    assert!(!named.normalized.contains("几位"), "{}", named.normalized);
    assert_eq!(
        named.answer().map(|e| kb.entries[e].id.as_str()),
        Some("change_pin")
    );
    assert!(kb.ask("密码要设多少位数").normalized.contains("几位"));
}

#[test]
fn cantonese_forgetting_and_asking_what_to_do_are_understood() {
    let kb = shipped();
    let outcome = kb.ask("唔记得电子社保卡密码 点算");
    assert!(
        outcome.normalized.contains("忘记"),
        "{}",
        outcome.normalized
    );
    assert!(
        outcome.normalized.contains("怎么办"),
        "{}",
        outcome.normalized
    );
    assert_eq!(
        outcome.answer().map(|e| kb.entries[e].id.as_str()),
        Some("forgot_pin")
    );
}

#[test]
fn a_second_entry_is_offered_only_under_an_answer_and_only_when_likely_enough() {
    use shebao::knowledge::SMALL_TALK;
    use shebao::matcher::{ALSO_OFFER, Target};
    let kb = shipped();
    let cases =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/tests.tsv"))
            .expect("tests.tsv");
    // The regression cases, and questions near the entries' boundaries that no question of the knowledge says.
    let near_boundaries = [
        "密码弄丢了去哪里重新弄",
        "网上弄不了密码咋办",
        "我想换个密码但是旧的不记得",
        "换手机号以后密码怎么办",
        "密码被锁了能去银行解吗",
        "设置密码时提示不安全",
        "客服能帮我改密码吗",
        "在柜台重新设密码要带啥",
        "密码多久可以改一次",
        "老人的电子社保卡密码谁来设",
        "电子社保卡重新设密码",
        "密码忘了能在微信里改吗",
    ];
    let (mut answered, mut offered) = (0, 0);
    for q in cases
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(_, q)| q))
        .chain(near_boundaries)
    {
        let outcome = kb.ask(q);
        answered += usize::from(outcome.answer().is_some());
        // What the conversation shows: small talk neither gets a second button nor is one.
        let small_talk = |e: usize| SMALL_TALK.contains(&kb.entries[e].id.as_str());
        if let Some(shown) = kb.also_offered(&outcome) {
            assert_eq!(outcome.also_offered(), Some(shown), "{q}");
            assert!(
                !small_talk(shown) && !outcome.answer().is_some_and(small_talk),
                "{q}"
            );
        }
        let Some(also) = outcome.also_offered() else {
            continue;
        };
        offered += 1;
        let answer = outcome.answer().expect("offered only under an answer");
        assert_ne!(also, answer, "{q}");
        let score = |t: usize| {
            outcome
                .entry_candidates()
                .find(|c| c.target == Target::Entry(t))
                .map(|c| c.score)
                .unwrap()
        };
        assert!(score(also) >= ALSO_OFFER, "{q}: {outcome:?}");
        // The likeliest of the others.
        for c in outcome.entry_candidates() {
            if c.target != Target::Entry(answer) {
                assert!(c.score <= score(also), "{q}: {outcome:?}");
            }
        }
    }
    // Most answers are clear: the button stands under few of them, but under some. `ALSO_OFFER` keeps it
    // under one answer in ten on the cross-validation; this sample leans to the boundaries on purpose.
    assert!(
        offered > 0 && offered * 5 < answered,
        "{offered} of {answered}"
    );
    for q in [
        "医保卡怎么激活",
        "社保卡密码忘了",
        "忘记电子社保卡密码怎么办？",
    ] {
        assert_eq!(kb.ask(q).also_offered(), None, "{q}");
    }
}
