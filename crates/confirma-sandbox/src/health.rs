//! Whether the storage takes writes. The writer reports every group's fate, and reads report
//! their storage failures; the log says once what went wrong (disk full, read-only, connection
//! lost, timeout) and once when writes work again, however many requests failed in between.
//! 503 answers take their `Retry-After` from it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::world::{StorageFault, StorageKind};

#[derive(Default)]
pub struct Health {
    /// Whether a failure is on record: the writer's every commit checks this alone.
    failing: AtomicBool,
    since: Mutex<Option<(StorageKind, Instant)>>,
}

impl Health {
    /// A failure: logged if it is the first, or of another kind than the one before.
    pub fn failed(&self, fault: &StorageFault) {
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        if since.is_some_and(|(kind, _)| kind == fault.kind) {
            tracing::debug!(error = %fault, "the storage still fails");
            return;
        }
        tracing::error!(
            error = %fault.detail,
            "{}: writes are answered 503 until it is mended; reads go on where they can",
            fault.kind.describe()
        );
        *since = Some((fault.kind, Instant::now()));
        self.failing.store(true, Ordering::Release);
    }

    /// A group of changes committed: writes work (again).
    pub fn committed(&self) {
        if !self.failing.load(Ordering::Acquire) {
            return;
        }
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((kind, at)) = since.take() {
            tracing::info!(
                "writes work again ({} for {:.1} s)",
                kind.describe(),
                at.elapsed().as_secs_f64()
            );
        }
        self.failing.store(false, Ordering::Release);
    }

    /// How long a caller should wait before trying again, by what is wrong: a lost connection or
    /// a timeout usually mends in a moment; a full or read-only database needs an operator.
    pub fn retry_after_seconds(&self) -> u32 {
        let since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        match since.map(|(kind, _)| kind) {
            Some(StorageKind::DiskFull | StorageKind::ReadOnly) => 5,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// What `run` logged, one line per event.
    fn logged(run: impl FnOnce()) -> Vec<String> {
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, run);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn an_outage_is_logged_once_when_it_starts_and_once_when_it_ends() {
        let health = Health::default();
        let full = StorageFault::new(StorageKind::DiskFull, "database or disk is full");
        let lines = logged(|| {
            health.committed();
            for _ in 0..100 {
                health.failed(&full);
            }
            health.committed();
            health.committed();
        });
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[0].contains("ERROR") && lines[0].contains("the database is full"));
        assert!(lines[1].contains("INFO") && lines[1].contains("writes work again"));
        // Another cause is news.
        let lost = StorageFault::new(StorageKind::ConnectionLost, "connection reset");
        let lines = logged(|| {
            health.failed(&full);
            health.failed(&lost);
            health.failed(&lost);
        });
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(lines[1].contains("connection to the database was lost"));
    }

    #[test]
    fn a_failure_is_remembered_until_a_commit() {
        let health = Health::default();
        assert_eq!(health.retry_after_seconds(), 1);
        health.failed(&StorageFault::new(
            StorageKind::DiskFull,
            "database or disk is full",
        ));
        health.failed(&StorageFault::new(
            StorageKind::DiskFull,
            "database or disk is full",
        ));
        assert_eq!(health.retry_after_seconds(), 5);
        health.committed();
        assert_eq!(health.retry_after_seconds(), 1);
        assert!(!health.failing.load(Ordering::Acquire));
    }
}
