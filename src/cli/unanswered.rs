//! `shebao unanswered`: lists what citizens asked that the bot could not answer, for FAQ editors.

use std::io::Write;

use crate::review;
use crate::store::StoreError;

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
    #[error("no database in {0} (the bot creates it with `shebao run --db DIR`)")]
    NoDatabase(String),
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
    store: &str,
    since_days: u64,
    retention_days: u64,
    format: Format,
    now: i64,
    out: &mut impl Write,
) -> Result<(), UnansweredError> {
    let store = crate::cli::open_store(store, true).map_err(|e| match e {
        StoreError::Missing(path) => UnansweredError::NoDatabase(path),
        StoreError::InUse(path) => UnansweredError::BotRunning(path),
        other => UnansweredError::Store(other),
    })?;
    let days = |d: u64| d.saturating_mul(86_400).min(i64::MAX as u64) as i64;
    let since = now.saturating_sub(days(since_days));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (records, not_helpful) = runtime
        .block_on(async {
            store
                .prune(now.saturating_sub(days(retention_days)))
                .await?;
            let records = store.unanswered(since).await?;
            let not_helpful = store.not_helpful(since).await?;
            store.sync().await?;
            Ok((records, not_helpful))
        })
        .map_err(UnansweredError::Store)?;
    let groups = review::group(records);
    match format {
        Format::Table => review::table(&groups, out)?,
        Format::Tsv => review::tsv(&groups, out)?,
    }
    review::not_helpful_table(&not_helpful, out)?;
    Ok(())
}
