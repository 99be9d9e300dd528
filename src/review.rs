//! What the staff read to keep the FAQ right: unanswered questions grouped and ranked, and activity counts.
//!
//! Records come from the store ([`crate::store::UnansweredRecord`]). Messages without words (a stray
//! "1", an emoji, a masked number) are dropped: there is nothing in them to add to the FAQ. Questions
//! are compared in the matcher's normalised form (synonyms applied, fillers and punctuation gone), and
//! near-identical ones are grouped under the most frequent one ([`near_identical`]); groups are ranked
//! by how often they were asked. The same groups are shown as a terminal table, as TSV lines for
//! `tests.tsv` (the expected id left for a person to fill), and as a Telegram message. Beside them, the
//! answers citizens marked 👎 ("answered but not helpful"), by entry.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{FixedOffset, TimeZone};

use crate::matcher::Decision;
use crate::store::{Counts, NotHelpfulRecord, UnansweredRecord};
use crate::text::guard::MASK;

/// Two normalised questions at least this similar are one group: 0.8 allows one changed character in
/// five (a typo, a dropped particle, a different measure word), by edit distance over characters or
/// by the characters they share in any order.
pub const GROUP_SIMILARITY: f64 = 0.8;

/// Dates are shown in China Standard Time, where the citizens and the staff are.
const CST_SECONDS: i32 = 8 * 3600;

/// Near-identical unanswered questions, counted together.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The most asked question of the group, with `count`, `first_seen` and `last_seen` taken over the
    /// whole group (what the bot did, and its best candidate, are the representative's).
    pub record: UnansweredRecord,
    /// How many differently written questions the group holds (1 = just the representative).
    pub variants: usize,
}

/// Whether a message has words in it: a letter or a Chinese character, not only digits, emoji,
/// punctuation or a masked number.
pub fn has_words(text: &str) -> bool {
    text.replace(MASK, "").chars().any(char::is_alphabetic)
}

/// Whether two unanswered questions are the same question written differently, compared in the
/// matcher's normalised form (so 忘了 and 想不起来 are already one word): within [`GROUP_SIMILARITY`]
/// by edit distance (a typo, a dropped particle), or sharing that share of their characters in any
/// order, as the matcher's character features do (「亲情服务怎么弄」, 「怎么开亲情服务」).
pub fn near_identical(a: &UnansweredRecord, b: &UnansweredRecord) -> bool {
    strsim::normalized_levenshtein(&a.normalized, &b.normalized) >= GROUP_SIMILARITY
        || shared_chars(&a.normalized, &b.normalized) >= GROUP_SIMILARITY
}

/// Dice coefficient over the characters of two texts, as multisets: 1.0 for the same characters in
/// any order.
fn shared_chars(a: &str, b: &str) -> f64 {
    let mut counts: HashMap<char, i64> = HashMap::new();
    for c in a.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let mut common = 0;
    for c in b.chars() {
        if let Some(n) = counts.get_mut(&c)
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        0.0
    } else {
        2.0 * f64::from(common) / total as f64
    }
}

/// Drops messages without words, groups near-identical questions and ranks the groups: most asked
/// first, then most recent.
pub fn group(mut records: Vec<UnansweredRecord>) -> Vec<Group> {
    records.retain(|r| has_words(&r.text));
    records.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.last_seen.cmp(&a.last_seen))
            .then(a.normalized.cmp(&b.normalized))
    });
    let mut groups: Vec<Group> = Vec::new();
    for r in records {
        match groups.iter_mut().find(|g| near_identical(&g.record, &r)) {
            Some(g) => {
                g.record.count += r.count;
                g.record.first_seen = g.record.first_seen.min(r.first_seen);
                g.record.last_seen = g.record.last_seen.max(r.last_seen);
                g.variants += 1;
            }
            None => groups.push(Group {
                record: r,
                variants: 1,
            }),
        }
    }
    groups.sort_by(|a, b| {
        b.record
            .count
            .cmp(&a.record.count)
            .then(b.record.last_seen.cmp(&a.record.last_seen))
    });
    groups
}

/// `2026-11-25 14:03` in China Standard Time.
pub fn datetime(unix: i64) -> String {
    let cst = FixedOffset::east_opt(CST_SECONDS).expect("a valid offset");
    cst.timestamp_opt(unix, 0).single().map_or_else(
        || unix.to_string(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

fn best(r: &UnansweredRecord) -> String {
    match &r.top {
        Some(id) => format!("{id} {:.2}", r.score),
        None => "-".into(),
    }
}

/// Makes a question safe for one TSV field: tabs and line breaks become spaces.
fn one_line(text: &str) -> String {
    text.split(['\t', '\n', '\r']).collect::<Vec<_>>().join(" ")
}

/// A table for the terminal, one group a line, the question last (its width varies).
pub fn table(groups: &[Group], out: &mut impl std::io::Write) -> std::io::Result<()> {
    if groups.is_empty() {
        return writeln!(out, "no unanswered questions in this period");
    }
    writeln!(
        out,
        "{} group(s) of unanswered questions, most asked first; times in China Standard Time (UTC+8)\n",
        groups.len()
    )?;
    writeln!(
        out,
        "{:>5}  {:>7}  {:<16}  {:<16}  {:<8}  {:<44}  question",
        "count", "similar", "last seen", "first seen", "decision", "best candidate"
    )?;
    for g in groups {
        let r = &g.record;
        writeln!(
            out,
            "{:>5}  {:>7}  {:<16}  {:<16}  {:<8}  {:<44}  {}",
            r.count,
            g.variants - 1,
            datetime(r.last_seen),
            datetime(r.first_seen),
            r.decision.as_str(),
            best(r),
            one_line(&r.text)
        )?;
    }
    Ok(())
}

/// Lines for `tests.tsv`: `<TAB>question`, each after `#` comments with its numbers and what the bot did.
/// The expected id is left blank on purpose: the bot's guess may be the very mistake, and pasted as
/// it is it would lock that mistake in. A person writes the entry that should answer (or `none`);
/// a line still blank is an error in `shebao check`, at its line.
pub fn tsv(groups: &[Group], out: &mut impl std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "# Unanswered questions, most asked first. Before each TAB write the entry that should answer (or"
    )?;
    writeln!(
        out,
        "# `none` if the bot must not answer), paste into knowledge/tests.tsv and run `shebao check` until it passes."
    )?;
    writeln!(
        out,
        "# A line left without an id is an error in check (never a silent pass)."
    )?;
    for g in groups {
        let r = &g.record;
        writeln!(
            out,
            "# asked {}x ({} similar), last {}",
            r.count,
            g.variants - 1,
            datetime(r.last_seen)
        )?;
        writeln!(out, "# the bot: {}", bot_did(r))?;
        writeln!(out, "\t{}", one_line(&r.text))?;
    }
    Ok(())
}

/// What the bot did with a question, for the TSV's comment.
fn bot_did(r: &UnansweredRecord) -> String {
    let what = match r.decision {
        Decision::Answer => "answered",
        Decision::Clarify => "asked back",
        Decision::Fallback => "fell back",
    };
    match &r.top {
        Some(_) => format!("{what}; best candidate {}", best(r)),
        None => format!("{what}; no candidate"),
    }
}

/// The staff's `/unanswered`: the first `limit` groups as a short message.
pub fn message(groups: &[Group], days: u64, limit: usize) -> String {
    if groups.is_empty() {
        return format!("最近 {days} 天没有答不上的问题。");
    }
    let mut text = format!(
        "最近 {days} 天答不上的问题（共 {} 组，按次数排，前 {}）：\n",
        groups.len(),
        limit.min(groups.len())
    );
    for (n, g) in groups.iter().take(limit).enumerate() {
        let r = &g.record;
        let what = match r.decision {
            Decision::Clarify => "反问",
            _ => "兜底",
        };
        let similar = if g.variants > 1 {
            format!("，另有 {} 种相似问法", g.variants - 1)
        } else {
            String::new()
        };
        let _ = write!(
            text,
            "\n{}. {}次 「{}」\n   {what}，最接近 {}，最近 {}{similar}",
            n + 1,
            r.count,
            r.text,
            best(r),
            datetime(r.last_seen)
        );
    }
    text.push_str("\n\n把问法加到对应条目的 questions 里，再在 tests.tsv 加一条不同说法的用例；完整列表：停机后运行 shebao unanswered --format tsv。");
    text
}

/// "Answered but not helpful" for the terminal: one line per entry marked 👎, most often first. Each
/// line starts with `#`, so it can follow the TSV output too.
pub fn not_helpful_table(
    records: &[NotHelpfulRecord],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    if records.is_empty() {
        return writeln!(
            out,
            "\n# no answer was marked not helpful (👎) in this period"
        );
    }
    writeln!(
        out,
        "\n# answered but not helpful (👎), by the entry that was given, most often first:"
    )?;
    for r in records {
        writeln!(
            out,
            "# {:>5}x  {:<24}  last {}  first {}",
            r.count,
            r.entry,
            datetime(r.last_seen),
            datetime(r.first_seen)
        )?;
    }
    Ok(())
}

/// "Answered but not helpful" for the staff's `/unanswered`, after the unanswered groups.
pub fn not_helpful_message(records: &[NotHelpfulRecord], limit: usize) -> String {
    if records.is_empty() {
        return "答了但没帮上（👎）：没有。".to_string();
    }
    let mut text = String::from("答了但没帮上（👎，按次数排）：");
    for r in records.iter().take(limit) {
        let _ = write!(
            text,
            "\n· {} {}次，最近 {}",
            r.entry,
            r.count,
            datetime(r.last_seen)
        );
    }
    text.push_str("\n用 /why 加上这类问题，看看为什么答成了这个条目。");
    text
}

/// Activity over two periods, for `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub conversations: usize,
    pub counts: Counts,
}

/// The staff's `/stats`: the last 24 hours beside the last 7 days.
pub fn stats_message(day: &Stats, week: &Stats) -> String {
    let rows = [
        (
            "对话（有消息的聊天）",
            day.conversations as u64,
            week.conversations as u64,
        ),
        ("回答", day.counts.answered, week.counts.answered),
        (
            "反问（两个答案难分）",
            day.counts.clarified,
            week.counts.clarified,
        ),
        (
            "兜底（答不上）",
            day.counts.fallbacks,
            week.counts.fallbacks,
        ),
        (
            "答了但没帮上（👎）",
            day.counts.not_helpful,
            week.counts.not_helpful,
        ),
        ("有帮助（👍）", day.counts.helpful, week.counts.helpful),
        (
            "完成一步步重置",
            day.counts.flows_completed,
            week.counts.flows_completed,
        ),
        (
            "拦截密码/验证码/证件号",
            day.counts.secrets,
            week.counts.secrets,
        ),
    ];
    let mut text = String::from("统计：过去24小时 / 过去7天（按小时计，不含工作人员聊天）\n");
    for (label, d, w) in rows {
        let _ = write!(text, "\n{label}：{d} / {w}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str, normalized: &str, count: u64, last_seen: i64) -> UnansweredRecord {
        UnansweredRecord {
            text: text.into(),
            normalized: normalized.into(),
            count,
            first_seen: last_seen - 100,
            last_seen,
            decision: Decision::Fallback,
            top: Some("forgot_pin".into()),
            score: 0.31,
        }
    }

    #[test]
    fn near_identical_questions_are_counted_together_under_the_most_asked() {
        let groups = group(vec![
            record("社保卡能坐地铁吗", "社保卡能坐地铁", 2, 10),
            record("社保卡能乘地铁啊？", "社保卡能乘地铁啊", 1, 30),
            record("社保卡能坐地铁啊", "社保卡能坐地铁啊", 3, 20),
            record("养老金什么时候发", "养老金什么时候发", 4, 5),
        ]);
        assert_eq!(groups.len(), 2, "{groups:#?}");
        let first = &groups[0].record;
        assert_eq!(first.count, 6);
        assert_eq!(
            first.text, "社保卡能坐地铁啊",
            "the most asked wording stands for the group"
        );
        assert_eq!(groups[0].variants, 3);
        assert_eq!((first.first_seen, first.last_seen), (-90, 30));
        assert_eq!(groups[1].record.text, "养老金什么时候发");
    }

    #[test]
    fn the_tsv_leaves_the_id_for_a_person_and_check_points_at_a_line_left_blank() {
        let mut out = Vec::new();
        let mut oos = record("医保\t报销比例", "医保报销比例", 1, 0);
        oos.top = Some("out_of_scope:medical_insurance".into());
        tsv(
            &group(vec![record("卡丢了咋办", "卡丢了咋办", 2, 0), oos]),
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        insta::assert_snapshot!(text);
        assert!(
            text.contains("# the bot: fell back; best candidate forgot_pin 0.31\n\t卡丢了咋办\n"),
            "{text}"
        );
        let (cases, problems) = crate::knowledge::parse_cases(&text, "pasted.tsv");
        assert!(cases.is_empty(), "{cases:?}");
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        let blank: Vec<usize> = (1..=text.lines().count())
            .filter(|&n| text.lines().nth(n - 1).unwrap().starts_with('\t'))
            .collect();
        assert_eq!(lines, blank, "{problems:?}");
        assert!(
            problems[0].message.contains("no expected id"),
            "{problems:?}"
        );

        let filled = text
            .replace("\t卡丢了咋办", "reset_offline\t卡丢了咋办")
            .replace("\t医保 报销比例", "none\t医保 报销比例");
        let (cases, problems) = crate::knowledge::parse_cases(&filled, "pasted.tsv");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(cases[0].accepted, ["reset_offline"]);
        assert_eq!(cases[1].question, "医保 报销比例");
    }

    #[test]
    fn messages_without_words_are_dropped() {
        let groups = group(vec![
            record("1", "1", 9, 10),
            record("👍", "", 3, 10),
            record("******", "", 2, 10),
            record("１２", "12", 2, 10),
            record("亲情服务", "亲情服务", 1, 10),
        ]);
        let texts: Vec<&str> = groups.iter().map(|g| g.record.text.as_str()).collect();
        assert_eq!(texts, ["亲情服务"]);
    }

    #[test]
    fn the_same_words_in_another_order_are_one_group() {
        // The matcher's normalised forms of 「亲情服务怎么弄」 and 「怎么开亲情服务」.
        let a = record("亲情服务怎么弄", "亲情服务怎么办", 2, 10);
        let b = record("怎么开亲情服务", "怎么开亲情服务", 1, 20);
        let groups = group(vec![a, b]);
        assert_eq!(groups.len(), 1, "{groups:#?}");
        assert_eq!(groups[0].record.count, 3);
        // Forgotten and locked differ by a word once synonyms have made them one each: two questions.
        let c = record("密码锁了怎么办", "密码锁定怎么办", 1, 10);
        let d = record("怎么办密码忘了", "密码忘记怎么办", 1, 10);
        assert_eq!(group(vec![c, d]).len(), 2);
    }

    #[test]
    fn dates_are_shown_in_china_standard_time() {
        assert_eq!(datetime(0), "1970-01-01 08:00");
    }

    #[test]
    fn the_staff_message_lists_at_most_the_limit() {
        let records = (0..30)
            .map(|n| {
                // Thirty questions with nothing in common.
                let word: String = char::from_u32(0x4e00 + n * 97)
                    .unwrap()
                    .to_string()
                    .repeat(5);
                record(&word, &word, 1, i64::from(n))
            })
            .collect();
        let groups = group(records);
        let text = message(&groups, 90, 20);
        assert!(text.contains("\n20. "), "{text}");
        assert!(!text.contains("\n21. "), "{text}");
        assert_eq!(message(&[], 90, 20), "最近 90 天没有答不上的问题。");
    }

    #[test]
    fn answers_marked_not_helpful_are_listed_by_entry_for_the_staff() {
        let records = vec![NotHelpfulRecord {
            entry: "forgot_pin".into(),
            count: 3,
            first_seen: 0,
            last_seen: 0,
        }];
        let text = not_helpful_message(&records, 10);
        assert!(text.contains("forgot_pin 3次"), "{text}");
        let mut out = Vec::new();
        not_helpful_table(&records, &mut out).unwrap();
        let table = String::from_utf8(out).unwrap();
        assert!(table.lines().skip(1).all(|l| l.starts_with('#')), "{table}");
        assert!(table.contains("3x  forgot_pin"), "{table}");
        let stats = stats_message(&Stats::default(), &Stats::default());
        assert!(stats.contains("答了但没帮上（👎）：0 / 0"), "{stats}");
    }
}
