//! Load benchmark: 1,000 chats run the guided reset at once against the loopback Bot API stand-in.
//!
//! The real binary (`shebao run --no-throttle`, release build) serves a stand-in on 127.0.0.1. Every chat
//! sends `/reset` and presses its way through the WeChat reset to the end (10 updates a chat, 10,000 in
//! all), all chats in the same round, each round pushed at once. Reported: updates handled per second
//! (wall time of all rounds), p50/p99 handling latency (from the `getUpdates` answer that delivered an
//! update to the bot's reply to that chat), the bot's peak RSS (`VmHWM`), and a check that every chat
//! ended where it should with no step lost or repeated.
//!
//! Run: `cargo bench --bench telegram_load` (numbers in README).

#[path = "../tests/botapi.rs"]
#[allow(dead_code, unused_imports)]
mod botapi;

use std::time::{Duration, Instant};

use botapi::{BotApi, TOKEN};

/// Number of chats (override with SHEBAO_LOAD_CHATS).
fn chats() -> i64 {
    std::env::var("SHEBAO_LOAD_CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

/// The buttons each chat presses after `/reset`, in order.
const PRESSES: [&str; 9] = [
    "好，开始",
    "微信",
    "完成，下一步",
    "完成，下一步",
    "完成，下一步",
    "完成，下一步",
    "完成，下一步",
    "成功了",
    "好的，谢谢",
];

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn wait_confirmed(api: &BotApi, update: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while api.confirmed() < update {
        assert!(
            Instant::now() < deadline,
            "the bot stalled at update {} of {update}",
            api.confirmed()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn bench() {
    let api = BotApi::start().await;
    let db = tempfile::tempdir().unwrap();
    let mut bot = std::process::Command::new(env!("CARGO_BIN_EXE_shebao"))
        .args(["run", "--no-throttle", "--db", db.path().to_str().unwrap()])
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", api.url())
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("start shebao run (cargo bench builds it)");

    let started = Instant::now();
    let resets: Vec<(i64, String)> = (1..=chats()).map(|c| (c, "/reset".to_string())).collect();
    api.push_many(&resets);
    wait_confirmed(&api, api.pushed()).await;
    for label in PRESSES {
        api.press_in_every_chat(1..=chats(), label);
        wait_confirmed(&api, api.pushed()).await;
    }
    let elapsed = started.elapsed();
    let updates = api.pushed();

    let rss_kb = std::fs::read_to_string(format!("/proc/{}/status", bot.id()))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .map(|v| v.parse::<u64>().unwrap_or(0))
            })
        })
        .unwrap_or(0);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &bot.id().to_string()])
        .status();
    let _ = bot.wait();

    // Handling latency: from the getUpdates answer that delivered an update to the next reply to its chat.
    let mut latencies = api.polling_latencies();
    let mut complete = 0;
    for chat in 1..=chats() {
        let texts = api.sent_texts(chat);
        // /reset, 9 presses, each one reply; the last press ends the flow with the goodbye text.
        if texts.len() == 10 && texts.last().is_some_and(|t| t.contains("/reset")) {
            complete += 1;
        }
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "chats: {}, updates: {updates}, wall: {:.2} s",
        chats(),
        elapsed.as_secs_f64()
    );
    println!(
        "updates handled per second: {:.0}",
        updates as f64 / elapsed.as_secs_f64()
    );
    println!(
        "handling latency: p50 {:.1} ms, p99 {:.1} ms (n = {})",
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        latencies.len()
    );
    println!("bot peak RSS: {:.1} MB", rss_kb as f64 / 1024.0);
    println!(
        "chats that completed the flow with no lost or repeated step: {complete}/{}",
        chats()
    );
}
