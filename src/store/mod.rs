//! Conversation state in sled, so a restart (or a crash) loses nothing.
//!
//! One sled tree maps a chat id (8 bytes, big-endian) to its [`State`], encoded as a version byte followed
//! by JSON. A state written by an older version is migrated when a migration exists, otherwise it is reset
//! with a notice the engine shows to the user: never a dropped message, never a panic. The adapters
//! flush writes before they send the replies (`save`, or `put` then one `flush` for a batch), so a reply
//! is never shown for a state that is not durable.
//! sled keeps a bounded page cache ([`CACHE_BYTES`]); the store adds no unbounded cache of its own.
//!
//! The store also implements teloxide's `Storage<State>`, so the Telegram adapter uses it unchanged.
//!
//! Beside the states, [`records`] keeps what the staff review: the questions the bot could not answer
//! (redacted, with no chat id) and hourly counts for `/stats`, both pruned after a retention period.

pub mod api;
pub mod postgres;
mod records;

pub use records::{Counts, NotHelpfulRecord, UnansweredRecord};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::BoxFuture;
use teloxide::dispatching::dialogue::Storage;
use teloxide::types::ChatId;

use crate::dialogue::{Notice, State};

/// Version of the state encoding written by this build.
pub const VERSION: u8 = 1;
/// How long [`Store::open`] keeps trying a database held by another process.
const OPEN_RETRY: std::time::Duration = std::time::Duration::from_secs(1);
/// Bound on sled's in-memory page cache.
pub const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Errors of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {} is in use by another shebao process", .0.display())]
    InUse(PathBuf),
    #[error("cannot open database {}: {source}", .path.display())]
    Open { path: PathBuf, source: sled::Error },
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    /// PostgreSQL failed or could not be reached (the cause never holds the password).
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("cannot migrate the PostgreSQL schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid store address: {0}")]
    Address(String),
}

/// The sled-backed store of conversation states.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    states: sled::Tree,
    /// Normalised question -> [`UnansweredRecord`] (JSON).
    unanswered: sled::Tree,
    /// Counter kind and hour -> count.
    counters: sled::Tree,
    /// Entry id -> [`NotHelpfulRecord`] (JSON): answers a citizen marked 👎.
    not_helpful: sled::Tree,
}

impl Store {
    /// Opens (or creates) the database in `dir`. A second process opening the same directory gets
    /// [`StoreError::InUse`] — after a second of retries, so that a bot restarted while its previous
    /// instance is still exiting (sled releases its lock only when its background work has finished)
    /// starts instead of failing.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let mut delay = std::time::Duration::from_millis(20);
        let mut waited = std::time::Duration::ZERO;
        loop {
            match Store::try_open(dir) {
                Err(StoreError::InUse(_)) if waited < OPEN_RETRY => {
                    std::thread::sleep(delay);
                    waited += delay;
                    delay = (delay * 2).min(std::time::Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    fn try_open(dir: &Path) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|source| match &source {
                sled::Error::Io(e) if e.to_string().contains("could not acquire lock") => {
                    StoreError::InUse(dir.to_path_buf())
                }
                _ => StoreError::Open {
                    path: dir.to_path_buf(),
                    source,
                },
            })?;
        let states = db.open_tree("states")?;
        let unanswered = db.open_tree("unanswered")?;
        let counters = db.open_tree("counters")?;
        let not_helpful = db.open_tree("not_helpful")?;
        Ok(Store {
            db,
            states,
            unanswered,
            counters,
            not_helpful,
        })
    }

    /// The state of `chat`: the default for a new chat, or a reset state with a notice when the stored
    /// bytes cannot be read.
    pub fn load(&self, chat: i64) -> Result<State, StoreError> {
        Ok(match self.states.get(chat.to_be_bytes())? {
            Some(bytes) => decode(&bytes),
            None => State::default(),
        })
    }

    /// Stores the state of `chat` and flushes it to disk.
    pub fn save(&self, chat: i64, state: &State) -> Result<(), StoreError> {
        self.put(chat, state)?;
        self.db.flush()?;
        Ok(())
    }

    /// Stores the state of `chat` without flushing: durable after the next [`Store::flush`]. Lets a
    /// batch of updates share one flush (group commit) before any of its replies is sent.
    pub fn put(&self, chat: i64, state: &State) -> Result<(), StoreError> {
        self.states.insert(chat.to_be_bytes(), encode(state))?;
        Ok(())
    }

    /// Forgets `chat` without flushing (see [`Store::put`]).
    pub fn forget(&self, chat: i64) -> Result<(), StoreError> {
        self.states.remove(chat.to_be_bytes())?;
        Ok(())
    }

    /// Forgets everything about `chat`, durably.
    pub fn remove(&self, chat: i64) -> Result<(), StoreError> {
        self.forget(chat)?;
        self.db.flush()?;
        Ok(())
    }

    /// Flushes everything written so far to disk, off the async threads.
    ///
    /// sled 0.34's own `flush_async` deadlocks when several are awaited at once (spacejam/sled#1308,
    /// fixed only after the last release), which is exactly what concurrent chats do; so the blocking
    /// `flush` runs on tokio's blocking pool instead. Concurrent calls coalesce inside sled.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .expect("a sled flush does not panic")?;
        Ok(())
    }

    /// Flushes everything written so far, blocking the calling thread (for the command-line tools).
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Number of stored conversations.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Writes raw bytes as the state of `chat` (for tests of old or damaged encodings).
    #[doc(hidden)]
    pub fn put_raw(&self, chat: i64, bytes: &[u8]) -> Result<(), StoreError> {
        self.states.insert(chat.to_be_bytes(), bytes)?;
        self.db.flush()?;
        Ok(())
    }
}

/// The stored form of a state: the version byte, then JSON.
pub fn encode(state: &State) -> Vec<u8> {
    let mut bytes = vec![VERSION];
    serde_json::to_writer(&mut bytes, state).expect("a state always serialises");
    bytes
}

/// Reads a stored state, migrating older versions; anything unreadable becomes a fresh state that tells
/// the user their progress was reset.
pub fn decode(bytes: &[u8]) -> State {
    let reset = || State {
        notice: Some(Notice::StateReset),
        ..State::default()
    };
    match bytes.split_first() {
        Some((&VERSION, json)) => serde_json::from_slice(json).unwrap_or_else(|_| reset()),
        _ => reset(),
    }
}

impl Storage<State> for Store {
    type Error = StoreError;

    fn remove_dialogue(
        self: Arc<Self>,
        chat_id: ChatId,
    ) -> BoxFuture<'static, Result<(), Self::Error>> {
        Box::pin(async move {
            self.states.remove(chat_id.0.to_be_bytes())?;
            self.flush().await
        })
    }

    fn update_dialogue(
        self: Arc<Self>,
        chat_id: ChatId,
        dialogue: State,
    ) -> BoxFuture<'static, Result<(), Self::Error>> {
        Box::pin(async move {
            self.states
                .insert(chat_id.0.to_be_bytes(), encode(&dialogue))?;
            self.flush().await
        })
    }

    fn get_dialogue(
        self: Arc<Self>,
        chat_id: ChatId,
    ) -> BoxFuture<'static, Result<Option<State>, Self::Error>> {
        Box::pin(async move {
            Ok(self
                .states
                .get(chat_id.0.to_be_bytes())?
                .map(|b| decode(&b)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Phase;

    fn in_flow() -> State {
        State {
            phase: Phase::Flow {
                flow: "reset_pin".into(),
                step: "wechat_2".into(),
                back: None,
            },
            menu: 7,
            actions: vec![crate::dialogue::Action::Continue],
            last_active: 1_700_000_000,
            notice: None,
            last_update: 0,
            ..State::default()
        }
    }

    #[test]
    fn a_state_stored_before_facts_and_labels_were_kept_still_loads() {
        let old = br#"{"phase":{"Flow":{"flow":"reset_pin","step":"wechat_2","back":null}},"menu":7,"actions":["Continue"],"last_active":1700000000,"notice":null,"last_update":0}"#;
        let mut bytes = encode(&in_flow())[..1].to_vec();
        bytes.extend_from_slice(old);
        assert_eq!(decode(&bytes), in_flow());
    }

    #[test]
    fn a_state_survives_closing_and_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.save(42, &in_flow()).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load(42).unwrap(), in_flow());
        assert_eq!(store.load(43).unwrap(), State::default());
    }

    #[test]
    fn a_second_opener_is_told_the_database_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::InUse(_)), "{err:?}");
        assert!(
            err.to_string()
                .contains("is in use by another shebao process")
        );
    }

    #[test]
    fn an_unreadable_state_is_reset_with_a_notice() {
        for bytes in [&b"\x01{not json"[..], b"\x09{}", b""] {
            let state = decode(bytes);
            assert_eq!(state.notice, Some(Notice::StateReset), "{bytes:?}");
            assert_eq!(state.phase, Phase::Idle);
        }
    }

    #[test]
    fn encoding_round_trips() {
        assert_eq!(decode(&encode(&in_flow())), in_flow());
    }

    #[test]
    fn removing_forgets_the_chat() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.save(1, &in_flow()).unwrap();
        store.remove(1).unwrap();
        assert_eq!(store.load(1).unwrap(), State::default());
        assert!(store.is_empty());
    }
}
