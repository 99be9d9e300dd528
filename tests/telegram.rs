//! The bot end to end over HTTP: the real polling loop (in-process, or the real binary) against the stand-in Bot API.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shebao::dialogue::texts;
use shebao::live::LiveKnowledge;
use shebao::store::{SledStore, Store};
use shebao::telegram::{self, Config, Trigger};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::botapi::{BotApi, Call, Fault, TOKEN};
use crate::helpers::shipped;

pub const WAIT: Duration = Duration::from_secs(20);

/// The bot running in this process against the stand-in, with a way to stop it.
pub struct RunningBot {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
    /// Asks for a reload, as SIGHUP or a changed file would.
    pub triggers: mpsc::Sender<Trigger>,
}

impl RunningBot {
    pub async fn start(api: &BotApi, db: &Path) -> RunningBot {
        RunningBot::start_with(api, db, LiveKnowledge::fixed(shipped()), &[]).await
    }

    /// Starts the bot with `knowledge` and the staff chats `staff`.
    pub async fn start_with(
        api: &BotApi,
        db: &Path,
        knowledge: LiveKnowledge,
        staff: &[i64],
    ) -> RunningBot {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(db).expect("open the store"));
        RunningBot::start_on(api, store, Arc::new(knowledge), staff)
    }

    /// Starts the bot on `store` (any backend), serving `knowledge` (which the caller may watch).
    pub fn start_on(
        api: &BotApi,
        store: Arc<dyn Store>,
        knowledge: Arc<LiveKnowledge>,
        staff: &[i64],
    ) -> RunningBot {
        let mut config =
            Config::new(TOKEN.to_string(), Some(api.url().parse().unwrap())).unthrottled();
        config.poll_timeout = 5;
        config.staff = staff.to_vec();
        let (stop, stopped) = oneshot::channel::<()>();
        let (triggers, receiver) = mpsc::channel(8);
        let task = tokio::spawn(telegram::run(
            config,
            knowledge,
            store,
            receiver,
            async move {
                let _ = stopped.await;
            },
        ));
        RunningBot {
            stop,
            task,
            triggers,
        }
    }

    /// Stops polling, lets the updates in flight finish, and waits for the bot to return.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("bot task")
            .expect("bot stopped cleanly");
    }
}

/// Counts updates pushed to the stand-in, to wait until the bot has handled a given one.
pub struct Chat<'a> {
    pub api: &'a BotApi,
    pub id: i64,
}

impl Chat<'_> {
    /// Waits until the bot has confirmed every update pushed so far (it confirms only handled ones).
    pub async fn handled(&self) {
        let last = self.api.pushed();
        self.api
            .wait_until(WAIT, |calls| confirmed(calls) >= last)
            .await;
    }

    pub async fn say(&self, text: &str) {
        self.api.push_text(self.id, text);
        self.handled().await;
    }

    /// Presses the button labelled `label` on the latest keyboard sent to this chat.
    pub async fn press(&self, label: &str) {
        let (message, buttons) = self
            .api
            .last_keyboard(self.id)
            .expect("a keyboard was sent");
        let data = buttons
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no button `{label}` in {buttons:?}"))
            .1
            .clone();
        self.api.push_callback(self.id, message, &data);
        self.handled().await;
    }

    pub fn last_text(&self) -> String {
        self.api
            .sent_texts(self.id)
            .last()
            .cloned()
            .unwrap_or_default()
    }

    pub fn texts(&self) -> Vec<String> {
        self.api.sent_texts(self.id)
    }

    /// The last text sent that is not the "was this helpful?" question under an answer.
    pub fn last_answer(&self) -> String {
        let feedback = [texts::FEEDBACK_PROMPT, texts::OFFER_AND_FEEDBACK_PROMPT];
        self.texts()
            .into_iter()
            .rfind(|t| !feedback.contains(&t.as_str()))
            .unwrap_or_default()
    }
}

/// The highest update id confirmed by an offset in the calls so far.
fn confirmed(calls: &[Call]) -> i64 {
    calls
        .iter()
        .filter(|c| c.method == "getupdates")
        .filter_map(|c| c.params.get("offset").and_then(|o| o.as_i64()))
        .max()
        .unwrap_or(0)
        - 1
}

fn step_text(id: &str) -> String {
    let kb = shipped();
    kb.flows
        .get("reset_pin")
        .unwrap()
        .step(id)
        .unwrap()
        .text
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_registers_commands_and_answers_with_the_welcome() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 11 };
    chat.say("/start").await;
    assert!(
        chat.texts().iter().any(|t| t == texts::WELCOME),
        "{:?}",
        chat.texts()
    );
    let commands = api.calls_of("setmycommands");
    assert_eq!(commands.len(), 1);
    let names: Vec<&str> = commands[0].params["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["start", "help", "reset", "cancel", "privacy", "forget"]
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_faq_question_gets_its_answer_and_the_offer_of_the_guided_reset() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 12 };
    chat.say("电子社保卡密码忘了怎么办").await;
    let answer = shipped().entry("forgot_pin").unwrap().answer.clone();
    assert!(chat.texts().contains(&answer), "{:?}", chat.texts());
    let (_, buttons) = api.last_keyboard(12).unwrap();
    assert_eq!(buttons[0].0, "一步步重置密码");
    assert!(buttons.iter().all(|(_, data)| data.len() <= 64));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_flow_runs_through_inline_buttons_and_every_press_is_answered() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 13 };
    chat.say("/reset").await;
    chat.press("好，开始").await;
    chat.press("微信").await;
    assert_eq!(chat.last_text(), step_text("wechat_1"));
    for _ in 0..5 {
        chat.press("完成，下一步").await;
    }
    assert_eq!(chat.last_text(), step_text("did_it_work"));
    chat.press("成功了").await;
    assert_eq!(chat.last_text(), step_text("success_tips"));
    assert_eq!(api.calls_of("answercallbackquery").len(), 8);
    // Each pressed menu loses its buttons, so it cannot be pressed again.
    assert_eq!(api.calls_of("editmessagereplymarkup").len(), 8);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_flow_continues_at_the_same_step() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let chat = Chat { api: &api, id: 14 };
    let bot = RunningBot::start(&api, db.path()).await;
    chat.say("/reset").await;
    chat.press("好，开始").await;
    chat.press("支付宝").await;
    chat.press("完成，下一步").await;
    assert_eq!(chat.last_text(), step_text("alipay_2"));
    bot.stop().await;

    let bot = RunningBot::start(&api, db.path()).await;
    chat.press("完成，下一步").await;
    assert_eq!(chat.last_text(), step_text("alipay_3"));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_is_deleted_and_warned_about_and_never_reaches_the_database() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 15 };
    let message = api.push_text(15, "我的密码是 864209");
    chat.handled().await;
    let deletes = api.calls_of("deletemessage");
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        deletes[0].params["message_id"].as_i64(),
        Some(message as i64)
    );
    assert!(
        chat.texts().iter().any(|t| t.starts_with("⚠️")),
        "{:?}",
        chat.texts()
    );
    assert!(chat.texts().iter().all(|t| !t.contains("864209")));
    bot.stop().await;
    assert_no_secret_in(db.path(), "864209");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_cannot_be_deleted_gets_a_request_to_delete_it() {
    let api = BotApi::start().await;
    api.refuse_deletes(16);
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 16 };
    chat.say("验证码是 5521").await;
    assert!(
        chat.texts().iter().any(|t| t == texts::DELETE_IT_YOURSELF),
        "{:?}",
        chat.texts()
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stickers_edits_channel_posts_and_a_4096_character_message_do_not_stop_the_bot() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 17 };
    api.push_sticker(17);
    api.push_edited_text(17, 1, "改一下");
    api.push_channel_post(-1009, "频道消息");
    api.push_text(
        17,
        &"密码忘了怎么办\u{200b}\u{202e}😀\u{7}"
            .repeat(4096 / 12)
            .chars()
            .take(4096)
            .collect::<String>(),
    );
    chat.say("/help").await;
    let texts = chat.texts();
    assert!(
        texts.iter().any(|t| t.contains("我只能看懂文字")),
        "{texts:?}"
    );
    assert_eq!(texts.last().unwrap(), texts::HELP);
    assert!(
        api.calls_of("sendmessage")
            .iter()
            .all(|c| c.chat_id() != Some(-1009))
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_is_honoured() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 18 };
    api.fail_next("sendmessage", Fault::RetryAfter(1));
    chat.say("/help").await;
    let sends = api.calls_of("sendmessage");
    assert_eq!(sends.len(), 2, "the refused message is sent again");
    assert!(sends[0].fault && !sends[1].fault);
    assert!(sends[1].at.duration_since(sends[0].at) >= Duration::from_secs(1));
    assert_eq!(chat.last_text(), texts::HELP);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_groups_the_bot_answers_commands_and_mentions_only_but_guards_everything() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let group = Chat {
        api: &api,
        id: -500,
    };
    api.push_group_text(-500, 21, "大家好，今天天气不错");
    api.push_group_text(
        -500,
        21,
        &format!("@{} 密码忘了怎么办", crate::botapi::BOT_USERNAME),
    );
    api.push_group_text(-500, 22, "我的卡号 6222 0212 3456 7890 123");
    group.handled().await;
    let texts = group.texts();
    assert_eq!(texts.len(), 2 + 1, "{texts:?}"); // answer + offer, then the warning
    assert!(texts[0].contains("重置"), "{texts:?}");
    assert!(texts[2].starts_with("⚠️"), "{texts:?}");
    assert_eq!(api.calls_of("deletemessage").len(), 1);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_gets_one_notice_and_is_then_ignored() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 19 };
    let many: Vec<(i64, String)> = (0..30).map(|_| (19, "/help".to_string())).collect();
    api.push_many(&many);
    chat.handled().await;
    let texts = chat.texts();
    assert_eq!(
        texts.iter().filter(|t| *t == texts::HELP).count(),
        telegram::FLOOD_LIMIT
    );
    assert_eq!(texts.iter().filter(|t| t.contains("发得太快")).count(), 1);
    bot.stop().await;
}

/// No file of the database holds the digits.
pub fn assert_no_secret_in(dir: &Path, secret: &str) {
    for entry in crate::helpers::files_under(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the secret",
            entry.display()
        );
    }
}

/// The real binary, `shebao run`, against the stand-in, with its stderr captured.
pub struct BinaryBot {
    child: std::process::Child,
}

impl BinaryBot {
    fn start(api: &BotApi, db: &Path) -> BinaryBot {
        BinaryBot::start_with(api, db, &[])
    }

    /// `shebao run` with more arguments (`--knowledge DIR`, `--staff ID`, ...).
    pub fn start_with(api: &BotApi, db: &Path, args: &[&str]) -> BinaryBot {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_shebao"))
            .args(["run", "--no-throttle", "--db", db.to_str().unwrap()])
            .args(args)
            .env_remove("SHEBAO_STAFF")
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", api.url())
            .env("RUST_LOG", "trace")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start shebao run");
        BinaryBot { child }
    }

    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Sends SIGTERM and returns (exit status, everything logged).
    pub fn terminate(self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let out = self.child.wait_with_output().unwrap();
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn kill_hard(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_never_logs_or_stores_a_secret_and_exits_cleanly_on_sigterm() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = BinaryBot::start(&api, db.path());
    let chat = Chat { api: &api, id: 31 };
    chat.say("/reset").await;
    chat.say("我的密码是 731 864，手机 13912345678").await;
    chat.say("用 248 137 当密码可以吗").await;
    let (status, logs) = bot.terminate();
    assert!(status.success(), "exit {status:?}\n{logs}");
    for secret in ["731 864", "731864", "13912345678", "248 137", "248137"] {
        assert!(!logs.contains(secret), "the log holds {secret}:\n{logs}");
    }
    assert!(logs.contains("handled"), "{logs}");
    assert!(
        !logs.contains("密码"),
        "the log holds message text:\n{logs}"
    );
    for secret in ["731864", "731 864", "13912345678", "248137", "248 137"] {
        assert_no_secret_in(db.path(), secret);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_killed_with_sigkill_mid_flow_continues_each_chat_at_the_same_step() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = BinaryBot::start(&api, db.path());
    let wechat = Chat { api: &api, id: 41 };
    let alipay = Chat { api: &api, id: 42 };
    for (chat, app) in [(&wechat, "微信"), (&alipay, "支付宝")] {
        chat.say("/reset").await;
        chat.press("好，开始").await;
        chat.press(app).await;
        chat.press("完成，下一步").await;
    }
    bot.kill_hard();

    let bot = BinaryBot::start(&api, db.path());
    wechat.press("完成，下一步").await;
    alipay.press("完成，下一步").await;
    assert_eq!(wechat.last_text(), step_text("wechat_3"));
    assert_eq!(alipay.last_text(), step_text("alipay_3"));
    let (status, logs) = bot.terminate();
    assert!(status.success(), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_killed_after_its_commit_but_before_its_reply_sends_the_reply_after_restart() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = BinaryBot::start(&api, db.path());
    let chat = Chat { api: &api, id: 45 };
    chat.say("/reset").await;
    chat.press("好，开始").await;
    // Telegram goes silent on the next sendMessage: the bot has committed the press (and synced it)
    // and hangs in the delivery of its reply when it is killed.
    api.fail_next("sendMessage", Fault::Hold);
    let (message, buttons) = api.last_keyboard(45).expect("the app menu");
    let wechat = buttons.iter().find(|(l, _)| l == "微信").unwrap().1.clone();
    api.push_callback(45, message, &wechat);
    api.wait_until(WAIT, |calls| {
        calls
            .iter()
            .any(|c| c.method == "sendmessage" && c.fault && c.response.is_none())
    })
    .await;
    bot.kill_hard();
    assert!(
        !chat.texts().contains(&step_text("wechat_1")),
        "the reply was never answered"
    );

    // After the restart the press comes again (it was never confirmed) and is skipped as applied; the
    // reply waiting in the outbox goes out, once.
    let bot = BinaryBot::start(&api, db.path());
    chat.handled().await;
    api.wait_until(WAIT, |_| chat.texts().contains(&step_text("wechat_1")))
        .await;
    chat.press("完成，下一步").await;
    assert_eq!(chat.last_text(), step_text("wechat_2"), "the flow goes on");
    let texts = chat.texts();
    for step in ["wechat_1", "wechat_2"] {
        let shown = texts.iter().filter(|t| **t == step_text(step)).count();
        assert_eq!(shown, 1, "{step} shown {shown} times: {texts:?}");
    }
    let (status, logs) = bot.terminate();
    assert!(status.success(), "{logs}");
    assert!(
        logs.contains("already applied"),
        "the press was not applied twice:\n{logs}"
    );
}

#[test]
fn run_without_a_token_says_how_to_set_it_and_exits_with_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shebao"))
        .args([
            "run",
            "--db",
            tempfile::tempdir().unwrap().path().to_str().unwrap(),
        ])
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("TELOXIDE_TOKEN") && err.contains("@BotFather"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_a_clear_error_not_a_panic() {
    let api = BotApi::start().await;
    let out = tokio::task::spawn_blocking({
        let url = api.url();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_shebao"))
                .args([
                    "run",
                    "--db",
                    tempfile::tempdir().unwrap().path().to_str().unwrap(),
                ])
                .env("TELOXIDE_TOKEN", "999:WRONG")
                .env("TELOXIDE_API_URL", url)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Telegram rejected the bot token"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_numbers_labels_and_words_press_the_buttons_on_screen() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 17 };
    chat.say("/reset").await;
    chat.say("好").await;
    assert_eq!(chat.last_text(), step_text("choose_app"));
    chat.say("２").await;
    assert_eq!(chat.last_text(), step_text("alipay_1"));
    chat.say("好了").await;
    assert_eq!(chat.last_text(), step_text("alipay_2"));
    chat.say("[1]").await;
    assert_eq!(chat.last_text(), step_text("alipay_3"));
    chat.say("退出").await;
    assert_eq!(chat.last_text(), texts::FLOW_LEFT);
    insta::assert_snapshot!(api.transcript(chat.id));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fallback_comes_with_buttons_that_lead_on_to_a_person() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 18 };
    chat.say("帮帮我吧").await;
    let (_, buttons) = api.last_keyboard(18).expect("a fallback with buttons");
    let labels: Vec<&str> = buttons.iter().map(|(l, _)| l.as_str()).collect();
    assert!(labels.contains(&"一步步重置密码"), "{labels:?}");
    assert_eq!(labels.last(), Some(&"找人工"), "{labels:?}");
    assert!(labels.len() >= 3, "the nearest entries too: {labels:?}");
    chat.press("找人工").await;
    let help = chat.last_text();
    assert!(
        help.contains("12333") && help.contains("可以这样说"),
        "{help}"
    );
    insta::assert_snapshot!(api.transcript(chat.id));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbs_up_and_down_under_an_answer_are_pressed_and_a_thumbs_down_offers_a_way_on() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let bot = RunningBot::start(&api, db.path()).await;
    let chat = Chat { api: &api, id: 19 };
    chat.say("怎么修改密码").await;
    chat.press("👍 有帮助").await;
    assert_eq!(chat.last_text(), texts::GLAD_IT_HELPED);
    chat.say("密码忘了怎么办").await;
    chat.press("👎 没帮助").await;
    let (_, buttons) = api.last_keyboard(19).unwrap();
    assert_eq!(buttons.last().unwrap().0, "找人工", "{buttons:?}");
    assert!(
        chat.texts().iter().any(|t| t == texts::SORRY_NOT_HELPFUL),
        "{:?}",
        chat.texts()
    );
    insta::assert_snapshot!(api.transcript(chat.id));
    bot.stop().await;
}
