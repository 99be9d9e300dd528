//! The web console through its router: the gate (sign-in, CSRF, headers), try-it, the simulator, the
//! editor's publish/refuse/rollback, the review inbox, trends — and that no page shows a citizen's secret.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

use shebao::console::{self, Console, GATED, auth::Accounts};
use shebao::dialogue::{Effect, Input, Record, State, step};
use shebao::knowledge::KnowledgeBase;
use shebao::live::LiveKnowledge;
use shebao::store::api::{Commit, Committed, Store};
use shebao::store::memory::MemoryStore;

use crate::helpers::KnowledgeDir;

/// The fixed time of every console test (late November 2026).
pub const NOW: i64 = 1_796_000_000;

fn now() -> i64 {
    NOW
}

/// A PHC hash with argon2's smallest parameters, so sign-ins in tests are quick.
pub fn cheap_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::encode_b64(b"console-test-salt").unwrap();
    argon
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

pub const STAFF: &str = "wang";
pub const PASSWORD: &str = "长风破浪会有时";

/// Commits what the engine records for a citizen's `message` into `store`, as the session does.
pub async fn remember(store: &dyn Store, kb: &KnowledgeBase, chat: i64, message: &str, at: i64) {
    let (state, _, effects) = step(kb, State::default(), Input::Text(message.to_string()), at);
    let records = effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Record(r) => Some(r),
            Effect::Forget => None,
        })
        .collect();
    commit(store, chat, state, records, at).await;
}

/// Commits `records` for a new `chat` at `at`.
pub async fn commit(store: &dyn Store, chat: i64, state: State, records: Vec<Record>, at: i64) {
    let committed = store
        .commit(Commit {
            chat,
            version: 0,
            update: None,
            state: Some(state),
            recent: Vec::new(),
            records,
            outbox: Vec::new(),
            now: at,
        })
        .await
        .unwrap();
    assert!(matches!(committed, Committed::Applied(_)), "{committed:?}");
}

pub const DAY: i64 = 86_400;

pub fn answered(entry: &str) -> Record {
    Record::Answered {
        entry: entry.to_string(),
    }
}

/// A console on a scratch copy of the shipped knowledge, with one staff account.
pub struct Harness {
    pub knowledge: KnowledgeDir,
    pub store: Arc<dyn Store>,
    pub app: axum::Router,
}

impl Harness {
    pub async fn new() -> Harness {
        Harness::with_store(Arc::new(MemoryStore::new())).await
    }

    pub async fn with_store(store: Arc<dyn Store>) -> Harness {
        let knowledge = KnowledgeDir::shipped();
        let accounts =
            Accounts::parse(&format!("{STAFF}:{}\n", cheap_hash(PASSWORD)), "test").unwrap();
        let live = Arc::new(LiveKnowledge::open(Some(knowledge.path())).unwrap());
        let console = Console::new(console::Options {
            live,
            versions: console::Versions {
                history: Arc::new(console::history::FileHistory::at(
                    &knowledge.path().join(".history"),
                )),
                write_to: Some(knowledge.path().to_path_buf()),
            },
            accounts,
            secret: Some(b"test secret".to_vec()),
            store: Some(store.clone()),
            base: String::new(),
            clock: now,
        })
        .await
        .unwrap();
        Harness {
            app: console::router(Arc::new(console)),
            knowledge,
            store,
        }
    }

    /// The first line of `entry`'s answer in the knowledge directory now.
    pub fn first_answer_line(&self, entry: &str) -> String {
        let source = shebao::knowledge::Source::from_dir(self.knowledge.path()).unwrap();
        let kb = KnowledgeBase::load(&source).unwrap();
        let answer = &kb.entry(entry).unwrap().answer;
        answer.lines().next().unwrap().to_string()
    }

    pub fn client(&self) -> Client {
        Client {
            app: self.app.clone(),
            cookie: None,
            csrf: String::new(),
        }
    }

    /// A client signed in as [`STAFF`].
    pub async fn signed_in(&self) -> Client {
        let mut client = self.client();
        client.get("/signin").await;
        let page = client
            .post("/signin", &[("name", STAFF), ("password", PASSWORD)])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        client
    }
}

/// One response, its body as text.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// A browser stand-in: keeps the session cookie and the latest CSRF token it was shown.
pub struct Client {
    app: axum::Router,
    pub cookie: Option<String>,
    pub csrf: String,
}

impl Client {
    async fn send(&mut self, request: Request<Body>) -> Page {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let headers = response.headers().clone();
        if let Some(set) = headers.get(header::SET_COOKIE) {
            let value = set.to_str().unwrap();
            self.cookie = Some(value.split(';').next().unwrap().to_string());
        }
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(token) = csrf_in(&body) {
            self.csrf = token;
        }
        Page {
            status,
            location: headers
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_string()),
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut request = Request::get(path);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Posts a form with the current CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form(fields);
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }
}

/// The CSRF token of the first form on a page, if it has one.
pub fn csrf_in(body: &str) -> Option<String> {
    body.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string)
}

/// The form body of `fields`.
pub fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The parts of `message` the guard masked, each with two characters of what stood beside it, so
/// a match on a page is that secret as the citizen typed it and not some other number.
pub fn masked_spans(message: &str) -> Vec<String> {
    let redacted = shebao::text::guard::guard(message).redacted;
    let literals: Vec<&str> = redacted.split(shebao::text::guard::MASK).collect();
    let chars: Vec<char> = message.chars().collect();
    let text: String = chars.iter().collect();
    let mut spans = Vec::new();
    let mut at = 0;
    for (i, lit) in literals.iter().enumerate() {
        let Some(found) = text[at..].find(lit) else {
            break;
        };
        let start = at + found;
        if i > 0 && start > at {
            let gap = &text[at..start];
            let before: String = literals[i - 1]
                .chars()
                .rev()
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let after: String = lit.chars().take(2).collect();
            spans.push(format!("{before}{gap}{after}"));
        }
        at = start + lit.len();
    }
    spans
}

/// The first masked span of a secret message that `page` shows, HTML-escaped as pages show text.
pub fn leaked(page: &str, message: &str) -> Option<String> {
    masked_spans(message).into_iter().find(|span| {
        let escaped = minijinja::HtmlEscape(span).to_string();
        page.contains(&escaped) || page.contains(span.as_str())
    })
}

#[tokio::test]
async fn every_route_without_a_session_redirects_to_sign_in() {
    let h = Harness::new().await;
    for (method, path) in GATED.iter().chain(&[("GET", "/no/such/page")]) {
        let mut client = h.client();
        let page = match *method {
            "GET" => client.get(path).await,
            _ => client.post_raw(path, &[("q", "x")]).await,
        };
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{method} {path}");
        assert_eq!(page.location.as_deref(), Some("/signin"), "{method} {path}");
    }
    let mut client = h.client();
    assert_eq!(client.get("/signin").await.status, StatusCode::OK);
    assert_eq!(
        client.get("/static/console.css").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_form_without_its_sessions_csrf_token_is_refused() {
    let h = Harness::new().await;
    let mut client = h.signed_in().await;
    let mut other = h.signed_in().await;
    other.get("/try").await;
    for token in ["", "forged", other.csrf.as_str()] {
        let page = client
            .post_raw("/try", &[("csrf", token), ("q", "密码忘了")])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "token {token:?}");
    }
    client.get("/try").await;
    let page = client.post("/try", &[("q", "密码忘了")]).await;
    assert_eq!(page.status, StatusCode::OK);
    // Signing in needs the token of the sign-in page too.
    let mut stranger = h.client();
    let page = stranger
        .post_raw("/signin", &[("name", STAFF), ("password", PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_response_carries_the_strict_security_headers() {
    let h = Harness::new().await;
    let mut client = h.signed_in().await;
    for path in [
        "/signin",
        "/try",
        "/knowledge",
        "/trends.svg",
        "/no/such/page",
    ] {
        let page = client.get(path).await;
        let csp = page.headers.get(header::CONTENT_SECURITY_POLICY).unwrap();
        assert_eq!(csp, console::CSP, "{path}");
        assert!(!page.body.contains("<script"), "{path} has a script");
    }
    let mut fresh = h.client();
    let page = fresh.get("/signin").await;
    let set = page
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_guessing_is_braked() {
    let h = Harness::new().await;
    let mut client = h.client();
    client.get("/signin").await;
    for _ in 0..console::auth::FREE_FAILURES {
        let page = client
            .post("/signin", &[("name", STAFF), ("password", "错的")])
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("账号或密码不对"));
    }
    let page = client
        .post("/signin", &[("name", STAFF), ("password", PASSWORD)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "braked even when right"
    );
    assert!(page.body.contains("秒后再试"), "{}", page.body);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let h = Harness::new().await;
    let mut client = h.signed_in().await;
    client.get("/try").await;
    let page = client.post("/signout", &[]).await;
    assert_eq!(page.location.as_deref(), Some("/signin"));
    assert_eq!(
        client.get("/try").await.location.as_deref(),
        Some("/signin")
    );
}

#[tokio::test]
async fn try_it_shows_the_decision_why_and_the_candidates() {
    let h = Harness::new().await;
    let mut client = h.signed_in().await;
    client.get("/try").await;
    let page = client
        .post("/try", &[("q", "电子社保卡密码忘了怎么办")])
        .await;
    assert!(
        page.body.contains("<b>回答</b> · forgot_pin"),
        "{}",
        page.body
    );
    assert!(page.body.contains("答了 forgot_pin「"), "the ask verdict");
    assert!(page.body.contains("id=\"candidates\""));
    assert!(page.body.contains("通过哪个问法匹配"));
    // What tells the first two apart, by word: 忘 speaks for forgetting.
    assert!(
        page.body
            .contains("前两名之间起决定作用的词（回归模型）：偏向 forgot_pin：「忘"),
        "{}",
        page.body
    );
    let page = client.post("/try", &[("q", "医保报销比例是多少")]).await;
    assert!(page.body.contains("<b>转人工</b>"), "{}", page.body);
}

#[tokio::test]
async fn no_page_shows_a_secret_a_citizen_typed() {
    let kb = KnowledgeBase::embedded().unwrap();
    let store = Arc::new(MemoryStore::new());
    let messages: Vec<String> = crate::guard::secret_cases()
        .into_iter()
        .map(|c| c.message)
        .collect();
    assert!(messages.len() >= 100);
    for (n, message) in messages.iter().enumerate() {
        let at = NOW - 3600 - n as i64;
        remember(&*store, &kb, n as i64 + 1, message, at).await;
    }
    let h = Harness::with_store(store).await;
    let mut client = h.signed_in().await;
    let mut leaks = Vec::new();
    for message in &messages {
        client.get("/try").await;
        let tried = client.post("/try", &[("q", message)]).await;
        client.get("/simulator").await;
        let simulated = client
            .post(
                "/simulator",
                &[("state", ""), ("transcript", "[]"), ("text", message)],
            )
            .await;
        for (what, page) in [("try", &tried), ("simulator", &simulated)] {
            assert_eq!(page.status, StatusCode::OK);
            if let Some(span) = leaked(&page.body, message) {
                leaks.push(format!("{what}: {message:?} shows {span:?}"));
            }
        }
    }
    for path in ["/review", "/trends", "/health", "/trends.csv"] {
        let page = client.get(path).await;
        for message in &messages {
            if let Some(span) = leaked(&page.body, message) {
                leaks.push(format!("{path}: {message:?} shows {span:?}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    let recorded = h.store.unanswered(0).await.unwrap().len();
    assert!(
        recorded > 0,
        "some secret messages were also questions the bot could not answer"
    );
}

#[test]
fn a_masked_span_is_the_secret_as_typed_with_its_neighbours() {
    assert_eq!(
        masked_spans("我的密码是135790怎么改"),
        vec!["码是135790怎么"]
    );
}

#[tokio::test]
async fn the_simulator_walks_a_flow_by_buttons_and_records_nothing() {
    let h = Harness::new().await;
    let mut client = h.signed_in().await;
    client.get("/simulator").await;
    let page = client
        .post(
            "/simulator",
            &[("state", ""), ("transcript", "[]"), ("text", "/reset")],
        )
        .await;
    assert!(
        page.body.contains("name=\"choice\" value=\"0\""),
        "{}",
        page.body
    );
    let state = hidden(&page.body, "state");
    let transcript = hidden(&page.body, "transcript");
    let page = client
        .post(
            "/simulator",
            &[
                ("state", &state),
                ("transcript", &transcript),
                ("choice", "0"),
            ],
        )
        .await;
    assert!(
        page.body.contains("微信"),
        "the choice of app: {}",
        page.body
    );
    assert!(page.body.contains("【好，开始】"));
    assert_eq!(
        h.store.active_chats(0, &[]).await.unwrap(),
        0,
        "no chat stored"
    );
    let counts = h.store.counts(0).await.unwrap();
    assert_eq!(counts, shebao::store::Counts::default(), "nothing counted");
}

fn hidden(body: &str, name: &str) -> String {
    let raw = body
        .split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    unescape(raw)
}

/// Text as it was before minijinja escaped it into a page.
pub fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// Stages an edit of `forgot_pin`'s answer and publishes it.
async fn publish_answer(client: &mut Client, answer: &str) -> Page {
    let page = client.get("/knowledge/forgot_pin").await;
    let questions = textarea(&page.body, "questions");
    stage_and_publish(client, "forgot_pin", &questions, answer, "测试").await
}

/// What a test drives the console with: through the router, or over HTTP.
pub trait Forms {
    async fn get(&mut self, path: &str) -> Page;
    /// Posts a form with the current CSRF token.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page;
}

impl Forms for Client {
    async fn get(&mut self, path: &str) -> Page {
        Client::get(self, path).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        Client::post(self, path, fields).await
    }
}

/// Stages `entry` with `questions` (one per line) and `answer` in the editor and publishes the draft
/// with `note`, as an editor does; returns the publish's answer.
pub async fn stage_and_publish(
    console: &mut impl Forms,
    entry: &str,
    questions: &str,
    answer: &str,
    note: &str,
) -> Page {
    let path = format!("/knowledge/{entry}");
    console.get(&path).await;
    let staged = console
        .post(
            &path,
            &[
                ("questions", questions),
                ("answer", answer),
                ("action", "stage"),
            ],
        )
        .await;
    assert_eq!(
        staged.location.as_deref(),
        Some("/publish?done=staged"),
        "{}",
        staged.body
    );
    console.get("/publish").await;
    console.post("/publish", &[("note", note)]).await
}

fn textarea(body: &str, id: &str) -> String {
    let raw = body
        .split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap()
        .split_once('>')
        .unwrap()
        .1
        .split("</textarea>")
        .next()
        .unwrap();
    unescape(raw)
}

#[tokio::test]
async fn a_published_edit_goes_live_is_kept_in_the_history_and_rolls_back() {
    let h = Harness::new().await;
    let mut client = h.signed_in().await;
    let original = h.knowledge.read("faq.yaml");
    let page = publish_answer(&mut client, "在App里点「忘记密码」，按提示重新设置就行。").await;
    assert_eq!(
        page.location.as_deref(),
        Some("/history?done=published"),
        "{}",
        page.body
    );
    assert!(
        h.knowledge
            .read("faq.yaml")
            .contains("在App里点「忘记密码」")
    );
    let history = client.get("/history?done=published").await;
    assert!(history.body.contains("已发布"));
    assert!(history.body.contains(&format!("<td>{STAFF}</td>")));
    let diff = client.get("/history/2").await;
    assert!(
        diff.body.contains("+       在App里点「忘记密码」"),
        "{}",
        diff.body
    );
    client.get("/history").await;
    let page = client.post("/history/1/rollback", &[]).await;
    assert_eq!(
        page.location.as_deref(),
        Some("/history?done=rolledback"),
        "{}",
        page.body
    );
    assert_eq!(h.knowledge.read("faq.yaml"), original);
    let history = client.get("/history").await;
    assert!(history.body.contains("回滚到版本 1"));
}

#[tokio::test]
async fn a_publish_that_breaks_a_regression_case_is_refused_with_the_case_shown() {
    let h = Harness::new().await;
    let mut client = h.signed_in().await;
    let original = h.knowledge.read("faq.yaml");
    let page = client.get("/knowledge/forgot_pin").await;
    let answer = textarea(&page.body, "answer");
    // Only the canonical question left: the cases that asked for forgot_pin in other words fail.
    let staged = client
        .post(
            "/knowledge/forgot_pin",
            &[
                ("questions", "忘记电子社保卡密码怎么办？"),
                ("answer", &answer),
                ("action", "stage"),
            ],
        )
        .await;
    assert_eq!(staged.status, StatusCode::SEE_OTHER, "{}", staged.body);
    let page = client.get("/publish").await;
    assert!(page.body.contains("id=\"problems\""), "{}", page.body);
    let page = client.post("/publish", &[("note", "")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("tests.tsv:"), "{}", page.body);
    assert!(page.body.contains("expected forgot_pin"), "{}", page.body);
    assert_eq!(h.knowledge.read("faq.yaml"), original, "nothing written");
}

#[tokio::test]
async fn an_unanswered_question_added_as_an_alternate_is_answered_once_published() {
    let kb = KnowledgeBase::embedded().unwrap();
    let store = Arc::new(MemoryStore::new());
    let question = "那个码我彻底断片了";
    assert_ne!(
        shebao::console::edit::what_it_does(&kb, question),
        "forgot_pin",
        "the premise"
    );
    remember(&*store, &kb, 1, question, NOW - 600).await;
    let h = Harness::with_store(store).await;
    let mut client = h.signed_in().await;
    let inbox = client.get("/review").await;
    assert!(inbox.body.contains(question), "{}", inbox.body);
    let key = hidden(&inbox.body, "key");
    let preview = client
        .post(
            "/review/preview",
            &[
                ("key", &key),
                ("action", "alternate"),
                ("target", "forgot_pin"),
            ],
        )
        .await;
    assert!(
        preview.body.contains("加为条目 forgot_pin 的问法"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("这个改动会让哪些问题换答案"));
    assert!(
        preview.body.contains("<td>本次</td>"),
        "the question itself changes: {}",
        preview.body
    );
    let applied = client
        .post(
            "/review/apply",
            &[
                ("key", &key),
                ("action", "alternate"),
                ("target", "forgot_pin"),
            ],
        )
        .await;
    assert_eq!(applied.location.as_deref(), Some("/publish?done=staged"));
    client.get("/publish").await;
    let published = client.post("/publish", &[("note", "")]).await;
    assert_eq!(
        published.location.as_deref(),
        Some("/history?done=published"),
        "{}",
        published.body
    );
    assert!(
        h.knowledge
            .read("faq.yaml")
            .contains(&format!("      - {question}\n"))
    );
    client.get("/simulator").await;
    let chat = client
        .post(
            "/simulator",
            &[("state", ""), ("transcript", "[]"), ("text", question)],
        )
        .await;
    let answer = h.first_answer_line("forgot_pin");
    assert!(
        chat.body
            .contains(&minijinja::HtmlEscape(&answer).to_string()),
        "{}",
        chat.body
    );
    let inbox = client.get("/review").await;
    assert!(
        !inbox.body.contains(question),
        "handled questions leave the inbox"
    );
}

#[tokio::test]
async fn trends_draw_a_line_per_series_and_download_as_csv() {
    let store = Arc::new(MemoryStore::new());
    for d in 0..5 {
        let mut records = vec![answered("forgot_pin"); 10 + d as usize];
        records.extend([Record::SecretIntercepted, Record::SecretIntercepted]);
        commit(&*store, d + 1, State::default(), records, NOW - d * DAY).await;
    }
    let h = Harness::with_store(store).await;
    let mut client = h.signed_in().await;
    let page = client.get("/trends?days=7").await;
    assert!(page.body.contains("trends.svg?days=7"));
    let svg = client.get("/trends.svg?days=7").await;
    assert_eq!(
        svg.headers.get(header::CONTENT_TYPE).unwrap(),
        "image/svg+xml"
    );
    assert_eq!(svg.body.matches("<polyline").count(), 7);
    let csv = client.get("/trends.csv?days=7").await;
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 8, "{}", csv.body);
    assert!(
        lines[7].ends_with(",10,10,0,0,0,0,2"),
        "today: {}",
        lines[7]
    );
    let totals: u64 = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(totals, 10 + 11 + 12 + 13 + 14, "every answer counted once");
}

#[tokio::test]
async fn health_shows_the_live_version_the_store_and_the_backlog() {
    let h = Harness::new().await;
    let mut client = h.signed_in().await;
    let page = client.get("/health").await;
    assert!(page.body.contains("版本 1"), "{}", page.body);
    assert!(page.body.contains("正常：memory"), "{}", page.body);
    assert!(
        page.body.contains("<td>0</td>"),
        "the backlog: {}",
        page.body
    );
}

#[test]
fn hash_password_prints_a_hash_the_accounts_file_accepts() {
    let out = crate::helpers::shebao(&["console", "hash-password"], "门前大桥下\n");
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let hash = crate::helpers::stdout(&out).trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let accounts = Accounts::parse(&format!("li:{hash}"), "test").unwrap();
    assert!(accounts.verify("li", "门前大桥下"));
    assert!(!accounts.verify("li", "门前大桥"));
}

#[test]
fn import_publishes_a_directory_that_passes_check_and_refuses_one_that_does_not() {
    let live = KnowledgeDir::shipped();
    let live_path = live.path().to_str().unwrap();
    let edited = KnowledgeDir::shipped();
    edited.replace(
        "faq.yaml",
        "      - 忘记电子社保卡密码怎么办？\n",
        "      - 忘记电子社保卡密码怎么办？\n      - 那六个数想不起来了\n",
    );
    let out = crate::helpers::shebao(
        &[
            "knowledge",
            "import",
            "--knowledge",
            live_path,
            "--as",
            "li",
            edited.path().to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", crate::helpers::stdout(&out));
    assert!(
        crate::helpers::stdout(&out).contains("as version 2"),
        "{}",
        crate::helpers::stdout(&out)
    );
    assert!(live.read("faq.yaml").contains("那六个数想不起来了"));

    let broken = KnowledgeDir::shipped();
    broken.write("tests.tsv", "greeting\t我的医保卡丢了怎么补办\n");
    let out = crate::helpers::shebao(
        &[
            "knowledge",
            "import",
            "--knowledge",
            live_path,
            broken.path().to_str().unwrap(),
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(
        crate::helpers::stdout(&out).contains("expected greeting"),
        "{}",
        crate::helpers::stdout(&out)
    );
    assert!(
        live.read("faq.yaml").contains("那六个数想不起来了"),
        "unchanged"
    );

    let exported = tempfile::tempdir().unwrap();
    let out = crate::helpers::shebao(
        &[
            "knowledge",
            "export",
            "--knowledge",
            live_path,
            "--version",
            "1",
            exported.path().to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let first = std::fs::read_to_string(exported.path().join("faq.yaml")).unwrap();
    assert!(
        !first.contains("那六个数想不起来了"),
        "version 1 is the files found first"
    );
    let history = console::history::FileHistory::beside(live.path());
    std::fs::remove_dir_all(history.root()).unwrap();
}
