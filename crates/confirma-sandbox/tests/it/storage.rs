//! Storage faults: a full database, a lock held too long, a connection cut. While the database
//! cannot take writes, creates answer 503 in the error format with `Retry-After` and reads keep
//! answering; once it can again, the very next write is taken, with no restart; and nothing
//! acknowledged is ever lost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use confirma_sandbox::StoreLimits;
use confirma_sandbox::{Config, Limits, Location};

use crate::{TestSandbox, invoice};

/// A create sent as raw HTTP: its status, `Retry-After` and body.
async fn create(
    sb: &TestSandbox,
    token: &str,
    number: i64,
) -> (u16, Option<String>, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/partner/invoice", sb.base))
        .header("x-api-key", token)
        .json(&invoice(number))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry_after, resp.json().await.unwrap())
}

/// A 503 of a storage fault: the error format, the message saying `what`, and `Retry-After`.
fn assert_unavailable(answer: &(u16, Option<String>, serde_json::Value), what: &str) {
    let (status, retry_after, body) = answer;
    assert_eq!(*status, 503, "{body}");
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(what), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    let seconds: u32 = retry_after
        .as_deref()
        .expect("a storage 503 says when to try again")
        .parse()
        .unwrap();
    assert!((1..=5).contains(&seconds), "Retry-After {seconds}");
}

/// The invoice numbers the token's client holds, once each.
async fn held(sb: &TestSandbox, token: &str) -> std::collections::BTreeSet<i64> {
    crate::durability::stored_numbers(&sb.client(token))
        .await
        .into_iter()
        .collect()
}

/// Creates invoices from `first` on, sixteen at a time, until one is refused; with
/// `then_singly`, goes on one at a time until not even one more fits. Pushes the acknowledged
/// numbers; answers the refusal and the number it refused.
async fn create_until_refused(
    sb: &TestSandbox,
    token: &str,
    first: i64,
    then_singly: bool,
    acknowledged: &mut Vec<i64>,
) -> ((u16, Option<String>, serde_json::Value), i64) {
    let (mut next, mut at_once) = (first, 16);
    loop {
        assert!(
            next < first + 40_000,
            "40,000 invoices never filled the storage"
        );
        let answers =
            futures::future::join_all((next..next + at_once).map(|n| create(sb, token, n))).await;
        let mut refused = None;
        for (n, answer) in (next..).zip(answers) {
            match answer.0 {
                200 => acknowledged.push(n),
                503 => refused = Some((answer, n)),
                _ => panic!("{n}: {answer:?}"),
            }
        }
        next += at_once;
        match refused {
            Some((answer, n)) if at_once == 1 || !then_singly => return (answer, n),
            Some((answer, _)) => {
                assert_unavailable(&answer, "full");
                at_once = 1;
            }
            None => {}
        }
    }
}

/// Once space is made, the very next writes are taken; after a restart on `config`, every
/// acknowledged invoice is there.
async fn writes_resume_and_nothing_is_lost(
    sb: TestSandbox,
    config: Config,
    token: &str,
    mut acknowledged: Vec<i64>,
) {
    for n in 900_000..900_003 {
        let answer = create(&sb, token, n).await;
        assert_eq!(answer.0, 200, "after space was freed: {answer:?}");
        acknowledged.push(n);
    }
    sb.stop().await;
    let sb = TestSandbox::start_with(config, Limits::default()).await;
    let after = held(&sb, token).await;
    let lost: Vec<_> = acknowledged.iter().filter(|n| !after.contains(n)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_takes_writes_again_once_space_is_freed_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        storage: Location::File(dir.path().join("full.db")),
        store_limits: StoreLimits {
            max_database_mib: Some(1),
            ..StoreLimits::default()
        },
        ..Config::for_tests()
    };
    let sb = TestSandbox::start_with(config.clone(), Limits::default()).await;
    let token = sb.demo_token().await;
    // Creates until the cap of 1 MiB is reached, then until not even one more fits.
    let mut acknowledged = Vec::new();
    let (full, refused) = create_until_refused(&sb, &token, 800_000, true, &mut acknowledged).await;
    assert_unavailable(&full, "full");
    assert!(
        acknowledged.len() > 50,
        "{} invoices filled 1 MiB",
        acknowledged.len()
    );
    // Reads are answered meanwhile, and hold every acknowledged invoice and nothing refused.
    sb.client(&token).validate_token().send().await.unwrap();
    let before = held(&sb, &token).await;
    assert!(acknowledged.iter().all(|n| before.contains(n)));
    assert!(!before.contains(&refused));

    // Room is made (the cap raised).
    sb.sandbox.limit_database(None);
    writes_resume_and_nothing_is_lost(sb, config, &token, acknowledged).await;
}

/// A filesystem of `mib` MiB mounted on a new directory (unmounted when dropped).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mounting a tmpfs needs root (CI runs as root)"
        );
        Self { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "mounts a small tmpfs, which needs root: CI's second sandbox run includes it"]
async fn a_full_disk_takes_writes_again_once_space_is_freed_and_loses_nothing() {
    let disk = SmallDisk::mount(3);
    // Room the test frees later.
    let filler = disk.dir.path().join("filler");
    std::fs::write(&filler, vec![1u8; 1024 * 1024]).unwrap();
    let config = Config {
        storage: Location::File(disk.dir.path().join("sandbox.db")),
        ..Config::for_tests()
    };
    let sb = TestSandbox::start_with(config.clone(), Limits::default()).await;
    let token = sb.demo_token().await;
    let mut acknowledged = Vec::new();
    let (full, _) = create_until_refused(&sb, &token, 810_000, false, &mut acknowledged).await;
    assert_unavailable(&full, "full");
    sb.client(&token).validate_token().send().await.unwrap();

    // Space is freed.
    std::fs::remove_file(&filler).unwrap();
    writes_resume_and_nothing_is_lost(sb, config, &token, acknowledged).await;
}

/// A sandbox on `storage` with a short storage timeout, while another connection (to `url`)
/// holds the write lock (`hold`) past it: a create answers 503 in time and reads go on; once
/// the lock is let go (`release`), the next create is taken.
async fn a_lock_held_elsewhere_is_waited_out(
    storage: Location,
    url: &str,
    hold: &str,
    release: &str,
) {
    let config = Config {
        storage,
        store_limits: StoreLimits {
            timeout: Duration::from_millis(400),
            ..StoreLimits::default()
        },
        ..Config::for_tests()
    };
    let sb = TestSandbox::start_with(config, Limits::default()).await;
    let token = sb.demo_token().await;
    assert_eq!(create(&sb, &token, 1).await.0, 200);
    sqlx::any::install_default_drivers();
    let mut other = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(hold))
        .execute(&mut other)
        .await
        .unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(30), create(&sb, &token, 2))
        .await
        .expect("a create waiting for a lock held elsewhere never answered");
    assert_unavailable(&refused, "did not answer in time");
    // Reads are not held up by a writer.
    sb.client(&token).validate_token().send().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(release))
        .execute(&mut other)
        .await
        .unwrap();
    let taken = create(&sb, &token, 3).await;
    assert_eq!(taken.0, 200, "after the lock was let go: {taken:?}");
    let numbers = held(&sb, &token).await;
    assert!(numbers.contains(&1) && numbers.contains(&3) && !numbers.contains(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_past_the_timeout_answers_503_and_writes_resume_once_it_is_let_go() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("locked.db");
    // Another program takes the file's write lock and keeps it.
    a_lock_held_elsewhere_is_waited_out(
        Location::File(file.clone()),
        &format!("sqlite://{}", file.display()),
        "BEGIN IMMEDIATE",
        "COMMIT",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn on_postgres_a_write_lock_held_past_the_timeout_answers_503_and_writes_resume() {
    let storage = crate::postgres_storage().await;
    let Location::Postgres(url) = storage.clone() else {
        unreachable!()
    };
    // A stuck replica holds the default space's write lock, which every sandbox process writing
    // to it takes ("CFIS", space 0).
    a_lock_held_elsewhere_is_waited_out(
        storage,
        &url,
        "SELECT pg_advisory_lock(1128679763, 0)",
        "SELECT pg_advisory_unlock(1128679763, 0)",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (CONFIRMA_SANDBOX_TEST_DATABASE_URL): CI's PostgreSQL run includes it"]
async fn on_postgres_writes_resume_by_themselves_after_every_connection_is_terminated_mid_load() {
    let storage = crate::postgres_storage().await;
    let Location::Postgres(url) = &storage else {
        unreachable!()
    };
    let sb = Arc::new(TestSandbox::on(storage.clone()).await);
    let token = sb.demo_token().await;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let mut load = Vec::new();
    for worker in 0..8i64 {
        let (sb, token) = (sb.clone(), token.clone());
        let (acknowledged, refused) = (acknowledged.clone(), refused.clone());
        load.push(tokio::spawn(async move {
            for i in 0..150i64 {
                let n = 600_000 + worker * 1000 + i;
                let answer = create(&sb, &token, n).await;
                match answer.0 {
                    200 => acknowledged.lock().unwrap().push(n),
                    503 => refused.lock().unwrap().push(answer),
                    _ => panic!("{n}: {answer:?}"),
                }
            }
        }));
    }
    // Mid-load, every connection of the sandbox's database is cut.
    crate::eventually("200 invoices acknowledged", || {
        acknowledged.lock().unwrap().len() >= 200
    })
    .await;
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    let cut = sqlx::query(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    let cut: i64 = sqlx::Row::get(&cut, 0);
    assert!(cut > 0, "no connection was cut");
    for task in load {
        task.await.unwrap();
    }
    for answer in refused.lock().unwrap().iter() {
        assert_unavailable(answer, "nothing was changed");
    }
    // Writes work again by themselves (the next one, or one shortly after).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut n = 690_000;
    loop {
        let answer = create(&sb, &token, n).await;
        if answer.0 == 200 {
            acknowledged.lock().unwrap().push(n);
            break;
        }
        assert_unavailable(&answer, "nothing was changed");
        assert!(
            tokio::time::Instant::now() < deadline,
            "writes never resumed: {answer:?}"
        );
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let numbers = held(&sb, &token).await;
    let lost: Vec<_> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|n| !numbers.contains(n))
        .copied()
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
