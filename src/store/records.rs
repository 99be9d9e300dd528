//! What the staff learn from conversations, tied to no chat: unanswered questions for review, hourly counts for `/stats`.
//!
//! An unanswered question is stored under its normalised form, so the same question typed again (other
//! punctuation, Traditional characters, a synonym) adds to one record's count instead of making a new
//! one. Its text is the guard's redacted text, scrubbed again by [`crate::text::redact`] (a [`Redacted`]
//! holds no number of four digits or more, whatever the guard missed) and cut to [`MAX_TEXT_CHARS`].
//! Counters are one sled key per kind and hour. An answer a citizen marked 👎 is kept under its entry id
//! ([`NotHelpfulRecord`]): which answer, how often, when; never the question or the chat. All are deleted
//! by [`Store::prune`] once older than the retention period.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError, decode};
use crate::dialogue::{Record, Unanswered};
use crate::matcher::Decision;
use crate::text::redact::Redacted;

/// Longest question text kept (longer messages are rarely questions; the rest is cut off).
pub const MAX_TEXT_CHARS: usize = 200;

/// One question the bot could not answer, with how often and when it was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnansweredRecord {
    /// The question as first typed, secrets masked. [`Redacted`] scrubs again when a record is read back, so
    /// even a record written by an older version shows no number of four digits or more.
    pub text: Redacted,
    /// The normalised form (the key), redacted the same way.
    pub normalized: Redacted,
    pub count: u64,
    /// Unix seconds.
    pub first_seen: i64,
    pub last_seen: i64,
    /// What the bot did the last time: `fallback` or `clarify`.
    pub decision: Decision,
    /// The best entry the matcher found the last time, and its score.
    pub top: Option<String>,
    pub score: f32,
}

/// An answer citizens said did not help (👎): "answered but not helpful", beside the fallbacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotHelpfulRecord {
    /// The entry that was given.
    pub entry: String,
    pub count: u64,
    /// Unix seconds.
    pub first_seen: i64,
    pub last_seen: i64,
}

/// What happened over a period, counted by the hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub answered: u64,
    pub fallbacks: u64,
    pub clarified: u64,
    pub flows_completed: u64,
    pub secrets: u64,
    /// 👍 under an answer.
    pub helpful: u64,
    /// 👎 under an answer.
    pub not_helpful: u64,
}

/// The kinds of counter, as the first byte of a counter key (and the `kind` column in PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(super) enum Counter {
    Answered = 1,
    Fallback = 2,
    Clarified = 3,
    FlowCompleted = 4,
    SecretIntercepted = 5,
    Helpful = 6,
    NotHelpful = 7,
}

pub(super) const COUNTERS: [Counter; 7] = [
    Counter::Answered,
    Counter::Fallback,
    Counter::Clarified,
    Counter::FlowCompleted,
    Counter::SecretIntercepted,
    Counter::Helpful,
    Counter::NotHelpful,
];

/// The JSON records of `tree` that `keep` accepts; a record that cannot be read is skipped.
fn read_since<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    keep: impl Fn(&T) -> bool,
) -> Result<Vec<T>, StoreError> {
    let mut records = Vec::new();
    for item in tree.iter() {
        let (_, bytes) = item?;
        if let Ok(r) = serde_json::from_slice::<T>(&bytes)
            && keep(&r)
        {
            records.push(r);
        }
    }
    Ok(records)
}

/// Deletes the JSON records of `tree` that are `stale` or cannot be read; returns how many.
fn prune_tree<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    stale: impl Fn(&T) -> bool,
) -> Result<usize, StoreError> {
    let mut removed = 0;
    for item in tree.iter() {
        let (key, bytes) = item?;
        if serde_json::from_slice::<T>(&bytes).map_or(true, |r| stale(&r)) {
            tree.remove(key)?;
            removed += 1;
        }
    }
    Ok(removed)
}

impl Counter {
    /// What a [`Record`] counts as.
    pub(super) fn of(record: &Record) -> Counter {
        match record {
            Record::Answered { .. } => Counter::Answered,
            Record::Unanswered(u) if u.decision == Decision::Clarify => Counter::Clarified,
            Record::Unanswered(_) => Counter::Fallback,
            Record::FlowCompleted { .. } => Counter::FlowCompleted,
            Record::SecretIntercepted => Counter::SecretIntercepted,
            Record::Feedback { helpful: true, .. } => Counter::Helpful,
            Record::Feedback { helpful: false, .. } => Counter::NotHelpful,
        }
    }

    /// The counter stored as `code` (`Counter as u8`), if this build knows it.
    pub(super) fn from_code(code: u8) -> Option<Counter> {
        COUNTERS.into_iter().find(|c| *c as u8 == code)
    }
}

impl Counts {
    /// Adds `n` to the count of `counter`.
    pub(super) fn add(&mut self, counter: Counter, n: u64) {
        let slot = match counter {
            Counter::Answered => &mut self.answered,
            Counter::Fallback => &mut self.fallbacks,
            Counter::Clarified => &mut self.clarified,
            Counter::FlowCompleted => &mut self.flows_completed,
            Counter::SecretIntercepted => &mut self.secrets,
            Counter::Helpful => &mut self.helpful,
            Counter::NotHelpful => &mut self.not_helpful,
        };
        *slot += n;
    }
}

pub(super) fn hour_of(unix: i64) -> u32 {
    unix.div_euclid(3600).clamp(0, i64::from(u32::MAX)) as u32
}

fn counter_key(counter: Counter, hour: u32) -> [u8; 5] {
    let h = hour.to_be_bytes();
    [counter as u8, h[0], h[1], h[2], h[3]]
}

impl Store {
    /// Keeps what a [`Record`] tells: counts it, and stores an unanswered question for review.
    /// Durable after the next flush, like [`Store::put`].
    pub fn record(&self, record: &Record, now: i64) -> Result<(), StoreError> {
        let counter = Counter::of(record);
        self.counters
            .update_and_fetch(counter_key(counter, hour_of(now)), |old| {
                let n = old.map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])));
                Some((n + 1).to_be_bytes().to_vec())
            })?;
        match record {
            Record::Unanswered(u) => self.keep_unanswered(u, now)?,
            Record::Feedback {
                entry,
                helpful: false,
            } => self.keep_not_helpful(entry, now)?,
            _ => {}
        }
        Ok(())
    }

    fn keep_not_helpful(&self, entry: &str, now: i64) -> Result<(), StoreError> {
        self.not_helpful.update_and_fetch(entry.as_bytes(), |old| {
            let record = match old.and_then(|b| serde_json::from_slice::<NotHelpfulRecord>(b).ok())
            {
                Some(r) => NotHelpfulRecord {
                    count: r.count + 1,
                    last_seen: now.max(r.last_seen),
                    ..r
                },
                None => NotHelpfulRecord {
                    entry: entry.to_string(),
                    count: 1,
                    first_seen: now,
                    last_seen: now,
                },
            };
            Some(serde_json::to_vec(&record).expect("a record always serialises"))
        })?;
        Ok(())
    }

    /// Answers marked 👎 at or after `since` (Unix seconds), most often first.
    pub fn not_helpful(&self, since: i64) -> Result<Vec<NotHelpfulRecord>, StoreError> {
        let mut records = read_since(&self.not_helpful, |r: &NotHelpfulRecord| {
            r.last_seen >= since
        })?;
        records.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.last_seen.cmp(&a.last_seen))
                .then(a.entry.cmp(&b.entry))
        });
        Ok(records)
    }

    fn keep_unanswered(&self, u: &Unanswered, now: i64) -> Result<(), StoreError> {
        // A question with nothing left to match on (only emoji or punctuation) teaches nothing.
        if u.normalized.is_empty() {
            return Ok(());
        }
        let text = u.text.truncated(MAX_TEXT_CHARS);
        let normalized = u.normalized.truncated(MAX_TEXT_CHARS);
        self.unanswered
            .update_and_fetch(normalized.as_bytes(), |old| {
                let record =
                    match old.and_then(|b| serde_json::from_slice::<UnansweredRecord>(b).ok()) {
                        Some(r) => UnansweredRecord {
                            count: r.count + 1,
                            last_seen: now.max(r.last_seen),
                            decision: u.decision,
                            top: u.top.clone(),
                            score: u.score,
                            ..r
                        },
                        None => UnansweredRecord {
                            text: text.clone(),
                            normalized: normalized.clone(),
                            count: 1,
                            first_seen: now,
                            last_seen: now,
                            decision: u.decision,
                            top: u.top.clone(),
                            score: u.score,
                        },
                    };
                Some(serde_json::to_vec(&record).expect("a record always serialises"))
            })?;
        Ok(())
    }

    /// Unanswered questions last asked at or after `since` (Unix seconds), in no particular order.
    /// A record that cannot be read is skipped.
    pub fn unanswered(&self, since: i64) -> Result<Vec<UnansweredRecord>, StoreError> {
        read_since(&self.unanswered, |r: &UnansweredRecord| {
            r.last_seen >= since
        })
    }

    /// What was counted from the hour holding `since` up to now.
    pub fn counts(&self, since: i64) -> Result<Counts, StoreError> {
        let from = hour_of(since);
        let mut counts = Counts::default();
        for counter in COUNTERS {
            let mut total = 0;
            for item in self
                .counters
                .range(counter_key(counter, from)..=counter_key(counter, u32::MAX))
            {
                let (_, bytes) = item?;
                total += u64::from_be_bytes(bytes.as_ref().try_into().unwrap_or([0; 8]));
            }
            counts.add(counter, total);
        }
        Ok(counts)
    }

    /// Conversations active at or after `since`: stored chats whose last message is that recent,
    /// leaving out the chats in `except` (the staff's own).
    pub fn active_chats(&self, since: i64, except: &[i64]) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.states.iter() {
            let (key, bytes) = item?;
            let chat = key
                .as_ref()
                .try_into()
                .map(i64::from_be_bytes)
                .unwrap_or_default();
            if !except.contains(&chat) && decode(&bytes).last_active >= since {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Deletes unanswered questions and 👎 answers last seen before `before`, and counters of hours wholly before it.
    /// Returns how many records were deleted. Durable after the next flush.
    pub fn prune(&self, before: i64) -> Result<usize, StoreError> {
        let mut removed = prune_tree(&self.unanswered, |r: &UnansweredRecord| {
            r.last_seen < before
        })?;
        removed += prune_tree(&self.not_helpful, |r: &NotHelpfulRecord| {
            r.last_seen < before
        })?;
        let cutoff = hour_of(before);
        for counter in COUNTERS {
            for item in self
                .counters
                .range(counter_key(counter, 0)..counter_key(counter, cutoff))
            {
                let (key, _) = item?;
                self.counters.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_750_000_000;

    fn fallback(text: &str, normalized: &str) -> Record {
        Record::Unanswered(Unanswered {
            text: text.into(),
            normalized: normalized.into(),
            decision: Decision::Fallback,
            top: Some("forgot_pin".into()),
            score: 0.2,
        })
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn the_same_normalised_question_adds_to_one_record() {
        let (_dir, store) = store();
        store
            .record(&fallback("社保卡能坐地铁吗？", "社保卡能坐地铁"), NOW)
            .unwrap();
        store
            .record(&fallback("社保卡能坐地铁嗎", "社保卡能坐地铁"), NOW + 60)
            .unwrap();
        let records = store.unanswered(0).unwrap();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(r.count, 2);
        assert_eq!(r.text, "社保卡能坐地铁吗？", "the first wording is kept");
        assert_eq!((r.first_seen, r.last_seen), (NOW, NOW + 60));
    }

    #[test]
    fn only_questions_asked_within_the_period_are_listed() {
        let (_dir, store) = store();
        store
            .record(&fallback("旧问题", "旧问题"), NOW - 10 * DAY)
            .unwrap();
        store
            .record(&fallback("新问题", "新问题"), NOW - DAY)
            .unwrap();
        let recent = store.unanswered(NOW - 7 * DAY).unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].text, "新问题");
        assert_eq!(store.unanswered(NOW - 30 * DAY).unwrap().len(), 2);
    }

    #[test]
    fn a_long_question_is_cut_and_an_empty_one_is_not_kept() {
        let (_dir, store) = store();
        let long = "长".repeat(1000);
        store.record(&fallback(&long, &long), NOW).unwrap();
        store.record(&fallback("😀😀", ""), NOW).unwrap();
        let records = store.unanswered(0).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].text.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(store.counts(0).unwrap().fallbacks, 2, "both are counted");
    }

    #[test]
    fn counts_add_up_by_kind_within_the_period() {
        let (_dir, store) = store();
        let answered = Record::Answered {
            entry: "forgot_pin".into(),
        };
        store.record(&answered, NOW - 3 * DAY).unwrap();
        store.record(&answered, NOW).unwrap();
        store.record(&Record::SecretIntercepted, NOW).unwrap();
        store
            .record(
                &Record::FlowCompleted {
                    flow: "reset_pin".into(),
                },
                NOW,
            )
            .unwrap();
        store.record(&fallback("天气", "天气"), NOW).unwrap();
        let day = store.counts(NOW - DAY).unwrap();
        assert_eq!(
            day,
            Counts {
                answered: 1,
                fallbacks: 1,
                clarified: 0,
                flows_completed: 1,
                secrets: 1,
                helpful: 0,
                not_helpful: 0,
            }
        );
        assert_eq!(store.counts(NOW - 7 * DAY).unwrap().answered, 2);
    }

    #[test]
    fn pruning_deletes_what_is_older_than_the_retention() {
        let (_dir, store) = store();
        store
            .record(&fallback("旧问题", "旧问题"), NOW - 100 * DAY)
            .unwrap();
        store.record(&fallback("新问题", "新问题"), NOW).unwrap();
        store
            .record(&Record::SecretIntercepted, NOW - 100 * DAY)
            .unwrap();
        let removed = store.prune(NOW - 90 * DAY).unwrap();
        assert_eq!(removed, 3, "one old question and two old counters");
        let left = store.unanswered(0).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].text, "新问题");
        assert_eq!(store.counts(0).unwrap().secrets, 0);
        assert_eq!(store.counts(0).unwrap().fallbacks, 1);
    }

    #[test]
    fn active_chats_count_recent_conversations_but_not_the_staff() {
        let (_dir, store) = store();
        let at = |t| crate::dialogue::State {
            last_active: t,
            ..Default::default()
        };
        store.put(1, &at(NOW)).unwrap();
        store.put(2, &at(NOW - 2 * DAY)).unwrap();
        store.put(3, &at(NOW)).unwrap();
        assert_eq!(store.active_chats(NOW - DAY, &[3]).unwrap(), 1);
        assert_eq!(store.active_chats(NOW - 7 * DAY, &[]).unwrap(), 3);
    }

    #[test]
    fn a_thumbs_down_is_counted_and_kept_by_entry_and_pruned_like_the_rest() {
        let (_dir, store) = store();
        let down = |entry: &str| Record::Feedback {
            entry: entry.into(),
            helpful: false,
        };
        store.record(&down("forgot_pin"), NOW - 100 * DAY).unwrap();
        store.record(&down("forgot_pin"), NOW).unwrap();
        store.record(&down("pin_locked"), NOW).unwrap();
        store
            .record(
                &Record::Feedback {
                    entry: "pin_locked".into(),
                    helpful: true,
                },
                NOW,
            )
            .unwrap();
        let kept = store.not_helpful(0).unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!((kept[0].entry.as_str(), kept[0].count), ("forgot_pin", 2));
        assert_eq!(kept[0].first_seen, NOW - 100 * DAY);
        let counts = store.counts(NOW - DAY).unwrap();
        assert_eq!((counts.helpful, counts.not_helpful), (1, 2));
        store.prune(NOW - 90 * DAY).unwrap();
        assert_eq!(
            store.not_helpful(0).unwrap().len(),
            2,
            "both were seen lately"
        );
        store.prune(NOW + 1).unwrap();
        assert!(store.not_helpful(0).unwrap().is_empty());
    }
}
