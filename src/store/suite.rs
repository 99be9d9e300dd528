//! The conformance checks every [`Store`] backend must pass, so sled, PostgreSQL and memory keep the same promises.
//!
//! Each check takes a fresh, empty store. A backend's tests call [`run_all`] with a factory:
//!
//! ```ignore
//! shebao::store::suite::run_all(|| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> }).await;
//! ```

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::api::{CLAIM_LEASE, Chat, Commit, Committed, Delivery, Store};
use super::{Counts, StoreError};
use crate::dialogue::{Record, State, Unanswered};
use crate::matcher::Decision;

/// Unix seconds the checks run at.
const NOW: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

type Check = fn(Arc<dyn Store>) -> BoxFuture<'static, ()>;

/// Every check, by name.
pub const CHECKS: &[(&str, Check)] = &[
    ("first_commit_wins", |s| Box::pin(first_commit_wins(s))),
    ("redelivered_update_is_a_duplicate", |s| {
        Box::pin(redelivered_update_is_a_duplicate(s))
    }),
    ("forget_keeps_applied_and_recent", |s| {
        Box::pin(forget_keeps_applied_and_recent(s))
    }),
    ("records_are_counted_and_kept", |s| {
        Box::pin(records_are_counted_and_kept(s))
    }),
    ("records_of_a_refused_commit_are_not_kept", |s| {
        Box::pin(records_of_a_refused_commit_are_not_kept(s))
    }),
    ("active_chats_leave_out_staff_and_forgotten", |s| {
        Box::pin(active_chats_leave_out_staff_and_forgotten(s))
    }),
    ("outbox_keeps_order_and_leases", |s| {
        Box::pin(outbox_keeps_order_and_leases(s))
    }),
    ("a_held_reply_holds_back_its_chat", |s| {
        Box::pin(a_held_reply_holds_back_its_chat(s))
    }),
    ("concurrent_commits_lose_no_increment", |s| {
        Box::pin(concurrent_commits_lose_no_increment(s))
    }),
    ("prune_deletes_only_old_records", |s| {
        Box::pin(prune_deletes_only_old_records(s))
    }),
    ("ping_answers", |s| {
        Box::pin(async move { s.ping().await.unwrap() })
    }),
];

/// Runs every check, each on a store `make` returns fresh; panics naming the first check that fails.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    for (name, check) in CHECKS {
        let store = make().await;
        eprintln!("store suite: {name} on {}", store.describe());
        let outcome = tokio::spawn(check(store)).await;
        if let Err(e) = outcome {
            panic!("store check {name} failed: {e}");
        }
    }
}

fn state(menu: u32) -> State {
    State {
        menu,
        last_active: NOW,
        ..State::default()
    }
}

fn commit(chat: i64, version: u64, update: Option<i64>, menu: u32) -> Commit {
    Commit {
        chat,
        version,
        update,
        state: Some(state(menu)),
        recent: vec![NOW * 1000],
        records: Vec::new(),
        outbox: Vec::new(),
        now: NOW,
    }
}

fn text(t: &str) -> Delivery {
    Delivery::Text {
        text: t.to_string(),
    }
}

async fn applied(store: &dyn Store, commit: Commit) -> Vec<u64> {
    match store.commit(commit).await.unwrap() {
        Committed::Applied(ids) => ids,
        other => panic!("expected the commit to apply, got {other:?}"),
    }
}

/// Records a batch with one commit on a chat of its own, as a session would.
async fn record(store: &dyn Store, chat: i64, records: Vec<Record>, now: i64) {
    let version = store.load(chat).await.unwrap().version;
    let mut c = commit(chat, version, None, 1);
    c.records = records;
    c.now = now;
    applied(store, c).await;
}

async fn first_commit_wins(store: Arc<dyn Store>) {
    assert_eq!(store.load(1).await.unwrap(), Chat::default());
    applied(&*store, commit(1, 0, Some(10), 1)).await;
    // A second writer that loaded the same version loses and must load again.
    assert_eq!(
        store.commit(commit(1, 0, Some(11), 2)).await.unwrap(),
        Committed::Conflict
    );
    let chat = store.load(1).await.unwrap();
    assert_eq!((chat.state.menu, chat.version, chat.applied), (1, 1, 10));
    assert_eq!(chat.recent, vec![NOW * 1000]);
    applied(&*store, commit(1, chat.version, Some(11), 2)).await;
    let chat = store.load(1).await.unwrap();
    assert_eq!((chat.state.menu, chat.version, chat.applied), (2, 2, 11));
    // Other chats are untouched; inputs that are not updates (the terminal) are never duplicates.
    assert_eq!(store.load(2).await.unwrap(), Chat::default());
    applied(&*store, commit(2, 0, None, 5)).await;
    applied(&*store, commit(2, 1, None, 6)).await;
    assert_eq!(store.load(2).await.unwrap().state.menu, 6);
}

async fn redelivered_update_is_a_duplicate(store: Arc<dyn Store>) {
    let mut c = commit(1, 0, Some(10), 1);
    c.outbox = vec![text("hello")];
    c.records = vec![Record::SecretIntercepted];
    applied(&*store, c.clone()).await;
    // Duplicate wins over the stale version: the same update, again, whatever the writer loaded.
    assert_eq!(store.commit(c.clone()).await.unwrap(), Committed::Duplicate);
    let v = store.load(1).await.unwrap().version;
    let mut again = c.clone();
    again.version = v;
    assert_eq!(
        store.commit(again.clone()).await.unwrap(),
        Committed::Duplicate
    );
    again.update = Some(9);
    assert_eq!(store.commit(again).await.unwrap(), Committed::Duplicate);
    assert_eq!(store.backlog().await.unwrap(), 1, "nothing queued twice");
    assert_eq!(
        store.counts(0).await.unwrap().secrets,
        1,
        "nothing counted twice"
    );
    // Forgotten, the chat still knows what it applied.
    let mut forget = commit(1, v, Some(11), 0);
    forget.state = None;
    applied(&*store, forget.clone()).await;
    forget.version = store.load(1).await.unwrap().version;
    assert_eq!(store.commit(forget).await.unwrap(), Committed::Duplicate);
}

async fn forget_keeps_applied_and_recent(store: Arc<dyn Store>) {
    applied(&*store, commit(3, 0, Some(20), 4)).await;
    let mut forget = commit(3, 1, Some(21), 0);
    forget.state = None;
    forget.recent = vec![NOW * 1000, NOW * 1000 + 5];
    applied(&*store, forget).await;
    let chat = store.load(3).await.unwrap();
    assert_eq!(chat.state, State::default(), "the state is gone");
    assert_eq!(chat.applied, 21);
    assert_eq!(chat.version, 2);
    assert_eq!(chat.recent, vec![NOW * 1000, NOW * 1000 + 5]);
    // The chat starts again from the forgotten row's version.
    applied(&*store, commit(3, 2, Some(22), 1)).await;
}

fn fallback(text: &str, normalized: &str) -> Record {
    Record::Unanswered(Unanswered {
        text: text.into(),
        normalized: normalized.into(),
        decision: Decision::Fallback,
        top: Some("forgot_pin".into()),
        score: 0.2,
    })
}

async fn records_are_counted_and_kept(store: Arc<dyn Store>) {
    let store = &*store;
    // The same normalised question adds to one record; the first wording is kept.
    record(
        store,
        1,
        vec![fallback("社保卡能坐地铁吗？", "社保卡能坐地铁")],
        NOW,
    )
    .await;
    record(
        store,
        2,
        vec![fallback("社保卡能坐地铁嗎", "社保卡能坐地铁")],
        NOW + 60,
    )
    .await;
    let records = store.unanswered(0).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].count, 2);
    assert_eq!(records[0].text, "社保卡能坐地铁吗？");
    assert_eq!(
        (records[0].first_seen, records[0].last_seen),
        (NOW, NOW + 60)
    );
    // Only questions asked within the period are listed.
    record(store, 1, vec![fallback("旧问题", "旧问题")], NOW - 10 * DAY).await;
    assert_eq!(store.unanswered(NOW - 7 * DAY).await.unwrap().len(), 1);
    assert_eq!(store.unanswered(NOW - 30 * DAY).await.unwrap().len(), 2);
    // A long question is cut; one with nothing to match on is counted but not kept.
    let long = "长".repeat(1000);
    record(
        store,
        1,
        vec![fallback(&long, &long), fallback("😀😀", "")],
        NOW,
    )
    .await;
    let records = store.unanswered(0).await.unwrap();
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .any(|r| r.text.chars().count() == super::records::MAX_TEXT_CHARS)
    );
    // Counts add up by kind within the period; several records of one commit all count.
    let answered = Record::Answered {
        entry: "forgot_pin".into(),
    };
    record(store, 4, vec![answered.clone()], NOW - 3 * DAY).await;
    record(
        store,
        4,
        vec![
            answered,
            Record::SecretIntercepted,
            Record::FlowCompleted {
                flow: "reset_pin".into(),
            },
            Record::Feedback {
                entry: "forgot_pin".into(),
                helpful: true,
            },
        ],
        NOW,
    )
    .await;
    assert_eq!(
        store.counts(NOW - DAY).await.unwrap(),
        Counts {
            answered: 1,
            fallbacks: 4,
            clarified: 0,
            flows_completed: 1,
            secrets: 1,
            helpful: 1,
            not_helpful: 0,
        }
    );
    assert_eq!(store.counts(NOW - 7 * DAY).await.unwrap().answered, 2);
    // A 👎 is counted and kept by entry, most often first.
    let down = |entry: &str| Record::Feedback {
        entry: entry.into(),
        helpful: false,
    };
    record(store, 5, vec![down("forgot_pin")], NOW - 100 * DAY).await;
    record(store, 5, vec![down("forgot_pin"), down("pin_locked")], NOW).await;
    let kept = store.not_helpful(0).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!((kept[0].entry.as_str(), kept[0].count), ("forgot_pin", 2));
    assert_eq!(kept[0].first_seen, NOW - 100 * DAY);
    assert_eq!(store.not_helpful(NOW - DAY).await.unwrap().len(), 2);
    assert_eq!(store.counts(NOW - DAY).await.unwrap().not_helpful, 2);
}

async fn records_of_a_refused_commit_are_not_kept(store: Arc<dyn Store>) {
    applied(&*store, commit(1, 0, Some(5), 1)).await;
    let mut stale = commit(1, 0, Some(6), 2);
    stale.records = vec![Record::SecretIntercepted];
    stale.outbox = vec![text("x")];
    assert_eq!(store.commit(stale).await.unwrap(), Committed::Conflict);
    assert_eq!(store.counts(0).await.unwrap(), Counts::default());
    assert_eq!(store.backlog().await.unwrap(), 0);
}

async fn active_chats_leave_out_staff_and_forgotten(store: Arc<dyn Store>) {
    let at = |chat, last_active| Commit {
        state: Some(State {
            last_active,
            ..State::default()
        }),
        ..commit(chat, 0, None, 0)
    };
    applied(&*store, at(1, NOW)).await;
    applied(&*store, at(2, NOW - 2 * DAY)).await;
    applied(&*store, at(3, NOW)).await;
    let mut forget = at(4, NOW);
    applied(&*store, forget.clone()).await;
    forget.version = 1;
    forget.state = None;
    applied(&*store, forget).await;
    assert_eq!(store.active_chats(NOW - DAY, &[3]).await.unwrap(), 1);
    assert_eq!(store.active_chats(NOW - 7 * DAY, &[]).await.unwrap(), 3);
}

async fn outbox_keeps_order_and_leases(store: Arc<dyn Store>) {
    let lease = CLAIM_LEASE.as_secs() as i64;
    let mut first = commit(1, 0, Some(1), 1);
    first.outbox = vec![text("a"), text("b")];
    let ids_a = applied(&*store, first).await;
    let mut other = commit(2, 0, Some(1), 1);
    other.outbox = vec![text("c")];
    let ids_c = applied(&*store, other).await;
    let mut second = commit(1, 1, Some(2), 2);
    second.outbox = vec![text("d")];
    let ids_d = applied(&*store, second).await;
    assert_eq!(ids_a.len(), 2);
    assert!(ids_a[0] < ids_a[1] && ids_a[1] < ids_c[0] && ids_c[0] < ids_d[0]);
    assert_eq!(store.backlog().await.unwrap(), 4);
    // The committer holds its replies for the lease: nobody else may claim them yet.
    assert!(store.claim(None, 10, NOW).await.unwrap().is_empty());
    assert!(
        store
            .claim(None, 10, NOW + lease - 1)
            .await
            .unwrap()
            .is_empty()
    );
    // The committer sent "a" and died: the rest is claimed after the lease, in order.
    store.mark_sent(&ids_a[..1]).await.unwrap();
    assert_eq!(store.backlog().await.unwrap(), 3);
    let later = NOW + lease + 1;
    let only_2 = store.claim(Some(2), 10, later).await.unwrap();
    assert_eq!(only_2.len(), 1);
    assert_eq!((only_2[0].chat, &only_2[0].delivery), (2, &text("c")));
    let claimed = store.claim(None, 10, later).await.unwrap();
    let got: Vec<_> = claimed
        .iter()
        .map(|p| (p.id, p.chat, p.delivery.clone()))
        .collect();
    assert_eq!(
        got,
        vec![(ids_a[1], 1, text("b")), (ids_d[0], 1, text("d"))],
        "chat 2's reply is held by its claimer"
    );
    // A claim of a lapsed lease returns the replies again; a live one does not.
    assert!(store.claim(None, 10, later + 1).await.unwrap().is_empty());
    let again = store.claim(None, 1, later + lease + 1).await.unwrap();
    assert_eq!(again.len(), 1, "the limit is kept");
    assert_eq!(again[0].id, ids_a[1], "oldest first");
    store
        .mark_sent(&[ids_a[1], ids_c[0], ids_d[0]])
        .await
        .unwrap();
    assert_eq!(store.backlog().await.unwrap(), 0);
    assert!(
        store
            .claim(None, 10, NOW + 100 * lease)
            .await
            .unwrap()
            .is_empty()
    );
    // Marking again is harmless.
    store.mark_sent(&ids_a).await.unwrap();
}

async fn a_held_reply_holds_back_its_chat(store: Arc<dyn Store>) {
    let lease = CLAIM_LEASE.as_secs() as i64;
    let mut first = commit(1, 0, Some(1), 1);
    first.outbox = vec![text("a")];
    applied(&*store, first).await;
    // A later commit of the same chat, whose lease lapses while "a" is claimed again by a sweeper.
    let claimed = store.claim(None, 10, NOW + lease + 1).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let mut second = commit(1, 1, Some(2), 2);
    second.outbox = vec![text("b")];
    second.now = NOW - lease;
    applied(&*store, second).await;
    assert!(
        store
            .claim(None, 10, NOW + lease + 2)
            .await
            .unwrap()
            .is_empty(),
        "\"b\" waits until \"a\" is sent or its claim lapses"
    );
    store.mark_sent(&[claimed[0].id]).await.unwrap();
    let next = store.claim(None, 10, NOW + lease + 2).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].delivery, text("b"));
}

async fn concurrent_commits_lose_no_increment(store: Arc<dyn Store>) {
    const TASKS: u32 = 8;
    const EACH: u32 = 25;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let store = store.clone();
        tasks.spawn(async move {
            let mut conflicts = 0u32;
            for _ in 0..EACH {
                loop {
                    let chat = store.load(9).await?;
                    let mut c = commit(9, chat.version, None, chat.state.menu + 1);
                    c.records = vec![Record::SecretIntercepted];
                    match store.commit(c).await? {
                        Committed::Applied(_) => break,
                        Committed::Conflict => conflicts += 1,
                        Committed::Duplicate => panic!("no update id, no duplicate"),
                    }
                    tokio::task::yield_now().await;
                }
            }
            Ok::<u32, StoreError>(conflicts)
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("store");
    }
    let chat = store.load(9).await.unwrap();
    assert_eq!(chat.state.menu, TASKS * EACH);
    assert_eq!(chat.version, u64::from(TASKS * EACH));
    assert_eq!(
        store.counts(0).await.unwrap().secrets,
        u64::from(TASKS * EACH),
        "each applied commit's records once"
    );
}

async fn prune_deletes_only_old_records(store: Arc<dyn Store>) {
    let store = &*store;
    record(
        store,
        1,
        vec![fallback("旧问题", "旧问题")],
        NOW - 100 * DAY,
    )
    .await;
    record(store, 1, vec![fallback("新问题", "新问题")], NOW).await;
    record(store, 1, vec![Record::SecretIntercepted], NOW - 100 * DAY).await;
    let down = Record::Feedback {
        entry: "pin_locked".into(),
        helpful: false,
    };
    record(store, 1, vec![down.clone()], NOW - 100 * DAY).await;
    record(store, 1, vec![down], NOW).await;
    let removed = store.prune(NOW - 90 * DAY).await.unwrap();
    assert_eq!(
        removed, 4,
        "one old question and three old counters (fallback, secret, 👎)"
    );
    let left = store.unanswered(0).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].text, "新问题");
    let counts = store.counts(0).await.unwrap();
    assert_eq!(
        (counts.secrets, counts.fallbacks, counts.not_helpful),
        (0, 1, 1)
    );
    assert_eq!(store.not_helpful(0).await.unwrap().len(), 1, "seen lately");
    store.prune(NOW + DAY).await.unwrap();
    assert!(store.not_helpful(0).await.unwrap().is_empty());
    assert!(store.unanswered(0).await.unwrap().is_empty());
    assert_eq!(store.counts(0).await.unwrap(), Counts::default());
    // Chats are not records: pruning keeps them.
    assert_eq!(store.load(1).await.unwrap().state.menu, 1);
}
