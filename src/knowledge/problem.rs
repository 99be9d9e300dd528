//! A problem found in the knowledge files, located by file and line so an editor can go straight to it.

use std::fmt;

/// One problem in one knowledge file, printed as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl Problem {
    pub fn new(file: impl Into<String>, line: usize, message: impl Into<String>) -> Problem {
        Problem {
            file: file.into(),
            line: line.max(1),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Every problem that kept a knowledge base from loading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the knowledge has {} problem(s):\n{}", .0.len(), Problems::lines(.0))]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    fn lines(problems: &[Problem]) -> String {
        problems
            .iter()
            .map(Problem::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}
