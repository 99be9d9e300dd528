//! Telegram's webhook side of the stand-in: queued updates are POSTed to the bot's replicas the way Telegram delivers them.
//!
//! - One request in flight per chat: a chat's next update waits until the previous request ended with a
//!   2xx, so each chat's updates arrive in order.
//! - A non-2xx answer, a refused connection or no answer within [`Delivery::timeout`] (Telegram waits
//!   about a minute) is retried after [`Delivery::retry_delay`], on the next replica.
//! - Requests go round-robin over [`Delivery::replicas`] (a load balancer in front of them), at most
//!   [`Delivery::max_connections`] at once (Telegram's `max_connections`, 40 by default).
//! - Every request carries `X-Telegram-Bot-Api-Secret-Token` when [`Delivery::secret`] is set.
//!
//! Updates are queued with the same `push_*` methods as for polling; [`Webhook::stats`] counts attempts
//! and failures, and the stand-in's own counts ([`BotApi::sent_texts`]) tell whether a reply was lost or
//! sent twice.

use std::collections::HashSet;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinSet;

use super::{BotApi, Shared};

/// How to deliver.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Base URLs of the replicas, e.g. `http://127.0.0.1:PORT`; `/telegram` is appended.
    pub replicas: Vec<String>,
    pub secret: Option<String>,
    pub timeout: Duration,
    pub retry_delay: Duration,
    pub max_connections: usize,
}

impl Delivery {
    /// Telegram's way with test-sized waits: 10 s for an answer, 100 ms before a retry, 40 connections.
    pub fn to(replicas: Vec<String>, secret: &str) -> Delivery {
        Delivery {
            replicas,
            secret: Some(secret.to_owned()),
            timeout: Duration::from_secs(10),
            retry_delay: Duration::from_millis(100),
            max_connections: 40,
        }
    }
}

/// What happened to the requests so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests made.
    pub attempts: usize,
    /// Updates answered with a 2xx (each once).
    pub delivered: usize,
    /// Requests answered with this non-2xx status, as (status, count).
    pub refused: Vec<(u16, usize)>,
    /// Requests without an answer (refused connection, reset, timeout).
    pub unanswered: usize,
    /// How long each request answered with a 2xx took, from sending to the answer.
    pub latencies: Vec<Duration>,
}

impl Stats {
    pub fn refused_with(&self, status: u16) -> usize {
        self.refused
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// A running delivery; it stops when dropped.
pub struct Webhook {
    stats: Arc<Mutex<Stats>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Webhook {
    pub fn stats(&self) -> Stats {
        self.stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl BotApi {
    /// Starts delivering queued updates to the replicas of `delivery`, as Telegram does once a webhook
    /// is set (whether or not the bot called `setWebhook` here).
    pub fn deliver(&self, delivery: Delivery) -> Webhook {
        assert!(!delivery.replicas.is_empty(), "no replica to deliver to");
        let stats = Arc::new(Mutex::new(Stats::default()));
        let task = tokio::spawn(dispatch(self.shared.clone(), delivery, stats.clone()));
        Webhook { stats, task }
    }

    /// The updates not yet delivered (or, when polling, not yet confirmed).
    pub fn undelivered(&self) -> usize {
        self.shared.lock().updates.len()
    }
}

/// The chat an update belongs to, for one-in-flight-per-chat (0 when it has none).
fn chat_of(update: &Value) -> i64 {
    for kind in ["message", "edited_message", "channel_post"] {
        if let Some(id) = update[kind]["chat"]["id"].as_i64() {
            return id;
        }
    }
    update["callback_query"]["message"]["chat"]["id"]
        .as_i64()
        .or(update["callback_query"]["from"]["id"].as_i64())
        .unwrap_or(0)
}

/// The outcome of one request.
enum Answer {
    /// The status and how long the answer took.
    Status(u16, Duration),
    None,
}

async fn dispatch(shared: Arc<Shared>, delivery: Delivery, stats: Arc<Mutex<Stats>>) {
    let client = reqwest::Client::builder()
        .timeout(delivery.timeout)
        .build()
        .expect("an HTTP client");
    let next_replica = AtomicUsize::new(0);
    let mut busy: HashSet<i64> = HashSet::new();
    let mut requests: JoinSet<(i64, i64, Answer)> = JoinSet::new();
    loop {
        let mut queued = pin!(shared.updates_queued.notified());
        queued.as_mut().enable();
        // Start a request for the first waiting update of every idle chat.
        let ready: Vec<(i64, i64, Value)> = {
            let state = shared.lock();
            let mut seen = HashSet::new();
            let room = delivery.max_connections.saturating_sub(requests.len());
            state
                .updates
                .iter()
                .filter_map(|u| {
                    let chat = chat_of(u);
                    (seen.insert(chat) && !busy.contains(&chat)).then_some((chat, u))
                })
                .take(room)
                .map(|(chat, u)| (chat, u["update_id"].as_i64().unwrap_or_default(), u.clone()))
                .collect()
        };
        for (chat, id, update) in ready {
            busy.insert(chat);
            let replica = next_replica.fetch_add(1, Ordering::Relaxed) % delivery.replicas.len();
            let url = format!(
                "{}/telegram",
                delivery.replicas[replica].trim_end_matches('/')
            );
            let mut request = client.post(url).json(&update);
            if let Some(secret) = &delivery.secret {
                request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
            }
            let retry_delay = delivery.retry_delay;
            requests.spawn(async move {
                let sent = std::time::Instant::now();
                let answer = match request.send().await {
                    Ok(response) => Answer::Status(response.status().as_u16(), sent.elapsed()),
                    Err(_) => Answer::None,
                };
                if !matches!(answer, Answer::Status(200..=299, _)) {
                    // The chat stays busy while Telegram waits to retry, so its order holds.
                    tokio::time::sleep(retry_delay).await;
                }
                (chat, id, answer)
            });
        }
        tokio::select! {
            _ = queued => {}
            Some(done) = requests.join_next() => {
                let (chat, id, answer) = done.expect("a delivery task");
                busy.remove(&chat);
                let mut stats = stats.lock().unwrap_or_else(PoisonError::into_inner);
                stats.attempts += 1;
                match answer {
                    Answer::Status(200..=299, took) => {
                        stats.delivered += 1;
                        stats.latencies.push(took);
                        let mut state = shared.lock();
                        state.updates.retain(|u| u["update_id"].as_i64() != Some(id));
                        state.confirmed = state.confirmed.max(id);
                        drop(state);
                        // Whoever waits for a delivery with `wait_until` looks again.
                        shared.calls_changed.notify_waiters();
                    }
                    Answer::Status(status, _) => match stats.refused.iter_mut().find(|(s, _)| *s == status) {
                        Some((_, n)) => *n += 1,
                        None => stats.refused.push((status, 1)),
                    },
                    Answer::None => stats.unanswered += 1,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    use super::*;

    /// A replica that records (update id, chat) in arrival order, refuses the first request of each
    /// update with 503 when `flaky`, and checks that no chat has two requests in flight.
    #[derive(Default)]
    struct Recorder {
        seen: Mutex<Vec<(i64, i64)>>,
        in_flight: Mutex<HashSet<i64>>,
        overlapped: AtomicBool,
        flaky: bool,
    }

    async fn replica(recorder: Arc<Recorder>) -> String {
        let app = Router::new().route(
            "/telegram",
            post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let recorder = recorder.clone();
                async move {
                    if headers
                        .get("x-telegram-bot-api-secret-token")
                        .is_none_or(|s| s != "tok")
                    {
                        return StatusCode::UNAUTHORIZED;
                    }
                    let update: Value = serde_json::from_slice(&body).unwrap();
                    let (id, chat) = (update["update_id"].as_i64().unwrap(), chat_of(&update));
                    if !recorder.in_flight.lock().unwrap().insert(chat) {
                        recorder.overlapped.store(true, Ordering::SeqCst);
                    }
                    tokio::task::yield_now().await;
                    recorder.in_flight.lock().unwrap().remove(&chat);
                    let mut seen = recorder.seen.lock().unwrap();
                    let first = !seen.iter().any(|(i, _)| *i == id);
                    seen.push((id, chat));
                    if recorder.flaky && first {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn updates_go_round_robin_one_per_chat_at_a_time_and_a_refusal_is_retried_in_order() {
        let api = BotApi::start().await;
        let flaky = Arc::new(Recorder {
            flaky: true,
            ..Recorder::default()
        });
        let steady = Arc::new(Recorder::default());
        let replicas = vec![replica(flaky.clone()).await, replica(steady.clone()).await];
        for round in 0..5 {
            for chat in 1..=4 {
                api.push_text(chat, &format!("第{round}条"));
            }
        }
        let webhook = api.deliver(Delivery::to(replicas, "tok"));
        api.wait_until(Duration::from_secs(20), |_| api.undelivered() == 0)
            .await;
        let stats = webhook.stats();
        assert_eq!(stats.delivered, 20);
        assert!(stats.refused_with(503) >= 1, "{stats:?}");
        assert_eq!(stats.attempts, 20 + stats.refused_with(503));
        assert!(
            !flaky.overlapped.load(Ordering::SeqCst) && !steady.overlapped.load(Ordering::SeqCst)
        );
        assert!(!flaky.seen.lock().unwrap().is_empty() && !steady.seen.lock().unwrap().is_empty());
        // Each chat's updates were accepted in the order they were queued.
        let mut accepted: Vec<(i64, i64)> = steady.seen.lock().unwrap().clone();
        accepted.sort();
        for chat in 1..=4 {
            let ids: Vec<i64> = accepted
                .iter()
                .filter(|(_, c)| *c == chat)
                .map(|(i, _)| *i)
                .collect();
            let mut sorted = ids.clone();
            sorted.sort();
            assert_eq!(ids, sorted);
        }
        assert_eq!(api.confirmed(), 20);
    }

    #[tokio::test]
    async fn a_replica_that_does_not_answer_is_retried_on_the_next() {
        let api = BotApi::start().await;
        let steady = Arc::new(Recorder::default());
        // A port nobody listens on: the connection is refused.
        let dead = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let replicas = vec![dead, replica(steady.clone()).await];
        api.push_text(7, "你好");
        let webhook = api.deliver(Delivery::to(replicas, "tok"));
        api.wait_until(Duration::from_secs(20), |_| api.undelivered() == 0)
            .await;
        let stats = webhook.stats();
        assert_eq!((stats.delivered, stats.unanswered), (1, 1), "{stats:?}");
        assert_eq!(steady.seen.lock().unwrap().as_slice(), [(1, 7)]);
    }

    #[tokio::test]
    async fn set_webhook_is_shown_by_get_webhook_info_and_stops_get_updates() {
        use teloxide::prelude::*;

        let api = BotApi::start().await;
        let bot = api.bot();
        let refused = bot
            .set_webhook("http://plain.example/telegram".parse().unwrap())
            .await;
        assert!(refused.is_err(), "Telegram wants HTTPS");
        bot.set_webhook("https://bot.example/telegram".parse().unwrap())
            .secret_token("tok".to_owned())
            .await
            .unwrap();
        let info = bot.get_webhook_info().await.unwrap();
        assert_eq!(info.url.unwrap().as_str(), "https://bot.example/telegram");
        assert_eq!(api.webhook().unwrap()["secret_token"], "tok");
        let conflict = bot.get_updates().await;
        assert!(conflict.is_err(), "{conflict:?}");
        bot.delete_webhook().await.unwrap();
        assert!(bot.get_webhook_info().await.unwrap().url.is_none());
        assert!(bot.get_updates().await.unwrap().is_empty());
    }
}
