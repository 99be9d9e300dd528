//! The dialogue engine driven directly: whole conversations as snapshot transcripts, and a property test.

use proptest::prelude::*;

use shebao::dialogue::{Effect, Input, Record, Reply, State, step};
use shebao::knowledge::KnowledgeBase;
use shebao::text::solicit::find_solicitation;

use crate::helpers::shipped;

/// A conversation with an injected clock, written down as a transcript.
struct Conversation {
    kb: KnowledgeBase,
    state: State,
    now: i64,
    transcript: String,
    /// Everything the bot said, to check it never repeats a secret.
    said: String,
    /// The options of the latest menu on screen.
    on_screen: Vec<String>,
}

/// What one turn produced: the replies (what `Said` derefs to) and the effects.
struct Said {
    replies: Vec<Reply>,
    effects: Vec<Effect>,
}

impl std::ops::Deref for Said {
    type Target = Vec<Reply>;

    fn deref(&self) -> &Vec<Reply> {
        &self.replies
    }
}

impl Conversation {
    fn new() -> Conversation {
        Conversation {
            kb: shipped(),
            state: State::default(),
            now: 1_750_000_000,
            transcript: String::new(),
            said: String::new(),
            on_screen: Vec::new(),
        }
    }

    fn send(&mut self, input: Input, shown: String) -> Said {
        self.transcript.push_str(&format!("> {shown}\n"));
        let (state, replies, effects) =
            step(&self.kb, std::mem::take(&mut self.state), input, self.now);
        self.state = state;
        // The chat is forgotten as the turn is stored, before the replies show; what is counted for the
        // staff is checked in tests of its own.
        if effects.contains(&Effect::Forget) {
            self.transcript.push_str("< (forget this chat)\n");
        }
        for reply in &replies {
            self.said.extend(reply_texts(reply));
            if let Reply::Choices { options, .. } = reply {
                self.on_screen = options.clone();
            }
            match reply {
                Reply::Text(t) => self
                    .transcript
                    .push_str(&format!("< {}\n", t.replace('\n', "\n  "))),
                Reply::Choices {
                    prompt, options, ..
                } => {
                    self.transcript
                        .push_str(&format!("< {}\n", prompt.replace('\n', "\n  ")));
                    for (n, o) in options.iter().enumerate() {
                        self.transcript.push_str(&format!("  [{}] {o}\n", n + 1));
                    }
                }
                Reply::DeleteUserMessage => {
                    self.transcript.push_str("< (delete the user's message)\n")
                }
            }
        }
        self.transcript.push('\n');
        Said { replies, effects }
    }

    fn say(&mut self, text: &str) -> Said {
        self.send(Input::Text(text.to_string()), text.to_string())
    }

    /// Presses the option whose label is `label` in the latest menu.
    fn press(&mut self, label: &str) -> Said {
        let (menu, index) = self.option(label);
        self.send(Input::Choice { menu, index }, format!("[{label}]"))
    }

    /// The menu number and index of `label` in the latest menu sent.
    fn option(&self, label: &str) -> (u32, usize) {
        let index = self
            .latest_options()
            .iter()
            .position(|o| o == label)
            .unwrap_or_else(|| {
                panic!(
                    "no option `{label}` in {:?}\n{}",
                    self.latest_options(),
                    self.transcript
                )
            });
        (self.state.menu, index)
    }

    fn latest_options(&self) -> Vec<String> {
        self.on_screen.clone()
    }

    fn wait(&mut self, seconds: i64) {
        self.now += seconds;
        self.transcript
            .push_str(&format!("(… {seconds} s later)\n\n"));
    }
}

#[test]
fn the_wechat_reset_walks_to_the_end() {
    let mut c = Conversation::new();
    c.say("电子社保卡密码忘了怎么办");
    c.press("一步步重置密码");
    c.press("好，开始");
    c.press("微信");
    for _ in 0..5 {
        c.press("完成，下一步");
    }
    c.press("成功了");
    c.press("好的，谢谢");
    assert_eq!(c.state.phase, shebao::dialogue::Phase::Idle);
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn the_alipay_reset_walks_to_the_end() {
    let mut c = Conversation::new();
    c.say("/reset");
    c.press("好，开始");
    c.press("支付宝");
    for _ in 0..5 {
        c.press("完成，下一步");
    }
    c.press("成功了");
    c.press("好的，谢谢");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_failing_face_scan_leads_to_the_offline_route() {
    let mut c = Conversation::new();
    c.say("/reset");
    c.press("好，开始");
    c.press("掌上12333");
    c.press("完成，下一步");
    c.press("遇到问题");
    c.press("人脸识别失败");
    c.press("去线下办理");
    c.press("知道了");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn help_from_the_problem_menu_comes_back_to_the_same_step() {
    let mut c = Conversation::new();
    c.say("/reset");
    c.press("好，开始");
    c.press("支付宝");
    c.press("完成，下一步");
    let at = c.state.phase.clone();
    c.press("遇到问题");
    c.press("收不到验证码/换号");
    c.press("回到刚才那一步");
    assert_eq!(c.state.phase, at);
}

#[test]
fn a_question_mid_flow_is_answered_and_the_flow_resumes_at_the_same_step() {
    let mut c = Conversation::new();
    c.say("/reset");
    c.press("好，开始");
    c.press("微信");
    c.press("完成，下一步");
    let at = c.state.phase.clone();
    c.say("密码是几位数");
    assert_eq!(c.state.phase, at, "the flow waits where it was");
    assert_eq!(
        c.on_screen,
        ["完成，下一步", "遇到问题", "退出"],
        "the same step again"
    );
    c.press("完成，下一步");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn an_outdated_button_gets_a_note_and_the_current_step_again() {
    let mut c = Conversation::new();
    c.say("/reset");
    let (old_menu, start) = c.option("好，开始");
    c.press("好，开始");
    c.press("国家政务服务平台");
    c.send(
        Input::Choice {
            menu: old_menu,
            index: start,
        },
        "[好，开始] (an older message)".into(),
    );
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn an_idle_flow_expires_and_the_next_message_starts_fresh() {
    let mut c = Conversation::new();
    c.say("/reset");
    c.press("好，开始");
    c.press("微信");
    let (menu, index) = c.option("完成，下一步");
    c.wait(31 * 60);
    c.send(Input::Choice { menu, index }, "[完成，下一步]".into());
    assert_eq!(c.state.phase, shebao::dialogue::Phase::Idle);
    c.say("怎么修改密码");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_flow_within_the_timeout_does_not_expire() {
    let mut c = Conversation::new();
    c.say("/reset");
    c.press("好，开始");
    c.wait(29 * 60);
    c.press("微信");
    assert!(matches!(
        c.state.phase,
        shebao::dialogue::Phase::Flow { .. }
    ));
}

#[test]
fn a_secret_typed_mid_flow_is_deleted_and_warned_about_and_the_flow_waits() {
    let mut c = Conversation::new();
    c.say("/reset");
    c.press("好，开始");
    c.press("微信");
    let at = c.state.phase.clone();
    let replies = c.say("我的密码是 135 792，对吗");
    assert!(replies.contains(&Reply::DeleteUserMessage));
    assert!(!c.said.contains("135") && !c.said.contains("792"));
    assert_eq!(c.state.phase, at);
    c.say("验证码 482913 填哪里");
    assert!(!c.said.contains("482913"));
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_question_around_a_secret_is_still_answered() {
    let mut c = Conversation::new();
    let replies = c.say("用123456当密码可以吗");
    assert!(replies.contains(&Reply::DeleteUserMessage));
    let kb = shipped();
    let answer = &kb.entry("choose_strong_pin").unwrap().answer;
    assert!(
        replies.contains(&Reply::Text(answer.clone())),
        "{}",
        c.transcript
    );
}

#[test]
fn start_help_privacy_and_forget() {
    let mut c = Conversation::new();
    c.say("/start");
    c.say("/help");
    c.say("/privacy");
    c.say("/reset");
    let replies = c.say("/forget");
    assert!(replies.effects.contains(&Effect::Forget));
    assert_eq!(c.state.phase, shebao::dialogue::Phase::Idle);
    c.say("/cancel");
    c.say("/nosuchcommand");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_question_too_close_to_call_offers_the_candidates_and_answers_the_chosen_one() {
    // Two entries sharing a question (which `check` would refuse) make a question they fit equally.
    let mut kb = shipped();
    let shared = "社保卡里那个密码的事情".to_string();
    for id in ["thanks", "greeting"] {
        let e = kb.entry_index(id).unwrap();
        kb.entries[e].questions.push(shared.clone());
    }
    let entries: Vec<Vec<String>> = kb.entries.iter().map(|e| e.questions.clone()).collect();
    let topics: Vec<Vec<String>> = kb.topics.iter().map(|t| t.questions.clone()).collect();
    kb.matcher = shebao::matcher::Matcher::new(kb.matcher.normalizer().clone(), &entries, &topics);
    let question = "社保卡里那个密码的事情";
    assert_eq!(
        kb.ask(question).decision,
        shebao::matcher::Decision::Clarify,
        "{:?}",
        kb.ask(question)
    );

    let mut c = Conversation::new();
    c.kb = kb;
    let replies = c.say(question);
    let Some(Reply::Choices { options, .. }) = replies.last() else {
        panic!("{}", c.transcript)
    };
    assert_eq!(options.len(), 3, "{options:?}");
    assert_eq!(options.last().unwrap(), "都不是");
    let greeting_first = options[0] == c.kb.entry("greeting").unwrap().canonical_question();
    assert!(
        greeting_first || options[1] == c.kb.entry("greeting").unwrap().canonical_question(),
        "{options:?}"
    );
    let thanks =
        c.kb.entry("thanks")
            .unwrap()
            .canonical_question()
            .to_string();
    let replies = c.press(&thanks);
    assert_eq!(
        replies.first(),
        Some(&Reply::Text(c.kb.entry("thanks").unwrap().answer.clone()))
    );
}

#[test]
fn every_step_of_the_shipped_flow_can_be_shown() {
    let kb = shipped();
    for flow in &kb.flows.flows {
        for s in &flow.steps {
            let state = State {
                phase: shebao::dialogue::Phase::Flow {
                    flow: flow.id.clone(),
                    step: s.id.clone(),
                    back: None,
                },
                last_active: 0,
                ..State::default()
            };
            let (_, replies, _) = step(
                &kb,
                state,
                Input::Choice {
                    menu: 999,
                    index: 0,
                },
                1,
            );
            assert!(
                matches!(replies.last(), Some(Reply::Choices { .. })),
                "{}",
                s.id
            );
        }
    }
}

/// Inputs a citizen might send: questions, commands, secrets in many forms, buttons (often stale).
fn input() -> impl Strategy<Value = Input> {
    let texts = prop::sample::select(vec![
        "电子社保卡密码忘了怎么办",
        "密码被锁了",
        "你好",
        "谢谢",
        "医保卡怎么激活",
        "人脸识别失败",
        "/start",
        "/reset",
        "/cancel",
        "/help",
        "/privacy",
        "/forget",
        "/unknown",
        "",
        "😀😀",
        "\u{200b}\u{202e}abc",
    ]);
    prop_oneof![
        texts.prop_map(|t| Input::Text(t.to_string())),
        secret().prop_map(|(_, text)| Input::Text(text)),
        (0u32..40, 0usize..8).prop_map(|(menu, index)| Input::Choice { menu, index }),
    ]
}

/// A secret and a message carrying it, in ASCII, full-width, spaced or Chinese numerals.
fn secret() -> impl Strategy<Value = (String, String)> {
    (100_000u32..999_999, 0usize..5, 0usize..4).prop_map(|(n, form, frame)| {
        let digits = n.to_string();
        let written = match form {
            0 => digits.clone(),
            1 => digits
                .chars()
                .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
                .collect(),
            2 => format!("{} {}", &digits[..3], &digits[3..]),
            3 => digits
                .chars()
                .map(|c| {
                    "零一二三四五六七八九"
                        .chars()
                        .nth(c as usize - '0' as usize)
                        .unwrap()
                })
                .collect(),
            _ => format!("138{}{}", &digits[..4], &digits[2..6]),
        };
        let text = match frame {
            0 => written.clone(),
            1 => format!("我的密码是{written}"),
            2 => format!("验证码{written}怎么用"),
            _ => format!("用{written}当密码可以吗"),
        };
        (digits, text)
    })
}

fn reply_texts(reply: &Reply) -> Vec<String> {
    match reply {
        Reply::Text(t) => vec![t.clone()],
        Reply::Choices {
            prompt, options, ..
        } => std::iter::once(prompt.clone())
            .chain(options.iter().cloned())
            .collect(),
        Reply::DeleteUserMessage => Vec::new(),
    }
}

/// The text an effect keeps for the staff's review, which must not hold a secret either.
fn effect_texts(effect: &Effect) -> Vec<String> {
    match effect {
        Effect::Record(Record::Unanswered(u)) => vec![u.text.to_string(), u.normalized.to_string()],
        Effect::Record(_) | Effect::Forget => Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_conversations_never_panic_always_reply_never_echo_secrets_never_ask_for_them(
        inputs in prop::collection::vec((input(), 0i64..3000), 1..25),
        secrets in prop::collection::vec(secret(), 0..4),
    ) {
        let kb = shipped();
        let mut state = State::default();
        let mut now = 1_750_000_000;
        let mut sent: Vec<(Input, String)> = inputs.into_iter().map(|(i, dt)| { now += dt; (i, String::new()) }).collect();
        // Interleave the generated secrets with the other inputs.
        for (k, (digits, text)) in secrets.into_iter().enumerate() {
            let at = (k * 7) % (sent.len() + 1);
            sent.insert(at, (Input::Text(text), digits));
        }
        let mut now = 1_750_000_000;
        for (input, digits) in sent {
            now += 61;
            let (next, replies, effects) = step(&kb, state, input, now);
            state = next;
            prop_assert!(
                replies.iter().any(|r| matches!(r, Reply::Text(_) | Reply::Choices { .. })),
                "no visible reply: {replies:?}"
            );
            for text in replies.iter().flat_map(reply_texts) {
                if !digits.is_empty() {
                    prop_assert!(!text.contains(&digits), "reply echoes a secret: {text}");
                }
                prop_assert!(find_solicitation(&text).is_none(), "reply asks for a secret: {text}");
            }
            // A record holds the user's own words, which the bot never sends: only checked for the digits.
            for text in effects.iter().flat_map(effect_texts) {
                if !digits.is_empty() {
                    prop_assert!(!text.contains(&digits), "record echoes a secret: {text}");
                }
            }
        }
    }
}

/// The records among a turn's effects.
fn records(said: &Said) -> Vec<Record> {
    said.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(record) => Some(record.clone()),
            Effect::Forget => None,
        })
        .collect()
}

#[test]
fn answers_fallbacks_completed_flows_and_intercepted_secrets_are_recorded_for_the_staff() {
    let mut c = Conversation::new();
    assert_eq!(
        records(&c.say("电子社保卡密码忘了怎么办")),
        [Record::Answered {
            entry: "forgot_pin".into()
        }]
    );
    let fallback = records(&c.say("今天天气怎么样啊"));
    let [Record::Unanswered(u)] = fallback.as_slice() else {
        panic!("{fallback:?}");
    };
    assert_eq!(u.decision, shebao::matcher::Decision::Fallback);
    assert_eq!(u.text, "今天天气怎么样啊");
    assert_eq!(u.normalized, c.kb.ask("今天天气怎么样啊").normalized);

    c.say("/reset");
    c.press("好，开始");
    c.press("微信");
    for _ in 0..5 {
        assert!(records(&c.press("完成，下一步")).is_empty());
    }
    assert_eq!(
        records(&c.press("成功了")),
        [Record::FlowCompleted {
            flow: "reset_pin".into()
        }]
    );
    assert_eq!(
        records(&c.say("我的密码是 864209")),
        [Record::SecretIntercepted]
    );
}

#[test]
fn a_question_with_a_secret_that_gets_no_answer_is_kept_masked() {
    let mut c = Conversation::new();
    let replies = c.say("我手机13912345678，密码123456，医保卡能报销多少");
    let kept = records(&replies);
    assert_eq!(kept[0], Record::SecretIntercepted, "{kept:?}");
    let Record::Unanswered(u) = &kept[1] else {
        panic!("{kept:?}");
    };
    assert_eq!(u.text, "我手机******，密码******，医保卡能报销多少");
    assert!(!u.normalized.contains("139") && !u.normalized.contains("123456"));
    assert_eq!(
        u.top.as_deref(),
        Some("out_of_scope:medical_insurance"),
        "the nearby subject that caused the fallback"
    );
    // A secret alone is no question: nothing to review.
    assert_eq!(
        records(&c.say("我的密码是 864209")),
        [Record::SecretIntercepted]
    );
}

#[test]
fn a_flow_whose_step_disappeared_in_a_reload_restarts_with_a_short_note() {
    let mut c = Conversation::new();
    c.say("/reset");
    c.press("好，开始");
    c.press("微信");
    c.press("完成，下一步");
    assert!(
        matches!(&c.state.phase, shebao::dialogue::Phase::Flow { step, .. } if step == "wechat_2")
    );

    // The editors rename the step the conversation is at.
    let dir = crate::helpers::KnowledgeDir::shipped();
    let flows = dir.read("flows.yaml").replace("wechat_2", "wechat_two");
    dir.write("flows.yaml", &flows);
    c.kb = KnowledgeBase::from_dir(dir.path()).unwrap();

    let replies = c.press("完成，下一步");
    assert_eq!(
        replies.first(),
        Some(&Reply::Text(shebao::dialogue::texts::STEP_GONE.to_string())),
        "{}",
        c.transcript
    );
    let intro = &c
        .kb
        .flows
        .get("reset_pin")
        .unwrap()
        .step("intro")
        .unwrap()
        .text;
    assert!(
        matches!(replies.last(), Some(Reply::Choices { prompt, .. }) if prompt == intro),
        "{}",
        c.transcript
    );
}

// Issue 11: a conversation that never leaves a citizen stuck.

/// Says each line in turn, for transcripts where the citizen only types.
fn type_lines(c: &mut Conversation, lines: &[&str]) {
    for line in lines {
        c.say(line);
    }
}

fn at_step(c: &Conversation) -> String {
    match &c.state.phase {
        shebao::dialogue::Phase::Flow { step, .. } => step.clone(),
        shebao::dialogue::Phase::Idle => "(idle)".into(),
    }
}

#[test]
fn typed_numbers_labels_and_words_walk_the_whole_reset() {
    let mut c = Conversation::new();
    let steps: Vec<(&str, &str)> = vec![
        ("/reset", "intro"),
        ("好", "choose_app"),
        ("二", "alipay_1"),
        ("1.", "alipay_2"),
        ("[1]", "alipay_3"),
        ("好了", "alipay_4"),
        ("下一步", "alipay_5"),
        ("第一个", "did_it_work"),
        ("成功了", "success_tips"),
        ("好的，谢谢", "(idle)"),
    ];
    for (line, step) in steps {
        c.say(line);
        assert_eq!(at_step(&c), step, "after `{line}`\n{}", c.transcript);
    }
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn every_digit_script_and_form_presses_the_option_it_names() {
    for typed in ["2", "２", "二", "2.", "[2]", "【2】", "第二个", "选2", "②"] {
        let mut c = Conversation::new();
        type_lines(&mut c, &["/reset", "好，开始", typed]);
        assert_eq!(at_step(&c), "alipay_1", "`{typed}`\n{}", c.transcript);
    }
}

#[test]
fn a_short_message_naming_one_label_presses_it_but_not_its_negation() {
    for (typed, step) in [
        ("选微信", "wechat_1"),
        ("我用手机银行", "bank_1"),
        ("云闪付", "bank_1"),
        ("不确定", "unsure"),
        ("确定", "choose_app"),
    ] {
        let mut c = Conversation::new();
        type_lines(&mut c, &["/reset", "好，开始", typed]);
        assert_eq!(at_step(&c), step, "`{typed}`\n{}", c.transcript);
    }
}

#[test]
fn the_first_step_is_taken_however_a_citizen_says_go() {
    for (typed, step) in [
        ("开始吧", "choose_app"),
        ("开始重置", "choose_app"),
        ("我准备好了", "choose_app"),
        ("可以", "choose_app"),
        ("微信", "wechat_1"),
        ("先不用了", "(idle)"),
    ] {
        let mut c = Conversation::new();
        type_lines(&mut c, &["/reset", typed]);
        assert_eq!(at_step(&c), step, "`{typed}`\n{}", c.transcript);
    }
}

#[test]
fn typed_quit_back_never_mind_and_it_failed_do_what_their_buttons_do() {
    let mut c = Conversation::new();
    type_lines(&mut c, &["/reset", "好，开始", "微信", "不行啊"]);
    assert_eq!(
        at_step(&c),
        "problems",
        "不行 is 遇到问题 on a walk-through step"
    );
    c.say("返回");
    assert_eq!(at_step(&c), "wechat_1");
    for _ in 0..5 {
        c.say("完成了");
    }
    assert_eq!(at_step(&c), "did_it_work");
    c.say("不行");
    assert_eq!(
        at_step(&c),
        "offline_route",
        "不行 is 没成功 when asked whether it worked"
    );
    c.say("换个App再试");
    c.say("支付宝");
    for _ in 0..5 {
        c.say("好了");
    }
    c.say("是的");
    assert_eq!(at_step(&c), "success_tips", "是的 answers 成功了吗？");
    c.say("/reset");
    c.say("算了");
    assert_eq!(at_step(&c), "(idle)");
    c.say("密码忘了怎么办");
    c.say("退出");
    assert!(
        !c.transcript.contains("失业"),
        "退出 is never read as a question about 退休/失业"
    );
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn an_option_number_not_on_screen_gets_the_choices_again_not_the_same_text() {
    let mut c = Conversation::new();
    type_lines(&mut c, &["今天天气怎么样啊", "9"]);
    assert!(
        c.on_screen.contains(&"找人工".to_string()),
        "the choices are there again: {:?}",
        c.on_screen
    );
    c.say("/reset");
    c.say("7");
    assert_eq!(at_step(&c), "intro");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_clear_question_is_answered_while_options_are_on_screen() {
    let mut c = Conversation::new();
    type_lines(&mut c, &["/reset", "好，开始"]);
    let replies = c.say("密码是几位数");
    let answer = c.kb.entry("pin_format").unwrap().answer.clone();
    assert!(replies.contains(&Reply::Text(answer)), "{}", c.transcript);
    assert_eq!(at_step(&c), "choose_app");
}

#[test]
fn what_was_said_is_not_asked_again() {
    let mut c = Conversation::new();
    c.say("支付宝上社保卡密码忘了");
    c.say("一步步重置");
    c.say("好");
    assert_eq!(
        at_step(&c),
        "alipay_1",
        "the app named first is taken\n{}",
        c.transcript
    );
    assert!(c.on_screen.contains(&"不是，换个App".to_string()));
    c.say("不是，换个App");
    assert_eq!(at_step(&c), "choose_app");
    c.say("微信");
    assert_eq!(at_step(&c), "wechat_1");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn an_app_named_mid_flow_switches_to_its_steps_unless_they_are_the_ones_walked() {
    let mut c = Conversation::new();
    type_lines(
        &mut c,
        &["/reset", "好，开始", "微信", "下一步", "我用的是微信"],
    );
    assert_eq!(at_step(&c), "wechat_2", "the same app: the same step");
    c.say("我用的是支付宝");
    assert_eq!(at_step(&c), "alipay_1", "{}", c.transcript);
    assert!(c.on_screen.contains(&"不是，换个App".to_string()));
}

#[test]
fn a_statement_of_fact_is_noted_and_shapes_the_help_that_follows() {
    let mut c = Conversation::new();
    type_lines(&mut c, &["我用的是微信", "原来的号码停机了", "找人工"]);
    let said = c.said.clone();
    assert!(said.contains("您用的是微信"), "{said}");
    assert!(
        said.contains("12333") && said.contains("可以这样说"),
        "{said}"
    );
    assert!(said.contains("我在微信里用电子社保卡"), "{said}");
    assert!(said.contains("停用"), "{said}");
    assert!(c.state.facts.old_number_stopped);
    c.say("/reset");
    c.say("好");
    assert_eq!(at_step(&c), "wechat_1");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn the_facts_kept_are_enums_never_the_citizens_words() {
    let mut c = Conversation::new();
    c.say("我在支付宝里用，号码停机了，密码也锁了，张阿姨家的");
    let json = serde_json::to_string(&c.state).unwrap();
    assert!(!json.contains("张") && !json.contains("停机"), "{json}");
    assert!(c.state.facts.locked && c.state.facts.old_number_stopped);
}

#[test]
fn every_fallback_offers_the_nearest_entries_the_reset_and_a_person() {
    let mut c = Conversation::new();
    let replies = c.say("帮帮我吧");
    let Some(Reply::Choices { options, .. }) = replies.last() else {
        panic!("a fallback without buttons\n{}", c.transcript);
    };
    assert!(options.len() >= 3, "{options:?}");
    assert!(options.contains(&"一步步重置密码".to_string()));
    assert_eq!(options.last().unwrap(), "找人工");
    c.say("1");
    assert!(
        records(&c.say("今天天气怎么样啊"))
            .iter()
            .any(|r| matches!(r, Record::Unanswered(_))),
        "fallbacks still reach the staff"
    );
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_second_fallback_in_a_row_changes_its_words_and_leads_to_a_person() {
    let mut c = Conversation::new();
    let first = c.say("今天天气怎么样啊");
    let second = c.say("明天会下雨吗");
    let text = |replies: &[Reply]| {
        replies
            .iter()
            .filter_map(|r| match r {
                Reply::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect::<String>()
    };
    assert_ne!(text(&first), text(&second));
    assert!(text(&second).contains("12333") && text(&second).contains("可以这样说"));
    assert!(matches!(second.last(), Some(Reply::Choices { .. })));
    let mut last = text(&second);
    for again in ["后天呢", "大后天呢", "下周呢", "下个月呢"] {
        let replies = c.say(again);
        assert_ne!(text(&replies), last, "never the same text twice in a row");
        assert!(matches!(replies.last(), Some(Reply::Choices { .. })));
        last = text(&replies);
    }
    c.say("找人工");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_pasted_scam_message_gets_the_warning_first_and_a_way_to_the_steps() {
    let mut c = Conversation::new();
    let replies = c.say("【人社局】您的电子社保卡未报备将被注销，请点击 http://sb-xx.top 办理");
    let warning = c.kb.entry("phishing_scam").unwrap().answer.clone();
    assert_eq!(
        replies.iter().find(|r| matches!(r, Reply::Text(_))),
        Some(&Reply::Text(warning))
    );
    c.say("我已经点了/输了密码");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_citizen_who_already_acted_gets_concrete_steps_in_order() {
    for typed in [
        "我已经点开了还输了密码",
        "怎么报警",
        "验证码给了那个人怎么办",
    ] {
        let mut c = Conversation::new();
        c.say(typed);
        let steps = &c.kb.entry("scam_already_acted").unwrap().answer;
        assert!(
            c.said.contains(steps.as_str()),
            "`{typed}`\n{}",
            c.transcript
        );
        let order: Vec<usize> = ["改密码", "打银行", "报警", "打12333"]
            .iter()
            .map(|w| steps.find(w).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }
    let mut c = Conversation::new();
    type_lines(
        &mut c,
        &["/reset", "好，开始", "微信", "我点了短信里的链接还输了密码"],
    );
    assert_eq!(at_step(&c), "wechat_1", "mid-flow, the step comes again");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn a_lure_told_as_already_fallen_for_gets_the_steps_and_a_pin_frozen_by_tries_is_no_scam() {
    let steps = |c: &Conversation| c.kb.entry("scam_already_acted").unwrap().answer.clone();
    let warning = |c: &Conversation| c.kb.entry("phishing_scam").unwrap().answer.clone();
    let mut c = Conversation::new();
    c.say("短信说社保卡要升级，我照着链接把银行卡号和身份证都填上去了，现在怎么补救");
    assert!(c.said.contains(steps(&c).as_str()), "{}", c.transcript);
    let mut c = Conversation::new();
    c.say("短信说我的电子社保卡被冻结了要点链接解冻");
    assert!(c.said.contains(warning(&c).as_str()), "{}", c.transcript);
    let mut c = Conversation::new();
    c.say("电子社保卡密码连着输错几次被冻结了怎么解冻");
    assert!(
        c.said
            .contains(c.kb.entry("pin_locked").unwrap().answer.as_str()),
        "{}",
        c.transcript
    );
    assert!(!c.said.contains(warning(&c).as_str()), "{}", c.transcript);
}

#[test]
fn trouble_typed_mid_flow_goes_to_the_flows_help_for_that_step() {
    let mut c = Conversation::new();
    type_lines(&mut c, &["/reset", "好，开始", "微信", "下一步", "下一步"]);
    assert_eq!(at_step(&c), "wechat_3");
    c.say("找不到重置密码在哪");
    assert_eq!(at_step(&c), "no_entry");
    c.say("回到刚才那一步");
    assert_eq!(at_step(&c), "wechat_3");
    c.say("下一步");
    c.say("刷脸刷不过去");
    assert_eq!(at_step(&c), "face_fail");
    c.say("1");
    assert_eq!(at_step(&c), "wechat_4");
    c.say("验证码一直收不到");
    assert_eq!(at_step(&c), "no_sms");
    c.say("返回");
    assert_eq!(
        at_step(&c),
        "wechat_4",
        "back to the step, not to the first help"
    );
    c.say("下一步");
    c.say("下一步");
    assert_eq!(at_step(&c), "did_it_work");
    c.say("刷脸不过");
    c.say("回到刚才那一步");
    assert_eq!(
        at_step(&c),
        "did_it_work",
        "a choice step is come back to as well"
    );
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn small_talk_gets_a_kind_word_and_mid_flow_the_step_again() {
    let mut c = Conversation::new();
    type_lines(&mut c, &["好的", "嗯", "👍", "🙏", "谢谢啦", "哈哈"]);
    assert!(!c.said.contains("答不上来"), "{}", c.transcript);
    c.say("密码忘了怎么办");
    let kept = records(&c.say("好的"));
    assert_eq!(at_step(&c), "(idle)", "好的 under an answer starts nothing");
    assert!(kept.is_empty(), "and is no 👍: {kept:?}");
    type_lines(&mut c, &["/reset", "好，开始", "微信"]);
    for talk in ["好的", "嗯", "👍", "🙏", "谢谢啦", "哈哈"] {
        let replies = c.say(talk);
        assert_eq!(at_step(&c), "wechat_1", "`{talk}`");
        assert!(
            matches!(replies.last(), Some(Reply::Choices { options, .. }) if options[0] == "完成，下一步"),
            "`{talk}`\n{}",
            c.transcript
        );
    }
    assert!(!c.said.contains("答不上来"), "{}", c.transcript);
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn thumbs_up_and_down_are_recorded_and_a_thumbs_down_offers_the_next_candidates() {
    let mut c = Conversation::new();
    c.say("怎么修改密码");
    assert!(
        c.on_screen.contains(&"👍 有帮助".to_string()),
        "{:?}",
        c.on_screen
    );
    assert_eq!(
        records(&c.press("👍 有帮助")),
        [Record::Feedback {
            entry: "change_pin".into(),
            helpful: true
        }]
    );
    c.say("密码忘了怎么办");
    let kept = records(&c.say("👎"));
    assert_eq!(
        kept,
        [Record::Feedback {
            entry: "forgot_pin".into(),
            helpful: false
        }]
    );
    assert!(c.on_screen.len() >= 3, "{:?}", c.on_screen);
    assert_eq!(c.on_screen.last().unwrap(), "找人工");
    assert!(
        !c.on_screen.contains(
            &c.kb
                .entry("forgot_pin")
                .unwrap()
                .canonical_question()
                .to_string()
        )
    );
    c.press("找人工");
    insta::assert_snapshot!(c.transcript);
}

#[test]
fn an_answer_with_a_likely_runner_up_offers_it_as_the_last_button() {
    let mut c = Conversation::new();
    // 网点 leans to the offline reset, so that entry answers; the in-app reset is likely enough to stand
    // one tap away.
    let said = c.say("密码丢了网点能弄吗");
    assert_eq!(
        records(&said),
        [Record::Answered {
            entry: "reset_offline".into()
        }]
    );
    let forgot =
        c.kb.entry("forgot_pin")
            .unwrap()
            .canonical_question()
            .to_string();
    let button = format!("👉 {forgot}");
    // 👍 and 👎 keep their numbers; the other entry comes last.
    assert_eq!(c.on_screen, ["👍 有帮助", "👎 没帮助", button.as_str()]);
    // Typing its number presses it, as with any button; the answer passed over counts as one that did not
    // fit, for the staff's list of answers marked 👎.
    let said = c.say("3");
    assert_eq!(
        records(&said),
        [
            Record::Feedback {
                entry: "reset_offline".into(),
                helpful: false
            },
            Record::Answered {
                entry: "forgot_pin".into()
            }
        ]
    );
    assert!(c.transcript.contains("忘了密码不用急"), "{}", c.transcript);
    // A clear question has no second entry to offer.
    c.say("怎么修改密码");
    assert!(
        !c.on_screen.iter().any(|o| o.starts_with("👉")),
        "{:?}",
        c.on_screen
    );
}

/// Messages a citizen may type in the middle of a walk-through.
fn typed_mid_flow() -> impl Strategy<Value = String> {
    let lines = prop::sample::select(vec![
        "好",
        "好的",
        "好了",
        "嗯",
        "👍",
        "🙏",
        "谢谢啦",
        "哈哈",
        "下一步",
        "完成了",
        "不行",
        "不行啊",
        "退出",
        "返回",
        "算了",
        "1",
        "２",
        "三",
        "9",
        "[1]",
        "第一个",
        "找不到",
        "刷脸刷不过去",
        "收不到验证码",
        "密码锁了",
        "密码是几位数",
        "怎么修改密码",
        "今天天气怎么样啊",
        "医保卡怎么激活",
        "???",
        "😀",
        "我用支付宝",
        "号码停机了",
        "找人工",
        "我已经点开了还输了密码",
        "http://x.top",
        "asdf",
        "不是",
        "都不是",
        "成功了",
        "没成功",
        "我的密码是 864209",
    ]);
    prop_oneof![
        4 => lines.prop_map(str::to_string),
        1 => "[\\p{Han}]{1,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever is typed mid-flow, the reply advances the flow, answers and shows the current step
    /// again, or shows the current step again: it always ends with buttons, never a bare fallback.
    #[test]
    fn whatever_is_typed_mid_flow_the_reply_ends_with_buttons(
        walk in 0usize..6,
        typed in prop::collection::vec(typed_mid_flow(), 1..6),
    ) {
        let kb = shipped();
        let mut state = State::default();
        let mut now = 1_750_000_000;
        for line in ["/reset", "好，开始", "微信"] {
            state = step(&kb, state, Input::Text(line.into()), now).0;
        }
        for _ in 0..walk {
            now += 10;
            let menu = state.menu;
            state = step(&kb, state, Input::Choice { menu, index: 0 }, now).0;
        }
        for line in typed {
            let before = state.phase.clone();
            if before == shebao::dialogue::Phase::Idle {
                break;
            }
            now += 10;
            let (next, replies, effects) = step(&kb, state, Input::Text(line.clone()), now);
            state = next;
            let left = state.phase == shebao::dialogue::Phase::Idle;
            // In the flow, the reply ends with the step it is at (the same one, or the next), or with a
            // question asked back that has a button back to it.
            if let shebao::dialogue::Phase::Flow { step: at, .. } = &state.phase {
                let text = &kb.flows.get("reset_pin").unwrap().step(at).unwrap().text;
                let Some(Reply::Choices { prompt, options, .. }) = replies.last() else {
                    return Err(TestCaseError::fail(format!("`{line}` at {before:?} got no buttons: {replies:?}")));
                };
                prop_assert!(
                    prompt.ends_with(text.as_str()) || options.iter().any(|o| o == shebao::dialogue::texts::CONTINUE),
                    "`{line}` at {before:?} did not show the step again: {replies:?}"
                );
            }
            // Left only through the buttons' own words, never by a fallback.
            if left {
                prop_assert!(
                    replies.iter().any(|r| matches!(r, Reply::Text(t) if t == shebao::dialogue::texts::FLOW_LEFT))
                        || effects.iter().any(|e| matches!(e, Effect::Record(Record::FlowCompleted { .. })))
                        || matches!(line.as_str(), "好的" | "好" | "谢谢啦" | "🙏" | "👍" | "好了" | "完成了" | "成功了"),
                    "`{line}` left the flow at {before:?}: {replies:?}"
                );
            }
        }
    }
}

#[test]
fn the_reset_typed_in_part_or_in_a_sentence_starts_it_whatever_is_on_screen() {
    for typed in ["一步步重置", "一步步重置密码", "我想一步步重置密码"] {
        let mut c = Conversation::new();
        type_lines(&mut c, &["密码被锁了", typed]);
        assert_eq!(at_step(&c), "intro", "{typed}\n{}", c.transcript);
    }
}

#[test]
fn asking_whether_a_password_may_be_shared_is_not_harm_done() {
    let mut c = Conversation::new();
    c.say("可以把密码告诉别人吗");
    assert!(
        !c.transcript.contains("别慌，按这个顺序马上做"),
        "{}",
        c.transcript
    );
    let mut c = Conversation::new();
    c.say("我把密码告诉对方了怎么办");
    assert!(
        c.transcript.contains("别慌，按这个顺序马上做"),
        "{}",
        c.transcript
    );
}

#[test]
fn a_step_that_asks_the_matcher_gives_its_reading_of_the_masked_text_and_a_command_gives_none() {
    use shebao::dialogue::step_reading;
    let kb = shipped();
    let question = "我的身份证号110101199003078515，电子社保卡密码忘了怎么办";
    let (_, _, _, reading) = step_reading(&kb, State::default(), Input::Text(question.into()), 0);
    let reading = reading.expect("a question is read by the matcher");
    assert!(
        !reading.text.contains("110101199003078515"),
        "{}",
        reading.text
    );
    assert_eq!(reading.outcome, kb.ask(&reading.text));
    let (_, _, _, reading) = step_reading(
        &kb,
        State::default(),
        Input::Command(shebao::dialogue::Command::Start),
        0,
    );
    assert!(reading.is_none());
}

/// The state after the bot asked back with `entries` as buttons and the none-of-these button last, as
/// it does below the answer confidence.
fn asked_back(c: &mut Conversation, entries: &[&str]) {
    use shebao::dialogue::{Action, texts};
    let mut actions: Vec<Action> = entries
        .iter()
        .map(|e| Action::Answer {
            entry: e.to_string(),
        })
        .collect();
    let mut labels: Vec<String> = entries
        .iter()
        .map(|e| c.kb.entry(e).unwrap().canonical_question().to_string())
        .collect();
    actions.push(Action::NoneOfThese);
    labels.push(
        if entries.len() == 1 {
            texts::NOT_THIS
        } else {
            texts::NONE_OF_THESE
        }
        .to_string(),
    );
    c.state.actions = actions;
    c.state.labels = labels.clone();
    c.on_screen = labels;
}

#[test]
fn a_question_asked_back_with_one_entry_is_answered_by_a_typed_yes_and_declined_by_a_typed_no() {
    let mut c = Conversation::new();
    asked_back(&mut c, &["pin_locked"]);
    let said = c.say("是的");
    assert_eq!(
        records(&said),
        [Record::Answered {
            entry: "pin_locked".into()
        }],
        "{}",
        c.transcript
    );
    asked_back(&mut c, &["pin_locked"]);
    let said = c.say("不是");
    assert!(records(&said).is_empty(), "{}", c.transcript);
    assert!(
        said.iter().any(
            |r| matches!(r, Reply::Text(t) if t == shebao::dialogue::texts::NONE_OF_THESE_REPLY)
        ),
        "{}",
        c.transcript
    );
    // With two entries a yes says which of them, not which one.
    asked_back(&mut c, &["pin_locked", "forgot_pin"]);
    let said = c.say("是的");
    assert!(
        !records(&said)
            .iter()
            .any(|r| matches!(r, Record::Answered { .. })),
        "{}",
        c.transcript
    );
}
