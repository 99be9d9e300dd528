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

/// Where the conversations are kept.
#[derive(clap::Args)]
struct StoreArg {
    /// Directory of the conversation database (sled; created if absent).
    #[arg(long, value_name = "DIR", default_value = "./data")]
    db: PathBuf,
    /// The store as a URL: a directory or sled:DIR, postgres://USER:PASSWORD@HOST/DB (shared by replicas;
    /// ?pool_size=N sets its connections), or memory: (forgotten at exit); overrides --db.
    #[arg(long, value_name = "URL", env = "SHEBAO_STORE")]
    store: Option<String>,
}

impl StoreArg {
    fn url(&self) -> String {
        self.store
            .clone()
            .unwrap_or_else(|| self.db.display().to_string())
    }
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
        #[command(flatten)]
        store: StoreArg,
        /// Print every reply as one JSON object on one line (kind, text, entry or flow step, options,
        /// record).
        #[arg(long)]
        json: bool,
    },
    /// Serve citizens on Telegram (long polling). Token from TELOXIDE_TOKEN, API base from TELOXIDE_API_URL.
    Run {
        #[command(flatten)]
        knowledge: KnowledgeArg,
        #[command(flatten)]
        store: StoreArg,
        /// Do not hold back to Telegram's rate limits (only for a local Bot API stand-in or load tests).
        #[arg(long)]
        no_throttle: bool,
        /// Do not reload when the files in --knowledge change (SIGHUP and /reload still reload).
        #[arg(long)]
        no_watch: bool,
        /// Chat ids of support staff, comma-separated: they get /why, /unanswered, /reload, /stats
        /// and reload reports.
        #[arg(
            long,
            value_name = "ID,ID",
            env = "SHEBAO_STAFF",
            allow_hyphen_values = true,
            value_delimiter = ','
        )]
        staff: Vec<i64>,
        /// Days to keep unanswered questions and counters.
        #[arg(long, value_name = "DAYS", default_value_t = shebao::telegram::DEFAULT_RETENTION_DAYS)]
        retention_days: u64,
        /// Webhook mode: serve Telegram's POSTs at ADDR/telegram (with /livez, /readyz, /metrics)
        /// instead of polling. Needs SHEBAO_WEBHOOK_SECRET; register the URL once with `shebao webhook set`.
        #[arg(long, value_name = "ADDR")]
        webhook: Option<std::net::SocketAddr>,
        /// Polling mode: serve /livez, /readyz and /metrics at ADDR.
        #[arg(long, value_name = "ADDR", conflicts_with = "webhook")]
        http: Option<std::net::SocketAddr>,
        /// Serve the web console at ADDR too, on this bot's knowledge and store (a publish changes
        /// what the bot answers at once; with PostgreSQL every replica follows).
        #[arg(long, value_name = "ADDR")]
        console: Option<std::net::SocketAddr>,
        /// The console's staff accounts, one `name:argon2-hash` per line (default:
        /// SHEBAO_CONSOLE_ACCOUNTS, lines separated by `;`).
        #[arg(long, value_name = "FILE", requires = "console")]
        accounts: Option<PathBuf>,
    },
    /// List the questions the bot could not answer, grouped, most asked first (the bot must be stopped).
    Unanswered {
        #[command(flatten)]
        store: StoreArg,
        /// Only questions asked in the last DAYS days.
        #[arg(long, value_name = "DAYS", default_value_t = shebao::telegram::DEFAULT_RETENTION_DAYS)]
        since: u64,
        /// `table` to read, `tsv` to paste into tests.tsv.
        #[arg(long, value_enum, default_value_t)]
        format: cli::unanswered::Format,
        /// Days to keep records: older ones are deleted first, as the running bot does.
        #[arg(long, value_name = "DAYS", default_value_t = shebao::telegram::DEFAULT_RETENTION_DAYS)]
        retention_days: u64,
    },
    /// Register the replicas' webhook with Telegram, remove it, or show it (once, from an admin's shell;
    /// replicas never change it). Token from TELOXIDE_TOKEN, secret from SHEBAO_WEBHOOK_SECRET.
    Webhook {
        #[command(subcommand)]
        action: WebhookAction,
    },
    /// Validate the knowledge files and run the regression cases in tests.tsv.
    Check {
        #[command(flatten)]
        knowledge: KnowledgeArg,
        /// Show only warnings this baseline does not hold (default: DIR/warnings.baseline of
        /// --knowledge DIR, when it exists).
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Show every warning, whatever the baseline holds.
        #[arg(long, conflicts_with_all = ["baseline", "write_baseline"])]
        all_warnings: bool,
        /// Write the current warnings as the baseline (to --baseline FILE or DIR/warnings.baseline).
        #[arg(long)]
        write_baseline: bool,
    },
    /// The web console for staff and FAQ editors (sign in, try questions, review, edit and publish).
    #[command(args_conflicts_with_subcommands = true)]
    Console {
        #[command(subcommand)]
        action: Option<ConsoleAction>,
        /// The knowledge directory the console edits; published versions are kept in DIR.history/
        /// (with a PostgreSQL --store they live in the database, and DIR is optional).
        #[arg(long, value_name = "DIR")]
        knowledge: Option<PathBuf>,
        /// Staff accounts, one `name:argon2-hash` per line (default: SHEBAO_CONSOLE_ACCOUNTS, lines
        /// separated by `;`). Make a hash with `shebao console hash-password`.
        #[arg(long, value_name = "FILE")]
        accounts: Option<PathBuf>,
        /// Address to serve on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The bot's conversation store as a URL (a directory or sled:DIR, which the bot must not hold
        /// open at the same time), for the review inbox, trends and health.
        #[arg(long, value_name = "URL", env = "SHEBAO_STORE")]
        store: Option<String>,
    },
    /// Move a version of the knowledge to or from a directory of YAML files.
    Knowledge {
        #[command(subcommand)]
        action: KnowledgeAction,
    },
    /// Measure matching quality on a TSV of labelled questions (accepted ids TAB question).
    Eval {
        #[command(flatten)]
        knowledge: KnowledgeArg,
        /// Instead of a file, ask each knowledge question against the others.
        #[arg(long, conflicts_with_all = ["file", "folds"])]
        leave_one_out: bool,
        /// Instead of a file, K-fold cross-validation: question i of each entry and topic in fold i mod K.
        #[arg(long, value_name = "K", conflicts_with = "file", value_parser = clap::value_parser!(u16).range(2..))]
        folds: Option<u16>,
        /// With --folds: also fit the matcher's confidence calibration on the cross-validation and print
        /// it beside the shipped one (for after the knowledge changed much).
        #[arg(long, requires = "folds")]
        calibrate: bool,
        #[arg(required_unless_present_any = ["leave_one_out", "folds"])]
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConsoleAction {
    /// Print the argon2 hash of a password read from standard input (for the accounts file).
    HashPassword,
}

#[derive(Subcommand)]
enum KnowledgeAction {
    /// Write the files of the knowledge (or of a published version) into DIR.
    Export {
        #[command(flatten)]
        knowledge: KnowledgeArg,
        /// A version from the history beside --knowledge DIR, or in the PostgreSQL --store (default:
        /// the files in DIR now, or the newest version in the database).
        #[arg(long, value_name = "N")]
        version: Option<u64>,
        /// A PostgreSQL store whose published versions to read.
        #[arg(long, value_name = "URL", env = "SHEBAO_STORE")]
        store: Option<String>,
        /// Where to write the files.
        dir: PathBuf,
    },
    /// Publish the files in DIR if they pass `shebao check`: into --knowledge DIR and its history, or,
    /// with a PostgreSQL --store, as a new version in the database, announced to the running replicas.
    Import {
        /// The knowledge directory to publish into.
        #[arg(long, value_name = "DIR", required_unless_present = "store")]
        knowledge: Option<PathBuf>,
        /// A PostgreSQL store to publish into (versions in the database).
        #[arg(long, value_name = "URL", env = "SHEBAO_STORE")]
        store: Option<String>,
        /// Who is recorded as publishing it (default: $USER).
        #[arg(long = "as", value_name = "NAME")]
        who: Option<String>,
        /// The directory with the files to import.
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum WebhookAction {
    /// Deliver updates to URL (HTTPS, the load balancer in front of the replicas, path /telegram), with
    /// the secret token of SHEBAO_WEBHOOK_SECRET and only the update kinds the bot handles.
    Set {
        url: url::Url,
        /// Parallel requests Telegram may make (1-100; Telegram's default is 40).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=100))]
        max_connections: Option<u8>,
        /// Drop the updates waiting for delivery.
        #[arg(long)]
        drop_pending_updates: bool,
    },
    /// Stop delivering to the webhook (back to `shebao run` polling).
    Delete {
        /// Drop the updates waiting for delivery.
        #[arg(long)]
        drop_pending_updates: bool,
    },
    /// Show the registered URL, the updates waiting and the last delivery error.
    Info,
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
        Command::Chat {
            knowledge,
            store,
            json,
        } => {
            let kb = cli::load(knowledge.knowledge.as_deref())?;
            let store = cli::open_store(&store.url(), false)?;
            let stdin = io::stdin();
            if stdin.is_terminal() {
                eprintln!("shebao chat: type a question; numbers choose options; /quit exits.");
            }
            let format = if json {
                cli::chat::Format::Json
            } else {
                cli::chat::Format::Text
            };
            cli::chat::run_as(
                &kb,
                &*store,
                stdin.lock(),
                format,
                &mut out,
                shebao::unix_now,
            )?;
        }
        Command::Run {
            knowledge,
            store,
            no_throttle,
            no_watch,
            staff,
            retention_days,
            webhook,
            http,
            console,
            accounts,
        } => {
            drop(out);
            let serve = match (webhook, http) {
                (Some(addr), _) => cli::run::Serve::Webhook(addr),
                (None, Some(addr)) => cli::run::Serve::Polling { http: Some(addr) },
                (None, None) => cli::run::Serve::Polling { http: None },
            };
            return cli::run::run(cli::run::Options {
                knowledge: knowledge.knowledge,
                store: store.url(),
                no_throttle,
                watch: !no_watch,
                staff,
                retention_days,
                serve,
                console: console.map(|listen| cli::run::ConsoleAt { listen, accounts }),
            });
        }
        Command::Unanswered {
            store,
            since,
            format,
            retention_days,
        } => {
            cli::unanswered::run(
                &store.url(),
                since,
                retention_days,
                format,
                shebao::unix_now(),
                &mut out,
            )?;
        }
        Command::Webhook { action } => {
            let action = match action {
                WebhookAction::Set {
                    url,
                    max_connections,
                    drop_pending_updates,
                } => cli::webhook::Action::Set {
                    url,
                    max_connections,
                    drop_pending: drop_pending_updates,
                },
                WebhookAction::Delete {
                    drop_pending_updates,
                } => cli::webhook::Action::Delete {
                    drop_pending: drop_pending_updates,
                },
                WebhookAction::Info => cli::webhook::Action::Info,
            };
            let code = cli::webhook::run(action, &mut out)?;
            out.flush()?;
            return Ok(code);
        }
        Command::Check {
            knowledge,
            baseline,
            all_warnings,
            write_baseline,
        } => {
            let source = cli::source(knowledge.knowledge.as_deref())?;
            let beside = knowledge
                .knowledge
                .as_deref()
                .map(|dir| dir.join(shebao::knowledge::BASELINE_FILE));
            let baseline = match baseline {
                Some(file) => Some(file),
                None if all_warnings => None,
                None if write_baseline => Some(beside.context(
                    "--write-baseline needs --baseline FILE or --knowledge DIR (the built-in knowledge has no directory)",
                )?),
                None => beside.filter(|file| file.exists()),
            };
            let opts = cli::check::Options {
                baseline,
                write_baseline,
            };
            let ok = cli::check::run(&source, &opts, &mut out)?;
            out.flush()?;
            return Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Console {
            action: Some(ConsoleAction::HashPassword),
            ..
        } => {
            let stdin = io::stdin();
            if stdin.is_terminal() {
                eprintln!("type the password and press Enter (it is shown as you type)");
            }
            writeln!(out, "{}", cli::console::hash_password(stdin.lock())?)?;
        }
        Command::Console {
            action: None,
            knowledge,
            accounts,
            listen,
            store,
        } => {
            drop(out);
            return cli::console::run(cli::console::Options {
                knowledge,
                accounts,
                listen,
                store,
            })
            .map(|()| ExitCode::SUCCESS);
        }
        Command::Knowledge {
            action:
                KnowledgeAction::Export {
                    knowledge,
                    version,
                    store,
                    dir,
                },
        } => cli::knowledge::export(
            knowledge.knowledge.as_deref(),
            store.as_deref(),
            version,
            &dir,
            &mut out,
        )?,
        Command::Knowledge {
            action:
                KnowledgeAction::Import {
                    knowledge,
                    store,
                    who,
                    dir,
                },
        } => {
            let who = who
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "import".to_string());
            let into = cli::knowledge::ImportTo::of(knowledge, store)?;
            let ok = cli::knowledge::import(&into, &dir, &who, shebao::unix_now(), &mut out)?;
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
            folds,
            calibrate,
            file,
        } => {
            let kb = cli::load(knowledge.knowledge.as_deref())?;
            let eval = match (file, folds) {
                (_, Some(k)) => kb.cross_validate(k.into()),
                (Some(file), None) if !leave_one_out => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("reading {}", file.display()))?;
                    let (cases, problems) =
                        shebao::knowledge::parse_cases(&text, &file.display().to_string());
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    let ids: Vec<&str> = kb.entries.iter().map(|e| e.id.as_str()).collect();
                    for p in shebao::knowledge::unknown_ids(&cases, &ids) {
                        eprintln!(
                            "{}:{}: warning: {} (counted as a miss)",
                            p.file, p.line, p.message
                        );
                    }
                    kb.evaluate(&cases)
                }
                (_, None) => kb.leave_one_out(),
            };
            cli::eval::print(&eval, &mut out)?;
            if let (true, Some(k)) = (calibrate, folds) {
                cli::eval::print_calibration(&kb, k.into(), &mut out)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
