//! What a typed message means before any FAQ matching: a button named in words or by number, a fact the
//! citizen states, small talk, a scam alarm. Word lists only; the wording the bot sends is in `texts`.

use serde::{Deserialize, Serialize};

use crate::text::fold;

/// The app a citizen says they use for the electronic social security card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum App {
    Wechat,
    Alipay,
    App12333,
    Gov,
    Bank,
    Local,
}

impl App {
    /// Every app with the label its button has in `flows.yaml` and the words that name it in a message
    /// (folded: lower case, no spaces).
    const ALL: [(App, &'static str, &'static [&'static str]); 6] = [
        (App::Wechat, "微信", &["微信", "weixin", "wechat", "vx"]),
        (App::Alipay, "支付宝", &["支付宝", "alipay", "zfb"]),
        (
            App::App12333,
            "掌上12333",
            &["掌上12333", "12333app", "12333的app", "电子社保卡app"],
        ),
        (
            App::Gov,
            "国家政务服务平台",
            &["国家政务服务平台", "政务服务平台", "国务院客户端"],
        ),
        (
            App::Bank,
            "云闪付/银行App",
            &["云闪付", "银行app", "手机银行"],
        ),
        (
            App::Local,
            "本地人社App",
            &["人社app", "本地人社", "我们市的app", "省里的app"],
        ),
    ];

    /// The label of this app's button in the reset flow.
    pub fn label(self) -> &'static str {
        App::ALL
            .iter()
            .find(|(a, _, _)| *a == self)
            .map_or("", |(_, l, _)| l)
    }

    /// The app a button label stands for.
    pub fn from_label(label: &str) -> Option<App> {
        App::ALL
            .iter()
            .find(|(_, l, _)| *l == label)
            .map(|(a, _, _)| *a)
    }
}

/// What a citizen has told the bot about their situation. Facts, never their words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    #[serde(default)]
    pub app: Option<App>,
    #[serde(default)]
    pub no_smartphone: bool,
    #[serde(default)]
    pub old_number_stopped: bool,
    #[serde(default)]
    pub locked: bool,
    /// A scam message was shown to the bot in this conversation.
    #[serde(default)]
    pub scam_seen: bool,
}

const NO_SMARTPHONE: [&str; 7] = [
    "没有智能手机",
    "没智能手机",
    "不是智能手机",
    "老年机",
    "老人机",
    "没有手机",
    "没用智能机",
];

const OLD_NUMBER_STOPPED: [&str; 14] = [
    "号码停了",
    "号停了",
    "停机",
    "号码不用了",
    "号不用了",
    "号码注销",
    "号注销",
    "换号了",
    "换了号",
    "换了手机号",
    "换了新号",
    "原来的号",
    "以前的号",
    "老号",
];

const LOCKED: [&str; 4] = ["锁了", "锁定", "被锁", "锁住"];

/// Phrases that say the citizen does *not* have the thing ("没有微信" is no choice of 微信).
const NEGATIONS: [&str; 4] = ["没有", "没", "不用", "不会用"];

impl Facts {
    /// Adds what `text` (already guarded) states; returns whether anything new was learnt.
    pub fn learn(&mut self, text: &str) -> bool {
        let f = compact(text);
        let before = self.clone();
        let named: Vec<App> = App::ALL
            .iter()
            .filter(|(_, _, words)| {
                words.iter().any(|w| {
                    f.match_indices(w)
                        .any(|(at, _)| !NEGATIONS.iter().any(|n| f[..at].ends_with(n)))
                })
            })
            .map(|(a, _, _)| *a)
            .collect();
        // One app named: that is the one. Several ("微信还是支付宝"): no choice was made.
        if let [app] = named.as_slice() {
            self.app = Some(*app);
        }
        if NO_SMARTPHONE.iter().any(|w| f.contains(w)) {
            self.no_smartphone = true;
        }
        if OLD_NUMBER_STOPPED.iter().any(|w| f.contains(w)) {
            self.old_number_stopped = true;
        }
        if LOCKED.iter().any(|w| f.contains(w)) && !f.contains("锁屏") {
            self.locked = true;
        }
        *self != before
    }
}

/// Words around a fact that add nothing ("我用的是微信", "平时在支付宝里").
const FILLER: &str = "我俺用的是在里上平时一般都了呢啊呀吧那个就还也已经手机号码";

/// Whether `text` says nothing but facts [`Facts::learn`] reads ("我用的支付宝", "号码停机了").
pub fn only_states_facts(text: &str) -> bool {
    let mut rest = compact(text);
    let words = App::ALL
        .iter()
        .flat_map(|(_, _, words)| words.iter())
        .chain(NO_SMARTPHONE.iter())
        .chain(OLD_NUMBER_STOPPED.iter())
        .chain(LOCKED.iter());
    let mut found = false;
    for w in words {
        if rest.contains(w) {
            rest = rest.replace(w, "");
            found = true;
        }
    }
    found && rest.chars().all(|c| FILLER.contains(c))
}

/// The message folded (NFKC, Simplified, lower case, punctuation and emoji dropped) without spaces.
pub fn compact(text: &str) -> String {
    fold(text).chars().filter(|c| !c.is_whitespace()).collect()
}

/// What an option on screen means, so that words typed instead of pressing it can find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// 「完成，下一步」.
    Next,
    /// Accept an offer: start, continue.
    Yes,
    /// "It worked".
    Success,
    /// "It did not work".
    Fail,
    /// Decline an offer.
    No,
    /// Leave the flow.
    Quit,
    /// Back to the step before the help.
    Back,
    /// Carry on where the flow stopped.
    Continue,
    /// 「遇到问题」.
    Problem,
    /// A closing "OK, thanks".
    Ack,
    NoneOfThese,
    Helpful,
    NotHelpful,
    Human,
}

/// Whole messages that mean a button, and the roles they may press, the first present on screen winning.
const TYPED: &[(&[&str], &[Role])] = &[
    (
        &[
            "好了",
            "弄好了",
            "做好了",
            "完成",
            "完成了",
            "做完了",
            "弄完了",
            "搞定",
            "搞定了",
            "可以了",
            "行了",
            "ok了",
            "下一步",
            "下一个",
            "接下来",
            "然后呢",
            "然后",
            "好了下一步",
            "完成下一步",
            "点了",
            "找到了",
        ],
        &[
            Role::Next,
            Role::Success,
            Role::Continue,
            Role::Ack,
            Role::Yes,
        ],
    ),
    (
        &[
            "成功了",
            "成功",
            "改好了",
            "重置好了",
            "设好了",
            "改成功了",
            "重置成功了",
            "成了",
        ],
        &[Role::Success, Role::Next, Role::Ack],
    ),
    (
        &[
            "继续",
            "接着",
            "继续吧",
            "接着来",
            "继续刚才的步骤",
            "接着弄",
        ],
        &[Role::Continue, Role::Next, Role::Yes],
    ),
    (
        &[
            "好",
            "好的",
            "好啊",
            "好吧",
            "行",
            "可以",
            "开始",
            "开始吧",
            "要",
            "需要",
            "是",
            "是的",
            "对",
            "嗯好",
            "ok",
            "来吧",
        ],
        &[Role::Yes, Role::Continue, Role::Ack, Role::Success],
    ),
    (
        &[
            "不行",
            "不行啊",
            "不好使",
            "弄不了",
            "做不了",
            "卡住了",
            "有问题",
            "遇到问题",
            "遇到问题了",
            "出问题了",
            "出错了",
            "不对",
        ],
        &[Role::Problem, Role::Fail, Role::NotHelpful],
    ),
    (
        &[
            "没成功",
            "失败",
            "失败了",
            "不成功",
            "没有成功",
            "没弄好",
            "没好",
            "没有",
        ],
        &[Role::Fail, Role::Problem],
    ),
    (
        &[
            "不用",
            "不用了",
            "不要",
            "不需要",
            "先不用了",
            "不了",
            "先不了",
        ],
        &[Role::No, Role::Quit],
    ),
    (
        &[
            "算了",
            "退出",
            "不弄了",
            "不做了",
            "结束",
            "取消",
            "不想弄了",
            "先不弄了",
            "拉倒",
            "不搞了",
        ],
        &[Role::Quit, Role::No],
    ),
    (
        &[
            "返回",
            "回去",
            "上一步",
            "回到刚才",
            "回到刚才那一步",
            "后退",
        ],
        &[Role::Back, Role::Continue],
    ),
    (&["都不是", "都不对", "不是这个"], &[Role::NoneOfThese]),
    (
        &[
            "有帮助",
            "有用",
            "有帮到",
            "帮到了",
            "谢谢",
            "谢谢啦",
            "多谢",
            "好的谢谢",
        ],
        &[Role::Helpful, Role::Ack],
    ),
    (
        &["没帮助", "没用", "没有用", "没帮到", "没帮上", "答非所问"],
        &[Role::NotHelpful],
    ),
    (
        &["找人工", "人工", "转人工", "人工客服", "找真人"],
        &[Role::Human],
    ),
    (&["知道了", "明白了", "懂了"], &[Role::Ack, Role::Continue]),
    (
        &[
            "教我",
            "教教我",
            "一步步",
            "一步一步",
            "一步一步教我",
            "一步步来",
            "带我弄",
            "带着我弄",
            "帮我弄",
            "帮我弄一下",
            "怎么弄",
            "咋弄",
            "手把手",
            "不会",
            "不会弄",
            "我不会",
            "我不会弄",
        ],
        &[Role::Yes, Role::Problem, Role::Fail],
    ),
];

/// Parts of a short reply that say a step is done ("这一步做完了", "已经点进去了"), when no 没/不 denies it.
const DONE_HINTS: [&str; 12] = [
    "做完",
    "弄好",
    "弄完",
    "好了",
    "完成",
    "搞定",
    "下一步",
    "点好了",
    "点进去了",
    "进去了",
    "打开了",
    "找到了",
];

/// Parts of a short reply that say it does not work ("我这不行啊", "怎么都不行").
const STUCK_HINTS: [&str; 7] = ["不行", "不会", "卡住", "出错", "失败", "没反应", "弄不了"];

/// Parts of a short reply that give up for now ("今天先不弄了", "改天再说").
const QUIT_HINTS: [&str; 7] = [
    "不弄了",
    "不做了",
    "不想弄",
    "以后再",
    "下次再",
    "改天",
    "不搞了",
];

/// Longest reply read for these hints: longer messages say more than "done" or "stuck".
const HINT_CHARS: usize = 10;

const THUMBS_UP: [&str; 2] = ["👍", "👌"];
const THUMBS_DOWN: [&str; 1] = ["👎"];

/// The roles a whole message may mean, in order of preference (see also [`hinted_roles`]).
pub fn typed_roles(text: &str) -> Vec<Role> {
    let raw = text.trim();
    if THUMBS_UP.iter().any(|e| raw.starts_with(e)) && compact(raw).is_empty() {
        return vec![Role::Helpful, Role::Ack];
    }
    if THUMBS_DOWN.iter().any(|e| raw.starts_with(e)) && compact(raw).is_empty() {
        return vec![Role::NotHelpful];
    }
    let f = trim_particles(&compact(raw));
    TYPED
        .iter()
        .find(|(words, _)| words.contains(&f.as_str()))
        .map_or_else(Vec::new, |(_, roles)| roles.to_vec())
}

/// The roles a short reply hints at ("这一步做完了", "我这都不行", "今天先不弄了"), for the buttons on
/// screen only: with nothing to press, such a message is read as a question.
pub fn hinted_roles(text: &str) -> Vec<Role> {
    let raw = text.trim();
    let f = trim_particles(&compact(raw));
    // "怎么都不行" is no question: it does not work whatever one tries.
    let asked = raw.replace("怎么都", "").replace("咋都", "");
    if f.chars().count() > HINT_CHARS
        || ["吗", "?", "？", "怎", "咋", "哪"]
            .iter()
            .any(|q| asked.contains(q))
    {
        return Vec::new();
    }
    let has = |hints: &[&str]| hints.iter().any(|h| f.contains(h));
    if has(&QUIT_HINTS) {
        vec![Role::Quit, Role::No]
    } else if has(&STUCK_HINTS) {
        vec![Role::Problem, Role::Fail]
    } else if f.contains('没') || f.contains('不') || f.contains('未') {
        Vec::new()
    } else if has(&DONE_HINTS) {
        vec![Role::Next, Role::Success, Role::Continue, Role::Yes]
    } else if f.contains("开始") {
        vec![Role::Yes]
    } else {
        Vec::new()
    }
}

/// The one app a message names, if it names exactly one ("我用手机银行").
pub fn app_named(text: &str) -> Option<App> {
    let mut facts = Facts::default();
    facts.learn(text);
    facts.app
}

/// Drops the particles that soften a short reply ("好了啊", "退出吧").
fn trim_particles(f: &str) -> String {
    let mut s = f.to_string();
    while s.chars().count() > 1 {
        match s.chars().next_back() {
            Some('啊' | '吧' | '呀' | '哦' | '哈' | '嘛' | '呢' | '喔') => {
                s.pop();
            }
            _ => break,
        }
    }
    s
}

/// The number a message names as an option ("1", "１", "一", "1.", "\[1\]", "第一个", "选2", "②"), 1-based.
/// Only short numbers: a longer one is a hotline, a year or a secret, never an option.
pub fn option_number(text: &str) -> Option<usize> {
    let f = compact(text);
    let mut s = f.as_str();
    for prefix in ["选择第", "选择", "选项", "选第", "第", "选", "按", "点"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            break;
        }
    }
    for suffix in ["个选项", "个按钮", "个", "项", "号", "条"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest;
            break;
        }
    }
    if !s.is_empty() && s.len() <= 2 && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    let numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    if let Some(n) = numerals.iter().position(|n| *n == s) {
        return Some(n + 1);
    }
    if s == "两" {
        return Some(2);
    }
    None
}

/// Small talk: thanks, "OK", laughter, a thumbs-up or folded hands. Never a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallTalk {
    Thanks,
    Okay,
}

const OKAY: [&str; 28] = [
    "好",
    "好的",
    "好滴",
    "好嘞",
    "好哒",
    "好吧",
    "行",
    "行吧",
    "嗯",
    "嗯嗯",
    "嗯呢",
    "哦",
    "哦哦",
    "噢",
    "喔",
    "ok",
    "okay",
    "收到",
    "知道了",
    "明白",
    "明白了",
    "懂了",
    "了解",
    "哈哈",
    "哈哈哈",
    "呵呵",
    "嘿嘿",
    "好的好的",
];

const THANKS_WORDS: [&str; 5] = ["谢", "感谢", "辛苦", "3q", "thank"];

/// What a message of thanks may say besides particles ("好的谢谢啦", "明白了，辛苦你了").
const THANKS_PHRASES: [&str; 14] = [
    "thankyou", "thanks", "thank", "3q", "谢谢", "多谢", "感谢", "谢了", "谢", "辛苦", "明白",
    "知道", "懂", "收到",
];

const THANKS_EMOJI: [char; 2] = ['🙏', '💐'];

/// Whether `text` is small talk, and which kind.
pub fn small_talk(text: &str) -> Option<SmallTalk> {
    let raw = text.trim();
    let f = trim_particles(&compact(raw));
    if f.is_empty() {
        if raw.chars().any(|c| THANKS_EMOJI.contains(&c)) {
            return Some(SmallTalk::Thanks);
        }
        let friendly = ['👍', '👌', '😊', '🙂', '😄', '😀', '❤', '🌹', '☺', '🤝'];
        return raw
            .chars()
            .any(|c| friendly.contains(&c))
            .then_some(SmallTalk::Okay);
    }
    if THANKS_WORDS.iter().any(|w| f.contains(w)) {
        // Thanks and nothing else: "谢谢，密码忘了" still has a question in it.
        let mut rest = f.clone();
        for w in THANKS_PHRASES {
            rest = rest.replace(w, "");
        }
        if rest
            .chars()
            .all(|c| "你您啦了哈的呀啊哦好嗯喔非常万分大家小助手".contains(c))
        {
            return Some(SmallTalk::Thanks);
        }
    }
    if OKAY.contains(&f.as_str())
        || f.chars()
            .all(|c| "嗯哦噢喔哈呵嘿好的滴嘞哒行吧啦呀啊了".contains(c))
    {
        return Some(SmallTalk::Okay);
    }
    None
}

/// How alarming a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scam {
    /// A pasted message with a link or a known lure: the scam warning comes first.
    Lure,
    /// The citizen already clicked, typed a password, gave a code or paid: steps to take now.
    Acted,
}

/// Lures that mark a message as a scam on their own.
const LURES: [&str; 8] = [
    "新版电子社保卡",
    "未报备",
    "将注销",
    "将被注销",
    "涉案",
    "安全账户",
    "保证金",
    "补贴领取",
];

/// Lure words that need a messenger ("短信说…", "有人打电话…") to be an alarm: 电子社保卡怎么激活 is a
/// fair question, and 密码输错给冻结了 is how citizens say the PIN is locked.
const WEAK_LURES: [&str; 8] = [
    "过期", "激活", "升级", "注销", "转账", "退费", "补贴", "冻结",
];
const MESSENGERS: [&str; 8] = [
    "短信", "来电", "电话", "通知", "链接", "网址", "有人", "客服",
];

/// Things done that are a scam's harm whatever the context: a code or password given away, money sent.
const ACTED: [&str; 17] = [
    "告诉了验证码",
    "把验证码告诉",
    "给了验证码",
    "说了验证码",
    "验证码给了",
    "验证码告诉了",
    "密码告诉了",
    "把密码告诉",
    "告诉他密码",
    "告诉对方",
    "转了账",
    "转了钱",
    "已经转账",
    "被骗了",
    "上当了",
    "被骗走",
    "骗走了",
];

/// Things done that are harm only after a scam ("点开了", "输了密码" are also how one uses the real app).
const ACTED_IF_SCAM: [&str; 14] = [
    "已经点",
    "点开了",
    "点进去了",
    "点了链接",
    "点了那个",
    "打开了链接",
    "输了密码",
    "输入了密码",
    "填了密码",
    "输了验证码",
    "填了验证码",
    "填了信息",
    "填了身份证",
    "填了银行卡",
];

/// Words that make a message about a scam.
const SCAM_CONTEXT: [&str; 10] = [
    "链接",
    "网址",
    "网页",
    "短信",
    "骗",
    "陌生",
    "可疑",
    "钓鱼",
    "冒充",
    "那个人",
];

/// How near after a deed a 了 still tells it as done: 「把验证码告诉那个人了」.
const DONE_WITHIN: usize = 6;

/// Whether `f` tells of `deed` as done: 已经, 刚才 or 刚刚 anywhere, or a 了 in the deed or soon after it
/// ("把密码告诉了他", "已经转了钱"). 「可以把密码告诉别人吗」 and 「我爸八十多了…把密码告诉医生，行不行」
/// ask first: a 了 elsewhere in the message is about something else.
fn told_as_done(f: &str, deed: &str) -> bool {
    let Some(at) = f.find(deed) else {
        return false;
    };
    f.contains("已经")
        || f.contains("刚才")
        || f.contains("刚刚")
        || deed.contains('了')
        || f[at + deed.len()..]
            .chars()
            .take(DONE_WITHIN)
            .any(|c| c == '了')
}

/// Words of a citizen asking how to report to the police, which always deserves the steps.
const POLICE: [&str; 3] = ["报警", "110", "反诈"];

/// Whether `text` is a scam alarm. `after_scam` says a scam is what the conversation is about (a lure
/// was shown, or nothing else is going on), so that "我已经点开了还输了密码" is read as harm done.
pub fn scam(text: &str, after_scam: bool) -> Option<Scam> {
    let f = compact(text);
    let lower = text.to_lowercase();
    let about_scam = after_scam || SCAM_CONTEXT.iter().any(|w| f.contains(w));
    if ACTED.iter().any(|w| told_as_done(&f, w))
        || POLICE.iter().any(|w| f.contains(w))
        || (about_scam && ACTED_IF_SCAM.iter().any(|w| f.contains(w)))
    {
        return Some(Scam::Acted);
    }
    let link = lower.contains("http")
        || lower.contains("www.")
        || [".com", ".cn", ".net", ".top", ".xyz", ".cc"]
            .iter()
            .any(|d| lower.contains(d))
        || f.contains("点击链接")
        || f.contains("点链接");
    let lure = LURES.iter().any(|w| f.contains(w))
        || (WEAK_LURES.iter().any(|w| f.contains(w)) && MESSENGERS.iter().any(|w| f.contains(w)));
    (link || lure).then_some(Scam::Lure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_option_number_is_read_in_every_script_and_form() {
        for (text, n) in [
            ("1", 1),
            ("１", 1),
            ("一", 1),
            ("1.", 1),
            ("[1]", 1),
            ("【2】", 2),
            ("第一个", 1),
            ("选2", 2),
            ("②", 2),
            ("选项3", 3),
            ("1️⃣", 1),
            ("三", 3),
            (" 7 ", 7),
        ] {
            assert_eq!(option_number(text), Some(n), "{text}");
        }
        for text in ["12333", "123456", "一步步", "好", "", "第", "2024年"] {
            assert_eq!(option_number(text), None, "{text}");
        }
    }

    #[test]
    fn words_for_buttons_are_recognised_with_their_particles() {
        assert_eq!(typed_roles("好了啊")[0], Role::Next);
        assert_eq!(typed_roles("退出吧")[0], Role::Quit);
        assert_eq!(typed_roles("不行啊！")[0], Role::Problem);
        assert_eq!(typed_roles("👍")[0], Role::Helpful);
        assert!(typed_roles("密码忘了").is_empty());
        assert_eq!(hinted_roles("这一步做完了")[0], Role::Next);
        assert_eq!(hinted_roles("我这里怎么都不行")[0], Role::Problem);
        assert_eq!(hinted_roles("我这都不行")[0], Role::Problem);
        assert_eq!(hinted_roles("今天先不弄了")[0], Role::Quit);
        assert_eq!(hinted_roles("开始重置吧"), [Role::Yes]);
        assert!(hinted_roles("没找到").is_empty(), "找到 denied");
        assert!(hinted_roles("好了吗").is_empty(), "a question");
    }

    #[test]
    fn facts_are_learnt_from_what_is_said_and_not_from_what_is_denied() {
        let mut facts = Facts::default();
        assert!(facts.learn("支付宝上社保卡密码忘了"));
        assert_eq!(facts.app, Some(App::Alipay));
        let mut facts = Facts::default();
        facts.learn("我没有微信，原来的号码不用了，密码也锁了");
        assert_eq!(facts.app, None);
        assert!(facts.old_number_stopped && facts.locked);
        let mut facts = Facts::default();
        facts.learn("微信和支付宝哪个好");
        assert_eq!(facts.app, None, "two apps named: no choice made");
        assert!(!facts.learn("怎么改密码"));
    }

    #[test]
    fn a_plain_statement_of_fact_is_told_apart_from_a_question_naming_it() {
        assert!(only_states_facts("我用的是微信"));
        assert!(only_states_facts("平时在支付宝里"));
        assert!(only_states_facts("号码停机了"));
        assert!(!only_states_facts("微信密码忘了"));
        assert!(!only_states_facts("你好"));
    }

    #[test]
    fn small_talk_is_told_apart_from_questions() {
        assert_eq!(small_talk("谢谢啦"), Some(SmallTalk::Thanks));
        assert_eq!(small_talk("🙏"), Some(SmallTalk::Thanks));
        assert_eq!(small_talk("👍"), Some(SmallTalk::Okay));
        assert_eq!(small_talk("嗯嗯嗯"), Some(SmallTalk::Okay));
        assert_eq!(small_talk("哈哈"), Some(SmallTalk::Okay));
        assert_eq!(small_talk("嗯嗯好的"), Some(SmallTalk::Okay));
        assert_eq!(small_talk("好的"), Some(SmallTalk::Okay));
        assert_eq!(small_talk("密码忘了"), None);
        assert_eq!(small_talk("好的谢谢啦"), Some(SmallTalk::Thanks));
        assert_eq!(small_talk("明白了，辛苦你了"), Some(SmallTalk::Thanks));
        assert_eq!(
            small_talk("谢谢，密码忘了"),
            None,
            "a question after the thanks"
        );
        assert_eq!(small_talk("😡"), None);
    }

    #[test]
    fn a_pasted_lure_and_a_citizen_who_already_acted_are_told_apart() {
        assert_eq!(
            scam(
                "【人社】您的社保卡将注销，请点击 http://x.example 办理",
                false
            ),
            Some(Scam::Lure)
        );
        assert_eq!(scam("我已经点开了还输了密码", true), Some(Scam::Acted));
        assert_eq!(scam("点了短信里的链接还输了密码", false), Some(Scam::Acted));
        assert_eq!(
            scam("我已经输了密码", false),
            None,
            "typing the PIN in the app while being walked through is no harm"
        );
        assert_eq!(scam("验证码给了那个人", false), Some(Scam::Acted));
        assert_eq!(scam("把验证码告诉那个人了", false), Some(Scam::Acted));
        assert_eq!(
            scam("我爸年纪大了，我在电话里把密码告诉医生，这样行不行", false),
            None,
            "a 了 about something else does not make a question a deed"
        );
        assert_eq!(
            scam("密码输错给冻结了 怎么弄", false),
            None,
            "frozen by wrong tries is a locked PIN"
        );
        assert_eq!(scam("短信说你的社保卡被冻结了", false), Some(Scam::Lure));
        assert_eq!(scam("怎么报警", false), Some(Scam::Acted));
        assert_eq!(scam("密码忘了怎么办", false), None);
        assert_eq!(scam("短信说社保卡过期了要激活", false), Some(Scam::Lure));
        assert_eq!(
            scam("电子社保卡怎么激活", false),
            None,
            "a lure word alone is a fair question"
        );
    }
}
