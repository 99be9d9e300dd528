//! The knowledge a running bot serves, replaced in one step when a new version passes every check of `shebao check`.
//!
//! Editors change the files in `--knowledge DIR`; [`LiveKnowledge::reload`] reads them again, validates
//! them exactly as `shebao check` does (regression cases included) and, only if nothing is wrong, swaps
//! the new version in. Every update handled after the swap sees the new version, every update before it
//! the old one; none sees a mix. A broken edit is refused and the last good version stays live. The
//! knowledge embedded in the binary never changes, so reloading it is a no-op.
//!
//! [`watch`] turns changes of the files into reload requests; the Telegram adapter debounces them, and
//! adds SIGHUP and the staff's `/reload`.
//!
//! A published version (the console, `shebao knowledge import`) arrives as files, not a directory:
//! [`LiveKnowledge::install`] validates it the same way and swaps it in, remembering which version it
//! is. Where versions live in PostgreSQL, [`refresh`] loads the newest one for every replica (at an
//! announcement, `/reload` or SIGHUP), so all replicas serve what was published last.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::knowledge::history::{self, History, VersionInfo};
use crate::knowledge::{KNOWN_FILES, KnowledgeBase, Problem, Problems, Source, Summary};

/// Longest staff message about a reload, in characters (Telegram allows 4096).
const MAX_REPORT_CHARS: usize = 3500;

/// Why the knowledge could not be served at all.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot read the knowledge in {}: {source}", .dir.display())]
    Read {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] Problems),
}

/// One validated version and the files it was made from.
struct Version {
    kb: Arc<KnowledgeBase>,
    source: Source,
    /// The published version these files are, when they came from (or match) a history.
    published: Option<VersionInfo>,
}

/// The knowledge being served, and where a new version comes from.
pub struct LiveKnowledge {
    dir: Option<PathBuf>,
    current: RwLock<Version>,
    /// One reload at a time (a signal, a file change and `/reload` may come together).
    reloading: Mutex<()>,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq)]
pub enum Reload {
    /// The new version is live.
    Updated(Summary),
    /// The files are the same as the live version's.
    Unchanged,
    /// The new version has problems; the last good version stays live.
    Refused(Vec<Problem>),
    /// The directory could not be read; the last good version stays live.
    Unreadable(String),
    /// The bot serves the embedded knowledge: there is nothing to reload.
    Embedded,
}

impl LiveKnowledge {
    /// Loads the knowledge from `dir`, or the embedded copy, and requires it to pass `shebao check`.
    pub fn open(dir: Option<&Path>) -> Result<LiveKnowledge, LiveError> {
        let source = read(dir)?;
        let (kb, _) = validated(&source).map_err(Problems)?;
        Ok(LiveKnowledge {
            dir: dir.map(Path::to_path_buf),
            current: RwLock::new(Version {
                kb: Arc::new(kb),
                source,
                published: None,
            }),
            reloading: Mutex::new(()),
        })
    }

    /// Serves `kb` and never reloads (for tests and tools that hold a knowledge base already).
    pub fn fixed(kb: KnowledgeBase) -> LiveKnowledge {
        LiveKnowledge {
            dir: None,
            current: RwLock::new(Version {
                kb: Arc::new(kb),
                source: Source::embedded(),
                published: None,
            }),
            reloading: Mutex::new(()),
        }
    }

    /// The version to answer with now. Hold on to it for the whole of one update.
    pub fn current(&self) -> Arc<KnowledgeBase> {
        self.current.read().expect("knowledge lock").kb.clone()
    }

    /// The directory reloads read, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The files of the live version.
    pub fn source(&self) -> Source {
        self.current.read().expect("knowledge lock").source.clone()
    }

    /// The published version being served, when the live files are one (see [`LiveKnowledge::install`]).
    pub fn published(&self) -> Option<VersionInfo> {
        self.current
            .read()
            .expect("knowledge lock")
            .published
            .clone()
    }

    /// Puts `source` live if it passes every check of `shebao check`, as [`LiveKnowledge::reload`] does
    /// for the directory. `published` says which version of a history it is: a version older than the
    /// one live is not installed (two publishes crossing on their way to a replica end on the newer),
    /// and files equal to the live ones only remember the version they are.
    /// Blocking, like [`LiveKnowledge::reload`].
    pub fn install(&self, source: Source, published: Option<VersionInfo>) -> Reload {
        let _one_at_a_time = self.reloading.lock().expect("reload lock");
        {
            let mut current = self.current.write().expect("knowledge lock");
            let newer = match (&current.published, &published) {
                (Some(live), Some(new)) => new.number >= live.number,
                _ => true,
            };
            if !newer {
                return Reload::Unchanged;
            }
            if history::files_of(&current.source) == history::files_of(&source) {
                if published.is_some() {
                    current.published = published;
                }
                return Reload::Unchanged;
            }
        }
        self.swap(source, published)
    }

    /// Reads the directory again and puts the new version live if it passes every check.
    /// Blocking: reads files and builds the index (milliseconds for the shipped knowledge).
    pub fn reload(&self) -> Reload {
        let _one_at_a_time = self.reloading.lock().expect("reload lock");
        let Some(dir) = &self.dir else {
            return Reload::Embedded;
        };
        let source = match read(Some(dir)) {
            Ok(source) => source,
            Err(e) => return Reload::Unreadable(e.to_string()),
        };
        if self.current.read().expect("knowledge lock").source == source {
            return Reload::Unchanged;
        }
        self.swap(source, None)
    }

    /// Validates `source` as `shebao check` does and, only if nothing is wrong, makes it live. The
    /// caller holds `reloading`.
    fn swap(&self, source: Source, published: Option<VersionInfo>) -> Reload {
        match validated(&source) {
            Ok((kb, summary)) => {
                *self.current.write().expect("knowledge lock") = Version {
                    kb: Arc::new(kb),
                    source,
                    published,
                };
                Reload::Updated(summary)
            }
            Err(problems) => Reload::Refused(problems),
        }
    }
}

/// Brings the live knowledge up to date with where versions come from: with `versions` (PostgreSQL)
/// that holds at least one version, its newest version, validated before it is swapped in; otherwise
/// the `--knowledge` directory again ([`LiveKnowledge::reload`]).
pub async fn refresh(live: &Arc<LiveKnowledge>, versions: Option<&dyn History>) -> Reload {
    let newest = match versions {
        Some(history) => match history.newest().await {
            Ok(newest) => newest,
            Err(e) => return Reload::Unreadable(e.to_string()),
        },
        None => None,
    };
    let live = live.clone();
    let work = move || match newest {
        Some(version) => {
            let names = live.names();
            live.install(
                history::source_of(&names, &version.files),
                Some(version.info),
            )
        }
        None => live.reload(),
    };
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Reload::Unreadable(format!("the reload task failed: {e}")))
}

impl LiveKnowledge {
    /// The directory problems of a published version are reported under (`--knowledge DIR`, else
    /// `knowledge`).
    pub fn names(&self) -> PathBuf {
        self.dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("knowledge"))
    }
}

fn read(dir: Option<&Path>) -> Result<Source, LiveError> {
    match dir {
        Some(dir) => Source::from_dir(dir).map_err(|source| LiveError::Read {
            dir: dir.to_path_buf(),
            source,
        }),
        None => Ok(Source::embedded()),
    }
}

/// The knowledge and what it holds if `shebao check` finds nothing wrong with it, otherwise every problem.
fn validated(source: &Source) -> Result<(KnowledgeBase, Summary), Vec<Problem>> {
    let report = KnowledgeBase::check(source);
    match report.knowledge {
        Some(kb) if report.problems.is_empty() => Ok((kb, report.summary)),
        _ => Err(report.problems),
    }
}

impl Reload {
    /// Whether the live version changed.
    pub fn is_update(&self) -> bool {
        matches!(self, Reload::Updated(_))
    }

    /// One line for the log (no problem text: it names files, not users, but stays short).
    pub fn summary(&self) -> String {
        match self {
            Reload::Updated(s) => format!(
                "updated: {} entries, {} questions, {} cases pass",
                s.entries, s.questions, s.cases
            ),
            Reload::Unchanged => "unchanged".into(),
            Reload::Refused(p) => format!(
                "refused: {} problem(s); the last good version stays live",
                p.len()
            ),
            Reload::Unreadable(e) => format!("refused: {e}; the last good version stays live"),
            Reload::Embedded => {
                "nothing to reload: the bot serves the embedded knowledge (no --knowledge)".into()
            }
        }
    }

    /// The message for the staff, in their language, with every problem as `file:line: message`.
    pub fn report(&self) -> String {
        match self {
            Reload::Updated(s) => format!(
                "✅ 知识库已更新并生效：{} 个条目、{} 个问题，{} 个回归用例全部通过。",
                s.entries, s.questions, s.cases
            ),
            Reload::Unchanged => "知识库文件和正在使用的版本一样，没有需要更新的。".into(),
            Reload::Refused(problems) => {
                let mut text = format!(
                    "❌ 知识库的修改没有生效：发现 {} 个问题，机器人继续使用上一个正确的版本。改好后保存即可（shebao check 会列出同样的问题）：\n",
                    problems.len()
                );
                for (n, p) in problems.iter().enumerate() {
                    let line = format!("\n{p}");
                    if text.chars().count() + line.chars().count() > MAX_REPORT_CHARS {
                        text.push_str(&format!("\n……还有 {} 个问题", problems.len() - n));
                        break;
                    }
                    text.push_str(&line);
                }
                text
            }
            Reload::Unreadable(e) => {
                format!("❌ 读不了知识库目录（{e}），机器人继续使用上一个正确的版本。")
            }
            Reload::Embedded => "这个机器人用的是程序内置的知识库（启动时没有给 --knowledge），没有可以重新加载的文件。".into(),
        }
    }
}

/// Calls `changed` whenever a knowledge file in `dir` is created, written, renamed or removed (not for
/// editors' swap and backup files). Keep the returned watcher alive for as long as changes matter.
pub fn watch(
    dir: &Path,
    changed: impl Fn() + Send + 'static,
) -> notify::Result<notify::RecommendedWatcher> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            // The watcher itself failed (e.g. too many watches): a reload still sorts things out.
            changed();
            return;
        };
        let relevant_kind = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) | EventKind::Any
        );
        if relevant_kind && event.paths.iter().any(|p| is_knowledge_file(p)) {
            changed();
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

/// Whether a change to `path` can change the knowledge: a known file, or any YAML/TSV file (an unknown
/// one is a problem `check` reports).
fn is_knowledge_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    KNOWN_FILES.contains(&name)
        || (!name.starts_with('.')
            && path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "tsv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped_copy() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in Source::embedded().files {
            std::fs::write(dir.path().join(file.name), &file.text).unwrap();
        }
        dir
    }

    #[test]
    fn an_unchanged_directory_is_not_loaded_again() {
        let dir = shipped_copy();
        let live = LiveKnowledge::open(Some(dir.path())).unwrap();
        let before = live.current();
        assert_eq!(live.reload(), Reload::Unchanged);
        assert!(Arc::ptr_eq(&before, &live.current()));
    }

    #[test]
    fn a_valid_edit_goes_live_and_a_broken_one_is_refused_keeping_the_last_good_version() {
        let dir = shipped_copy();
        let live = LiveKnowledge::open(Some(dir.path())).unwrap();
        let faq = dir.path().join("faq.yaml");
        let text = std::fs::read_to_string(&faq).unwrap();
        let edited = text.replace(
            "忘记电子社保卡密码怎么办？",
            "电子社保卡的密码忘记了怎么办？",
        );
        assert_ne!(text, edited);
        std::fs::write(&faq, &edited).unwrap();
        assert!(live.reload().is_update());
        let good = live.current();
        assert_eq!(
            good.entry("forgot_pin").unwrap().canonical_question(),
            "电子社保卡的密码忘记了怎么办？"
        );

        std::fs::write(&faq, edited.replace("entries:", "entries: [oops")).unwrap();
        let Reload::Refused(problems) = live.reload() else {
            panic!("a broken edit must be refused");
        };
        assert!(problems[0].file.ends_with("faq.yaml"), "{problems:?}");
        assert!(
            Arc::ptr_eq(&good, &live.current()),
            "the last good version stays"
        );
    }

    #[test]
    fn a_failing_regression_case_is_refused_like_check_refuses_it() {
        let dir = shipped_copy();
        let live = LiveKnowledge::open(Some(dir.path())).unwrap();
        let tests = dir.path().join("tests.tsv");
        let mut text = std::fs::read_to_string(&tests).unwrap();
        text.push_str("greeting\t我的医保卡丢了怎么补办\n");
        std::fs::write(&tests, text).unwrap();
        let outcome = live.reload();
        let Reload::Refused(problems) = &outcome else {
            panic!("{outcome:?}");
        };
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("expected greeting"))
        );
        assert!(
            outcome.report().contains("tests.tsv:"),
            "{}",
            outcome.report()
        );
    }

    fn version(number: u64) -> VersionInfo {
        VersionInfo {
            number,
            who: "wang".into(),
            when: 100,
            note: String::new(),
            files: Vec::new(),
        }
    }

    /// The embedded files with `question` added to `forgot_pin`.
    fn with_question(question: &str) -> Source {
        let mut source = Source::embedded();
        let faq = source
            .files
            .iter_mut()
            .find(|f| f.name == "faq.yaml")
            .unwrap();
        faq.text = faq.text.replacen(
            "      - 忘记电子社保卡密码怎么办？\n",
            &format!("      - 忘记电子社保卡密码怎么办？\n      - {question}\n"),
            1,
        );
        source
    }

    fn has_question(live: &LiveKnowledge, question: &str) -> bool {
        let kb = live.current();
        let entry = kb.entry("forgot_pin").unwrap();
        entry.questions.iter().any(|q| q == question)
    }

    #[test]
    fn an_installed_version_goes_live_only_if_it_passes_and_never_goes_back_to_an_older_one() {
        let live = LiveKnowledge::open(None).unwrap();
        assert_eq!(live.published(), None);
        assert_eq!(
            live.install(Source::embedded(), Some(version(1))),
            Reload::Unchanged,
            "the same files only learn which version they are"
        );
        assert_eq!(live.published().map(|v| v.number), Some(1));

        assert!(
            live.install(with_question("月亮门钥匙找不到了"), Some(version(3)))
                .is_update()
        );
        assert!(has_question(&live, "月亮门钥匙找不到了"));
        assert_eq!(live.published().map(|v| v.number), Some(3));

        let older = live.install(with_question("老王家的暗号是啥"), Some(version(2)));
        assert_eq!(
            older,
            Reload::Unchanged,
            "a version older than the live one"
        );
        assert!(has_question(&live, "月亮门钥匙找不到了"));

        let mut broken = Source::embedded();
        broken.files[0].text.push_str("\nentries: [oops");
        assert!(matches!(
            live.install(broken, Some(version(4))),
            Reload::Refused(_)
        ));
        assert_eq!(
            live.published().map(|v| v.number),
            Some(3),
            "a refused version leaves the last good one live"
        );
        assert!(has_question(&live, "月亮门钥匙找不到了"));
    }

    #[test]
    fn the_embedded_knowledge_has_nothing_to_reload() {
        let live = LiveKnowledge::open(None).unwrap();
        assert_eq!(live.reload(), Reload::Embedded);
    }

    #[test]
    fn a_long_list_of_problems_fits_in_one_telegram_message() {
        let problems: Vec<Problem> = (1..=500)
            .map(|n| Problem::new("knowledge/faq.yaml", n, "question `x` is empty".repeat(3)))
            .collect();
        let report = Reload::Refused(problems).report();
        assert!(report.chars().count() <= crate::knowledge::MAX_MESSAGE_CHARS);
        assert!(report.contains("knowledge/faq.yaml:1:"));
        assert!(report.contains("还有"));
    }

    #[test]
    fn editor_swap_files_are_not_knowledge_files() {
        for name in ["faq.yaml", "new_topic.yaml", "tests.tsv"] {
            assert!(is_knowledge_file(Path::new(name)), "{name}");
        }
        for name in [".faq.yaml.swp", "faq.yaml~", "4913", ".#faq.yaml"] {
            assert!(!is_knowledge_file(Path::new(name)), "{name}");
        }
    }
}
