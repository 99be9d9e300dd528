//! `shebao ask` for support staff: which answer, what score, why; one JSON object per line in batch.

use crate::helpers::{KnowledgeDir, shebao, stderr, stdout};

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
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.tsv");
    std::fs::write(
        &file,
        "# c\nforgot_pin\t密码忘了咋办\nthanks\t电子社保卡密码忘了\nnone\t医保卡怎么激活\n",
    )
    .unwrap();
    let out = shebao(&["eval", file.to_str().unwrap()], "");
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
}
