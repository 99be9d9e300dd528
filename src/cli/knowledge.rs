//! `shebao knowledge export|import`: moves a version of the knowledge to and from a directory of YAML
//! files, so editors who keep the FAQ in git go on doing so while the console keeps the history.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::console::history::{self, FileHistory, History, Published};
use crate::knowledge::Source;

/// Writes the knowledge files of `version` (from the history beside `knowledge`), or the files now in
/// `knowledge` (the embedded ones without it), into `out`.
pub fn export(
    knowledge: Option<&Path>,
    version: Option<u64>,
    out: &Path,
    report: &mut impl Write,
) -> anyhow::Result<()> {
    let files = match (knowledge, version) {
        (Some(dir), Some(n)) => FileHistory::beside(dir).get(n)?.files,
        (None, Some(_)) => anyhow::bail!("--version needs --knowledge DIR (whose history it is)"),
        (dir, None) => history::files_of(&super::source(dir)?),
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

/// Publishes the files in `from` into `knowledge` as `who`, if they pass `shebao check`; returns
/// whether they did (the problems are printed otherwise).
pub fn import(
    knowledge: &Path,
    from: &Path,
    who: &str,
    now: i64,
    report: &mut impl Write,
) -> anyhow::Result<bool> {
    let source = Source::from_dir(from).with_context(|| format!("reading {}", from.display()))?;
    let files = history::files_of(&source);
    let history = FileHistory::beside(knowledge);
    let note = format!("从 {} 导入", from.display());
    match history::publish(knowledge, &history, who, &note, &files, now)? {
        Published::Live(info) => {
            writeln!(
                report,
                "imported {} as version {} of {} (history in {})",
                from.display(),
                info.number,
                knowledge.display(),
                history.root().display()
            )?;
            Ok(true)
        }
        Published::Refused(problems) => {
            for p in &problems {
                writeln!(report, "{p}")?;
            }
            writeln!(
                report,
                "not imported: {} problems; {} is unchanged",
                problems.len(),
                knowledge.display()
            )?;
            Ok(false)
        }
    }
}
