//! Where conversations and the staff's records are kept, behind one trait so a URL picks the backend.
//!
//! [`api::Store`] is the contract in the session's words (load a chat, commit a handled update atomically,
//! the outbox of replies, the staff's reads). Backends: [`sled`] (embedded, the default: one process owns
//! a directory), [`postgres`] (shared by replicas) and [`memory`] (tests). [`open`] picks one from a URL:
//! `sled:PATH` or a plain path, `postgres://…`, `memory:`. Every backend runs the same conformance checks
//! ([`suite`]).
//!
//! A chat row is encoded as a version byte followed by JSON ([`encode_row`]). A row written by an older
//! version is migrated when a migration exists (version 1 held only the state), otherwise the chat is
//! reset with a notice the engine shows to the user: never a dropped message, never a panic.
//!
//! Beside the chats, [`records`] keeps what the staff review: the questions the bot could not answer
//! (redacted, with no chat id), the answers marked 👎 and hourly counts for `/stats`, all pruned after a
//! retention period.

pub mod api;
pub mod memory;
pub mod postgres;
mod records;
pub mod sled;
#[doc(hidden)]
pub mod suite;

pub use api::{Chat, Commit, Committed, Delivery, OutboxId, Pending, Store, Version};
pub use memory::MemoryStore;
pub use records::{Counts, NotHelpfulRecord, UnansweredRecord};
pub use sled::SledStore;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::dialogue::{Notice, State};

/// Version of the row encoding written by this build.
pub const VERSION: u8 = 2;
/// The first encoding: the state alone (its `last_update` was the applied update).
const VERSION_STATE_ONLY: u8 = 1;

/// Errors of a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {} is in use by another shebao process", .0.display())]
    InUse(PathBuf),
    #[error("cannot open database {}: {source}", .path.display())]
    Open {
        path: PathBuf,
        source: ::sled::Error,
    },
    #[error("database error: {0}")]
    Sled(#[from] ::sled::Error),
    #[error("no database at {0}")]
    Missing(String),
    #[error("unknown store {0:?}: expected a directory, sled:DIR, memory: or postgres://…")]
    Url(String),
    /// PostgreSQL failed or could not be reached (the cause never holds the password).
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("cannot migrate the PostgreSQL schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid PostgreSQL address: {0}")]
    Address(String),
}

/// Opens (or creates) the store named by `url`: `sled:DIR` or a plain directory path (sled), `memory:`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_url(url, true).await
}

/// Like [`open`], but a store that does not exist yet is [`StoreError::Missing`] instead of created
/// (for tools that only read what a bot kept).
pub async fn open_existing(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_url(url, false).await
}

async fn open_url(url: &str, create: bool) -> Result<Arc<dyn Store>, StoreError> {
    if url == "memory:" {
        return Ok(Arc::new(MemoryStore::new()));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // The database itself must exist (an administrator creates it); its schema is applied here.
        return Ok(Arc::new(postgres::PgStore::connect(url, None).await?));
    }
    let path = match url.strip_prefix("sled:") {
        Some(path) => path,
        None if url.contains("://") => return Err(StoreError::Url(url.to_string())),
        None => url,
    };
    if path.is_empty() {
        return Err(StoreError::Url(url.to_string()));
    }
    let dir = PathBuf::from(path);
    if !create && !SledStore::exists(&dir) {
        return Err(StoreError::Missing(dir.display().to_string()));
    }
    // Opening may wait for a previous process to let go of the directory: off the async threads.
    let opened = tokio::task::spawn_blocking(move || SledStore::open(&dir))
        .await
        .expect("opening sled does not panic")?;
    Ok(Arc::new(opened))
}

/// A chat as a backend keeps it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Row {
    /// `None` once the chat asked to be forgotten.
    pub state: Option<State>,
    pub version: Version,
    pub applied: i64,
    #[serde(default)]
    pub recent: Vec<i64>,
}

impl Row {
    /// The row as the session sees it.
    pub fn chat(&self) -> Chat {
        Chat {
            state: self.state.clone().unwrap_or_default(),
            version: self.version,
            applied: self.applied,
            recent: self.recent.clone(),
        }
    }

    /// Whether `update` was applied to this chat already.
    pub fn has_applied(&self, update: Option<i64>) -> bool {
        update.is_some_and(|u| self.applied != 0 && u <= self.applied)
    }

    /// What the row becomes when `commit` is applied to it (the caller checked duplicate and version).
    pub fn next(&self, commit: &Commit) -> Row {
        Row {
            state: commit.state.clone(),
            version: self.version + 1,
            applied: commit.update.map_or(self.applied, |u| u.max(self.applied)),
            recent: commit.recent.clone(),
        }
    }
}

/// The stored form of a row: the version byte, then JSON.
pub(crate) fn encode_row(row: &Row) -> Vec<u8> {
    let mut bytes = vec![VERSION];
    serde_json::to_writer(&mut bytes, row).expect("a row always serialises");
    bytes
}

/// Reads a stored row, migrating older versions; anything unreadable becomes a fresh state that tells
/// the user their progress was reset.
pub(crate) fn decode_row(bytes: &[u8]) -> Row {
    let reset = || Row {
        state: Some(State {
            notice: Some(Notice::StateReset),
            ..State::default()
        }),
        ..Row::default()
    };
    match bytes.split_first() {
        Some((&VERSION, json)) => serde_json::from_slice(json).unwrap_or_else(|_| reset()),
        Some((&VERSION_STATE_ONLY, json)) => {
            #[derive(Deserialize)]
            struct Applied {
                #[serde(default)]
                last_update: i64,
            }
            match (
                serde_json::from_slice::<State>(json),
                serde_json::from_slice::<Applied>(json),
            ) {
                (Ok(state), Ok(applied)) => Row {
                    state: Some(state),
                    version: 0,
                    applied: applied.last_update,
                    recent: Vec::new(),
                },
                _ => reset(),
            }
        }
        _ => reset(),
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
            ..State::default()
        }
    }

    #[test]
    fn a_state_stored_before_facts_and_labels_were_kept_still_loads() {
        let old = br#"{"phase":{"Flow":{"flow":"reset_pin","step":"wechat_2","back":null}},"menu":7,"actions":["Continue"],"last_active":1700000000,"notice":null,"last_update":0}"#;
        let mut bytes = vec![VERSION_STATE_ONLY];
        bytes.extend_from_slice(old);
        assert_eq!(decode_row(&bytes).state, Some(in_flow()));
    }

    #[test]
    fn a_version_one_state_loads_with_its_applied_update() {
        let mut bytes = vec![VERSION_STATE_ONLY];
        let mut json = serde_json::to_value(in_flow()).unwrap();
        json["last_update"] = 812.into();
        bytes.extend_from_slice(json.to_string().as_bytes());
        let row = decode_row(&bytes);
        assert_eq!(row.state, Some(in_flow()));
        assert_eq!((row.version, row.applied), (0, 812));
        assert!(row.has_applied(Some(812)) && !row.has_applied(Some(813)));
    }

    #[test]
    fn an_unreadable_row_is_reset_with_a_notice() {
        for bytes in [&b"\x02{not json"[..], b"\x01{not json", b"\x09{}", b""] {
            let state = decode_row(bytes).chat().state;
            assert_eq!(state.notice, Some(Notice::StateReset), "{bytes:?}");
            assert_eq!(state.phase, Phase::Idle);
        }
    }

    #[test]
    fn encoding_round_trips() {
        let row = Row {
            state: Some(in_flow()),
            version: 3,
            applied: 99,
            recent: vec![1, 2],
        };
        assert_eq!(decode_row(&encode_row(&row)), row);
        let forgotten = Row { state: None, ..row };
        assert_eq!(decode_row(&encode_row(&forgotten)), forgotten);
    }

    #[tokio::test]
    async fn a_url_picks_the_backend() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        let store = open(plain.to_str().unwrap()).await.unwrap();
        assert!(store.describe().contains("sled"), "{}", store.describe());
        drop(store);
        let prefixed = format!("sled:{}", dir.path().join("prefixed").display());
        assert!(open(&prefixed).await.unwrap().describe().contains("sled"));
        assert!(open("memory:").await.unwrap().describe().contains("memory"));
        assert!(matches!(
            open("redis://localhost").await.err(),
            Some(StoreError::Url(_))
        ));
        assert!(matches!(
            open_existing(dir.path().join("none").to_str().unwrap())
                .await
                .err(),
            Some(StoreError::Missing(_))
        ));
        assert!(open_existing(plain.to_str().unwrap()).await.is_ok());
    }
}
