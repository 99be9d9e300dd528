//! Reads digits in every script a citizen may type them in, so the guard and the redaction think in numbers, not chars.
//!
//! A digit may be written as
//! - any Unicode decimal digit (general category Nd: ASCII, full-width, Arabic-Indic, Devanagari, mathematical
//!   bold, ...), read with the `dec_from_char` crate's tables generated from the Unicode Character Database;
//! - any char that NFKC folds to one ASCII digit, alone or with punctuation (①, ⑴, ⒈, ¹, 🄂);
//! - a dingbat circled digit that NFKC leaves alone (❶, ➀, ➊, ⓵, ⓿);
//! - a Chinese numeral: 零〇○一二三四五六七八九, the financial forms 壹贰叁肆伍陆柒捌玖 (and 貳參叄陸), 两/兩 for 2,
//!   the Suzhou numerals 〡〢〣〤〥〦〧〨〩, and the radio/telephone readings 幺 (1), 洞 (0), 拐 (7), 勾 (9);
//! - the letter O for zero next to other digits (handled by the scanners, which see the neighbours).
//!
//! Chinese numerals are also ordinary words (一直, 两个, 洞口), so a scanner counts them as digits only next to
//! other digits; see [`Script`].
//!
//! ```
//! use shebao::text::numerals::{Script, digit};
//! assert_eq!(digit('７'), Some((7, Script::Arabic)));
//! assert_eq!(digit('٣'), Some((3, Script::Arabic)));
//! assert_eq!(digit('❸'), Some((3, Script::Arabic)));
//! assert_eq!(digit('幺'), Some((1, Script::Chinese)));
//! assert_eq!(digit('x'), None);
//! ```

use dec_from_char::DecimalExtended;
use unicode_normalization::UnicodeNormalization;

/// How a digit was written, which decides how much context it needs to count as a digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// A digit glyph of any script (ASCII, full-width, circled, ...): always a digit.
    Arabic,
    /// A Chinese character that reads as a digit: a digit only beside another digit.
    Chinese,
}

/// The value of `c` as a digit and how it was written, or `None` if it is no digit.
pub fn digit(c: char) -> Option<(u8, Script)> {
    if let Some(d) = c.to_decimal_utf8() {
        return Some((d, Script::Arabic));
    }
    if let Some(d) = dingbat_digit(c) {
        return Some((d, Script::Arabic));
    }
    if let Some(d) = chinese_digit(c) {
        return Some((d, Script::Chinese));
    }
    if !c.is_ascii() && c.is_numeric() {
        return folded_digit(c).map(|d| (d, Script::Arabic));
    }
    None
}

/// Whether `c` is the letter O (or o, full-width too), which people type for zero inside numbers.
pub fn is_letter_o(c: char) -> bool {
    matches!(c, 'O' | 'o' | 'Ｏ' | 'ｏ')
}

/// The one ASCII digit that NFKC folds `c` to, with nothing but punctuation around it (① -> 1, ⑴ -> (1)).
fn folded_digit(c: char) -> Option<u8> {
    let mut value = None;
    for f in std::iter::once(c).nfkc() {
        match f {
            '0'..='9' if value.is_none() => value = Some(f as u8 - b'0'),
            '(' | ')' | '.' | ',' => {}
            _ => return None,
        }
    }
    value
}

/// Circled digits from the Dingbats and Enclosed Alphanumerics blocks that have no NFKC decomposition.
fn dingbat_digit(c: char) -> Option<u8> {
    let n = u32::from(c);
    let at = |one: u32| u8::try_from(n - one + 1).ok();
    match n {
        0x2776..=0x277E => at(0x2776), // ❶..❾
        0x2780..=0x2788 => at(0x2780), // ➀..➈
        0x278A..=0x2792 => at(0x278A), // ➊..➒
        0x24F5..=0x24FD => at(0x24F5), // ⓵..⓽
        0x24FF | 0x1F10C => Some(0),   // ⓿, 🄌
        _ => None,
    }
}

/// The value of a Chinese character that reads as a digit.
pub fn chinese_digit(c: char) -> Option<u8> {
    Some(match c {
        '零' | '〇' | '○' | '洞' => 0,
        '一' | '壹' | '幺' | '〡' => 1,
        '二' | '贰' | '貳' | '两' | '兩' | '〢' => 2,
        '三' | '叁' | '參' | '叄' | '〣' => 3,
        '四' | '肆' | '〤' => 4,
        '五' | '伍' | '〥' => 5,
        '六' | '陆' | '陸' | '〦' => 6,
        '七' | '柒' | '拐' | '〧' => 7,
        '八' | '捌' | '〨' => 8,
        '九' | '玖' | '勾' | '〩' => 9,
        _ => return None,
    })
}

/// Chars that never hide a digit and never separate two: zero-width and format chars, variation selectors,
/// the keycap combining mark (1️⃣ is `1`, U+FE0F, U+20E3), emoji skin tones, tag chars and combining marks.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180E}' | '\u{FEFF}'
        | '\u{0300}'..='\u{036F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0000}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}'
    ) || c.is_control() && !matches!(c, '\n' | '\r' | '\t')
}

/// Full-width ASCII forms (Ａ, ：, －, ，) as their ASCII counterparts; other chars unchanged.
pub fn narrow(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// How many visible non-space chars may stand between two digits of one number (`1 - 2`, `1,,2`, `1🌸2`).
pub const MAX_GAP_MARKS: usize = 3;
/// How many visible chars, spaces included, may stand between two digits of one number.
pub const MAX_GAP_CHARS: usize = 8;

/// What stands between two groups of digits of one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// Spaces only.
    Space,
    /// `:` (times).
    Colon,
    /// `.` (dates, versions, decimals).
    Dot,
    /// `-` or a dash.
    Dash,
    /// `/`.
    Slash,
    /// `,`, `，` or `、`.
    Comma,
    /// Anything else: emoji, brackets, several kinds of mark.
    Other,
}

/// One number as typed: digits of any script, possibly split into groups by short gaps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Char indices: the first digit to one past the last digit (or the ID check char X).
    pub chars: std::ops::Range<usize>,
    /// The same span in bytes of the text.
    pub bytes: std::ops::Range<usize>,
    /// The values of the digits, in order.
    pub digits: Vec<u8>,
    /// How many digits each group has; groups are split by visible gaps (invisible chars split nothing).
    pub groups: Vec<usize>,
    /// `gaps[i]` stands between `groups[i]` and `groups[i + 1]`.
    pub gaps: Vec<Gap>,
    /// Whether any digit was a Chinese numeral.
    pub chinese: bool,
    /// Whether the run ends with an ID check char X after 17 digits.
    pub check_x: bool,
}

impl Run {
    /// The value of group `i`, read as a decimal number (saturating).
    pub fn group_value(&self, i: usize) -> u64 {
        let first: usize = self.groups[..i].iter().sum();
        self.digits[first..first + self.groups[i]]
            .iter()
            .fold(0u64, |acc, &d| {
                acc.saturating_mul(10).saturating_add(u64::from(d))
            })
    }

    /// The digits as an ASCII string.
    pub fn ascii(&self) -> String {
        self.digits.iter().map(|&d| char::from(b'0' + d)).collect()
    }
}

/// A text split into chars, with every number in it.
pub struct Scan {
    pub chars: Vec<char>,
    /// Byte offset of each char, then the text's length.
    pub offsets: Vec<usize>,
    /// Whether each char counts as a digit here.
    pub is_digit: Vec<bool>,
    pub runs: Vec<Run>,
}

impl Scan {
    /// Finds every number in `text`, in linear time whatever the input.
    pub fn new(text: &str) -> Scan {
        let (mut offsets, chars): (Vec<usize>, Vec<char>) = text.char_indices().unzip();
        offsets.push(text.len());
        let is_digit = digit_chars(&chars);
        let mut scan = Scan {
            chars,
            offsets,
            is_digit,
            runs: Vec::new(),
        };
        let mut i = 0;
        while i < scan.chars.len() {
            if scan.is_digit[i] {
                let run = scan.run_at(i);
                i = run.chars.end;
                scan.runs.push(run);
            } else {
                i += 1;
            }
        }
        scan
    }

    fn value(&self, i: usize) -> u8 {
        digit(self.chars[i]).map_or(0, |(d, _)| d)
    }

    fn run_at(&self, start: usize) -> Run {
        let mut run = Run {
            chars: start..start,
            bytes: 0..0,
            digits: Vec::new(),
            groups: vec![0],
            gaps: Vec::new(),
            chinese: false,
            check_x: false,
        };
        let mut i = start;
        loop {
            run.digits.push(self.value(i));
            run.chinese |= matches!(digit(self.chars[i]), Some((_, Script::Chinese)));
            *run.groups.last_mut().expect("a run has a group") += 1;
            run.chars.end = i + 1;
            match self.gap(i + 1) {
                (next, gap) if self.is_digit.get(next).copied().unwrap_or(false) => {
                    if let Some(gap) = gap {
                        run.groups.push(0);
                        run.gaps.push(gap);
                    }
                    i = next;
                }
                _ => break,
            }
        }
        if run.digits.len() == 17 {
            let (after, _) = self.gap(run.chars.end);
            if self
                .chars
                .get(after)
                .is_some_and(|&c| narrow(c).eq_ignore_ascii_case(&'x'))
                && !self
                    .chars
                    .get(after + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic())
            {
                run.chars.end = after + 1;
                run.check_x = true;
            }
        }
        run.bytes = self.offsets[run.chars.start]..self.offsets[run.chars.end];
        run
    }

    /// Skips the gap of non-letters starting at `i` (at most [`MAX_GAP_MARKS`] marks and [`MAX_GAP_CHARS`]
    /// visible chars). Returns where it ends and, if anything visible stood in it, what kind of gap it was.
    fn gap(&self, i: usize) -> (usize, Option<Gap>) {
        gap_after(&self.chars, &self.is_digit, i)
    }
}

fn gap_after(chars: &[char], is_digit: &[bool], mut i: usize) -> (usize, Option<Gap>) {
    let (mut marks, mut width) = (0, 0);
    let mut gap: Option<Gap> = None;
    while let Some(&c) = chars.get(i) {
        if is_digit.get(i).copied().unwrap_or(false) || c.is_alphanumeric() || digit(c).is_some() {
            break;
        }
        if !is_invisible(c) {
            width += 1;
            let kind = match narrow(c) {
                c if c.is_whitespace() => Gap::Space,
                ':' => Gap::Colon,
                '.' => Gap::Dot,
                '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '~' | '～' => Gap::Dash,
                '/' => Gap::Slash,
                ',' | '、' | '，' => Gap::Comma,
                _ => Gap::Other,
            };
            if kind != Gap::Space {
                marks += 1;
            }
            gap = Some(match (gap, kind) {
                (None | Some(Gap::Space), k) => k,
                (Some(g), Gap::Space) => g,
                (Some(g), k) if g == k => g,
                _ => Gap::Other,
            });
            if marks > MAX_GAP_MARKS || width > MAX_GAP_CHARS {
                break;
            }
        }
        i += 1;
    }
    (i, gap)
}

/// Which chars count as digits: every digit glyph; a Chinese numeral beside another Chinese numeral, or
/// between two digits (139一2345678, but not the 一 of 12333一直); a letter O touching a digit and no other
/// Latin letter (13O4, but not the o of Pro).
fn digit_chars(chars: &[char]) -> Vec<bool> {
    let script: Vec<Option<Script>> = chars.iter().map(|&c| digit(c).map(|(_, s)| s)).collect();
    let no_digits = vec![false; chars.len()];
    // Neighbours across a gap of non-letters, as a run would cross it.
    let next = |k: usize| {
        let (j, _) = gap_after(chars, &no_digits, k + 1);
        (j < chars.len()).then_some(j)
    };
    let prev = |k: usize| {
        let mut j = k;
        let mut width = 0;
        while j > 0 {
            let c = chars[j - 1];
            if c.is_alphanumeric() || digit(c).is_some() {
                return Some(j - 1);
            }
            if !is_invisible(c) {
                width += 1;
                if width > MAX_GAP_CHARS {
                    return None;
                }
            }
            j -= 1;
        }
        None
    };
    let is = |j: Option<usize>, s: Script| j.is_some_and(|j| script[j] == Some(s));
    // Whether the char after `k` (invisible chars skipped) is a letter that makes a numeral a word (一直).
    let word_before = |k: usize| {
        chars[..k]
            .iter()
            .rev()
            .find(|&&c| !is_invisible(c))
            .is_some_and(|&c| c.is_alphanumeric() && digit(c).is_none())
    };
    let word_after = |k: usize| {
        chars[k + 1..]
            .iter()
            .find(|&&c| !is_invisible(c))
            .is_some_and(|&c| c.is_alphanumeric() && digit(c).is_none())
    };
    let mut is_digit: Vec<bool> = (0..chars.len())
        .map(|k| match script[k] {
            Some(Script::Arabic) => true,
            Some(Script::Chinese) => {
                let (p, n) = (prev(k), next(k));
                let lone_after_arabic = is(p, Script::Arabic) && !word_after(k);
                // Before digits, a numeral must not end a word (周五8:30, 登陆12345); the guard joins it
                // after a keyword (密码两3456).
                let lone_before_arabic = is(n, Script::Arabic) && !word_before(k);
                is(p, Script::Chinese)
                    || is(n, Script::Chinese)
                    || (is(p, Script::Arabic) && is(n, Script::Arabic))
                    || lone_after_arabic
                    || lone_before_arabic
            }
            None => false,
        })
        .collect();
    // Letter O's: a forward and a backward pass, so 1OO2 and OO12 join whole.
    let latin = |j: usize| {
        chars
            .get(j)
            .is_some_and(|&c| narrow(c).is_ascii_alphabetic() && !is_letter_o(c))
    };
    let forward: Vec<usize> = (0..chars.len()).collect();
    for order in [forward.clone(), forward.into_iter().rev().collect()] {
        for k in order {
            if is_digit[k] || !is_letter_o(chars[k]) {
                continue;
            }
            let left = k.checked_sub(1);
            let touches =
                left.is_some_and(|j| is_digit[j]) || is_digit.get(k + 1).copied().unwrap_or(false);
            let foreign = left.is_some_and(latin) || latin(k + 1);
            if touches && !foreign {
                is_digit[k] = true;
            }
        }
    }
    is_digit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_of_a_digit_reads_as_its_value() {
        for (c, value) in [
            ('7', 7),
            ('７', 7),
            ('𝟕', 7),
            ('٧', 7),
            ('७', 7),
            ('⑦', 7),
            ('⑺', 7),
            ('⒎', 7),
            ('❼', 7),
            ('➆', 7),
            ('➐', 7),
            ('⓻', 7),
            ('⁷', 7),
            ('⓿', 0),
            ('⓪', 0),
        ] {
            assert_eq!(digit(c), Some((value, Script::Arabic)), "{c:?}");
        }
    }

    #[test]
    fn chinese_numerals_of_every_register_read_as_digits() {
        let text = "洞幺两叁肆伍陆拐捌勾";
        let values: Vec<u8> = text.chars().filter_map(chinese_digit).collect();
        assert_eq!(values, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        for c in ['〇', '○', '零'] {
            assert_eq!(digit(c), Some((0, Script::Chinese)));
        }
        assert_eq!(digit('兩'), Some((2, Script::Chinese)));
        assert_eq!(digit('叄'), Some((3, Script::Chinese)));
    }

    #[test]
    fn numbers_that_are_not_one_digit_are_not_digits() {
        for c in ['⑩', 'Ⅻ', '½', '十', '百', 'a', '.', ' '] {
            assert_eq!(digit(c), None, "{c:?}");
        }
    }

    #[test]
    fn keycap_parts_and_skin_tones_are_invisible() {
        for c in ['\u{FE0F}', '\u{20E3}', '\u{200B}', '\u{1F3FD}', '\u{E0031}'] {
            assert!(is_invisible(c), "{c:?}");
        }
        for c in ['1', ' ', '-', '😀', '\n'] {
            assert!(!is_invisible(c), "{c:?}");
        }
    }
}
