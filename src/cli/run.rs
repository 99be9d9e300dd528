//! `shebao run`: serves citizens on Telegram (polling, or a webhook replica), and wires reloads (SIGHUP, file changes, other replicas' publishes), health and metrics, the web console on its own address (`--console`, sharing the bot's knowledge and store), and shutdown (Ctrl-C, SIGTERM).

use std::io::{self, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;

use crate::http::{self, App, Backend, Drain, Secret, Unavailable};
use crate::live::LiveKnowledge;
use crate::telegram::{self, Config, Trigger};

/// What `shebao run` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub knowledge: Option<PathBuf>,
    /// The store's URL (a directory, `sled:DIR`, `memory:`).
    pub store: String,
    pub no_throttle: bool,
    /// Reload when the knowledge files change (SIGHUP works either way).
    pub watch: bool,
    pub staff: Vec<i64>,
    pub retention_days: u64,
    pub serve: Serve,
    /// Serve the web console too, on the bot's own knowledge and store.
    pub console: Option<ConsoleAt>,
}

/// Where `shebao run --console` serves the console, and its accounts (`--accounts FILE`, else
/// `SHEBAO_CONSOLE_ACCOUNTS`; the session secret from `SHEBAO_CONSOLE_SECRET`).
#[derive(Debug, Clone)]
pub struct ConsoleAt {
    pub listen: SocketAddr,
    pub accounts: Option<PathBuf>,
}

/// How updates arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// Long polling (one process per bot); health and metrics on `http` when given.
    Polling { http: Option<SocketAddr> },
    /// Telegram POSTs to this address (`/telegram`, with health and metrics): one of several replicas.
    Webhook(SocketAddr),
}

/// Checks the token first (exit status 2 with a one-line hint when it is missing), then runs the bot
/// until Ctrl-C or SIGTERM.
pub fn run(opts: Options) -> anyhow::Result<ExitCode> {
    let Some((token, api_url)) = super::telegram_env()? else {
        return Ok(ExitCode::from(2));
    };
    let secret = match opts.serve {
        Serve::Webhook(_) => match Secret::from_env() {
            Ok(secret) => Some(secret),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        Serve::Polling { .. } => None,
    };
    init_logging();
    let sign_in = match &opts.console {
        Some(at) => Some(super::console::sign_in(at.accounts.as_deref())?),
        None => None,
    };
    let mut config = Config::new(token, api_url);
    if opts.no_throttle {
        config = config.unthrottled();
    }
    config.staff = opts.staff.clone();
    config.retention = Duration::from_secs(opts.retention_days.saturating_mul(86_400));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let store = crate::store::open(&opts.store)
            .await
            .with_context(|| format!("opening the store {}", opts.store))?;
        let store = crate::metrics::Metered::wrap(store);
        tracing::info!(store = %store.describe(), "store open");
        let knowledge = live_knowledge(opts.knowledge.as_deref(), Some(&*store)).await?;
        let console = match (&opts.console, sign_in) {
            (Some(at), Some((accounts, secret))) => {
                let console = super::console::build(
                    knowledge.clone(),
                    Some(store.clone()),
                    accounts,
                    secret,
                )
                .await?;
                let listener = tokio::net::TcpListener::bind(at.listen)
                    .await
                    .with_context(|| format!("listening on {} for the console", at.listen))?;
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let served = tokio::spawn(super::console::serve(listener, console, async move {
                    let _ = stopped.await;
                }));
                Some((stop, served))
            }
            _ => None,
        };
        let (triggers, receiver) = mpsc::channel(64);
        listen_for_sighup(triggers.clone())?;
        // Kept alive until the bot stops.
        let _watcher = match knowledge.dir() {
            Some(dir) if opts.watch => {
                let tx = triggers.clone();
                let watcher = crate::live::watch(dir, move || {
                    // A full queue already holds a reload request; dropping this one loses nothing.
                    let _ = tx.try_send(Trigger::FileChanged);
                })
                .with_context(|| format!("watching {}", dir.display()))?;
                tracing::info!(dir = %dir.display(), "reloading the knowledge when its files change");
                Some(watcher)
            }
            _ => None,
        };
        let served = match (opts.serve, secret) {
            (Serve::Webhook(addr), Some(secret)) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening on {addr}"))?;
                telegram::webhook::run(
                    config,
                    knowledge,
                    store,
                    receiver,
                    listener,
                    secret,
                    shutdown_signal(),
                )
                .await
            }
            (Serve::Polling { http: Some(addr) }, _) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening on {addr}"))?;
                polling_with_health(config, knowledge, store, receiver, listener).await
            }
            _ => telegram::run(config, knowledge, store, receiver, shutdown_signal()).await,
        };
        // The console stops with the bot, after the updates in flight are done.
        if let Some((stop, console)) = console {
            let _ = stop.send(());
            console.await.context("the console")??;
        }
        served
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The knowledge to serve: `dir` (or the embedded copy), which must pass `shebao check`; then, where
/// the store keeps published versions (PostgreSQL) and has one, the newest of them, validated the
/// same way (if it fails, the files stay live and the refusal is logged).
pub(crate) async fn live_knowledge(
    dir: Option<&std::path::Path>,
    store: Option<&dyn crate::store::Store>,
) -> anyhow::Result<Arc<LiveKnowledge>> {
    let knowledge = LiveKnowledge::open(dir).with_context(|| {
        format!(
            "loading knowledge from {}",
            dir.map_or("the binary".into(), |d| d.display().to_string())
        )
    })?;
    let knowledge = Arc::new(knowledge);
    if let Some(history) = store.and_then(|s| s.history()) {
        match crate::live::refresh(&knowledge, Some(&*history)).await {
            crate::live::Reload::Refused(problems) => {
                tracing::warn!(
                    problems = problems.len(),
                    "the newest published knowledge version fails the checks: serving the files instead"
                );
                for p in problems {
                    tracing::warn!("{p}");
                }
            }
            crate::live::Reload::Unreadable(e) => tracing::warn!(
                error = %e,
                "cannot read the published knowledge versions: serving the files; a reload tries again"
            ),
            outcome => match knowledge.published() {
                Some(v) => tracing::info!(
                    version = v.number,
                    who = %v.who,
                    outcome = %outcome.summary(),
                    "serving the newest published knowledge version"
                ),
                None => {
                    tracing::info!(outcome = %outcome.summary(), "no published knowledge version yet: serving the files")
                }
            },
        }
    }
    Ok(knowledge)
}

/// Polls, with `/livez`, `/readyz` and `/metrics` on `listener`; at shutdown `/readyz` turns 503 while
/// the batch in hand finishes, and the health server stops last.
async fn polling_with_health(
    config: Config,
    knowledge: Arc<LiveKnowledge>,
    store: Arc<dyn crate::store::Store>,
    triggers: mpsc::Receiver<Trigger>,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let drain = Arc::new(Drain::default());
    let app = Arc::new(App {
        backend: Arc::new(Health {
            store: store.clone(),
            knowledge: knowledge.clone(),
        }),
        secret: None,
        metrics: crate::metrics::install(),
        drain: drain.clone(),
    });
    let (stopped, stop_http) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(http::serve(listener, http::router(app), async move {
        let _ = stop_http.await;
    }));
    let draining = drain.clone();
    let shutdown = async move {
        shutdown_signal().await;
        draining.start();
    };
    let polled = telegram::run(config, knowledge, store, triggers, shutdown).await;
    let _ = stopped.send(());
    server.await.context("the health server")??;
    polled
}

/// Health and metrics of a polling bot: there is no webhook to handle.
struct Health {
    store: Arc<dyn crate::store::Store>,
    knowledge: Arc<LiveKnowledge>,
}

#[async_trait::async_trait]
impl Backend for Health {
    async fn handle(
        &self,
        _update: teloxide::types::Update,
    ) -> Result<crate::metrics::Outcome, Unavailable> {
        Err(Unavailable("this bot polls; it takes no webhook".into()))
    }

    async fn ready(&self) -> Result<(), Unavailable> {
        telegram::webhook::ready(&*self.store, &self.knowledge).await
    }

    async fn backlog(&self) -> Option<u64> {
        self.store.backlog().await.ok()
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub(crate) fn init_logging() {
    // Other crates are capped at info whatever RUST_LOG says: at debug and trace, HTTP and Telegram
    // libraries log request and response bodies, which hold what citizens typed.
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for directive in [
        "teloxide=info",
        "teloxide_core=info",
        "reqwest=info",
        "hyper=info",
        "hyper_util=info",
        "h2=info",
        "rustls=info",
        "sled=info",
        "notify=info",
        "axum=info",
        "tower_http=info",
    ] {
        filter = filter.add_directive(directive.parse().expect("a valid directive"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
}

/// Turns every SIGHUP into a reload request. Installed before polling starts, so a SIGHUP never kills
/// the bot (the default action) once it is serving.
fn listen_for_sighup(triggers: mpsc::Sender<Trigger>) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the knowledge");
                if triggers.send(Trigger::Signal).await.is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(unix))]
    drop(triggers);
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing the updates in flight");
}
