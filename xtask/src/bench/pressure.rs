//! How much of a workload's time the machine stalled: Linux's pressure stall information
//! (`/proc/pressure/io`, `memory` and `cpu`; kernel 4.20 and later). Each file counts, in
//! microseconds since boot, the time in which at least one task waited for that resource
//! (`some`) and, for I/O and memory, in which every task that could run waited (`full`). The
//! share of a workload's wall time in those counts says whether its number came from the code
//! measured or from a disk, memory or CPU it waited for.

use std::time::Instant;

/// The counters at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    at: Instant,
    io_some: u64,
    io_full: u64,
    memory_some: u64,
    cpu_some: u64,
}

/// The share of a workload's wall time (0 to 1) in which tasks waited, by resource.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stall {
    pub io_some: f64,
    pub io_full: f64,
    pub memory_some: f64,
    pub cpu_some: f64,
}

impl Snapshot {
    /// The counters now; `None` where the kernel keeps none (no `/proc/pressure`).
    pub fn now() -> Option<Self> {
        let read = |resource: &str, kind: &str| {
            let text = std::fs::read_to_string(format!("/proc/pressure/{resource}")).ok()?;
            total(&text, kind)
        };
        Some(Self {
            at: Instant::now(),
            io_some: read("io", "some")?,
            io_full: read("io", "full")?,
            memory_some: read("memory", "some")?,
            cpu_some: read("cpu", "some")?,
        })
    }

    /// The stalls since `self`, as shares of the time since.
    pub fn stall_since(&self) -> Option<Stall> {
        let now = Self::now()?;
        Some(self.stall_until(&now))
    }

    fn stall_until(&self, later: &Self) -> Stall {
        let wall = later.at.duration_since(self.at).as_micros() as f64;
        let share = |before: u64, after: u64| {
            if wall <= 0.0 {
                0.0
            } else {
                (after.saturating_sub(before) as f64 / wall).min(1.0)
            }
        };
        Stall {
            io_some: share(self.io_some, later.io_some),
            io_full: share(self.io_full, later.io_full),
            memory_some: share(self.memory_some, later.memory_some),
            cpu_some: share(self.cpu_some, later.cpu_some),
        }
    }
}

/// The `total=` of the line of `kind` (`some` or `full`) in a pressure file's `text`.
fn total(text: &str, kind: &str) -> Option<u64> {
    text.lines()
        .find(|line| line.split_whitespace().next() == Some(kind))?
        .split_whitespace()
        .find_map(|field| field.strip_prefix("total="))?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const IO: &str = "some avg10=4.05 avg60=3.50 avg300=2.02 total=20672661\n\
                      full avg10=2.70 avg60=2.31 avg300=1.42 total=16395945\n";

    #[test]
    fn reads_the_total_of_each_line() {
        assert_eq!(total(IO, "some"), Some(20_672_661));
        assert_eq!(total(IO, "full"), Some(16_395_945));
        assert_eq!(total(IO, "avg10=4.05"), None);
        assert_eq!(total("some avg10=0.00\n", "some"), None);
    }

    #[test]
    fn a_stall_is_the_share_of_the_wall_time_waited() {
        let at = Instant::now();
        let before = Snapshot {
            at,
            io_some: 1_000,
            io_full: 500,
            memory_some: 0,
            cpu_some: 7,
        };
        let later = Snapshot {
            at: at + Duration::from_secs(2),
            io_some: 1_000 + 500_000,
            io_full: 500 + 100_000,
            memory_some: 0,
            cpu_some: 7 + 4_000_000,
        };
        let stall = before.stall_until(&later);
        assert_eq!(stall.io_some, 0.25);
        assert_eq!(stall.io_full, 0.05);
        assert_eq!(stall.memory_some, 0.0);
        // A counter ahead of the wall time (read a moment apart) is all of it, no more.
        assert_eq!(stall.cpu_some, 1.0);
    }
}
