//! The embedded store: sled in one directory, owned by one process, durable at each [`Store::sync`].
//!
//! Trees: `chats` maps a chat id (8 bytes, big-endian) to its row (state, version, applied update, recent
//! message times; see [`super::encode_row`]); `outbox` maps a monotonic id (8 bytes, big-endian, from
//! sled's id generator, which never goes back after a crash) to a [`Queued`] reply; `counters`,
//! `unanswered` and `not_helpful` hold the staff's records ([`super::records`]). A commit is one sled
//! transaction over all of them, so a chat's new state, its records and its replies are written together
//! or not at all.
//!
//! Durability: a commit is in memory until the next [`Store::sync`] (one blocking flush shared by every
//! commit before it: the group commit of a polling batch). The session syncs before it sends a reply, so
//! no reply is ever shown for a state a crash could lose; replies committed but not sent at a crash stay
//! in the outbox and are sent after restart. sled keeps a bounded page cache ([`CACHE_BYTES`]) and the
//! store adds no unbounded cache of its own.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};

use super::api::{CLAIM_LEASE, Chat, Commit, Committed, Delivery, OutboxId, Pending, Store};
use super::records::{self, Kept, Tally};
use super::{Counts, NotHelpfulRecord, StoreError, UnansweredRecord, decode_row, encode_row};

/// How long [`SledStore::open`] keeps trying a database held by another process.
const OPEN_RETRY: std::time::Duration = std::time::Duration::from_secs(1);
/// Bound on sled's in-memory page cache.
pub const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// A reply in the outbox, as stored (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Queued {
    chat: i64,
    delivery: Delivery,
    /// Unix seconds until which the reply is left to whoever claimed it.
    claimed_until: i64,
}

/// The sled-backed store.
#[derive(Debug)]
pub struct SledStore {
    dir: PathBuf,
    db: sled::Db,
    chats: sled::Tree,
    outbox: sled::Tree,
    counters: sled::Tree,
    unanswered: sled::Tree,
    not_helpful: sled::Tree,
    /// Held while pruning, so two prunes do not walk the same trees at once.
    pruning: Mutex<()>,
}

impl SledStore {
    /// Opens (or creates) the database in `dir`. A second process opening the same directory gets
    /// [`StoreError::InUse`] — after a second of retries, so that a bot restarted while its previous
    /// instance is still exiting (sled releases its lock only when its background work has finished)
    /// starts instead of failing.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let mut delay = std::time::Duration::from_millis(20);
        let mut waited = std::time::Duration::ZERO;
        loop {
            match SledStore::try_open(dir) {
                Err(StoreError::InUse(_)) if waited < OPEN_RETRY => {
                    std::thread::sleep(delay);
                    waited += delay;
                    delay = (delay * 2).min(std::time::Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    /// Whether `dir` holds a sled database (without creating one).
    pub fn exists(dir: &Path) -> bool {
        dir.join("conf").exists() || dir.join("db").exists()
    }

    fn try_open(dir: &Path) -> Result<SledStore, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|source| match &source {
                // sled reports a held lock only as this I/O error text.
                sled::Error::Io(e) if e.to_string().contains("could not acquire lock") => {
                    StoreError::InUse(dir.to_path_buf())
                }
                _ => StoreError::Open {
                    path: dir.to_path_buf(),
                    source,
                },
            })?;
        // The first versions kept the states in a tree of their own; their rows read as version 1.
        let chats = db.open_tree("states")?;
        let outbox = db.open_tree("outbox")?;
        // Only one process opens the directory, so every claim on the outbox was made by one that is
        // gone: its replies are free to send at once (not only after the lease).
        for item in outbox.iter() {
            let (key, bytes) = item?;
            if let Some(entry) = queued(&bytes).filter(|e| e.claimed_until != 0) {
                let free = Queued {
                    claimed_until: 0,
                    ..entry
                };
                outbox.insert(
                    key,
                    serde_json::to_vec(&free).expect("a reply always serialises"),
                )?;
            }
        }
        Ok(SledStore {
            dir: dir.to_path_buf(),
            chats,
            outbox,
            counters: db.open_tree("counters")?,
            unanswered: db.open_tree("unanswered")?,
            not_helpful: db.open_tree("not_helpful")?,
            db,
            pruning: Mutex::new(()),
        })
    }

    /// Writes raw bytes as the row of `chat`, durably (for tests of old or damaged encodings).
    #[doc(hidden)]
    pub fn put_raw(&self, chat: i64, bytes: &[u8]) -> Result<(), StoreError> {
        self.chats.insert(chat.to_be_bytes(), bytes)?;
        self.db.flush()?;
        Ok(())
    }

    /// Flushes everything written so far, blocking the calling thread.
    fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// The trees a commit writes, inside its transaction.
struct Txn<'a> {
    counters: &'a TransactionalTree,
    unanswered: &'a TransactionalTree,
    not_helpful: &'a TransactionalTree,
}

impl Txn<'_> {
    fn tree(&self, tree: Kept) -> &TransactionalTree {
        match tree {
            Kept::Counters => self.counters,
            Kept::Unanswered => self.unanswered,
            Kept::NotHelpful => self.not_helpful,
        }
    }
}

impl Tally for Txn<'_> {
    type Error = UnabortableTransactionError;

    fn get(&mut self, tree: Kept, key: &[u8]) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.tree(tree).get(key)?.map(|v| v.to_vec()))
    }

    fn put(&mut self, tree: Kept, key: &[u8], value: Vec<u8>) -> Result<(), Self::Error> {
        self.tree(tree).insert(key, value)?;
        Ok(())
    }
}

fn queued(bytes: &[u8]) -> Option<Queued> {
    serde_json::from_slice(bytes).ok()
}

fn id_of(key: &[u8]) -> OutboxId {
    key.try_into().map(u64::from_be_bytes).unwrap_or_default()
}

#[async_trait::async_trait]
impl Store for SledStore {
    fn describe(&self) -> String {
        format!("sled:{}", self.dir.display())
    }

    async fn load(&self, chat: i64) -> Result<Chat, StoreError> {
        Ok(self
            .chats
            .get(chat.to_be_bytes())?
            .map(|b| decode_row(&b))
            .unwrap_or_default()
            .chat())
    }

    async fn commit(&self, commit: Commit) -> Result<Committed, StoreError> {
        let trees = (
            &self.chats,
            &self.outbox,
            &self.counters,
            &self.unanswered,
            &self.not_helpful,
        );
        let claimed_until = commit.now + CLAIM_LEASE.as_secs() as i64;
        let outcome = trees.transaction(|(chats, outbox, counters, unanswered, not_helpful)| {
            let key = commit.chat.to_be_bytes();
            let row = chats.get(key)?.map(|b| decode_row(&b)).unwrap_or_default();
            if row.has_applied(commit.update) {
                return Ok(Committed::Duplicate);
            }
            if row.version != commit.version {
                return Ok(Committed::Conflict);
            }
            chats.insert(&key, encode_row(&row.next(&commit)))?;
            let mut ids = Vec::with_capacity(commit.outbox.len());
            for delivery in &commit.outbox {
                let id = outbox.generate_id()?;
                let entry = Queued {
                    chat: commit.chat,
                    delivery: delivery.clone(),
                    claimed_until,
                };
                let bytes = serde_json::to_vec(&entry).expect("a reply always serialises");
                outbox.insert(&id.to_be_bytes(), bytes)?;
                ids.push(id);
            }
            let mut txn = Txn {
                counters,
                unanswered,
                not_helpful,
            };
            for record in &commit.records {
                records::keep(&mut txn, record, commit.now)?;
            }
            Ok::<_, ConflictableTransactionError<StoreError>>(Committed::Applied(ids))
        });
        outcome.map_err(|e| match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
        })
    }

    /// sled 0.34's own `flush_async` deadlocks when several are awaited at once (spacejam/sled#1308,
    /// fixed only after the last release), which is exactly what concurrent chats do; so the blocking
    /// `flush` runs on tokio's blocking pool instead. Concurrent calls coalesce inside sled.
    async fn sync(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .expect("a sled flush does not panic")?;
        Ok(())
    }

    async fn claim(
        &self,
        chat: Option<i64>,
        limit: usize,
        now: i64,
    ) -> Result<Vec<Pending>, StoreError> {
        let mut claimed = Vec::new();
        // A chat whose earlier reply is still held by someone waits: its replies go out in order.
        let mut held = HashSet::new();
        for item in self.outbox.iter() {
            if claimed.len() >= limit {
                break;
            }
            let (key, bytes) = item?;
            let Some(entry) = queued(&bytes) else {
                // Unreadable: nothing can be sent; drop it rather than block the outbox.
                self.outbox.remove(&key)?;
                continue;
            };
            if chat.is_some_and(|c| c != entry.chat) || held.contains(&entry.chat) {
                continue;
            }
            if entry.claimed_until > now {
                held.insert(entry.chat);
                continue;
            }
            let renewed = Queued {
                claimed_until: now + CLAIM_LEASE.as_secs() as i64,
                ..entry.clone()
            };
            let new = serde_json::to_vec(&renewed).expect("a reply always serialises");
            match self.outbox.compare_and_swap(&key, Some(bytes), Some(new))? {
                Ok(()) => claimed.push(Pending {
                    id: id_of(&key),
                    chat: entry.chat,
                    delivery: entry.delivery,
                }),
                // Claimed, sent or removed meanwhile: someone else has it.
                Err(_) => {
                    held.insert(entry.chat);
                }
            }
        }
        Ok(claimed)
    }

    async fn mark_sent(&self, ids: &[OutboxId]) -> Result<(), StoreError> {
        for id in ids {
            self.outbox.remove(id.to_be_bytes())?;
        }
        Ok(())
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        Ok(self.outbox.len() as u64)
    }

    async fn unanswered(&self, since: i64) -> Result<Vec<UnansweredRecord>, StoreError> {
        let values = self
            .unanswered
            .iter()
            .values()
            .collect::<Result<Vec<_>, _>>()?;
        Ok(records::unanswered_since(values, since))
    }

    async fn not_helpful(&self, since: i64) -> Result<Vec<NotHelpfulRecord>, StoreError> {
        let values = self
            .not_helpful
            .iter()
            .values()
            .collect::<Result<Vec<_>, _>>()?;
        Ok(records::not_helpful_since(values, since))
    }

    async fn counts(&self, since: i64) -> Result<Counts, StoreError> {
        let counters = self.counters.iter().collect::<Result<Vec<_>, _>>()?;
        Ok(records::counts_since(counters, since))
    }

    async fn active_chats(&self, since: i64, except: &[i64]) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self.chats.iter() {
            let (key, bytes) = item?;
            let chat = id_of(&key) as i64;
            let active = decode_row(&bytes)
                .state
                .is_some_and(|s| s.last_active >= since);
            if active && !except.contains(&chat) {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn prune(&self, before: i64) -> Result<usize, StoreError> {
        let Ok(_pruning) = self.pruning.try_lock() else {
            return Ok(0);
        };
        let mut removed = 0;
        for (tree, kept) in [
            (&self.unanswered, Kept::Unanswered),
            (&self.not_helpful, Kept::NotHelpful),
        ] {
            for item in tree.iter() {
                let (key, bytes) = item?;
                if records::stale(kept, &bytes, before) {
                    tree.remove(key)?;
                    removed += 1;
                }
            }
        }
        for key in self.counters.iter().keys() {
            let key = key?;
            if records::counter_stale(&key, before) {
                self.counters.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl Drop for SledStore {
    /// A clean stop leaves nothing to replay (a crash loses nothing either: see the module's text).
    fn drop(&mut self) {
        let _ = self.flush_blocking();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sled_store_keeps_every_promise_of_the_suite() {
        let base = tempfile::tempdir().unwrap();
        let n = AtomicUsize::new(0);
        super::super::suite::run_all(|| {
            let dir = base
                .path()
                .join(n.fetch_add(1, Ordering::Relaxed).to_string());
            async move { Arc::new(SledStore::open(&dir).unwrap()) as Arc<dyn Store> }
        })
        .await;
    }

    #[tokio::test]
    async fn replies_claimed_by_a_process_that_is_gone_are_free_at_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            let commit = Commit {
                chat: 1,
                version: 0,
                update: Some(1),
                state: Some(crate::dialogue::State::default()),
                recent: Vec::new(),
                records: Vec::new(),
                outbox: vec![Delivery::Text { text: "hi".into() }],
                now: 100,
            };
            store.commit(commit).await.unwrap();
            store.sync().await.unwrap();
            assert!(
                store.claim(None, 10, 101).await.unwrap().is_empty(),
                "leased"
            );
        }
        let store = SledStore::open(dir.path()).unwrap();
        let pending = store.claim(None, 10, 101).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].delivery, Delivery::Text { text: "hi".into() });
    }

    #[test]
    fn a_second_opener_is_told_the_database_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(dir.path()).unwrap();
        let err = SledStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::InUse(_)), "{err:?}");
        assert!(
            err.to_string()
                .contains("is in use by another shebao process")
        );
    }

    #[tokio::test]
    async fn a_row_written_by_the_first_version_loads_and_takes_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store
            .put_raw(
                5,
                br#"{"phase":"Idle","menu":3,"actions":[],"last_active":9,"last_update":40}"#,
            )
            .unwrap();
        // The bytes above lack the version byte: unreadable, so reset.
        assert_eq!(
            store.load(5).await.unwrap().state.notice,
            Some(crate::dialogue::Notice::StateReset)
        );
        store
            .put_raw(
                6,
                &[
                    &[1u8][..],
                    br#"{"phase":"Idle","menu":3,"actions":[],"last_active":9,"last_update":40}"#,
                ]
                .concat(),
            )
            .unwrap();
        let chat = store.load(6).await.unwrap();
        assert_eq!((chat.state.menu, chat.applied, chat.version), (3, 40, 0));
        let commit = |update| Commit {
            chat: 6,
            version: 0,
            update: Some(update),
            state: Some(chat.state.clone()),
            recent: Vec::new(),
            records: Vec::new(),
            outbox: Vec::new(),
            now: 10,
        };
        assert_eq!(
            store.commit(commit(40)).await.unwrap(),
            Committed::Duplicate
        );
        assert_eq!(
            store.commit(commit(41)).await.unwrap(),
            Committed::Applied(Vec::new())
        );
        assert_eq!(store.load(6).await.unwrap().version, 1);
    }
}
