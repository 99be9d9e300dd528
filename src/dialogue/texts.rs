//! The engine's own wording (everything that is not an FAQ answer or a flow step), in one place.

use crate::text::guard::SecretKind;

pub const WELCOME: &str = "您好！我是电子社保卡密码小助手，是一个自动回复的机器人。\n\n我可以：\n1. 解答电子社保卡六位数密码的问题（忘记、修改、被锁、设置、防骗）；\n2. 一步步带您在手机App里重置密码。\n\n请放心：我绝不会问您要密码、验证码或身份证号，也不能替您重置。这些只在官方App里输入，千万不要发到聊天里。\n\n直接打字提问就行，比如「密码忘了怎么办」。";

pub const HELP: &str = "直接打字提问就行，比如「密码被锁了」「怎么改密码」。\n\n命令：\n/reset 一步步重置密码\n/cancel 退出当前步骤\n/privacy 我会保存什么\n/forget 删除我保存的关于您的一切\n/help 显示这段说明\n\n解决不了的问题，请拨打12333或到当地社保经办机构咨询。";

pub const PRIVACY: &str = "我保存两样东西：\n1. 这个聊天的进度：您走到重置步骤的哪一步、最后一次发消息的时间，用来在您回来时接着往下走；\n2. 我答不上来的问题的文字，供工作人员改进答案。它不和您的聊天关联，按设定期限（一般90天）自动删除。\n\n我不保存密码、验证码、身份证号、手机号或银行卡号：带这些内容的消息我会尽量删除，问题里的这些数字会先遮住再保存。\n\n一步步操作超过30分钟没有动静，进度会作废。发送 /forget 可以马上删除这个聊天的进度。";

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

pub const NONE_OF_THESE: &str = "都不是";

pub const CONTINUE_PROMPT: &str = "要接着刚才的步骤吗？";

pub const CONTINUE: &str = "继续刚才的步骤";

pub const QUIT: &str = "退出";

pub const NEXT: &str = "完成，下一步";

pub const PROBLEM: &str = "遇到问题";

pub const OFFER_PROMPT: &str = "需要我一步步带您操作吗？";

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
