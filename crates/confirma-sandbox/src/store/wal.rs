//! SQLite's write-ahead log synced beside the writer. The writer's connection commits into the
//! log without waiting for the disk (`synchronous = NORMAL`); [`LogSync`] syncs the log on a
//! thread of its own and only then hands back what was committed, for the writer to answer. So a
//! group's changes are still answered only once they are on the disk, while the writer already
//! applies the next group: its statements and the disk's sync of the one before overlap, where
//! with `synchronous = FULL` each commit waited for its sync before the next group could begin.
//!
//! What a crash can do is unchanged. A group's frames end with its commit frame, and SQLite's
//! recovery replays the log's frames in order while their checksums (each over all the frames
//! before it) hold: a group whose frames did not all reach the disk is dropped whole, with every
//! group after it, none of which was answered. A checkpoint syncs the log before it copies
//! anything into the database (SQLite does so at `NORMAL` too). What changes: another request
//! may read a group's changes a moment before they are on the disk, as another connection of a
//! PostgreSQL server with `synchronous_commit = off` would; it cannot have been answered a
//! write that a crash then loses.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Syncs the log of the SQLite database at `database` (`<database>-wal`) to the disk.
///
/// The file is opened for each sync, so that a log SQLite made anew is the one synced. None at
/// all means no connection has the database open: the last to close it checkpointed the log into
/// the database, synced it, and removed the log. (Never the database file itself: closing a
/// descriptor of it would release the locks SQLite holds on it in this process.)
pub fn sync_log(database: &Path) -> impl FnMut() -> io::Result<()> + Send + 'static {
    let mut log = database.as_os_str().to_owned();
    log.push("-wal");
    let log = PathBuf::from(log);
    move || match std::fs::File::open(&log) {
        Ok(file) => file.sync_data(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A thread that syncs the log after commits and then hands each commit's `T` to `synced`, in
/// the order committed: the commits made while one sync ran share the next.
pub struct LogSync<T: Send + 'static> {
    queue: Option<mpsc::Sender<T>>,
    thread: Option<JoinHandle<()>>,
}

impl<T: Send + 'static> LogSync<T> {
    /// Starts the thread: `sync` makes the log durable; `synced` gets what was committed before
    /// it began, with the sync's error if it failed (those commits may then be lost to a crash).
    pub fn start(
        mut sync: impl FnMut() -> io::Result<()> + Send + 'static,
        mut synced: impl FnMut(Vec<T>, Option<&io::Error>) + Send + 'static,
    ) -> io::Result<Self> {
        let (queue, committed) = mpsc::channel::<T>();
        let thread = std::thread::Builder::new()
            .name("confirma-log-sync".into())
            .spawn(move || {
                while let Ok(first) = committed.recv() {
                    let mut batch = vec![first];
                    batch.extend(committed.try_iter());
                    let result = sync();
                    synced(batch, result.as_ref().err());
                }
            })?;
        Ok(Self {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Hands over what a commit that has returned made: `synced` gets it after a sync that
    /// began after this call.
    pub fn committed(&self, item: T) {
        if let Some(queue) = &self.queue {
            // The thread ends only once the queue is dropped (or it panicked: then `item` is
            // dropped, and whoever waits on it is told the writer stopped).
            let _ = queue.send(item);
        }
    }
}

impl<T: Send + 'static> Drop for LogSync<T> {
    /// Syncs and hands back everything committed so far, then ends the thread.
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[test]
    fn commits_are_handed_back_only_after_a_sync_that_began_after_them() {
        // Each sync tells the test how many commits had been made when it began, then waits
        // until the test lets it end.
        let made = Arc::new(Mutex::new(0u32));
        let (began, beginning) = mpsc::channel();
        let (go, gate) = mpsc::channel::<()>();
        let (back, handed) = mpsc::channel();
        let log = LogSync::start(
            {
                let made = made.clone();
                move || {
                    began.send(*made.lock().unwrap()).unwrap();
                    gate.recv().unwrap();
                    Ok(())
                }
            },
            move |batch: Vec<u32>, error| {
                assert!(error.is_none());
                back.send(batch).unwrap();
            },
        )
        .unwrap();
        *made.lock().unwrap() = 1;
        log.committed(1);
        assert_eq!(beginning.recv().unwrap(), 1);
        // The first sync holds: nothing is handed back yet, and the commits made meanwhile wait
        // for the next sync.
        *made.lock().unwrap() = 3;
        log.committed(2);
        log.committed(3);
        assert!(handed.recv_timeout(Duration::from_millis(50)).is_err());
        go.send(()).unwrap();
        assert_eq!(handed.recv().unwrap(), vec![1]);
        assert_eq!(beginning.recv().unwrap(), 3);
        assert!(handed.recv_timeout(Duration::from_millis(50)).is_err());
        go.send(()).unwrap();
        assert_eq!(handed.recv().unwrap(), vec![2, 3]);
        // Dropped, it still syncs and hands back what was committed.
        *made.lock().unwrap() = 4;
        log.committed(4);
        go.send(()).unwrap();
        drop(log);
        assert_eq!(beginning.recv().unwrap(), 4);
        assert_eq!(handed.recv().unwrap(), vec![4]);
    }

    #[test]
    fn a_failed_sync_is_told_with_the_commits_it_covered() {
        let (back, handed) = mpsc::channel();
        let log = LogSync::start(
            || Err(io::Error::other("the disk failed")),
            move |batch: Vec<u32>, error| {
                back.send((batch, error.map(|e| e.to_string()))).unwrap();
            },
        )
        .unwrap();
        log.committed(7);
        let (batch, error) = handed.recv().unwrap();
        assert_eq!(batch, vec![7]);
        assert_eq!(error.as_deref(), Some("the disk failed"));
    }

    #[test]
    fn the_log_beside_a_database_is_synced_and_a_missing_one_is_no_failure() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("sandbox.db");
        let mut sync = sync_log(&database);
        sync().unwrap();
        std::fs::write(dir.path().join("sandbox.db-wal"), b"frames").unwrap();
        sync().unwrap();
        // A log that cannot be opened (its path runs through a file) is a failure.
        let mut broken = sync_log(&dir.path().join("sandbox.db-wal").join("x.db"));
        assert!(broken().is_err());
    }
}
