//! The `shebao` command: parses arguments, wires the library together and maps errors to exit codes.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use shebao::cli;

#[derive(Parser)]
#[command(
    name = "shebao",
    version,
    about = "Help assistant for the electronic social security card PIN"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct KnowledgeArg {
    /// Directory with faq.yaml and friends (default: the knowledge built into the binary).
    #[arg(long, value_name = "DIR")]
    knowledge: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Show which answer a question gets, with its score. Reads questions from stdin when none is given.
    Ask {
        #[command(flatten)]
        knowledge: KnowledgeArg,
        /// Show the normalised text and the top candidates.
        #[arg(long)]
        explain: bool,
        /// Print one JSON object per question, on one line.
        #[arg(long)]
        json: bool,
        /// The question (all words are joined with spaces).
        question: Vec<String>,
    },
    /// Talk to the bot in the terminal: numbers choose options, /quit exits; the state is kept in --db.
    Chat {
        #[command(flatten)]
        knowledge: KnowledgeArg,
        /// Directory of the conversation database (created if absent).
        #[arg(long, value_name = "DIR", default_value = "./data")]
        db: PathBuf,
    },
    /// Serve citizens on Telegram (long polling). Token from TELOXIDE_TOKEN, API base from TELOXIDE_API_URL.
    Run {
        #[command(flatten)]
        knowledge: KnowledgeArg,
        /// Directory of the conversation database (created if absent).
        #[arg(long, value_name = "DIR", default_value = "./data")]
        db: PathBuf,
        /// Do not hold back to Telegram's rate limits (only for a local Bot API stand-in or load tests).
        #[arg(long)]
        no_throttle: bool,
    },
    /// Validate the knowledge files and run the regression cases in tests.tsv.
    Check {
        #[command(flatten)]
        knowledge: KnowledgeArg,
    },
    /// Measure matching quality on a TSV of labelled questions (accepted ids TAB question).
    Eval {
        #[command(flatten)]
        knowledge: KnowledgeArg,
        /// Instead of a file, ask each knowledge question against the others.
        #[arg(long, conflicts_with = "file")]
        leave_one_out: bool,
        #[arg(required_unless_present = "leave_one_out")]
        file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `shebao run`: checks the token first (exit status 2 with a one-line hint when it is missing).
fn run_bot(knowledge: Option<PathBuf>, db: PathBuf, no_throttle: bool) -> anyhow::Result<ExitCode> {
    let token = match std::env::var("TELOXIDE_TOKEN") {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            eprintln!(
                "error: TELOXIDE_TOKEN is not set; create a bot with @BotFather and run: TELOXIDE_TOKEN=123456:ABC... shebao run"
            );
            return Ok(ExitCode::from(2));
        }
    };
    let api_url = match std::env::var("TELOXIDE_API_URL") {
        Ok(url) if !url.trim().is_empty() => Some(
            url.trim()
                .parse::<url::Url>()
                .with_context(|| format!("TELOXIDE_API_URL is not a URL: {url}"))?,
        ),
        _ => None,
    };
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
    ] {
        filter = filter.add_directive(directive.parse().expect("a valid directive"));
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
    let kb = std::sync::Arc::new(cli::load(knowledge.as_deref())?);
    std::fs::create_dir_all(&db).with_context(|| format!("creating {}", db.display()))?;
    let store = std::sync::Arc::new(shebao::store::Store::open(&db)?);
    let mut config = shebao::telegram::Config::new(token, api_url);
    if no_throttle {
        config = config.unthrottled();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(shebao::telegram::run(config, kb, store, shutdown_signal()))?;
    Ok(ExitCode::SUCCESS)
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

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match cli.command {
        Command::Ask {
            knowledge,
            explain,
            json,
            question,
        } => {
            let kb = cli::load(knowledge.knowledge.as_deref())?;
            let opts = cli::ask::Options { explain, json };
            if question.is_empty() {
                let stdin = io::stdin();
                if stdin.is_terminal() {
                    eprintln!(
                        "reading questions from standard input, one per line (Ctrl-D to end)"
                    );
                }
                cli::ask::batch(&kb, stdin.lock(), opts, &mut out)?;
            } else {
                cli::ask::one(&kb, &question.join(" "), opts, &mut out)?;
            }
        }
        Command::Chat { knowledge, db } => {
            let kb = cli::load(knowledge.knowledge.as_deref())?;
            let store = shebao::store::Store::open(&db)?;
            let stdin = io::stdin();
            if stdin.is_terminal() {
                eprintln!("shebao chat: type a question; numbers choose options; /quit exits.");
            }
            cli::chat::run(&kb, &store, stdin.lock(), &mut out, shebao::unix_now)?;
        }
        Command::Run {
            knowledge,
            db,
            no_throttle,
        } => {
            drop(out);
            return run_bot(knowledge.knowledge, db, no_throttle);
        }
        Command::Check { knowledge } => {
            let source = cli::source(knowledge.knowledge.as_deref())?;
            let ok = cli::check::run(&source, &mut out)?;
            out.flush()?;
            return Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Eval {
            knowledge,
            leave_one_out,
            file,
        } => {
            let kb = cli::load(knowledge.knowledge.as_deref())?;
            let eval = match file {
                Some(file) if !leave_one_out => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let (cases, problems) =
                        shebao::knowledge::parse_cases(&text, &file.display().to_string());
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    kb.evaluate(&cases)
                }
                _ => kb.leave_one_out(),
            };
            cli::eval::print(&eval, &mut out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
