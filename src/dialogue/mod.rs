//! The conversation engine: `step(kb, state, input, now) -> (state, replies)`, pure, with no I/O.
//!
//! The Telegram adapter and the terminal `chat` both drive this one function; tests call it directly.
//! It never sees a secret: every text passes the guard first, and only the redacted text goes on.
//!
//! A sample conversation (options are buttons in Telegram, numbered lines in the terminal):
//!
//! ```text
//! user: 电子社保卡密码忘了
//! bot:  (the forgot_pin answer)
//!       需要我一步步带您操作吗？ [一步步重置密码] [不用了]
//! user: [一步步重置密码]
//! bot:  我会一步步带您……绝不会问您的密码、验证码  [好，开始] [先不用了]
//! user: [好，开始]
//! bot:  您平时用哪个App？ [微信] [支付宝] ...
//! user: 人脸识别老是失败怎么办           <- a question mid-flow is answered,
//! bot:  (the reset_offline answer)           and the flow waits at the same step
//!       要接着刚才的步骤吗？ [继续刚才的步骤] [退出]
//! user: 我的密码是123456                  <- the guard deletes it and warns
//! bot:  (delete) ⚠️ 您的消息里好像有密码……
//! ```
//!
//! Every menu of options has a number; a button from an older menu is stale and gets a short note and the
//! current step again. A flow idle longer than the knowledge's timeout expires.

pub mod texts;

use serde::{Deserialize, Serialize};

use crate::knowledge::KnowledgeBase;
use crate::knowledge::flows::{Flow, Goto, Step, StepKind};
use crate::matcher::{Decision, Outcome};
use crate::text::guard::{Guarded, MASK, guard};
use crate::text::redact::Redacted;

/// The flow `/reset` starts.
pub const RESET_FLOW: &str = "reset_pin";

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// A typed message (commands such as `/start` included).
    Text(String),
    /// A button: option `index` of menu number `menu`.
    Choice { menu: u32, index: usize },
    /// A command the adapter already recognised.
    Command(Command),
}

/// The bot's commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Start,
    Help,
    Reset,
    Cancel,
    Privacy,
    Forget,
}

impl Command {
    /// Every command with its description, for the adapters' command menus.
    pub const ALL: [(Command, &'static str, &'static str); 6] = [
        (Command::Start, "start", "开始：我能帮您做什么"),
        (Command::Help, "help", "使用说明"),
        (Command::Reset, "reset", "一步步重置密码"),
        (Command::Cancel, "cancel", "退出当前步骤"),
        (Command::Privacy, "privacy", "我会保存什么"),
        (Command::Forget, "forget", "删除关于我的全部记录"),
    ];

    /// Reads `/name`, `/name@bot` or `/name args`; `None` if `text` is not a command at all,
    /// `Some(None)` for an unknown command.
    pub fn parse(text: &str) -> Option<Option<Command>> {
        let rest = text.trim().strip_prefix('/')?;
        let name = rest.split(|c: char| c.is_whitespace() || c == '@').next()?;
        let name = name.to_ascii_lowercase();
        Some(
            Command::ALL
                .iter()
                .find(|(_, n, _)| *n == name)
                .map(|(c, _, _)| *c),
        )
    }
}

/// What to tell the user; each adapter decides how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Text(String),
    /// A prompt with buttons. `menu` numbers it: presses of older menus are stale.
    Choices {
        prompt: String,
        menu: u32,
        options: Vec<String>,
    },
    /// Delete the message the user just sent (it held a secret).
    DeleteUserMessage,
    /// Erase everything stored about this chat.
    ForgetChat,
    /// Something for the staff's statistics and review; the user never sees it.
    Record(Record),
}

/// What the engine tells the staff about a conversation: counted for `/stats`, and (for questions it
/// could not answer) kept for review. Never a secret: the text of an [`Unanswered`] is the guard's
/// redacted text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// A question was answered with this entry (directly, or after a clarification).
    Answered { entry: String },
    /// A question got no single answer: the bot fell back or asked which entry was meant.
    Unanswered(Unanswered),
    /// A flow reached a step marked `completes`.
    FlowCompleted { flow: String },
    /// A message held a password, code or number; it was deleted and the user warned.
    SecretIntercepted,
}

/// A question the bot could not answer with one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unanswered {
    /// The question as typed, with every secret masked by the guard and every other number of four digits
    /// or more by the redaction.
    pub text: Redacted,
    /// The question as the matcher saw it (normalised, redacted), which groups retyped variants.
    pub normalized: Redacted,
    /// `fallback` or `clarify`.
    pub decision: Decision,
    /// The best candidate the matcher found, if any (an entry id, or `out_of_scope:topic` when a nearby
    /// subject caused the fallback), and its calibrated score.
    pub top: Option<String>,
    pub score: f32,
}

/// What a button of the latest menu does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    StartFlow {
        flow: String,
    },
    /// Go to a step of the current flow.
    GoTo {
        step: String,
    },
    /// Ask for help at the current walk-through step.
    Problems,
    /// Back to the walk-through step where help was asked for.
    Back,
    /// Leave the flow.
    EndFlow,
    /// Show the current step again (after a question asked mid-flow).
    Continue,
    /// Answer this FAQ entry (a clarification was chosen).
    Answer {
        entry: String,
    },
    /// None of the offered entries was meant.
    NoneOfThese,
    /// Decline an offer.
    Dismiss,
}

/// Where the conversation is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    #[default]
    Idle,
    /// Walking through `flow`, at `step`; `back` is the walk-through step to return to from the help.
    Flow {
        flow: String,
        step: String,
        back: Option<String>,
    },
}

/// Something to tell the user before the next reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    /// The stored state could not be read (written by an incompatible version) and was reset.
    StateReset,
}

/// Everything the bot remembers about one chat. It holds no user text at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub phase: Phase,
    /// Number of the latest menu sent; a button from an older menu is stale.
    pub menu: u32,
    /// What each option of the latest menu does.
    pub actions: Vec<Action>,
    /// When the user last did something, in Unix seconds.
    pub last_active: i64,
    #[serde(default)]
    pub notice: Option<Notice>,
    /// The last Telegram update applied to this chat, so a redelivered update is not applied twice.
    #[serde(default)]
    pub last_update: i64,
}

/// What an input means once checked against the state.
enum Event {
    Command(Command),
    UnknownCommand,
    Action(Action),
    Stale,
    /// A button of a flow that expired.
    Expired,
    Question {
        text: String,
        guarded: bool,
    },
}

/// Advances one conversation by one input. Pure: same arguments, same result.
pub fn step(kb: &KnowledgeBase, state: State, input: Input, now: i64) -> (State, Vec<Reply>) {
    let mut state = state;
    let mut out = Vec::new();
    if let Some(notice) = state.notice.take() {
        out.push(Reply::Text(
            match notice {
                Notice::StateReset => texts::STATE_RESET,
            }
            .to_string(),
        ));
    }

    // The guard runs before anything else looks at the text.
    let input = match input {
        Input::Text(text) => {
            let guarded = guard(&text);
            if guarded.is_clean() {
                Input::Text(text)
            } else {
                out.extend(guard_replies(&guarded));
                return finish(
                    kb,
                    state,
                    Event::Question {
                        text: guarded.redacted,
                        guarded: true,
                    },
                    now,
                    out,
                );
            }
        }
        other => other,
    };

    let mut expired = false;
    if state.phase != Phase::Idle && now.saturating_sub(state.last_active) > kb.flows.timeout_secs {
        state.phase = Phase::Idle;
        out.push(Reply::Text(texts::EXPIRED.to_string()));
        expired = true;
    }

    let event = match input {
        Input::Text(text) => match Command::parse(&text) {
            Some(Some(command)) => Event::Command(command),
            Some(None) => Event::UnknownCommand,
            None => Event::Question {
                text,
                guarded: false,
            },
        },
        Input::Command(command) => Event::Command(command),
        Input::Choice { .. } if expired => Event::Expired,
        Input::Choice { menu, index } => match state.actions.get(index) {
            Some(action) if menu == state.menu => Event::Action(action.clone()),
            _ => Event::Stale,
        },
    };
    if expired {
        state.actions.clear();
    }
    finish(kb, state, event, now, out)
}

/// Applies an event: every transition of the conversation is in this one `match`.
fn finish(
    kb: &KnowledgeBase,
    mut state: State,
    event: Event,
    now: i64,
    mut out: Vec<Reply>,
) -> (State, Vec<Reply>) {
    state.last_active = now;
    // A flow position that no longer exists (the knowledge was reloaded) restarts the flow.
    if let Phase::Flow { flow, step, .. } = &state.phase
        && kb.flows.get(flow).and_then(|f| f.step(step)).is_none()
    {
        let flow = flow.clone();
        out.push(Reply::Text(texts::STEP_GONE.to_string()));
        state.phase = Phase::Idle;
        if let Some(f) = kb.flows.get(&flow) {
            return show_step(state, f, &f.start, None, out);
        }
        state.actions.clear();
    }

    let phase = state.phase.clone();
    match (phase, event) {
        (_, Event::Command(Command::Start)) => {
            state.phase = Phase::Idle;
            out.push(Reply::Text(texts::WELCOME.to_string()));
            match kb.flows.get(RESET_FLOW) {
                Some(flow) => offer(
                    state,
                    texts::START_PROMPT,
                    vec![(
                        flow.title.clone(),
                        Action::StartFlow {
                            flow: flow.id.clone(),
                        },
                    )],
                    out,
                ),
                None => (state, out),
            }
        }
        (_, Event::Command(Command::Help)) => {
            out.push(Reply::Text(texts::HELP.to_string()));
            (state, out)
        }
        (_, Event::Command(Command::Privacy)) => {
            out.push(Reply::Text(texts::PRIVACY.to_string()));
            (state, out)
        }
        (_, Event::Command(Command::Forget)) => {
            out.push(Reply::ForgetChat);
            out.push(Reply::Text(texts::FORGOTTEN.to_string()));
            let state = State {
                last_active: now,
                menu: state.menu.wrapping_add(1),
                ..State::default()
            };
            (state, out)
        }
        (_, Event::Command(Command::Reset)) => start_flow(kb, state, RESET_FLOW, out),
        (_, Event::Action(Action::StartFlow { flow })) => start_flow(kb, state, &flow, out),
        (Phase::Idle, Event::Command(Command::Cancel)) => {
            out.push(Reply::Text(texts::NOTHING_TO_CANCEL.to_string()));
            state.actions.clear();
            (state, out)
        }
        (Phase::Flow { .. }, Event::Command(Command::Cancel))
        | (Phase::Flow { .. }, Event::Action(Action::EndFlow)) => {
            out.push(Reply::Text(texts::FLOW_LEFT.to_string()));
            state.phase = Phase::Idle;
            state.actions.clear();
            (state, out)
        }
        (_, Event::UnknownCommand) => {
            out.push(Reply::Text(texts::UNKNOWN_COMMAND.to_string()));
            (state, out)
        }
        (Phase::Flow { flow, step, back }, Event::Stale) => {
            out.push(Reply::Text(texts::STALE_BUTTON.to_string()));
            match kb.flows.get(&flow) {
                Some(f) => show_step(state, f, &step, back, out),
                None => (state, out),
            }
        }
        (_, Event::Expired) => match kb.flows.get(RESET_FLOW) {
            Some(flow) => {
                let restart = vec![(
                    flow.title.clone(),
                    Action::StartFlow {
                        flow: flow.id.clone(),
                    },
                )];
                offer(state, texts::START_PROMPT, restart, out)
            }
            None => {
                state.actions.clear();
                (state, out)
            }
        },
        (Phase::Idle, Event::Stale) => {
            out.push(Reply::Text(texts::STALE_BUTTON.to_string()));
            (state, out)
        }
        (Phase::Flow { flow, back, .. }, Event::Action(Action::GoTo { step })) => {
            match kb.flows.get(&flow) {
                Some(f) => {
                    if f.step(&step).is_some_and(|s| s.completes) {
                        out.push(Reply::Record(Record::FlowCompleted { flow: flow.clone() }));
                    }
                    show_step(state, f, &step, back, out)
                }
                None => (state, out),
            }
        }
        (Phase::Flow { flow, step, .. }, Event::Action(Action::Problems)) => {
            match kb.flows.get(&flow) {
                Some(f) => match &f.problems {
                    Some(problems) => {
                        let problems = problems.clone();
                        show_step(state, f, &problems, Some(step), out)
                    }
                    None => show_step(state, f, &step, None, out),
                },
                None => (state, out),
            }
        }
        (Phase::Flow { flow, step, back }, Event::Action(Action::Back)) => {
            match kb.flows.get(&flow) {
                Some(f) => {
                    let target = back.unwrap_or(step);
                    show_step(state, f, &target, None, out)
                }
                None => (state, out),
            }
        }
        (Phase::Flow { flow, step, back }, Event::Action(Action::Continue)) => {
            match kb.flows.get(&flow) {
                Some(f) => show_step(state, f, &step, back, out),
                None => (state, out),
            }
        }
        // Flow buttons pressed when no flow runs any more (e.g. after /cancel, with the menu still current).
        (
            Phase::Idle,
            Event::Action(
                Action::GoTo { .. }
                | Action::Problems
                | Action::Back
                | Action::Continue
                | Action::EndFlow,
            ),
        ) => {
            out.push(Reply::Text(texts::STALE_BUTTON.to_string()));
            state.actions.clear();
            (state, out)
        }
        (phase, Event::Action(Action::Answer { entry })) => match kb.entry(&entry) {
            Some(e) => {
                out.push(Reply::Text(e.answer.clone()));
                out.push(Reply::Record(Record::Answered { entry }));
                let e = e.clone();
                follow_up(kb, state, &phase, e.flow.as_deref(), out)
            }
            None => {
                out.push(Reply::Text(crate::knowledge::FALLBACK_TEXT.to_string()));
                follow_up(kb, state, &phase, None, out)
            }
        },
        (phase, Event::Action(Action::NoneOfThese)) => {
            out.push(Reply::Text(crate::knowledge::FALLBACK_TEXT.to_string()));
            follow_up(kb, state, &phase, None, out)
        }
        (_, Event::Action(Action::Dismiss)) => {
            out.push(Reply::Text(texts::DISMISSED.to_string()));
            state.actions.clear();
            (state, out)
        }
        (phase, Event::Question { text, guarded }) => {
            // A message that held a secret is answered only when the rest is a question the knowledge
            // answers ("用******当密码可以吗"); "我的密码是******" gets the warning alone.
            let outcome = kb.ask(&text);
            if guarded && (outcome.decision != Decision::Answer || !looks_like_question(&text)) {
                // Still a question nobody answered: kept for review, masked.
                if looks_like_question(&text) {
                    out.push(Reply::Record(unanswered(kb, &text, &outcome)));
                }
                return follow_up(kb, state, &phase, None, out);
            }
            answer(kb, state, &phase, &text, &outcome, out)
        }
    }
}

/// What the bot does about a message the guard masked something in: a likely secret is deleted and the user
/// warned; a doubtful number is masked too, and the user told so, but the message stays. Either is counted.
pub fn guard_replies(guarded: &Guarded) -> Vec<Reply> {
    if guarded.is_clean() {
        return Vec::new();
    }
    let mut replies = Vec::with_capacity(3);
    if guarded.must_delete() {
        replies.push(Reply::DeleteUserMessage);
        replies.push(Reply::Text(texts::secret_warning(&guarded.secrets)));
    } else {
        replies.push(Reply::Text(texts::DOUBTFUL_NUMBER.to_string()));
    }
    replies.push(Reply::Record(Record::SecretIntercepted));
    replies
}

/// What to keep about a question the bot could not answer with one entry.
fn unanswered(kb: &KnowledgeBase, text: &str, outcome: &Outcome) -> Record {
    let top = outcome.best();
    Record::Unanswered(Unanswered {
        text: Redacted::new(text),
        normalized: Redacted::new(&outcome.normalized),
        decision: outcome.decision,
        top: top.map(|c| kb.target_label(c.target)),
        score: top.map_or(0.0, |c| c.score),
    })
}

/// Replies to a question: the answer (offering its flow), the clarification, or the fallback.
fn answer(
    kb: &KnowledgeBase,
    state: State,
    phase: &Phase,
    text: &str,
    outcome: &Outcome,
    mut out: Vec<Reply>,
) -> (State, Vec<Reply>) {
    if outcome.decision != Decision::Answer {
        out.push(Reply::Record(unanswered(kb, text, outcome)));
    }
    match outcome.decision {
        Decision::Answer => {
            let entry = &kb.entries[outcome.answer().expect("an answer decision has an entry")];
            out.push(Reply::Text(entry.answer.clone()));
            out.push(Reply::Record(Record::Answered {
                entry: entry.id.to_string(),
            }));
            follow_up(kb, state, phase, entry.flow.as_deref(), out)
        }
        Decision::Clarify => {
            let mut options: Vec<(String, Action)> = outcome
                .clarify_options()
                .into_iter()
                .map(|e| {
                    let entry = &kb.entries[e];
                    (
                        entry.canonical_question().to_string(),
                        Action::Answer {
                            entry: entry.id.to_string(),
                        },
                    )
                })
                .collect();
            options.push((texts::NONE_OF_THESE.to_string(), Action::NoneOfThese));
            offer(state, texts::CLARIFY_PROMPT, options, out)
        }
        Decision::Fallback => {
            out.push(Reply::Text(kb.fallback_text(outcome)));
            follow_up(kb, state, phase, None, out)
        }
    }
}

/// After an answer: mid-flow, offer to continue at the same step; otherwise offer the entry's flow.
fn follow_up(
    kb: &KnowledgeBase,
    mut state: State,
    phase: &Phase,
    flow: Option<&str>,
    out: Vec<Reply>,
) -> (State, Vec<Reply>) {
    if let Phase::Flow { .. } = phase {
        let options = vec![
            (texts::CONTINUE.to_string(), Action::Continue),
            (texts::QUIT.to_string(), Action::EndFlow),
        ];
        return offer(state, texts::CONTINUE_PROMPT, options, out);
    }
    match flow.and_then(|f| kb.flows.get(f)) {
        Some(flow) => {
            let options = vec![
                (
                    flow.title.clone(),
                    Action::StartFlow {
                        flow: flow.id.clone(),
                    },
                ),
                (texts::NO_THANKS.to_string(), Action::Dismiss),
            ];
            offer(state, texts::OFFER_PROMPT, options, out)
        }
        None => {
            state.actions.clear();
            (state, out)
        }
    }
}

fn start_flow(
    kb: &KnowledgeBase,
    mut state: State,
    flow_id: &str,
    mut out: Vec<Reply>,
) -> (State, Vec<Reply>) {
    match kb.flows.get(flow_id) {
        Some(flow) => show_step(state, flow, &flow.start, None, out),
        None => {
            out.push(Reply::Text(texts::NO_FLOW.to_string()));
            state.phase = Phase::Idle;
            state.actions.clear();
            (state, out)
        }
    }
}

/// Moves to `step_id` of `flow` and shows it with its buttons. `@end` and `@back` targets are resolved
/// when the button is pressed, so `step_id` is always a real step here (validation guarantees it).
fn show_step(
    mut state: State,
    flow: &Flow,
    step_id: &str,
    back: Option<String>,
    out: Vec<Reply>,
) -> (State, Vec<Reply>) {
    let Some(step) = flow.step(step_id) else {
        let mut out = out;
        out.push(Reply::Text(texts::STEP_GONE.to_string()));
        state.phase = Phase::Idle;
        state.actions.clear();
        return (state, out);
    };
    state.phase = Phase::Flow {
        flow: flow.id.clone(),
        step: step.id.clone(),
        back,
    };
    let options = step_options(step);
    offer(state, &step.text, options, out)
}

/// The buttons of a step and what each does.
fn step_options(step: &Step) -> Vec<(String, Action)> {
    let action = |goto: &Goto| match goto {
        Goto::Step(s) => Action::GoTo { step: s.clone() },
        Goto::End => Action::EndFlow,
        Goto::Back => Action::Back,
    };
    match &step.kind {
        StepKind::Choice(options) => options
            .iter()
            .map(|o| (o.label.clone(), action(&o.goto)))
            .collect(),
        StepKind::Walk { next } => vec![
            (texts::NEXT.to_string(), action(next)),
            (texts::PROBLEM.to_string(), Action::Problems),
            (texts::QUIT.to_string(), Action::EndFlow),
        ],
    }
}

/// Sends a new menu: it gets the next number, and its actions replace the old ones.
fn offer(
    mut state: State,
    prompt: &str,
    options: Vec<(String, Action)>,
    mut out: Vec<Reply>,
) -> (State, Vec<Reply>) {
    state.menu = state.menu.wrapping_add(1);
    let (labels, actions): (Vec<String>, Vec<Action>) = options.into_iter().unzip();
    state.actions = actions;
    out.push(Reply::Choices {
        prompt: prompt.to_string(),
        menu: state.menu,
        options: labels,
    });
    (state, out)
}

/// Words that make a message a question rather than a statement.
const QUESTION_MARKERS: [&str; 24] = [
    "吗",
    "么",
    "什么",
    "啥",
    "怎",
    "咋",
    "如何",
    "哪",
    "为什么",
    "为啥",
    "可以",
    "能不能",
    "能否",
    "行不行",
    "是不是",
    "是否",
    "多少",
    "几",
    "呢",
    "要不要",
    "会不会",
    "安全",
    "?",
    "？",
];

/// Whether a redacted message still asks something once the masked secrets are left out.
fn looks_like_question(text: &str) -> bool {
    let rest = text.replace(MASK, "");
    !crate::text::fold(&rest).is_empty() && QUESTION_MARKERS.iter().any(|m| rest.contains(m))
}
