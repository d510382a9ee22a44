//! SQLite's checkpoints made beside the writer rather than by it. A commit appends the pages it
//! changed to the write-ahead log; a checkpoint copies them back into the database file. Left to
//! SQLite, the connection whose commit brings the log past 1,000 pages makes it there and then:
//! the writer's, whose every change waits for it (9% of its SQLite thread over an advance).
//! Here a connection of its own checkpoints after commits, at most every [`PAUSE`], on its own
//! thread, while the writer goes on; the writer still checkpoints itself past [`BACKSTOP`]
//! pages, should this one fall behind. Checkpoints never decide what survives a crash: every
//! commit is in the log, synced, before it is acknowledged.

use std::time::Duration;

use sqlx::AnyConnection;
use tokio::sync::mpsc;

/// The least time between two checkpoints: commits meanwhile wait for the next.
pub const PAUSE: Duration = Duration::from_millis(100);

/// The pages of log past which the writer's own commit checkpoints (`wal_autocheckpoint`).
pub const BACKSTOP: u32 = 10_000;

/// Tells the checkpointer of commits; it stops once this is dropped.
pub struct Checkpoints(mpsc::Sender<()>);

impl Checkpoints {
    /// Starts checkpointing on `conn` (an SQLite connection to the database) on the current
    /// runtime.
    pub fn start(conn: AnyConnection) -> Self {
        let (commits, waiting) = mpsc::channel(1);
        tokio::spawn(checkpoint_after_commits(conn, waiting));
        Self(commits)
    }

    /// A commit was made: a checkpoint follows (commits that come before it share it).
    pub fn committed(&self) {
        let _ = self.0.try_send(());
    }
}

async fn checkpoint_after_commits(mut conn: AnyConnection, mut commits: mpsc::Receiver<()>) {
    while commits.recv().await.is_some() {
        // PASSIVE: as far as the readers' snapshots allow, never waiting for them or the writer.
        if let Err(e) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await
        {
            tracing::warn!(error = %e, "a checkpoint failed; the writer's commits make them past the backstop");
        }
        tokio::time::sleep(PAUSE).await;
    }
    let _ = sqlx::Connection::close(conn).await;
}

#[cfg(test)]
mod tests {
    use crate::store::{Db, Location};

    /// The writer's commits (below the backstop) reach the database file through the
    /// checkpointer: without it they would stay in the log.
    #[tokio::test]
    async fn commits_reach_the_database_file_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.db");
        let (db, _claim) = Db::open(Location::File(path.clone()), Default::default())
            .await
            .unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let mut conn = db.writer_connection().await.unwrap();
        sqlx::raw_sql("CREATE TABLE scratch (b BLOB)")
            .execute(&mut *conn)
            .await
            .unwrap();
        let before = size();
        for _ in 0..8 {
            let mut tx = db.begin_write(&mut conn).await.unwrap();
            sqlx::query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO scratch SELECT randomblob(4000) FROM n")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            db.committed();
        }
        // 800 pages of 4 KiB in the log, far below the backstop.
        const { assert!(super::BACKSTOP > 2_000) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while size() < before + 3_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the file holds {} bytes, {before} before",
                size()
            );
            tokio::time::sleep(super::PAUSE).await;
        }
    }
}
