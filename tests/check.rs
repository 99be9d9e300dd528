//! `shebao check`: every rule reports `file:line: message`, all problems at once, exit status 1.

use crate::helpers::{KnowledgeDir, eval_cases, shebao, stderr, stdout, without_scores};

fn check(dir: &KnowledgeDir) -> (bool, String) {
    let out = shebao(&["check", "--knowledge", dir.path().to_str().unwrap()], "");
    (out.status.success(), stdout(&out))
}

fn faq(dir: &KnowledgeDir) -> String {
    dir.file("faq.yaml").display().to_string()
}

#[test]
fn the_shipped_knowledge_passes_check() {
    let out = shebao(&["check"], "");
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let summary = text.lines().last().unwrap();
    assert!(summary.contains("20 entries"), "{summary}");
    assert!(summary.contains(", 0 problems, "), "{summary}");
    assert!(
        summary.ends_with(" warnings") || summary.ends_with(" warning"),
        "{summary}"
    );
}

#[test]
fn a_copy_of_the_shipped_knowledge_passes_check_too() {
    let dir = KnowledgeDir::shipped();
    let (ok, text) = check(&dir);
    assert!(ok, "{text}");
}

#[test]
fn a_yaml_syntax_error_names_the_file_and_line() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "  - id: pin_format\n",
        "  - id: pin_format\n   questions: [oops\n",
    );
    let line = dir.line_of("faq.yaml", "[oops");
    let (ok, text) = check(&dir);
    assert!(!ok);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with(&format!("{}:", faq(&dir))), "{text}");
    assert!(first.contains("YAML"), "{text}");
    let reported: usize = first.split(':').nth(1).unwrap().parse().unwrap();
    assert!(
        (line..=line + 2).contains(&reported),
        "line {reported}, expected near {line}: {text}"
    );
}

#[test]
fn a_duplicate_id_names_the_file_and_both_lines() {
    let dir = KnowledgeDir::shipped();
    dir.replace("faq.yaml", "  - id: pin_format\n", "  - id: set_pin\n");
    let first = dir.line_of("faq.yaml", "  - id: set_pin");
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.lines().any(|l| l.starts_with(&faq(&dir))
            && l.contains("duplicate id `set_pin`")
            && l.contains(&format!("first used at line {first}"))),
        "{text}"
    );
}

#[test]
fn an_answer_that_asks_for_the_pin_is_rejected() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "    answer: |\n      电子社保卡密码是一组6位数字",
        "    answer: |\n      请输入您的密码，我帮您查一下。\n      电子社保卡密码是一组6位数字",
    );
    let line = dir.line_of("faq.yaml", "请输入您的密码");
    let (ok, text) = check(&dir);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: answer of `what_is_pin` asks the user to send their 密码",
        faq(&dir)
    );
    assert!(text.lines().any(|l| l.starts_with(&expected)), "{text}");
}

#[test]
fn answers_asking_for_codes_or_id_numbers_are_rejected_too() {
    for request in [
        "把验证码发给我就行。",
        "告诉我您的身份证号。",
        "请提供银行卡号。",
    ] {
        let dir = KnowledgeDir::shipped();
        dir.replace(
            "faq.yaml",
            "    answer: |\n      电子社保卡密码是一组6位数字",
            &format!("    answer: |\n      {request}\n      电子社保卡密码是一组6位数字"),
        );
        let (ok, text) = check(&dir);
        assert!(!ok, "{request} passed");
        assert!(
            text.contains("the bot must never ask for secrets"),
            "{text}"
        );
    }
}

#[test]
fn an_answer_telling_users_not_to_share_passes() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "    answer: |\n      电子社保卡密码是一组6位数字",
        "    answer: |\n      任何人向您索要密码或验证码，都不要告诉他。\n      电子社保卡密码是一组6位数字",
    );
    let (ok, text) = check(&dir);
    assert!(ok, "{text}");
}

#[test]
fn an_unknown_field_is_reported_at_its_line() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "  - id: pin_format\n",
        "  - id: pin_format\n    answr: typo\n",
    );
    let line = dir.line_of("faq.yaml", "answr: typo");
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains(&format!("{}:{line}: unknown field `answr`", faq(&dir))),
        "{text}"
    );
}

#[test]
fn missing_ids_empty_questions_and_empty_answers_are_all_reported_at_once() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "  - id: pin_format\n",
        "  - questions: [孤儿问题]\n    answer: 没有id\n  - id: pin_format\n",
    );
    dir.replace(
        "faq.yaml",
        "  - id: thanks\n    questions:\n",
        "  - id: thanks\n    questions:\n      - \"  \"\n",
    );
    dir.replace(
        "faq.yaml",
        "  - id: greeting\n",
        "  - id: empty_answer\n    questions: [空回答的问题]\n    answer: \"\"\n  - id: greeting\n",
    );
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(text.contains("missing `id`"), "{text}");
    assert!(
        text.contains("is empty or has no letters or digits"),
        "{text}"
    );
    assert!(text.contains("answer of `empty_answer` is empty"), "{text}");
    assert!(
        text.lines().last().unwrap().contains("3 problems"),
        "{text}"
    );
}

#[test]
fn the_same_question_under_two_entries_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "  - id: thanks\n    questions:\n",
        "  - id: thanks\n    questions:\n      - 電子社保卡密碼是什麼\n",
    );
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains("under `thanks` is the same as a question under `what_is_pin`"),
        "{text}"
    );
}

#[test]
fn an_answer_longer_than_telegram_allows_is_reported() {
    let dir = KnowledgeDir::shipped();
    let long = "很长的回答。".repeat(700);
    dir.replace(
        "faq.yaml",
        "    answer: |\n      电子社保卡密码是一组6位数字",
        &format!("    answer: |\n      {long}\n      电子社保卡密码是一组6位数字"),
    );
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(text.contains("characters; Telegram allows 4096"), "{text}");
}

#[test]
fn a_failing_regression_case_names_tests_tsv_and_its_line() {
    let dir = KnowledgeDir::shipped();
    let mut tests = dir.read("tests.tsv");
    tests.push_str("greeting\t电子社保卡密码忘了怎么办\n");
    dir.write("tests.tsv", &tests);
    let line = tests.lines().count();
    let (ok, text) = check(&dir);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: case `电子社保卡密码忘了怎么办` expected greeting, got answer forgot_pin",
        dir.file("tests.tsv").display()
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn a_case_naming_an_unknown_entry_is_reported() {
    let dir = KnowledgeDir::shipped();
    let mut tests = dir.read("tests.tsv");
    tests.push_str("no_such_entry\t随便问问\n");
    dir.write("tests.tsv", &tests);
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains("case names unknown entry `no_such_entry`"),
        "{text}"
    );
}

#[test]
fn a_removed_required_entry_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.replace("faq.yaml", "  - id: thanks\n", "  - id: thanks_renamed\n");
    let tests: String = dir
        .read("tests.tsv")
        .lines()
        .filter(|l| !l.starts_with("thanks"))
        .map(|l| format!("{l}\n"))
        .collect();
    dir.write("tests.tsv", &tests);
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains("required entry `thanks` is missing"),
        "{text}"
    );
}

#[test]
fn an_unknown_yaml_file_in_the_directory_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.write("faq2.yaml", "entries: []\n");
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains("faq2.yaml:1: unknown knowledge file"),
        "{text}"
    );
}

#[test]
fn a_synonym_in_two_groups_is_reported() {
    let dir = KnowledgeDir::shipped();
    let mut synonyms = dir.read("synonyms.yaml");
    synonyms = synonyms.replacen("groups:\n", "groups:\n  - [锁定, 忘了]\n", 1);
    dir.write("synonyms.yaml", &synonyms);
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(text.contains("is in the groups of both"), "{text}");
}

fn flows(dir: &KnowledgeDir) -> String {
    dir.file("flows.yaml").display().to_string()
}

#[test]
fn a_flow_step_going_to_an_unknown_step_names_flows_yaml_and_the_step() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "flows.yaml",
        "        next: did_it_work\n",
        "        next: did_it_wrok\n",
    );
    let line = dir.line_of("flows.yaml", "- id: wechat_5");
    let (ok, text) = check(&dir);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: flow `reset_pin`, step `wechat_5`: `next` goes to unknown step `did_it_wrok`",
        flows(&dir)
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn a_one_character_keyword_or_keywords_on_a_button_that_leaves_are_refused() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "flows.yaml",
        "            keywords: [闪退,",
        "            keywords: [卡, 闪退,",
    );
    dir.replace(
        "flows.yaml",
        "          - label: 先不用了\n            goto: \"@end\"\n",
        "          - label: 先不用了\n            goto: \"@end\"\n            keywords: [不想弄]\n",
    );
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains(
            "step `problems`: option `其他问题`: keyword `卡` is shorter than 2 characters"
        ),
        "{text}"
    );
    assert!(
        text.contains("step `intro`: option `先不用了` has keywords but goes to `@end`"),
        "{text}"
    );
}

#[test]
fn an_unreachable_flow_step_names_flows_yaml_and_the_step() {
    let dir = KnowledgeDir::shipped();
    let mut text = dir.read("flows.yaml");
    text.push_str("      - id: orphan\n        text: 没有按钮通向这里。\n        options:\n          - label: 退出\n            goto: \"@end\"\n");
    dir.write("flows.yaml", &text);
    let line = dir.line_of("flows.yaml", "- id: orphan");
    let (ok, out) = check(&dir);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: flow `reset_pin`, step `orphan`: is unreachable from the start step `intro`",
        flows(&dir)
    );
    assert!(out.contains(&expected), "{out}");
}

#[test]
fn a_flow_step_with_no_way_out_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "flows.yaml",
        "          - label: 好的，谢谢\n            goto: \"@end\"\n",
        "          - label: 好的，谢谢\n            goto: success_tips\n",
    );
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains("step `success_tips`: has no way out"),
        "{text}"
    );
}

#[test]
fn a_flow_label_too_long_for_a_button_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "flows.yaml",
        "label: 好的，谢谢\n",
        "label: 好的，谢谢，这个按钮上的字实在是太长太长了\n",
    );
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(text.contains("a button takes 1 to 16"), "{text}");
}

#[test]
fn a_flow_step_asking_for_the_code_is_rejected() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "flows.yaml",
        "          太好了！",
        "          请把验证码发给我核对。太好了！",
    );
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains("step `success_tips`: text asks the user to send their 验证码"),
        "{text}"
    );
}

#[test]
fn an_entry_offering_an_unknown_flow_is_reported_at_the_entry() {
    let dir = KnowledgeDir::shipped();
    dir.replace("faq.yaml", "    flow: reset_pin\n", "    flow: reset_pni\n");
    let (ok, text) = check(&dir);
    assert!(!ok);
    // The entry is the `- id:` line above its `flow:` line.
    let faq_text = dir.read("faq.yaml");
    let lines: Vec<&str> = faq_text.lines().collect();
    let flow_line = dir.line_of("faq.yaml", "flow: reset_pni");
    let entry_line = (1..flow_line)
        .rev()
        .find(|&n| lines[n - 1].starts_with("  - id: "))
        .unwrap();
    let id = lines[entry_line - 1].trim_start_matches("  - id: ");
    let expected = format!(
        "{}:{entry_line}: entry `{id}` offers flow `reset_pni`, which flows.yaml does not define",
        faq(&dir)
    );
    assert!(text.lines().any(|l| l == expected), "{expected}\n{text}");
}

#[test]
fn a_flow_starting_at_an_unknown_step_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.replace("flows.yaml", "    start: intro\n", "    start: intr0\n");
    let line = dir.line_of("flows.yaml", "start: intr0");
    let (ok, text) = check(&dir);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: flow `reset_pin`: start step `intr0` does not exist",
        flows(&dir)
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn a_flow_naming_an_unknown_problems_step_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "flows.yaml",
        "    problems: problems\n",
        "    problems: problemz\n",
    );
    let line = dir.line_of("flows.yaml", "problems: problemz");
    let (ok, text) = check(&dir);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: flow `reset_pin`: problems step `problemz` does not exist",
        flows(&dir)
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn a_button_going_to_an_unknown_step_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.replace("flows.yaml", "goto: choose_app\n", "goto: choose_ap\n");
    let line = dir.line_of("flows.yaml", "- id: intro");
    let (ok, text) = check(&dir);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: flow `reset_pin`, step `intro`: option `好，开始` goes to unknown step `choose_ap`",
        flows(&dir)
    );
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn knowledge_without_the_reset_flow_is_reported() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "flows.yaml",
        "  - id: reset_pin\n",
        "  - id: reset_pin_v2\n",
    );
    let faq_text = dir.read("faq.yaml");
    dir.write(
        "faq.yaml",
        &faq_text.replace("    flow: reset_pin\n", "    flow: reset_pin_v2\n"),
    );
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains("flows.yaml:1: required flow `reset_pin` is missing (/reset starts it)"),
        "{text}"
    );
}

#[test]
fn a_question_nearly_the_same_as_another_entrys_is_a_warning_naming_both_entries() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "  - id: thanks\n    questions:\n",
        "  - id: thanks\n    questions:\n      - 电子社保卡的密码到底是个啥东西呀\n",
    );
    let line = dir.line_of("faq.yaml", "- 电子社保卡的密码到底是个啥东西呀");
    let (ok, text) = check(&dir);
    assert!(ok, "warnings must not fail check: {text}");
    let expected = format!(
        "{}:{line}: warning: question `电子社保卡的密码到底是个啥东西呀` of `thanks` is closer to `what_is_pin` (via `",
        faq(&dir)
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&expected) && l.ends_with("the matcher may confuse them")),
        "{text}"
    );
}

#[test]
fn an_entry_cut_to_two_questions_is_a_warning_at_the_entry() {
    let dir = KnowledgeDir::shipped();
    let text = dir.read("faq.yaml");
    let start = text.find("  - id: thanks\n    questions:\n").unwrap();
    let questions = start + "  - id: thanks\n    questions:\n".len();
    let answer = questions + text[questions..].find("    answer:").unwrap();
    let kept: String = text[questions..answer]
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    dir.write(
        "faq.yaml",
        &format!("{}{kept}{}", &text[..questions], &text[answer..]),
    );
    // Its regression cases may no longer pass with two questions; that is not what this test is about.
    let tests: String = dir
        .read("tests.tsv")
        .lines()
        .filter(|l| !l.starts_with("thanks"))
        .map(|l| format!("{l}\n"))
        .collect();
    dir.write("tests.tsv", &tests);
    let line = dir.line_of("faq.yaml", "  - id: thanks");
    let (ok, out) = check(&dir);
    assert!(ok, "warnings must not fail check: {out}");
    let expected = format!(
        "{}:{line}: warning: entry `thanks` has only 2 question(s); add alternates the way citizens write, so the matcher can generalise",
        faq(&dir)
    );
    assert!(out.lines().any(|l| l == expected), "{out}");
}

/// Makes the (last) `thanks` answer give app steps without 12333 or the office. Answers are not
/// indexed, so no other warning changes.
fn give_thanks_app_steps_without_a_way_out(dir: &KnowledgeDir) {
    let text = dir.read("faq.yaml");
    let thanks = text.find("  - id: thanks\n").unwrap();
    let answer = thanks + text[thanks..].find("    answer: |\n").unwrap();
    // The answer runs to the next entry, or to the end of the file.
    let end = text[answer..]
        .find("\n  - id: ")
        .map_or(text.len(), |i| answer + i + 1);
    dir.write(
        "faq.yaml",
        &format!(
            "{}    answer: |\n      不客气！想改密码的话：\n      1. 在App里点击「我的」；\n      2. 点「修改密码」，按提示操作。\n\n{}",
            &text[..answer],
            &text[end..]
        ),
    );
}

#[test]
fn an_answer_with_app_steps_and_no_way_out_is_a_warning_at_the_answer() {
    let dir = KnowledgeDir::shipped();
    give_thanks_app_steps_without_a_way_out(&dir);
    let line = dir.line_of("faq.yaml", "不客气！想改密码的话") - 1;
    let (ok, out) = check(&dir);
    assert!(ok, "warnings must not fail check: {out}");
    let expected = format!(
        "{}:{line}: warning: answer of `thanks` gives app steps but never mentions 12333 or the local office",
        faq(&dir)
    );
    assert!(out.lines().any(|l| l.starts_with(&expected)), "{out}");
}

#[test]
fn problems_come_before_warnings_and_only_problems_fail_check() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "  - id: thanks\n    questions:\n",
        "  - id: thanks\n    questions:\n      - 电子社保卡的密码到底是个啥东西呀\n",
    );
    let mut tests = dir.read("tests.tsv");
    tests.push_str("greeting\t电子社保卡密码忘了怎么办\n");
    dir.write("tests.tsv", &tests);
    let (ok, text) = check(&dir);
    assert!(!ok, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let last_problem = lines
        .iter()
        .rposition(|l| !l.contains(": warning: "))
        .unwrap();
    let first_warning = lines
        .iter()
        .position(|l| l.contains(": warning: "))
        .unwrap();
    assert_eq!(
        last_problem,
        lines.len() - 1,
        "the summary comes last: {text}"
    );
    assert!(
        lines[..first_warning]
            .iter()
            .all(|l| l.contains("tests.tsv:")),
        "{text}"
    );
    let summary = lines[lines.len() - 1];
    assert!(summary.contains(", 1 problem, "), "{summary}");
}

/// `check`'s output with the scratch directory written `DIR`, for snapshots.
fn in_dir(dir: &KnowledgeDir, text: &str) -> String {
    text.replace(dir.path().to_str().unwrap(), "DIR")
}

#[test]
fn a_tab_in_faq_yaml_is_one_problem_at_its_line_and_nothing_follows_from_it() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "faq.yaml",
        "  - id: pin_format\n    questions:\n      - ",
        "  - id: pin_format\n    questions:\n\t- ",
    );
    let line = dir.line_of("faq.yaml", "\t- ");
    let (ok, text) = check(&dir);
    assert!(!ok);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "one problem and the summary: {text}");
    assert!(
        lines[0].starts_with(&format!(
            "{}:{line}: YAML: this line is indented with a tab",
            faq(&dir)
        )),
        "{text}"
    );
    assert!(!text.contains("tests.tsv"), "{text}");
    insta::assert_snapshot!(in_dir(&dir, &text));
}

#[test]
fn a_bad_indent_is_reported_at_the_line_that_has_it() {
    let dir = KnowledgeDir::shipped();
    let text = dir.read("faq.yaml");
    let at = text.find("  - id: pin_format\n").unwrap();
    let answer = at + text[at..].find("\n    answer:").unwrap() + 1;
    dir.write(
        "faq.yaml",
        &format!("{}   {}", &text[..answer], &text[answer + 4..]),
    );
    let line = text[..answer].lines().count() + 1;
    let (ok, out) = check(&dir);
    assert!(!ok);
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "{}:{line}: YAML: this line is indented by 3 spaces",
            faq(&dir)
        )),
        "{out}"
    );
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn a_broken_flows_yaml_is_not_blamed_on_every_entry_offering_a_flow() {
    let dir = KnowledgeDir::shipped();
    dir.replace("flows.yaml", "flows:\n", "flows:\n\t");
    let (ok, out) = check(&dir);
    assert!(!ok);
    assert!(!out.contains("which flows.yaml does not define"), "{out}");
    assert!(out.lines().next().unwrap().contains("flows.yaml:"), "{out}");
}

#[test]
fn a_test_case_without_an_expected_id_is_an_error_at_its_line() {
    let dir = KnowledgeDir::shipped();
    let mut tests = dir.read("tests.tsv");
    tests.push_str("\t社保卡密码找回要带什么\n");
    dir.write("tests.tsv", &tests);
    let line = dir.line_of("tests.tsv", "社保卡密码找回要带什么");
    let (ok, out) = check(&dir);
    assert!(!ok, "{out}");
    let expected = format!(
        "{}:{line}: no expected id before the TAB",
        dir.file("tests.tsv").display()
    );
    assert!(out.lines().any(|l| l.starts_with(&expected)), "{out}");
}

#[test]
fn with_a_baseline_check_shows_only_the_warnings_a_change_caused_even_after_lines_moved() {
    let dir = KnowledgeDir::shipped();
    let k = dir.path().to_str().unwrap();
    let written = shebao(&["check", "--knowledge", k, "--write-baseline"], "");
    assert!(written.status.success(), "{}", stdout(&written));
    let baseline = dir.read("warnings.baseline");
    assert!(
        baseline.lines().any(|l| l.starts_with("faq.yaml: ")),
        "{baseline}"
    );
    assert!(
        !baseline.contains(k),
        "the baseline holds no paths: {baseline}"
    );

    // Nothing new: every warning is known, and none is printed.
    let (ok, out) = check(&dir);
    assert!(ok, "{out}");
    assert!(!out.contains(": warning: "), "{out}");
    assert!(out.trim_end().ends_with("not shown)"), "{out}");
    assert!(out.contains("0 new warnings against "), "{out}");

    // Lines shift (a comment at the top) and an answer (not indexed, so no other warning moves) gets
    // app steps without a way out: only that warning is shown.
    let faq_text = dir.read("faq.yaml");
    dir.write("faq.yaml", &format!("# 编辑说明\n# 第二行\n{faq_text}"));
    give_thanks_app_steps_without_a_way_out(&dir);
    let (ok, out) = check(&dir);
    assert!(ok, "{out}");
    let warnings: Vec<&str> = out.lines().filter(|l| l.contains(": warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{out}");
    assert!(
        warnings[0].contains("answer of `thanks` gives app steps"),
        "{out}"
    );
    assert!(out.contains("1 new warning against "), "{out}");

    // Knowledge that does not load leaves the baseline alone, even when asked to rewrite it.
    let edited = dir.read("faq.yaml");
    dir.replace("faq.yaml", "  - id: pin_format\n", "  - id: set_pin\n");
    let broken = stdout(&shebao(
        &["check", "--knowledge", k, "--write-baseline"],
        "",
    ));
    assert!(broken.contains("warnings not checked"), "{broken}");
    assert_eq!(dir.read("warnings.baseline"), baseline);
    dir.write("faq.yaml", &edited);

    // --all-warnings shows them all again.
    let all = stdout(&shebao(&["check", "--knowledge", k, "--all-warnings"], ""));
    assert!(
        all.lines().filter(|l| l.contains(": warning: ")).count() > 1,
        "{all}"
    );
    insta::assert_snapshot!(without_scores(&in_dir(&dir, &out)));
}

#[test]
fn eval_warns_about_an_unknown_id_and_prints_n_a_for_an_empty_class() {
    let out = eval_cases("forgot_pn\t密码忘了咋办\nforgot_pin\t电子社保卡密码忘了\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "cases.tsv:1: warning: case names unknown entry `forgot_pn` (counted as a miss)"
        ),
        "{err}"
    );
    let text = stdout(&out);
    assert!(text.contains("out-of-scope rejection:   n/a"), "{text}");
    assert!(
        text.contains("in-domain top-1 accuracy: 0.500 (1/2)"),
        "{text}"
    );
}

#[test]
fn an_ambiguous_word_naming_an_unknown_entry_is_reported_at_its_line() {
    let dir = KnowledgeDir::shipped();
    dir.replace(
        "synonyms.yaml",
        "    also_offer: physical_card_pin\n",
        "    also_offer: physical_card\n",
    );
    let line = dir.line_of("synonyms.yaml", "- word: 社保卡");
    let (ok, text) = check(&dir);
    assert!(!ok);
    assert!(
        text.contains(&format!(
            "{}:{line}: ambiguous word `社保卡` names entry `physical_card`, which faq.yaml does not define",
            dir.file("synonyms.yaml").display()
        )),
        "{text}"
    );
}
