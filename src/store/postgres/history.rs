//! Published versions of the knowledge in the database the replicas share, so that every replica can
//! load the newest one (and a replica started later starts from it).
//!
//! A version is a row of `knowledge_versions` and its files are rows of `knowledge_files`, written in
//! one transaction that first locks the versions table: two replicas publishing at the same moment
//! take turns, and each gets the next number (no gaps, no collisions). Dismissed review items are rows
//! of `dismissed_reviews`.

use sqlx::Row as _;
use sqlx::postgres::PgPool;

use crate::knowledge::history::{
    History, HistoryError, INITIAL, INITIAL_NOTE, Version, VersionInfo,
};

/// The PostgreSQL history (see the module's documentation), on the store's pool.
#[derive(Debug, Clone)]
pub struct PgHistory {
    pub(super) pool: PgPool,
    pub(super) shown: String,
}

/// Versions with the names of their files, in order (add a `WHERE` and the `GROUP BY v.number`).
const VERSIONS: &str = "SELECT v.number, v.who, v.note, v.published_at, \
     coalesce(array_agg(f.name ORDER BY f.position) FILTER (WHERE f.name IS NOT NULL), '{}') AS files \
     FROM knowledge_versions v LEFT JOIN knowledge_files f ON f.version = v.number";

impl PgHistory {
    /// Records a version under the next number (`only_first`: only into an empty history; `None`
    /// otherwise), in one transaction that first locks the versions table: publishers take turns from
    /// the lock to COMMIT, so each gets its own number; readers are not held.
    async fn insert(
        &self,
        who: &str,
        note: &str,
        files: &[(String, String)],
        now: i64,
        only_first: bool,
    ) -> Result<Option<VersionInfo>, HistoryError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("LOCK TABLE knowledge_versions IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let next: i64 =
            sqlx::query_scalar("SELECT coalesce(max(number), 0) + 1 FROM knowledge_versions")
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
        if only_first && next > 1 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO knowledge_versions (number, who, note, published_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(next)
        .bind(who)
        .bind(note)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        let bodies: Vec<&str> = files.iter().map(|(_, t)| t.as_str()).collect();
        let positions: Vec<i32> = (0..files.len() as i32).collect();
        sqlx::query(
            "INSERT INTO knowledge_files (version, position, name, body) \
             SELECT $1, p, n, b FROM unnest($2::int[], $3::text[], $4::text[]) AS f(p, n, b)",
        )
        .bind(next)
        .bind(&positions)
        .bind(&names)
        .bind(&bodies)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Some(VersionInfo {
            number: next as u64,
            who: who.to_string(),
            when: now,
            note: note.to_string(),
            files: names.iter().map(|n| n.to_string()).collect(),
        }))
    }
}

fn db(e: sqlx::Error) -> HistoryError {
    HistoryError::Database(e.to_string())
}

fn number(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait::async_trait]
impl History for PgHistory {
    fn describe(&self) -> String {
        format!("PostgreSQL {}", self.shown)
    }

    async fn list(&self) -> Result<Vec<VersionInfo>, HistoryError> {
        let rows = sqlx::query(&format!("{VERSIONS} GROUP BY v.number ORDER BY v.number"))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(info_of).collect()
    }

    async fn latest(&self) -> Result<Option<VersionInfo>, HistoryError> {
        let row = sqlx::query(&format!(
            "{VERSIONS} WHERE v.number = (SELECT max(number) FROM knowledge_versions) GROUP BY v.number"
        ))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(info_of).transpose()
    }

    async fn get(&self, n: u64) -> Result<Version, HistoryError> {
        let head = sqlx::query(
            "SELECT number, who, note, published_at FROM knowledge_versions WHERE number = $1",
        )
        .bind(number(n))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or(HistoryError::NoSuchVersion(n))?;
        let rows = sqlx::query(
            "SELECT name, body FROM knowledge_files WHERE version = $1 ORDER BY position",
        )
        .bind(number(n))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let files: Vec<(String, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("body")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)?;
        Ok(Version {
            info: VersionInfo {
                number: n,
                who: head.try_get("who").map_err(db)?,
                when: head.try_get("published_at").map_err(db)?,
                note: head.try_get("note").map_err(db)?,
                files: files.iter().map(|(name, _)| name.clone()).collect(),
            },
            files,
        })
    }

    async fn record(
        &self,
        who: &str,
        note: &str,
        files: &[(String, String)],
        now: i64,
    ) -> Result<VersionInfo, HistoryError> {
        let recorded = self.insert(who, note, files, now, false).await?;
        Ok(recorded.expect("recorded whatever the history holds"))
    }

    async fn record_initial(
        &self,
        files: &[(String, String)],
        now: i64,
    ) -> Result<(), HistoryError> {
        self.insert(INITIAL, INITIAL_NOTE, files, now, true)
            .await
            .map(drop)
    }

    async fn dismissed(&self) -> Result<Vec<String>, HistoryError> {
        sqlx::query_scalar("SELECT key FROM dismissed_reviews ORDER BY dismissed_at, key")
            .fetch_all(&self.pool)
            .await
            .map_err(db)
    }

    async fn dismiss(&self, key: &str, who: &str, now: i64) -> Result<(), HistoryError> {
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        sqlx::query(
            "INSERT INTO dismissed_reviews (key, who, dismissed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET who = EXCLUDED.who, dismissed_at = EXCLUDED.dismissed_at",
        )
        .bind(clean(key))
        .bind(who)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}

fn info_of(row: &sqlx::postgres::PgRow) -> Result<VersionInfo, HistoryError> {
    let number: i64 = row.try_get("number").map_err(db)?;
    Ok(VersionInfo {
        number: number as u64,
        who: row.try_get("who").map_err(db)?,
        when: row.try_get("published_at").map_err(db)?,
        note: row.try_get("note").map_err(db)?,
        files: row.try_get("files").map_err(db)?,
    })
}
