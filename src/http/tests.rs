//! The router against a fake backend: statuses, the secret check, draining and what the metrics show.

use std::sync::Mutex;

use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::*;

const SECRET: &str = "s3cret_Token-1";
const CHAT: i64 = 987_654_321;

/// Records the updates it is given; fails while `failing` is set; waits for a permit of `gate` when given.
#[derive(Default)]
struct Fake {
    handled: Mutex<Vec<u32>>,
    failing: AtomicBool,
    gate: Option<Semaphore>,
}

#[async_trait::async_trait]
impl Backend for Fake {
    async fn handle(&self, update: Update) -> Result<Outcome, Unavailable> {
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await.expect("gate open");
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(Unavailable("the store is down".into()));
        }
        self.handled.lock().unwrap().push(update.id.0);
        Ok(Outcome::Applied)
    }

    async fn ready(&self) -> Result<(), Unavailable> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Unavailable("the store is down".into()));
        }
        Ok(())
    }

    async fn backlog(&self) -> Option<u64> {
        Some(3)
    }
}

fn app(fake: Arc<Fake>, secret: Option<&str>) -> Arc<App> {
    Arc::new(App {
        backend: fake,
        secret: secret.map(|s| Secret::new(s).unwrap()),
        metrics: crate::metrics::install(),
        drain: Arc::new(Drain::default()),
    })
}

fn update(id: u32) -> String {
    json!({
        "update_id": id,
        "message": {
            "message_id": 5,
            "date": 1_700_000_000,
            "chat": {"id": CHAT, "type": "private", "first_name": "Test"},
            "from": {"id": CHAT, "is_bot": false, "first_name": "Test"},
            "text": "密码忘了怎么办",
        }
    })
    .to_string()
}

fn post(body: impl Into<Body>, secret: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/telegram").header("content-type", "application/json");
    if let Some(secret) = secret {
        request = request.header(webhook::SECRET_HEADER, secret);
    }
    request.body(body.into()).unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

async fn send(app: &Arc<App>, request: Request<Body>) -> (StatusCode, String, Option<String>) {
    let response = router(app.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned(), retry)
}

#[tokio::test]
async fn an_update_with_the_secret_is_handled_before_the_200() {
    let fake = Arc::new(Fake::default());
    let app = app(fake.clone(), Some(SECRET));
    let (status, _, _) = send(&app, post(update(41), Some(SECRET))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(*fake.handled.lock().unwrap(), [41]);
}

#[tokio::test]
async fn a_missing_or_wrong_secret_token_gets_401_and_is_not_handled() {
    let fake = Arc::new(Fake::default());
    let app = app(fake.clone(), Some(SECRET));
    for given in [
        None,
        Some("wrong"),
        Some("s3cret_Token-"),
        Some("s3cret_Token-12"),
    ] {
        let (status, _, _) = send(&app, post(update(1), given)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{given:?}");
    }
    assert!(fake.handled.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_store_failure_gets_a_503_with_a_short_retry_after() {
    let fake = Arc::new(Fake::default());
    fake.failing.store(true, Ordering::SeqCst);
    let app = app(fake.clone(), Some(SECRET));
    let (status, _, retry) = send(&app, post(update(7), Some(SECRET))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some("1"));

    fake.failing.store(false, Ordering::SeqCst);
    let (status, _, _) = send(&app, post(update(7), Some(SECRET))).await;
    assert_eq!(status, StatusCode::OK, "the redelivery succeeds");
    assert_eq!(*fake.handled.lock().unwrap(), [7]);
}

#[tokio::test]
async fn a_body_that_is_not_an_update_gets_200_and_is_ignored() {
    let fake = Arc::new(Fake::default());
    let app = app(fake.clone(), Some(SECRET));
    for body in ["not json", "{\"update_id\": \"x\"}", "[]"] {
        let (status, _, _) = send(&app, post(body, Some(SECRET))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert!(fake.handled.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_update_of_a_kind_teloxide_does_not_know_is_passed_on_to_be_ignored() {
    let fake = Arc::new(Fake::default());
    let app = app(fake.clone(), Some(SECRET));
    let body = json!({"update_id": 9, "some_future_kind": {"x": 1}}).to_string();
    let (status, _, _) = send(&app, post(body, Some(SECRET))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(*fake.handled.lock().unwrap(), [9]);
}

#[tokio::test]
async fn an_oversized_body_is_refused_unread() {
    let fake = Arc::new(Fake::default());
    let app = app(fake.clone(), Some(SECRET));
    let body = format!(
        "{{\"update_id\": 1, \"pad\": \"{}\"}}",
        "x".repeat(MAX_BODY_BYTES)
    );
    let (status, _, _) = send(&app, post(body, Some(SECRET))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(fake.handled.lock().unwrap().is_empty());
}

#[tokio::test]
async fn without_a_secret_there_is_no_webhook_only_health_and_metrics() {
    let app = app(Arc::new(Fake::default()), None);
    let (status, _, _) = send(&app, post(update(1), Some(SECRET))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, get("/livez")).await.0, StatusCode::OK);
    assert_eq!(send(&app, get("/readyz")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn readyz_is_503_when_the_store_fails_and_while_draining_while_livez_stays_200() {
    let fake = Arc::new(Fake::default());
    let app = app(fake.clone(), Some(SECRET));
    assert_eq!(send(&app, get("/readyz")).await.0, StatusCode::OK);
    fake.failing.store(true, Ordering::SeqCst);
    assert_eq!(
        send(&app, get("/readyz")).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    fake.failing.store(false, Ordering::SeqCst);

    app.drain.start();
    let (status, body, _) = send(&app, get("/readyz")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
    );
    assert_eq!(send(&app, get("/livez")).await.0, StatusCode::OK);
    let (status, _, _) = send(&app, post(update(3), Some(SECRET))).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "new updates go to another replica"
    );
    assert!(fake.handled.lock().unwrap().is_empty());
}

#[tokio::test]
async fn draining_finishes_only_after_the_update_in_flight_is_handled() {
    let fake = Arc::new(Fake {
        gate: Some(Semaphore::new(0)),
        ..Fake::default()
    });
    let app = app(fake.clone(), Some(SECRET));
    let in_flight = tokio::spawn({
        let app = app.clone();
        async move { send(&app, post(update(5), Some(SECRET))).await.0 }
    });
    // Wait (without a clock) until the request holds its place in flight.
    while app.drain.in_flight.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    app.drain.start();
    let finished = tokio::spawn({
        let drain = app.drain.clone();
        async move { drain.finished().await }
    });
    tokio::task::yield_now().await;
    assert!(!finished.is_finished(), "an update is still in flight");
    fake.gate.as_ref().unwrap().add_permits(1);
    assert_eq!(in_flight.await.unwrap(), StatusCode::OK);
    finished.await.unwrap();
    assert_eq!(*fake.handled.lock().unwrap(), [5]);
}

#[tokio::test]
async fn metrics_count_updates_by_kind_and_outcome_and_never_name_a_chat() {
    let fake = Arc::new(Fake::default());
    let app = app(fake.clone(), Some(SECRET));
    send(&app, post(update(11), Some(SECRET))).await;
    let (status, text, _) = send(&app, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("shebao_updates_total{kind=\"message\",outcome=\"applied\"}"),
        "{text}"
    );
    assert!(
        text.contains("shebao_update_handling_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("shebao_outbox_backlog 3"), "{text}");
    assert!(!text.contains(&CHAT.to_string()), "{text}");
    assert!(!text.contains("密码"), "{text}");
}

#[test]
fn a_secret_follows_telegrams_rule() {
    assert_eq!(Secret::new("").unwrap_err(), SecretError::Missing);
    assert_eq!(Secret::new("  ").unwrap_err(), SecretError::Missing);
    assert_eq!(Secret::new("has space").unwrap_err(), SecretError::Invalid);
    assert_eq!(
        Secret::new(&"a".repeat(257)).unwrap_err(),
        SecretError::Invalid
    );
    let secret = Secret::new("abc_DEF-123").unwrap();
    assert!(secret.matches(b"abc_DEF-123") && !secret.matches(b"abc_DEF-124"));
    assert_eq!(format!("{secret:?}"), "Secret(…)");
}
