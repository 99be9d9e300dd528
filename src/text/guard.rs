//! Keeps secrets that citizens type by mistake (PIN, SMS code, ID, phone or bank card number) out of everything the bot stores, logs or answers.
//!
//! Every incoming text passes [`guard`] before anything else. The bot deletes a message that holds a secret,
//! warns the user without echoing it, and only ever works with [`Guarded::redacted`].
//!
//! The main rule: a run of digits is a secret when it has six digits or more. Digits may be ASCII, full-width,
//! anything NFKC folds to one ASCII digit, or Chinese numerals (零〇一二三四五六七八九, 幺, 壹贰叁肆伍陆柒捌玖), and
//! scripts may mix. One visible separator may stand between two digits (space, full-width space, `-`, `—`, `.`,
//! `·`, `,`, `，`, `、`, `_`, `/`); zero-width and other invisible format chars are skipped entirely. The kind follows
//! the shape: 11 digits starting 1[3-9] (optionally after 86 or 0086) is a phone number, 15 digits or 17 plus
//! an X is an ID number, 16 to 19 digits is a bank card number, anything else is a PIN, or an SMS code or a
//! password when such a keyword comes shortly before it.
//!
//! Shorter runs (three to five digits) are secrets only right after a keyword: `密码`, `口令`, `PIN`, `pin码`
//! or a code word (`验证码`, `校验码`, `动态码`, `短信码`, at least four digits), optionally followed by `是`,
//! `为`, `就是`, `:` and the like.
//!
//! Ordinary numbers stay: a run of up to ten digits right before a unit (`元`, `年`, `次`, `位`, `小时`, `%` ...)
//! or right after a currency sign, dates (`2024-10-01`, `2024.10.01 10:30`, date ranges), 400/800 hotlines,
//! lists of five-digit hotlines (`12333、95512`), and Chinese numerals that do not stand next to another
//! numeral (`六位数`, `十一月`). A keyword right before the run overrides all of these.
//!
//! The scanner is hand-written and makes one pass over the chars with bounded look-behind and look-ahead, so
//! any input, however long or strange, is handled in linear time without panicking.
//!
//! ```
//! use shebao::text::guard::{SecretKind, guard};
//! let g = guard("用123456当密码可以吗");
//! assert_eq!(g.redacted, "用******当密码可以吗");
//! assert_eq!(g.secrets, [SecretKind::Pin]);
//! assert_eq!(guard("验证码是4821").secrets, [SecretKind::SmsCode]);
//! assert!(guard("12333打不通，2024年10月1日输错3次").is_clean());
//! ```

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;

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
    /// Digits after a word such as 密码, 口令 or PIN.
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

/// A secret found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// What kind of secret it is.
    pub kind: SecretKind,
    /// Where it is, in bytes of the text: from its first digit to its last digit (or ID check char X),
    /// separators in between included.
    pub span: Range<usize>,
}

/// A text with its secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarded {
    /// The text with every secret replaced by MASK (chars outside secrets unchanged).
    pub redacted: String,
    /// Kinds found, in order of appearance (empty when the text is clean).
    pub secrets: Vec<SecretKind>,
}

impl Guarded {
    /// Whether no secret was found, in which case `redacted` is the text itself.
    pub fn is_clean(&self) -> bool {
        self.secrets.is_empty()
    }
}

/// Finds the secrets in `text` and masks each one with [`MASK`].
pub fn guard(text: &str) -> Guarded {
    let found = find_secrets(text);
    if found.is_empty() {
        return Guarded {
            redacted: text.to_owned(),
            secrets: Vec::new(),
        };
    }
    let mut redacted = String::with_capacity(text.len());
    let mut last = 0;
    for secret in &found {
        redacted.push_str(&text[last..secret.span.start]);
        redacted.push_str(MASK);
        last = secret.span.end;
    }
    redacted.push_str(&text[last..]);
    Guarded {
        redacted,
        secrets: found.iter().map(|s| s.kind).collect(),
    }
}

/// Finds the secrets in `text`, in order of appearance, with their byte spans (which never overlap).
pub fn find_secrets(text: &str) -> Vec<Secret> {
    Scanner::new(text).secrets()
}

/// Words after which digits are a password, matched on narrowed, lower-cased chars.
/// Latin words must not be glued to a Latin letter before them.
const PASSWORD_WORDS: [&str; 7] = ["密码", "密碼", "口令", "pin码", "pin碼", "pin", "password"];

/// Words after which digits are a one-time code. Checked before [`PASSWORD_WORDS`], so 动态密码 is a code.
const CODE_WORDS: [&str; 10] = [
    "验证码",
    "驗證碼",
    "校验码",
    "校驗碼",
    "动态码",
    "動態碼",
    "短信码",
    "短信碼",
    "动态密码",
    "動態密碼",
];

/// Words that may stand between a keyword and its digits ("密码是", "密码就是", "密码改成"), longest first.
const CONNECTORS: [&str; 15] = [
    "是不是",
    "设置为",
    "设置成",
    "就是",
    "设为",
    "设成",
    "改为",
    "改成",
    "换成",
    "输入",
    "填的",
    "是",
    "为",
    "為",
    "填",
];

/// Well-known service numbers that a keyword followed only by a space does not turn into a secret
/// ("忘了密码 12333 能查吗"); with an explicit connector ("密码是12333") they are secrets.
const SHORT_HOTLINES: [[u8; 5]; 4] = [
    [1, 2, 3, 3, 3],
    [1, 0, 0, 8, 6],
    [1, 0, 0, 1, 0],
    [1, 0, 0, 0, 0],
];

/// How many keyword-free chars the look-behind for a keyword crosses at most.
const KEYWORD_REACH: usize = 8;

/// What a keyword before a run of digits announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Password,
    Code,
}

/// A digit as typed: its value and whether it was written as a Chinese numeral.
#[derive(Debug, Clone, Copy)]
struct Digit {
    value: u8,
    chinese: bool,
}

/// Digits standing together, possibly with single separators between them.
#[derive(Debug)]
struct Run {
    /// Index of the first digit's char.
    start: usize,
    /// Index one past the last char of the run (the last digit or the ID check char X).
    end: usize,
    /// The values of the digits, in order.
    digits: Vec<u8>,
    /// How many digits each group has; groups are split by visible separators only.
    groups: Vec<usize>,
    /// Whether any digit was a Chinese numeral.
    chinese: bool,
    /// Whether the run ends with the ID check char X after 17 digits.
    check_x: bool,
}

/// The text as chars, with byte offsets and the digit (if any) that each char stands for.
struct Scanner {
    chars: Vec<char>,
    /// Byte offset of each char, then `text.len()`.
    offsets: Vec<usize>,
    digits: Vec<Option<Digit>>,
}

impl Scanner {
    fn new(text: &str) -> Self {
        let (mut offsets, chars): (Vec<usize>, Vec<char>) = text.char_indices().unzip();
        offsets.push(text.len());
        let mut scanner = Scanner {
            chars,
            offsets,
            digits: Vec::new(),
        };
        scanner.digits = (0..scanner.chars.len())
            .map(|i| scanner.digit_of_char(i))
            .collect();
        scanner
    }

    /// The digit the char at `i` stands for. A Chinese numeral counts only next to another Chinese numeral
    /// (separators allowed), so words like 六位数, 十一月 or "12333一直占线" hold no digit.
    fn digit_of_char(&self, i: usize) -> Option<Digit> {
        let c = self.chars[i];
        if let Some(value) = arabic_digit(c) {
            return Some(Digit {
                value,
                chinese: false,
            });
        }
        let value = chinese_digit(c)?;
        let (after, _) = self.gap_after(i + 1);
        let before = self.gap_before(i);
        let numeral_at = |j: usize| {
            self.chars
                .get(j)
                .is_some_and(|&c| chinese_digit(c).is_some())
        };
        let paired = numeral_at(after) || before.checked_sub(1).is_some_and(numeral_at);
        paired.then_some(Digit {
            value,
            chinese: true,
        })
    }

    fn digit(&self, i: usize) -> Option<Digit> {
        self.digits.get(i).copied().flatten()
    }

    /// Skips the separator gap starting at `i`: any invisible chars and at most one visible separator.
    /// Returns where the gap ends and whether a visible separator was crossed.
    fn gap_after(&self, mut i: usize) -> (usize, bool) {
        let mut visible = false;
        while let Some(&c) = self.chars.get(i) {
            if is_invisible(c) {
                i += 1;
            } else if !visible && is_separator(c) {
                visible = true;
                i += 1;
            } else {
                break;
            }
        }
        (i, visible)
    }

    /// Skips the separator gap ending just before `i`, like [`Scanner::gap_after`] backwards. Returns where it starts.
    fn gap_before(&self, mut i: usize) -> usize {
        let mut visible = false;
        while i > 0 {
            let c = self.chars[i - 1];
            if is_invisible(c) {
                i -= 1;
            } else if !visible && is_separator(c) {
                visible = true;
                i -= 1;
            } else {
                break;
            }
        }
        i
    }

    fn secrets(&self) -> Vec<Secret> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < self.chars.len() {
            if self.digit(i).is_none() {
                i += 1;
                continue;
            }
            let run = self.run_at(i);
            i = run.end;
            if let Some(kind) = self.classify(&run) {
                found.push(Secret {
                    kind,
                    span: self.offsets[run.start]..self.offsets[run.end],
                });
            }
        }
        found
    }

    /// Reads the run of digits that starts at `start` (which holds a digit).
    fn run_at(&self, start: usize) -> Run {
        let mut run = Run {
            start,
            end: start,
            digits: Vec::new(),
            groups: Vec::new(),
            chinese: false,
            check_x: false,
        };
        let mut i = start;
        let mut new_group = true;
        while let Some(digit) = self.digit(i) {
            match run.groups.last_mut() {
                Some(count) if !new_group => *count += 1,
                _ => run.groups.push(1),
            }
            run.digits.push(digit.value);
            run.chinese |= digit.chinese;
            run.end = i + 1;
            (i, new_group) = self.gap_after(i + 1);
        }
        if run.digits.len() == 17 {
            let (after, _) = self.gap_after(run.end);
            if self
                .chars
                .get(after)
                .is_some_and(|&c| narrow(c).eq_ignore_ascii_case(&'x'))
            {
                run.end = after + 1;
                run.check_x = true;
            }
        }
        run
    }

    /// Decides whether a run is a secret and of which kind.
    fn classify(&self, run: &Run) -> Option<SecretKind> {
        let len = run.digits.len();
        let right_before = self.keyword_right_before(run.start);
        if len < 6 {
            let (keyword, explicit) = right_before?;
            if len < 3 || self.unit_after(run.end) {
                return None;
            }
            if !explicit && SHORT_HOTLINES.iter().any(|h| h[..] == run.digits[..]) {
                return None;
            }
            return match keyword {
                Keyword::Password => Some(SecretKind::Password),
                Keyword::Code if len >= 4 => Some(SecretKind::SmsCode),
                Keyword::Code => None,
            };
        }
        if right_before.is_none() && self.is_ordinary_number(run) {
            return None;
        }
        if let Some(kind) = shape(&run.digits, run.check_x) {
            return Some(kind);
        }
        let keyword = right_before
            .map(|(keyword, _)| keyword)
            .or_else(|| self.keyword_near_before(run.start));
        Some(match keyword {
            Some(Keyword::Password) => SecretKind::Password,
            Some(Keyword::Code) => SecretKind::SmsCode,
            None => SecretKind::Pin,
        })
    }

    /// Whether a run of six digits or more is an amount, a quantity, a date or a hotline rather than a secret.
    /// Runs longer than ten digits have the shape of phone, ID or card numbers and are never ordinary.
    fn is_ordinary_number(&self, run: &Run) -> bool {
        let quantity =
            run.digits.len() <= 10 && (self.unit_after(run.end) || self.currency_before(run.start));
        quantity || (!run.chinese && (is_hotline(run) || is_dates(run)))
    }

    /// The keyword right before `start`, with only spaces, quotes, `:` and connector words (是, 为, 就是 ...)
    /// between, and whether an explicit connector (a word, `:` or `=`) was among them.
    fn keyword_right_before(&self, start: usize) -> Option<(Keyword, bool)> {
        let mut end = start;
        let mut explicit = false;
        for _ in 0..KEYWORD_REACH {
            if let Some(keyword) = self.keyword_ending_at(end) {
                return Some((keyword, explicit));
            }
            let c = self.chars[end.checked_sub(1)?];
            let n = narrow(c);
            if matches!(n, ':' | '=') {
                explicit = true;
                end -= 1;
            } else if is_invisible(c) || c.is_whitespace() || is_opening_quote(n) {
                end -= 1;
            } else if let Some(word) = CONNECTORS.iter().find(|w| self.word_ends_at(end, w)) {
                explicit = true;
                end -= word.chars().count();
            } else {
                return None;
            }
        }
        None
    }

    /// The closest keyword ending at most [`KEYWORD_REACH`] chars before `start`, whatever stands between.
    fn keyword_near_before(&self, start: usize) -> Option<Keyword> {
        (0..=KEYWORD_REACH)
            .filter_map(|back| start.checked_sub(back))
            .find_map(|end| self.keyword_ending_at(end))
    }

    fn keyword_ending_at(&self, end: usize) -> Option<Keyword> {
        if CODE_WORDS.iter().any(|w| self.word_ends_at(end, w)) {
            Some(Keyword::Code)
        } else if PASSWORD_WORDS.iter().any(|w| self.word_ends_at(end, w)) {
            Some(Keyword::Password)
        } else {
            None
        }
    }

    /// Whether the chars just before `end` spell `word` (narrowed and lower-cased). A word starting with a Latin
    /// letter must not continue a Latin word ("spin" holds no "pin").
    fn word_ends_at(&self, end: usize, word: &str) -> bool {
        let len = word.chars().count();
        let Some(start) = end.checked_sub(len) else {
            return false;
        };
        let spelled = self.chars[start..end]
            .iter()
            .zip(word.chars())
            .all(|(&c, w)| narrow(c).to_ascii_lowercase() == w);
        let latin = word.starts_with(|c: char| c.is_ascii_alphabetic());
        let glued = latin
            && start
                .checked_sub(1)
                .is_some_and(|j| narrow(self.chars[j]).is_ascii_alphabetic());
        spelled && !glued
    }

    /// Whether a unit follows `end`, at most a few spaces away: the run is an amount or a quantity.
    fn unit_after(&self, end: usize) -> bool {
        let mut i = end;
        while i < end + 3
            && self
                .chars
                .get(i)
                .is_some_and(|&c| c == ' ' || c == '\u{3000}' || is_invisible(c))
        {
            i += 1;
        }
        let Some(&c) = self.chars.get(i) else {
            return false;
        };
        let hours = c == '小' && matches!(self.chars.get(i + 1), Some('时' | '時'));
        hours
            || matches!(
                narrow(c),
                '元' | '块'
                    | '塊'
                    | '年'
                    | '月'
                    | '日'
                    | '号'
                    | '號'
                    | '次'
                    | '岁'
                    | '歲'
                    | '个'
                    | '個'
                    | '天'
                    | '分'
                    | '秒'
                    | '位'
                    | '%'
                    | '人'
                    | '倍'
                    | '万'
                    | '萬'
                    | '亿'
                    | '億'
            )
    }

    /// Whether a currency sign stands right before `start` (one space allowed): the run is an amount.
    fn currency_before(&self, start: usize) -> bool {
        let mut i = start;
        if i > 0 && self.chars[i - 1] == ' ' {
            i -= 1;
        }
        i > 0
            && matches!(
                self.chars[i - 1],
                '¥' | '￥' | '$' | '＄' | '€' | '£' | '￡'
            )
    }
}

/// The kind that the shape of a long run tells, if any.
fn shape(digits: &[u8], check_x: bool) -> Option<SecretKind> {
    let mobile = |d: &[u8]| d.len() == 11 && d[0] == 1 && (3..=9).contains(&d[1]);
    match digits.len() {
        _ if check_x => Some(SecretKind::IdNumber),
        11 if mobile(digits) => Some(SecretKind::PhoneNumber),
        13 if digits.starts_with(&[8, 6]) && mobile(&digits[2..]) => Some(SecretKind::PhoneNumber),
        15 if digits.starts_with(&[0, 0, 8, 6]) && mobile(&digits[4..]) => {
            Some(SecretKind::PhoneNumber)
        }
        15 | 18 => Some(SecretKind::IdNumber),
        16..=19 => Some(SecretKind::CardNumber),
        _ => None,
    }
}

/// Whether the run is a 400/800 service number, or a list of five-digit hotlines ("12333、95512").
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

/// Whether the run's groups read as one or more dates: year-month(-day) or day-month-year, each optionally
/// followed by the hours, minutes and seconds ("2024-10-01 10:30" reaches here as 2024-10-01-10).
fn is_dates(run: &Run) -> bool {
    let mut groups = Vec::with_capacity(run.groups.len());
    let mut first = 0;
    for &len in &run.groups {
        let value = run.digits[first..first + len]
            .iter()
            .take(5)
            .fold(0u32, |acc, &d| acc * 10 + u32::from(d));
        groups.push((len, value));
        first += len;
    }
    let year = |(len, value): (usize, u32)| len == 4 && (1900..=2099).contains(&value);
    let small = |(len, value): (usize, u32), max: u32| len <= 2 && value <= max;
    let day = |g| small(g, 31) && g.1 >= 1;
    let month = |g| small(g, 12) && g.1 >= 1;
    let mut i = 0;
    while i < groups.len() {
        let g = |k: usize| groups.get(i + k).copied();
        if g(0).is_some_and(year) && g(1).is_some_and(month) {
            i += 2;
        } else if g(0).is_some_and(day)
            && g(1).is_some_and(day)
            && g(2).is_some_and(year)
            && (g(0).is_some_and(month) || g(1).is_some_and(month))
        {
            i += 3;
        } else {
            return false;
        }
        let mut extra = 0;
        while extra < 4 && groups.get(i).is_some_and(|&g| small(g, 59)) {
            i += 1;
            extra += 1;
        }
    }
    !groups.is_empty()
}

/// The value of an ASCII or full-width digit, or of any char that NFKC folds to one ASCII digit (𝟑, ³, ③).
fn arabic_digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => u8::try_from(u32::from(c) - u32::from('０')).ok(),
        _ if !c.is_ascii() && c.is_numeric() => {
            let mut folded = std::iter::once(c).nfkc();
            match (folded.next(), folded.next()) {
                (Some(d @ '0'..='9'), None) => Some(d as u8 - b'0'),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The value of a Chinese numeral digit: 零〇一二三四五六七八九, 幺 (1 when reading numbers aloud) and the
/// financial forms 壹贰叁肆伍陆柒捌玖 (also in Traditional). 十, 百, 两 and the like are words, not digits.
fn chinese_digit(c: char) -> Option<u8> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '幺' | '壹' => 1,
        '二' | '贰' | '貳' => 2,
        '三' | '叁' | '參' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' | '陸' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// Full-width ASCII forms (Ａ, ：, －, ，) as their ASCII counterparts; other chars unchanged.
fn narrow(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Zero-width and other invisible format chars (ZWSP, ZWJ, direction marks and overrides, BOM, soft hyphen):
/// they never hide a secret and never count as a separator.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{FEFF}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
    )
}

/// A visible separator that may stand once between two digits of one number.
fn is_separator(c: char) -> bool {
    matches!(
        narrow(c),
        ' ' | '\t' | '\u{00A0}' | '\u{202F}' | '\u{3000}' | '-' | '\u{2010}'
            ..='\u{2015}'
                | '\u{2212}'
                | '\u{FE63}'
                | '.'
                | '·'
                | '・'
                | '•'
                | ','
                | '、'
                | '_'
                | '/'
    )
}

/// Quotes and brackets that may open the digits after a keyword (密码是“123”).
fn is_opening_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '“' | '‘' | '「' | '『' | '(' | '（' | '[' | '【' | '《'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use SecretKind::*;
    use proptest::prelude::*;

    fn kinds(text: &str) -> Vec<SecretKind> {
        guard(text).secrets
    }

    #[track_caller]
    fn assert_clean(text: &str) {
        let g = guard(text);
        assert!(g.is_clean(), "{text:?} -> {g:?}");
        assert_eq!(g.redacted, text);
    }

    #[track_caller]
    fn assert_redacted(text: &str, redacted: &str, secrets: &[SecretKind]) {
        let g = guard(text);
        assert_eq!(g.redacted, redacted, "{text:?}");
        assert_eq!(g.secrets, secrets, "{text:?}");
    }

    /// Every char any digit script uses, for checking that no digit of a secret survives.
    fn is_any_digit(c: char) -> bool {
        arabic_digit(c).is_some() || chinese_digit(c).is_some()
    }

    #[test]
    fn six_ascii_digits_are_a_pin() {
        assert_redacted("123456", MASK, &[Pin]);
        assert_redacted("我的是 654321 吧", "我的是 ****** 吧", &[Pin]);
        assert_redacted("1234567", MASK, &[Pin]);
    }

    #[test]
    fn asking_whether_a_pin_is_good_keeps_the_rest_of_the_question() {
        let g = guard("用123456当密码可以吗");
        assert_eq!(g.redacted, "用******当密码可以吗");
        assert!(g.redacted.starts_with('用'));
        assert!(g.redacted.ends_with("当密码可以吗"));
        assert_eq!(g.secrets, [Pin]);
    }

    #[test]
    fn full_width_digits_are_secrets_too() {
        assert_redacted("用１２３４５６当密码", "用******当密码", &[Pin]);
        assert_eq!(kinds("１３８１２３４５６７８"), [PhoneNumber]);
        assert_eq!(kinds("密码是１２３"), [Password]);
        assert_eq!(kinds("验证码：４８２１"), [SmsCode]);
    }

    #[test]
    fn digits_that_nfkc_folds_are_secrets_too() {
        assert_eq!(kinds("𝟏𝟐𝟑𝟒𝟓𝟔"), [Pin]);
        assert_eq!(kinds("①②③④⑤⑥"), [Pin]);
    }

    #[test]
    fn chinese_numerals_are_digits_too() {
        assert_redacted("密码一二三四五六对吗", "密码******对吗", &[Password]);
        assert_redacted("我设的一二三四五六", "我设的******", &[Pin]);
        assert_eq!(kinds("壹贰叁肆伍陆"), [Pin]);
        assert_eq!(kinds("〇〇七〇〇七"), [Pin]);
        assert_eq!(kinds("幺三八幺二三四五六七八"), [PhoneNumber]);
        assert_eq!(kinds("密码是一二三"), [Password]);
        assert_eq!(kinds("验证码四八二一"), [SmsCode]);
    }

    #[test]
    fn digit_scripts_may_mix_in_one_number() {
        assert_eq!(kinds("123四五六"), [Pin]);
        assert_eq!(kinds("１2３4５6"), [Pin]);
    }

    #[test]
    fn ordinary_words_with_numeral_chars_are_not_secrets() {
        assert_clean("一一对应");
        assert_clean("三六九等");
        assert_clean("十一月一日");
        assert_clean("六位数");
        assert_clean("密码是六位数字吗");
        assert_clean("二〇二四年十月一日");
        assert_clean("12333一直占线");
        assert_clean("登陆12345");
    }

    #[test]
    fn single_separators_between_digits_do_not_hide_a_secret() {
        for text in [
            "123 456",
            "1-2-3-4-5-6",
            "12.34.56",
            "123，456",
            "1、2、3、4、5、6",
            "123_456",
            "12/34/56",
            "123—456",
            "123·456",
            "123\u{3000}456",
            "一 二 三 四 五 六",
            "１ ２ ３ ４ ５ ６",
        ] {
            assert_redacted(text, MASK, &[Pin]);
        }
    }

    #[test]
    fn zero_width_and_format_chars_do_not_hide_a_secret() {
        for text in [
            "123\u{200b}456",
            "1\u{200b}2\u{200c}3\u{200d}4\u{2060}5\u{feff}6",
            "123\u{200b} \u{200b}456",
            "\u{202e}123456\u{202c}",
            "12\u{200f}34\u{200e}56",
            "一\u{200b}二三四五六",
        ] {
            assert_eq!(kinds(text), [Pin], "{text:?}");
        }
        assert_redacted(
            "a\u{200b}123\u{200b}456\u{200b}b",
            "a\u{200b}******\u{200b}b",
            &[Pin],
        );
    }

    #[test]
    fn two_separators_in_a_row_end_a_number() {
        assert_clean("123  456");
        assert_clean("123--456");
        assert_clean("123——456");
        assert_clean("123\n456");
    }

    #[test]
    fn mobile_numbers_are_phone_numbers() {
        for text in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "+86-138-1234-5678",
            "008613812345678",
            "１９９１２３４５６７８",
            "幺三八 幺二三四 五六七八",
        ] {
            assert_eq!(kinds(text), [PhoneNumber], "{text:?}");
        }
        assert_redacted(
            "我手机+86 138 1234 5678收不到",
            "我手机+******收不到",
            &[PhoneNumber],
        );
        assert_eq!(kinds("12812345678"), [Pin]);
    }

    #[test]
    fn id_numbers_have_eighteen_or_fifteen_characters() {
        assert_redacted("身份证110105194912310021", "身份证******", &[IdNumber]);
        assert_redacted("11010519491231002X号码", "******号码", &[IdNumber]);
        assert_eq!(kinds("11010519491231002x"), [IdNumber]);
        assert_eq!(kinds("110105 19491231 002X"), [IdNumber]);
        assert_eq!(kinds("１１０１０５１９４９１２３１００２Ｘ"), [IdNumber]);
        assert_eq!(kinds("110105491231002"), [IdNumber]);
        assert_eq!(kinds("幺幺〇幺〇五幺九四九幺二三幺〇〇二幺"), [IdNumber]);
    }

    #[test]
    fn bank_card_numbers_have_sixteen_to_nineteen_digits() {
        assert_eq!(kinds("6222021234567890"), [CardNumber]);
        assert_eq!(kinds("6222 0212 3456 7890"), [CardNumber]);
        assert_eq!(kinds("6222-0212-3456-7890-123"), [CardNumber]);
        assert_eq!(
            kinds("卡号６２２２０２１２３４５６７８９０１"),
            [CardNumber]
        );
        assert_eq!(kinds("六二二二零二一二三四五六七八九零"), [CardNumber]);
    }

    #[test]
    fn codes_after_a_code_word_are_sms_codes() {
        assert_redacted("验证码是4821", "验证码是******", &[SmsCode]);
        assert_redacted("验证码 482193", "验证码 ******", &[SmsCode]);
        assert_eq!(kinds("短信验证码：48219375"), [SmsCode]);
        assert_eq!(kinds("校验码为 12345"), [SmsCode]);
        assert_eq!(kinds("动态码5678"), [SmsCode]);
        assert_eq!(kinds("短信码：“9876”"), [SmsCode]);
        assert_eq!(kinds("動態碼是 4321"), [SmsCode]);
        assert_eq!(kinds("动态密码1234"), [SmsCode]);
        assert_eq!(kinds("收到的验证码是多少来着，482193"), [SmsCode]);
    }

    #[test]
    fn codes_need_four_digits() {
        assert_clean("验证码是123");
        assert_clean("验证码60秒");
    }

    #[test]
    fn digits_after_a_password_word_are_a_password() {
        assert_redacted("密码是123", "密码是******", &[Password]);
        for text in [
            "密码为 4567",
            "密码:4567",
            "密码：4567",
            "密码就是888",
            "密码是不是12345",
            "PIN是1234",
            "pin码:12345",
            "Pin 1234",
            "ＰＩＮ：１２３４",
            "口令是 888",
            "密碼為 4567",
            "password: 1234",
            "密码改成 1357",
            "密码1234",
            "密码是“246”",
            "我的密码是123456",
            "密码：12333",
        ] {
            assert_eq!(kinds(text), [Password], "{text:?}");
        }
    }

    #[test]
    fn short_runs_need_a_keyword_right_before_them() {
        assert_clean("123");
        assert_clean("12345");
        assert_clean("密码忘了，我记得有个123");
        assert_clean("密码输错3次");
        assert_clean("spin 1234");
        assert_clean("ping 1234");
        assert_clean("忘了密码 12333 能查吗");
        assert_clean("密码12");
    }

    #[test]
    fn ordinary_numbers_are_not_secrets() {
        for text in [
            "12333",
            "打12333问问",
            "95512",
            "2024年",
            "输错3次",
            "6位",
            "24小时",
            "第1步",
            "六位数",
            "已经3天了",
            "100%",
            "第2024001号",
        ] {
            assert_clean(text);
        }
    }

    #[test]
    fn amounts_and_quantities_are_not_secrets() {
        for text in [
            "123456元",
            "100000块",
            "1,000,000元",
            "交了 120000 元",
            "3600秒",
            "¥123456",
            "￥ 1234567",
            "100000人",
            "120000万",
            "123456个小时",
        ] {
            assert_clean(text);
        }
        // A phone, ID or card number never turns into an amount.
        assert_eq!(kinds("13812345678人工服务"), [PhoneNumber]);
    }

    #[test]
    fn dates_are_not_secrets() {
        for text in [
            "2024-10-01",
            "2024.10.01",
            "2024/10/01",
            "2024年10月1日",
            "2024-10",
            "01/10/2024",
            "2024-10-01 10:30",
            "2024.10.1-2024.12.31期间",
            "1990.1.1",
        ] {
            assert_clean(text);
        }
    }

    #[test]
    fn hotlines_are_not_secrets() {
        for text in [
            "400-810-8888",
            "4008108888",
            "800 123 4567",
            "12333、12345都打不通",
            "12333 95512",
        ] {
            assert_clean(text);
        }
    }

    #[test]
    fn a_keyword_right_before_makes_even_ordinary_numbers_secrets() {
        assert_eq!(kinds("密码是1990-01-01"), [Password]);
        assert_eq!(kinds("密码：4008108888"), [Password]);
        assert_eq!(kinds("密码是123456元"), [Password]);
    }

    #[test]
    fn secrets_are_listed_in_order_of_appearance() {
        let g = guard("手机13812345678，密码123456，验证码4821，卡号6222021234567890");
        assert_eq!(g.secrets, [PhoneNumber, Password, SmsCode, CardNumber]);
        assert_eq!(
            g.redacted,
            "手机******，密码******，验证码******，卡号******"
        );
    }

    #[test]
    fn spans_cover_exactly_the_secret() {
        let text = "用 123-456 当密码";
        let found = find_secrets(text);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].span.clone()], "123-456");
    }

    #[test]
    fn no_digit_of_a_secret_survives_redaction() {
        for text in [
            "用123456当密码可以吗",
            "密码是 1 2 3 4 5 6，手机138-1234-5678",
            "身份证11010519491231002X，卡6222 0212 3456 7890",
            "验证码：４８２１",
            "一\u{200b}二三四五六",
            "幺三八幺二三四五六七八",
            "+86 138 1234 5678",
        ] {
            let g = guard(text);
            assert!(!g.is_clean(), "{text:?}");
            for secret in find_secrets(text) {
                assert!(!g.redacted.contains(&text[secret.span]), "{text:?}");
            }
            assert!(
                !g.redacted.chars().any(is_any_digit),
                "{text:?} -> {}",
                g.redacted
            );
        }
    }

    #[test]
    fn clean_text_comes_back_unchanged() {
        for text in [
            "",
            "电子社保卡密码忘了怎么办？",
            "拨打12333，按提示操作",
            "密码是几位数？6位吗",
            "\u{0}\u{1}\u{7f}\u{202e}abc",
        ] {
            assert_clean(text);
        }
    }

    #[test]
    fn labels_are_chinese() {
        assert_eq!(Pin.label(), "密码");
        assert_eq!(Password.label(), "密码");
        assert_eq!(SmsCode.label(), "验证码");
        assert_eq!(IdNumber.label(), "身份证号");
        assert_eq!(PhoneNumber.label(), "手机号");
        assert_eq!(CardNumber.label(), "银行卡号");
    }

    #[test]
    fn kinds_round_trip_through_serde() {
        let json = serde_json::to_string(&[Pin, SmsCode]).unwrap();
        assert_eq!(json, r#"["Pin","SmsCode"]"#);
        assert_eq!(
            serde_json::from_str::<Vec<SecretKind>>(&json).unwrap(),
            [Pin, SmsCode]
        );
    }

    #[test]
    fn huge_input_is_handled() {
        let one_run = "1 ".repeat(50_000);
        assert_redacted(&one_run, &format!("{MASK} "), &[Pin]);

        let many = "用123456当密码，2024年输错3次，".repeat(5_000);
        let g = guard(&many);
        assert_eq!(g.secrets.len(), 5_000);
        assert!(!g.redacted.contains("123456"));

        let invisible = format!("一{}二", "\u{200b}".repeat(100_000));
        assert_clean(&invisible);
        let numerals = "一\u{200b}".repeat(50_000);
        assert_eq!(kinds(&numerals), [Pin]);
        assert_clean(&"密码是".repeat(40_000));
        assert_clean(&"x".repeat(100_000));
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for round in 0..50 {
            let bytes: Vec<u8> = (0..4096 + round * 37)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[0]
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let g = guard(&text);
            assert_eq!(g.is_clean(), g.redacted == text);
        }
    }

    /// Maximal runs of ASCII and full-width digits in `text`, joined the way the guard joins them, as
    /// (the digits, whether six ASCII digits stand side by side in it).
    fn arabic_runs(text: &str) -> Vec<(Vec<u8>, bool)> {
        let chars: Vec<char> = text.chars().collect();
        let digit = |c: char| match narrow(c) {
            d @ '0'..='9' => Some(d as u8 - b'0'),
            _ => None,
        };
        let mut runs = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if digit(chars[i]).is_none() {
                i += 1;
                continue;
            }
            let (mut digits, mut side_by_side, mut longest) = (Vec::new(), 0, 0);
            while let Some(d) = chars.get(i).copied().and_then(digit) {
                digits.push(d);
                side_by_side = if chars[i].is_ascii_digit() {
                    side_by_side + 1
                } else {
                    0
                };
                longest = longest.max(side_by_side);
                i += 1;
                let mut j = i;
                let mut visible = false;
                while let Some(&c) = chars.get(j) {
                    if is_invisible(c) {
                        j += 1;
                    } else if !visible && is_separator(c) {
                        visible = true;
                        j += 1;
                    } else {
                        break;
                    }
                }
                if j > i && chars.get(j).copied().and_then(digit).is_some() {
                    side_by_side = 0;
                    i = j;
                }
            }
            runs.push((digits, longest >= 6));
        }
        runs
    }

    fn piece() -> impl Strategy<Value = String> {
        let separators = vec![
            " ", " ", "-", ".", "、", "，", "/", "_", "—", "\u{3000}", "\u{200b}", "\u{feff}",
            "\u{202e}",
        ];
        // No units or currency signs: an amount keeps its digits on purpose.
        let words = vec![
            "一",
            "二",
            "三",
            "四",
            "五",
            "六",
            "七",
            "八",
            "九",
            "零",
            "〇",
            "幺",
            "壹",
            "陆",
            "十",
            "密码",
            "是",
            "为",
            "验证码",
            "PIN",
            "用",
            "当",
            "可以吗",
            "手机",
            "X",
            "+86",
            "５",
            "０",
            "\n",
            "😭",
        ];
        prop_oneof![
            8 => (0u8..10).prop_map(|d| char::from(b'0' + d).to_string()),
            2 => prop::sample::select(separators).prop_map(str::to_string),
            2 => prop::sample::select(words).prop_map(str::to_string),
        ]
    }

    proptest! {
        #[test]
        fn guard_never_panics_on_any_string(text in any::<String>()) {
            let g = guard(&text);
            prop_assert_eq!(g.is_clean(), g.redacted == text);
        }

        #[test]
        fn six_ascii_digits_in_a_row_never_survive(pieces in prop::collection::vec(piece(), 0..80)) {
            let text = pieces.concat();
            let g = guard(&text);
            prop_assert_eq!(g.is_clean(), g.redacted == text);
            for (digits, six_in_a_row) in arabic_runs(&g.redacted) {
                // Only a 400/800 service number may keep six digits in a row.
                let service = digits.len() == 10 && matches!(digits[..3], [4, 0, 0] | [8, 0, 0]);
                prop_assert!(!six_in_a_row || service, "{:?} -> {:?}", text, g.redacted);
            }
        }
    }
}
