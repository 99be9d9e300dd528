//! The last line of defence: masks every number of four digits or more in text about to be stored, logged or shown to staff, whatever the guard decided.
//!
//! The guard ([`crate::text::guard`]) reads context to tell a PIN from a postcode, and context can fool it.
//! Nothing that leaves the engine for a store, a log line, a staff view or a report trusts it: free text goes
//! through [`scrub`] first, which needs no context at all. Any run of four digits or more is masked, in any
//! script [`crate::text::numerals`] reads (ASCII, full-width, Chinese, financial and radio numerals, circled and
//! keycap digits, the letter O between digits), across separators, spaces, punctuation, emoji and zero-width
//! chars. Only the public service numbers the knowledge names ([`SERVICE_NUMBERS`]) stay readable.
//!
//! [`Redacted`] is text that has been through [`scrub`]; it cannot be made otherwise (deserialising one scrubs
//! too), so a store whose records hold `Redacted` cannot keep a secret the guard missed.
//!
//! ```
//! use shebao::text::redact::scrub;
//! assert_eq!(scrub("邮编100000，打12333"), "邮编******，打12333");
//! assert_eq!(scrub("我的是 幺三九 1234 五六七八"), "我的是 ******");
//! assert_eq!(scrub("输错3次"), "输错3次");
//! ```

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::guard::MASK;
use super::numerals::{Run, Scan};

/// Public service numbers and apps the knowledge names (12333, 12329 公积金, 12306, 交管12123, 96110 反诈 ...);
/// they stay readable in stored text.
pub const SERVICE_NUMBERS: [&str; 8] = [
    "12333", "12393", "12329", "12306", "12123", "95512", "95518", "96110",
];

/// The fewest digits a masked run has.
pub const MIN_DIGITS: usize = 4;

/// Text with every run of [`MIN_DIGITS`] digits or more masked, service numbers excepted.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let scan = Scan::new(text);
    let mut masked = scan
        .runs
        .iter()
        .filter(|run| run.digits.len() >= MIN_DIGITS && !is_service_number(run))
        .peekable();
    if masked.peek().is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for run in masked {
        out.push_str(&text[last..run.bytes.start]);
        out.push_str(MASK);
        last = run.bytes.end;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// Whether every group of the run is a listed service number ("12333", "12333、12393").
fn is_service_number(run: &Run) -> bool {
    let digits = run.ascii();
    let mut first = 0;
    run.groups.iter().all(|&len| {
        let group = &digits[first..first + len];
        first += len;
        SERVICE_NUMBERS.contains(&group)
    })
}

/// Text that has been through [`scrub`]: the only kind of user text a store, a log or a staff view may hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Redacted(String);

impl Redacted {
    /// Scrubs `text`.
    pub fn new(text: &str) -> Redacted {
        Redacted(scrub(text).into_owned())
    }

    /// At most `max` chars of the text, trimmed (cut after scrubbing, so no cut can split a number into
    /// pieces too short to mask).
    pub fn truncated(&self, max: usize) -> Redacted {
        Redacted(self.0.trim().chars().take(max).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Redacted {
    fn from(text: String) -> Redacted {
        match scrub(&text) {
            Cow::Borrowed(_) => Redacted(text),
            Cow::Owned(s) => Redacted(s),
        }
    }
}

impl From<&str> for Redacted {
    fn from(text: &str) -> Redacted {
        Redacted::new(text)
    }
}

impl From<Redacted> for String {
    fn from(r: Redacted) -> String {
        r.0
    }
}

impl std::ops::Deref for Redacted {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Redacted {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for Redacted {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<&str> for Redacted {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn masked(text: &str, expected: &str) {
        assert_eq!(scrub(text), expected, "{text:?}");
    }

    #[test]
    fn four_digits_or_more_are_masked_in_any_script() {
        masked("1234", MASK);
        masked("验证码4821对吗", "验证码******对吗");
        masked("１２３４", MASK);
        masked("一二三四", MASK);
        masked("幺洞幺洞", MASK);
        masked("拐勾两两", MASK);
        masked("壹贰叁肆", MASK);
        masked("〇○一二", MASK);
        masked("①②③④", MASK);
        masked("❶❷❸❹", MASK);
        masked(
            "1\u{fe0f}\u{20e3}2\u{fe0f}\u{20e3}3\u{fe0f}\u{20e3}4\u{fe0f}\u{20e3}",
            "******\u{fe0f}\u{20e3}",
        );
        masked("١٢٣٤", MASK);
        masked("13O4", MASK);
        masked("1oo4", MASK);
    }

    #[test]
    fn separators_emoji_and_invisible_chars_do_not_split_a_run() {
        masked("12 34", MASK);
        masked("1  2  3  4", MASK);
        masked("12 - 34", MASK);
        masked("1,2,3,4", MASK);
        masked("1🌸2🌸3🌸4", MASK);
        masked("1\u{200b}2\u{200b}3\u{200b}4", MASK);
        masked("幺三九 1234 五六七八", MASK);
        masked("a12.34b", "a******b");
    }

    #[test]
    fn words_split_runs_and_short_numbers_stay() {
        masked("输错3次", "输错3次");
        masked("12岁34", "12岁34");
        masked("第1步第2步第3步第4步", "第1步第2步第3步第4步");
        masked("一直两个", "一直两个");
        masked("iPhone 12 Pro", "iPhone 12 Pro");
        masked("", "");
    }

    #[test]
    fn service_numbers_the_knowledge_names_stay_readable() {
        masked("打12333问问", "打12333问问");
        masked("12333、12393都打不通", "12333、12393都打不通");
        masked("12333 123456", MASK);
        masked("123334", MASK);
    }

    #[test]
    fn years_and_amounts_are_masked_too_because_the_scrub_reads_no_context() {
        masked("2024年", "******年");
        masked("103,560.23元", "******元");
    }

    #[test]
    fn every_service_number_in_the_knowledge_is_listed() {
        let source = crate::knowledge::Source::embedded();
        for file in &source.files {
            for word in file.text.split(|c: char| !c.is_ascii_digit()) {
                if word.len() >= MIN_DIGITS {
                    assert!(
                        SERVICE_NUMBERS.contains(&word),
                        "{}: {word} is not in SERVICE_NUMBERS",
                        file.name
                    );
                }
            }
        }
    }

    #[test]
    fn redacted_text_is_scrubbed_however_it_is_made() {
        assert_eq!(Redacted::new("密码123456"), "密码******");
        assert_eq!(
            Redacted::from("卡号6222 0212 3456 7890".to_string()),
            "卡号******"
        );
        let json = r#""手机13912345678""#;
        let r: Redacted = serde_json::from_str(json).unwrap();
        assert_eq!(r, "手机******");
        assert_eq!(serde_json::to_string(&r).unwrap(), r#""手机******""#);
        assert_eq!(Redacted::new("  一二三四五六七  ").truncated(3), "***");
    }

    #[test]
    fn huge_and_strange_input_is_handled() {
        let digits = "1 ".repeat(100_000);
        assert_eq!(scrub(&digits), format!("{MASK} "));
        let chinese = "一".repeat(100_000);
        assert_eq!(scrub(&chinese), MASK);
        let mixed = "一x".repeat(50_000);
        assert_eq!(scrub(&mixed), mixed);
    }
}
