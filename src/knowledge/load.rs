//! Turns the raw YAML of a [`Source`] into a [`KnowledgeBase`], collecting every problem instead of stopping at the first.

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;

use super::ambiguity::Ambiguity;
use super::flows::Flows;
use super::locate::{Locator, Span};
use super::raw::{RawAmbiguity, RawEntry, RawSynonyms, RawTopic};
use super::{
    Entry, EntryId, KNOWN_FILES, KnowledgeBase, MAX_MESSAGE_CHARS, Problem, Problems, Source,
    SourceFile, Summary, TOPIC_LABEL, Topic, cases, flows, yaml,
};
use crate::matcher::Matcher;
use crate::text::Normalizer;
use crate::text::solicit::find_solicitation;

pub(super) fn load(source: &Source) -> Result<KnowledgeBase, Problems> {
    validate(source).0
}

/// Loads `source` and counts what it holds, whether or not it loaded.
pub(super) fn validate(source: &Source) -> (Result<KnowledgeBase, Problems>, Summary) {
    let mut problems = Vec::new();
    for file in &source.unknown_files {
        problems.push(Problem::new(
            file,
            1,
            format!(
                "unknown knowledge file (the knowledge is read from {})",
                KNOWN_FILES.join(", ")
            ),
        ));
    }

    let (normalizer, raw_ambiguities) = load_synonyms(source, &mut problems);
    let mut seen = QuestionRegistry::default();
    let LoadedEntries {
        entries,
        forms: entry_forms,
        declared,
    } = load_entries(source, &normalizer, &mut seen, &mut problems);
    let (topics, topic_forms) = load_topics(source, &normalizer, &mut seen, &mut problems);
    let flows = match source.file("flows.yaml") {
        Some(file) => flows::load(file, &mut problems),
        None => Flows::default(),
    };
    // A flows.yaml that is not YAML is reported once, not again for each entry offering a flow.
    let flows_unread = source
        .file("flows.yaml")
        .is_some_and(|f| serde_yaml::from_str::<serde_yaml::Value>(&f.text).is_err());
    for entry in &entries {
        if let Some(flow) = &entry.flow
            && !flows_unread
            && flows.get(flow).is_none()
        {
            problems.push(Problem::new(
                source.display_name("faq.yaml"),
                entry.line,
                format!(
                    "entry `{}` offers flow `{flow}`, which flows.yaml does not define",
                    entry.id
                ),
            ));
        }
    }

    let cases = match source.file("tests.tsv") {
        Some(file) => {
            let (cases, case_problems) = cases::parse(&file.text, &file.display);
            problems.extend(case_problems);
            // When faq.yaml could not be read its error says so; every case would only repeat it.
            if let Some(declared) = &declared {
                problems.extend(cases::unknown_ids(&cases, declared));
            }
            cases
        }
        None => Vec::new(),
    };

    let summary = Summary {
        entries: entries.len(),
        questions: entries.iter().map(|e| e.questions.len()).sum(),
        topics: topics.len(),
        cases: cases.len(),
    };
    if !problems.is_empty() {
        return (Err(Problems(problems)), summary);
    }
    let ambiguities = Ambiguity::load(
        &raw_ambiguities,
        &normalizer,
        |id| entries.iter().position(|e| e.id.as_str() == id),
        &source.display_name("synonyms.yaml"),
        source.file("synonyms.yaml").map_or("", |f| f.text.as_str()),
        &mut problems,
    );
    if !problems.is_empty() {
        return (Err(Problems(problems)), summary);
    }
    let written = entries
        .iter()
        .flat_map(|e| &e.questions)
        .chain(topics.iter().flat_map(|t| &t.questions))
        .map(String::as_str);
    let matcher = Matcher::from_normalized(normalizer, &entry_forms, &topic_forms, written);
    let kb = KnowledgeBase {
        origin: source.origin.clone(),
        entries,
        topics,
        flows,
        cases,
        matcher,
        ambiguities,
    };
    (Ok(kb), summary)
}

/// Parses a whole YAML file; a syntax or shape error becomes a problem at the reported line.
fn parse_file<T: DeserializeOwned>(
    source: &Source,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let file = source.file(name)?;
    match serde_yaml::from_str(&file.text) {
        Ok(value) => Some(value),
        Err(e) => {
            problems.push(yaml::problem(&file.display, &file.text, &e));
            None
        }
    }
}

/// Deserialises one list item, reporting a shape error (an unknown field, a wrong type) at the right line.
fn parse_item<T: DeserializeOwned>(
    value: serde_yaml::Value,
    file: &str,
    locator: &Locator,
    span: Span,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match serde_yaml::from_value(value) {
        Ok(item) => Some(item),
        Err(e) => {
            let message = e.to_string();
            let line = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .map_or(span.start, |field| locator.field(span, field));
            problems.push(Problem::new(file, line, message));
            None
        }
    }
}

/// The items of a top-level list, each with its line span.
struct ParsedList<'s, T> {
    locator: Locator<'s>,
    items: Vec<(Span, T)>,
    /// The ids of the items that were reported and left out, so that nothing else calls them unknown.
    left_out: Vec<String>,
}

/// Parses the top-level list `key` of a knowledge file into items with their line spans.
///
/// The common case, a valid file, is deserialised in one pass. Otherwise the file is read as plain YAML
/// values and each item is deserialised on its own, so that every bad item is reported, not just the
/// first. Returns `None` when the file cannot be read as YAML at all.
fn parse_list<'s, T: DeserializeOwned>(
    src: &'s SourceFile,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<ParsedList<'s, T>> {
    let locator = Locator::new(&src.text);
    let spans = locator.items(key);
    let key_line = locator.key_line(key);
    let span_of = |i: usize| {
        spans.get(i).copied().unwrap_or(Span {
            start: key_line,
            end: key_line + 1,
        })
    };
    if let Ok(mut map) = serde_yaml::from_str::<BTreeMap<String, Vec<T>>>(&src.text)
        && map.len() == 1
        && let Some(items) = map.remove(key)
    {
        let items = items.into_iter().enumerate().map(|(i, t)| (span_of(i), t));
        return Some(ParsedList {
            locator: locator.clone(),
            items: items.collect(),
            left_out: Vec::new(),
        });
    }
    let document: serde_yaml::Value = match serde_yaml::from_str(&src.text) {
        Ok(value) => value,
        Err(e) => {
            problems.push(yaml::problem(&src.display, &src.text, &e));
            return None;
        }
    };
    let mapping = match document {
        serde_yaml::Value::Null => serde_yaml::Mapping::new(),
        serde_yaml::Value::Mapping(m) => m,
        _ => {
            problems.push(Problem::new(
                &src.display,
                1,
                format!("expected a mapping with a `{key}:` list at the top"),
            ));
            return None;
        }
    };
    let mut list = None;
    for (k, value) in mapping {
        match k.as_str() {
            Some(k) if k == key => list = Some(value),
            other => {
                let name = other.map_or_else(|| format!("{k:?}"), str::to_string);
                problems.push(Problem::new(
                    &src.display,
                    locator.key_line(&name),
                    format!("unknown field `{name}`, expected `{key}`"),
                ));
            }
        }
    }
    let items = match list {
        Some(serde_yaml::Value::Sequence(items)) => items,
        Some(serde_yaml::Value::Null) | None => Vec::new(),
        Some(_) => {
            problems.push(Problem::new(
                &src.display,
                key_line,
                format!("`{key}` must be a list"),
            ));
            return None;
        }
    };
    let mut left_out = Vec::new();
    let parsed = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, value)| {
            let span = span_of(i);
            let id = value
                .get("id")
                .and_then(|id| id.as_str())
                .map(str::to_string);
            let item = parse_item::<T>(value, &src.display, &locator, span, problems);
            if item.is_none() {
                left_out.extend(id);
            }
            item.map(|t| (span, t))
        })
        .collect();
    Some(ParsedList {
        locator,
        items: parsed,
        left_out,
    })
}

/// The normalizer of `synonyms.yaml` and its ambiguous words (validated once the entries are loaded).
fn load_synonyms(source: &Source, problems: &mut Vec<Problem>) -> (Normalizer, Vec<RawAmbiguity>) {
    let Some(raw) = parse_file::<Option<RawSynonyms>>(source, "synonyms.yaml", problems).flatten()
    else {
        return (Normalizer::plain(), Vec::new());
    };
    let file = source.display_name("synonyms.yaml");
    let text = source.file("synonyms.yaml").map_or("", |f| f.text.as_str());
    let line_of = |word: &str| {
        text.lines()
            .position(|l| l.contains(word))
            .map_or(1, |i| i + 1)
    };
    let mut canonical_of: HashMap<String, String> = HashMap::new();
    for group in &raw.groups {
        let Some(first) = group.first() else {
            problems.push(Problem::new(&file, 1, "an empty synonym group"));
            continue;
        };
        let canonical = crate::text::fold(first);
        for word in group {
            let folded = crate::text::fold(word);
            if folded.is_empty() {
                problems.push(Problem::new(
                    &file,
                    line_of(first),
                    format!("synonym `{word}` has no letters or digits"),
                ));
                continue;
            }
            match canonical_of.get(&folded) {
                Some(other) if *other != canonical => problems.push(Problem::new(
                    &file,
                    line_of(word),
                    format!("`{word}` is in the groups of both `{other}` and `{canonical}`"),
                )),
                _ => {
                    canonical_of.insert(folded, canonical.clone());
                }
            }
        }
    }
    (Normalizer::new(&raw.groups, &raw.fillers), raw.ambiguous)
}

/// Remembers every normalised question, so one question under two entries (or topics) is caught.
#[derive(Default)]
struct QuestionRegistry {
    owner: HashMap<String, (String, usize)>,
}

impl QuestionRegistry {
    /// Records `normalized` for `owner`; returns the earlier owner and line if another one had it.
    fn claim(&mut self, normalized: String, owner: &str, line: usize) -> Option<(String, usize)> {
        match self.owner.get(&normalized) {
            Some(earlier) => Some(earlier.clone()),
            None => {
                self.owner.insert(normalized, (owner.to_string(), line));
                None
            }
        }
    }
}

/// Checks the questions of one entry or topic, records them in the registry, and returns their
/// normalised forms (for the index, so nothing is normalised twice) and their lines.
#[allow(clippy::too_many_arguments)]
fn check_questions(
    questions: &[String],
    owner: &str,
    file: &str,
    locator: &Locator,
    span: Span,
    normalizer: &Normalizer,
    seen: &mut QuestionRegistry,
    problems: &mut Vec<Problem>,
) -> (Vec<String>, Vec<usize>) {
    if questions.is_empty() {
        problems.push(Problem::new(
            file,
            locator.field(span, "questions"),
            format!("`{owner}` has no questions"),
        ));
    }
    let mut forms = Vec::with_capacity(questions.len());
    let mut lines = Vec::with_capacity(questions.len());
    for q in questions {
        let line = locator.list_item(span, q.trim());
        let normalized = normalizer.normalize(q);
        forms.push(normalized.clone());
        lines.push(line);
        if normalized.is_empty() {
            problems.push(Problem::new(
                file,
                line,
                format!("question `{q}` under `{owner}` is empty or has no letters or digits"),
            ));
            continue;
        }
        // The same normalised question twice in one entry is harmless (a typo the synonyms already fix);
        // under two entries or topics it makes the answer depend on file order.
        if let Some((earlier, earlier_line)) = seen.claim(normalized, owner, line)
            && earlier != owner
        {
            problems.push(Problem::new(
                file,
                line,
                format!(
                    "question `{q}` under `{owner}` is the same as a question under `{earlier}` (line {earlier_line})"
                ),
            ));
        }
    }
    (forms, lines)
}

/// Reports a missing, empty, oversized or secret-soliciting text (an answer or a hint).
fn check_reply_text(
    text: &str,
    what: &str,
    file: &str,
    locator: &Locator,
    span: Span,
    problems: &mut Vec<Problem>,
) {
    if text.trim().is_empty() {
        problems.push(Problem::new(file, span.start, format!("{what} is empty")));
        return;
    }
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        problems.push(Problem::new(
            file,
            span.start,
            format!("{what} has {chars} characters; Telegram allows {MAX_MESSAGE_CHARS}"),
        ));
    }
    if let Some(s) = find_solicitation(text) {
        let probe: String = s.clause.chars().take(12).collect();
        problems.push(Problem::new(
            file,
            locator.find(span, &probe),
            format!(
                "{what} asks the user to send their {} in the chat: `{}` (the bot must never ask for secrets)",
                s.secret, s.clause
            ),
        ));
    }
}

/// Parses an id, reporting a missing or malformed one, and a duplicate.
fn check_id(
    id: Option<&str>,
    file: &str,
    locator: &Locator,
    span: Span,
    ids: &mut HashMap<String, usize>,
    problems: &mut Vec<Problem>,
) -> Option<EntryId> {
    let Some(id) = id else {
        problems.push(Problem::new(file, span.start, "missing `id`"));
        return None;
    };
    let line = locator.field(span, "id");
    let id = match EntryId::parse(id) {
        Ok(id) => id,
        Err(message) => {
            problems.push(Problem::new(file, line, message));
            return None;
        }
    };
    if let Some(first) = ids.insert(id.to_string(), line) {
        problems.push(Problem::new(
            file,
            line,
            format!("duplicate id `{id}` (first used at line {first})"),
        ));
        ids.insert(id.to_string(), first);
    }
    Some(id)
}

/// The entries of `faq.yaml`.
struct LoadedEntries {
    entries: Vec<Entry>,
    /// The normalised questions of each entry.
    forms: Vec<Vec<String>>,
    /// Every id `faq.yaml` names, its reported items included; `None` when the file could not be read,
    /// so that nothing is called unknown for that reason alone.
    declared: Option<Vec<String>>,
}

fn load_entries(
    source: &Source,
    normalizer: &Normalizer,
    seen: &mut QuestionRegistry,
    problems: &mut Vec<Problem>,
) -> LoadedEntries {
    let unread = LoadedEntries {
        entries: Vec::new(),
        forms: Vec::new(),
        declared: None,
    };
    let file = source.display_name("faq.yaml");
    let Some(src) = source.file("faq.yaml") else {
        problems.push(Problem::new(
            &file,
            1,
            "missing file: the FAQ entries live here",
        ));
        return unread;
    };
    let Some(ParsedList {
        locator,
        items,
        left_out: mut declared,
    }) = parse_list::<RawEntry>(src, "entries", problems)
    else {
        return unread;
    };
    if items.is_empty() && !problems.iter().any(|p| p.file == file) {
        problems.push(Problem::new(
            &file,
            1,
            "no entries: the file needs an `entries:` list",
        ));
    }
    let mut ids = HashMap::new();
    let mut entries = Vec::new();
    let mut forms_of = Vec::new();
    for (span, item) in items {
        let id = check_id(
            item.id.as_deref(),
            &file,
            &locator,
            span,
            &mut ids,
            problems,
        );
        let owner = id
            .as_ref()
            .map_or("(entry without id)", |id| id.as_str())
            .to_string();
        let questions: Vec<String> = item
            .questions
            .iter()
            .map(|q| q.trim().to_string())
            .collect();
        let (forms, question_lines) = check_questions(
            &questions, &owner, &file, &locator, span, normalizer, seen, problems,
        );
        let answer = item.answer.unwrap_or_default();
        check_reply_text(
            &answer,
            &format!("answer of `{owner}`"),
            &file,
            &locator,
            span,
            problems,
        );
        if let Some(flow) = &item.flow
            && EntryId::parse(flow).is_err()
        {
            problems.push(Problem::new(
                &file,
                locator.field(span, "flow"),
                format!("flow `{flow}` of `{owner}` is not a snake_case flow id"),
            ));
        }
        if let Some(id) = id
            && !questions.is_empty()
        {
            forms_of.push(forms);
            entries.push(Entry {
                id,
                questions,
                question_lines,
                answer: answer.trim_end().to_string(),
                answer_line: locator.field(span, "answer"),
                flow: item.flow,
                line: span.start,
            });
        }
    }
    declared.extend(ids.into_keys());
    LoadedEntries {
        entries,
        forms: forms_of,
        declared: Some(declared),
    }
}

fn load_topics(
    source: &Source,
    normalizer: &Normalizer,
    seen: &mut QuestionRegistry,
    problems: &mut Vec<Problem>,
) -> (Vec<Topic>, Vec<Vec<String>>) {
    let Some(src) = source.file("out_of_scope.yaml") else {
        return (Vec::new(), Vec::new());
    };
    let file = src.display.clone();
    let Some(ParsedList { locator, items, .. }) = parse_list::<RawTopic>(src, "topics", problems)
    else {
        return (Vec::new(), Vec::new());
    };
    let mut ids = HashMap::new();
    let mut topics = Vec::new();
    let mut forms_of = Vec::new();
    for (span, item) in items {
        let id = check_id(
            item.id.as_deref(),
            &file,
            &locator,
            span,
            &mut ids,
            problems,
        );
        let owner = id.as_ref().map_or("(topic without id)".to_string(), |id| {
            format!("{TOPIC_LABEL}{id}")
        });
        let questions: Vec<String> = item
            .questions
            .iter()
            .map(|q| q.trim().to_string())
            .collect();
        let (forms, question_lines) = check_questions(
            &questions, &owner, &file, &locator, span, normalizer, seen, problems,
        );
        if let Some(hint) = &item.hint {
            check_reply_text(
                hint,
                &format!("hint of `{owner}`"),
                &file,
                &locator,
                span,
                problems,
            );
        }
        if let Some(id) = id
            && !questions.is_empty()
        {
            forms_of.push(forms);
            topics.push(Topic {
                id,
                hint: item.hint.map(|h| h.trim().to_string()),
                questions,
                question_lines,
            });
        }
    }
    (topics, forms_of)
}
