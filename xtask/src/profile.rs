//! `cargo xtask bench --profiles DIR`: where the sandbox's time goes under each workload, as a
//! flame graph (SVG) per backend and workload, so that the next engineer sees which frames a
//! missed target is spent in before reading any code.
//!
//! Each workload the bench runs against the sandbox is recorded with Linux `perf` (Debian's
//! `linux-perf`) at 199 samples a second, for at most its first 30 seconds, with DWARF call
//! graphs, then folded and drawn by inferno (`cargo install inferno`, installed when missing).
//! The recording covers only the sandbox's process: wrk, and on PostgreSQL the database server,
//! are not in it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Samples a second: an odd rate, so that it does not beat with the runtime's own timers
/// (about 4,000 samples in a 10-second workload on two cores).
const FREQUENCY: &str = "199";

/// The most seconds of a workload recorded (the first ones): at a million invoices an advance
/// takes minutes, and a DWARF sample copies 16 KiB of stack.
const MOST_SECONDS: &str = "30";

/// Records workloads into `dir` as `<stem>.svg`.
#[derive(Clone, Debug)]
pub struct Profiler {
    dir: PathBuf,
}

impl Profiler {
    /// A profiler writing into `dir` (created), once `perf` can record this machine and inferno's
    /// two commands are on the `PATH` (installed with cargo when they are not).
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let probe = Command::new("perf")
            .args(["record", "-q", "-o", "/dev/null", "--", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .context("running perf (Debian: apt-get install linux-perf)")?;
        if !probe.status.success() {
            bail!(
                "perf cannot record on this machine: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            );
        }
        if Command::new("inferno-flamegraph")
            .arg("--help")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            eprintln!("bench: installing inferno (flame graphs)");
            let status = Command::new(env!("CARGO"))
                .args(["install", "--locked", "-q", "inferno"])
                .status()?;
            if !status.success() {
                bail!("cargo install inferno failed");
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Runs `work` while `perf` records the process `pid`, then draws `<stem>.svg` with `title`.
    pub fn record<T>(
        &self,
        pid: u32,
        stem: &str,
        title: &str,
        work: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let data = self.dir.join(format!("{stem}.perf.data"));
        let mut perf = Command::new("perf")
            .args([
                "record",
                "-q",
                "-F",
                FREQUENCY,
                "--call-graph",
                "dwarf,16384",
            ])
            .arg("-p")
            .arg(pid.to_string())
            .arg("-o")
            .arg(&data)
            .args(["--", "sleep", MOST_SECONDS])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting perf record")?;
        // perf attaches to every thread of the process before the load starts.
        std::thread::sleep(Duration::from_millis(300));
        let result = work();
        stop(&mut perf)?;
        let drawn = self.draw(&data, stem, title);
        let _ = std::fs::remove_file(&data);
        let value = result?;
        drawn?;
        Ok(value)
    }

    /// `perf script` folded by inferno-collapse-perf into inferno-flamegraph: `<stem>.svg`.
    fn draw(&self, data: &Path, stem: &str, title: &str) -> Result<()> {
        let svg = self.dir.join(format!("{stem}.svg"));
        let script = Command::new("perf")
            .arg("script")
            .arg("-i")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("perf script")?;
        let collapse = Command::new("inferno-collapse-perf")
            .stdin(script.stdout.context("perf script's output")?)
            .stdout(Stdio::piped())
            .spawn()
            .context("inferno-collapse-perf")?;
        let out = std::fs::File::create(&svg)?;
        let status = Command::new("inferno-flamegraph")
            // Frames under a thousandth of the samples are left out: they are not where the
            // time goes, and they would make the file many megabytes.
            .args(["--title", title, "--minwidth", "0.1"])
            .args(["--colors", "rust", "--width", "1600"])
            .stdin(collapse.stdout.context("the folded stacks")?)
            .stdout(out)
            .status()
            .context("inferno-flamegraph")?;
        if !status.success() {
            bail!("inferno-flamegraph could not draw {}", svg.display());
        }
        Ok(())
    }
}

/// Ends a recording as Ctrl-C would, so that perf writes its file out.
fn stop(perf: &mut Child) -> Result<()> {
    Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status()?;
    let status = perf.wait()?;
    // perf exits with the signal's status after a clean stop; only a failure to start shows.
    let _ = status;
    Ok(())
}
