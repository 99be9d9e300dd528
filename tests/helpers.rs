//! Shared helpers: a scratch copy of the shipped knowledge to break, and a way to run the `shebao` binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use shebao::knowledge::{KnowledgeBase, Source};

/// A temporary directory holding a copy of the shipped knowledge files.
pub struct KnowledgeDir {
    pub dir: tempfile::TempDir,
}

/// A console publishing into the directory keeps its history beside it (`DIR.history/`), outside the
/// temporary directory: removed with it.
impl Drop for KnowledgeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(format!("{}.history", self.dir.path().display()));
    }
}

impl KnowledgeDir {
    pub fn shipped() -> KnowledgeDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for file in Source::embedded().files {
            std::fs::write(dir.path().join(file.name), &file.text).expect("write knowledge file");
        }
        KnowledgeDir { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).expect("read knowledge file")
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.file(name), text).expect("write knowledge file");
    }

    /// Replaces the first occurrence of `from` in `name`; panics if it is not there.
    pub fn replace(&self, name: &str, from: &str, to: &str) {
        let text = self.read(name);
        assert!(text.contains(from), "{name} has no `{from}`");
        self.write(name, &text.replacen(from, to, 1));
    }

    /// The 1-based line of the first line of `name` containing `needle`.
    pub fn line_of(&self, name: &str, needle: &str) -> usize {
        self.read(name)
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("{name} has no `{needle}`"))
    }
}

/// The shipped knowledge, loaded once per call (cheap: a few milliseconds).
pub fn shipped() -> KnowledgeBase {
    KnowledgeBase::embedded().expect("the shipped knowledge loads")
}

/// Runs `shebao ARGS` with `stdin`, from a neutral working directory.
pub fn shebao(args: &[&str], stdin: &str) -> Output {
    let cwd = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_shebao"))
        .args(args)
        .current_dir(cwd.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run shebao");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for shebao")
}

/// Runs `shebao eval` on labelled cases written to a `cases.tsv` of their own.
pub fn eval_cases(tsv: &str) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cases.tsv");
    std::fs::write(&file, tsv).expect("write the cases");
    shebao(&["eval", file.to_str().expect("a UTF-8 path")], "")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `text` with every decimal number (a score, a similarity) written `#.##`, so a snapshot shows what a
/// tool says and why, and does not change each time the matcher's numbers move a little.
pub fn without_scores(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let digits = |from: usize| {
            chars[from..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count()
        };
        let whole = digits(i);
        let starts_number = whole > 0 && (i == 0 || !chars[i - 1].is_ascii_alphanumeric());
        if starts_number && chars.get(i + whole) == Some(&'.') && digits(i + whole + 1) > 0 {
            out.push_str("#.##");
            i += whole + 1 + digits(i + whole + 1);
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Every file under `dir`, in subdirectories too.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
