//! Replica benchmark: the same load through polling+sled, webhook+sled, and webhook+PostgreSQL with one and three replicas.
//!
//! The release binary serves the loopback Bot API stand-in. Every chat sends `/reset` and presses its way
//! through the WeChat reset (9 updates a chat), all chats in the same round, each round pushed at once.
//! Reported per setup: updates handled per second (wall time of all rounds), p50/p99 handling latency
//! (webhook: from the POST to its 200, which comes after the commit and the replies; polling: from the
//! `getUpdates` answer to the chat's next reply), and each replica's peak RSS (`VmHWM`).
//!
//! The PostgreSQL setups need `SHEBAO_TEST_POSTGRES` (an admin URL that may CREATE DATABASE; each setup
//! gets a fresh database) and are left out without it. Chats: `SHEBAO_LOAD_CHATS` (default 300).
//!
//! Run: `cargo bench --bench replicas` (numbers in README).

#[path = "../tests/botapi.rs"]
#[allow(dead_code, unused_imports)]
mod botapi;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use botapi::webhook::Delivery;
use botapi::{BotApi, TOKEN, free_port};
use sqlx::Connection;

const SECRET: &str = "bench_secret";

/// The buttons each chat presses after `/reset`, in order.
const PRESSES: [&str; 8] = [
    "好，开始",
    "微信",
    "完成，下一步",
    "完成，下一步",
    "完成，下一步",
    "完成，下一步",
    "完成，下一步",
    "成功了",
];

fn chats() -> i64 {
    std::env::var("SHEBAO_LOAD_CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("{} chats, {} updates each", chats(), PRESSES.len() + 1);
        let sled = tempfile::tempdir().unwrap();
        run("polling + sled", sled.path().to_str().unwrap(), 0).await;
        let sled = tempfile::tempdir().unwrap();
        run("webhook + sled", sled.path().to_str().unwrap(), 1).await;
        match std::env::var("SHEBAO_TEST_POSTGRES") {
            Ok(admin) => {
                for replicas in [1, 3] {
                    let (url, name) = database(&admin).await;
                    let label = format!("webhook + PostgreSQL, {replicas} replica(s)");
                    run(&label, &url, replicas).await;
                    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            }
            Err(_) => println!("webhook + PostgreSQL: left out (SHEBAO_TEST_POSTGRES is not set)"),
        }
    });
}

/// A fresh database: (its URL, its name).
async fn database(admin: &str) -> (String, String) {
    let name = format!("shebao_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = url::Url::parse(admin).unwrap();
    url.set_path(&name);
    (url.to_string(), name)
}

/// Starts `replicas` webhook replicas (0: one polling bot) on `store`.
fn start(api: &BotApi, store: &str, replicas: usize) -> Vec<(Child, Option<String>)> {
    let spawn = |extra: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_shebao"))
            .args(["run", "--no-throttle", "--store", store])
            .args(extra)
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", api.url())
            .env("SHEBAO_WEBHOOK_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .spawn()
            .expect("start shebao run (cargo bench builds it)")
    };
    if replicas == 0 {
        return vec![(spawn(&[]), None)];
    }
    (0..replicas)
        .map(|_| {
            let addr = format!("127.0.0.1:{}", free_port());
            (
                spawn(&["--webhook".into(), addr.clone()]),
                Some(format!("http://{addr}")),
            )
        })
        .collect()
}

async fn ready(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(format!("{url}/readyz"))
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "{url} never became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until every update pushed so far was handled (confirmed by polling, or answered 200).
async fn drained(api: &BotApi, polling: bool) {
    let last = api.pushed();
    api.wait_until(Duration::from_secs(120), |_| {
        if polling {
            api.confirmed() >= last
        } else {
            api.undelivered() == 0
        }
    })
    .await;
}

fn peak_rss_mb(child: &Child) -> f64 {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .unwrap_or(0.0)
        / 1024.0
}

async fn run(label: &str, store: &str, replicas: usize) {
    let api = BotApi::start().await;
    let mut bots = start(&api, store, replicas);
    let urls: Vec<String> = bots.iter().filter_map(|(_, url)| url.clone()).collect();
    for url in &urls {
        ready(url).await;
    }
    let webhook = (!urls.is_empty()).then(|| api.deliver(Delivery::to(urls.clone(), SECRET)));
    let polling = webhook.is_none();

    let started = Instant::now();
    let resets: Vec<(i64, String)> = (1..=chats()).map(|c| (c, "/reset".to_string())).collect();
    api.push_many(&resets);
    drained(&api, polling).await;
    for label in PRESSES {
        api.press_in_every_chat(1..=chats(), label);
        drained(&api, polling).await;
    }
    let elapsed = started.elapsed();
    let updates = api.pushed();
    let rss: Vec<String> = bots
        .iter()
        .map(|(child, _)| format!("{:.1}", peak_rss_mb(child)))
        .collect();
    for (child, _) in &mut bots {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }

    let mut latencies = match &webhook {
        Some(webhook) => webhook.stats().latencies,
        None => api.polling_latencies(),
    };
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1000.0
    };
    println!(
        "{label}: {:.0} updates/s ({updates} in {:.2} s), latency p50 {:.1} ms p99 {:.1} ms, peak RSS {} MB",
        updates as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        rss.join(" + ")
    );
}
