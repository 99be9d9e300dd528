//! Webhook mode end to end: `shebao webhook`, `shebao run --webhook` replicas behind the stand-in's webhook side, health and metrics.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use sqlx::Connection;

use crate::botapi::webhook::Delivery;
use crate::botapi::{BotApi, TOKEN, free_port};
use crate::helpers::KnowledgeDir;
use crate::pg::TestDb;

pub const SECRET: &str = "replica_Secret-42";

/// Runs `shebao ARGS` against the stand-in with the token and, when given, the webhook secret.
async fn shebao_with(api: &BotApi, args: &[&str], secret: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shebao"));
    command
        .args(args)
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", api.url())
        .env_remove("SHEBAO_WEBHOOK_SECRET")
        .stdin(Stdio::null());
    if let Some(secret) = secret {
        command.env("SHEBAO_WEBHOOK_SECRET", secret);
    }
    tokio::task::spawn_blocking(move || command.output().expect("run shebao"))
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_set_registers_the_url_with_the_secret_and_only_the_kinds_the_bot_handles() {
    let api = BotApi::start().await;
    let url = "https://bot.example.org/telegram";
    let set = shebao_with(&api, &["webhook", "set", url], Some(SECRET)).await;
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert!(
        !text(&set.stdout).contains(SECRET),
        "the secret is never printed"
    );
    let webhook = api.webhook().expect("a webhook is set");
    assert_eq!(webhook["url"], url);
    assert_eq!(webhook["secret_token"], SECRET);
    assert_eq!(
        webhook["allowed_updates"],
        serde_json::json!(["message", "edited_message", "callback_query"])
    );

    let info = shebao_with(&api, &["webhook", "info"], None).await;
    assert!(info.status.success(), "{}", text(&info.stderr));
    assert!(
        text(&info.stdout).contains(&format!("url: {url}")),
        "{}",
        text(&info.stdout)
    );

    let delete = shebao_with(&api, &["webhook", "delete"], None).await;
    assert!(delete.status.success(), "{}", text(&delete.stderr));
    assert!(api.webhook().is_none());
    let info = shebao_with(&api, &["webhook", "info"], None).await;
    assert!(
        text(&info.stdout).contains("url: none"),
        "{}",
        text(&info.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_set_without_a_secret_refuses_and_exits_with_2() {
    let api = BotApi::start().await;
    for secret in [None, Some("has spaces")] {
        let set = shebao_with(
            &api,
            &["webhook", "set", "https://bot.example.org/telegram"],
            secret,
        )
        .await;
        assert_eq!(set.status.code(), Some(2), "{}", text(&set.stderr));
        assert!(
            text(&set.stderr).contains("SHEBAO_WEBHOOK_SECRET"),
            "{}",
            text(&set.stderr)
        );
    }
    assert!(api.webhook().is_none());
    assert!(api.calls_of("setwebhook").is_empty());
}

/// How long one step of a chat may take; a reply a dead replica left behind waits for the outbox
/// lease (30 s) and the next sweep.
const STEP_WAIT: Duration = Duration::from_secs(120);
const WAIT: Duration = Duration::from_secs(30);

/// `shebao run --webhook 127.0.0.1:PORT` against the stand-in, its stderr collected.
pub struct Replica {
    child: Child,
    port: u16,
    store: String,
    api_url: String,
    args: Vec<String>,
    logs: Arc<Mutex<String>>,
}

impl Replica {
    pub fn start(api: &BotApi, store: &str) -> Replica {
        Replica::spawn(api.url(), store, free_port(), &[])
    }

    /// With more arguments of `shebao run` (`--knowledge DIR`, `--staff ID`...).
    pub fn start_with(api: &BotApi, store: &str, args: &[&str]) -> Replica {
        Replica::spawn(api.url(), store, free_port(), args)
    }

    fn spawn(api_url: String, store: &str, port: u16, args: &[&str]) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shebao"))
            .args(["run", "--no-throttle", "--store", store])
            .args(["--webhook", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", &api_url)
            .env("SHEBAO_WEBHOOK_SECRET", SECRET)
            .env_remove("SHEBAO_STAFF")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start shebao run --webhook");
        let logs = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut logs = sink.lock().unwrap();
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        Replica {
            child,
            port,
            store: store.to_owned(),
            api_url,
            args: args.iter().map(|a| a.to_string()).collect(),
            logs,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Waits until `/readyz` answers 200.
    pub async fn ready(&self) {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let answer = client.get(format!("{}/readyz", self.url())).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "replica {} never became ready:\n{}",
                self.url(),
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, then the same replica again on the same port.
    pub fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        *self = Replica::spawn(self.api_url.clone(), &self.store, self.port, &args);
    }

    /// SIGTERM; returns the exit status and everything logged.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        // The pump thread ends with the pipe.
        std::thread::sleep(Duration::from_millis(50));
        (status, self.logs())
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One thing a citizen does.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Types a text.
    Say(&'static str),
    /// Presses the button with this label under the menu the step before showed.
    Press(&'static str),
}

/// The reset flow by buttons only.
const PRESSED: &[Step] = &[
    Step::Say("/reset"),
    Step::Press("好，开始"),
    Step::Press("微信"),
    Step::Press("完成，下一步"),
    Step::Press("完成，下一步"),
    Step::Press("完成，下一步"),
    Step::Press("完成，下一步"),
    Step::Press("完成，下一步"),
    Step::Press("成功了"),
];

/// The same flow, some buttons pressed by typing their label or a word for it.
const TYPED: &[Step] = &[
    Step::Say("/reset"),
    Step::Say("好，开始"),
    Step::Press("微信"),
    Step::Say("完成，下一步"),
    Step::Press("完成，下一步"),
    Step::Say("好了"),
    Step::Press("完成，下一步"),
    Step::Press("完成，下一步"),
    Step::Say("成功了"),
];

/// What one walk of a script shows when nothing goes wrong: every text sent, how many after each
/// step, and the text of the menu each step presses a button of.
#[derive(Debug, Clone)]
struct Reference {
    texts: Vec<String>,
    after: Vec<usize>,
    menus: Vec<Option<String>>,
}

/// How many of `expected` appear in `texts` in order (texts sent twice in between are skipped).
fn matched(texts: &[String], expected: &[String]) -> usize {
    let mut next = 0;
    for text in texts {
        if next < expected.len() && *text == expected[next] {
            next += 1;
        }
    }
    next
}

/// Does step `i` of `script` in `chat`.
fn act(api: &BotApi, chat: i64, step: Step, menu: Option<&str>) {
    match step {
        Step::Say(text) => {
            api.push_text(chat, text);
        }
        Step::Press(label) => {
            let keyboard = match menu {
                Some(text) => api.keyboard_under(chat, text),
                None => api.last_keyboard(chat),
            };
            api.press(chat, keyboard, label);
        }
    }
}

/// Walks `script` in `chat` alone, each step once its update was delivered (answered 200, so its
/// replies are out), and notes what a correct walk shows.
async fn reference(api: &BotApi, chat: i64, script: &[Step]) -> Reference {
    let mut reference = Reference {
        texts: Vec::new(),
        after: Vec::new(),
        menus: Vec::new(),
    };
    for step in script {
        // The menu a step presses in is the latest message with buttons: remember its text.
        let menu_text = api.last_menu(chat);
        reference.menus.push(menu_text.clone());
        act(api, chat, *step, menu_text.as_deref());
        api.wait_until(WAIT, |_| api.undelivered() == 0).await;
        reference.texts = api.sent_texts(chat);
        reference.after.push(reference.texts.len());
    }
    reference
}

/// Walks `script` in `chat`, each step once the replies of the step before arrived; returns the texts
/// the chat was sent.
async fn walk(
    api: BotApi,
    chat: i64,
    script: &'static [Step],
    reference: Arc<Reference>,
) -> Vec<String> {
    for (i, step) in script.iter().enumerate() {
        act(&api, chat, *step, reference.menus[i].as_deref());
        let want = reference.after[i];
        api.wait_for_texts(chat, STEP_WAIT, |texts| {
            matched(texts, &reference.texts) >= want
        })
        .await;
    }
    api.sent_texts(chat)
}

/// `reqwest` GET of a replica path: (status, body).
async fn get(replica: &Replica, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", replica.url()))
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_one_postgresql_walk_a_thousand_chats_through_a_kill() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let api = BotApi::start().await;
    let mut replicas: Vec<Replica> = (0..3).map(|_| Replica::start(&api, &db.url)).collect();
    for replica in &replicas {
        replica.ready().await;
    }
    let delivery = Delivery::to(replicas.iter().map(Replica::url).collect(), SECRET);
    let max_connections = delivery.max_connections;
    let webhook = api.deliver(delivery);
    let started = Instant::now();
    let pressed = Arc::new(reference(&api, 1_000_001, PRESSED).await);
    let typed = Arc::new(reference(&api, 1_000_002, TYPED).await);
    let kb = crate::helpers::shipped();
    let done = &kb
        .flows
        .get("reset_pin")
        .expect("the reset flow")
        .step("success_tips")
        .expect("the flow's last step")
        .text;
    for reference in [&pressed, &typed] {
        assert_eq!(reference.texts.last(), Some(done), "{reference:?}");
    }

    const CHATS: i64 = 1000;
    let mut walks = tokio::task::JoinSet::new();
    for chat in 1..=CHATS {
        let (script, reference) = match chat % 4 {
            0 => (TYPED, typed.clone()),
            _ => (PRESSED, pressed.clone()),
        };
        walks.spawn(
            walk(api.clone(), chat, script, reference.clone())
                .map(move |texts| (chat, texts, reference)),
        );
    }
    let total = CHATS as usize * PRESSED.len();
    api.wait_until(STEP_WAIT, |_| webhook.stats().delivered >= total / 3)
        .await;
    replicas[0].kill_and_restart();
    let killed_at = webhook.stats().delivered;
    replicas[0].ready().await;

    let mut repeated = 0;
    let mut most_per_step = 0;
    while let Some(done) = walks.join_next().await {
        let (chat, texts, reference) = done.expect("a chat walks to the end");
        assert_eq!(
            matched(&texts, &reference.texts),
            reference.texts.len(),
            "chat {chat} lost a reply or a step:\n{}",
            texts.join("\n---\n")
        );
        assert_eq!(
            texts.last(),
            reference.texts.last(),
            "chat {chat} did not complete"
        );
        repeated += texts.len() - reference.texts.len();
        let steps = reference
            .after
            .iter()
            .zip(std::iter::once(&0).chain(&reference.after));
        most_per_step = most_per_step.max(steps.map(|(a, b)| a - b).max().unwrap_or(0));
    }
    // The last 200s come after the last replies were marked sent.
    api.wait_until(WAIT, |_| api.undelivered() == 0).await;
    let stats = webhook.stats();
    eprintln!(
        "three replicas, {CHATS} chats, {} updates in {:.1} s; replica 0 killed after {killed_at} deliveries; \
         {repeated} replies repeated; {} requests refused, {} unanswered",
        stats.delivered,
        started.elapsed().as_secs_f64(),
        stats.refused.iter().map(|(_, n)| n).sum::<usize>(),
        stats.unanswered
    );
    assert!(
        repeated <= max_connections * most_per_step,
        "{repeated} replies repeated: more than the killed replica can have had in flight"
    );
    for replica in replicas {
        let (status, logs) = replica.terminate();
        assert!(status.success(), "{logs}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_on_sled_serves_the_webhook_refuses_a_wrong_secret_and_drains_on_sigterm() {
    let api = BotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let replica = Replica::start(&api, dir.path().to_str().unwrap());
    replica.ready().await;

    let client = reqwest::Client::new();
    let update = serde_json::json!({"update_id": 1, "message": {
        "message_id": 1, "date": 1_700_000_000, "text": "/start",
        "chat": {"id": 5, "type": "private", "first_name": "T"},
        "from": {"id": 5, "is_bot": false, "first_name": "T"}}});
    for secret in [None, Some("wrong")] {
        let mut request = client
            .post(format!("{}/telegram", replica.url()))
            .json(&update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        assert_eq!(request.send().await.unwrap().status().as_u16(), 401);
    }
    assert!(
        api.sent_texts(5).is_empty(),
        "nothing handled without the secret"
    );

    let webhook = api.deliver(Delivery::to(vec![replica.url()], SECRET));
    let reference = Arc::new(reference(&api, 100, PRESSED).await);
    let mut walks = tokio::task::JoinSet::new();
    for chat in 1..=20 {
        walks.spawn(walk(api.clone(), chat, PRESSED, reference.clone()));
    }
    while let Some(texts) = walks.join_next().await {
        assert_eq!(texts.unwrap(), reference.texts, "no reply lost or repeated");
    }
    assert_eq!(webhook.stats().attempts, webhook.stats().delivered);
    // A 200 comes after the replies were marked sent; the walks end when the texts arrive.
    api.wait_until(WAIT, |_| api.undelivered() == 0).await;

    let (status, metrics) = get(&replica, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("shebao_updates_total{kind=\"callback_query\",outcome=\"applied\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("shebao_outbox_backlog 0"), "{metrics}");
    assert!(
        !metrics.contains("chat=") && !metrics.contains("\"17\""),
        "{metrics}"
    );

    let (status, logs) = replica.terminate();
    assert!(status.success(), "exit {status:?}\n{logs}");
    assert!(logs.contains("draining"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_without_the_secret_refuses_to_start() {
    let api = BotApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_shebao"))
        .args([
            "run",
            "--store",
            dir.path().to_str().unwrap(),
            "--webhook",
            "127.0.0.1:0",
        ])
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", api.url())
        .env_remove("SHEBAO_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("SHEBAO_WEBHOOK_SECRET"),
        "{}",
        text(&output.stderr)
    );
    assert!(api.calls().is_empty(), "nothing was asked of Telegram");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_gets_503_and_the_update_succeeds_when_telegram_retries() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let api = BotApi::start().await;
    let replica = Replica::start(&api, &db.url);
    replica.ready().await;
    let name = url::Url::parse(&db.url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let admin = std::env::var("SHEBAO_TEST_POSTGRES").unwrap();
    let mut conn = sqlx::postgres::PgConnection::connect(&admin).await.unwrap();
    let outage = |allow: bool| format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {allow}");
    sqlx::query(&outage(false))
        .execute(&mut conn)
        .await
        .unwrap();
    // Only the replica's own connections: an autovacuum worker busy in the database at that moment is a
    // superuser's process, which this role may not end (and which does not serve the replica).
    sqlx::query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' \
         AND backend_type = 'client backend' AND usename = current_user"
    ))
    .execute(&mut conn)
    .await
    .unwrap();

    let webhook = api.deliver(Delivery::to(vec![replica.url()], SECRET));
    api.push_text(9, "/start");
    api.wait_until(WAIT, |_| webhook.stats().refused_with(503) >= 2)
        .await;
    assert!(
        api.sent_texts(9).is_empty(),
        "no reply for an uncommitted update"
    );
    assert_eq!(get(&replica, "/readyz").await.0, 503);

    sqlx::query(&outage(true)).execute(&mut conn).await.unwrap();
    api.wait_until(WAIT, |_| api.undelivered() == 0).await;
    api.push_text(10, "/start");
    api.wait_until(WAIT, |_| api.undelivered() == 0).await;
    assert!(!api.sent_texts(9).is_empty());
    assert_eq!(
        api.sent_texts(9),
        api.sent_texts(10),
        "answered once after the retry, as a chat that never met the outage"
    );
    assert_eq!(get(&replica, "/readyz").await.0, 200);
    drop(replica);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reload_on_one_replica_reloads_the_others_through_postgresql() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let api = BotApi::start().await;
    let (one, two) = (KnowledgeDir::shipped(), KnowledgeDir::shipped());
    let staff = "777";
    let start = |dir: &KnowledgeDir| {
        let args = [
            "--knowledge",
            dir.path().to_str().unwrap(),
            "--no-watch",
            "--staff",
            staff,
        ];
        Replica::start_with(&api, &db.url, &args)
    };
    let (asked, other) = (start(&one), start(&two));
    asked.ready().await;
    other.ready().await;
    let _webhook = api.deliver(Delivery::to(vec![asked.url()], SECRET));
    // A replica starts listening for announcements just after it is ready, and an announcement made
    // before is not replayed (it loaded its files at start): ask again until the other one listens.
    let deadline = Instant::now() + WAIT;
    'asking: loop {
        api.push_text(777, "/reload");
        api.wait_until(WAIT, |_| api.undelivered() == 0).await;
        assert!(
            !api.sent_texts(777).is_empty(),
            "the staff hear the outcome"
        );
        let heard = Instant::now() + Duration::from_secs(2);
        while Instant::now() < heard {
            if other.logs().contains("knowledge reload trigger=Announced") {
                break 'asking;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            Instant::now() < deadline,
            "the other replica did not reload:\n{}",
            other.logs()
        );
    }
}
