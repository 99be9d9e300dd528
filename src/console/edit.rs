//! Edits of the knowledge files as an editor would make them by hand: one entry's block rewritten, one
//! question or regression case added, the rest of each file (comments, order, layout) left as it was;
//! and what an edit changes: which knowledge questions and regression cases get another answer.

use crate::knowledge::KnowledgeBase;
use crate::matcher::Decision;

/// Why an edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("`{0}` is not in the file")]
    NoSuchId(String),
    #[error("`{0}` has no `questions:` list written one question per line")]
    NoQuestionList(String),
    #[error("the edited file would not read back as written: {0}")]
    RoundTrip(String),
    #[error("a question or answer must not be empty")]
    Empty,
}

/// Leading spaces of a line.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The line index of `- id: {id}` and the end (exclusive) of its block: up to the next line indented
/// no deeper than the `-`, trailing blank lines left outside.
fn block(lines: &[&str], id: &str) -> Result<(usize, usize), EditError> {
    let start = lines
        .iter()
        .position(|l| {
            let t = l.trim();
            t.strip_prefix("- id:")
                .is_some_and(|rest| rest.trim().trim_matches(['"', '\'']) == id)
        })
        .ok_or_else(|| EditError::NoSuchId(id.to_string()))?;
    let dash = indent(lines[start]);
    let mut end = start + 1;
    while end < lines.len() && (lines[end].trim().is_empty() || indent(lines[end]) > dash) {
        end += 1;
    }
    while end > start + 1 && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    Ok((start, end))
}

/// `text` as a YAML scalar on one line: plain when it reads back the same, double-quoted otherwise.
pub fn scalar(text: &str) -> String {
    let plain = format!("- {text}");
    match serde_yaml::from_str::<Vec<String>>(&plain) {
        Ok(v) if v.len() == 1 && v[0] == text && !text.contains('\n') => text.to_string(),
        _ => serde_json::to_string(text).expect("a string always serialises"),
    }
}

/// The text of `file` with `- id: {id}`'s `questions:` and `answer:` replaced (its `flow:` kept).
pub fn replace_entry(
    file: &str,
    id: &str,
    questions: &[String],
    answer: &str,
) -> Result<String, EditError> {
    let questions: Vec<&str> = questions
        .iter()
        .map(|q| q.trim())
        .filter(|q| !q.is_empty())
        .collect();
    let answer = answer.replace("\r\n", "\n");
    let answer = answer.trim_end();
    if questions.is_empty() || answer.trim().is_empty() {
        return Err(EditError::Empty);
    }
    let lines: Vec<&str> = file.lines().collect();
    let (start, end) = block(&lines, id)?;
    let field = " ".repeat(indent(lines[start]) + 2);
    let item = format!("{field}  ");
    let flow = lines[start + 1..end]
        .iter()
        .find(|l| indent(l) == field.len() && l.trim_start().starts_with("flow:"));
    let mut out: Vec<String> = lines[..=start].iter().map(|l| l.to_string()).collect();
    out.push(format!("{field}questions:"));
    for q in &questions {
        out.push(format!("{item}- {}", scalar(q)));
    }
    if answer.starts_with(' ') {
        out.push(format!("{field}answer: {}", scalar(answer)));
    } else {
        out.push(format!("{field}answer: |"));
        for line in answer.lines() {
            if line.is_empty() {
                out.push(String::new());
            } else {
                out.push(format!("{item}{line}"));
            }
        }
    }
    if let Some(flow) = flow {
        out.push(flow.to_string());
    }
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    let text = out.join("\n") + "\n";
    check_entry(&text, id, &questions, answer)?;
    Ok(text)
}

/// Reads `text` back and requires entry `id` to hold exactly these questions and answer.
fn check_entry(text: &str, id: &str, questions: &[&str], answer: &str) -> Result<(), EditError> {
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| EditError::RoundTrip(e.to_string()))?;
    let entry = value
        .get("entries")
        .and_then(|e| e.as_sequence())
        .and_then(|s| {
            s.iter()
                .find(|e| e.get("id").and_then(|i| i.as_str()) == Some(id))
        })
        .ok_or_else(|| EditError::RoundTrip(format!("entry `{id}` is gone")))?;
    let got: Vec<&str> = entry
        .get("questions")
        .and_then(|q| q.as_sequence())
        .map(|s| s.iter().filter_map(|q| q.as_str()).collect())
        .unwrap_or_default();
    let got_answer = entry.get("answer").and_then(|a| a.as_str()).unwrap_or("");
    if got != questions || got_answer.trim_end() != answer {
        return Err(EditError::RoundTrip(format!(
            "entry `{id}` reads back differently"
        )));
    }
    Ok(())
}

/// The text of `file` with `question` added as the last question of `- id: {id}` (an FAQ entry or an
/// out-of-scope topic).
pub fn add_question(file: &str, id: &str, question: &str) -> Result<String, EditError> {
    let question = question.trim();
    if question.is_empty() {
        return Err(EditError::Empty);
    }
    let lines: Vec<&str> = file.lines().collect();
    let (start, end) = block(&lines, id)?;
    let field = indent(lines[start]) + 2;
    let list = (start + 1..end)
        .find(|&i| indent(lines[i]) == field && lines[i].trim() == "questions:")
        .ok_or_else(|| EditError::NoQuestionList(id.to_string()))?;
    let mut last = list;
    let mut item = " ".repeat(field + 2);
    for (i, line) in lines.iter().enumerate().take(end).skip(list + 1) {
        if line.trim().is_empty() {
            continue;
        }
        if indent(line) <= field {
            break;
        }
        if line.trim_start().starts_with("- ") {
            item = " ".repeat(indent(line));
        }
        last = i;
    }
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    out.insert(last + 1, format!("{item}- {}", scalar(question)));
    Ok(out.join("\n") + "\n")
}

/// The text of `tests.tsv` with the case `id<TAB>question` added at the end.
pub fn add_case(file: &str, id: &str, question: &str) -> Result<String, EditError> {
    let question = question.trim().replace(['\t', '\n', '\r'], " ");
    if question.is_empty() {
        return Err(EditError::Empty);
    }
    let mut text = file.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{id}\t{question}\n"));
    Ok(text)
}

/// What the bot does with a question, in words an editor reads: the entry id, 反问 or 转人工.
pub fn what_it_does(kb: &KnowledgeBase, question: &str) -> String {
    let outcome = kb.ask(question);
    match (outcome.decision, outcome.answer()) {
        (Decision::Answer, Some(e)) => kb.entries[e].id.to_string(),
        (Decision::Clarify, _) => {
            let ids: Vec<String> = outcome
                .entry_candidates()
                .take(2)
                .map(|c| kb.target_label(c.target))
                .collect();
            format!("反问（{}）", ids.join(" / "))
        }
        _ => "转人工".to_string(),
    }
}

/// A question whose answer an edit changes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `知识库` (a question of an entry or topic) or `tests.tsv:LINE`.
    pub origin: String,
    pub question: String,
    pub before: String,
    pub after: String,
    /// For a regression case: whether the new answer is one the case accepts.
    pub breaks_case: bool,
}

/// Every knowledge question and regression case of `after` (plus `extra`) that `before` and `after`
/// answer differently.
pub fn changes(before: &KnowledgeBase, after: &KnowledgeBase, extra: &[&str]) -> Vec<Change> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut compare = |origin: String, question: &str, accepted: Option<&[String]>| {
        if !seen.insert(question.to_string()) {
            return;
        }
        let (was, now) = (
            what_it_does(before, question),
            what_it_does(after, question),
        );
        if was != now {
            let breaks_case = accepted.is_some_and(|ids| {
                !ids.iter()
                    .any(|id| *id == now || (id == crate::knowledge::NONE && now == "转人工"))
            });
            out.push(Change {
                origin,
                question: question.to_string(),
                before: was,
                after: now,
                breaks_case,
            });
        }
    };
    for q in extra {
        compare("本次".to_string(), q, None);
    }
    for case in &after.cases {
        compare(
            format!("tests.tsv:{}", case.line),
            &case.question,
            Some(&case.accepted),
        );
    }
    for e in &after.entries {
        for q in &e.questions {
            compare(format!("知识库 {}", e.id), q, None);
        }
    }
    for t in &after.topics {
        for q in &t.questions {
            compare(format!("知识库 {}", t.id), q, None);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAQ: &str = "# head\nentries:\n  - id: a\n    questions:\n      - 第一个问题\n      - \"引号: 问题\"\n    answer: |\n      第一段\n\n      第二段\n    flow: reset_pin\n\n  # between\n  - id: b\n    questions:\n      - 别的\n    answer: 别的回答\n";

    #[test]
    fn an_entry_is_rewritten_and_the_rest_of_the_file_is_left_as_it_was() {
        let text = replace_entry(
            FAQ,
            "a",
            &["新问题".to_string(), "- 像列表的问题".to_string()],
            "一段\n\n两段\n",
        )
        .unwrap();
        assert!(text.starts_with("# head\nentries:\n  - id: a\n    questions:\n      - 新问题\n      - \"- 像列表的问题\"\n    answer: |\n      一段\n\n      两段\n    flow: reset_pin\n\n  # between\n  - id: b\n"), "{text}");
        assert!(text.ends_with("    answer: 别的回答\n"));
    }

    #[test]
    fn a_question_is_added_after_the_last_one_of_its_entry() {
        let text = add_question(FAQ, "a", "新加的: 问法").unwrap();
        assert!(
            text.contains("      - \"引号: 问题\"\n      - \"新加的: 问法\"\n    answer: |"),
            "{text}"
        );
        let text = add_question(FAQ, "b", "又一个").unwrap();
        assert!(text.contains("      - 别的\n      - 又一个\n    answer: 别的回答"));
        assert_eq!(
            add_question(FAQ, "c", "x"),
            Err(EditError::NoSuchId("c".into()))
        );
    }

    #[test]
    fn a_case_goes_at_the_end_of_tests_tsv_on_one_line() {
        assert_eq!(
            add_case("a\tq", "forgot_pin", "忘了\t密码").unwrap(),
            "a\tq\nforgot_pin\t忘了 密码\n"
        );
    }

    #[test]
    fn an_empty_answer_is_refused() {
        assert_eq!(
            replace_entry(FAQ, "a", &["q".into()], "  \n"),
            Err(EditError::Empty)
        );
    }
}
