//! Finds the line numbers of YAML items in the source text, so problems can be reported as `file:line`.
//!
//! serde_yaml reports a location for syntax errors but not for the values it returns, so validation
//! works on values and asks this locator where an item or a field starts. It understands the block
//! style editors write (`entries:` followed by `- id: ...` items); for anything else it falls back to
//! the line of the list's key.

/// Line numbers (1-based) of the items of a top-level YAML list.
#[derive(Debug, Clone)]
pub struct Locator<'a> {
    lines: Vec<&'a str>,
}

/// The line span of one list item: `start` is the line of its `-`, `end` the first line after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str) -> Self {
        Locator {
            lines: text.lines().collect(),
        }
    }

    /// The text of line `n` (1-based).
    pub fn line(&self, n: usize) -> Option<&'a str> {
        n.checked_sub(1).and_then(|i| self.lines.get(i).copied())
    }

    /// The line of the top-level `key:`, or 1.
    pub fn key_line(&self, key: &str) -> usize {
        self.lines
            .iter()
            .position(|l| is_key_line(l, key))
            .map_or(1, |i| i + 1)
    }

    /// The spans of the items of the top-level list under `key`, in order.
    pub fn items(&self, key: &str) -> Vec<Span> {
        let Some(key_idx) = self.lines.iter().position(|l| is_key_line(l, key)) else {
            return Vec::new();
        };
        let mut starts = Vec::new();
        let mut item_indent = None;
        let mut end = self.lines.len();
        for (i, line) in self.lines.iter().enumerate().skip(key_idx + 1) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            let is_item = trimmed == "-" || trimmed.starts_with("- ");
            match item_indent {
                None if is_item => {
                    item_indent = Some(indent);
                    starts.push(i);
                }
                None => {
                    end = i;
                    break;
                }
                Some(ind) if is_item && indent == ind => starts.push(i),
                Some(ind) if indent <= ind && !is_item => {
                    end = i;
                    break;
                }
                Some(_) => {}
            }
        }
        let mut spans = Vec::with_capacity(starts.len());
        for (n, &s) in starts.iter().enumerate() {
            let e = starts.get(n + 1).copied().unwrap_or(end);
            spans.push(Span {
                start: s + 1,
                end: e + 1,
            });
        }
        spans
    }

    /// The first line within `span` that contains `needle`, or the span's first line.
    pub fn find(&self, span: Span, needle: &str) -> usize {
        (span.start..span.end)
            .find(|&n| self.lines.get(n - 1).is_some_and(|l| l.contains(needle)))
            .unwrap_or(span.start)
    }

    /// The line of the list item `- text` within `span` (a question), or where `text` first appears.
    /// An item that is exactly `text` (quoted or not) wins over an earlier item that contains it, so
    /// `- 密码忘了` is found even below `- 电子社保卡密码忘了`.
    pub fn list_item(&self, span: Span, text: &str) -> usize {
        let item = |n: usize| {
            self.lines
                .get(n - 1)
                .and_then(|l| l.trim_start().strip_prefix('-'))
                .map(str::trim)
        };
        let unquoted = |t: &str| {
            t.strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .or_else(|| t.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
                .map_or(t.to_string(), str::to_string)
        };
        (span.start..span.end)
            .find(|&n| item(n).is_some_and(|t| unquoted(t) == text))
            .or_else(|| (span.start..span.end).find(|&n| item(n).is_some_and(|t| t.contains(text))))
            .unwrap_or_else(|| self.find(span, text))
    }

    /// The first line within `span` where the mapping key `field:` is written.
    pub fn field(&self, span: Span, field: &str) -> usize {
        (span.start..span.end)
            .find(|&n| {
                self.lines.get(n - 1).is_some_and(|l| {
                    let t = l.trim_start().trim_start_matches("- ");
                    t.starts_with(field) && t[field.len()..].trim_start().starts_with(':')
                })
            })
            .unwrap_or(span.start)
    }
}

fn is_key_line(line: &str, key: &str) -> bool {
    line.starts_with(key) && line[key.len()..].trim_start().starts_with(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
entries:
  - id: a
    questions:
      - 你好
    answer: hi

  - id: b
    oops: 1
    answer: |
      - not an item
other: 1
";

    #[test]
    fn items_are_found_with_their_spans() {
        let loc = Locator::new(TEXT);
        let items = loc.items("entries");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].start, 3);
        assert_eq!(items[1].start, 8);
        assert_eq!(items[1].end, 12);
    }

    #[test]
    fn fields_and_text_are_found_inside_an_item() {
        let loc = Locator::new(TEXT);
        let items = loc.items("entries");
        assert_eq!(loc.field(items[1], "oops"), 9);
        assert_eq!(loc.find(items[0], "你好"), 5);
        assert_eq!(loc.key_line("entries"), 2);
    }

    #[test]
    fn a_list_item_is_found_at_its_own_line_even_below_a_longer_item_containing_it() {
        let text = "entries:\n  - id: a\n    questions:\n      - 电子社保卡密码忘了\n      - \"密码忘了\"\n      - 密码\n";
        let loc = Locator::new(text);
        let span = loc.items("entries")[0];
        assert_eq!(loc.list_item(span, "密码忘了"), 5);
        assert_eq!(loc.list_item(span, "密码"), 6);
        assert_eq!(loc.list_item(span, "电子社保卡"), 4);
    }

    #[test]
    fn items_at_column_zero_are_found_too() {
        let loc = Locator::new("entries:\n- id: a\n- id: b\n");
        assert_eq!(
            loc.items("entries")
                .iter()
                .map(|s| s.start)
                .collect::<Vec<_>>(),
            vec![2, 3]
        );
    }
}
