//! Recognises text that asks the user to type or send a secret into the chat, so no answer can ever do it.
//!
//! `shebao check` runs this over every answer and hint, and the dialogue tests run it over every reply.
//! A clause is a solicitation when it names a secret (password, SMS code, ID number, bank card number)
//! and either addresses the bot ("发给我", "告诉我", "在这里输入") or makes a bare request ("请输入您的密码")
//! without pointing to an app, page or counter — unless the clause is a warning ("不要告诉任何人").
//!
//! ```
//! use shebao::text::solicit::find_solicitation;
//! assert!(find_solicitation("请把验证码发给我").is_some());
//! assert!(find_solicitation("任何人问您要验证码，都不要发给他。").is_none());
//! assert!(find_solicitation("在App里按提示输入新的6位密码").is_none());
//! ```

use super::normalize::fold;

/// Words naming a secret the user must never send.
const SECRETS: [&str; 16] = [
    "密码",
    "口令",
    "pin",
    "验证码",
    "短信码",
    "校验码",
    "动态码",
    "身份证号",
    "身份证号码",
    "证件号",
    "社会保障号",
    "社保号",
    "银行卡号",
    "卡号",
    "cvv",
    "安全码",
];

/// Requests addressed to the bot or the chat itself.
const TO_THE_CHAT: [&str; 24] = [
    "告诉我",
    "发给我",
    "发我",
    "发送给我",
    "发到这里",
    "发过来",
    "发在这里",
    "发这里",
    "回复我",
    "回复给我",
    "报给我",
    "提供给我",
    "在这里输入",
    "在此输入",
    "这里输入",
    "在聊天",
    "聊天框",
    "对话框",
    "私信",
    "打出来",
    "发出来",
    "贴出来",
    "给我看",
    "给我发",
];

/// Bare requests that solicit when nothing in the clause points somewhere else (an app, a counter).
const BARE_REQUESTS: [&str; 14] = [
    "请输入",
    "请提供",
    "请告诉",
    "请发送",
    "请发",
    "请回复",
    "请报",
    "请说",
    "输入您的",
    "输入你的",
    "提供您的",
    "提供你的",
    "发一下",
    "说一下",
];

/// Places other than the chat where typing a secret is legitimate.
const ELSEWHERE: [&str; 16] = [
    "app",
    "应用",
    "小程序",
    "页面",
    "界面",
    "客户端",
    "屏幕",
    "系统",
    "提示",
    "支付宝",
    "微信",
    "云闪付",
    "窗口",
    "柜台",
    "密码器",
    "键盘",
];

/// Words that turn the clause into a warning or a denial.
const NEGATIONS: [&str; 20] = [
    "不要",
    "别",
    "勿",
    "不会",
    "绝不",
    "决不",
    "从不",
    "不需要",
    "无需",
    "不用",
    "不能",
    "不可",
    "禁止",
    "不必",
    "永远不",
    "谨防",
    "警惕",
    "索要",
    "骗",
    "不问",
];

/// A phrase that asks the user for a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solicitation {
    /// The clause, as written.
    pub clause: String,
    /// The secret it asks for.
    pub secret: &'static str,
}

/// The first clause of `text` that asks the user to type or send a secret into the chat, if any.
pub fn find_solicitation(text: &str) -> Option<Solicitation> {
    text.split(['。', '！', '？', '!', '?', '\n', '；', ';', '，', ','])
        .find_map(|clause| {
            let folded = fold(clause);
            let secret = SECRETS.iter().find(|s| folded.contains(*s))?;
            let request = |words: &[&str]| words.iter().filter_map(|w| folded.find(w)).min();
            let at = match (request(&TO_THE_CHAT), request(&BARE_REQUESTS)) {
                (Some(at), _) => at,
                (None, Some(at)) if !ELSEWHERE.iter().any(|w| folded.contains(w)) => at,
                _ => return None,
            };
            let warned = NEGATIONS
                .iter()
                .filter_map(|n| folded.find(n))
                .any(|n| n <= at || n < folded.find(secret).unwrap_or(0));
            (!warned).then(|| Solicitation {
                clause: clause.trim().to_string(),
                secret,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_requests_for_secrets_are_found() {
        for text in [
            "请输入您的密码",
            "把验证码发给我",
            "告诉我您的身份证号",
            "请提供您的银行卡号以便核实",
            "您可以直接在这里输入6位密码，我帮您重置。",
            "请回复短信验证码",
            "麻烦发一下收到的验证码",
        ] {
            assert!(find_solicitation(text).is_some(), "{text}");
        }
    }

    #[test]
    fn warnings_not_to_share_pass() {
        for text in [
            "任何人向您索要密码或验证码，都不要给。",
            "本机器人不会问您要密码，也不需要验证码。",
            "切勿把验证码告诉他人",
            "工作人员绝不会让您把密码发给他们",
            "请不要在聊天中发送密码、验证码或身份证号。",
        ] {
            assert_eq!(find_solicitation(text), None, "{text}");
        }
    }

    #[test]
    fn app_steps_that_type_into_the_app_pass() {
        for text in [
            "在App里按提示输入新的6位密码",
            "请在小程序页面输入收到的验证码",
            "3. 输入原密码，再设置新密码",
            "请输入密码的页面如果打不开，可以拨打12333",
        ] {
            assert_eq!(find_solicitation(text), None, "{text}");
        }
    }

    #[test]
    fn traditional_and_full_width_requests_are_found_too() {
        assert!(find_solicitation("請輸入您的密碼").is_some());
        assert!(find_solicitation("請把ＰＩＮ發給我").is_some());
    }

    #[test]
    fn text_without_secrets_passes() {
        assert_eq!(find_solicitation("请告诉我您用的是哪个App"), None);
    }
}
