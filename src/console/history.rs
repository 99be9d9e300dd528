//! Every published version of the knowledge, with who published it and when, so editors can compare
//! versions and roll back. [`History`] is the seam: [`FileHistory`] keeps versions in a directory beside
//! `--knowledge DIR` (the sled setup); a database-backed history can implement the same trait.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::knowledge::{KNOWN_FILES, KnowledgeBase, Problem, Source, SourceFile};

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

/// Where published versions are kept.
pub trait History: Send + Sync {
    /// Every version, oldest first.
    fn list(&self) -> Result<Vec<VersionInfo>, HistoryError>;
    /// Version `number` with its files.
    fn get(&self, number: u64) -> Result<Version, HistoryError>;
    /// Keeps a newly published version and returns what was recorded.
    fn record(
        &self,
        who: &str,
        note: &str,
        files: &[(String, String)],
        now: i64,
    ) -> Result<VersionInfo, HistoryError>;
    /// The newest version, if any.
    fn latest(&self) -> Result<Option<VersionInfo>, HistoryError> {
        Ok(self.list()?.pop())
    }
    /// The review items (by the redacted normalised question) staff dismissed.
    fn dismissed(&self) -> Result<Vec<String>, HistoryError>;
    /// Keeps `key` dismissed, with who and when.
    fn dismiss(&self, key: &str, who: &str, now: i64) -> Result<(), HistoryError>;
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
}

impl History for FileHistory {
    fn list(&self) -> Result<Vec<VersionInfo>, HistoryError> {
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

    fn get(&self, number: u64) -> Result<Version, HistoryError> {
        let info = self
            .list()?
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

    fn record(
        &self,
        who: &str,
        note: &str,
        files: &[(String, String)],
        now: i64,
    ) -> Result<VersionInfo, HistoryError> {
        let number = self.list()?.last().map_or(1, |v| v.number + 1);
        let dir = self.dir(number);
        // Written under a temporary name and renamed, so a crash leaves no half version behind.
        let tmp = self.root.join(format!(".{number:06}.tmp"));
        let _ = std::fs::remove_dir_all(&tmp);
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
        std::fs::rename(&tmp, &dir).map_err(|e| self.io(e))?;
        Ok(info)
    }

    fn dismissed(&self) -> Result<Vec<String>, HistoryError> {
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

    fn dismiss(&self, key: &str, who: &str, now: i64) -> Result<(), HistoryError> {
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
    /// The files are in the knowledge directory and recorded as this version.
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
}

/// Records the files now in `dir` as the first version when the history is empty (`who`: `initial`).
pub fn ensure_initial(dir: &Path, history: &dyn History, now: i64) -> Result<(), PublishError> {
    if history.latest()?.is_none() {
        let source = Source::from_dir(dir).map_err(|source| PublishError::Write {
            dir: dir.to_path_buf(),
            source,
        })?;
        history.record(
            "initial",
            "首次记录时目录里的知识库",
            &files_of(&source),
            now,
        )?;
    }
    Ok(())
}

/// Runs the full `check` on `files` and, when it passes, writes them into `dir` and records them in
/// `history` as published by `who`. A running bot on `dir` picks the change up as a reload.
pub fn publish(
    dir: &Path,
    history: &dyn History,
    who: &str,
    note: &str,
    files: &[(String, String)],
    now: i64,
) -> Result<Published, PublishError> {
    if let Err(problems) = checked(dir, files) {
        return Ok(Published::Refused(problems));
    }
    ensure_initial(dir, history, now)?;
    write_knowledge(dir, files).map_err(|source| PublishError::Write {
        dir: dir.to_path_buf(),
        source,
    })?;
    Ok(Published::Live(history.record(who, note, files, now)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_in_order_and_keep_who_when_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let history = FileHistory::beside(&dir.path().join("knowledge"));
        assert_eq!(history.latest().unwrap(), None);
        let one = vec![("faq.yaml".to_string(), "entries: []\n".to_string())];
        let two = vec![
            ("faq.yaml".to_string(), "entries: [x]\n".to_string()),
            ("tests.tsv".to_string(), "a\tb\n".to_string()),
        ];
        history.record("initial", "", &one, 10).unwrap();
        let info = history.record("wang", "补充问法", &two, 20).unwrap();
        assert_eq!(info.number, 2);
        assert!(
            dir.path()
                .join("knowledge.history/000002/tests.tsv")
                .exists()
        );
        let listed = history.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(history.get(1).unwrap().file("faq.yaml"), "entries: []\n");
        let got = history.get(2).unwrap();
        assert_eq!((got.info.who.as_str(), got.info.when), ("wang", 20));
        assert_eq!(got.files, two);
        assert!(matches!(
            history.get(3),
            Err(HistoryError::NoSuchVersion(3))
        ));
    }

    #[test]
    fn a_dismissed_item_stays_dismissed_for_the_next_console() {
        let dir = tempfile::tempdir().unwrap();
        FileHistory::at(dir.path())
            .dismiss("密码 忘了", "wang", 5)
            .unwrap();
        FileHistory::at(dir.path())
            .dismiss("别的\t问题", "li", 6)
            .unwrap();
        assert_eq!(
            FileHistory::at(dir.path()).dismissed().unwrap(),
            vec!["密码 忘了".to_string(), "别的 问题".to_string()]
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
