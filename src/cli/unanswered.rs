//! `shebao unanswered`: lists what citizens asked that the bot could not answer, for FAQ editors.

use std::io::Write;
use std::path::Path;

use crate::review;
use crate::store::{Store, StoreError};

/// How the list is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading in a terminal.
    #[default]
    Table,
    /// `id<TAB>question` lines (with `#` comments) to paste into `tests.tsv`.
    Tsv,
}

/// Why the list could not be made.
#[derive(Debug, thiserror::Error)]
pub enum UnansweredError {
    #[error("no database in {} (the bot creates it with `shebao run --db DIR`)", .0.display())]
    NoDatabase(std::path::PathBuf),
    #[error(
        "the bot is running on {} (sled lets one process open a database at a time); send /unanswered in a staff chat instead, or stop the bot and run this again",
        .0.display()
    )]
    BotRunning(std::path::PathBuf),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Prints the unanswered questions of the last `since_days` days, grouped, most asked first. Records
/// older than `retention_days` are pruned first, as the running bot does.
pub fn run(
    db: &Path,
    since_days: u64,
    retention_days: u64,
    format: Format,
    now: i64,
    out: &mut impl Write,
) -> Result<(), UnansweredError> {
    if !db.join("conf").exists() && !db.join("db").exists() {
        return Err(UnansweredError::NoDatabase(db.to_path_buf()));
    }
    let store = Store::open(db).map_err(|e| match e {
        StoreError::InUse(path) => UnansweredError::BotRunning(path),
        other => UnansweredError::Store(other),
    })?;
    let days = |d: u64| d.saturating_mul(86_400).min(i64::MAX as u64) as i64;
    store
        .prune(now.saturating_sub(days(retention_days)))
        .map_err(UnansweredError::Store)?;
    let records = store
        .unanswered(now.saturating_sub(days(since_days)))
        .map_err(UnansweredError::Store)?;
    let not_helpful = store
        .not_helpful(now.saturating_sub(days(since_days)))
        .map_err(UnansweredError::Store)?;
    store.flush_blocking().map_err(UnansweredError::Store)?;
    let groups = review::group(records);
    match format {
        Format::Table => review::table(&groups, out)?,
        Format::Tsv => review::tsv(&groups, out)?,
    }
    review::not_helpful_table(&not_helpful, out)?;
    Ok(())
}
