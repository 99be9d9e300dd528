//! The conversation engine: `step(kb, state, input, now) -> (state, replies, effects)`, pure, with no I/O.
//!
//! The Telegram adapter and the terminal `chat` both drive this one function; tests call it directly.
//! It never sees a secret: every text passes the guard first, and only the redacted text goes on.
//!
//! A sample conversation (options are buttons in Telegram, numbered lines in the terminal):
//!
//! ```text
//! user: 电子社保卡密码忘了
//! bot:  (the forgot_pin answer)
//!       需要我一步步带您操作吗？这个回答有帮助吗？ [一步步重置密码] [👍 有帮助] [👎 没帮助]
//! user: [一步步重置密码]
//! bot:  我会一步步带您……绝不会问您的密码、验证码  [好，开始] [先不用了]
//! user: 好                                 <- a typed label, number or word is that button
//! bot:  您平时用哪个App？ [微信] [支付宝] ...
//! user: 2
//! bot:  第1步：打开支付宝……  [完成，下一步] [遇到问题] [退出]
//! user: 密码是几位数？                     <- a question mid-flow is answered,
//! bot:  (the pin_format answer)               and the same step is shown again
//!       我们接着刚才这一步：第1步：……  [完成，下一步] [遇到问题] [退出]
//! user: 刷脸刷不过去                       <- trouble mid-flow: the flow's own help for it
//! bot:  刷脸不过，可以试试……  [回到刚才那一步] [去线下办理] [退出]
//! user: 我的密码是123456                  <- the guard deletes it and warns
//! bot:  (delete) ⚠️ 您的消息里好像有密码……
//! ```
//!
//! Before the FAQ is asked, a message is read for what it means on this screen ([`understand`]): a
//! button named by its number, label or a word such as 好了/不行/退出; a fact (the app, an old number
//! that stopped, a locked PIN) kept in [`State::facts`] so nothing is asked twice; a scam alarm, answered
//! first; trouble typed mid-flow, sent to the flow's help for it; small talk, acknowledged. FAQ answers
//! ask "这个回答有帮助吗？" (👍/👎, recorded for the staff) and, when the matcher found a second entry
//! likely too, offer it as the last button ("👉 忘记电子社保卡密码怎么办？"); every fallback offers the nearest entries,
//! the guided reset and 找人工, and a second one in a row leads to human help.
//!
//! Every menu of options has a number; a button from an older menu is stale and gets a short note and the
//! current step again. A flow idle longer than the knowledge's timeout expires.

pub mod texts;
pub mod understand;

use serde::{Deserialize, Serialize};

use crate::knowledge::flows::{Flow, Goto, Step, StepKind};
use crate::knowledge::{KnowledgeBase, SMALL_TALK};
use crate::matcher::{Decision, Outcome, Target};
use crate::text::guard::{Guarded, MASK, guard};
use crate::text::redact::Redacted;
use understand::{App, Facts, Role, Scam, SmallTalk};

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
}

/// What a step changes beyond the state and the replies: what the driver commits with the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// Erase everything stored about this chat (its state; the store keeps only what it needs to skip
    /// a redelivered update).
    Forget,
    /// Something for the staff's statistics and review; the user never sees it.
    Record(Record),
}

/// The replies and effects of a step, in the order the engine made them.
#[derive(Debug, Default)]
struct Out {
    replies: Vec<Reply>,
    effects: Vec<Effect>,
    /// Whether to keep how the matcher read the message ([`step_reading`]); a chat's step does not.
    keep_reading: bool,
    /// How the matcher read the message, when the step asked it and `keep_reading` is set.
    reading: Option<Reading>,
}

/// How the matcher read a message the engine asked it about: the text it asked, secrets masked, and its
/// outcome. `shebao ask` and the staff's views show it beside the replies without matching the message a
/// second time.
#[derive(Debug, Clone)]
pub struct Reading {
    pub text: String,
    pub outcome: Outcome,
}

impl Out {
    fn push(&mut self, reply: Reply) {
        self.replies.push(reply);
    }

    fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// Asks the matcher about `text`, keeping its reading when the caller wants it.
    fn ask(&mut self, kb: &KnowledgeBase, text: &str) -> Outcome {
        let outcome = kb.ask(text);
        if self.keep_reading {
            self.reading = Some(Reading {
                text: text.to_string(),
                outcome: outcome.clone(),
            });
        }
        outcome
    }
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
    /// The citizen pressed 👍 (`helpful`) or 👎 under the answer of `entry`.
    Feedback { entry: String, helpful: bool },
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
    /// 找人工: the hotline and what to say when calling.
    Human,
    /// 👍 under the answer of `entry`.
    Helpful {
        entry: String,
    },
    /// 👎 under the answer of `entry`; `next` are the runner-up entries to offer instead.
    NotHelpful {
        entry: String,
        next: Vec<String>,
    },
    /// The other entry offered under the answer of `instead_of`: answer `entry`, and count the first
    /// answer as one that did not fit (as a 👎 is).
    Instead {
        entry: String,
        instead_of: String,
    },
    /// Forget the app the citizen named and show `step` (the choice of app) of the current flow.
    ChangeApp {
        step: String,
    },
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
    /// The labels of the latest menu (the bot's words), so a typed label finds its button.
    #[serde(default)]
    pub labels: Vec<String>,
    /// What the citizen has said about their situation (facts, not words).
    #[serde(default)]
    pub facts: Facts,
    /// Fallbacks in a row: the second changes its wording and leads to human help.
    #[serde(default)]
    pub fallbacks: u8,
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
        /// The message stated a fact the state did not hold yet.
        learnt: bool,
    },
    /// A word for a button ("好了", "返回") that matches none on screen: mid-flow the step comes again;
    /// otherwise a "yes" gets the ways on, a "no" is taken as declining.
    Unmatched {
        yes: bool,
    },
    /// A typed option number that is not on screen.
    BadNumber(usize),
}

/// Advances one conversation by one input. Pure: same arguments, same result.
pub fn step(
    kb: &KnowledgeBase,
    state: State,
    input: Input,
    now: i64,
) -> (State, Vec<Reply>, Vec<Effect>) {
    let (state, out) = turn(kb, state, input, now, Out::default());
    (state, out.replies, out.effects)
}

/// [`step`], with how the matcher read the message when the step asked it (a button, small talk or a
/// call for a person is answered without it).
pub fn step_reading(
    kb: &KnowledgeBase,
    state: State,
    input: Input,
    now: i64,
) -> (State, Vec<Reply>, Vec<Effect>, Option<Reading>) {
    let out = Out {
        keep_reading: true,
        ..Out::default()
    };
    let (state, out) = turn(kb, state, input, now, out);
    (state, out.replies, out.effects, out.reading)
}

fn turn(kb: &KnowledgeBase, state: State, input: Input, now: i64, mut out: Out) -> (State, Out) {
    let mut state = state;
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
                guard_out(&guarded, &mut out);
                let learnt = state.facts.learn(&guarded.redacted);
                return finish(
                    kb,
                    state,
                    Event::Question {
                        text: guarded.redacted,
                        guarded: true,
                        learnt,
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
            None => {
                let learnt = state.facts.learn(&text);
                match typed_button(&state, &text) {
                    _ if expired => Event::Question {
                        text,
                        guarded: false,
                        learnt,
                    },
                    Typed::Option(index) => pressed(&mut state, index),
                    Typed::OutOfRange(n) => Event::BadNumber(n),
                    Typed::Unmatched(first)
                        if understand::small_talk(&text).is_none() && first != Role::Human =>
                    {
                        Event::Unmatched {
                            yes: matches!(first, Role::Yes | Role::Next | Role::Continue),
                        }
                    }
                    Typed::Unmatched(_) | Typed::NotAButton => Event::Question {
                        text,
                        guarded: false,
                        learnt,
                    },
                }
            }
        },
        Input::Command(command) => Event::Command(command),
        Input::Choice { .. } if expired => Event::Expired,
        Input::Choice { menu, index } if menu == state.menu && index < state.actions.len() => {
            pressed(&mut state, index)
        }
        Input::Choice { .. } => Event::Stale,
    };
    if expired {
        state.actions.clear();
        state.labels.clear();
    }
    finish(kb, state, event, now, out)
}

/// Option `index` of the latest menu was chosen (pressed or typed). A chosen app is remembered.
fn pressed(state: &mut State, index: usize) -> Event {
    if let Some(app) = state.labels.get(index).and_then(|l| App::from_label(l)) {
        state.facts.app = Some(app);
    }
    Event::Action(state.actions[index].clone())
}

/// What a typed message is, against the options on screen.
enum Typed {
    /// It names this option (0-based).
    Option(usize),
    /// A number that is no option on screen (1-based).
    OutOfRange(usize),
    /// A word for a button (the role it names first), but no option on screen is that button.
    Unmatched(Role),
    NotAButton,
}

/// Reads a typed message as a button of the latest menu: its number in any script, its label, a word
/// such as 好了/不行/退出 for what it does, or (when the message is not a question) a short message
/// naming exactly one label ("选微信", "云闪付").
fn typed_button(state: &State, text: &str) -> Typed {
    let mut roles = understand::typed_roles(text);
    let number = understand::option_number(text);
    if state.actions.is_empty() {
        // Nothing to press: only a plain yes (offer the ways on) or no (nothing to decline) is no question.
        return match (number, roles.first()) {
            (Some(n), _) => Typed::OutOfRange(n),
            (
                None,
                Some(&first @ (Role::Yes | Role::Next | Role::Continue | Role::Quit | Role::No)),
            ) => Typed::Unmatched(first),
            (None, _) => Typed::NotAButton,
        };
    }
    if roles.is_empty() {
        roles = understand::hinted_roles(text);
    }
    if let Some(n) = number {
        return if (1..=state.actions.len()).contains(&n) {
            Typed::Option(n - 1)
        } else {
            Typed::OutOfRange(n)
        };
    }
    let label = |i: usize| state.labels.get(i).map_or("", String::as_str);
    let typed = understand::compact(text);
    if typed.is_empty() && roles.is_empty() {
        return Typed::NotAButton;
    }
    if let Some(i) = (0..state.actions.len()).find(|&i| understand::compact(label(i)) == typed) {
        return Typed::Option(i);
    }
    // Asked back with one entry (「您是想问这个吗？」): a yes (是的, 对) is that entry.
    let entries: Vec<usize> = (0..state.actions.len())
        .filter(|&i| matches!(state.actions[i], Action::Answer { .. }))
        .collect();
    if let [only] = entries[..]
        && roles.first() == Some(&Role::Yes)
        && state
            .actions
            .iter()
            .any(|a| matches!(a, Action::NoneOfThese))
    {
        return Typed::Option(only);
    }
    // Under an answer, "好的" or "谢谢" is said to be kind, not to start a walk-through: only 👍/👎 and
    // the words of a button press one there. In a flow, "好的" at 「好，开始」 is that button.
    if state.phase == Phase::Idle
        && understand::small_talk(text).is_some()
        && !text.contains(['👍', '👎'])
    {
        return Typed::NotAButton;
    }
    // "我用手机银行" where the buttons are apps.
    if let Some(app) = understand::app_named(text)
        && !looks_like_question(text)
        && let Some(i) = (0..state.actions.len()).find(|&i| label(i) == app.label())
    {
        return Typed::Option(i);
    }
    for role in &roles {
        if let Some(i) = (0..state.actions.len())
            .find(|&i| option_roles(&state.actions[i], label(i)).contains(role))
        {
            return Typed::Option(i);
        }
    }
    if let Some(&first) = roles.first() {
        return Typed::Unmatched(first);
    }
    if looks_like_question(text) {
        return Typed::NotAButton;
    }
    let n = typed.chars().count();
    let hits: Vec<usize> = (0..state.actions.len())
        .filter(|&i| {
            let l = understand::compact(label(i));
            let ln = l.chars().count();
            // "确定" is not 「不确定」: what the label adds must not deny it.
            let denies = l.replacen(typed.as_str(), "", 1).contains(['不', '没']);
            ln >= 2
                && ((typed.contains(&l) && n <= ln + 4)
                    || (n >= 2 && l.contains(&typed) && !denies))
        })
        .collect();
    match hits.as_slice() {
        [i] => Typed::Option(*i),
        _ => Typed::NotAButton,
    }
}

/// What an option does, in the words a citizen may type for it.
fn option_roles(action: &Action, label: &str) -> Vec<Role> {
    let mut roles = match action {
        Action::GoTo { .. } if label == texts::NEXT => vec![Role::Next],
        Action::Problems => vec![Role::Problem],
        Action::EndFlow => vec![Role::Quit, Role::No],
        Action::Back => vec![Role::Back],
        Action::Continue => vec![Role::Continue],
        Action::Dismiss => vec![Role::No],
        Action::StartFlow { .. } => vec![Role::Yes],
        Action::NoneOfThese => vec![Role::NoneOfThese],
        Action::Helpful { .. } => vec![Role::Helpful],
        Action::NotHelpful { .. } => vec![Role::NotHelpful],
        Action::Human => vec![Role::Human],
        Action::GoTo { .. }
        | Action::Answer { .. }
        | Action::Instead { .. }
        | Action::ChangeApp { .. } => Vec::new(),
    };
    // Buttons written in flows.yaml say what they mean in their label.
    if label.starts_with('没') || label.starts_with('不') || label.starts_with("先不") {
        roles.extend([Role::Fail, Role::No]);
    } else if label.contains("成功") {
        roles.push(Role::Success);
    } else if label.starts_with('好') {
        roles.push(Role::Yes);
        if label.contains('谢') {
            roles.push(Role::Ack);
        }
    } else if label.starts_with("知道") {
        roles.push(Role::Ack);
    }
    roles
}

/// Applies an event: every transition of the conversation is in this one `match`.
fn finish(
    kb: &KnowledgeBase,
    mut state: State,
    event: Event,
    now: i64,
    mut out: Out,
) -> (State, Out) {
    state.last_active = now;
    // Counted here, kept only by a fallback: anything else breaks the run.
    let fallbacks = std::mem::take(&mut state.fallbacks);
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
        clear_menu(&mut state);
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
                    vec![
                        (
                            flow.title.clone(),
                            Action::StartFlow {
                                flow: flow.id.clone(),
                            },
                        ),
                        (texts::HUMAN.to_string(), Action::Human),
                    ],
                    out,
                ),
                None => (state, out),
            }
        }
        (phase, Event::Command(Command::Help)) => {
            out.push(Reply::Text(texts::HELP.to_string()));
            resume_or_stay(kb, state, &phase, out)
        }
        (phase, Event::Command(Command::Privacy)) => {
            out.push(Reply::Text(texts::PRIVACY.to_string()));
            resume_or_stay(kb, state, &phase, out)
        }
        (_, Event::Command(Command::Forget)) => {
            out.effect(Effect::Forget);
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
            clear_menu(&mut state);
            (state, out)
        }
        (Phase::Flow { .. }, Event::Command(Command::Cancel))
        | (Phase::Flow { .. }, Event::Action(Action::EndFlow)) => {
            out.push(Reply::Text(texts::FLOW_LEFT.to_string()));
            state.phase = Phase::Idle;
            clear_menu(&mut state);
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
                let restart = vec![
                    (
                        flow.title.clone(),
                        Action::StartFlow {
                            flow: flow.id.clone(),
                        },
                    ),
                    (texts::HUMAN.to_string(), Action::Human),
                ];
                offer(state, texts::START_PROMPT, restart, out)
            }
            None => {
                clear_menu(&mut state);
                (state, out)
            }
        },
        (Phase::Idle, Event::Stale) => {
            out.push(Reply::Text(texts::STALE_BUTTON.to_string()));
            (state, out)
        }
        (phase @ Phase::Flow { .. }, Event::Unmatched { .. }) => {
            out.push(Reply::Text(texts::PLEASE_PRESS.to_string()));
            resume_or_stay(kb, state, &phase, out)
        }
        (Phase::Idle, Event::Unmatched { yes: true }) => {
            offer_ways_on(kb, state, texts::WHAT_NEXT_PROMPT, &[], out)
        }
        (Phase::Idle, Event::Unmatched { yes: false }) => {
            out.push(Reply::Text(texts::DISMISSED.to_string()));
            clear_menu(&mut state);
            (state, out)
        }
        (phase, Event::BadNumber(n)) => {
            out.push(Reply::Text(texts::no_such_option(n, state.actions.len())));
            match phase {
                Phase::Flow { .. } => resume_or_stay(kb, state, &phase, out),
                // The same buttons again, so the number can be typed right.
                Phase::Idle
                    if !state.actions.is_empty() && state.labels.len() == state.actions.len() =>
                {
                    let options = state.labels.clone().into_iter().zip(state.actions.clone());
                    offer(state, texts::CHOOSE_AGAIN, options.collect(), out)
                }
                Phase::Idle => offer_ways_on(kb, state, texts::START_PROMPT, &[], out),
            }
        }
        (Phase::Flow { flow, back, .. }, Event::Action(Action::GoTo { step })) => {
            match kb.flows.get(&flow) {
                Some(f) => {
                    if f.step(&step).is_some_and(|s| s.completes) {
                        out.effect(Effect::Record(Record::FlowCompleted { flow: flow.clone() }));
                    }
                    show_step(state, f, &step, back, out)
                }
                None => (state, out),
            }
        }
        (Phase::Flow { flow, .. }, Event::Action(Action::ChangeApp { step })) => {
            state.facts.app = None;
            match kb.flows.get(&flow) {
                Some(f) => show_step(state, f, &step, None, out),
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
                | Action::EndFlow
                | Action::ChangeApp { .. },
            ),
        ) => {
            out.push(Reply::Text(texts::STALE_BUTTON.to_string()));
            offer_ways_on(kb, state, texts::START_PROMPT, &[], out)
        }
        (phase, Event::Action(Action::Answer { entry })) => {
            answer_chosen(kb, state, &phase, &entry, out)
        }
        (phase, Event::Action(Action::Instead { entry, instead_of })) => {
            out.effect(Effect::Record(Record::Feedback {
                entry: instead_of,
                helpful: false,
            }));
            answer_chosen(kb, state, &phase, &entry, out)
        }
        (phase, Event::Action(Action::NoneOfThese)) => {
            out.push(Reply::Text(texts::NONE_OF_THESE_REPLY.to_string()));
            resume_or(kb, state, &phase, out, |kb, state, out| {
                offer_ways_on(kb, state, texts::FALLBACK_PROMPT, &[], out)
            })
        }
        (phase, Event::Action(Action::Human)) => {
            out.push(Reply::Text(texts::human_help(&state.facts)));
            resume_or_stay(kb, state, &phase, out)
        }
        (phase, Event::Action(Action::Helpful { entry })) => {
            out.effect(Effect::Record(Record::Feedback {
                entry,
                helpful: true,
            }));
            out.push(Reply::Text(texts::GLAD_IT_HELPED.to_string()));
            clear_menu(&mut state);
            resume_or_stay(kb, state, &phase, out)
        }
        (phase, Event::Action(Action::NotHelpful { entry, next })) => {
            out.effect(Effect::Record(Record::Feedback {
                entry,
                helpful: false,
            }));
            out.push(Reply::Text(texts::SORRY_NOT_HELPFUL.to_string()));
            resume_or(kb, state, &phase, out, |kb, state, out| {
                offer_ways_on(kb, state, texts::NOT_HELPFUL_PROMPT, &next, out)
            })
        }
        (_, Event::Action(Action::Dismiss)) => {
            out.push(Reply::Text(texts::DISMISSED.to_string()));
            clear_menu(&mut state);
            (state, out)
        }
        (
            phase,
            Event::Question {
                text,
                guarded,
                learnt,
            },
        ) => {
            // Only a question can add to the run of fallbacks.
            state.fallbacks = fallbacks;
            question(kb, state, &phase, &text, guarded, learnt, out)
        }
    }
}

/// What the bot does about a message the guard masked something in: a likely secret is deleted and the user
/// warned; a doubtful number is masked too, and the user told so, but the message stays. Either is counted
/// (the effect).
pub fn guard_replies(guarded: &Guarded) -> (Vec<Reply>, Vec<Effect>) {
    let mut out = Out::default();
    guard_out(guarded, &mut out);
    (out.replies, out.effects)
}

fn guard_out(guarded: &Guarded, out: &mut Out) {
    if guarded.is_clean() {
        return;
    }
    if guarded.must_delete() {
        out.push(Reply::DeleteUserMessage);
        out.push(Reply::Text(texts::secret_warning(&guarded.secrets)));
    } else {
        out.push(Reply::Text(texts::DOUBTFUL_NUMBER.to_string()));
    }
    out.effect(Effect::Record(Record::SecretIntercepted));
}

/// A typed message that is no button: a scam alarm, trouble mid-flow, a call for a person, small talk,
/// a fact stated, or a question for the FAQ, in that order.
fn question(
    kb: &KnowledgeBase,
    mut state: State,
    phase: &Phase,
    text: &str,
    guarded: bool,
    learnt: bool,
    mut out: Out,
) -> (State, Out) {
    let fallbacks = std::mem::take(&mut state.fallbacks);
    // A message that held a secret is answered only when the rest is a question the knowledge
    // answers ("用******当密码可以吗"); "我的密码是******" gets the warning alone.
    if guarded {
        let outcome = out.ask(kb, text);
        if outcome.decision != Decision::Answer || !looks_like_question(text) {
            // Still a question nobody answered: kept for review, masked.
            if looks_like_question(text) {
                out.effect(Effect::Record(unanswered(kb, text, &outcome)));
            }
            return resume_or_stay(kb, state, phase, out);
        }
        return answer(kb, state, phase, text, &outcome, fallbacks, out);
    }
    // Idle, or after a lure, "我已经点开了" is about a scam; mid-flow it is about the app.
    let after_scam = state.facts.scam_seen || matches!(phase, Phase::Idle);
    match understand::scam(text, after_scam) {
        Some(Scam::Acted) => {
            let id = [SCAM_ACTED_ENTRY, SCAM_ENTRY]
                .into_iter()
                .find(|id| kb.entry(id).is_some());
            if let Some(id) = id {
                return answer_entry(kb, state, phase, id, Vec::new(), None, out);
            }
        }
        Some(Scam::Lure) if kb.entry(SCAM_ENTRY).is_some() => {
            state.facts.scam_seen = true;
            // The word lists spot the lure; whether the citizen already fell for it is told in too many
            // ways for them (「转了两千块保证金」「把身份证号都填进去了」). When the matcher, which learnt
            // it from the knowledge, takes the message for harm done, the steps to take now come first.
            if harm_done(kb, text, &mut out) {
                return answer_entry(kb, state, phase, SCAM_ACTED_ENTRY, Vec::new(), None, out);
            }
            let (state, out) = answer_text(kb, state, SCAM_ENTRY, out);
            return resume_or(kb, state, phase, out, |kb, state, out| {
                let mut options = Vec::new();
                if kb.entry(SCAM_ACTED_ENTRY).is_some() {
                    options.push((
                        texts::ALREADY_ACTED.to_string(),
                        Action::Answer {
                            entry: SCAM_ACTED_ENTRY.to_string(),
                        },
                    ));
                }
                options.push((texts::HUMAN.to_string(), Action::Human));
                offer(state, texts::SCAM_PROMPT, options, out)
            });
        }
        _ => {}
    }
    if let Phase::Flow { flow, step, back } = phase
        && let Some(f) = kb.flows.get(flow)
        && let Some(target) = trouble_step(f, text)
    {
        // Help for the step the citizen is at; 「回到刚才那一步」 comes back to it (from a help step, to the
        // step that help was asked at).
        let back = back.clone().or_else(|| Some(step.clone()));
        let target = target.to_string();
        return show_step(state, f, &target, back, out);
    }
    // The title of a flow typed whatever is on screen starts it: whole ("一步步重置密码"), its start
    // ("一步步重置") or within a sentence ("我想一步步重置密码").
    let typed = understand::compact(text);
    if let Some(flow) = kb.flows.flows.iter().find(|f| {
        let title = understand::compact(&f.title);
        title == typed
            || typed.chars().count() >= 4 && title.starts_with(&typed)
            || typed.contains(&title)
    }) {
        let id = flow.id.clone();
        return start_flow(kb, state, &id, out);
    }
    if understand::typed_roles(text).contains(&Role::Human) {
        out.push(Reply::Text(texts::human_help(&state.facts)));
        return resume_or_stay(kb, state, phase, out);
    }
    if let Some(talk) = understand::small_talk(text) {
        out.push(Reply::Text(
            match (talk, phase) {
                (SmallTalk::Thanks, _) => texts::YOU_ARE_WELCOME,
                (SmallTalk::Okay, Phase::Flow { .. }) => texts::OKAY_IN_FLOW,
                (SmallTalk::Okay, Phase::Idle) => texts::OKAY,
            }
            .to_string(),
        ));
        // Idle, whatever buttons are on screen stay pressable.
        return resume_or_stay(kb, state, phase, out);
    }
    let outcome = out.ask(kb, text);
    // A short message that only states a fact ("我用的支付宝", "号码停机了") is taken as said, unless a
    // question of the knowledge says the same (an answer won only by its lead over weaker ones does not).
    if learnt
        && !(outcome.decision == Decision::Answer && outcome.matches_well())
        && understand::only_states_facts(text)
    {
        // Mid-flow, another app than the one being walked through: its steps instead.
        if let Phase::Flow { flow, step, .. } = phase
            && let Some(f) = kb.flows.get(flow)
            && let Some(app) = understand::app_named(text)
            && let Some(choice) = app_choice(f, app)
            && !on_route(f, &choice.1, step)
        {
            state.phase = Phase::Idle;
            let choose = choice.0.clone();
            return show_step(state, f, &choose, None, out);
        }
        // "我用的支付宝": a statement to remember, not a question to fall back on.
        out.push(Reply::Text(texts::noted(&state.facts)));
        return resume_or(kb, state, phase, out, |kb, state, out| {
            offer_ways_on(kb, state, texts::NOTED_PROMPT, &[], out)
        });
    }
    answer(kb, state, phase, text, &outcome, fallbacks, out)
}

/// Whether the matcher's best entry for `text` is the steps for a citizen who already acted (answered, or
/// first among those offered).
fn harm_done(kb: &KnowledgeBase, text: &str, out: &mut Out) -> bool {
    let Some(acted) = kb.entry_index(SCAM_ACTED_ENTRY) else {
        return false;
    };
    let outcome = out.ask(kb, text);
    outcome.decision != Decision::Fallback
        && outcome
            .entry_candidates()
            .next()
            .is_some_and(|c| c.target == Target::Entry(acted))
}

/// The entry that answers scam questions, and the one with steps for a citizen who already acted.
const SCAM_ENTRY: &str = "phishing_scam";
const SCAM_ACTED_ENTRY: &str = "scam_already_acted";

const GREETING: &str = "greeting";

/// The help step of `flow` a message describing trouble leads to ("刷脸刷不过去" -> face_fail).
fn trouble_step<'a>(flow: &'a Flow, text: &str) -> Option<&'a str> {
    let typed = understand::compact(text);
    let problems = flow.step(flow.problems.as_deref()?)?;
    let StepKind::Choice(options) = &problems.kind else {
        return None;
    };
    options
        .iter()
        .find(|o| o.keywords.iter().any(|k| typed.contains(k.as_str())))
        .and_then(|o| match &o.goto {
            Goto::Step(s) => Some(s.as_str()),
            _ => None,
        })
}

/// The step of `flow` that offers `app` as a button, and the step that button leads to.
fn app_choice(flow: &Flow, app: App) -> Option<(String, String)> {
    flow.steps.iter().find_map(|s| match &s.kind {
        StepKind::Choice(options) => options.iter().find_map(|o| match &o.goto {
            Goto::Step(target) if o.label == app.label() => Some((s.id.clone(), target.clone())),
            _ => None,
        }),
        StepKind::Walk { .. } => None,
    })
}

/// Whether `step` is on the walk-through that starts at `first` (following 「完成，下一步」).
fn on_route(flow: &Flow, first: &str, step: &str) -> bool {
    let mut at = Some(first);
    for _ in 0..flow.steps.len() {
        let Some(id) = at else { return false };
        if id == step {
            return true;
        }
        at = match flow.step(id).map(|s| &s.kind) {
            Some(StepKind::Walk {
                next: Goto::Step(next),
            }) => Some(next.as_str()),
            _ => None,
        };
    }
    false
}

/// What to keep about a question the bot could not answer with one entry.
fn unanswered(kb: &KnowledgeBase, text: &str, outcome: &Outcome) -> Record {
    let top = outcome.best();
    Record::Unanswered(Unanswered {
        text: Redacted::new(text),
        normalized: Redacted::new(&outcome.normalized),
        decision: outcome.decision,
        top: top.map(|c| kb.target_label(c.target)),
        score: top.map_or(0.0, |c| crate::matcher::three_decimals(c.score)),
    })
}

/// Replies to a question: the answer (asking whether it helped, offering its flow), the clarification,
/// or the fallback with a way on.
fn answer(
    kb: &KnowledgeBase,
    mut state: State,
    phase: &Phase,
    text: &str,
    outcome: &Outcome,
    fallbacks: u8,
    mut out: Out,
) -> (State, Out) {
    if outcome.decision != Decision::Answer {
        out.effect(Effect::Record(unanswered(kb, text, outcome)));
    }
    match outcome.decision {
        Decision::Answer => {
            let entry = &kb.entries[outcome.answer().expect("an answer decision has an entry")];
            let next = nearest(kb, outcome, Some(entry.id.as_str()));
            let also = kb
                .also_offered(outcome)
                .map(|e| kb.entries[e].id.to_string());
            answer_entry(kb, state, phase, &entry.id.to_string(), next, also, out)
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
            let (prompt, none) = if options.len() == 1 {
                (texts::CLARIFY_ONE_PROMPT, texts::NOT_THIS)
            } else {
                (texts::CLARIFY_PROMPT, texts::NONE_OF_THESE)
            };
            options.push((none.to_string(), Action::NoneOfThese));
            if let Phase::Flow { .. } = phase {
                // The walk-through is one press away.
                options.push((texts::CONTINUE.to_string(), Action::Continue));
            }
            offer(state, prompt, options, out)
        }
        Decision::Fallback => {
            state.fallbacks = fallbacks.saturating_add(1);
            // Every other fallback in a row gives the human route, so no two in a row read the same.
            let again = fallbacks % 2 == 1;
            if let Phase::Flow { .. } = phase {
                // A nearby subject the bot does not handle (医保卡) gets its own pointer, not "not understood".
                let first = match outcome
                    .out_of_scope()
                    .and_then(|t| kb.topics[t].hint.as_deref())
                {
                    Some(hint) => hint.trim().to_string(),
                    None => texts::FALLBACK_IN_FLOW.to_string(),
                };
                out.push(Reply::Text(if again {
                    format!("{first}\n\n{}", texts::human_help(&state.facts))
                } else {
                    first
                }));
                return resume_or_stay(kb, state, phase, out);
            }
            let next = nearest(kb, outcome, None);
            if fallbacks >= 2 && !again {
                // The human route was given just before: a short note instead.
                out.push(Reply::Text(texts::FALLBACK_STILL.to_string()));
                offer_ways_on(kb, state, texts::FALLBACK_AGAIN_PROMPT, &next, out)
            } else if again {
                out.push(Reply::Text(format!(
                    "{}\n\n{}",
                    texts::FALLBACK_AGAIN,
                    texts::human_help(&state.facts)
                )));
                offer_ways_on(kb, state, texts::FALLBACK_AGAIN_PROMPT, &next, out)
            } else {
                out.push(Reply::Text(kb.fallback_text(outcome)));
                offer_ways_on(kb, state, texts::FALLBACK_PROMPT, &next, out)
            }
        }
    }
}

/// The entries nearest to a question, best first (at most three, small talk and `except` left out).
fn nearest(kb: &KnowledgeBase, outcome: &Outcome, except: Option<&str>) -> Vec<String> {
    outcome
        .candidates
        .iter()
        .filter_map(|c| match c.target {
            Target::Entry(e) if c.similarity > 0.0 => Some(kb.entries[e].id.to_string()),
            _ => None,
        })
        .filter(|id| Some(id.as_str()) != except && !SMALL_TALK.contains(&id.as_str()))
        .take(3)
        .collect()
}

/// Answers the entry a button named; one gone since (the knowledge was reloaded) gets the fallback.
fn answer_chosen(
    kb: &KnowledgeBase,
    state: State,
    phase: &Phase,
    id: &str,
    mut out: Out,
) -> (State, Out) {
    if kb.entry(id).is_some() {
        return answer_entry(kb, state, phase, id, Vec::new(), None, out);
    }
    out.push(Reply::Text(crate::knowledge::FALLBACK_TEXT.to_string()));
    resume_or(kb, state, phase, out, |kb, state, out| {
        offer_ways_on(kb, state, texts::FALLBACK_PROMPT, &[], out)
    })
}

/// Sends the answer of entry `id` and records it; nothing else.
fn answer_text(kb: &KnowledgeBase, state: State, id: &str, mut out: Out) -> (State, Out) {
    if let Some(entry) = kb.entry(id) {
        out.push(Reply::Text(entry.answer.clone()));
        out.effect(Effect::Record(Record::Answered {
            entry: id.to_string(),
        }));
    }
    (state, out)
}

/// Answers with entry `id`; mid-flow the current step comes again, otherwise the bot asks whether it
/// helped (👎 offers `next`), offers the entry's flow, and offers `also` (the next likeliest entry, when the
/// matcher found one likely enough) as one more button.
fn answer_entry(
    kb: &KnowledgeBase,
    state: State,
    phase: &Phase,
    id: &str,
    next: Vec<String>,
    also: Option<String>,
    out: Out,
) -> (State, Out) {
    let (state, out) = answer_text(kb, state, id, out);
    let flow = kb
        .entry(id)
        .and_then(|e| e.flow.as_deref())
        .and_then(|f| kb.flows.get(f));
    resume_or(kb, state, phase, out, |kb, state, out| {
        let mut options = Vec::new();
        if let Some(flow) = flow {
            options.push((
                flow.title.clone(),
                Action::StartFlow {
                    flow: flow.id.clone(),
                },
            ));
        }
        if SMALL_TALK.contains(&id) {
            return match flow {
                Some(_) => {
                    options.push((texts::NO_THANKS.to_string(), Action::Dismiss));
                    offer(state, texts::OFFER_PROMPT, options, out)
                }
                // A greeting is where a citizen who does not know what to type starts.
                None if id == GREETING => offer_ways_on(kb, state, texts::START_PROMPT, &[], out),
                None => (state, out),
            };
        }
        options.push((
            texts::HELPFUL.to_string(),
            Action::Helpful {
                entry: id.to_string(),
            },
        ));
        options.push((
            texts::NOT_HELPFUL.to_string(),
            Action::NotHelpful {
                entry: id.to_string(),
                next,
            },
        ));
        let prompt = if flow.is_some() {
            texts::OFFER_AND_FEEDBACK_PROMPT
        } else {
            texts::FEEDBACK_PROMPT
        };
        let prompt = match also.as_deref().and_then(|id| kb.entry(id)) {
            Some(other) => {
                // Last, so that the buttons above keep their numbers.
                options.push((
                    texts::also_label(other.canonical_question()),
                    Action::Instead {
                        entry: other.id.to_string(),
                        instead_of: id.to_string(),
                    },
                ));
                format!("{prompt}\n{}", texts::ALSO_PROMPT)
            }
            None => prompt.to_string(),
        };
        offer(state, &prompt, options, out)
    })
}

/// Buttons that lead on from a dead end: the `entries` given, the guided reset and 找人工.
fn offer_ways_on(
    kb: &KnowledgeBase,
    state: State,
    prompt: &str,
    entries: &[String],
    out: Out,
) -> (State, Out) {
    let mut options: Vec<(String, Action)> = entries
        .iter()
        .filter_map(|id| kb.entry(id))
        .map(|e| {
            (
                e.canonical_question().to_string(),
                Action::Answer {
                    entry: e.id.to_string(),
                },
            )
        })
        .collect();
    if let Some(flow) = kb.flows.get(RESET_FLOW) {
        options.push((
            flow.title.clone(),
            Action::StartFlow {
                flow: flow.id.clone(),
            },
        ));
    }
    options.push((texts::HUMAN.to_string(), Action::Human));
    offer(state, prompt, options, out)
}

/// Mid-flow, shows the current step again; otherwise does `idle`.
fn resume_or(
    kb: &KnowledgeBase,
    state: State,
    phase: &Phase,
    out: Out,
    idle: impl FnOnce(&KnowledgeBase, State, Out) -> (State, Out),
) -> (State, Out) {
    if let Phase::Flow { flow, step, back } = phase
        && let Some(f) = kb.flows.get(flow)
    {
        return show_step_after(state, f, step, back.clone(), Some(texts::RESUME), out);
    }
    idle(kb, state, out)
}

/// Mid-flow, shows the current step again; otherwise leaves whatever buttons are on screen.
fn resume_or_stay(kb: &KnowledgeBase, state: State, phase: &Phase, out: Out) -> (State, Out) {
    resume_or(kb, state, phase, out, |_, state, out| (state, out))
}

fn clear_menu(state: &mut State) {
    state.actions.clear();
    state.labels.clear();
}

fn start_flow(kb: &KnowledgeBase, mut state: State, flow_id: &str, mut out: Out) -> (State, Out) {
    match kb.flows.get(flow_id) {
        Some(flow) => {
            let known = texts::known_at_start(&state.facts);
            show_step_after(state, flow, &flow.start, None, known.as_deref(), out)
        }
        None => {
            out.push(Reply::Text(texts::NO_FLOW.to_string()));
            state.phase = Phase::Idle;
            clear_menu(&mut state);
            (state, out)
        }
    }
}

/// Moves to `step_id` of `flow` and shows it with its buttons. `@end` and `@back` targets are resolved
/// when the button is pressed, so `step_id` is always a real step here (validation guarantees it).
fn show_step(
    state: State,
    flow: &Flow,
    step_id: &str,
    back: Option<String>,
    out: Out,
) -> (State, Out) {
    show_step_after(state, flow, step_id, back, None, out)
}

/// Like [`show_step`], with `lead` before the step's text. A choice of app the citizen already made
/// ("支付宝上密码忘了") is taken: the bot goes on to that app's first step, with a button to change it.
fn show_step_after(
    mut state: State,
    flow: &Flow,
    step_id: &str,
    back: Option<String>,
    lead: Option<&str>,
    out: Out,
) -> (State, Out) {
    let Some(step) = flow.step(step_id) else {
        let mut out = out;
        out.push(Reply::Text(texts::STEP_GONE.to_string()));
        state.phase = Phase::Idle;
        clear_menu(&mut state);
        return (state, out);
    };
    // Only on the way in: a choice of app reached again from the help ("换个App再试") is a real choice.
    let entering = match &state.phase {
        Phase::Idle => true,
        Phase::Flow { flow: f, step, .. } => *f != flow.id || *step == flow.start,
    };
    if entering
        && let (Some(app), StepKind::Choice(options)) = (state.facts.app, &step.kind)
        && let Some(Goto::Step(target)) = options
            .iter()
            .find(|o| o.label == app.label())
            .map(|o| &o.goto)
        && let Some(first) = flow.step(target)
    {
        state.phase = Phase::Flow {
            flow: flow.id.clone(),
            step: first.id.clone(),
            back,
        };
        let mut options = step_options(first);
        options.push((
            texts::CHANGE_APP.to_string(),
            Action::ChangeApp {
                step: step.id.clone(),
            },
        ));
        let prompt = format!(
            "{}\n\n{}",
            texts::app_taken(app.label(), &state.facts),
            first.text
        );
        return offer(state, &prompt, options, out);
    }
    state.phase = Phase::Flow {
        flow: flow.id.clone(),
        step: step.id.clone(),
        back,
    };
    let options = step_options(step);
    let prompt = match lead {
        Some(lead) => format!("{lead}\n\n{}", step.text),
        None => step.text.clone(),
    };
    offer(state, &prompt, options, out)
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

/// Sends a new menu: it gets the next number, and its actions and labels replace the old ones.
fn offer(
    mut state: State,
    prompt: &str,
    options: Vec<(String, Action)>,
    mut out: Out,
) -> (State, Out) {
    state.menu = state.menu.wrapping_add(1);
    let (labels, actions): (Vec<String>, Vec<Action>) = options.into_iter().unzip();
    state.actions = actions;
    state.labels = labels.clone();
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
