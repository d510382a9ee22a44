//! What PostgreSQL's sessions were doing over a workload: `pg_stat_activity` sampled every 20 ms
//! by one session of `psql` beside it, each sample a row per session of the database that is not
//! idle, by its state, its wait event (none: on the CPU) and the start of its statement. Counted
//! over the samples, a state's share says how many sessions were in it on average: whether the
//! writer's session waited on the disk (`IO:WALSync` at `COMMIT`), ran (on the CPU), or waited
//! for the sandbox to send its next statement (`Client:ClientRead`, idle in transaction).
//!
//! The sampling session commits after every sample, so that it holds no snapshot that would
//! keep the workload's dead rows from being pruned, and writes only to a temporary table (no
//! WAL).

use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// How many of the most frequent states a report keeps.
pub const SHOWN: usize = 8;

/// One state and how many sessions were in it on average over the samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Waited {
    pub sessions: f64,
    pub state: String,
}

/// A sampling under way.
pub struct Sampling(Child);

/// Starts sampling the sessions of the database at `url` for `seconds` (the workload's length).
pub fn start(url: &str, seconds: u64) -> Result<Sampling> {
    let samples = seconds * 50;
    let sample = format!(
        "DO $$ BEGIN FOR i IN 1..{samples} LOOP
           INSERT INTO sampled SELECT i, coalesce(state, backend_type) || ' '
             || coalesce(wait_event_type || ':' || wait_event, 'on the CPU')
             || ' ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 40)
             FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND coalesce(state, '') <> 'idle';
           COMMIT;
           PERFORM pg_sleep(0.02);
         END LOOP; END $$"
    );
    let child = Command::new("psql")
        .args([
            url,
            "-qAtX",
            "-F",
            "\t",
            "-c",
            "CREATE TEMPORARY TABLE sampled (n INT, what TEXT)",
            "-c",
            &sample,
            "-c",
            &format!(
                "SELECT {samples}, count(*), what FROM sampled GROUP BY what ORDER BY 2 DESC, 3"
            ),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting psql to sample pg_stat_activity")?;
    Ok(Sampling(child))
}

impl Sampling {
    /// Waits for the sampling to end: the most frequent states.
    pub fn finish(self) -> Result<Vec<Waited>> {
        let out = self.0.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "sampling pg_stat_activity: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(parse(&String::from_utf8_lossy(&out.stdout)))
    }
}

/// The rows `samples \t count \t state`, as the sessions in each state on average, the most
/// frequent [`SHOWN`].
fn parse(text: &str) -> Vec<Waited> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            let samples: f64 = fields.next()?.parse().ok()?;
            let count: f64 = fields.next()?.parse().ok()?;
            let state = fields.next()?.trim().to_string();
            (samples > 0.0).then(|| Waited {
                sessions: count / samples,
                state,
            })
        })
        .take(SHOWN)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_is_the_sessions_in_it_on_average_the_most_frequent_first() {
        let text = "500\t250\tactive IO:WALSync COMMIT\n\
                    500\t100\tidle in transaction Client:ClientRead INSERT INTO invoices (space\n\
                    bad line\n";
        assert_eq!(
            parse(text),
            vec![
                Waited {
                    sessions: 0.5,
                    state: "active IO:WALSync COMMIT".into()
                },
                Waited {
                    sessions: 0.2,
                    state: "idle in transaction Client:ClientRead INSERT INTO invoices (space"
                        .into()
                },
            ]
        );
        let many: String = (0..20)
            .map(|i| format!("10\t{}\tstate {i}\n", 20 - i))
            .collect();
        assert_eq!(parse(&many).len(), SHOWN);
    }
}
