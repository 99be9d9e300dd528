//! `shebao console`: the web console on its own address, for a machine without Telegram (and the parts
//! `shebao run --console` shares: accounts, the console on a live knowledge, serving); and
//! `shebao console hash-password`, which prints the argon2 hash for an accounts file line.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::console::{self, auth::Accounts};
use crate::live::LiveKnowledge;
use crate::store::api::Store;

/// How `shebao console` starts.
pub struct Options {
    /// The knowledge directory (required unless the store keeps the versions: PostgreSQL).
    pub knowledge: Option<PathBuf>,
    /// `name:argon2-hash` lines; `None`: `SHEBAO_CONSOLE_ACCOUNTS`.
    pub accounts: Option<PathBuf>,
    pub listen: SocketAddr,
    /// The URL of the conversation store the review inbox, trends and health read (it must exist
    /// already: the bot creates it), when there is one.
    pub store: Option<String>,
}

/// The staff accounts (`--accounts FILE`, else `SHEBAO_CONSOLE_ACCOUNTS`) and the session secret
/// (`SHEBAO_CONSOLE_SECRET`), for `shebao console` and `shebao run --console`.
pub(crate) fn sign_in(accounts: Option<&Path>) -> anyhow::Result<(Accounts, Option<Vec<u8>>)> {
    let env_accounts = std::env::var("SHEBAO_CONSOLE_ACCOUNTS").ok();
    let accounts = Accounts::load(accounts, env_accounts.as_deref())?;
    let secret = std::env::var("SHEBAO_CONSOLE_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .map(String::into_bytes);
    if secret.is_none() {
        tracing::warn!(
            "SHEBAO_CONSOLE_SECRET is not set: sessions are signed with a random key, so a restart signs everyone out and replicas do not share sign-ins"
        );
    }
    Ok((accounts, secret))
}

/// A console on `live`, with the versions `store` keeps (PostgreSQL) or files beside the knowledge.
pub(crate) async fn build(
    live: Arc<LiveKnowledge>,
    store: Option<Arc<dyn Store>>,
    accounts: Accounts,
    secret: Option<Vec<u8>>,
) -> anyhow::Result<console::Console> {
    let versions = console::Versions::for_store(&live, store.as_deref())?;
    let console = console::Console::new(console::Options {
        live,
        versions,
        accounts,
        secret,
        store,
        base: String::new(),
        clock: crate::unix_now,
    })
    .await
    .context("starting the console")?;
    Ok(console)
}

/// Serves `console` on `listener` until `shutdown` completes.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    console: console::Console,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "console listening");
    eprintln!("shebao console: http://{addr}/");
    let app = console::router(Arc::new(console));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving the console")
}

/// Serves the console until Ctrl-C or SIGTERM.
pub fn run(opts: Options) -> anyhow::Result<()> {
    super::run::init_logging();
    let (accounts, secret) = sign_in(opts.accounts.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let store: Option<Arc<dyn Store>> = match &opts.store {
            Some(url) => Some(
                crate::store::open_existing(url)
                    .await
                    .with_context(|| format!("opening the store {url}"))?,
            ),
            None => None,
        };
        let live = super::run::live_knowledge(opts.knowledge.as_deref(), store.as_deref()).await?;
        let console = build(live, store, accounts, secret).await?;
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("listening on {}", opts.listen))?;
        serve(listener, console, shutdown()).await
    })
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Reads a password from the first line of `input` and returns its argon2 PHC hash.
pub fn hash_password(mut input: impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input.read_line(&mut line).context("reading the password")?;
    let password = line.trim_end_matches(['\n', '\r']);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(console::auth::hash_password(password))
}
