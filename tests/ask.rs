//! `shebao ask` for support staff: which answer, what score, why; one JSON object per line in batch.

use crate::helpers::{KnowledgeDir, eval_cases, shebao, stderr, stdout, without_scores};

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn ask_prints_the_matched_id_and_score_then_the_answer() {
    let out = shebao(&["ask", "电子社保卡密码忘了怎么办"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let first = text.lines().next().unwrap();
    let (id, score) = first.split_once(' ').unwrap();
    assert_eq!(id, "forgot_pin");
    let score: f32 = score.parse().unwrap();
    assert!((0.0..=1.0).contains(&score));
    assert!(text.contains("12333"), "{text}");
}

#[test]
fn ask_works_from_any_directory_with_the_embedded_knowledge() {
    // `shebao` runs from an empty temporary directory in every helper call.
    let out = shebao(&["ask", "--json", "你好"], "");
    assert_eq!(json_lines(&stdout(&out))[0]["id"], "greeting");
}

#[test]
fn json_output_has_exactly_the_documented_fields() {
    let out = shebao(&["ask", "--json", "密码被锁定了怎么办"], "");
    let lines = json_lines(&stdout(&out));
    assert_eq!(lines.len(), 1);
    let v = &lines[0];
    assert_eq!(v["question"], "密码被锁定了怎么办");
    assert_eq!(v["id"], "pin_locked");
    assert_eq!(v["decision"], "answer");
    let score = v["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score));
    let candidates = v["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty() && candidates.len() <= 5);
    assert_eq!(candidates[0]["id"], "pin_locked");
    assert!(candidates.iter().all(|c| c["score"].as_f64().is_some()));
    assert!(v["answer"].as_str().unwrap().contains("锁"));
}

#[test]
fn json_id_is_null_unless_the_decision_is_answer() {
    let out = shebao(&["ask", "--json", "明天会下雨吗"], "");
    let v = &json_lines(&stdout(&out))[0];
    assert_eq!(v["decision"], "fallback");
    assert!(v["id"].is_null());
    assert!(v["answer"].as_str().unwrap().contains("12333"));
}

#[test]
fn batch_mode_answers_one_question_per_line_and_skips_blank_lines() {
    let questions = "电子社保卡密码忘了\n\n医保卡怎么激活\n谢谢\n";
    let out = shebao(&["ask", "--json"], questions);
    let lines = json_lines(&stdout(&out));
    let ids: Vec<_> = lines.iter().map(|v| v["id"].clone()).collect();
    assert_eq!(
        ids,
        [
            serde_json::json!("forgot_pin"),
            serde_json::Value::Null,
            serde_json::json!("thanks")
        ]
    );
    assert_eq!(lines[1]["out_of_scope"], "medical_insurance");
}

#[test]
fn explain_shows_the_normalised_text_and_the_candidates_with_their_questions() {
    let out = shebao(&["ask", "--explain", "電子社保卡密碼忘記了！！"], "");
    let text = stdout(&out);
    assert!(text.contains("normalised: 电子社保卡密码忘记"), "{text}");
    let candidates: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains("via 「")
        })
        .collect();
    assert_eq!(candidates.len(), 5, "{text}");
    assert!(candidates[0].contains("forgot_pin"), "{text}");
}

#[test]
fn ask_uses_the_knowledge_directory_when_given() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "      - 谢谢\n",
        "      - 谢谢\n      - 太棒了你真是个好帮手\n",
    );
    let out = shebao(
        &[
            "ask",
            "--json",
            "--knowledge",
            dir.path().to_str().unwrap(),
            "太棒了你真是个好帮手",
        ],
        "",
    );
    assert_eq!(json_lines(&stdout(&out))[0]["id"], "thanks");
}

#[test]
fn a_broken_knowledge_directory_is_an_error_listing_the_problems() {
    let dir = KnowledgeDir::shipped();
    dir.replace("faq.yaml", "  - id: pin_format\n", "  - id: set_pin\n");
    let out = shebao(
        &["ask", "--knowledge", dir.path().to_str().unwrap(), "你好"],
        "",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("duplicate id `set_pin`") && err.contains("faq.yaml:"),
        "{err}"
    );
}

#[test]
fn eval_reports_accuracy_rejection_and_misses() {
    let out = eval_cases(
        "# c\nforgot_pin\t密码忘了咋办\nthanks\t电子社保卡密码忘了\nnone\t医保卡怎么激活\n",
    );
    let text = stdout(&out);
    assert!(
        text.contains("in-domain top-1 accuracy: 0.500 (1/2)"),
        "{text}"
    );
    assert!(
        text.contains("out-of-scope rejection:   1.000 (1/1)"),
        "{text}"
    );
    assert!(
        text.contains("cases.tsv:3: case `电子社保卡密码忘了` expected thanks"),
        "{text}"
    );
}

#[test]
fn eval_names_the_boundary_that_several_misses_cross() {
    // Two forgetting questions labelled as thanks go the same wrong way: one boundary line, counted twice.
    let out = eval_cases(
        "thanks\t电子社保卡密码忘了\nthanks\t忘记电子社保卡密码怎么办\nforgot_pin\t密码忘了咋办\n",
    );
    let text = stdout(&out);
    assert!(text.contains("where the entries' lines blur"), "{text}");
    assert!(
        text.contains("    2  thanks -> answer forgot_pin\n"),
        "{text}"
    );
}

#[test]
fn the_entry_offered_under_an_answer_counts_as_one_tap_and_ask_json_names_it() {
    // A lost PIN and 网点 lean to the offline reset, which answers; the in-app reset is offered as one
    // more button.
    let out = eval_cases("forgot_pin\t密码丢了网点能弄吗\n");
    let text = stdout(&out);
    assert!(
        text.contains("in-domain top-1 accuracy: 0.000 (0/1)"),
        "{text}"
    );
    assert!(
        text.contains("answered or offered in one tap: 1.000 (of 1 in scope)"),
        "{text}"
    );
    assert!(
        text.contains("another entry offered under 1 of 1 answers; the right one for 1"),
        "{text}"
    );
    let out = shebao(&["ask", "--json", "密码丢了网点能弄吗"], "");
    assert!(
        stdout(&out).contains("\"also\":\"forgot_pin\""),
        "{}",
        stdout(&out)
    );
    let out = shebao(&["ask", "--json", "怎么修改密码"], "");
    assert!(!stdout(&out).contains("\"also\""), "{}", stdout(&out));
}

/// Each line holds a secret in one script, with the digit runs that must appear in no output.
const SECRETS: [(&str, &[&str]); 10] = [
    (
        "身份证１１０１０５１９４９１２３１００２Ｘ能查吗",
        &["１１０１０５１９４９１２３１００２", "11010519491231002"],
    ),
    (
        "手机一三九一二三四五六七八换了",
        &["一三九一二三四五六七八", "13912345678"],
    ),
    (
        "我的卡号6222 0212 3456 7890 123怎么办",
        &["6222 0212 3456 7890 123", "6222021234567890123", "7890"],
    ),
    ("我的密码是123456怎么改", &["123456"]),
    ("密码１３５７９０忘了怎么办", &["135790", "１３５７９０"]),
    ("我的密码是一二三四五六对吗", &["一二三四五六", "123456"]),
    ("密码 2 4 6 8 1 3 被锁了怎么办", &["2 4 6 8 1 3", "246813"]),
    (
        "手机号139 1234 5678换了怎么重置",
        &["139 1234 5678", "13912345678"],
    ),
    (
        "身份证11010519491231002X能查密码吗",
        &["11010519491231002", "002X"],
    ),
    ("验证码 8 8 6 6 2 1 填哪", &["8 8 6 6 2 1", "886621"]),
];

#[test]
fn ask_shows_no_digit_of_a_secret_in_any_script_in_any_output() {
    let questions: String = SECRETS.iter().map(|(q, _)| format!("{q}\n")).collect();
    for args in [
        &["ask", "--json"][..],
        &["ask", "--json", "--explain"],
        &["ask", "--explain"],
        &["ask"],
    ] {
        let out = shebao(args, &questions);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        for (question, digits) in SECRETS {
            for d in digits {
                assert!(
                    !text.contains(d),
                    "{args:?}: `{d}` of {question} in:\n{text}"
                );
            }
        }
        if args.contains(&"--json") {
            let lines = json_lines(&text);
            assert_eq!(lines.len(), SECRETS.len());
            for v in &lines {
                assert!(v["question"].as_str().unwrap().contains("******"), "{v}");
                assert!(!v["secrets"].as_array().unwrap().is_empty(), "{v}");
            }
        }
    }
    // The same on the command line (one question, not stdin).
    let out = shebao(&["ask", "--json", "--explain", SECRETS[4].0], "");
    assert!(!stdout(&out).contains("１３５７９０") && !stdout(&out).contains("135790"));
}

#[test]
fn ask_matches_the_masked_question_as_the_conversation_does() {
    // The conversation masks the number and answers the rest; `ask` must say the same.
    let out = shebao(&["ask", "--json", "用123456当密码可以吗"], "");
    let v = &json_lines(&stdout(&out))[0];
    assert_eq!(v["question"], "用******当密码可以吗");
    assert_eq!(v["decision"], "answer", "{v}");
    // A message that only hands over a secret gets the warning, and `ask` says why nothing is answered.
    let out = shebao(&["ask", "--json", "我的密码是123456"], "");
    let v = &json_lines(&stdout(&out))[0];
    assert_eq!(v["reason"]["code"], "secret_withheld", "{v}");
    assert!(v["answer"].as_str().unwrap().contains("⚠️"), "{v}");
}

#[test]
fn a_fallback_has_no_score_and_lists_the_out_of_scope_topic_among_the_candidates() {
    let out = shebao(&["ask", "--json", "医保卡怎么激活"], "");
    let v = &json_lines(&stdout(&out))[0];
    assert_eq!(v["decision"], "fallback");
    assert!(v["score"].is_null(), "{v}");
    assert_eq!(v["reason"]["code"], "out_of_scope");
    assert!(
        v["reason"]["text"]
            .as_str()
            .unwrap()
            .starts_with("转人工，因为最接近的是"),
        "{v}"
    );
    let topic = &v["candidates"][0];
    assert_eq!(topic["kind"], "out_of_scope", "{v}");
    assert_eq!(topic["id"], "out_of_scope:medical_insurance");
    assert!(topic["score"].as_f64().is_some());
    assert!(
        v["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "entry"),
        "{v}"
    );
}

#[test]
fn explain_has_a_legend_and_ends_with_one_plain_sentence_for_each_decision() {
    let questions =
        "电子社保卡密码忘了怎么办\n医保卡怎么激活\n明天会下雨吗\n😀\n我的密码是123456\n";
    let out = shebao(&["ask", "--explain"], questions);
    let text = stdout(&out);
    for block in text.split("\n> ") {
        assert!(block.contains("legend: score = "), "{block}");
        let last = block.trim_end().lines().last().unwrap();
        assert!(
            ["答了 ", "反问", "转人工，因为", "没有作答，因为"]
                .iter()
                .any(|start| last.starts_with(start)),
            "{last}"
        );
        assert!(last.ends_with('。'), "{last}");
    }
    insta::assert_snapshot!(without_scores(&text));
}

/// `digits` written in one of the scripts citizens type: ASCII, full-width, Chinese numerals, or any
/// of them with spaces between the digits.
fn written(digits: &str, script: u8) -> String {
    const CHINESE: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    let chars = digits.chars().map(|d| {
        let n = d.to_digit(10).unwrap() as usize;
        match script % 3 {
            0 => d,
            1 => char::from_u32(0xFF10 + n as u32).unwrap(),
            _ => CHINESE[n],
        }
    });
    let sep = if script >= 3 { " " } else { "" };
    chars.map(String::from).collect::<Vec<_>>().join(sep)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

    #[test]
    fn ask_json_never_holds_a_pin_or_phone_number_in_any_script(
        pin in "[0-9]{6}",
        phone in "1[3-9][0-9]{9}",
        script in 0u8..6,
        template in 0usize..4,
    ) {
        let kb = crate::helpers::shipped();
        let secret = if template % 2 == 0 { pin.clone() } else { phone.clone() };
        let typed = written(&secret, script);
        let question = [
            format!("我的密码是{typed}怎么改"),
            format!("手机号{typed}换了怎么重置"),
            format!("{typed}这个密码忘了怎么办"),
            format!("我的手机{typed}收不到验证码"),
        ][template]
            .clone();
        let mut out = Vec::new();
        let opts = shebao::cli::ask::Options { explain: true, json: true };
        shebao::cli::ask::one(&kb, &question, opts, &mut out).unwrap();
        let json = String::from_utf8(out).unwrap();
        proptest::prop_assert!(!json.contains(&typed), "{typed} in {json}");
        proptest::prop_assert!(!json.contains(&secret), "{secret} in {json}");
    }
}

#[test]
fn eval_folds_cross_validates_the_knowledge_in_three_lines_peer_py_can_show() {
    let out = shebao(&["eval", "--folds", "10"], "");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().take(3).collect();
    assert!(lines[0].starts_with("in-domain top-1 accuracy:"), "{text}");
    assert!(lines[1].starts_with("out-of-scope rejection:"), "{text}");
    assert!(
        lines[2].starts_with("overall:") && lines[2].contains("wrong answers"),
        "{text}"
    );
    let kb = crate::helpers::shipped();
    let eval = kb.cross_validate(10);
    let topic_questions: usize = kb.topics.iter().map(|t| t.questions.len()).sum();
    assert_eq!(eval.in_domain, kb.question_count());
    assert_eq!(eval.out_of_scope, topic_questions);
    // Each miss names the line its question stands on, in either file, so an editor can go to it.
    let faq = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/faq.yaml"))
        .unwrap();
    let topics = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/knowledge/out_of_scope.yaml"
    ))
    .unwrap();
    assert!(
        eval.misses
            .iter()
            .any(|m| m.case.file == "out_of_scope.yaml")
    );
    for miss in &eval.misses {
        let file = if miss.case.file == "faq.yaml" {
            &faq
        } else {
            &topics
        };
        let line = file.lines().nth(miss.case.line - 1).unwrap_or_default();
        assert!(
            line.contains(miss.case.question.as_str()),
            "{}:{} is `{line}`, not `{}`",
            miss.case.file,
            miss.case.line,
            miss.case.question
        );
    }
}

#[test]
fn the_shipped_calibration_fits_the_shipped_knowledge_as_well_as_a_refit_would() {
    // The confidence that decides between answering and asking back was fitted on this knowledge's
    // cross-validation; after the knowledge changed much, `eval --folds 10 --calibrate` gives new weights.
    let kb = crate::helpers::shipped();
    let (fitted, samples) = kb.fit_calibration(10);
    let shipped = shebao::matcher::calibration::log_loss(&shebao::matcher::CALIBRATION, &samples);
    let refit = shebao::matcher::calibration::log_loss(&fitted, &samples);
    assert!(
        shipped - refit < 0.01,
        "the shipped calibration's log-loss is {shipped:.3}, a refit's {refit:.3}: run `shebao eval --folds 10 --calibrate` and update CALIBRATION to {fitted}"
    );
    let out = shebao(&["eval", "--folds", "10", "--calibrate"], "");
    let text = stdout(&out);
    assert!(text.contains("  shipped: bias "), "{text}");
    assert!(text.contains(&format!("  fitted : {fitted}")), "{text}");
}
