//! Where the knowledge files come from: the copy embedded in the binary, or a directory given with `--knowledge`.

use std::path::{Path, PathBuf};

/// The files the knowledge base is made of, by name. `faq.yaml` is required; the others are optional.
pub const KNOWN_FILES: [&str; 5] = [
    "faq.yaml",
    "synonyms.yaml",
    "out_of_scope.yaml",
    "flows.yaml",
    "tests.tsv",
];

/// The text of one knowledge file and the name to use for it in messages (`knowledge/faq.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: &'static str,
    pub display: String,
    pub text: String,
}

/// A complete set of knowledge files, read but not yet parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `embedded` or the directory the files were read from.
    pub origin: String,
    pub files: Vec<SourceFile>,
    /// Files in the directory that the knowledge base does not read (reported by `check`).
    pub unknown_files: Vec<String>,
}

macro_rules! embedded_file {
    ($name:literal) => {
        SourceFile {
            name: $name,
            display: concat!("knowledge/", $name).to_string(),
            text: include_str!(concat!("../../knowledge/", $name)).to_string(),
        }
    };
}

impl Source {
    /// The knowledge shipped inside the binary, so that it works from any directory.
    pub fn embedded() -> Source {
        Source {
            origin: "embedded".to_string(),
            files: vec![
                embedded_file!("faq.yaml"),
                embedded_file!("synonyms.yaml"),
                embedded_file!("out_of_scope.yaml"),
                embedded_file!("flows.yaml"),
                embedded_file!("tests.tsv"),
            ],
            unknown_files: Vec::new(),
        }
    }

    /// Reads the known files present in `dir`. Missing optional files are simply absent; a missing
    /// `faq.yaml` is reported later by validation, naming the path.
    pub fn from_dir(dir: &Path) -> std::io::Result<Source> {
        let mut files = Vec::new();
        for name in KNOWN_FILES {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => files.push(SourceFile {
                    name,
                    display: path.display().to_string(),
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let mut unknown_files = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path: PathBuf = entry?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let is_data = path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "tsv");
            if let Some(name) = name
                && is_data
                && !KNOWN_FILES.contains(&name.as_str())
            {
                unknown_files.push(path.display().to_string());
            }
        }
        unknown_files.sort();
        Ok(Source {
            origin: dir.display().to_string(),
            files,
            unknown_files,
        })
    }

    /// The file called `name`, if present.
    pub fn file(&self, name: &str) -> Option<&SourceFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// How `name` is shown in messages, whether or not the file exists.
    pub fn display_name(&self, name: &str) -> String {
        match self.file(name) {
            Some(f) => f.display.clone(),
            None if self.origin == "embedded" => format!("knowledge/{name}"),
            None => Path::new(&self.origin).join(name).display().to_string(),
        }
    }
}
