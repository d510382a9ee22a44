//! `cargo xtask bench --profiles DIR`: where the sandbox's time goes under each workload, as a
//! flame graph (SVG) per backend and workload, so that the next engineer sees which frames a
//! missed target is spent in before reading any code.
//!
//! Each workload the bench runs against the sandbox is recorded with Linux `perf` (Debian's
//! `linux-perf`) at 199 samples a second, for at most its first 30 seconds, with DWARF call
//! graphs. The recordings are kept in the bench's scratch directory and drawn once every
//! measurement is done (folding a recording takes about a minute of CPU, which must not compete
//! with a workload), by inferno (`cargo install inferno`, installed when missing). A recording
//! covers only the sandbox's process: wrk, and on PostgreSQL the database server, are not in it.

use std::cell::RefCell;
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

/// Records workloads, and draws them into `dir` as `<stem>.svg` when asked to.
#[derive(Debug)]
pub struct Profiler {
    dir: PathBuf,
    scratch: PathBuf,
    recorded: RefCell<Vec<Recorded>>,
}

/// A recording that is complete and not drawn yet.
#[derive(Debug)]
struct Recorded {
    data: PathBuf,
    stem: String,
    title: String,
}

/// A recording under way ([`Profiler::start`]).
#[derive(Debug)]
pub struct Recording {
    perf: Child,
    log: PathBuf,
    recorded: Recorded,
}

impl Profiler {
    /// A profiler drawing into `dir` (created), its recordings kept in `scratch` meanwhile, once
    /// `perf` can record on this machine and inferno's commands are on the `PATH` (installed
    /// with cargo when they are not).
    pub fn new(dir: &Path, scratch: &Path) -> Result<Self> {
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
        let found = |command: &str| {
            Command::new(command)
                .arg("--help")
                .stdout(Stdio::null())
                .status()
                .is_ok()
        };
        if !found("inferno-flamegraph") || !found("inferno-collapse-perf") {
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
            scratch: scratch.to_path_buf(),
            recorded: RefCell::new(Vec::new()),
        })
    }

    /// Starts recording the process `pid`, to be drawn as `<stem>.svg` with `title`.
    pub fn start(&self, pid: u32, stem: &str, title: &str) -> Result<Recording> {
        let data = self.scratch.join(format!("{stem}.perf.data"));
        let log = self.scratch.join(format!("{stem}.perf.log"));
        let perf = Command::new("perf")
            .args([
                "record",
                "-q",
                "-F",
                FREQUENCY,
                "--call-graph",
                "dwarf,16384",
            ])
            // No build-id collection at the end (seconds over a big recording): the binaries
            // are still in place when it is drawn.
            .arg("--no-buildid")
            .arg("-p")
            .arg(pid.to_string())
            .arg("-o")
            .arg(&data)
            .args(["--", "sleep", MOST_SECONDS])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting perf record")?;
        // perf attaches to every thread of the process before the load starts.
        std::thread::sleep(Duration::from_millis(300));
        Ok(Recording {
            perf,
            log,
            recorded: Recorded {
                data,
                stem: stem.to_string(),
                title: title.to_string(),
            },
        })
    }

    /// Ends `recording` (as Ctrl-C would, so that perf writes its file out), to be drawn by
    /// [`Profiler::draw`]. A recording perf could not make is reported here, not lost.
    pub fn stop(&self, mut recording: Recording) -> Result<()> {
        let _ = Command::new("kill")
            .args(["-INT", &recording.perf.id().to_string()])
            .status();
        // A perf that did not take the signal ends with its `sleep`, within 30 seconds.
        recording.perf.wait()?;
        let size = std::fs::metadata(&recording.recorded.data).map_or(0, |m| m.len());
        if size == 0 {
            let log = std::fs::read_to_string(&recording.log).unwrap_or_default();
            bail!(
                "perf recorded nothing for {}: {}",
                recording.recorded.stem,
                log.trim()
            );
        }
        self.recorded.borrow_mut().push(recording.recorded);
        Ok(())
    }

    /// Draws every recording made so far, each as `<stem>.svg`, and removes the recordings. A
    /// graph that cannot be drawn is reported and the others are still drawn; the measurements
    /// do not depend on them.
    pub fn draw(&self) {
        for recorded in self.recorded.take() {
            let svg = self.dir.join(format!("{}.svg", recorded.stem));
            eprintln!("bench: drawing {}", svg.display());
            if let Err(err) = draw(&recorded, &svg) {
                eprintln!("bench: no flame graph {}: {err:#}", svg.display());
            }
            let _ = std::fs::remove_file(&recorded.data);
        }
    }
}

/// `perf script` folded by inferno-collapse-perf into inferno-flamegraph: `svg`.
fn draw(recorded: &Recorded, svg: &Path) -> Result<()> {
    let mut script = Command::new("perf")
        .arg("script")
        .arg("-i")
        .arg(&recorded.data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("perf script")?;
    let mut collapse = Command::new("inferno-collapse-perf")
        .stdin(script.stdout.take().context("perf script's output")?)
        .stdout(Stdio::piped())
        .spawn()
        .context("inferno-collapse-perf")?;
    let out = std::fs::File::create(svg)?;
    let drawn = Command::new("inferno-flamegraph")
        // Frames under a thousandth of the samples are left out: they are not where the time
        // goes, and they would make the file many megabytes.
        .args(["--title", &recorded.title, "--minwidth", "0.1"])
        .args(["--colors", "rust", "--width", "1600"])
        .stdin(collapse.stdout.take().context("the folded stacks")?)
        .stdout(out)
        .status()
        .context("inferno-flamegraph")?;
    let folded = collapse.wait()?;
    let scripted = script.wait()?;
    for (what, status) in [
        ("perf script", scripted),
        ("inferno-collapse-perf", folded),
        ("inferno-flamegraph", drawn),
    ] {
        if !status.success() {
            let _ = std::fs::remove_file(svg);
            bail!("{what} failed ({status})");
        }
    }
    Ok(())
}
