//! `shebao chat` in a terminal: numbered options, state kept in `--db` across runs, kills and second processes.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::helpers::{shebao, stderr, stdout, without_scores};

fn chat(db: &std::path::Path, input: &str) -> String {
    let out = shebao(&["chat", "--db", db.to_str().unwrap()], input);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// A `shebao chat` process with piped stdin and stdout, left running.
fn spawn_chat(db: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_shebao"))
        .args(["chat", "--db", db.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn options_are_printed_as_numbered_lines_and_numbers_choose_them() {
    let db = tempfile::tempdir().unwrap();
    let text = chat(db.path(), "/reset\n1\n1\n1\n");
    assert!(text.contains("[1] 好，开始\n[2] 先不用了"), "{text}");
    assert!(text.contains("[1] 微信\n[2] 支付宝"), "{text}");
    assert!(text.contains("第2步"), "{text}");
}

#[test]
fn a_store_url_names_the_same_database_as_db_and_memory_forgets_at_exit() {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sled:{}", db.path().display());
    let out = shebao(&["chat", "--store", &url], "/reset\n1\n");
    assert!(out.status.success(), "{}", stderr(&out));
    // The same directory by --db continues the flow the URL started.
    assert!(chat(db.path(), "1\n").contains("第1步"), "continued");
    let first = shebao(&["chat", "--store", "memory:"], "/reset\n1\n");
    let second = shebao(&["chat", "--store", "memory:"], "1\n");
    assert!(stdout(&first).contains("[1] 微信"), "{}", stdout(&first));
    assert!(
        !stdout(&second).contains("第1步"),
        "a new process starts afresh"
    );
}

#[test]
fn the_same_inputs_split_across_two_runs_end_with_the_same_output() {
    let whole = tempfile::tempdir().unwrap();
    let split = tempfile::tempdir().unwrap();
    let once = chat(whole.path(), "/reset\n1\n1\n1\n");
    let first = chat(split.path(), "/reset\n1\n");
    let second = chat(split.path(), "1\n1\n");
    assert_eq!(format!("{first}{second}"), once);
}

#[test]
fn a_chat_killed_mid_flow_continues_at_the_same_step() {
    let whole = tempfile::tempdir().unwrap();
    let expected = chat(whole.path(), "/reset\n1\n1\n1\n");

    let db = tempfile::tempdir().unwrap();
    let mut child = spawn_chat(db.path());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"/reset\n1\n").unwrap();
    stdin.flush().unwrap();
    // Read until the app menu is on screen: the state behind it was flushed before it was printed.
    let mut seen = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while !seen.contains("[7] 不确定") {
        seen.push_str(&lines.next().expect("chat ended early").unwrap());
        seen.push('\n');
    }
    child.kill().unwrap(); // SIGKILL: no clean shutdown
    child.wait().unwrap();
    drop(stdin);

    let rest = chat(db.path(), "1\n1\n");
    assert!(
        expected.ends_with(&rest),
        "after the kill:\n{rest}\nexpected the end of:\n{expected}"
    );
    assert!(rest.contains("第2步"), "{rest}");
}

#[test]
fn a_second_process_on_the_same_database_gets_a_clear_error() {
    let db = tempfile::tempdir().unwrap();
    let mut first = spawn_chat(db.path());
    // Once the first process has answered, it holds the database.
    let mut stdin = first.stdin.take().unwrap();
    stdin.write_all(b"/help\n").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    BufReader::new(first.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();

    let second = shebao(&["chat", "--db", db.path().to_str().unwrap()], "你好\n");
    assert!(!second.status.success());
    let err = stderr(&second);
    assert!(err.contains("is in use by another shebao process"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    drop(stdin);
    first.wait().unwrap();
}

#[test]
fn a_store_dropped_mid_flow_reopens_and_continues_identically() {
    use shebao::dialogue::{Input, State, step};
    use shebao::session::{self, Incoming, Message, Rules};
    use shebao::store::{SledStore, Store};
    let kb = crate::helpers::shipped();
    let inputs = [
        Input::Text("/reset".into()),
        Input::Choice { menu: 1, index: 0 },
        Input::Choice { menu: 2, index: 1 },
        Input::Choice { menu: 3, index: 0 },
    ];
    let mut uninterrupted = State::default();
    let mut expected = Vec::new();
    for input in inputs.iter().cloned() {
        let (state, replies, _) = step(&kb, uninterrupted, input, 100);
        uninterrupted = state;
        expected.push(replies);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut got = Vec::new();
    for input in inputs.iter().cloned() {
        // A new store for every message; the previous one is dropped with no shutdown.
        let store = SledStore::open(dir.path()).unwrap();
        let incoming = match input {
            Input::Text(text) => Incoming::Text {
                message: None,
                text,
            },
            Input::Choice { menu, index } => Incoming::Button {
                message: None,
                menu,
                index,
            },
            Input::Command(_) => unreachable!(),
        };
        let message = Message {
            chat: 7,
            update: None,
            incoming,
        };
        let turn = runtime
            .block_on(session::commit(
                &store,
                &kb,
                &message,
                Rules::default(),
                100_000,
            ))
            .unwrap();
        runtime.block_on(store.sync()).unwrap();
        got.push(turn.replies);
    }
    assert_eq!(got, expected);
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(
        runtime.block_on(store.load(7)).unwrap().state,
        uninterrupted
    );
}

#[test]
fn an_old_or_damaged_state_is_reset_with_a_note() {
    let db = tempfile::tempdir().unwrap();
    {
        let store = shebao::store::SledStore::open(db.path()).unwrap();
        store
            .put_raw(shebao::cli::chat::TERMINAL_CHAT, b"\x00legacy bytes")
            .unwrap();
    }
    let text = chat(db.path(), "你好\n");
    assert!(
        text.starts_with(shebao::dialogue::texts::STATE_RESET),
        "{text}"
    );
}

#[test]
fn chat_json_prints_one_object_per_reply_to_follow_a_whole_conversation() {
    let db = tempfile::tempdir().unwrap();
    let out = shebao(
        &["chat", "--json", "--db", db.path().to_str().unwrap()],
        "电子社保卡密码忘了\n1\n1\n2\n我的密码是123456\n医保卡怎么激活\n/cancel\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("123456"), "{text}");
    let replies: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let kinds = [
        "text",
        "choices",
        "delete_user_message",
        "forget_chat",
        "record",
    ];
    for r in &replies {
        assert!(kinds.contains(&r["kind"].as_str().unwrap()), "{r}");
        assert!(
            r["turn"].as_u64().is_some_and(|t| (1..=7).contains(&t)),
            "{r}"
        );
    }
    // The answer names its entry, and the record says the same.
    let answer = replies.iter().find(|r| r["entry"].is_string()).unwrap();
    assert_eq!(answer["entry"], "forgot_pin");
    assert_eq!(answer["turn"], 1);
    assert!(
        replies
            .iter()
            .any(|r| r["record"]["Answered"]["entry"] == "forgot_pin"),
        "{text}"
    );
    // A flow step names the flow and the step, with its buttons.
    let steps: Vec<&serde_json::Value> = replies.iter().filter(|r| r["step"].is_string()).collect();
    assert!(steps.len() >= 3, "{text}");
    assert!(
        steps
            .iter()
            .all(|r| r["flow"] == "reset_pin" && r["options"].is_array())
    );
    // The secret: deleted, warned, recorded without the digits.
    assert!(
        replies
            .iter()
            .any(|r| r["kind"] == "delete_user_message" && r["turn"] == 5)
    );
    assert!(replies.iter().any(|r| r["record"] == "SecretIntercepted"));
    // The fallback is recorded for the staff with the topic that caused it.
    assert!(
        replies
            .iter()
            .any(|r| r["record"]["Unanswered"]["top"] == "out_of_scope:medical_insurance"),
        "{text}"
    );
    insta::assert_snapshot!(without_scores(&text));
}

#[test]
fn a_citizen_who_types_instead_of_tapping_gets_through_the_terminal_chat() {
    let db = tempfile::tempdir().unwrap();
    let typed = [
        "支付宝上社保卡密码忘了",
        "一步步重置",
        "好",
        "好了",
        "刷脸刷不过去",
        "返回",
        "嗯",
        "１",
        "算了",
        "今天天气怎么样啊",
        "明天呢",
        "找人工",
        "怎么修改密码",
        "👎",
    ];
    let text = chat(db.path(), &format!("{}\n", typed.join("\n")));
    assert!(text.contains("您说用的是支付宝"), "{text}");
    assert!(text.contains("刷脸不过，可以试试"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with('[') && l.ends_with("] 找人工")),
        "the fallbacks lead on\n{text}"
    );
    insta::assert_snapshot!(text);
}
