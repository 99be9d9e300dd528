//! Every published version of the knowledge, with who published it and when, so editors can compare
//! versions and roll back, and replicas can all serve the newest. [`History`] is the seam:
//! [`FileHistory`] keeps versions in a directory beside `--knowledge DIR` (one machine, sled);
//! `store::postgres::PgHistory` keeps them in the database the replicas share (numbered by it).
//! History is linear: a rollback publishes an old version's files as a new version.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{KNOWN_FILES, KnowledgeBase, Problem, Source, SourceFile};

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("history in {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("history in {}: {message}", .path.display())]
    Damaged { path: PathBuf, message: String },
    #[error("there is no version {0}")]
    NoSuchVersion(u64),
    /// The database that keeps the versions failed or could not be reached.
    #[error("knowledge versions in PostgreSQL: {0}")]
    Database(String),
}

/// One published version, without its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// 1, 2, 3, … in publishing order.
    pub number: u64,
    /// The staff account that published it (`import`, `initial` for the files found at first start).
    pub who: String,
    /// Unix seconds.
    pub when: i64,
    /// What the editor said the change was, or what the console did (a rollback names its version).
    pub note: String,
    /// The files it holds.
    pub files: Vec<String>,
}

/// A published version with the text of its files, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub info: VersionInfo,
    pub files: Vec<(String, String)>,
}

impl Version {
    /// The text of file `name`, empty when the version has none.
    pub fn file(&self, name: &str) -> &str {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, t)| t.as_str())
    }
}

/// The files of a knowledge source, by name, as a history keeps them.
pub fn files_of(source: &Source) -> Vec<(String, String)> {
    source
        .files
        .iter()
        .map(|f| (f.name.to_string(), f.text.clone()))
        .collect()
}

/// Who published the first version: the files found when the history was empty.
pub const INITIAL: &str = "initial";
/// The note of the first version.
pub const INITIAL_NOTE: &str = "首次记录时的知识库";

/// Where published versions are kept. Asynchronous, because the PostgreSQL history waits on the database.
#[async_trait::async_trait]
pub trait History: Send + Sync {
    /// Where the versions are, for the health page and logs.
    fn describe(&self) -> String;
    /// Every version, oldest first.
    async fn list(&self) -> Result<Vec<VersionInfo>, HistoryError>;
    /// Version `number` with its files.
    async fn get(&self, number: u64) -> Result<Version, HistoryError>;
    /// Keeps a newly published version under the next number and returns what was recorded. Two
    /// publishers recording at once get distinct numbers.
    async fn record(
        &self,
        who: &str,
        note: &str,
        files: &[(String, String)],
        now: i64,
    ) -> Result<VersionInfo, HistoryError>;
    /// Records `files` as version 1 (`who`: `initial`) when the history is empty, and does nothing
    /// otherwise. The PostgreSQL history decides under its lock, so replicas starting together record
    /// one first version, not one each.
    async fn record_initial(
        &self,
        files: &[(String, String)],
        now: i64,
    ) -> Result<(), HistoryError> {
        if self.latest().await?.is_none() {
            self.record(INITIAL, INITIAL_NOTE, files, now).await?;
        }
        Ok(())
    }
    /// The newest version, if any.
    async fn latest(&self) -> Result<Option<VersionInfo>, HistoryError> {
        Ok(self.list().await?.pop())
    }
    /// The newest version with its files, if any.
    async fn newest(&self) -> Result<Option<Version>, HistoryError> {
        match self.latest().await? {
            Some(info) => Ok(Some(self.get(info.number).await?)),
            None => Ok(None),
        }
    }
    /// The review items (by the redacted normalised question) staff dismissed.
    async fn dismissed(&self) -> Result<Vec<String>, HistoryError>;
    /// Keeps `key` dismissed, with who and when.
    async fn dismiss(&self, key: &str, who: &str, now: i64) -> Result<(), HistoryError>;
}

/// Versions as directories `000001/`, `000002/`, … each with the knowledge files and `version.json`,
/// under `DIR.history/` beside the knowledge directory `DIR`.
pub struct FileHistory {
    root: PathBuf,
}

const META: &str = "version.json";

/// `when<TAB>who<TAB>key` lines of dismissed review items, in the history directory.
const DISMISSED: &str = "dismissed.tsv";

impl FileHistory {
    /// The history of the knowledge directory `knowledge` (created on the first record).
    pub fn beside(knowledge: &Path) -> FileHistory {
        let name = knowledge
            .file_name()
            .map_or("knowledge".into(), |n| n.to_string_lossy().into_owned());
        let parent = knowledge.parent().unwrap_or(Path::new("."));
        FileHistory {
            root: parent.join(format!("{name}.history")),
        }
    }

    /// The history kept in `root` itself.
    pub fn at(root: &Path) -> FileHistory {
        FileHistory {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn io(&self, source: std::io::Error) -> HistoryError {
        HistoryError::Io {
            path: self.root.clone(),
            source,
        }
    }

    fn dir(&self, number: u64) -> PathBuf {
        self.root.join(format!("{number:06}"))
    }

    /// Writes a version as `number`, or the next free number after it (`only_first`: as version 1
    /// only, `None` when that exists). Written under a temporary name of this writer's own and renamed,
    /// so a crash leaves no half version behind; a rename onto a number another writer took first
    /// fails, and the next number is tried (two consoles, or a console and an import, at once).
    fn write(
        &self,
        who: &str,
        note: &str,
        files: &[(String, String)],
        now: i64,
        mut number: u64,
        only_first: bool,
    ) -> Result<Option<VersionInfo>, HistoryError> {
        static TEMPORARY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        loop {
            let tmp = self.root.join(format!(
                ".{number:06}.{}.{}.tmp",
                std::process::id(),
                TEMPORARY.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&tmp).map_err(|e| self.io(e))?;
            for (name, text) in files {
                std::fs::write(tmp.join(name), text).map_err(|e| self.io(e))?;
            }
            let info = VersionInfo {
                number,
                who: who.to_string(),
                when: now,
                note: note.to_string(),
                files: files.iter().map(|(n, _)| n.clone()).collect(),
            };
            let meta = serde_json::to_string_pretty(&info).expect("plain data");
            std::fs::write(tmp.join(META), meta).map_err(|e| self.io(e))?;
            let dir = self.dir(number);
            match std::fs::rename(&tmp, &dir) {
                Ok(()) => return Ok(Some(info)),
                Err(_) if dir.join(META).exists() => {
                    let _ = std::fs::remove_dir_all(&tmp);
                    if only_first {
                        return Ok(None);
                    }
                    number += 1;
                }
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(self.io(e));
                }
            }
        }
    }
}

// Small files read and written in place: a version is a few hundred kilobytes at most, so the async
// threads are not held for long.
#[async_trait::async_trait]
impl History for FileHistory {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn list(&self) -> Result<Vec<VersionInfo>, HistoryError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| self.io(e))?.path();
            let numbered = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse::<u64>().ok());
            if numbered.is_some() && path.join(META).exists() {
                let text = std::fs::read_to_string(path.join(META)).map_err(|e| self.io(e))?;
                let info: VersionInfo =
                    serde_json::from_str(&text).map_err(|e| HistoryError::Damaged {
                        path: path.clone(),
                        message: e.to_string(),
                    })?;
                versions.push(info);
            }
        }
        versions.sort_by_key(|v| v.number);
        Ok(versions)
    }

    async fn get(&self, number: u64) -> Result<Version, HistoryError> {
        let info = self
            .list()
            .await?
            .into_iter()
            .find(|v| v.number == number)
            .ok_or(HistoryError::NoSuchVersion(number))?;
        let dir = self.dir(number);
        let mut files = Vec::new();
        for name in &info.files {
            let text = std::fs::read_to_string(dir.join(name)).map_err(|e| self.io(e))?;
            files.push((name.clone(), text));
        }
        Ok(Version { info, files })
    }

    async fn record(
        &self,
        who: &str,
        note: &str,
        files: &[(String, String)],
        now: i64,
    ) -> Result<VersionInfo, HistoryError> {
        let first = self.list().await?.last().map_or(1, |v| v.number + 1);
        let recorded = self.write(who, note, files, now, first, false)?;
        Ok(recorded.expect("recorded whatever the history holds"))
    }

    async fn record_initial(
        &self,
        files: &[(String, String)],
        now: i64,
    ) -> Result<(), HistoryError> {
        self.write(INITIAL, INITIAL_NOTE, files, now, 1, true)
            .map(drop)
    }

    async fn dismissed(&self) -> Result<Vec<String>, HistoryError> {
        match std::fs::read_to_string(self.root.join(DISMISSED)) {
            Ok(text) => Ok(text
                .lines()
                .filter_map(|l| l.splitn(3, '\t').nth(2))
                .map(str::to_string)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(self.io(e)),
        }
    }

    async fn dismiss(&self, key: &str, who: &str, now: i64) -> Result<(), HistoryError> {
        use std::io::Write;
        std::fs::create_dir_all(&self.root).map_err(|e| self.io(e))?;
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.join(DISMISSED))
            .map_err(|e| self.io(e))?;
        writeln!(file, "{now}\t{}\t{}", clean(who), clean(key)).map_err(|e| self.io(e))
    }
}

/// Writes `files` into the knowledge directory `dir`, each through a temporary file and a rename, and
/// removes the known knowledge files that `files` lacks.
pub fn write_knowledge(dir: &Path, files: &[(String, String)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in files {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, dir.join(name))?;
    }
    for name in KNOWN_FILES {
        if !files.iter().any(|(n, _)| n == name) {
            match std::fs::remove_file(dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A knowledge source made of `files`, named as files of `dir`.
pub fn source_of(dir: &Path, files: &[(String, String)]) -> Source {
    Source {
        origin: dir.display().to_string(),
        files: KNOWN_FILES
            .iter()
            .filter_map(|name| {
                files
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, text)| SourceFile {
                        name,
                        display: dir.join(name).display().to_string(),
                        text: text.clone(),
                    })
            })
            .collect(),
        unknown_files: Vec::new(),
    }
}

/// The knowledge `files` make, or every problem `shebao check` finds in them (regression cases included).
pub fn checked(dir: &Path, files: &[(String, String)]) -> Result<KnowledgeBase, Vec<Problem>> {
    let report = KnowledgeBase::check(&source_of(dir, files));
    match report.knowledge {
        Some(kb) if report.problems.is_empty() => Ok(kb),
        _ => Err(report.problems),
    }
}

/// What [`publish`] did.
#[derive(Debug)]
pub enum Published {
    /// The files are recorded as this version (and written into the knowledge directory, if any).
    Live(VersionInfo),
    /// `check` found these problems; nothing was written.
    Refused(Vec<Problem>),
}

/// Why publishing failed half-way.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("writing the knowledge into {}: {source}", .dir.display())]
    Write {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("checking the knowledge failed: {0}")]
    Check(String),
}

/// Runs the full `check` on `files` (named as files of `names`) and, when it passes, writes them into
/// the knowledge directory `write_to` (when the versions are files beside it) and records them in
/// `history` as published by `who`. Swapping the live knowledge and telling the other replicas are the
/// caller's part.
pub async fn publish(
    names: &Path,
    write_to: Option<&Path>,
    history: &dyn History,
    who: &str,
    note: &str,
    files: &[(String, String)],
    now: i64,
) -> Result<Published, PublishError> {
    let (dir, all) = (names.to_path_buf(), files.to_vec());
    let verdict = tokio::task::spawn_blocking(move || checked(&dir, &all).map(|_| ()))
        .await
        .map_err(|e| PublishError::Check(e.to_string()))?;
    if let Err(problems) = verdict {
        return Ok(Published::Refused(problems));
    }
    if let Some(dir) = write_to {
        let found = Source::from_dir(dir).map_err(|source| PublishError::Write {
            dir: dir.to_path_buf(),
            source,
        })?;
        history.record_initial(&files_of(&found), now).await?;
        write_knowledge(dir, files).map_err(|source| PublishError::Write {
            dir: dir.to_path_buf(),
            source,
        })?;
    }
    Ok(Published::Live(
        history.record(who, note, files, now).await?,
    ))
}

/// The checks every [`History`] passes (the file history's unit tests and the PostgreSQL tests run
/// them), on an empty history.
#[doc(hidden)]
pub mod suite {
    use std::sync::Arc;

    use super::{History, HistoryError};

    fn files(faq: &str) -> Vec<(String, String)> {
        vec![
            ("faq.yaml".to_string(), faq.to_string()),
            (
                "tests.tsv".to_string(),
                "forgot_pin\t密码忘了\n".to_string(),
            ),
        ]
    }

    /// Every check, in order.
    pub async fn run(history: Arc<dyn History>) {
        versions_are_numbered_in_order_and_keep_who_when_note_and_files(history.clone()).await;
        publishers_recording_at_once_get_distinct_numbers(history.clone()).await;
        dismissed_items_are_kept(&*history).await;
    }

    async fn versions_are_numbered_in_order_and_keep_who_when_note_and_files(
        history: Arc<dyn History>,
    ) {
        assert_eq!(history.list().await.unwrap(), Vec::new());
        assert_eq!(history.latest().await.unwrap(), None);
        assert_eq!(history.newest().await.unwrap(), None);
        // Two consoles starting together on an empty history record one first version.
        let mut starting = tokio::task::JoinSet::new();
        for _ in 0..2 {
            let history = history.clone();
            starting.spawn(async move {
                history
                    .record_initial(&files("entries: []\n"), 10)
                    .await
                    .unwrap()
            });
        }
        starting.join_all().await;
        history
            .record_initial(&files("entries: [later]\n"), 11)
            .await
            .unwrap();
        let listed = history.list().await.unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        let one = listed[0].clone();
        assert_eq!((one.number, one.who.as_str()), (1, super::INITIAL));
        let two = history
            .record("wang", "补充问法", &files("entries: [x]\n"), 20)
            .await
            .unwrap();
        assert_eq!((one.number, two.number), (1, 2));
        assert_eq!(two.files, vec!["faq.yaml", "tests.tsv"]);
        let listed = history.list().await.unwrap();
        assert_eq!(listed, vec![one.clone(), two.clone()]);
        assert_eq!(history.latest().await.unwrap(), Some(two.clone()));
        let got = history.get(2).await.unwrap();
        assert_eq!(
            (got.info.who.as_str(), got.info.when, got.info.note.as_str()),
            ("wang", 20, "补充问法")
        );
        assert_eq!(
            got.files,
            files("entries: [x]\n"),
            "files in order, text intact"
        );
        assert_eq!(
            history.get(1).await.unwrap().file("faq.yaml"),
            "entries: []\n"
        );
        assert_eq!(history.newest().await.unwrap().unwrap().info, two);
        assert!(matches!(
            history.get(99).await,
            Err(HistoryError::NoSuchVersion(99))
        ));
    }

    async fn publishers_recording_at_once_get_distinct_numbers(history: Arc<dyn History>) {
        let before = history.list().await.unwrap().len() as u64;
        let mut tasks = tokio::task::JoinSet::new();
        for who in ["zhao", "qian"] {
            let history = history.clone();
            tasks.spawn(async move {
                let mut numbers = Vec::new();
                for n in 0..5 {
                    let faq = format!("entries: [{who}{n}]\n");
                    let info = history.record(who, "", &files(&faq), 30).await.unwrap();
                    numbers.push(info.number);
                }
                numbers
            });
        }
        let mut numbers: Vec<u64> = tasks.join_all().await.concat();
        numbers.sort();
        let expected: Vec<u64> = (before + 1..=before + 10).collect();
        assert_eq!(numbers, expected, "ten records, ten numbers, none shared");
        for info in history.list().await.unwrap().iter().skip(before as usize) {
            let version = history.get(info.number).await.unwrap();
            assert!(
                version.file("faq.yaml").contains(&info.who),
                "version {} holds its own publisher's files",
                info.number
            );
        }
    }

    async fn dismissed_items_are_kept(history: &dyn History) {
        assert_eq!(history.dismissed().await.unwrap(), Vec::<String>::new());
        history.dismiss("密码 忘了", "wang", 5).await.unwrap();
        history.dismiss("别的\t问题", "li", 6).await.unwrap();
        let mut dismissed = history.dismissed().await.unwrap();
        dismissed.sort();
        assert_eq!(
            dismissed,
            vec!["别的 问题".to_string(), "密码 忘了".to_string()]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_history_passes_the_history_checks() {
        let dir = tempfile::tempdir().unwrap();
        suite::run(std::sync::Arc::new(FileHistory::beside(
            &dir.path().join("knowledge"),
        )))
        .await;
        assert!(
            dir.path()
                .join("knowledge.history/000002/tests.tsv")
                .exists(),
            "a version is a directory of files beside the knowledge"
        );
    }

    #[test]
    fn writing_a_version_removes_the_files_it_does_not_have() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tests.tsv"), "x").unwrap();
        write_knowledge(
            dir.path(),
            &[("faq.yaml".to_string(), "entries: []\n".to_string())],
        )
        .unwrap();
        assert!(dir.path().join("faq.yaml").exists());
        assert!(!dir.path().join("tests.tsv").exists());
    }
}
