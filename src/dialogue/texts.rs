//! The engine's own wording (everything that is not an FAQ answer or a flow step), in one place.

use super::understand::Facts;
use crate::text::guard::SecretKind;

pub const WELCOME: &str = "您好！我是电子社保卡密码小助手，是一个自动回复的机器人。\n\n我可以：\n1. 解答电子社保卡六位数密码的问题（忘记、修改、被锁、设置、防骗）；\n2. 一步步带您在手机App里重置密码。\n\n请放心：我绝不会问您要密码、验证码或身份证号，也不能替您重置。这些只在官方App里输入，千万不要发到聊天里。\n\n直接打字提问就行，比如「密码忘了怎么办」。";

pub const HELP: &str = "直接打字提问就行，比如「密码被锁了」「怎么改密码」。有按钮时，点按钮，或者回复按钮前面的数字、按钮上的字都行（比如「1」「好了」「退出」）。\n\n命令：\n/reset 一步步重置密码\n/cancel 退出当前步骤\n/privacy 我会保存什么\n/forget 删除我保存的关于您的一切\n/help 显示这段说明\n\n解决不了的问题，请拨打12333或到当地社保经办机构咨询。";

pub const PRIVACY: &str = "我保存三样东西：\n1. 这个聊天的进度：您走到重置步骤的哪一步、最后一次发消息的时间，以及您说过的情况（用哪个App、原来的号码是否停用、密码是否被锁，只记成选项，不记原话），用来在您回来时接着往下走；\n2. 我答不上来的问题的文字，供工作人员改进答案；\n3. 您点的👍/👎（点回答下面另一条问题的按钮，算作前一条回答没帮上）：只记是哪一条回答、点了几次。\n后两样不和您的聊天关联，按设定期限（一般90天）自动删除。\n\n我不保存密码、验证码、身份证号、手机号或银行卡号：\n- 看起来像这些号码的消息（包括只说了几位、用中文数字或“幺洞拐勾”写的），我会尽量删除，并提醒您；\n- 拿不准的一长串数字，我会遮住但不删消息，请您自己删；\n- 保存问题之前，里面凡是四位及以上的数字，不管怎么写，都先换成******，只留12333这类服务电话。\n\n一步步操作超过30分钟没有动静，进度会作废。发送 /forget 可以马上删除这个聊天的进度。";

pub const FORGOTTEN: &str = "已删除我保存的关于这个聊天的全部内容。需要帮助时随时再来找我。";

pub const NOTHING_TO_CANCEL: &str =
    "现在没有进行中的步骤。有问题直接打字问我，或发送 /reset 一步步重置密码。";

pub const FLOW_LEFT: &str = "好的，已退出。需要时发送 /reset 可以重新开始；也可以拨打12333咨询。";

pub const STALE_BUTTON: &str = "这个按钮已经过期了，请用最新消息里的按钮。";

pub const EXPIRED: &str = "上次的操作太久没有继续，已经结束了。我们重新开始吧。";

pub const STEP_GONE: &str = "重置步骤刚刚更新过，我们从头开始。";

pub const STATE_RESET: &str = "抱歉，系统升级后没能接上之前的进度，我们重新开始吧。";

/// The apology when the bot itself failed (the cause goes to the log).
pub const INTERNAL_ERROR: &str = "抱歉，我这边出了点问题，请稍后再试，或拨打12333。";

pub const UNKNOWN_COMMAND: &str = "我不认识这个命令。发送 /help 看看我能做什么。";

pub const NO_FLOW: &str =
    "抱歉，一步步重置的功能暂时不可用。请在电子社保卡App里找「重置密码」，或拨打12333咨询。";

pub const DISMISSED: &str = "好的。还有别的问题，直接打字问我。";

pub const CLARIFY_PROMPT: &str = "您想问的是哪一个？";

/// Asking back with one entry only: the bot is not sure enough of it to answer outright.
pub const CLARIFY_ONE_PROMPT: &str = "您是想问这个吗？";

pub const NONE_OF_THESE: &str = "都不是";

/// Under a question asked back with one entry only.
pub const NOT_THIS: &str = "不是这个";

/// Mid-flow, under a question the bot asks back: back to the step.
pub const CONTINUE: &str = "继续刚才的步骤";

pub const QUIT: &str = "退出";

pub const NEXT: &str = "完成，下一步";

pub const PROBLEM: &str = "遇到问题";

pub const OFFER_PROMPT: &str = "需要我一步步带您操作吗？";

pub const OFFER_AND_FEEDBACK_PROMPT: &str =
    "需要我一步步带您操作吗？\n这个回答有帮助吗？点一下👍或👎，我们好改进。";

pub const FEEDBACK_PROMPT: &str = "这个回答有帮助吗？点一下👍或👎，我们好改进。";

/// Under an answer that has a runner-up: the last button is that entry's question.
pub const ALSO_PROMPT: &str = "要是您问的其实是最后一个按钮上的问题，点它看那条回答。";

/// The button under an answer that offers the next likeliest entry, by its question.
pub fn also_label(question: &str) -> String {
    format!("👉 {question}")
}

pub const HELPFUL: &str = "👍 有帮助";

pub const NOT_HELPFUL: &str = "👎 没帮助";

pub const GLAD_IT_HELPED: &str = "谢谢您告诉我！还有问题，直接打字问我。";

pub const SORRY_NOT_HELPFUL: &str = "抱歉没帮上忙，我已经记下来，请工作人员改进这个回答。";

pub const NOT_HELPFUL_PROMPT: &str = "您想问的也许是下面这些；也可以一步步重置，或者找人工：";

/// Mid-flow, before the current step is shown again.
pub const RESUME: &str = "我们接着刚才这一步：";

/// A word for a button that none on screen is ("返回" where there is nothing to go back to).
pub const PLEASE_PRESS: &str = "请点下面的按钮，或者回复按钮前面的数字（比如 1）。";

pub const CHOOSE_AGAIN: &str = "请从下面选一个：";

/// A typed option number that is not on screen.
pub fn no_such_option(n: usize, options: usize) -> String {
    if options == 0 {
        format!("现在没有第{n}个选项。有问题直接打字问我就行。")
    } else {
        format!("没有第{n}个选项，请回复1到{options}之间的数字，或者直接点按钮。")
    }
}

pub const HUMAN: &str = "找人工";

/// 找人工: the hotline, and what to say when calling, from what the citizen has told us. Never a secret.
pub fn human_help(facts: &Facts) -> String {
    let mut situation = String::from("电子社保卡的六位数密码");
    situation.push_str(if facts.locked {
        "被锁了"
    } else {
        "出了问题（比如忘了）"
    });
    if let Some(app) = facts.app {
        situation = format!("我在{}里用电子社保卡，{situation}", app.label());
    }
    let mut extra = Vec::new();
    if facts.old_number_stopped {
        extra.push("原来绑定的手机号已经停用，收不到验证码");
    }
    if facts.no_smartphone {
        extra.push("我没有智能手机");
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("，{}", extra.join("，"))
    };
    format!(
        "找人工可以这样做：\n1. 拨打12333（人社服务热线），按语音提示转人工，服务时间各地不同；\n2. 接通后可以这样说：「您好，{situation}{extra}，想问问怎么重置，去哪里办，要带什么。」\n3. 也可以带上身份证，到当地社保经办机构或社保卡服务网点的窗口当面办。\n\n工作人员不会在电话里问您要密码或验证码；谁要都不要给。"
    )
}

/// Small talk.
pub const YOU_ARE_WELCOME: &str = "不客气！还有问题随时问我。";

pub const OKAY: &str = "好的。还有问题，直接打字问我就行。";

pub const OKAY_IN_FLOW: &str = "好的，不着急。";

/// The second fallback in a row: other words, and the way to a person.
pub const FALLBACK_AGAIN: &str = "抱歉，我还是没弄明白。这种情况问人工最快：";

pub const FALLBACK_PROMPT: &str = "您可以点下面的按钮：";

/// The third fallback in a row and after: short, pointing to the person already described.
pub const FALLBACK_STILL: &str =
    "这句我还是答不上来，真抱歉。最稳妥的是拨打12333找人工；也可以换个说法，或者点下面的按钮。";

pub const FALLBACK_AGAIN_PROMPT: &str = "或者看看下面这些：";

/// A message mid-flow the bot could not place.
pub const FALLBACK_IN_FLOW: &str =
    "这句话我没看懂。卡住了的话点「遇到问题」，我给您出主意；想找人工，可以拨打12333。";

pub const NONE_OF_THESE_REPLY: &str =
    "好的。那请换个说法再问一次，或者点下面的按钮：一步步重置密码，或者找人工。";

/// A scam warning: one more step for those who already acted.
pub const SCAM_PROMPT: &str =
    "如果您已经点了链接、输了密码或者把验证码给了别人，请点下面的按钮，看现在马上要做的事：";

pub const ALREADY_ACTED: &str = "我已经点了/输了密码";

/// A fact stated, not a question: what the bot took from it.
pub fn noted(facts: &Facts) -> String {
    let mut known = Vec::new();
    if let Some(app) = facts.app {
        known.push(format!("您用的是{}", app.label()));
    }
    if facts.locked {
        known.push("密码被锁了".to_string());
    }
    if facts.old_number_stopped {
        known.push("原来的手机号停用了".to_string());
    }
    if facts.no_smartphone {
        known.push("您没有智能手机".to_string());
    }
    format!("好的，记下了：{}。", known.join("，"))
}

pub const NOTED_PROMPT: &str = "接下来要做什么？";

/// "好了" or "开始" with nothing on screen to press.
pub const WHAT_NEXT_PROMPT: &str = "您想做什么？直接打字说说您的问题，或者点下面的按钮：";

/// Before the first step, what the bot already knows and what it changes.
pub fn known_at_start(facts: &Facts) -> Option<String> {
    let mut notes = Vec::new();
    if facts.no_smartphone {
        notes.push("您说没有智能手机：在App里重置需要能刷脸或收短信的智能手机。可以请家人用他们的手机帮忙（刷的是您本人的脸），或者带身份证去社保经办机构办理，出发前先打12333问清网点。");
    }
    if facts.locked {
        notes.push("您说密码被锁了：很多App重置密码后就能解锁，我们照着重置的步骤来。");
    }
    if facts.old_number_stopped {
        notes.push(
            "您说原来的手机号停用了：收不到验证码时，选能刷脸核验的App（比如微信、支付宝）更顺利。",
        );
    }
    (!notes.is_empty()).then(|| notes.join("\n"))
}

/// The app was named before the flow asked for it.
pub fn app_taken(app: &str, facts: &Facts) -> String {
    let mut text = format!("您说用的是{app}，我们就按{app}来——不是的话，点「{CHANGE_APP}」。");
    if facts.old_number_stopped {
        text.push_str("\n原来的手机号停用了的话，核验时选刷脸。");
    }
    text
}

pub const CHANGE_APP: &str = "不是，换个App";

pub const NO_THANKS: &str = "不用了";

pub const START_PROMPT: &str = "您也可以点下面的按钮：";

/// The warning for a message that held secrets. It names the kinds, never the digits.
pub fn secret_warning(kinds: &[SecretKind]) -> String {
    let mut labels: Vec<&str> = Vec::new();
    for kind in kinds {
        if !labels.contains(&kind.label()) {
            labels.push(kind.label());
        }
    }
    let what = labels.join("、");
    let pin_like = kinds.iter().any(|k| {
        matches!(
            k,
            SecretKind::Pin | SecretKind::Password | SecretKind::SmsCode
        )
    });
    let mut text = format!(
        "⚠️ 您的消息里好像有{what}。为了您的安全，我已经尽量删除了这条消息，也不会记录这些数字。\n\n请不要把密码、验证码、身份证号或银行卡号发给任何人，包括我。"
    );
    if pin_like {
        text.push_str("如果这是您真实的密码，建议尽快在官方App里修改。");
    }
    text
}

/// The note for a message with a number that may or may not be a secret (seven to ten digits with nothing
/// around them that tells): it is masked in everything the bot keeps, but the message is not deleted.
pub const DOUBTFUL_NUMBER: &str = "⚠️ 您的消息里有一串较长的数字，我没有删除这条消息，也不会记录这串数字。如果它是密码、验证码或卡号，请长按那条消息自己删除。\n\n请不要把密码、验证码、身份证号或银行卡号发给任何人，包括我。";

/// The warning when the message could not be deleted (the adapter adds it when deletion fails).
pub const DELETE_IT_YOURSELF: &str = "我没能删除那条消息，请您长按它，自己删除。";
