//! Requests of one kind that arrive together, answered by one statement. Each request waits in a
//! queue; whenever fewer than `parallel` statements of its kind are running, every request
//! waiting (at most `max`) is taken and answered by the next. Alone, a request is taken at
//! once; under load a statement's fixed costs (on PostgreSQL a round trip and a backend's
//! executor set up and torn down, on SQLite a hop to the connection's thread and back) are
//! shared by the requests it answers, and they grow with the load: while the statements run,
//! the next ones' requests gather.
//!
//! A request is taken after it arrives, so its statement sees every change acknowledged before
//! it was asked, as a statement of its own would. A request waits at most `wait` in all (queued,
//! and its statement running): then it is answered `late`, as a statement of its own would be
//! when the storage stalls.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};

/// The queue of one kind of request (`K`, each answered by a `V` or the statement's `E`).
pub struct Batcher<K, V, E> {
    queue: mpsc::UnboundedSender<Waiting<K, V, E>>,
    wait: Duration,
    late: E,
}

struct Waiting<K, V, E> {
    key: K,
    answer: oneshot::Sender<Result<V, E>>,
}

impl<K, V, E> Batcher<K, V, E>
where
    K: Send + 'static,
    V: Send + 'static,
    E: Clone + Send + 'static,
{
    /// Starts taking requests on the current runtime: `answer` answers the keys it is given, in
    /// their order; its error fails every request it was given. A request not answered within
    /// `wait` is answered `late`. The queue's task ends when the batcher is dropped.
    pub fn start<F, A>(max: usize, parallel: usize, wait: Duration, late: E, answer: F) -> Self
    where
        F: Fn(Vec<K>) -> A + Send + Sync + 'static,
        A: Future<Output = Result<Vec<V>, E>> + Send + 'static,
    {
        let (queue, mut waiting) = mpsc::unbounded_channel::<Waiting<K, V, E>>();
        let answer = Arc::new(answer);
        let running = Arc::new(Semaphore::new(parallel.max(1)));
        let max = max.max(1);
        tokio::spawn(async move {
            loop {
                // A statement's place first, so that requests gather while all are running.
                let Ok(place) = running.clone().acquire_owned().await else {
                    return;
                };
                let Some(first) = waiting.recv().await else {
                    return;
                };
                // Requests given up (their callers gone) take no place.
                let mut taken = vec![first];
                taken.retain(|w| !w.answer.is_closed());
                while taken.len() < max {
                    match waiting.try_recv() {
                        Ok(next) if next.answer.is_closed() => {}
                        Ok(next) => taken.push(next),
                        Err(_) => break,
                    }
                }
                let answer = answer.clone();
                tokio::spawn(async move {
                    let _place = place;
                    // Requests given up meanwhile (their callers gone) are not asked for.
                    taken.retain(|w| !w.answer.is_closed());
                    if taken.is_empty() {
                        return;
                    }
                    let (keys, answers): (Vec<K>, Vec<_>) =
                        taken.into_iter().map(|w| (w.key, w.answer)).unzip();
                    match answer(keys).await {
                        Ok(values) => {
                            // Fewer values than keys leave the rest unanswered (`ask`: `None`).
                            for (to, value) in answers.into_iter().zip(values) {
                                let _ = to.send(Ok(value));
                            }
                        }
                        Err(e) => {
                            for to in answers {
                                let _ = to.send(Err(e.clone()));
                            }
                        }
                    }
                });
            }
        });
        Self { queue, wait, late }
    }

    /// The answer to `key`, from the next statement that takes it, or `late` after `wait`;
    /// `None` if none answered it (the statement panicked, or gave fewer answers than it was
    /// given keys).
    pub async fn ask(&self, key: K) -> Option<Result<V, E>> {
        let (answer, answered) = oneshot::channel();
        self.queue.send(Waiting { key, answer }).ok()?;
        match tokio::time::timeout(self.wait, answered).await {
            Ok(answered) => answered.ok(),
            Err(_) => Some(Err(self.late.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// Longer than any test waits.
    const LONG: Duration = Duration::from_secs(60);

    /// The keys of each statement, in the order they ran.
    type Seen = Arc<Mutex<Vec<Vec<u32>>>>;

    /// A batcher whose statement doubles its keys after `delay`, recording the keys of each.
    fn doubling(max: usize, parallel: usize, delay: Duration) -> (Batcher<u32, u32, String>, Seen) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        let batcher = Batcher::start(max, parallel, LONG, "late".into(), move |keys: Vec<u32>| {
            recorded.lock().unwrap().push(keys.clone());
            async move {
                tokio::time::sleep(delay).await;
                if keys.contains(&13) {
                    return Err(format!("unlucky {keys:?}"));
                }
                Ok(keys.iter().map(|k| k * 2).collect())
            }
        });
        (batcher, seen)
    }

    #[tokio::test]
    async fn requests_that_wait_together_are_answered_by_one_statement_each_its_own_answer() {
        let (batcher, seen) = doubling(8, 1, Duration::from_millis(20));
        let batcher = Arc::new(batcher);
        let asks: Vec<_> = (100..120u32)
            .map(|k| {
                let batcher = batcher.clone();
                tokio::spawn(async move { (k, batcher.ask(k).await) })
            })
            .collect();
        for ask in asks {
            let (k, answer) = ask.await.unwrap();
            assert_eq!(answer, Some(Ok(k * 2)));
        }
        let seen = seen.lock().unwrap();
        // One statement at a time: the first takes what had arrived, the rest gather behind it.
        assert!(seen.len() < 20, "{seen:?}");
        assert!(seen.iter().all(|keys| keys.len() <= 8), "{seen:?}");
        let mut all: Vec<u32> = seen.iter().flatten().copied().collect();
        all.sort();
        assert_eq!(all, (100..120).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_failed_statement_fails_every_request_it_took_and_no_other() {
        let (batcher, seen) = doubling(64, 1, Duration::from_millis(20));
        let batcher = Arc::new(batcher);
        // The first statement takes 1 alone; 12, 13 and 14 gather behind it.
        let first = {
            let batcher = batcher.clone();
            tokio::spawn(async move { batcher.ask(1).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let later: Vec<_> = [12u32, 13, 14]
            .into_iter()
            .map(|k| {
                let batcher = batcher.clone();
                tokio::spawn(async move { batcher.ask(k).await })
            })
            .collect();
        assert_eq!(first.await.unwrap(), Some(Ok(2)));
        for ask in later {
            let answer = ask.await.unwrap();
            assert!(
                matches!(&answer, Some(Err(e)) if e == "unlucky [12, 13, 14]"),
                "{answer:?}"
            );
        }
        assert_eq!(seen.lock().unwrap().len(), 2);
        assert_eq!(batcher.ask(3).await, Some(Ok(6)));
    }

    #[tokio::test]
    async fn a_request_waits_at_most_its_wait_and_the_queue_goes_on() {
        let batcher = Batcher::<u32, u32, String>::start(
            8,
            2,
            Duration::from_millis(50),
            "late".into(),
            |keys: Vec<u32>| async move {
                if keys.contains(&1) {
                    tokio::time::sleep(LONG).await;
                }
                Ok(keys)
            },
        );
        // Its statement would take a minute: answered late instead.
        assert_eq!(batcher.ask(1).await, Some(Err("late".into())));
        // The next statement runs beside the slow one.
        assert_eq!(batcher.ask(2).await, Some(Ok(2)));
    }

    #[tokio::test]
    async fn a_request_given_up_is_not_asked_for_and_the_others_are_answered() {
        let (batcher, seen) = doubling(64, 1, Duration::from_millis(30));
        let batcher = Arc::new(batcher);
        let busy = {
            let batcher = batcher.clone();
            tokio::spawn(async move { batcher.ask(1).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        // 2 waits behind the running statement and is given up; 3 waits on.
        let gone = tokio::time::timeout(Duration::from_millis(5), batcher.ask(2)).await;
        assert!(gone.is_err());
        assert_eq!(batcher.ask(3).await, Some(Ok(6)));
        assert_eq!(busy.await.unwrap(), Some(Ok(2)));
        assert_eq!(*seen.lock().unwrap(), vec![vec![1], vec![3]]);
    }

    #[tokio::test]
    async fn statements_run_side_by_side_up_to_the_parallel_count() {
        // Each statement waits for three others to start: only four at once get past it.
        let barrier = Arc::new(tokio::sync::Barrier::new(4));
        let batcher = Arc::new(Batcher::<u32, u32, String>::start(
            1,
            4,
            LONG,
            "late".into(),
            move |keys| {
                let barrier = barrier.clone();
                async move {
                    barrier.wait().await;
                    Ok(keys)
                }
            },
        ));
        let asks: Vec<_> = (0..4u32)
            .map(|k| {
                let batcher = batcher.clone();
                tokio::spawn(async move { batcher.ask(k).await })
            })
            .collect();
        for (k, ask) in (0..4u32).zip(asks) {
            let answered = tokio::time::timeout(Duration::from_secs(10), ask).await;
            assert_eq!(answered.expect("four at once").unwrap(), Some(Ok(k)));
        }
    }

    #[tokio::test]
    async fn a_statement_that_panics_leaves_its_requests_unanswered_and_the_queue_running() {
        let batcher = Batcher::<u32, u32, String>::start(
            8,
            1,
            LONG,
            "late".into(),
            |keys: Vec<u32>| async move {
                assert!(!keys.contains(&7), "seven");
                Ok(keys)
            },
        );
        assert_eq!(batcher.ask(7).await, None);
        assert_eq!(batcher.ask(8).await, Some(Ok(8)));
    }
}
