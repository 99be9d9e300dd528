//! Keeping the FAQ right while the bot runs: reloads (SIGHUP, a saved file, /reload), the staff's
//! commands, and `shebao unanswered` on the database the bot leaves behind.

use std::sync::Arc;

use shebao::dialogue::texts;
use shebao::knowledge::{FALLBACK_TEXT, parse_cases};
use shebao::live::LiveKnowledge;

use crate::botapi::{BotApi, Call};
use crate::helpers::{KnowledgeDir, shebao, shipped, stderr, stdout};
use crate::telegram::{BinaryBot, Chat, RunningBot, WAIT, assert_no_secret_in};

const STAFF: i64 = 900;

/// A question the shipped knowledge does not answer.
const NEW_QUESTION: &str = "电子社保卡可以坐公交车吗";

/// The entry an editor adds for it, with the citizen's wording among its questions.
const NEW_ENTRY: &str = r#"  - id: transit_ride
    questions:
      - 电子社保卡能乘公交地铁吗？
      - 电子社保卡可以坐公交车吗
      - 坐公交能不能刷电子社保卡
    answer: |
      一些城市的电子社保卡开通了乘车码，可以坐公交、地铁；很多地方还没有开通。
      请在您的电子社保卡App里看看有没有「乘车」功能，以当地公布为准；不清楚可以拨打12333问一问。
"#;

const NEW_ANSWER: &str = "一些城市的电子社保卡开通了乘车码，可以坐公交、地铁；很多地方还没有开通。\n请在您的电子社保卡App里看看有没有「乘车」功能，以当地公布为准；不清楚可以拨打12333问一问。";

fn add_the_new_entry(dir: &KnowledgeDir) {
    dir.replace(
        "faq.yaml",
        "\nentries:\n",
        &format!("\nentries:\n{NEW_ENTRY}"),
    );
}

/// Breaks the YAML of entry `id` (an unclosed list); returns the line of the break.
fn break_entry(dir: &KnowledgeDir, id: &str) -> usize {
    dir.replace(
        "faq.yaml",
        &format!("  - id: {id}\n"),
        &format!("  - id: {id}\n   questions: [oops\n"),
    );
    dir.line_of("faq.yaml", "[oops")
}

/// Texts sent to `chat` that contain `needle`.
fn sent_containing(calls: &[Call], chat: i64, needle: &str) -> usize {
    calls
        .iter()
        .filter(|c| c.method == "sendmessage" && c.succeeded() && c.chat_id() == Some(chat))
        .filter(|c| c.text().is_some_and(|t| t.contains(needle)))
        .count()
}

/// Waits until the staff chat has received `n` messages containing `needle`; returns the last one.
async fn staff_report(api: &BotApi, needle: &str, n: usize) -> String {
    api.wait_until(WAIT, |calls| sent_containing(calls, STAFF, needle) >= n)
        .await;
    api.sent_texts(STAFF)
        .into_iter()
        .rfind(|t| t.contains(needle))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_bot_takes_an_added_entry_on_sighup_and_keeps_the_last_good_version_after_a_broken_edit()
 {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let knowledge = KnowledgeDir::shipped();
    let dir = knowledge.path().to_str().unwrap();
    let bot = BinaryBot::start_with(
        &api,
        db.path(),
        &["--knowledge", dir, "--staff", "900", "--no-watch"],
    );
    let citizen = Chat { api: &api, id: 51 };
    citizen.say(NEW_QUESTION).await;
    assert!(
        citizen.texts().iter().any(|t| t.contains(FALLBACK_TEXT)),
        "{:?}",
        citizen.texts()
    );

    add_the_new_entry(&knowledge);
    bot.signal("-HUP");
    staff_report(&api, "知识库已更新", 1).await;
    citizen.say(NEW_QUESTION).await;
    assert!(
        citizen.texts().contains(&NEW_ANSWER.to_string()),
        "{:?}",
        citizen.texts()
    );

    let line = break_entry(&knowledge, "transit_ride");
    bot.signal("-HUP");
    let report = staff_report(&api, "没有生效", 1).await;
    let faq = knowledge.file("faq.yaml").display().to_string();
    assert!(report.contains(&format!("{faq}:")), "{report}");
    assert!(
        (line..=line + 2).any(|l| report.contains(&format!("{faq}:{l}:"))),
        "the report names the line near {line}: {report}"
    );
    let answers_before = citizen.texts().iter().filter(|t| *t == NEW_ANSWER).count();
    citizen.say(NEW_QUESTION).await;
    let answers_after = citizen.texts().iter().filter(|t| *t == NEW_ANSWER).count();
    assert_eq!(
        answers_after,
        answers_before + 1,
        "the last good version still answers"
    );

    let (status, logs) = bot.terminate();
    assert!(
        status.success(),
        "the bot stays up and stops cleanly: {logs}"
    );
    assert!(logs.contains("knowledge reload refused"), "{logs}");
    assert!(
        logs.contains(&format!("{faq}:")),
        "problems are logged with file:line: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_bot_reloads_by_itself_when_a_knowledge_file_is_saved() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let knowledge = KnowledgeDir::shipped();
    let dir = knowledge.path().to_str().unwrap();
    let bot = BinaryBot::start_with(&api, db.path(), &["--knowledge", dir, "--staff", "900"]);
    let citizen = Chat { api: &api, id: 52 };
    // Once a message is handled, the watcher (set up before polling) is running.
    citizen.say("/help").await;

    add_the_new_entry(&knowledge);
    staff_report(&api, "知识库已更新", 1).await;
    citizen.say(NEW_QUESTION).await;
    assert_eq!(citizen.last_answer(), NEW_ANSWER, "{:?}", citizen.texts());
    let good = knowledge.read("faq.yaml");

    // A broken save is reported, and the bot goes on answering.
    break_entry(&knowledge, "transit_ride");
    staff_report(&api, "没有生效", 1).await;
    citizen.say(NEW_QUESTION).await;
    assert_eq!(citizen.last_answer(), NEW_ANSWER);

    // Putting the good version back settles it, and the staff hear so. This editor saves by writing a
    // temporary file and renaming it over the old one.
    let temporary = knowledge.file("faq.yaml.tmp");
    std::fs::write(&temporary, &good).unwrap();
    std::fs::rename(&temporary, knowledge.file("faq.yaml")).unwrap();
    staff_report(&api, "正在使用的版本一样", 1).await;
    citizen.say(NEW_QUESTION).await;
    assert_eq!(citizen.last_answer(), NEW_ANSWER);
    let (status, logs) = bot.terminate();
    assert!(status.success(), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_from_a_staff_chat_replies_with_the_outcome() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let knowledge = KnowledgeDir::shipped();
    let live = LiveKnowledge::open(Some(knowledge.path())).unwrap();
    let bot = RunningBot::start_with(&api, db.path(), live, &[STAFF]).await;
    let staff = Chat {
        api: &api,
        id: STAFF,
    };
    staff.say("/reload").await;
    assert!(
        staff.last_text().contains("正在使用的版本一样"),
        "{}",
        staff.last_text()
    );
    add_the_new_entry(&knowledge);
    staff.say("/reload").await;
    assert!(
        staff.last_text().contains("知识库已更新"),
        "{}",
        staff.last_text()
    );
    break_entry(&knowledge, "transit_ride");
    staff.say("/reload").await;
    assert!(
        staff.last_text().contains("没有生效"),
        "{}",
        staff.last_text()
    );
    assert!(
        staff.last_text().contains("faq.yaml:"),
        "{}",
        staff.last_text()
    );

    // A reload request from elsewhere (SIGHUP, a saved file) is reported to the staff chats.
    knowledge.write("faq.yaml", &shipped_faq());
    bot.triggers
        .send(shebao::telegram::Trigger::Signal)
        .await
        .unwrap();
    staff_report(&api, "知识库已更新", 2).await;
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reload_on_one_replica_reloads_the_others_sharing_postgresql() {
    let Some(db) = crate::pg::TestDb::create().await else {
        return;
    };
    let (api_a, api_b) = (BotApi::start().await, BotApi::start().await);
    let (files_a, files_b) = (KnowledgeDir::shipped(), KnowledgeDir::shipped());
    let live = |files: &KnowledgeDir| Arc::new(LiveKnowledge::open(Some(files.path())).unwrap());
    let live_b = live(&files_b);
    let a = RunningBot::start_on(&api_a, Arc::new(db.store().await), live(&files_a), &[STAFF]);
    let b = RunningBot::start_on(&api_b, Arc::new(db.store().await), live_b.clone(), &[STAFF]);
    db.wait_for_listeners(2).await;

    // The editors put the new entry on both replicas; the staff reload the one their chat reaches.
    add_the_new_entry(&files_a);
    add_the_new_entry(&files_b);
    let staff = Chat {
        api: &api_a,
        id: STAFF,
    };
    staff.say("/reload").await;
    assert!(
        staff.last_text().contains("知识库已更新"),
        "{}",
        staff.last_text()
    );
    let deadline = std::time::Instant::now() + WAIT;
    while live_b.current().entry("transit_ride").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the other replica never reloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let citizen = Chat {
        api: &api_b,
        id: 53,
    };
    citizen.say(NEW_QUESTION).await;
    assert_eq!(citizen.last_answer(), NEW_ANSWER);
    assert!(
        api_b.sent_texts(STAFF).is_empty(),
        "the staff heard the outcome from the replica they asked, not once per replica"
    );
    a.stop().await;
    b.stop().await;
}

fn shipped_faq() -> String {
    shebao::knowledge::Source::embedded()
        .file("faq.yaml")
        .unwrap()
        .text
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_commands_do_not_exist_outside_staff_chats() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot =
        RunningBot::start_with(&api, db.path(), LiveKnowledge::fixed(shipped()), &[STAFF]).await;
    let citizen = Chat { api: &api, id: 901 };
    for command in ["/why 密码忘了怎么办", "/unanswered", "/reload", "/stats"] {
        citizen.say(command).await;
        assert_eq!(citizen.last_text(), texts::UNKNOWN_COMMAND, "{command}");
    }
    assert_eq!(citizen.texts().len(), 4, "{:?}", citizen.texts());

    let staff = Chat {
        api: &api,
        id: STAFF,
    };
    staff.say("/why 密码忘了怎么办").await;
    let why = staff.last_text();
    assert!(why.starts_with("forgot_pin "), "{why}");
    assert!(
        why.contains("normalised:") && why.contains("candidates:") && why.contains("legend:"),
        "{why}"
    );
    // The same plain sentence as `shebao ask --explain`, last.
    assert!(
        why.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("答了 forgot_pin"),
        "{why}"
    );
    staff.say("/why 医保卡怎么激活").await;
    let why = staff.last_text();
    let last = why.trim_end().lines().last().unwrap().to_string();
    assert!(last.starts_with("转人工，因为最接近的是"), "{why}");
    assert!(
        last.contains("medical_insurance") && last.contains("没有反问"),
        "{why}"
    );

    // Only the staff chat's command menu lists the staff commands.
    let menus = api.calls_of("setmycommands");
    let names = |c: &Call| -> Vec<String> {
        c.params["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["command"].as_str().unwrap().to_string())
            .collect()
    };
    let everyone = menus
        .iter()
        .find(|c| c.params.get("scope").is_none())
        .unwrap();
    assert!(!names(everyone).contains(&"why".to_string()));
    let staff_menu = menus
        .iter()
        .find(|c| c.params["scope"]["chat_id"].as_i64() == Some(STAFF))
        .unwrap();
    assert!(names(staff_menu).contains(&"why".to_string()));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_what_citizens_could_not_get_answered_and_how_the_bot_is_doing() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot =
        RunningBot::start_with(&api, db.path(), LiveKnowledge::fixed(shipped()), &[STAFF]).await;
    let citizen = Chat { api: &api, id: 902 };
    citizen
        .say("我手机13912345678，密码123456，医保卡能报销多少")
        .await;
    citizen.say("電子社保卡密碼忘了怎麼辦").await;
    citizen.say("/reset").await;
    citizen.press("好，开始").await;
    citizen.press("微信").await;
    for _ in 0..5 {
        citizen.press("完成，下一步").await;
    }
    citizen.press("成功了").await;

    let staff = Chat {
        api: &api,
        id: STAFF,
    };
    // The staff's own questions are not counted or kept.
    staff.say("今天天气怎么样").await;
    staff.say("/unanswered").await;
    let list = staff.last_text();
    assert!(list.contains("医保卡能报销多少"), "{list}");
    assert!(list.contains("******"), "{list}");
    assert!(
        !list.contains("13912345678") && !list.contains("123456"),
        "{list}"
    );
    assert!(!list.contains("天气"), "{list}");
    staff.say("/unanswered 1").await;
    let today = staff.last_text();
    assert!(
        today.starts_with("最近 1 天") && today.contains("医保卡能报销多少"),
        "{today}"
    );
    staff.say("/unanswered 七天").await;
    assert!(
        staff.last_text().starts_with("用法"),
        "{}",
        staff.last_text()
    );

    staff.say("/stats").await;
    let stats = staff.last_text();
    for row in [
        "对话（有消息的聊天）：1 / 1",
        "回答：1 / 1",
        "兜底（答不上）：1 / 1",
        "完成一步步重置：1 / 1",
        "拦截密码/验证码/证件号：1 / 1",
    ] {
        assert!(stats.contains(row), "{row} in {stats}");
    }
    bot.stop().await;
    assert_no_secret_in(db.path(), "13912345678");
    assert_no_secret_in(db.path(), "123456");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_marked_not_helpful_are_shown_beside_the_fallbacks_in_stats_unanswered_and_the_cli()
{
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let db_arg = db.path().to_str().unwrap().to_string();
    let bot =
        RunningBot::start_with(&api, db.path(), LiveKnowledge::fixed(shipped()), &[STAFF]).await;
    let citizen = Chat { api: &api, id: 904 };
    citizen.say("密码忘了怎么办").await;
    citizen.press("👎 没帮助").await;
    citizen.say("怎么修改密码").await;
    citizen.press("👍 有帮助").await;
    citizen.say("今天天气怎么样啊").await;

    let staff = Chat {
        api: &api,
        id: STAFF,
    };
    staff.say("/stats").await;
    let stats = staff.last_text();
    for row in [
        "兜底（答不上）：1 / 1",
        "答了但没帮上（👎）：1 / 1",
        "有帮助（👍）：1 / 1",
    ] {
        assert!(stats.contains(row), "{row} in {stats}");
    }
    staff.say("/unanswered").await;
    let list = staff.last_text();
    assert!(list.contains("天气"), "{list}");
    assert!(
        list.contains("答了但没帮上") && list.contains("forgot_pin 1次"),
        "{list}"
    );
    bot.stop().await;

    let table = stdout(&shebao(&["unanswered", "--db", &db_arg], ""));
    assert!(
        table.contains("not helpful") && table.contains("forgot_pin"),
        "{table}"
    );
    let tsv = stdout(&shebao(
        &["unanswered", "--db", &db_arg, "--format", "tsv"],
        "",
    ));
    assert!(tsv.contains("forgot_pin"), "{tsv}");
    // A person fills in the expected ids before pasting.
    let filled: String = tsv
        .lines()
        .map(|l| match l.strip_prefix('\t') {
            Some(question) => format!("none\t{question}\n"),
            None => format!("{l}\n"),
        })
        .collect();
    let (cases, problems) = parse_cases(&filled, "pasted.tsv");
    assert!(problems.is_empty(), "{problems:?}\n{tsv}");
    assert_eq!(
        cases.len(),
        1,
        "only the fallback is a case to paste: {filled}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_bot_stops_shebao_unanswered_lists_a_fallback_question_with_the_phone_number_and_pin_redacted()
 {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let db_arg = db.path().to_str().unwrap().to_string();
    let bot = BinaryBot::start_with(&api, db.path(), &[]);
    let citizen = Chat { api: &api, id: 53 };
    citizen
        .say("我手机13912345678，密码123456，医保卡能报销多少")
        .await;
    citizen
        .say("我手机 139 1234 5678，密码 654321，医保卡能报销多少")
        .await;

    // While the bot holds the database, the command says so and points to the staff command.
    let busy = {
        let db_arg = db_arg.clone();
        tokio::task::spawn_blocking(move || shebao(&["unanswered", "--db", &db_arg], ""))
            .await
            .unwrap()
    };
    assert!(!busy.status.success());
    let err = stderr(&busy);
    assert!(
        err.contains("the bot is running") && err.contains("/unanswered"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let (status, logs) = bot.terminate();
    assert!(status.success(), "{logs}");
    for secret in ["13912345678", "123456", "654321"] {
        assert_no_secret_in(db.path(), secret);
    }

    let table = shebao(&["unanswered", "--db", &db_arg], "");
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(
        text.contains("我手机******，密码******，医保卡能报销多少"),
        "{text}"
    );
    assert!(text.contains("out_of_scope:medical_insurance"), "{text}");
    let row = text.lines().find(|l| l.contains("医保卡")).unwrap();
    assert_eq!(
        row.split_whitespace().next(),
        Some("2"),
        "asked twice: {row}"
    );
    for secret in ["13912345678", "139 1234 5678", "123456", "654321"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    let tsv = stdout(&shebao(
        &["unanswered", "--db", &db_arg, "--format", "tsv"],
        "",
    ));
    // The expected id is left for a person: pasted as it is, the line is an error at its line.
    let (cases, problems) = parse_cases(&tsv, "pasted.tsv");
    assert!(cases.is_empty(), "{tsv}");
    assert_eq!(problems.len(), 1, "{problems:?}\n{tsv}");
    let line = tsv.lines().nth(problems[0].line - 1).unwrap();
    assert_eq!(line, "\t我手机******，密码******，医保卡能报销多少");
    assert!(
        tsv.contains("# the bot: fell back; best candidate out_of_scope:medical_insurance"),
        "{tsv}"
    );
    let (cases, problems) = parse_cases(&tsv.replace("\n\t", "\nnone\t"), "pasted.tsv");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(cases[0].accepted, ["none"]);
    assert_eq!(
        cases[0].question,
        "我手机******，密码******，医保卡能报销多少"
    );
}

#[test]
fn shebao_unanswered_on_a_missing_database_says_where_it_looked() {
    let out = shebao(&["unanswered", "--db", "/nonexistent/shebao-db"], "");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("no database in /nonexistent/shebao-db"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_embedded_knowledge_a_sighup_is_a_logged_no_op() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = BinaryBot::start_with(&api, db.path(), &["--staff", "900"]);
    let citizen = Chat { api: &api, id: 54 };
    citizen.say("/help").await;
    bot.signal("-HUP");
    staff_report(&api, "内置的知识库", 1).await;
    citizen.say("电子社保卡密码忘了怎么办").await;
    let answer = shipped().entry("forgot_pin").unwrap().answer.clone();
    assert!(citizen.texts().contains(&answer));
    let (status, logs) = bot.terminate();
    assert!(status.success(), "{logs}");
    assert!(logs.contains("nothing to reload"), "{logs}");
}

#[test]
fn staff_chats_may_be_groups_whose_ids_are_negative() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shebao"))
        .args(["run", "--staff", "-1001234567890,42", "--db"])
        .arg(tempfile::tempdir().unwrap().path())
        .env_remove("TELOXIDE_TOKEN")
        .env_remove("SHEBAO_STAFF")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // The arguments were accepted: what stops it is the missing token.
    assert!(err.contains("TELOXIDE_TOKEN is not set"), "{err}");
}

#[test]
fn the_bot_does_not_start_on_knowledge_that_fails_check() {
    let knowledge = KnowledgeDir::shipped();
    let line = break_entry(&knowledge, "what_is_pin");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shebao"))
        .args(["run", "--knowledge"])
        .arg(knowledge.path())
        .arg("--db")
        .arg(tempfile::tempdir().unwrap().path())
        .env("TELOXIDE_TOKEN", "1:NEVER-USED")
        .env("TELOXIDE_API_URL", "http://127.0.0.1:9/")
        .env_remove("SHEBAO_STAFF")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let faq = knowledge.file("faq.yaml").display().to_string();
    assert!(
        (line..=line + 2).any(|l| err.contains(&format!("{faq}:{l}:"))),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
