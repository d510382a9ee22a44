//! The CPU work of many rows spread over the machine's cores: decoding and encoding the
//! documents of a part of an advance (thousands of rows, each unpacked, parsed, serialized and
//! packed), which the writer's thread would otherwise do alone while the database waits for it.
//! Few rows stay on the calling thread: a thread costs more than they do.

use std::sync::LazyLock;

/// The fewest rows worth a thread of their own.
const MIN_PER_THREAD: usize = 256;

/// The most threads one call uses, the caller's included.
const MAX_THREADS: usize = 4;

static THREADS: LazyLock<usize> = LazyLock::new(|| {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
});

/// `f` of each item, in their order: on scoped threads when there are enough items, each taking
/// a run of them, the caller's thread one too. A thread that cannot be made leaves its run to
/// the caller's; a panic in `f` is the caller's panic.
pub fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = (*THREADS).min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let mut runs = items.chunks(items.len().div_ceil(threads));
        let first = runs.next().unwrap_or_default();
        let others: Vec<_> = runs
            .map(|run| {
                let spawned = std::thread::Builder::new()
                    .name("confirma-spread".into())
                    .spawn_scoped(scope, move || run.iter().map(f).collect::<Vec<U>>());
                (run, spawned)
            })
            .collect();
        let mut all: Vec<U> = Vec::with_capacity(items.len());
        all.extend(first.iter().map(f));
        for (run, spawned) in others {
            match spawned {
                Ok(handle) => match handle.join() {
                    Ok(done) => all.extend(done),
                    Err(panic) => std::panic::resume_unwind(panic),
                },
                Err(_) => all.extend(run.iter().map(f)),
            }
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_items_map_in_their_order_on_several_threads() {
        let items: Vec<u64> = (0..10 * MIN_PER_THREAD as u64 + 7).collect();
        let caller = std::thread::current().id();
        let mapped = map(&items, |n| (n * 3, std::thread::current().id()));
        assert_eq!(
            mapped.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            items.iter().map(|n| n * 3).collect::<Vec<_>>()
        );
        let elsewhere = mapped.iter().filter(|(_, t)| *t != caller).count();
        if *THREADS > 1 {
            assert!(elsewhere > 0, "every item on the caller's thread");
        }
        assert!(mapped.iter().any(|(_, t)| *t == caller));
    }

    #[test]
    fn few_items_stay_on_the_callers_thread() {
        let items: Vec<u64> = (0..MIN_PER_THREAD as u64 + 1).collect();
        let caller = std::thread::current().id();
        let mapped = map(&items, |_| std::thread::current().id());
        assert!(mapped.iter().all(|t| *t == caller));
        assert!(map(&[] as &[u8], |b| *b).is_empty());
    }

    #[test]
    fn a_panic_on_another_thread_is_the_callers() {
        let items: Vec<u64> = (0..4 * MIN_PER_THREAD as u64).collect();
        let last = *items.last().unwrap();
        let caught = std::panic::catch_unwind(|| {
            map(&items, |n| {
                assert!(*n != last, "the last item");
                *n
            })
        });
        assert!(caught.is_err());
    }
}
