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

/// The current time in Unix seconds.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
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
            cli::chat::run(&kb, &store, stdin.lock(), &mut out, unix_now)?;
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
