//! `shebao console`: the web console on its own address, for a machine without Telegram; and
//! `shebao console hash-password`, which prints the argon2 hash for an accounts file line.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::console::{self, auth::Accounts};
use crate::store::api::Store;

/// How `shebao console` starts.
pub struct Options {
    pub knowledge: PathBuf,
    /// `name:argon2-hash` lines; `None`: `SHEBAO_CONSOLE_ACCOUNTS`.
    pub accounts: Option<PathBuf>,
    pub listen: SocketAddr,
    /// The URL of the conversation store the review inbox, trends and health read (it must exist
    /// already: the bot creates it), when there is one.
    pub store: Option<String>,
}

/// Serves the console until Ctrl-C or SIGTERM.
pub fn run(opts: Options) -> anyhow::Result<()> {
    super::run::init_logging();
    let env_accounts = std::env::var("SHEBAO_CONSOLE_ACCOUNTS").ok();
    let accounts = Accounts::load(opts.accounts.as_deref(), env_accounts.as_deref())?;
    let secret = std::env::var("SHEBAO_CONSOLE_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .map(String::into_bytes);
    if secret.is_none() {
        tracing::warn!(
            "SHEBAO_CONSOLE_SECRET is not set: sessions are signed with a random key, so a restart signs everyone out and replicas do not share sign-ins"
        );
    }
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
        let console = console::Console::new(console::Options {
            knowledge: opts.knowledge.clone(),
            accounts,
            secret,
            store,
            history: None,
            base: String::new(),
            clock: crate::unix_now,
        })
        .with_context(|| format!("starting the console on {}", opts.knowledge.display()))?;
        let app = console::router(Arc::new(console));
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("listening on {}", opts.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "console listening");
        eprintln!("shebao console: http://{addr}/");
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
        .await
        .context("serving the console")
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
