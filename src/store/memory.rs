//! A store in memory, for tests and `--store memory:`: the same promises as the others, minus surviving a restart.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use super::api::{CLAIM_LEASE, Chat, Commit, Committed, Delivery, OutboxId, Pending, Store};
use super::records::{self, Kept, Tally};
use super::{Counts, NotHelpfulRecord, Row, StoreError, UnansweredRecord};

/// Everything behind one lock: a commit is atomic because it holds it.
#[derive(Debug, Default)]
struct Inner {
    chats: HashMap<i64, Row>,
    /// Id -> (chat, reply, claimed until).
    outbox: BTreeMap<OutboxId, (i64, Delivery, i64)>,
    next_id: OutboxId,
    counters: BTreeMap<Vec<u8>, Vec<u8>>,
    unanswered: BTreeMap<Vec<u8>, Vec<u8>>,
    not_helpful: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Inner {
    fn tree(&mut self, tree: Kept) -> &mut BTreeMap<Vec<u8>, Vec<u8>> {
        match tree {
            Kept::Counters => &mut self.counters,
            Kept::Unanswered => &mut self.unanswered,
            Kept::NotHelpful => &mut self.not_helpful,
        }
    }
}

impl Tally for Inner {
    type Error = std::convert::Infallible;

    fn get(&mut self, tree: Kept, key: &[u8]) -> Result<Option<Vec<u8>>, Self::Error> {
        Ok(self.tree(tree).get(key).cloned())
    }

    fn put(&mut self, tree: Kept, key: &[u8], value: Vec<u8>) -> Result<(), Self::Error> {
        self.tree(tree).insert(key.to_vec(), value);
        Ok(())
    }
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind, still consistent per commit.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    fn describe(&self) -> String {
        "memory:".to_string()
    }

    async fn load(&self, chat: i64) -> Result<Chat, StoreError> {
        Ok(self
            .lock()
            .chats
            .get(&chat)
            .map(Row::chat)
            .unwrap_or_default())
    }

    async fn commit(&self, commit: Commit) -> Result<Committed, StoreError> {
        let mut inner = self.lock();
        let row = inner.chats.get(&commit.chat).cloned().unwrap_or_default();
        if row.has_applied(commit.update) {
            return Ok(Committed::Duplicate);
        }
        if row.version != commit.version {
            return Ok(Committed::Conflict);
        }
        inner.chats.insert(commit.chat, row.next(&commit));
        let claimed_until = commit.now + CLAIM_LEASE.as_secs() as i64;
        let mut ids = Vec::with_capacity(commit.outbox.len());
        for delivery in commit.outbox {
            inner.next_id += 1;
            let id = inner.next_id;
            inner
                .outbox
                .insert(id, (commit.chat, delivery, claimed_until));
            ids.push(id);
        }
        for record in &commit.records {
            let Ok(()) = records::keep(&mut *inner, record, commit.now);
        }
        Ok(Committed::Applied(ids))
    }

    async fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn claim(
        &self,
        chat: Option<i64>,
        limit: usize,
        now: i64,
    ) -> Result<Vec<Pending>, StoreError> {
        let mut inner = self.lock();
        let mut held = HashSet::new();
        let mut claimed = Vec::new();
        for (&id, (owner, delivery, claimed_until)) in inner.outbox.iter_mut() {
            if claimed.len() >= limit {
                break;
            }
            if chat.is_some_and(|c| c != *owner) || held.contains(owner) {
                continue;
            }
            if *claimed_until > now {
                held.insert(*owner);
                continue;
            }
            *claimed_until = now + CLAIM_LEASE.as_secs() as i64;
            claimed.push(Pending {
                id,
                chat: *owner,
                delivery: delivery.clone(),
            });
        }
        Ok(claimed)
    }

    async fn mark_sent(&self, ids: &[OutboxId]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for id in ids {
            inner.outbox.remove(id);
        }
        Ok(())
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        Ok(self.lock().outbox.len() as u64)
    }

    async fn unanswered(&self, since: i64) -> Result<Vec<UnansweredRecord>, StoreError> {
        Ok(records::unanswered_since(
            self.lock().unanswered.values(),
            since,
        ))
    }

    async fn not_helpful(&self, since: i64) -> Result<Vec<NotHelpfulRecord>, StoreError> {
        Ok(records::not_helpful_since(
            self.lock().not_helpful.values(),
            since,
        ))
    }

    async fn counts(&self, since: i64) -> Result<Counts, StoreError> {
        Ok(records::counts_since(self.lock().counters.iter(), since))
    }

    async fn active_chats(&self, since: i64, except: &[i64]) -> Result<usize, StoreError> {
        Ok(self
            .lock()
            .chats
            .iter()
            .filter(|(chat, row)| {
                !except.contains(chat) && row.state.as_ref().is_some_and(|s| s.last_active >= since)
            })
            .count())
    }

    async fn prune(&self, before: i64) -> Result<usize, StoreError> {
        let mut inner = self.lock();
        let mut removed = 0;
        for kept in [Kept::Unanswered, Kept::NotHelpful] {
            let tree = inner.tree(kept);
            let n = tree.len();
            tree.retain(|_, bytes| !records::stale(kept, bytes, before));
            removed += n - tree.len();
        }
        let n = inner.counters.len();
        inner
            .counters
            .retain(|key, _| !records::counter_stale(key, before));
        removed += n - inner.counters.len();
        Ok(removed)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_memory_store_keeps_every_promise_of_the_suite() {
        super::super::suite::run_all(|| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> })
            .await;
    }
}
