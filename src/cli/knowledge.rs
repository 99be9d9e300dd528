//! `shebao knowledge export|import`: moves a version of the knowledge to and from a directory of YAML
//! files, so editors who keep the FAQ in git go on doing so while the console keeps the history — the
//! files beside `--knowledge DIR` (sled), or the versions in the PostgreSQL database the replicas share.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::knowledge::Source;
use crate::knowledge::history::{self, FileHistory, History, Published};
use crate::store::Store;

/// Where an import publishes.
pub enum ImportTo {
    /// Into the knowledge directory, recorded in the history beside it.
    Files(PathBuf),
    /// As a new version in the PostgreSQL database at this URL (announced to the running replicas).
    Database(String),
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl ImportTo {
    /// A PostgreSQL `store` when given (versions live there), else the knowledge directory.
    pub fn of(knowledge: Option<PathBuf>, store: Option<String>) -> anyhow::Result<ImportTo> {
        match (knowledge, store) {
            (_, Some(url)) if is_postgres(&url) => Ok(ImportTo::Database(url)),
            (Some(dir), _) => Ok(ImportTo::Files(dir)),
            (None, _) => anyhow::bail!(
                "import needs --knowledge DIR, or a PostgreSQL --store where the versions live"
            ),
        }
    }
}

/// Connects to the PostgreSQL store at `url` (its schema is applied) and returns it with its history.
async fn database(url: &str) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn History>)> {
    let store = crate::store::open_existing(url)
        .await
        .with_context(|| format!("opening the store {url}"))?;
    let history = store
        .history()
        .context("this store keeps no knowledge versions")?;
    Ok((store, history))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Writes the knowledge files of `version` (from the PostgreSQL `store`, else the history beside
/// `knowledge`), or when no version is given the newest in the database or the files now in
/// `knowledge` (the embedded ones without it), into `out`.
pub fn export(
    knowledge: Option<&Path>,
    store: Option<&str>,
    version: Option<u64>,
    out: &Path,
    report: &mut impl Write,
) -> anyhow::Result<()> {
    let files = match (store.filter(|url| is_postgres(url)), knowledge, version) {
        (Some(url), _, version) => runtime()?.block_on(async {
            let (_, history) = database(url).await?;
            let version = match version {
                Some(n) => history.get(n).await?,
                None => history
                    .newest()
                    .await?
                    .context("the database holds no published version yet")?,
            };
            anyhow::Ok(version.files)
        })?,
        (None, Some(dir), Some(n)) => {
            runtime()?
                .block_on(async { FileHistory::beside(dir).get(n).await })?
                .files
        }
        (None, None, Some(_)) => {
            anyhow::bail!(
                "--version needs --knowledge DIR (whose history it is) or a PostgreSQL --store"
            )
        }
        (None, dir, None) => history::files_of(&super::source(dir)?),
    };
    history::write_knowledge(out, &files).with_context(|| format!("writing {}", out.display()))?;
    writeln!(
        report,
        "exported {} files to {}",
        files.len(),
        out.display()
    )?;
    Ok(())
}

/// Publishes the files in `from` as `who`, if they pass `shebao check`: into the knowledge directory
/// and its history, or as a new version in the database (announced to the running replicas, which
/// load and validate it). Returns whether they did (the problems are printed otherwise).
pub fn import(
    into: &ImportTo,
    from: &Path,
    who: &str,
    now: i64,
    report: &mut impl Write,
) -> anyhow::Result<bool> {
    let source = Source::from_dir(from).with_context(|| format!("reading {}", from.display()))?;
    let files = history::files_of(&source);
    let note = format!("从 {} 导入", from.display());
    let (published, place) = runtime()?.block_on(async {
        match into {
            ImportTo::Files(dir) => {
                let history = FileHistory::beside(dir);
                let published =
                    history::publish(dir, Some(dir), &history, who, &note, &files, now).await?;
                let place = format!(
                    "{} (history in {})",
                    dir.display(),
                    history.root().display()
                );
                anyhow::Ok((published, place))
            }
            ImportTo::Database(url) => {
                let (store, history) = database(url).await?;
                let names = Path::new("knowledge");
                let published =
                    history::publish(names, None, &*history, who, &note, &files, now).await?;
                if matches!(published, Published::Live(_)) {
                    store
                        .announce_reload()
                        .await
                        .context("announcing the new version to the replicas")?;
                }
                anyhow::Ok((published, history.describe()))
            }
        }
    })?;
    match published {
        Published::Live(info) => {
            writeln!(
                report,
                "imported {} as version {} of {place}",
                from.display(),
                info.number,
            )?;
            Ok(true)
        }
        Published::Refused(problems) => {
            for p in &problems {
                writeln!(report, "{p}")?;
            }
            writeln!(
                report,
                "not imported: {} problems; {place} is unchanged",
                problems.len(),
            )?;
            Ok(false)
        }
    }
}
