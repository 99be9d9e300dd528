//! What the staff learn from conversations, tied to no chat: unanswered questions for review, hourly counts for `/stats`.
//!
//! An unanswered question is stored under its normalised form, so the same question typed again (other
//! punctuation, Traditional characters, a synonym) adds to one record's count instead of making a new
//! one. Its text is the guard's redacted text, scrubbed again by [`crate::text::redact`] (a [`Redacted`]
//! holds no number of four digits or more, whatever the guard missed) and cut to [`MAX_TEXT_CHARS`].
//! Counters are one key per kind and hour. An answer a citizen marked 👎 is kept under its entry id
//! ([`NotHelpfulRecord`]): which answer, how often, when; never the question or the chat. All are deleted
//! by [`super::api::Store::prune`] once older than the retention period. This module is the backends'
//! common part: how a record changes what is kept ([`keep`], through a backend's [`Tally`]) and how the
//! kept bytes are read back, so sled and memory keep exactly the same.

use serde::{Deserialize, Serialize};

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

const COUNTERS: [Counter; 7] = [
    Counter::Answered,
    Counter::Fallback,
    Counter::Clarified,
    Counter::FlowCompleted,
    Counter::SecretIntercepted,
    Counter::Helpful,
    Counter::NotHelpful,
];

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

/// Where a record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kept {
    /// Counter key ([`counter_key`]) -> count (8 bytes, big-endian).
    Counters,
    /// Normalised question -> [`UnansweredRecord`] (JSON).
    Unanswered,
    /// Entry id -> [`NotHelpfulRecord`] (JSON).
    NotHelpful,
}

/// The read-modify-write access a backend gives [`keep`] inside its commit.
pub(super) trait Tally {
    type Error;
    fn get(&mut self, tree: Kept, key: &[u8]) -> Result<Option<Vec<u8>>, Self::Error>;
    fn put(&mut self, tree: Kept, key: &[u8], value: Vec<u8>) -> Result<(), Self::Error>;
}

/// Keeps what a [`Record`] tells: counts it, and stores an unanswered question or a 👎 for review.
pub(super) fn keep<T: Tally>(to: &mut T, record: &Record, now: i64) -> Result<(), T::Error> {
    let key = counter_key(Counter::of(record), hour_of(now));
    let n = to
        .get(Kept::Counters, &key)?
        .map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])));
    to.put(Kept::Counters, &key, (n + 1).to_be_bytes().to_vec())?;
    match record {
        Record::Unanswered(u) => keep_unanswered(to, u, now),
        Record::Feedback {
            entry,
            helpful: false,
        } => keep_not_helpful(to, entry, now),
        _ => Ok(()),
    }
}

fn keep_not_helpful<T: Tally>(to: &mut T, entry: &str, now: i64) -> Result<(), T::Error> {
    let old = to.get(Kept::NotHelpful, entry.as_bytes())?;
    let record = match old.and_then(|b| serde_json::from_slice::<NotHelpfulRecord>(&b).ok()) {
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
    let bytes = serde_json::to_vec(&record).expect("a record always serialises");
    to.put(Kept::NotHelpful, entry.as_bytes(), bytes)
}

fn keep_unanswered<T: Tally>(to: &mut T, u: &Unanswered, now: i64) -> Result<(), T::Error> {
    // A question with nothing left to match on (only emoji or punctuation) teaches nothing.
    if u.normalized.is_empty() {
        return Ok(());
    }
    let text = u.text.truncated(MAX_TEXT_CHARS);
    let normalized = u.normalized.truncated(MAX_TEXT_CHARS);
    let old = to.get(Kept::Unanswered, normalized.as_bytes())?;
    let record = match old.and_then(|b| serde_json::from_slice::<UnansweredRecord>(&b).ok()) {
        Some(r) => UnansweredRecord {
            count: r.count + 1,
            last_seen: now.max(r.last_seen),
            decision: u.decision,
            top: u.top.clone(),
            score: u.score,
            ..r
        },
        None => UnansweredRecord {
            text,
            normalized: normalized.clone(),
            count: 1,
            first_seen: now,
            last_seen: now,
            decision: u.decision,
            top: u.top.clone(),
            score: u.score,
        },
    };
    let bytes = serde_json::to_vec(&record).expect("a record always serialises");
    to.put(Kept::Unanswered, normalized.as_bytes(), bytes)
}

/// The readable JSON records among `values` that `keep` accepts; a record that cannot be read is skipped.
pub(super) fn read_since<T: serde::de::DeserializeOwned>(
    values: impl IntoIterator<Item = impl AsRef<[u8]>>,
    keep: impl Fn(&T) -> bool,
) -> Vec<T> {
    values
        .into_iter()
        .filter_map(|bytes| serde_json::from_slice::<T>(bytes.as_ref()).ok())
        .filter(|r| keep(r))
        .collect()
}

/// Answers marked 👎 at or after `since`, most often first.
pub(super) fn not_helpful_since(
    values: impl IntoIterator<Item = impl AsRef<[u8]>>,
    since: i64,
) -> Vec<NotHelpfulRecord> {
    let mut records = read_since(values, |r: &NotHelpfulRecord| r.last_seen >= since);
    records.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.last_seen.cmp(&a.last_seen))
            .then(a.entry.cmp(&b.entry))
    });
    records
}

/// Unanswered questions last asked at or after `since`, in no particular order.
pub(super) fn unanswered_since(
    values: impl IntoIterator<Item = impl AsRef<[u8]>>,
    since: i64,
) -> Vec<UnansweredRecord> {
    read_since(values, |r: &UnansweredRecord| r.last_seen >= since)
}

/// Whether a stored unanswered question or 👎 record is older than `before` (or unreadable).
pub(super) fn stale(tree: Kept, bytes: &[u8], before: i64) -> bool {
    match tree {
        Kept::Unanswered => {
            serde_json::from_slice::<UnansweredRecord>(bytes).map_or(true, |r| r.last_seen < before)
        }
        Kept::NotHelpful => {
            serde_json::from_slice::<NotHelpfulRecord>(bytes).map_or(true, |r| r.last_seen < before)
        }
        Kept::Counters => false,
    }
}

/// Whether a counter key counts an hour wholly before `before`.
pub(super) fn counter_stale(key: &[u8], before: i64) -> bool {
    let cutoff = hour_of(before);
    key.get(1..5)
        .and_then(|h| h.try_into().ok())
        .is_some_and(|h| u32::from_be_bytes(h) < cutoff)
}

/// Adds up the counters (key, count) from the hour holding `since` on.
pub(super) fn counts_since<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    counters: impl IntoIterator<Item = (K, V)>,
    since: i64,
) -> Counts {
    let from = hour_of(since);
    let mut counts = Counts::default();
    for (key, value) in counters {
        let key = key.as_ref();
        let Some((&kind, hour)) = key.split_first() else {
            continue;
        };
        let Ok(hour) = <[u8; 4]>::try_from(hour) else {
            continue;
        };
        if u32::from_be_bytes(hour) < from {
            continue;
        }
        let n = u64::from_be_bytes(value.as_ref().try_into().unwrap_or([0; 8]));
        if let Some(counter) = Counter::from_code(kind) {
            counts.add(counter, n);
        }
    }
    counts
}

pub(super) fn hour_of(unix: i64) -> u32 {
    unix.div_euclid(3600).clamp(0, i64::from(u32::MAX)) as u32
}

fn counter_key(counter: Counter, hour: u32) -> [u8; 5] {
    let h = hour.to_be_bytes();
    [counter as u8, h[0], h[1], h[2], h[3]]
}
