//! The PostgreSQL store against a real server: each test on a fresh database of its own, made from `SHEBAO_TEST_POSTGRES`.
//!
//! `SHEBAO_TEST_POSTGRES` is an admin address that may `CREATE DATABASE` (`.ci/run` sets it). Without it
//! these tests fail when `CI` is set, and are skipped with a loud note otherwise.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt;
use shebao::dialogue::{Record, State, Unanswered};
use shebao::matcher::Decision;
use shebao::store::api::{CLAIM_LEASE, Commit, Committed, Delivery, Store};
use shebao::store::postgres::{PRUNE_LOCK, PgStore};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

const NOW: i64 = 1_750_000_000;

/// A database of its own for one test, dropped (with its connections) when the test ends.
pub struct TestDb {
    admin: String,
    name: String,
    /// The database's address, for `PgStore::connect` or a `shebao` process.
    pub url: String,
}

impl TestDb {
    /// A fresh, empty database; `None` (after a loud note) when no server is configured outside CI.
    pub async fn create() -> Option<TestDb> {
        let Ok(admin) = std::env::var("SHEBAO_TEST_POSTGRES") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "SHEBAO_TEST_POSTGRES is not set: in CI every PostgreSQL test must run (.ci/run sets it)"
            );
            eprintln!(
                "!!! SKIPPED: SHEBAO_TEST_POSTGRES is not set, so this PostgreSQL test did not run"
            );
            return None;
        };
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "shebao_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect(&admin)
            .await
            .expect("connect to SHEBAO_TEST_POSTGRES");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let mut url = url::Url::parse(&admin).expect("SHEBAO_TEST_POSTGRES is a URL");
        url.set_path(&name);
        Some(TestDb {
            admin,
            name,
            url: url.to_string(),
        })
    }

    pub async fn store(&self) -> PgStore {
        PgStore::connect(&self.url, Some(4))
            .await
            .expect("connect the store")
    }

    /// Waits until `n` connections to the database listen for reload announcements (replicas started).
    pub async fn wait_for_listeners(&self, n: i64) {
        let mut conn = PgConnection::connect(&self.url).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let listening: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            if listening >= n {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{listening} of {n} replicas listen"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Drops the database now, closing whatever is connected to it.
    pub async fn drop_database(&self) {
        let mut conn = PgConnection::connect(&self.admin)
            .await
            .expect("connect to SHEBAO_TEST_POSTGRES");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .expect("drop the test database");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // On a thread of its own: a test's runtime may be shutting down, or be single-threaded.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async {
                    let mut conn = PgConnection::connect(&admin).await?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await
                        .map(drop)
                })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

/// A fresh database, or the end of the test when none is configured (outside CI).
macro_rules! database {
    () => {
        match TestDb::create().await {
            Some(db) => db,
            None => return,
        }
    };
}

fn commit(chat: i64, version: u64, update: i64, replies: &[&str]) -> Commit {
    Commit {
        chat,
        version,
        update: Some(update),
        state: Some(State {
            last_active: NOW,
            ..State::default()
        }),
        recent: vec![NOW * 1000],
        records: vec![],
        outbox: replies
            .iter()
            .map(|text| Delivery::Text {
                text: (*text).to_string(),
            })
            .collect(),
        now: NOW,
    }
}

fn fallback(normalized: &str) -> Record {
    Record::Unanswered(Unanswered {
        text: normalized.into(),
        normalized: normalized.into(),
        decision: Decision::Fallback,
        top: None,
        score: 0.1,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_passes_the_store_suite_of_every_backend() {
    let first = database!();
    let databases = Arc::new(std::sync::Mutex::new(vec![first]));
    let made = std::sync::atomic::AtomicBool::new(false);
    shebao::store::suite::run_all(|| {
        let databases = databases.clone();
        // The first check takes the database made above, every later one a fresh database.
        let fresh = made.swap(true, std::sync::atomic::Ordering::Relaxed);
        async move {
            if fresh {
                let db = TestDb::create().await.expect("configured above");
                databases.lock().unwrap().push(db);
            }
            let db = databases.lock().unwrap().last().unwrap().url.clone();
            Arc::new(PgStore::connect(&db, Some(4)).await.unwrap()) as Arc<dyn Store>
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgresql_history_passes_the_history_checks_the_file_history_passes() {
    let db = database!();
    let store = db.store().await;
    let history = store
        .history()
        .expect("PostgreSQL keeps the knowledge versions");
    shebao::knowledge::history::suite::run(history).await;
    // A second replica's store sees the same versions.
    let other = db.store().await.history().unwrap();
    assert_eq!(other.latest().await.unwrap().map(|v| v.number), Some(12));
}

#[tokio::test]
async fn a_commit_is_read_back_and_its_update_is_then_a_duplicate() {
    let db = database!();
    let store = db.store().await;
    let outcome = store.commit(commit(7, 0, 100, &["你好", "再见"])).await;
    let Ok(Committed::Applied(ids)) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1], "replies keep their order");
    let chat = store.load(7).await.unwrap();
    assert_eq!((chat.version, chat.applied), (1, 100));
    assert_eq!(chat.state.last_active, NOW);
    assert_eq!(chat.recent, vec![NOW * 1000]);
    assert_eq!(
        store.commit(commit(7, 1, 100, &["again"])).await.unwrap(),
        Committed::Duplicate
    );
    assert_eq!(
        store.commit(commit(7, 0, 101, &["stale"])).await.unwrap(),
        Committed::Conflict
    );
    assert_eq!(store.backlog().await.unwrap(), 2);
}

#[tokio::test]
async fn a_damaged_stored_state_is_reset_with_a_notice_and_keeps_its_applied_update() {
    let db = database!();
    let store = db.store().await;
    store.commit(commit(5, 0, 40, &[])).await.unwrap();
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE chats SET state = $1 WHERE chat = 5")
        .bind(&b"\x02{not json"[..])
        .execute(&mut conn)
        .await
        .unwrap();
    let chat = store.load(5).await.unwrap();
    assert_eq!(
        chat.state.notice,
        Some(shebao::dialogue::Notice::StateReset)
    );
    assert_eq!((chat.version, chat.applied), (1, 40));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_racing_on_one_chat_apply_each_update_once() {
    let db = database!();
    let stores = [Arc::new(db.store().await), Arc::new(db.store().await)];
    const UPDATES: i64 = 30;
    let mut applied = 0;
    for update in 1..=UPDATES {
        // Both replicas (and two handlers on each) get the same update at once, as a redelivery would.
        let racers = (0..4).map(|i| {
            let store = stores[i % 2].clone();
            tokio::spawn(async move {
                loop {
                    let chat = store.load(1).await.unwrap();
                    let outcome = store
                        .commit(commit(1, chat.version, update, &["reply"]))
                        .await
                        .unwrap();
                    if outcome != Committed::Conflict {
                        return outcome;
                    }
                }
            })
        });
        let outcomes = futures::future::join_all(racers).await;
        let wins = outcomes
            .into_iter()
            .filter(|o| matches!(o, Ok(Committed::Applied(_))))
            .count();
        assert_eq!(wins, 1, "update {update}");
        applied += wins;
    }
    let chat = stores[0].load(1).await.unwrap();
    assert_eq!(chat.version, applied as u64);
    assert_eq!(chat.applied, UPDATES);
    assert_eq!(stores[1].backlog().await.unwrap(), UPDATES as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sweeping_at_once_claim_each_reply_once_and_each_chat_in_order() {
    let db = database!();
    let stores = [Arc::new(db.store().await), Arc::new(db.store().await)];
    const CHATS: i64 = 100;
    for chat in 0..CHATS {
        stores[0]
            .commit(commit(chat, 0, 1, &["一", "二", "三"]))
            .await
            .unwrap();
    }
    let after_lease = NOW + CLAIM_LEASE.as_secs() as i64;
    assert!(
        stores[0].claim(None, 10, NOW).await.unwrap().is_empty(),
        "a committer's own claim holds until the lease ends"
    );
    // Each sweeper claims a few replies (cutting chats in the middle), records them, then sends them.
    let sent = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sweepers = (0..4).map(|i| {
        let (store, sent) = (stores[i % 2].clone(), sent.clone());
        tokio::spawn(async move {
            while store.backlog().await.unwrap() > 0 {
                let batch = store.claim(None, 7, after_lease).await.unwrap();
                let ids: Vec<u64> = batch.iter().map(|p| p.id).collect();
                sent.lock()
                    .unwrap()
                    .extend(batch.into_iter().map(|p| (p.chat, p.id)));
                store.mark_sent(&ids).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    });
    for sweeper in futures::future::join_all(sweepers).await {
        sweeper.unwrap();
    }
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 3 * CHATS as usize, "no reply claimed twice");
    let ids: HashSet<u64> = sent.iter().map(|&(_, id)| id).collect();
    assert_eq!(ids.len(), sent.len(), "no reply claimed twice");
    for chat in 0..CHATS {
        let order: Vec<u64> = sent.iter().filter(|s| s.0 == chat).map(|s| s.1).collect();
        assert!(
            order.is_sorted(),
            "chat {chat} went out of order: {order:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_replicas_starting_at_once_on_an_empty_database_all_connect() {
    let db = database!();
    let starts = (0..4).map(|_| {
        let url = db.url.clone();
        tokio::spawn(async move { PgStore::connect(&url, Some(2)).await })
    });
    let stores: Vec<PgStore> = futures::future::join_all(starts)
        .await
        .into_iter()
        .map(|started| started.unwrap().expect("every replica starts"))
        .collect();
    for store in &stores {
        store.ping().await.unwrap();
    }
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let migrations: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let embedded = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/migrations"))
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .is_ok_and(|f| f.path().extension().is_some_and(|e| e == "sql"))
        })
        .count();
    assert_eq!(migrations, embedded as i64, "each migration applied once");
}

#[tokio::test]
async fn pruning_returns_at_once_while_another_process_prunes() {
    let db = database!();
    let store = db.store().await;
    let mut old = commit(1, 0, 1, &[]);
    old.records = vec![fallback("很久以前的问题")];
    old.now = NOW - 100 * 86_400;
    store.commit(old).await.unwrap();
    let mut other = PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(PRUNE_LOCK)
        .execute(&mut other)
        .await
        .unwrap();
    assert_eq!(store.prune(NOW).await.unwrap(), 0);
    assert_eq!(store.unanswered(0).await.unwrap().len(), 1);
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(PRUNE_LOCK)
        .execute(&mut other)
        .await
        .unwrap();
    assert_eq!(
        store.prune(NOW).await.unwrap(),
        2,
        "the question and its counter"
    );
    assert!(store.unanswered(0).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_reload_announced_by_one_replica_reaches_another() {
    let db = database!();
    let (announcer, listener) = (db.store().await, db.store().await);
    let mut announcements = listener
        .reload_announcements()
        .await
        .unwrap()
        .expect("PostgreSQL shares reloads");
    announcer.announce_reload().await.unwrap();
    assert_eq!(announcements.next().await, Some(()));
}

#[tokio::test]
async fn a_lost_database_is_a_store_error_and_lost_connections_are_replaced() {
    let db = database!();
    let store = db.store().await;
    store.commit(commit(3, 0, 1, &["hi"])).await.unwrap();
    // PostgreSQL closes every connection of the store (a restart, a failover, an idle reaper). Only
    // client connections of this role: an autovacuum worker in the database is a superuser's process.
    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND backend_type = 'client backend' AND usename = current_user",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    drop(admin);
    assert_eq!(store.load(3).await.unwrap().version, 1, "reconnected");
    db.drop_database().await;
    let err = store.load(3).await.expect_err("the database is gone");
    assert!(
        matches!(err, shebao::store::StoreError::Postgres(_)),
        "{err:?}"
    );
    assert!(store.ping().await.is_err());
}

#[tokio::test]
async fn the_address_sets_the_pool_and_is_shown_without_its_password() {
    let db = database!();
    let store = PgStore::connect(&format!("{}?pool_size=3", db.url), None)
        .await
        .unwrap();
    assert_eq!(store.pool_size(), 3);
    let password = url::Url::parse(&db.url)
        .unwrap()
        .password()
        .map(str::to_owned);
    if let Some(password) = password {
        assert!(!store.describe().contains(&format!(":{password}@")));
    }
    let store = PgStore::connect(&format!("{}?pool_size=3", db.url), Some(5))
        .await
        .unwrap();
    assert_eq!(store.pool_size(), 5, "the option wins over the address");
    let err = PgStore::connect(&format!("{}?pool_size=many", db.url), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pool_size"), "{err}");
}
