//! YAML syntax errors told in an editor's terms, in one place: the line that causes them, and why.
//!
//! serde_yaml reports where its parser gave up, in parser words ("did not find expected key"), and
//! often a line or more after the mistake. The usual mistakes are two: a tab where YAML wants spaces,
//! and a line indented to a column that lines up with nothing above it. Both are found in the text
//! itself and reported at their own line; anything else keeps serde_yaml's line and message.

use super::Problem;

/// The problem for a YAML error in `text` (the file shown as `file`).
pub(super) fn problem(file: &str, text: &str, e: &serde_yaml::Error) -> Problem {
    let reported = e.location().map_or(1, |l| l.line());
    let lines: Vec<&str> = text.lines().collect();
    let parser = parser_words(e);
    // Only lines up to the one the parser stopped at can have caused the error.
    let upto = reported.min(lines.len());
    if let Some(n) = (1..=upto).find(|&n| tab_indented(lines[n - 1])) {
        return Problem::new(
            file,
            n,
            format!(
                "YAML: this line is indented with a tab; YAML indents with spaces only (replace the tab with spaces) [parser: {parser}]"
            ),
        );
    }
    if let Some((n, stray)) = stray_indent(&lines, upto) {
        let indent = indent_of(lines[n - 1]);
        let why = match stray {
            Stray::Deeper => format!(
                "this line is indented by {indent} spaces, deeper than the line above it, which opens nothing"
            ),
            Stray::Unaligned => {
                format!(
                    "this line is indented by {indent} spaces, which lines up with no line above it"
                )
            }
        };
        return Problem::new(
            file,
            n,
            format!(
                "YAML: {why}; the fields of one item, and the items of one list, start in the same column [parser: {parser}]"
            ),
        );
    }
    Problem::new(file, reported, message(e))
}

/// serde_yaml's message without the location it appends (the problem carries the line already).
pub(super) fn message(e: &serde_yaml::Error) -> String {
    format!("YAML: {}", parser_words(e))
}

fn parser_words(e: &serde_yaml::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// How a line's indentation is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stray {
    /// Deeper than the line before, which opens no block.
    Deeper,
    /// Shallower than the line before, at a column no enclosing line uses.
    Unaligned,
}

/// Whether a tab is part of the line's indentation.
fn tab_indented(line: &str) -> bool {
    line.chars()
        .take_while(|c| c.is_whitespace())
        .any(|c| c == '\t')
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Where a block scalar (`key: |` or `key: >`) opened at `line` ends: its content is every following
/// line that is blank or indented deeper than the key.
fn block_scalar_end(lines: &[&str], start: usize) -> usize {
    let key_indent = indent_of(lines[start]);
    let mut end = start + 1;
    while end < lines.len() && (lines[end].trim().is_empty() || indent_of(lines[end]) > key_indent)
    {
        end += 1;
    }
    end
}

fn opens_block_scalar(line: &str) -> bool {
    let t = line.trim_end();
    let t = t.split(" #").next().unwrap_or(t);
    [": |", ": >", ": |-", ": >-", ": |+", ": >+"]
        .iter()
        .any(|s| t.ends_with(s))
}

/// The first line, up to line `upto` (1-based), whose indentation is deeper than the line before it
/// although that line opens nothing (it is not `key:` or `- key:` with nothing after it, nor a list
/// item), or shallower than it but at a column no enclosing line uses. Block scalars (`answer: |`)
/// and comments are skipped: their indentation is free.
fn stray_indent(lines: &[&str], upto: usize) -> Option<(usize, Stray)> {
    // Indents of the enclosing lines, outermost first.
    let mut open: Vec<usize> = Vec::new();
    let mut previous: Option<(usize, bool)> = None;
    let mut i = 0;
    while i < upto.min(lines.len()) {
        let line = lines[i];
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
            continue;
        }
        let indent = indent_of(line);
        // A `- ` item opens a mapping at the column after the dash.
        let content = t
            .strip_prefix("- ")
            .map(|rest| (indent + 2 + rest.len() - rest.trim_start().len(), rest));
        match previous {
            Some((prev, opens)) if indent > prev && !opens => return Some((i + 1, Stray::Deeper)),
            Some((prev, _)) if indent < prev => {
                while open.last().is_some_and(|&o| o > indent) {
                    open.pop();
                }
                if open.last() != Some(&indent) {
                    return Some((i + 1, Stray::Unaligned));
                }
            }
            _ => {}
        }
        if open.last() != Some(&indent) {
            open.push(indent);
        }
        let mut opens = t.trim_end().ends_with(':') || t == "-";
        if let Some((inner, rest)) = content {
            // `- id: x`: the fields after it line up with `id`.
            open.push(inner);
            opens = opens || rest.trim_end().ends_with(':');
            previous = Some((inner, opens));
        } else {
            previous = Some((indent, opens));
        }
        if opens_block_scalar(line) {
            i = block_scalar_end(lines, i);
            previous = Some((indent, false));
            continue;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem_of(text: &str) -> Problem {
        let e = serde_yaml::from_str::<serde_yaml::Value>(text).expect_err("invalid YAML");
        problem("faq.yaml", text, &e)
    }

    const GOOD: &str = "\
entries:
  - id: a
    questions:
      - 你好
      - 您好
    answer: |
      第一行
        缩进的一行
      - 不是列表
    flow: reset_pin
  - id: b
    questions: [x, y]
    answer: hi
";

    #[test]
    fn valid_yaml_has_no_stray_indent() {
        let lines: Vec<&str> = GOOD.lines().collect();
        assert_eq!(stray_indent(&lines, lines.len()), None);
        serde_yaml::from_str::<serde_yaml::Value>(GOOD).unwrap();
    }

    #[test]
    fn a_tab_is_reported_at_its_own_line() {
        let text = GOOD.replace("      - 您好", "\t- 您好");
        let p = problem_of(&text);
        assert_eq!(p.line, 5, "{p}");
        assert!(p.message.contains("tab"), "{p}");
    }

    #[test]
    fn a_field_indented_too_deep_is_reported_at_its_own_line() {
        let text = GOOD.replace("    questions: [x, y]", "      questions: [x, y]");
        let p = problem_of(&text);
        assert_eq!(p.line, 12, "{p}");
        assert!(p.message.contains("indented by 6 spaces, deeper"), "{p}");
    }

    #[test]
    fn a_field_indented_too_shallow_is_reported_at_its_own_line() {
        let text = GOOD.replace("    answer: hi", "   answer: hi");
        let p = problem_of(&text);
        assert_eq!(p.line, 13, "{p}");
        assert!(
            p.message
                .contains("indented by 3 spaces, which lines up with no line"),
            "{p}"
        );
    }
}
