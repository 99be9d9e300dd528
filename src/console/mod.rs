//! The web console for support staff and FAQ editors: try a question and see why, chat in a sandbox,
//! review what went wrong, edit and publish the knowledge safely, see trends and health.
//!
//! [`router`] is one `axum::Router` (mountable under any prefix given as [`Options::base`]). Every route
//! but `/signin` and `/static/` is behind sign-in ([`auth`]); every POST carries the CSRF token of its
//! session, checked before any handler runs; every response carries a strict Content-Security-Policy
//! (no script at all: the pages are plain server-rendered HTML forms). Citizens' text appears only as the
//! guard and the store redacted it; a question typed into try-it or the simulator is shown back masked.
//!
//! Editing: changes go to a draft (one per console, in memory); **publish** runs the full `shebao check`
//! (regression cases included) on the draft, refuses with the problems listed, or records the version in
//! the [`history::History`] (who, when, files) and swaps the live knowledge it was given as a reload
//! does. With versions as files (sled) the files are also written into `--knowledge DIR`, so a bot in
//! another process on that directory reloads them by its file watcher; inside `shebao run --console`
//! the bot's own live knowledge is swapped. With versions in PostgreSQL the publish is announced, and
//! every replica loads the newest version and validates it before it swaps.

pub mod auth;
pub mod edit;
pub mod svg;

/// Published versions (kept in [`crate::knowledge::history`], where the stores reach them too).
pub use crate::knowledge::history;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Form, Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::dialogue::{Input, Reply, State as ChatState, step};
use crate::knowledge::{KNOWN_FILES, KnowledgeBase};
use crate::live::{LiveKnowledge, Reload};
use crate::review::{datetime, group};
use crate::staff::ask::{DecidingWords, View, reported_score, verdict};
use crate::store::api::Store;
use crate::text::guard::guard;
use auth::{Accounts, COOKIE, Keys, SESSION_SECONDS, Throttle};
use history::{History, files_of, source_of};

/// The Content-Security-Policy of every response: nothing but this origin's stylesheet and images.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Days the review inbox and the trends look back by default.
pub const REVIEW_DAYS: u32 = 30;

/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 512 * 1024;

/// Why a console page failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("找不到：{0}")]
    NotFound(String),
    #[error("请求不对：{0}")]
    BadRequest(String),
    #[error(transparent)]
    History(#[from] history::HistoryError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("写知识库文件失败：{0}")]
    Io(#[from] std::io::Error),
    #[error("页面模板出错：{0}")]
    Template(#[from] minijinja::Error),
    #[error("后台任务失败：{0}")]
    Task(String),
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = match self {
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        tracing::warn!(error = %self, "console request failed");
        let body = format!(
            "<!doctype html><meta charset=utf-8><title>出错了</title><p>{}</p>",
            minijinja::HtmlEscape(&self.to_string())
        );
        (status, Html(body)).into_response()
    }
}

type Page = Result<Response, ConsoleError>;

/// How to start a console.
pub struct Options {
    /// The knowledge the console shows and publishes into: its own (`shebao console`) or the bot's
    /// (`shebao run --console`), so a publish changes what the bot answers at once.
    pub live: Arc<LiveKnowledge>,
    /// Where published versions are kept, and whether a publish writes the files into the knowledge
    /// directory too ([`Versions::for_store`] picks them).
    pub versions: Versions,
    pub accounts: Accounts,
    /// The shared secret that signs sessions (`SHEBAO_CONSOLE_SECRET`); random when `None`.
    pub secret: Option<Vec<u8>>,
    /// The conversation store, for the review inbox, trends and health; `None`: those pages are empty.
    pub store: Option<Arc<dyn Store>>,
    /// The path the router is mounted under (`""` at the root, `/console` when nested).
    pub base: String,
    /// Unix seconds now (a clock argument, so tests need no waiting).
    pub clock: fn() -> i64,
}

/// Where published versions go.
pub struct Versions {
    pub history: Arc<dyn History>,
    /// The knowledge directory a publish writes the files into (versions as files beside it); `None`
    /// where the versions live in the database and every replica loads them from there.
    pub write_to: Option<PathBuf>,
}

impl Versions {
    /// The store's versions when it keeps them (PostgreSQL), else files in `DIR.history/` beside the
    /// live knowledge's directory, which a publish writes into.
    pub fn for_store(
        live: &LiveKnowledge,
        store: Option<&dyn Store>,
    ) -> Result<Versions, StartError> {
        if let Some(history) = store.and_then(|s| s.history()) {
            return Ok(Versions {
                history,
                write_to: None,
            });
        }
        let dir = live.dir().ok_or(StartError::NoDirectory)?;
        Ok(Versions::beside(dir))
    }

    /// Versions as files in `DIR.history/` beside the knowledge directory `dir`, published into `dir`.
    pub fn beside(dir: &Path) -> Versions {
        Versions {
            history: Arc::new(history::FileHistory::beside(dir)),
            write_to: Some(dir.to_path_buf()),
        }
    }
}

/// Unsaved edits, shared by the staff of this console.
#[derive(Debug, Clone)]
struct Draft {
    files: Vec<(String, String)>,
    notes: Vec<String>,
}

/// Everything the handlers share.
pub struct Console {
    /// How problems name the files (the knowledge directory, or `knowledge`).
    names: PathBuf,
    live: Arc<LiveKnowledge>,
    history: Arc<dyn History>,
    write_to: Option<PathBuf>,
    store: Option<Arc<dyn Store>>,
    accounts: Accounts,
    keys: Keys,
    throttle: Throttle,
    draft: Mutex<Option<Draft>>,
    templates: Environment<'static>,
    base: String,
    clock: fn() -> i64,
}

/// Why a console could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    History(#[from] history::HistoryError),
    #[error(
        "the console publishes into --knowledge DIR and keeps versions beside it: give the directory (or a PostgreSQL --store, where versions live in the database)"
    )]
    NoDirectory,
    #[error("console templates: {0}")]
    Template(#[from] minijinja::Error),
}

macro_rules! templates {
    ($env:ident, $($name:literal),*) => {
        $($env.add_template($name, include_str!(concat!("templates/", $name)))?;)*
    };
}

impl Console {
    /// Published version `n`, or the not-found page.
    async fn version(&self, n: u64) -> Result<history::Version, ConsoleError> {
        self.history
            .get(n)
            .await
            .map_err(|_| ConsoleError::NotFound(format!("版本 {n}")))
    }

    /// A console on `opts.live`: records the live files as version 1 when the history is empty, and
    /// remembers which version the live files are.
    pub async fn new(opts: Options) -> Result<Console, StartError> {
        let live = opts.live;
        let Versions { history, write_to } = opts.versions;
        let files = files_of(&live.source());
        history.record_initial(&files, (opts.clock)()).await?;
        if let Some(latest) = history.latest().await?
            && history.get(latest.number).await?.files == files
        {
            live.install(live.source(), Some(latest));
        }
        let mut env = Environment::new();
        templates!(
            env,
            "base.html",
            "phone.html",
            "changes.html",
            "diff.html",
            "signin.html",
            "try.html",
            "simulator.html",
            "knowledge.html",
            "entry.html",
            "publish.html",
            "history.html",
            "version.html",
            "review.html",
            "review_preview.html",
            "trends.html",
            "health.html"
        );
        Ok(Console {
            names: live.names(),
            live,
            history,
            write_to,
            store: opts.store,
            accounts: opts.accounts,
            keys: Keys::new(opts.secret.as_deref()),
            throttle: Throttle::default(),
            draft: Mutex::new(None),
            templates: env,
            base: opts.base.trim_end_matches('/').to_string(),
            clock: opts.clock,
        })
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn has_draft(&self) -> bool {
        self.draft.lock().expect("draft lock").is_some()
    }

    /// The files an edit starts from: the draft's, or the live version's.
    fn working_files(&self) -> Result<Vec<(String, String)>, ConsoleError> {
        if let Some(d) = self.draft.lock().expect("draft lock").as_ref() {
            return Ok(d.files.clone());
        }
        Ok(files_of(&self.live.source()))
    }

    fn render(&self, name: &str, ctx: &Ctx, page: &str, extra: Value) -> Page {
        let template = self.templates.get_template(name)?;
        let html = template.render(context! {
            base => &self.base,
            user => &ctx.user,
            csrf => &ctx.csrf,
            page => page,
            draft => self.has_draft(),
            flash => ctx.flash.as_deref(),
            ..extra
        })?;
        Ok(Html(html).into_response())
    }

    fn to(&self, path: &str) -> Response {
        Redirect::to(&format!("{}{path}", self.base)).into_response()
    }
}

/// What the gate learnt about the request, for the handlers.
#[derive(Clone, Debug)]
struct Ctx {
    /// The signed-in account; empty on the sign-in page.
    user: String,
    csrf: String,
    ip: Option<IpAddr>,
    flash: Option<String>,
}

/// The console's routes, all behind the gate.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route(
            "/",
            get(|State(c): State<Arc<Console>>| async move { c.to("/try") }),
        )
        .route("/static/console.css", get(css))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/try", get(try_page).post(try_it))
        .route("/simulator", get(simulator_page).post(simulate))
        .route("/knowledge", get(knowledge_page))
        .route("/knowledge/{id}", get(entry_page).post(entry_edit))
        .route("/publish", get(publish_page).post(publish))
        .route("/publish/discard", post(discard))
        .route("/history", get(history_page))
        .route("/history/{n}", get(version_page))
        .route("/history/{n}/rollback", post(rollback))
        .route("/review", get(review_page))
        .route("/review/preview", post(review_preview))
        .route("/review/apply", post(review_apply))
        .route("/trends", get(trends_page))
        .route("/trends.svg", get(trends_svg))
        .route("/trends.csv", get(trends_csv))
        .route("/health", get(health_page))
        .fallback(|| async { ConsoleError::NotFound("没有这个页面".into()) })
        .layer(axum::middleware::from_fn_with_state(console.clone(), gate))
        .with_state(console)
}

/// Paths every test of the gate tries without a session: each page and each form target.
pub const GATED: [(&str, &str); 20] = [
    ("GET", "/"),
    ("GET", "/try"),
    ("POST", "/try"),
    ("GET", "/simulator"),
    ("POST", "/simulator"),
    ("GET", "/knowledge"),
    ("GET", "/knowledge/forgot_pin"),
    ("POST", "/knowledge/forgot_pin"),
    ("GET", "/publish"),
    ("POST", "/publish"),
    ("POST", "/publish/discard"),
    ("GET", "/history"),
    ("GET", "/history/1"),
    ("POST", "/history/1/rollback"),
    ("GET", "/review"),
    ("POST", "/review/preview"),
    ("POST", "/review/apply"),
    ("GET", "/trends"),
    ("GET", "/trends.svg"),
    ("GET", "/health"),
];

fn cookie_of(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            kv.trim()
                .strip_prefix(COOKIE)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_string)
        })
}

fn set_cookie(console: &Console, value: &str) -> HeaderValue {
    let path = if console.base.is_empty() {
        "/"
    } else {
        &console.base
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}"
    ))
    .expect("a cookie of base64 and ASCII")
}

/// Signs in, checks CSRF, and sets the security headers, for every route.
async fn gate(State(c): State<Arc<Console>>, req: Request, next: Next) -> Response {
    let now = c.now();
    let path = req.uri().path().to_string();
    let public = path == "/signin" || path.starts_with("/static/");
    let existing = cookie_of(&req).and_then(|v| c.keys.open(&v, now).map(|s| (s, v)));
    let (session, cookie, fresh) = match existing {
        Some((s, v)) => (s, v, false),
        None => {
            let (s, v) = c.keys.issue("", now);
            (s, v, true)
        }
    };
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip());
    let flash = req.uri().query().and_then(flash_text).map(str::to_string);
    let mut response = if !public && !session.signed_in() {
        c.to("/signin")
    } else if req.method() == Method::POST {
        let (parts, body) = req.into_parts();
        match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Err(_) => (StatusCode::PAYLOAD_TOO_LARGE, "表单太大").into_response(),
            Ok(bytes) => {
                let token = url::form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == "csrf")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                if fresh || !c.keys.csrf_ok(&cookie, &token) {
                    tracing::warn!(path, "console: form refused, CSRF token missing or wrong");
                    (
                        StatusCode::FORBIDDEN,
                        Html("<!doctype html><meta charset=utf-8><p>表单已过期或来源不对，请刷新页面后重试。</p>"),
                    )
                        .into_response()
                } else {
                    let mut req = Request::from_parts(parts, Body::from(bytes));
                    req.extensions_mut().insert(Ctx {
                        user: session.user.clone(),
                        csrf: c.keys.csrf(&cookie),
                        ip,
                        flash,
                    });
                    next.run(req).await
                }
            }
        }
    } else {
        let mut req = req;
        req.extensions_mut().insert(Ctx {
            user: session.user.clone(),
            csrf: c.keys.csrf(&cookie),
            ip,
            flash,
        });
        next.run(req).await
    };
    let headers = response.headers_mut();
    if fresh && !headers.contains_key(header::SET_COOKIE) {
        headers.insert(header::SET_COOKIE, set_cookie(&c, &cookie));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The message a redirect after a change asks the next page to show.
fn flash_text(query: &str) -> Option<&'static str> {
    let code = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned())?;
    Some(match code.as_str() {
        "published" => "✅ 已发布，新版本已生效。",
        "staged" => "已存为草稿。到「发布」页检查并发布后才生效。",
        "discarded" => "草稿已放弃。",
        "rolledback" => "✅ 已回滚，选中的版本已重新发布并生效。",
        "dismissed" => "已忽略这个问题。",
        _ => return None,
    })
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/console.css"),
    )
        .into_response()
}

/// Runs blocking work (knowledge loading, matching every question) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ConsoleError> + Send + 'static,
) -> Result<T, ConsoleError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ConsoleError::Task(e.to_string()))?
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |s| s.as_str())
}

// ---- sign-in ----

async fn signin_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    if !ctx.user.is_empty() {
        return Ok(c.to("/try"));
    }
    c.render("signin.html", &ctx, "signin", context! {})
}

async fn signin(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let name = field(&form, "name").trim().to_string();
    let password = field(&form, "password").to_string();
    let now = c.now();
    let ip_key = ctx.ip.map(|ip| format!("ip:{ip}"));
    let wait = c
        .throttle
        .wait(&format!("name:{name}"), now)
        .max(ip_key.as_deref().map_or(0, |k| c.throttle.wait(k, now)));
    let error = if wait > 0 {
        tracing::warn!(account = %name, "console: sign-in refused, too many failures");
        Some(format!("登录失败次数太多，请 {} 秒后再试。", wait))
    } else {
        let accounts = c.accounts.clone();
        let (n, p) = (name.clone(), password);
        let ok = blocking(move || Ok(accounts.verify(&n, &p))).await?;
        if ok {
            c.throttle.succeeded(&format!("name:{name}"));
            if let Some(k) = &ip_key {
                c.throttle.succeeded(k);
            }
            tracing::info!(account = %name, "console: signed in");
            let (_, cookie) = c.keys.issue(&name, now);
            let mut response = c.to("/try");
            response
                .headers_mut()
                .insert(header::SET_COOKIE, set_cookie(&c, &cookie));
            return Ok(response);
        }
        c.throttle.failed(&format!("name:{name}"), now);
        if let Some(k) = &ip_key {
            c.throttle.failed(k, now);
        }
        tracing::warn!(account = %name, "console: sign-in failed");
        Some("账号或密码不对。".to_string())
    };
    let mut response = c.render("signin.html", &ctx, "signin", context! { error })?;
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    Ok(response)
}

async fn signout(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    tracing::info!(account = %ctx.user, "console: signed out");
    let (_, cookie) = c.keys.issue("", c.now());
    let mut response = c.to("/signin");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&c, &cookie));
    Ok(response)
}

// ---- try it and the simulator ----

/// A reply as the phone preview draws it.
#[derive(Serialize, Clone, serde::Deserialize)]
struct Bubble {
    /// `bot`, `user` or `delete`.
    kind: String,
    text: String,
    options: Vec<String>,
    /// Whether its buttons can be pressed (the simulator's latest menu).
    #[serde(default)]
    live: bool,
    /// Its length, where the length matters (previews).
    #[serde(default)]
    chars: usize,
}

fn bubbles(replies: &[Reply], count_chars: bool) -> Vec<Bubble> {
    replies
        .iter()
        .map(|r| {
            let (kind, text, options) = match r {
                Reply::Text(t) => ("bot", t.clone(), Vec::new()),
                Reply::Choices {
                    prompt, options, ..
                } => ("bot", prompt.clone(), options.clone()),
                Reply::DeleteUserMessage => (
                    "delete",
                    "（这条消息含有敏感数字，机器人已删除它，不会记录。）".to_string(),
                    Vec::new(),
                ),
            };
            Bubble {
                kind: kind.into(),
                chars: if count_chars { text.chars().count() } else { 0 },
                text,
                options,
                live: false,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct CandidateRow {
    kind: &'static str,
    label: String,
    score: String,
    similarity: String,
    via: String,
}

async fn try_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    c.render("try.html", &ctx, "try", context! {})
}

async fn try_it(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let question = field(&form, "q").to_string();
    let kb = c.live.current();
    let asked = blocking(move || {
        let view = View::of(&kb, &question);
        let candidates: Vec<CandidateRow> = view
            .outcome
            .candidates
            .iter()
            .map(|cand| CandidateRow {
                kind: match cand.target {
                    crate::matcher::Target::Entry(_) => "entry",
                    crate::matcher::Target::OutOfScope(_) => "out_of_scope",
                },
                label: crate::staff::ask::name(&kb, cand),
                score: format!("{:.2}", cand.score),
                similarity: format!("{:.2}", cand.similarity),
                via: kb.target_question(cand.target, cand.question).to_string(),
            })
            .collect();
        let secrets: Vec<&str> = view.secrets.iter().map(|k| k.label()).collect();
        let decision = if view.withheld() {
            "withheld"
        } else {
            view.outcome.decision.as_str()
        };
        let decision_label = match decision {
            "answer" => "回答",
            "clarify" => "反问",
            "fallback" => "转人工",
            _ => "不作答（含敏感信息）",
        };
        Ok(context! {
            redacted => view.redacted,
            secrets => secrets.join("、"),
            decision,
            decision_label,
            id => view.id(),
            score => reported_score(&view.outcome).map(|s| format!("{s:.2}")),
            verdict => verdict(&kb, &view),
            candidates,
            deciding => view.deciding_words(&kb, 4).map(|w| format!(
                "前两名之间起决定作用的词（回归模型）：偏向 {}：{}；偏向 {}：{}",
                kb.target_label(w.best),
                DecidingWords::list(&w.toward),
                kb.target_label(w.other),
                DecidingWords::list(&w.away)
            )),
            normalized => view.outcome.normalized,
            replies => bubbles(&view.replies, false),
        })
    })
    .await?;
    c.render("try.html", &ctx, "try", context! { asked })
}

async fn simulator_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    let state = serde_json::to_string(&ChatState::default()).expect("plain data");
    c.render(
        "simulator.html",
        &ctx,
        "simulator",
        context! { replies => Vec::<Bubble>::new(), state, transcript => "[]" },
    )
}

/// Longest sandbox conversation kept in the page, in bubbles.
const MAX_TRANSCRIPT: usize = 60;

async fn simulate(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let state: ChatState = serde_json::from_str(field(&form, "state")).unwrap_or_default();
    let mut transcript: Vec<Bubble> =
        serde_json::from_str(field(&form, "transcript")).unwrap_or_default();
    let (input, shown) = match form.get("choice").and_then(|v| v.parse::<usize>().ok()) {
        Some(index) if !form.contains_key("send") => {
            let label = state.labels.get(index).cloned().unwrap_or_default();
            (
                Input::Choice {
                    menu: state.menu,
                    index,
                },
                format!("【{label}】"),
            )
        }
        _ => {
            let text = field(&form, "text").trim().to_string();
            if text.is_empty() {
                return Ok(c.to("/simulator"));
            }
            let shown = guard(&text).redacted;
            (Input::Text(text), shown)
        }
    };
    let kb = c.live.current();
    let now = c.now();
    // The sandbox steps the engine and keeps nothing: no store, no records.
    let (state, replies, effects) = blocking(move || Ok(step(&kb, state, input, now))).await?;
    // /forget in the sandbox forgets the sandbox's state; records go nowhere.
    let state = if effects.contains(&crate::dialogue::Effect::Forget) {
        ChatState::default()
    } else {
        state
    };
    for b in &mut transcript {
        b.live = false;
    }
    transcript.push(Bubble {
        kind: "user".into(),
        text: shown,
        options: Vec::new(),
        live: false,
        chars: 0,
    });
    let mut new = bubbles(&replies, false);
    if let Some(last) = new.iter_mut().rev().find(|b| !b.options.is_empty()) {
        last.live = true;
    }
    transcript.extend(new);
    if transcript.len() > MAX_TRANSCRIPT {
        transcript.drain(..transcript.len() - MAX_TRANSCRIPT);
    }
    let state = serde_json::to_string(&state).expect("plain data");
    let kept = serde_json::to_string(&transcript).expect("plain data");
    c.render(
        "simulator.html",
        &ctx,
        "simulator",
        context! { replies => transcript, state, transcript => kept },
    )
}

// ---- knowledge, drafts, publishing ----

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    files
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, t)| t.as_str())
}

fn with_file(files: &[(String, String)], name: &str, text: String) -> Vec<(String, String)> {
    let mut files = files.to_vec();
    match files.iter_mut().find(|(n, _)| n == name) {
        Some(f) => f.1 = text,
        None => files.push((name.to_string(), text)),
    }
    files
}

/// The knowledge `files` make, or every problem `check` finds in them, as lines to show.
fn checked(dir: &Path, files: &[(String, String)]) -> Result<KnowledgeBase, Vec<String>> {
    history::checked(dir, files).map_err(|p| p.iter().map(|p| p.to_string()).collect())
}

async fn knowledge_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    let files = c.working_files()?;
    let dir = c.names.clone();
    let kb = blocking(move || {
        KnowledgeBase::load(&source_of(&dir, &files))
            .map_err(|p| ConsoleError::BadRequest(p.to_string()))
    })
    .await?;
    let entries: Vec<Value> = kb
        .entries
        .iter()
        .map(|e| {
            context! { id => e.id.as_str(), question => e.canonical_question(), count => e.questions.len(), flow => e.flow }
        })
        .collect();
    let topics: Vec<Value> = kb
        .topics
        .iter()
        .map(|t| context! { id => t.id.as_str(), hint => t.hint, count => t.questions.len() })
        .collect();
    let flows: Vec<Value> = kb
        .flows
        .flows
        .iter()
        .map(|f| context! { id => f.id, title => f.title, steps => f.steps.len() })
        .collect();
    c.render(
        "knowledge.html",
        &ctx,
        "knowledge",
        context! { entries, topics, flows },
    )
}

async fn entry_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    UrlPath(id): UrlPath<String>,
) -> Page {
    let files = c.working_files()?;
    let dir = c.names.clone();
    let id2 = id.clone();
    let (questions, answer, flow, replies) = blocking(move || {
        let kb = KnowledgeBase::load(&source_of(&dir, &files))
            .map_err(|p| ConsoleError::BadRequest(p.to_string()))?;
        let e = kb
            .entry(&id2)
            .ok_or_else(|| ConsoleError::NotFound(format!("条目 {id2}")))?;
        let view = View::of(&kb, e.canonical_question());
        Ok((
            e.questions.join("\n"),
            e.answer.clone(),
            e.flow.clone(),
            bubbles(&view.replies, true),
        ))
    })
    .await?;
    c.render(
        "entry.html",
        &ctx,
        "knowledge",
        context! { id, questions, answer, flow, replies },
    )
}

async fn entry_edit(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    UrlPath(id): UrlPath<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let questions: Vec<String> = field(&form, "questions")
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let answer = field(&form, "answer").replace("\r\n", "\n");
    let stage = field(&form, "action") == "stage";
    let files = c.working_files()?;
    let dir = c.names.clone();
    let live = c.live.current();
    let (id2, q2, a2) = (id.clone(), questions.clone(), answer.clone());
    let (edited, problems, replies, changes) = blocking(move || {
        let faq = match edit::replace_entry(file(&files, "faq.yaml"), &id2, &q2, &a2) {
            Ok(faq) => faq,
            Err(e) => return Ok((None, vec![e.to_string()], Vec::new(), Vec::new())),
        };
        let edited = with_file(&files, "faq.yaml", faq);
        match KnowledgeBase::load(&source_of(&dir, &edited)) {
            Err(p) => Ok((
                None,
                p.0.iter().map(|p| p.to_string()).collect(),
                Vec::new(),
                Vec::new(),
            )),
            Ok(kb) => {
                let view = View::of(&kb, &q2[0]);
                let changes = edit::changes(&live, &kb, &[]);
                Ok((
                    Some(edited),
                    Vec::new(),
                    bubbles(&view.replies, true),
                    changes,
                ))
            }
        }
    })
    .await?;
    if stage && let Some(files) = edited {
        stage_draft(&c, &ctx, files, format!("修改条目 {id}"));
        return Ok(c.to("/publish?done=staged"));
    }
    c.render(
        "entry.html",
        &ctx,
        "knowledge",
        context! { id, questions => questions.join("\n"), answer, replies, problems, changes },
    )
}

fn stage_draft(c: &Console, ctx: &Ctx, files: Vec<(String, String)>, note: String) {
    tracing::info!(account = %ctx.user, change = %note, "console: draft changed");
    let mut draft = c.draft.lock().expect("draft lock");
    let notes = match draft.take() {
        Some(d) => d.notes,
        None => Vec::new(),
    };
    let mut notes = notes;
    notes.push(format!("{note}（{}）", ctx.user));
    *draft = Some(Draft { files, notes });
}

/// A file's changes as the diff template shows them.
fn diff(before: &[(String, String)], after: &[(String, String)]) -> Vec<Value> {
    let mut out = Vec::new();
    for name in KNOWN_FILES {
        let (old, new) = (file(before, name), file(after, name));
        if old == new {
            continue;
        }
        let text_diff = similar::TextDiff::from_lines(old, new);
        let mut lines = Vec::new();
        for (n, group) in text_diff.grouped_ops(2).iter().enumerate() {
            if n > 0 {
                lines.push(context! { tag => "equal", text => "…" });
            }
            for op in group {
                for change in text_diff.iter_changes(op) {
                    let (tag, sign) = match change.tag() {
                        similar::ChangeTag::Delete => ("delete", "-"),
                        similar::ChangeTag::Insert => ("insert", "+"),
                        similar::ChangeTag::Equal => ("equal", " "),
                    };
                    let text = format!("{sign} {}", change.value().trim_end_matches('\n'));
                    lines.push(context! { tag, text });
                }
            }
        }
        out.push(context! { name, lines });
    }
    out
}

async fn publish_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    let Some(draft) = c.draft.lock().expect("draft lock").clone() else {
        return c.render("publish.html", &ctx, "publish", context! {});
    };
    let live_files = files_of(&c.live.source());
    let dir = c.names.clone();
    let files = draft.files.clone();
    let verdict = blocking(move || Ok(checked(&dir, &files))).await?;
    let (problems, summary) = match verdict {
        Ok(kb) => (
            Vec::new(),
            format!(
                "{} 个条目、{} 个问题，{} 个回归用例全部通过",
                kb.entries.len(),
                kb.question_count(),
                kb.cases.len()
            ),
        ),
        Err(p) => (p, String::new()),
    };
    c.render(
        "publish.html",
        &ctx,
        "publish",
        context! { notes => draft.notes, problems, summary, diff => diff(&live_files, &draft.files) },
    )
}

/// Checks `files` and, when they pass, makes them the live version: recorded in the history (and
/// written into the knowledge directory when versions are files), swapped in, and announced to the
/// other replicas. Returns the problems otherwise.
async fn go_live(
    c: &Arc<Console>,
    who: &str,
    note: String,
    files: Vec<(String, String)>,
) -> Result<Result<u64, Vec<String>>, ConsoleError> {
    let published = history::publish(
        &c.names,
        c.write_to.as_deref(),
        &*c.history,
        who,
        &note,
        &files,
        c.now(),
    )
    .await
    .map_err(|e| ConsoleError::Task(e.to_string()))?;
    let info = match published {
        history::Published::Live(info) => info,
        history::Published::Refused(problems) => {
            tracing::info!(account = %who, problems = problems.len(), "console: publish refused");
            return Ok(Err(problems.iter().map(|p| p.to_string()).collect()));
        }
    };
    let reload = match &c.write_to {
        Some(_) => {
            let (live, source, version) = (
                c.live.clone(),
                source_of(&c.names, &files),
                Some(info.clone()),
            );
            blocking(move || Ok(live.install(source, version))).await?
        }
        // The newest version in the database: this one, or one another replica published since.
        None => crate::live::refresh(&c.live, Some(&*c.history)).await,
    };
    if let Some(store) = &c.store
        && let Err(e) = store.announce_reload().await
    {
        tracing::warn!(error = %e, "console: could not announce the publish to other replicas");
    }
    tracing::info!(account = %who, version = info.number, note = %note, reload = %reload.summary(), "console: published");
    match reload {
        Reload::Updated(_) | Reload::Unchanged => Ok(Ok(info.number)),
        other => Ok(Err(vec![other.report()])),
    }
}

async fn publish(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let Some(draft) = c.draft.lock().expect("draft lock").clone() else {
        return Ok(c.to("/publish"));
    };
    let mut note = field(&form, "note").trim().to_string();
    if note.is_empty() {
        note = draft.notes.join("；");
    }
    match go_live(&c, &ctx.user, note, draft.files.clone()).await? {
        Ok(_) => {
            *c.draft.lock().expect("draft lock") = None;
            Ok(c.to("/history?done=published"))
        }
        Err(problems) => {
            let live_files = files_of(&c.live.source());
            let mut response = c.render(
                "publish.html",
                &ctx,
                "publish",
                context! { notes => draft.notes, problems, diff => diff(&live_files, &draft.files) },
            )?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

async fn discard(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    tracing::info!(account = %ctx.user, "console: draft discarded");
    *c.draft.lock().expect("draft lock") = None;
    Ok(c.to("/publish?done=discarded"))
}

async fn history_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    let mut versions: Vec<Value> = c
        .history
        .list()
        .await?
        .into_iter()
        .map(|v| context! { number => v.number, who => v.who, when => datetime(v.when), note => v.note })
        .collect();
    versions.reverse();
    let live = c.live.published().map(|v| v.number);
    c.render("history.html", &ctx, "history", context! { versions, live })
}

async fn version_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    UrlPath(n): UrlPath<u64>,
) -> Page {
    let version = c.version(n).await?;
    let before = match n {
        1 => Vec::new(),
        _ => c
            .history
            .get(n - 1)
            .await
            .map(|v| v.files)
            .unwrap_or_default(),
    };
    c.render(
        "version.html",
        &ctx,
        "history",
        context! {
            number => n,
            who => version.info.who,
            when => datetime(version.info.when),
            note => version.info.note,
            diff => diff(&before, &version.files),
        },
    )
}

async fn rollback(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    UrlPath(n): UrlPath<u64>,
) -> Page {
    let version = c.version(n).await?;
    match go_live(&c, &ctx.user, format!("回滚到版本 {n}"), version.files).await? {
        Ok(_) => Ok(c.to("/history?done=rolledback")),
        Err(problems) => {
            let mut response = c.render(
                "error.html",
                &ctx,
                "history",
                context! { title => format!("版本 {n} 现在通不过检查，没有回滚"), message => problems.join("\n") },
            )?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

// ---- review inbox ----

/// The unanswered groups still to review, most asked first.
async fn review_groups(c: &Console) -> Result<Vec<crate::review::Group>, ConsoleError> {
    let Some(store) = &c.store else {
        return Ok(Vec::new());
    };
    let since = c.now() - i64::from(REVIEW_DAYS) * 86_400;
    let records = store.unanswered(since).await?;
    let dismissed: HashSet<String> = c.history.dismissed().await?.into_iter().collect();
    Ok(group(records)
        .into_iter()
        .filter(|g| !dismissed.contains(g.record.normalized.as_str()))
        .filter(|g| crate::review::has_words(g.record.text.as_str()))
        .collect())
}

async fn review_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    let groups = review_groups(&c).await?;
    let not_helpful = match &c.store {
        Some(store) => {
            store
                .not_helpful(c.now() - i64::from(REVIEW_DAYS) * 86_400)
                .await?
        }
        None => Vec::new(),
    };
    let kb = c.live.current();
    let rows: Vec<Value> = groups
        .iter()
        .map(|g| {
            let r = &g.record;
            context! {
                key => r.normalized.as_str(),
                text => r.text.as_str(),
                count => r.count,
                variants => g.variants,
                last => datetime(r.last_seen),
                decision => if r.decision == crate::matcher::Decision::Clarify { "反问" } else { "转人工" },
                top => r.top.clone().unwrap_or_default(),
                now => edit::what_it_does(&kb, r.text.as_str()),
            }
        })
        .collect();
    let not_helpful: Vec<Value> = not_helpful
        .iter()
        .map(|n| context! { entry => n.entry, count => n.count, last => datetime(n.last_seen) })
        .collect();
    c.render(
        "review.html",
        &ctx,
        "review",
        context! {
            groups => rows,
            not_helpful,
            days => REVIEW_DAYS,
            store => c.store.is_some(),
            entries => kb.entries.iter().map(|e| e.id.to_string()).collect::<Vec<_>>(),
            topics => kb.topics.iter().map(|t| t.id.to_string()).collect::<Vec<_>>(),
        },
    )
}

/// What a review action does to the working files, in words and as new files.
fn review_edit(
    files: &[(String, String)],
    action: &str,
    target: &str,
    text: &str,
    is_topic: bool,
) -> Result<(String, Vec<(String, String)>), String> {
    match action {
        "alternate" if !is_topic && target != "none" => {
            let faq = edit::add_question(file(files, "faq.yaml"), target, text)
                .map_err(|e| e.to_string())?;
            Ok((
                format!("加为条目 {target} 的问法"),
                with_file(files, "faq.yaml", faq),
            ))
        }
        "topic" if is_topic => {
            let oos = edit::add_question(file(files, "out_of_scope.yaml"), target, text)
                .map_err(|e| e.to_string())?;
            Ok((
                format!("加到不归本助手管的话题 {target}"),
                with_file(files, "out_of_scope.yaml", oos),
            ))
        }
        "case" if !is_topic => {
            let tests = edit::add_case(file(files, "tests.tsv"), target, text)
                .map_err(|e| e.to_string())?;
            Ok((
                format!("加为回归用例（应答 {target}）"),
                with_file(files, "tests.tsv", tests),
            ))
        }
        "alternate" | "case" => Err("请选一个条目（不是话题）".into()),
        "topic" => Err("请选一个话题".into()),
        _ => Err("不认识的操作".into()),
    }
}

async fn find_group(c: &Console, key: &str) -> Result<crate::review::Group, ConsoleError> {
    review_groups(c)
        .await?
        .into_iter()
        .find(|g| g.record.normalized.as_str() == key)
        .ok_or_else(|| ConsoleError::NotFound("这个问题已经处理过了".into()))
}

async fn review_preview(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let key = field(&form, "key").to_string();
    let action = field(&form, "action").to_string();
    let target = field(&form, "target").to_string();
    let g = find_group(&c, &key).await?;
    let text = g.record.text.as_str().to_string();
    if action == "dismiss" {
        return c.render(
            "review_preview.html",
            &ctx,
            "review",
            context! { description => "忽略这个问题", text, key, action, target },
        );
    }
    let kb = c.live.current();
    let is_topic = kb.topics.iter().any(|t| t.id.as_str() == target);
    let files = c.working_files()?;
    let dir = c.names.clone();
    let t2 = text.clone();
    let (a2, tg2) = (action.clone(), target.clone());
    let (description, problems, changes) = blocking(move || {
        let (description, edited) = match review_edit(&files, &a2, &tg2, &t2, is_topic) {
            Ok(done) => done,
            Err(e) => return Ok((String::from("不能这样改"), vec![e], Vec::new())),
        };
        match checked(&dir, &edited) {
            Ok(after) => {
                let changes = edit::changes(&kb, &after, &[t2.as_str()]);
                Ok((description, Vec::new(), changes))
            }
            Err(problems) => {
                let changes = KnowledgeBase::load(&source_of(&dir, &edited))
                    .map(|after| edit::changes(&kb, &after, &[t2.as_str()]))
                    .unwrap_or_default();
                Ok((description, problems, changes))
            }
        }
    })
    .await?;
    c.render(
        "review_preview.html",
        &ctx,
        "review",
        context! { description, text, problems, changes, key, action, target },
    )
}

async fn review_apply(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    let key = field(&form, "key").to_string();
    let action = field(&form, "action").to_string();
    let target = field(&form, "target").to_string();
    let g = find_group(&c, &key).await?;
    if action == "dismiss" {
        tracing::info!(account = %ctx.user, "console: review item dismissed");
        c.history.dismiss(&key, &ctx.user, c.now()).await?;
        return Ok(c.to("/review?done=dismissed"));
    }
    let kb = c.live.current();
    let is_topic = kb.topics.iter().any(|t| t.id.as_str() == target);
    let files = c.working_files()?;
    match review_edit(&files, &action, &target, g.record.text.as_str(), is_topic) {
        Ok((description, edited)) => {
            stage_draft(
                &c,
                &ctx,
                edited,
                format!("「{}」{description}", g.record.text.as_str()),
            );
            c.history.dismiss(&key, &ctx.user, c.now()).await?;
            Ok(c.to("/publish?done=staged"))
        }
        Err(e) => Err(ConsoleError::BadRequest(e)),
    }
}

// ---- trends and health ----

#[derive(serde::Deserialize)]
struct DaysQuery {
    days: Option<u32>,
}

async fn days_of_counts(
    c: &Console,
    days: u32,
) -> Result<Vec<(String, crate::store::Counts)>, ConsoleError> {
    let Some(store) = &c.store else {
        return Ok(Vec::new());
    };
    let days = store.counts_by_day(days.clamp(1, 366), c.now()).await?;
    Ok(days
        .into_iter()
        .map(|(start, counts)| (datetime(start)[5..10].to_string(), counts))
        .collect())
}

async fn trends_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
    Query(q): Query<DaysQuery>,
) -> Page {
    let days = q.days.unwrap_or(REVIEW_DAYS).clamp(1, 366);
    let top: Vec<Value> = review_groups(&c)
        .await?
        .iter()
        .take(10)
        .map(|g| context! { text => g.record.text.as_str(), count => g.record.count })
        .collect();
    c.render(
        "trends.html",
        &ctx,
        "trends",
        context! { days, top, store => c.store.is_some() },
    )
}

async fn trends_svg(State(c): State<Arc<Console>>, Query(q): Query<DaysQuery>) -> Page {
    let days = days_of_counts(&c, q.days.unwrap_or(REVIEW_DAYS)).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg::chart(&days)).into_response())
}

async fn trends_csv(State(c): State<Arc<Console>>, Query(q): Query<DaysQuery>) -> Page {
    let days = days_of_counts(&c, q.days.unwrap_or(REVIEW_DAYS)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"shebao-trends.csv\"",
            ),
        ],
        svg::csv(&days),
    )
        .into_response())
}

async fn health_page(
    State(c): State<Arc<Console>>,
    axum::Extension(ctx): axum::Extension<Ctx>,
) -> Page {
    let kb = c.live.current();
    let knowledge = format!(
        "{}：{} 个条目、{} 个问题、{} 个回归用例",
        c.names.display(),
        kb.entries.len(),
        kb.question_count(),
        kb.cases.len()
    );
    let version = match (c.live.published(), c.history.latest().await?) {
        (Some(v), Some(latest)) if v.number == latest.number => {
            format!("版本 {}，{} 由 {} 发布", v.number, datetime(v.when), v.who)
        }
        (Some(v), Some(latest)) => format!(
            "版本 {}，{} 由 {} 发布（最新的是版本 {}，这里还没有换上：它没通过检查，或者还在加载）",
            v.number,
            datetime(v.when),
            v.who,
            latest.number
        ),
        _ => "正在用的文件和历史里的版本都不同（有人直接改了文件）".to_string(),
    };
    let versions = c.history.describe();
    let (store, backlog) = match &c.store {
        None => (
            "没有连接（启动时没有 --store）".to_string(),
            "-".to_string(),
        ),
        Some(s) => match s.ping().await {
            Ok(()) => (
                format!("正常：{}", s.describe()),
                s.backlog()
                    .await
                    .map_or_else(|e| format!("读不到：{e}"), |n| n.to_string()),
            ),
            Err(e) => (format!("连不上：{e}"), "-".to_string()),
        },
    };
    c.render(
        "health.html",
        &ctx,
        "health",
        context! { knowledge, version, versions, store, backlog },
    )
}
