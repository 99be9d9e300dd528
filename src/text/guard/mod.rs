//! Keeps secrets that citizens type by mistake (PIN, SMS code, ID, phone or bank card number) out of everything the bot stores, logs or answers.
//!
//! Every incoming text passes [`guard`] before anything else. The bot deletes a message that likely holds a
//! secret, warns the user without echoing it, and only ever works with [`Guarded::redacted`].
//!
//! The guard thinks in numbers, not chars. [`crate::text::numerals::Scan`] reads every number in the message
//! whatever its script (ASCII, full-width, any Unicode decimal digit, circled and keycap digits, Chinese,
//! financial and radio numerals such as 幺 洞 两 拐 勾, the letter O between digits) and joins its pieces across
//! short gaps of spaces, punctuation, emoji and invisible chars. Each number is then judged by its shape and
//! its context:
//!
//! - **a keyword right before it** (`密码`, `验证码`, `身份证`, `卡号` ..., optionally followed by `是`, `:`,
//!   `改成` or a position such as `前三位`, `最后两位`) makes it a secret whatever it looks like; with an explicit
//!   connector even one or two digits are (a partial PIN);
//! - **ordinary context** makes it no secret: a word right before it (`邮编`, `错误代码`, `版本`, `提示`,
//!   `工号`, `窗口`, `NO.` ...) or just after it (`310000是杭州的邮编吗`), a unit after it (`元`, `年`, `次`, `位`,
//!   `小时`, `多` ...), a currency sign, `第` before it, seven or eight digits after `电话`, or an ordinary
//!   shape: dates (also compact `20240501`), times, decimals, 400/800 and five-digit hotlines (also dialled
//!   with a prefix), landlines with an area code (`0571-87654321`), version numbers (`10.5.86.8000`), amounts
//!   with thousands separators (`103,560.23`), and a year near a keyword;
//! - **its shape**: 11 digits starting 1[3-9] (after +86/0086 too) is a phone number, 18 characters (the
//!   checksum or a birth date is evidence, not a requirement) or 15 digits an ID number, 16 to 19 digits a bank
//!   card number, 6 digits a PIN; 7 to 10 digits with no context a doubtful PIN;
//! - **a position right before it** (`最后两位是07`, `前三个是三零九`, `中间21`) makes it part of a PIN, keyword
//!   or not: this bot is about one PIN;
//! - **a keyword near it** (before it in the same sentence, or just after: `4821是验证码`) makes 4 to 8 digits an
//!   SMS code and 3 or more digits a password; so do words that say it was sent to be typed in (`发来`,
//!   `让我输`) for 4 to 8 digits;
//! - **the rest of a secret**: short numbers that closely follow a password or code in the same sentence
//!   (`密码847开头，26结尾`) are masked with it.
//!
//! A Chinese numeral that also makes words (一直, 两个, 登陆) joins the number beside it only after a keyword or
//! a phone word, or when that makes a number of four digits or more secret-sized (`用四45880`).
//!
//! A [`Certainty::Likely`] secret is deleted; a [`Certainty::Doubtful`] one is masked all the same but the
//! message stays (deleting a citizen's message for a QQ or order number is unkind), and the warning says so.
//! What is stored, logged or shown to staff goes through [`crate::text::redact`] as well, which masks every
//! number of four digits or more with no context at all.
//!
//! The scan is linear in the text; any input, however long or strange, is handled without panicking.
//!
//! ```
//! use shebao::text::guard::{SecretKind, guard};
//! let g = guard("用123456当密码可以吗");
//! assert_eq!(g.redacted, "用******当密码可以吗");
//! assert_eq!(g.secrets, [SecretKind::Pin]);
//! assert_eq!(guard("验证码是4821").secrets, [SecretKind::SmsCode]);
//! assert_eq!(guard("密码前三位是幺洞幺").secrets, [SecretKind::Password]);
//! assert!(guard("12333打不通，2024年10月1日输错3次，邮编100000").is_clean());
//! ```

use std::ops::Range;

use super::numerals::{Gap, Run, Scan, narrow};

/// What replaces each secret in the redacted text. It is made of `*` on purpose: normalisation strips
/// punctuation, so the redacted question still matches the knowledge as if the number were not there.
pub const MASK: &str = "******";

/// What kind of secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SecretKind {
    /// A number of six digits or more without a telling shape, most likely the card's PIN.
    Pin,
    /// A code after a word such as 验证码 or 动态码.
    SmsCode,
    /// Digits after a word such as 密码, 口令 or PIN (also part of one: "前三位是123").
    Password,
    /// A Chinese resident ID number: 18 characters (17 digits and a digit or X) or the old 15 digits.
    IdNumber,
    /// A Chinese mobile number: 11 digits starting 1[3-9], optionally after 86 or 0086.
    PhoneNumber,
    /// A bank card number: 16 to 19 digits.
    CardNumber,
}

impl SecretKind {
    /// The Chinese name of the kind, for the warning shown to the user.
    pub fn label(self) -> &'static str {
        match self {
            SecretKind::Pin | SecretKind::Password => "密码",
            SecretKind::SmsCode => "验证码",
            SecretKind::IdNumber => "身份证号",
            SecretKind::PhoneNumber => "手机号",
            SecretKind::CardNumber => "银行卡号",
        }
    }
}

/// How sure the guard is that a number is a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certainty {
    /// A secret by shape or keyword: masked, and the message is deleted.
    Likely,
    /// Could be a secret or an ordinary number (seven to ten digits with no context): masked, message kept.
    Doubtful,
}

/// A secret found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// What kind of secret it is.
    pub kind: SecretKind,
    /// Where it is, in bytes of the text: from its first digit to its last digit (or ID check char X),
    /// separators in between included.
    pub span: Range<usize>,
    pub certainty: Certainty,
}

/// A text with its secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarded {
    /// The text with every secret replaced by MASK (chars outside secrets unchanged).
    pub redacted: String,
    /// Kinds of the likely secrets, in order of appearance: the message is deleted.
    pub secrets: Vec<SecretKind>,
    /// Kinds of the doubtful secrets, in order of appearance: masked, but the message is kept.
    pub doubtful: Vec<SecretKind>,
}

impl Guarded {
    /// Whether nothing was masked, in which case `redacted` is the text itself.
    pub fn is_clean(&self) -> bool {
        self.secrets.is_empty() && self.doubtful.is_empty()
    }

    /// Whether the message should be deleted: it likely holds a secret.
    pub fn must_delete(&self) -> bool {
        !self.secrets.is_empty()
    }
}

/// Finds the secrets in `text` and masks each one with [`MASK`].
pub fn guard(text: &str) -> Guarded {
    let found = find_secrets(text);
    let mut redacted = String::with_capacity(text.len());
    let mut last = 0;
    let (mut secrets, mut doubtful) = (Vec::new(), Vec::new());
    for secret in &found {
        redacted.push_str(&text[last..secret.span.start]);
        redacted.push_str(MASK);
        last = secret.span.end;
        match secret.certainty {
            Certainty::Likely => secrets.push(secret.kind),
            Certainty::Doubtful => doubtful.push(secret.kind),
        }
    }
    redacted.push_str(&text[last..]);
    Guarded {
        redacted,
        secrets,
        doubtful,
    }
}

/// Finds the secrets in `text`, in order of appearance, with their byte spans (which never overlap).
pub fn find_secrets(text: &str) -> Vec<Secret> {
    let scan = Scan::new(text);
    let context = Context { scan: &scan };
    let mut found: Vec<Secret> = Vec::new();
    // Where the last password or code ended: pieces that follow it closely in the same sentence are the
    // rest of it ("密码847开头，26结尾", "密码是66加77加88").
    let mut last_part: Option<(usize, SecretKind)> = None;
    for run in &scan.runs {
        let run = context.with_numerals_beside(run);
        let verdict = context
            .classify(&run)
            .or_else(|| context.continues(&run, last_part?));
        let Some((kind, certainty)) = verdict else {
            continue;
        };
        last_part = matches!(
            kind,
            SecretKind::Pin | SecretKind::Password | SecretKind::SmsCode
        )
        .then_some((run.chars.end, kind));
        // A run widened by the numerals beside it may reach back into the secret before it: one secret
        // then, as certain as the surer of the two.
        match found.last_mut() {
            Some(previous) if run.bytes.start < previous.span.end => {
                previous.span.end = previous.span.end.max(run.bytes.end);
                if certainty == Certainty::Likely {
                    previous.certainty = Certainty::Likely;
                }
            }
            _ => found.push(Secret {
                kind,
                span: run.bytes.clone(),
                certainty,
            }),
        }
    }
    found
}

/// What a keyword announces about the number after (or near) it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Password,
    Code,
    Id,
    Card,
}

impl Keyword {
    fn kind(self) -> SecretKind {
        match self {
            Keyword::Password => SecretKind::Password,
            Keyword::Code => SecretKind::SmsCode,
            Keyword::Id => SecretKind::IdNumber,
            Keyword::Card => SecretKind::CardNumber,
        }
    }
}

/// Keywords, matched on narrowed, lower-cased chars, longest first within each kind. Code words come first,
/// so 动态密码 is a code. Latin words must not be glued to a Latin letter before them.
const KEYWORDS: [(&str, Keyword); 28] = [
    ("短信验证码", Keyword::Code),
    ("动态密码", Keyword::Code),
    ("動態密碼", Keyword::Code),
    ("验证码", Keyword::Code),
    ("驗證碼", Keyword::Code),
    ("校验码", Keyword::Code),
    ("校驗碼", Keyword::Code),
    ("动态码", Keyword::Code),
    ("動態碼", Keyword::Code),
    ("短信码", Keyword::Code),
    ("短信碼", Keyword::Code),
    ("确认码", Keyword::Code),
    ("授权码", Keyword::Code),
    ("短信", Keyword::Code),
    ("密码", Keyword::Password),
    ("密碼", Keyword::Password),
    ("口令", Keyword::Password),
    ("pin码", Keyword::Password),
    ("pin碼", Keyword::Password),
    ("password", Keyword::Password),
    ("pin", Keyword::Password),
    ("身份证号", Keyword::Id),
    ("身份证", Keyword::Id),
    ("身份證", Keyword::Id),
    ("证件号", Keyword::Id),
    ("卡号", Keyword::Card),
    ("卡號", Keyword::Card),
    ("银行卡", Keyword::Card),
];

/// Words that may stand between a keyword and its digits ("密码是", "密码就是", "密码改成"), longest first.
const CONNECTORS: [&str; 31] = [
    "设置成了",
    "是不是",
    "设置为",
    "设置成",
    "应该是",
    "好像是",
    "大概是",
    "可能是",
    "用的是",
    "输的是",
    "设的是",
    "改成了",
    "换成了",
    "设成了",
    "改为了",
    "就是",
    "还是",
    "设为",
    "设成",
    "改为",
    "改成",
    "换成",
    "输入",
    "填的",
    "输的",
    "设的",
    "是",
    "为",
    "為",
    "填",
    "叫",
];

/// Chars of a position phrase between a keyword and part of a secret: 前三位, 最后两位, 开头, 第一位是.
const POSITION_CHARS: &str =
    "前后後最头頭末尾开開结結第中间間位个個码碼数數字面一二三四五六七八九十两兩几幾的我都也";

/// Words right before a number that make it ordinary (a postcode, an error code, a version, a counter).
const ORDINARY_BEFORE: [&str; 31] = [
    "邮编",
    "邮政编码",
    "郵編",
    "错误代码",
    "错误码",
    "錯誤碼",
    "代码",
    "代碼",
    "报错",
    "错误",
    "提示码",
    "提示",
    "版本号",
    "版本",
    "version",
    "ver",
    "build",
    "v",
    "no",
    "工号",
    "订单号",
    "单号",
    "编号",
    "序号",
    "窗口",
    "排队号",
    "流水号",
    "受理号",
    "比如",
    "例如",
    "譬如",
];

/// Words right after a number that make it ordinary ("提示1002错误").
const ORDINARY_AFTER: [&str; 4] = ["错误", "报错", "号窗口", "版本"];

/// Words just after a number (within [`NEAR_AFTER`] chars) that make it ordinary ("310000是杭州的邮编吗").
const ORDINARY_SOON_AFTER: [&str; 3] = ["邮编", "邮政编码", "郵編"];

/// Words near a four- to eight-digit number that say it was sent to the citizen to type in: an SMS code
/// ("给我发了个9707让我输", "刚发来的 5531 要输吗").
const CODE_HINTS: [&str; 10] = [
    "发了个",
    "发来",
    "发过来",
    "发的",
    "收到",
    "让我输",
    "要输",
    "输进",
    "填进",
    "让我填",
];

/// Five-digit service numbers (government, carriers, banks, insurers) that a keyword does not turn into a
/// secret unless a connector stands between ("密码忘了，打12333", but "密码是12333").
const SHORT_HOTLINES: [u32; 27] = [
    12333, 12345, 12123, 12315, 12329, 12366, 12393, 12306, 12320, 12348, 12351, 12369, 12380,
    10086, 10010, 10000, 96110, 95518, 95512, 95588, 95533, 95599, 95566, 95555, 95559, 95528,
    95511,
];

fn is_short_hotline(run: &Run) -> bool {
    run.digits.len() == 5
        && run.groups.len() == 1
        && u32::try_from(run.group_value(0)).is_ok_and(|n| SHORT_HOTLINES.contains(&n))
}

/// How many chars the look-behind from a number to its keyword crosses at most.
const KEYWORD_REACH: usize = 10;
/// How far before a number (in the same sentence) a keyword still makes it a secret.
const NEAR_BEFORE: usize = 16;
/// How many chars after a password or code a short number may stand and still be the rest of it.
const CONTINUATION_REACH: usize = 12;
/// How far after a number a keyword still makes it a secret ("4821是验证码").
const NEAR_AFTER: usize = 6;

/// A keyword found right before a number.
struct RightBefore {
    keyword: Keyword,
    /// A connector (`是`, `:`) or a position (`前三位`) stood between: even a short number is a secret.
    explicit: bool,
    /// A position stood between: the number is part of a secret, however short.
    part: bool,
}

/// The message around the numbers.
struct Context<'a> {
    scan: &'a Scan,
}

impl Context<'_> {
    fn chars(&self) -> &[char] {
        &self.scan.chars
    }

    /// The run with a numeral it stands beside joined to it, when a keyword or a word for a phone number
    /// stands right before the number: the scan cannot tell such a numeral from a word char (验证码伍0〇8,
    /// 密码两3456, 手机一38…, 验证码5.5.0.幺我在排队).
    fn with_numerals_beside<'r>(&self, run: &'r Run) -> std::borrow::Cow<'r, Run> {
        use super::numerals::{MAX_GAP_CHARS, digit};
        let chars = self.chars();
        let numeral_at = |j: usize| {
            digit(chars[j])
                .filter(|_| !self.scan.is_digit[j])
                .map(|(d, _)| d)
        };
        let stop = |j: &usize| chars[*j].is_alphanumeric() || digit(chars[*j]).is_some();
        let numeral_before = (run.chars.start.saturating_sub(MAX_GAP_CHARS + 1)..run.chars.start)
            .rev()
            .find(stop)
            .and_then(|j| Some((j, numeral_at(j)?)));
        let numeral_after = (run.chars.end..(run.chars.end + MAX_GAP_CHARS + 1).min(chars.len()))
            .find(stop)
            .and_then(|j| Some((j, numeral_at(j)?)));
        let context =
            |j: usize| self.keyword_right_before(j).is_some() || self.phone_word_before(j);
        // Without a keyword, numerals beside a long number join it when that makes it secret-sized
        // (用四45880: a PIN whose first digit was typed as a numeral); a hotline, a year or another ordinary
        // number stays alone (12333一直, 2024一月, 周五8:30-17:00).
        let long = run.digits.len() >= 4
            && !is_short_hotline(run)
            && !is_ordinary_shape(run)
            && !self.ordinary_context(run)
            && !is_year(run)
            && run.digits.len()
                + usize::from(numeral_before.is_some())
                + usize::from(numeral_after.is_some())
                >= 6;
        let before = numeral_before.filter(|&(j, _)| context(j) || long);
        let after = numeral_after.filter(|_| before.is_some() || context(run.chars.start) || long);
        if before.is_none() && after.is_none() {
            return std::borrow::Cow::Borrowed(run);
        }
        let mut run = run.clone();
        if let Some((j, d)) = before {
            run.digits.insert(0, d);
            run.groups[0] += 1;
            run.chars.start = j;
            run.bytes.start = self.scan.offsets[j];
        }
        if let Some((j, d)) = after {
            run.digits.push(d);
            *run.groups.last_mut().expect("a run has a group") += 1;
            run.chars.end = j + 1;
            run.bytes.end = self.scan.offsets[j + 1];
        }
        run.chinese = true;
        std::borrow::Cow::Owned(run)
    }

    /// Where the text before `start` ends once spaces, `:`, 是 and 为 are skipped.
    fn before_connector(&self, start: usize) -> usize {
        let chars = self.chars();
        let mut end = start;
        while end > 0
            && (chars[end - 1].is_whitespace()
                || matches!(narrow(chars[end - 1]), ':' | '是' | '为'))
        {
            end -= 1;
        }
        end
    }

    /// Whether a word for a phone number ends right before `start` (spaces, `:`, 是 or 为 between).
    fn phone_word_before(&self, start: usize) -> bool {
        let end = self.before_connector(start);
        ["手机", "手机号", "电话", "号码", "手機", "電話", "號碼"]
            .iter()
            .any(|w| self.word_ends_at(end, w))
    }

    /// Whether a short number continues the password or code that ended at `after` a few chars before, in the
    /// same sentence, and is not a count, a year or a hotline.
    fn continues(
        &self,
        run: &Run,
        (after, kind): (usize, SecretKind),
    ) -> Option<(SecretKind, Certainty)> {
        let between = &self.chars()[after..run.chars.start];
        let close =
            between.len() <= CONTINUATION_REACH && !between.iter().any(|&c| is_sentence_end(c));
        let year = is_year(run);
        (close
            && run.digits.len() <= 6
            && !year
            && !is_short_hotline(run)
            && !self.unit_after(run.chars.end)
            && !self.ordinary_context(run))
        .then_some((kind, Certainty::Likely))
    }

    /// Whether a word for a landline or a call ends right before `start`: seven or eight digits after it are
    /// a local landline ("社保局电话87654321打不通").
    fn landline_word_before(&self, start: usize) -> bool {
        let end = self.before_connector(start);
        ["电话", "座机", "热线", "拨打", "打", "電話"]
            .iter()
            .any(|w| self.word_ends_at(end, w))
    }

    /// Decides whether a number is a secret, of which kind, and how sure that is.
    fn classify(&self, run: &Run) -> Option<(SecretKind, Certainty)> {
        let len = run.digits.len();
        let likely = |kind| Some((kind, Certainty::Likely));
        if let Some(right) = self.keyword_right_before(run.chars.start) {
            let kind = right.keyword.kind();
            if len >= 6 {
                return likely(shape(run).unwrap_or(kind));
            }
            if self.unit_after(run.chars.end)
                || !right.explicit && (len < 3 || is_short_hotline(run))
            {
                return None;
            }
            return match right.keyword {
                Keyword::Code if len < 4 && !right.part => None,
                _ => likely(kind),
            };
        }
        if self.ordinary_context(run) || is_ordinary_shape(run) {
            return None;
        }
        let near = self.keyword_near(run);
        if len >= 6 {
            if let Some(kind) = shape(run) {
                return likely(kind);
            }
            return match (len, near) {
                (_, Some(Keyword::Password)) => likely(SecretKind::Pin),
                (_, Some(keyword)) => likely(keyword.kind()),
                (6, None) | (11.., None) => likely(SecretKind::Pin),
                _ => Some((SecretKind::Pin, Certainty::Doubtful)),
            };
        }
        let year = is_year(run);
        if self.position_before(run.chars.start) && !year && !is_short_hotline(run) {
            // 最后两位是07, 前三位九六二, 中间21: a position names part of a secret, with or without a
            // keyword (this bot is about one PIN).
            return likely(near.map_or(SecretKind::Password, Keyword::kind));
        }
        if (4..=8).contains(&len) && !year && !is_short_hotline(run) && self.code_hint_near(run) {
            return likely(SecretKind::SmsCode);
        }
        match near? {
            Keyword::Code if len >= 4 && !is_short_hotline(run) => likely(SecretKind::SmsCode),
            Keyword::Password if len >= 3 && !is_short_hotline(run) && !year => {
                likely(SecretKind::Password)
            }
            Keyword::Id | Keyword::Card if len >= 4 && !year => likely(near?.kind()),
            _ => None,
        }
    }

    /// The keyword right before `start`, with only spaces, quotes, `:`, connector words (是, 为, 就是 ...) and
    /// a position phrase (前三位, 最后两位) between.
    fn keyword_right_before(&self, start: usize) -> Option<RightBefore> {
        let chars = self.chars();
        let mut end = start;
        let (mut explicit, mut part) = (false, false);
        for _ in 0..KEYWORD_REACH {
            if let Some(keyword) = self.keyword_ending_at(end) {
                return Some(RightBefore {
                    keyword,
                    explicit,
                    part,
                });
            }
            let c = chars[end.checked_sub(1)?];
            let n = narrow(c);
            if matches!(n, ':' | '=' | '：') {
                explicit = true;
                end -= 1;
            } else if super::numerals::is_invisible(c) || c.is_whitespace() || is_opening_quote(n) {
                end -= 1;
            } else if let Some(word) = CONNECTORS.iter().find(|w| self.word_ends_at(end, w)) {
                explicit = true;
                end -= word.chars().count();
            } else if POSITION_CHARS.contains(c) {
                (explicit, part) = (true, true);
                end -= 1;
            } else {
                return None;
            }
        }
        None
    }

    /// Whether a position phrase ends right before `start` (spaces, `:`, 是 or 为 between): 前三位, 后四位,
    /// 最后两位, 末两位, 第一位, 前三个, 後兩碼, 前面, 中间, 最后, 开头, 结尾.
    fn position_before(&self, start: usize) -> bool {
        let chars = self.chars();
        let end = self.before_connector(start);
        if end == 0 {
            return false;
        }
        let starts = |c: char| "前后後最末头頭尾第中开開结結".contains(c);
        match chars[end - 1] {
            // 前三位, 后四位, 最后一位, 第二个, 後兩碼: a start, at most two numeral chars, then the unit.
            '位' | '个' | '個' | '码' | '碼' => (end.saturating_sub(4)..end - 1).any(|j| {
                starts(chars[j])
                    && chars[j + 1..end - 1]
                        .iter()
                        .all(|&c| "一二三四五六七八九十两兩几幾".contains(c) || starts(c))
            }),
            // 前面, 后面, 中间, 最后, 开头, 结尾, 末尾.
            '面' | '间' | '間' | '后' | '後' | '头' | '頭' | '尾' => {
                end >= 2 && starts(chars[end - 2])
            }
            _ => false,
        }
    }

    /// A word near the number, in the same sentence, that says it was sent to be typed in (发来, 收到, 让我输).
    fn code_hint_near(&self, run: &Run) -> bool {
        let chars = self.chars();
        let hint_ends_at = |end: usize| CODE_HINTS.iter().any(|w| self.word_ends_at(end, w));
        let hint_starts_at =
            |start: usize| CODE_HINTS.iter().any(|w| self.word_starts_at(start, w));
        let before = (run.chars.start.saturating_sub(NEAR_BEFORE)..=run.chars.start)
            .rev()
            .take_while(|&end| end == run.chars.start || !is_sentence_end(chars[end]))
            .any(hint_ends_at);
        let after = (run.chars.end..=(run.chars.end + NEAR_AFTER).min(chars.len()))
            .take_while(|&start| start == run.chars.end || !is_sentence_end(chars[start - 1]))
            .any(hint_starts_at);
        before || after
    }

    /// A keyword before the number in the same sentence, or just after it.
    fn keyword_near(&self, run: &Run) -> Option<Keyword> {
        let chars = self.chars();
        let mut end = run.chars.start;
        for _ in 0..=NEAR_BEFORE {
            if let Some(keyword) = self.keyword_ending_at(end) {
                return Some(keyword);
            }
            if end == 0 || is_sentence_end(chars[end - 1]) {
                break;
            }
            end -= 1;
        }
        for start in run.chars.end..=run.chars.end + NEAR_AFTER {
            if let Some(&(_, keyword)) =
                KEYWORDS.iter().find(|(w, _)| self.word_starts_at(start, w))
            {
                return Some(keyword);
            }
            if start >= chars.len() || is_sentence_end(chars[start]) {
                break;
            }
        }
        None
    }

    fn keyword_ending_at(&self, end: usize) -> Option<Keyword> {
        KEYWORDS
            .iter()
            .find(|(w, _)| self.word_ends_at(end, w))
            .map(|&(_, k)| k)
    }

    /// Whether the chars just before `end` spell `word` (narrowed and lower-cased). A word starting with a Latin
    /// letter must not continue a Latin word ("spin" holds no "pin").
    fn word_ends_at(&self, end: usize, word: &str) -> bool {
        let chars = self.chars();
        let len = word.chars().count();
        if end > chars.len() {
            return false;
        }
        let Some(start) = end.checked_sub(len) else {
            return false;
        };
        let spelled = chars[start..end]
            .iter()
            .zip(word.chars())
            .all(|(&c, w)| narrow(c).to_ascii_lowercase() == w);
        let latin = word.starts_with(|c: char| c.is_ascii_alphabetic());
        let letter = |j: usize| {
            chars
                .get(j)
                .is_some_and(|&c| narrow(c).is_ascii_alphabetic())
        };
        let glued = latin && (start.checked_sub(1).is_some_and(letter) || letter(end));
        spelled && !glued
    }

    /// Whether the words around the number make it ordinary: a postcode, an error code, a quantity, an amount,
    /// an ordinal.
    fn ordinary_context(&self, run: &Run) -> bool {
        let (start, end) = (run.chars.start, run.chars.end);
        let short = run.digits.len() <= 10;
        let ordinal = start > 0 && matches!(self.chars()[start - 1], '第');
        short && (self.unit_after(end) || self.currency_before(start) || ordinal)
            || self.ordinary_word_before(start)
            || ORDINARY_AFTER.iter().any(|w| self.word_starts_at(end, w))
            || (end..=end + NEAR_AFTER).any(|i| {
                ORDINARY_SOON_AFTER
                    .iter()
                    .any(|w| self.word_starts_at(i, w))
                    && !self.chars()[end..i.min(self.chars().len())]
                        .iter()
                        .any(|&c| is_sentence_end(c))
            })
            || (7..=8).contains(&run.digits.len()) && self.landline_word_before(start)
    }

    /// An ordinary word right before `start`, with at most a connector, `:`, `#`, spaces or a Latin prefix
    /// of the code itself between (错误代码E1002).
    fn ordinary_word_before(&self, start: usize) -> bool {
        let chars = self.chars();
        let mut end = start;
        for _ in 0..6 {
            if ORDINARY_BEFORE.iter().any(|w| self.word_ends_at(end, w)) {
                return true;
            }
            let Some(&c) = end.checked_sub(1).and_then(|j| chars.get(j)) else {
                return false;
            };
            if matches!(narrow(c), ':' | '#' | '.' | '-' | '(' | '（')
                || narrow(c).is_ascii_uppercase()
                || c.is_whitespace()
                || matches!(c, '是' | '为')
            {
                end -= 1;
            } else {
                return false;
            }
        }
        false
    }

    fn word_starts_at(&self, start: usize, word: &str) -> bool {
        let len = word.chars().count();
        self.word_ends_at(start + len, word)
    }

    /// Whether a unit follows `end`, at most a few spaces away: the run is an amount or a quantity.
    fn unit_after(&self, end: usize) -> bool {
        let chars = self.chars();
        let mut i = end;
        while i < end + 3
            && chars
                .get(i)
                .is_some_and(|&c| c == ' ' || c == '\u{3000}' || super::numerals::is_invisible(c))
        {
            i += 1;
        }
        let Some(&c) = chars.get(i) else {
            return false;
        };
        let next = chars.get(i + 1).copied();
        let two = |a: char, b: &[char]| c == a && next.is_some_and(|n| b.contains(&n));
        // 180000多 (more than 180000), but not 123456多少.
        let about = c == '多' && !matches!(next, Some('少'));
        about
            || two('小', &['时', '時'])
            || two('分', &['钟', '鐘'])
            || two('公', &['里', '斤'])
            || matches!(
                narrow(c),
                '元' | '块'
                    | '塊'
                    | '角'
                    | '毛'
                    | '年'
                    | '月'
                    | '日'
                    | '号'
                    | '號'
                    | '次'
                    | '回'
                    | '遍'
                    | '岁'
                    | '歲'
                    | '个'
                    | '個'
                    | '天'
                    | '周'
                    | '分'
                    | '秒'
                    | '点'
                    | '點'
                    | '位'
                    | '步'
                    | '页'
                    | '楼'
                    | '层'
                    | '路'
                    | '条'
                    | '张'
                    | '份'
                    | '名'
                    | '户'
                    | '%'
                    | '人'
                    | '倍'
                    | '万'
                    | '萬'
                    | '亿'
                    | '億'
                    | '米'
                    | 'm'
                    | 'k'
                    | 'g'
            )
    }

    /// Whether a currency sign stands right before `start` (one space allowed): the run is an amount.
    fn currency_before(&self, start: usize) -> bool {
        let chars = self.chars();
        let mut i = start;
        if i > 0 && chars[i - 1] == ' ' {
            i -= 1;
        }
        i > 0 && matches!(chars[i - 1], '¥' | '￥' | '$' | '＄' | '€' | '£' | '￡')
    }
}

fn is_sentence_end(c: char) -> bool {
    matches!(
        narrow(c),
        '。' | '!' | '?' | ';' | '\n' | '！' | '？' | '；'
    )
}

/// The kind that the shape of a long run tells, if any.
fn shape(run: &Run) -> Option<SecretKind> {
    let digits = &run.digits[..];
    let mobile = |d: &[u8]| d.len() == 11 && d[0] == 1 && (3..=9).contains(&d[1]);
    match digits.len() {
        _ if run.check_x => Some(SecretKind::IdNumber),
        11 if mobile(digits) => Some(SecretKind::PhoneNumber),
        13 if digits.starts_with(&[8, 6]) && mobile(&digits[2..]) => Some(SecretKind::PhoneNumber),
        15 if digits.starts_with(&[0, 0, 8, 6]) && mobile(&digits[4..]) => {
            Some(SecretKind::PhoneNumber)
        }
        18 if id_checksum_holds(digits) || has_birth_date(digits) => Some(SecretKind::IdNumber),
        15 => Some(SecretKind::IdNumber),
        16..=19 => Some(SecretKind::CardNumber),
        _ => None,
    }
}

/// The check digit of an 18-digit ID number (ISO 7064 MOD 11-2), where 10 is written X.
fn id_checksum_holds(digits: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    let check = (12 - sum % 11) % 11;
    digits.len() == 18 && check < 10 && u32::from(digits[17]) == check
}

/// Whether eight digits read as a date: a year 1900-2099, a month and a day (20240501).
fn is_yyyymmdd(d: &[u8]) -> bool {
    let n = |r: Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    d.len() == 8
        && (1900..=2099).contains(&n(0..4))
        && (1..=12).contains(&n(4..6))
        && (1..=31).contains(&n(6..8))
}

/// Whether an 18-digit number holds a birth date where an ID number does (digits 7 to 14).
fn has_birth_date(digits: &[u8]) -> bool {
    digits.len() == 18 && is_yyyymmdd(&digits[6..14])
}

/// Whether the run reads as an ordinary number by its shape alone: a date, a time, a hotline, a landline
/// with an area code, a version number or an amount with thousands separators.
fn is_ordinary_shape(run: &Run) -> bool {
    !run.chinese
        && (is_hotline(run)
            || is_decimal(run)
            || is_dialled_hotline(run)
            || is_dates(run)
            || is_times(run)
            || is_compact_date(run)
            || is_landline(run)
            || is_version(run)
            || is_amount(run))
}

/// Four digits in one group reading as a year 1900-2099.
fn is_year(run: &Run) -> bool {
    run.digits.len() == 4 && run.groups.len() == 1 && (1900..=2099).contains(&run.group_value(0))
}

/// A decimal number: digits, a dot, one or two digits (1500.00, 1200.5).
fn is_decimal(run: &Run) -> bool {
    run.groups.len() == 2 && run.gaps[0] == Gap::Dot && (1..=2).contains(&run.groups[1])
}

/// A five-digit hotline dialled with a country or area code before it (+86 10 12333, 010-12333).
fn is_dialled_hotline(run: &Run) -> bool {
    let Some(&last) = run.groups.last() else {
        return false;
    };
    let prefix = run.digits.len() - last;
    run.groups.len() >= 2
        && last == 5
        && prefix <= 5
        && u32::try_from(run.group_value(run.groups.len() - 1))
            .is_ok_and(|n| SHORT_HOTLINES.contains(&n))
}

/// A 400/800 service number, or a list of five-digit hotlines ("12333、95512").
fn is_hotline(run: &Run) -> bool {
    let d = &run.digits;
    let service = d.len() == 10 && (d.starts_with(&[4, 0, 0]) || d.starts_with(&[8, 0, 0]));
    let mut first = 0;
    let hotlines = run.groups.len() >= 2
        && run.groups.iter().all(|&len| {
            let ok = len == 5 && matches!(d[first], 1 | 9);
            first += len;
            ok
        });
    service || hotlines
}

/// A landline with its area code: 0 and two or three more digits, then seven or eight digits (or a
/// five-digit hotline: 0571-12333).
fn is_landline(run: &Run) -> bool {
    let d = &run.digits;
    let area = run.groups.first().copied().unwrap_or(0);
    let grouped = run.groups.len() >= 2 && (3..=4).contains(&area) && (8..=12).contains(&d.len());
    let compact = run.groups.len() == 1 && (11..=12).contains(&d.len()) && d[1] != 0;
    d.first() == Some(&0) && (grouped || compact)
}

/// A version number: three groups or more split by dots, not all of one length, not six digits in all
/// (10.5.86.8000, but not the PINs 12.34.56 and 3.14.15.9).
fn is_version(run: &Run) -> bool {
    run.digits.len() != 6
        && run.groups.len() >= 3
        && run.gaps.iter().all(|&g| g == Gap::Dot)
        && run.groups.iter().any(|&len| len != run.groups[0])
        && run.groups[0] <= 2
}

/// An amount with thousands separators: 1-3 digits, then groups of three after commas, and cents or at least
/// two thousands groups (103,560.23 or 1,234,567; not 123,456).
fn is_amount(run: &Run) -> bool {
    let g = &run.groups;
    if g.len() < 2 || g[0] > 3 || run.gaps[0] != Gap::Comma {
        return false;
    }
    let cents = run.gaps.last() == Some(&Gap::Dot) && matches!(g.last(), Some(1 | 2));
    let thousands = if cents { &g[1..g.len() - 1] } else { &g[1..] };
    let commas = if cents {
        &run.gaps[..run.gaps.len() - 1]
    } else {
        &run.gaps[..]
    };
    !thousands.is_empty()
        && thousands.iter().all(|&len| len == 3)
        && commas.iter().all(|&gap| gap == Gap::Comma)
        && (cents || thousands.len() >= 2)
}

/// Times: groups of at most two digits, a colon between hours and minutes (10:30, 9:00-12:00).
fn is_times(run: &Run) -> bool {
    run.gaps.contains(&Gap::Colon)
        && run.groups.iter().all(|&len| len <= 2)
        && (0..run.groups.len()).all(|i| run.group_value(i) <= 59)
}

/// A compact date: eight digits reading as a year, a month and a day (20240501).
fn is_compact_date(run: &Run) -> bool {
    run.groups.len() == 1 && is_yyyymmdd(&run.digits)
}

/// Whether the run's groups read as one or more dates: year-month(-day), day-month-year or month.day
/// (5.1-5.7), each optionally followed by the hours, minutes and seconds ("2024-10-01 10:30").
fn is_dates(run: &Run) -> bool {
    if run
        .gaps
        .iter()
        .any(|g| matches!(g, Gap::Comma | Gap::Other))
    {
        return false;
    }
    let groups: Vec<(usize, u64)> = (0..run.groups.len())
        .map(|i| (run.groups[i], run.group_value(i)))
        .collect();
    let year = |(len, value): (usize, u64)| len == 4 && (1900..=2099).contains(&value);
    let small = |(len, value): (usize, u64), max: u64| len <= 2 && value <= max;
    let day = |g| small(g, 31) && g.1 >= 1;
    let month = |g| small(g, 12) && g.1 >= 1;
    let spaced = run.gaps.iter().all(|&g| g == Gap::Space);
    let mut i = 0;
    let mut dates = 0;
    while i < groups.len() {
        let g = |k: usize| groups.get(i + k).copied();
        let times = if g(0).is_some_and(year) && g(1).is_some_and(month) {
            i += 2;
            true
        } else if g(0).is_some_and(day)
            && g(1).is_some_and(day)
            && g(2).is_some_and(year)
            && (g(0).is_some_and(month) || g(1).is_some_and(month))
        {
            i += 3;
            true
        } else if !spaced
            && matches!(groups.len(), 2 | 4)
            && g(0).is_some_and(month)
            && g(1).is_some_and(day)
        {
            // month.day, alone or as a range (5.1-5.7); not split by spaces, which is how PINs are typed.
            i += 2;
            false
        } else {
            return false;
        };
        dates += 1;
        let mut extra = 0;
        while times && extra < 4 && groups.get(i).is_some_and(|&g| small(g, 59)) {
            i += 1;
            extra += 1;
        }
    }
    dates > 0
}

/// Quotes and brackets that may open the digits after a keyword (密码是“123”).
fn is_opening_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '“' | '‘' | '「' | '『' | '(' | '（' | '[' | '【' | '《'
    )
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
