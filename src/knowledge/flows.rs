//! Guided flows (`flows.yaml`) validated into a graph the dialogue engine can walk without surprises.
//!
//! A flow is a set of steps. A *choice* step offers buttons, each going to another step, to `@end`
//! (leave the flow) or to `@back` (return to the walk-through step where the user pressed 「遇到问题」).
//! A *walk-through* step shows one instruction and gets three buttons from the engine: 「完成，下一步」,
//! 「遇到问题」 (to the flow's `problems` step) and 「退出」. Validation guarantees that every target exists,
//! every step is reachable, every step has a way out, and every label fits on a button.

use std::collections::{HashMap, VecDeque};

use super::locate::{Locator, Span};
use super::raw::{RawFlow, RawFlows};
use super::{EntryId, MAX_MESSAGE_CHARS, Problem, SourceFile};
use crate::text::solicit::find_solicitation;

/// Longest button label, in characters: longer ones are cut off on a phone screen.
pub const MAX_LABEL_CHARS: usize = 16;
/// Idle time after which a flow expires, unless `flows.yaml` says otherwise.
pub const DEFAULT_TIMEOUT_MINUTES: u64 = 30;

/// Where a button or a walk-through step leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goto {
    Step(String),
    /// Leave the flow.
    End,
    /// Back to the walk-through step where the user asked for help.
    Back,
}

impl Goto {
    fn parse(s: &str) -> Goto {
        match s {
            "@end" => Goto::End,
            "@back" => Goto::Back,
            step => Goto::Step(step.to_string()),
        }
    }
}

/// A button of a choice step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOption {
    pub label: String,
    pub goto: Goto,
    /// Trouble typed mid-flow that leads to this option's step (folded: lower case, no spaces).
    pub keywords: Vec<String>,
}

/// What a step offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// Buttons written in the YAML.
    Choice(Vec<StepOption>),
    /// One instruction; the engine adds next / problem / quit buttons.
    Walk { next: Goto },
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub text: String,
    pub kind: StepKind,
    /// Reaching this step counts the flow as completed.
    pub completes: bool,
}

/// A validated flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub id: String,
    pub title: String,
    pub start: String,
    pub problems: Option<String>,
    pub steps: Vec<Step>,
}

impl Flow {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// All flows and their shared settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flows {
    /// A flow idle longer than this, in seconds, expires.
    pub timeout_secs: i64,
    pub flows: Vec<Flow>,
}

impl Default for Flows {
    fn default() -> Flows {
        Flows {
            timeout_secs: DEFAULT_TIMEOUT_MINUTES as i64 * 60,
            flows: Vec::new(),
        }
    }
}

impl Flows {
    pub fn get(&self, id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id == id)
    }
}

/// Parses and validates `flows.yaml`, reporting every problem with the file and the step.
pub fn load(file: &SourceFile, problems: &mut Vec<Problem>) -> Flows {
    let raw: RawFlows = match serde_yaml::from_str::<Option<RawFlows>>(&file.text) {
        Ok(Some(raw)) => raw,
        Ok(None) => return Flows::default(),
        Err(e) => {
            problems.push(super::yaml::problem(&file.display, &file.text, &e));
            return Flows::default();
        }
    };
    let locator = Locator::new(&file.text);
    let spans = locator.items("flows");
    let mut flows = Vec::new();
    let mut seen = HashMap::new();
    for (i, raw_flow) in raw.flows.into_iter().enumerate() {
        let span = spans.get(i).copied().unwrap_or(Span {
            start: locator.key_line("flows"),
            end: locator.key_line("flows") + 1,
        });
        let report = Reporter {
            file: &file.display,
            locator: &locator,
            span,
            flow: raw_flow.id.clone(),
        };
        if let Err(message) = EntryId::parse(&raw_flow.id) {
            report.at_field(problems, "id", format!("flow {message}"));
        }
        if let Some(first) = seen.insert(raw_flow.id.clone(), span.start) {
            report.at_field(
                problems,
                "id",
                format!(
                    "duplicate flow id `{}` (first used at line {first})",
                    raw_flow.id
                ),
            );
        }
        flows.push(validate_flow(raw_flow, &report, problems));
    }
    Flows {
        timeout_secs: raw.timeout_minutes.unwrap_or(DEFAULT_TIMEOUT_MINUTES) as i64 * 60,
        flows,
    }
}

/// Reports problems of one flow, naming the file, the line, the flow and the step.
struct Reporter<'a> {
    file: &'a str,
    locator: &'a Locator<'a>,
    span: Span,
    flow: String,
}

impl Reporter<'_> {
    fn at_field(&self, problems: &mut Vec<Problem>, field: &str, message: String) {
        let line = self.locator.field(self.span, field);
        problems.push(Problem::new(
            self.file,
            line,
            format!("flow `{}`: {message}", self.flow),
        ));
    }

    fn at_step(&self, problems: &mut Vec<Problem>, step: &str, message: String) {
        let line = self.step_line(step);
        problems.push(Problem::new(
            self.file,
            line,
            format!("flow `{}`, step `{step}`: {message}", self.flow),
        ));
    }

    fn step_line(&self, step: &str) -> usize {
        let needle = format!("id: {step}");
        (self.span.start..self.span.end)
            .find(|&n| {
                self.locator.line(n).is_some_and(|l| {
                    let t = l.trim_start().trim_start_matches("- ").trim_end();
                    t == needle || t == format!("id: \"{step}\"")
                })
            })
            .unwrap_or(self.span.start)
    }
}

fn validate_flow(raw: RawFlow, report: &Reporter, problems: &mut Vec<Problem>) -> Flow {
    let ids: Vec<&str> = raw.steps.iter().map(|s| s.id.as_str()).collect();
    let mut seen = HashMap::new();
    for id in &ids {
        if let Some(()) = seen.insert(*id, ()) {
            report.at_step(problems, id, "duplicate step id".into());
        }
        if let Err(message) = EntryId::parse(id) {
            report.at_step(problems, id, format!("step {message}"));
        }
    }
    let exists = |target: &str| ids.contains(&target);
    if !exists(&raw.start) {
        report.at_field(
            problems,
            "start",
            format!("start step `{}` does not exist", raw.start),
        );
    }
    if let Some(p) = &raw.problems
        && !exists(p)
    {
        report.at_field(
            problems,
            "problems",
            format!("problems step `{p}` does not exist"),
        );
    }
    if raw.title.chars().count() > MAX_LABEL_CHARS || raw.title.trim().is_empty() {
        report.at_field(
            problems,
            "title",
            format!(
                "title `{}` must be 1 to {MAX_LABEL_CHARS} characters (it is a button label)",
                raw.title
            ),
        );
    }
    let mut steps = Vec::new();
    for s in &raw.steps {
        let check_target =
            |problems: &mut Vec<Problem>, target: &str, what: &str| {
                match Goto::parse(
            target,
        ) {
            Goto::Step(t) if !exists(&t) => report.at_step(
                problems,
                &s.id,
                format!("{what} goes to unknown step `{t}`"),
            ),
            Goto::Back if raw.problems.is_none() => report.at_step(
                problems,
                &s.id,
                format!(
                    "{what} goes to @back, but the flow has no `problems` step to come back from"
                ),
            ),
            _ => {}
        }
            };
        let text = s.text.trim();
        if text.is_empty() {
            report.at_step(problems, &s.id, "text is empty".into());
        } else if text.chars().count() > MAX_MESSAGE_CHARS {
            report.at_step(
                problems,
                &s.id,
                format!("text is longer than {MAX_MESSAGE_CHARS} characters"),
            );
        }
        if let Some(found) = find_solicitation(text) {
            report.at_step(
                problems,
                &s.id,
                format!(
                    "text asks the user to send their {} in the chat: `{}` (the bot must never ask for secrets)",
                    found.secret, found.clause
                ),
            );
        }
        let kind = match (&s.options, &s.next) {
            (Some(options), None) => {
                if options.is_empty() {
                    report.at_step(
                        problems,
                        &s.id,
                        "has no options: the user would be stuck".into(),
                    );
                }
                for o in options {
                    let chars = o.label.trim().chars().count();
                    if chars == 0 || chars > MAX_LABEL_CHARS {
                        report.at_step(
                            problems,
                            &s.id,
                            format!(
                                "option label `{}` has {chars} characters; a button takes 1 to {MAX_LABEL_CHARS}",
                                o.label
                            ),
                        );
                    }
                    check_target(problems, &o.goto, &format!("option `{}`", o.label));
                    if !o.keywords.is_empty() && !matches!(Goto::parse(&o.goto), Goto::Step(_)) {
                        report.at_step(
                            problems,
                            &s.id,
                            format!(
                                "option `{}` has keywords but goes to `{}`: keywords lead to a help step",
                                o.label, o.goto
                            ),
                        );
                    }
                    for k in &o.keywords {
                        if crate::dialogue::understand::compact(k).chars().count() < 2 {
                            report.at_step(
                                problems,
                                &s.id,
                                format!(
                                    "option `{}`: keyword `{k}` is shorter than 2 characters and would catch every message",
                                    o.label
                                ),
                            );
                        }
                    }
                }
                StepKind::Choice(
                    options
                        .iter()
                        .map(|o| StepOption {
                            label: o.label.trim().to_string(),
                            goto: Goto::parse(&o.goto),
                            keywords: o
                                .keywords
                                .iter()
                                .map(|k| crate::dialogue::understand::compact(k))
                                .filter(|k| k.chars().count() >= 2)
                                .collect(),
                        })
                        .collect(),
                )
            }
            (None, Some(next)) => {
                check_target(problems, next, "`next`");
                if raw.problems.is_none() {
                    report.at_step(
                        problems,
                        &s.id,
                        "is a walk-through step, but the flow has no `problems` step for 「遇到问题」".into(),
                    );
                }
                StepKind::Walk {
                    next: Goto::parse(next),
                }
            }
            _ => {
                report.at_step(
                    problems,
                    &s.id,
                    "needs exactly one of `options` (a choice) or `next` (a walk-through step)"
                        .into(),
                );
                StepKind::Choice(Vec::new())
            }
        };
        steps.push(Step {
            id: s.id.clone(),
            text: text.to_string(),
            kind,
            completes: s.completes,
        });
    }
    let flow = Flow {
        id: raw.id,
        title: raw.title.trim().to_string(),
        start: raw.start,
        problems: raw.problems,
        steps,
    };
    check_graph(&flow, report, problems);
    flow
}

/// Steps each step leads to directly (walk-through steps also lead to the problems step).
fn successors<'a>(flow: &'a Flow, step: &'a Step) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut push = |goto: &'a Goto| {
        if let Goto::Step(s) = goto {
            out.push(s.as_str());
        }
    };
    match &step.kind {
        StepKind::Choice(options) => options.iter().for_each(|o| push(&o.goto)),
        StepKind::Walk { next } => {
            push(next);
            if let Some(p) = &flow.problems {
                out.push(p.as_str());
            }
        }
    }
    out
}

/// Reports steps that cannot be reached from the start and steps from which the flow cannot be left.
fn check_graph(flow: &Flow, report: &Reporter, problems: &mut Vec<Problem>) {
    if flow.step(&flow.start).is_none() {
        return;
    }
    let mut reached: Vec<&str> = vec![flow.start.as_str()];
    let mut queue = VecDeque::from([flow.start.as_str()]);
    while let Some(id) = queue.pop_front() {
        let Some(step) = flow.step(id) else { continue };
        for next in successors(flow, step) {
            if !reached.contains(&next) {
                reached.push(next);
                queue.push_back(next);
            }
        }
    }
    for step in &flow.steps {
        if !reached.contains(&step.id.as_str()) {
            report.at_step(
                problems,
                &step.id,
                format!("is unreachable from the start step `{}`", flow.start),
            );
        }
    }
    // A way out: a walk-through step (it has 「退出」), a button to @end or @back, or a path to one of those.
    let exits_directly = |step: &Step| match &step.kind {
        StepKind::Walk { .. } => true,
        StepKind::Choice(options) => options
            .iter()
            .any(|o| matches!(o.goto, Goto::End | Goto::Back)),
    };
    let mut can_leave: Vec<&str> = flow
        .steps
        .iter()
        .filter(|s| exits_directly(s))
        .map(|s| s.id.as_str())
        .collect();
    loop {
        let before = can_leave.len();
        for step in &flow.steps {
            if !can_leave.contains(&step.id.as_str())
                && successors(flow, step).iter().any(|n| can_leave.contains(n))
            {
                can_leave.push(step.id.as_str());
            }
        }
        if can_leave.len() == before {
            break;
        }
    }
    for step in &flow.steps {
        if !can_leave.contains(&step.id.as_str()) {
            report.at_step(
                problems,
                &step.id,
                "has no way out: no path from it leads to @end".into(),
            );
        }
    }
}
