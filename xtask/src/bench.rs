//! `cargo xtask bench`: the sandbox on SQLite and on PostgreSQL, Stoplight Prism mocking the
//! same spec (the peer a partner would otherwise pick) and a bare axum handler answering each
//! workload with the sandbox's own bytes for it (the ceiling of this stack on this machine: a
//! page with the page's bytes, a create with a create's), measured in one run with wrk on loopback,
//! written to `docs/benchmarks.md` with the ratios.
//!
//! Needs wrk (Debian's `wrk`), curl, Prism under `.ci/.tools/prism` (installed with npm when
//! missing) and a PostgreSQL server: `CONFIRMA_BENCH_DATABASE_URL`, or one started by
//! `.ci/postgres`. The bench is not a test: nothing here fails on a slow number.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::profile::{Profiler, Recording};

mod pressure;
mod waits;
use pressure::Stall;

/// What one run measures, from the command line.
#[derive(Clone, Debug)]
pub struct Options {
    /// Invoices created before the read workloads, over `clients` clients, half on one.
    pub invoices: u64,
    pub clients: u64,
    /// Seconds of each workload.
    pub seconds: u64,
    pub out: PathBuf,
    /// Where to draw a flame graph of the sandbox under each workload (`--profiles DIR`).
    pub profiles: Option<PathBuf>,
}

impl Options {
    pub fn parse(args: &[&str]) -> Result<Self> {
        let mut options = Self {
            invoices: 10_000,
            clients: 10,
            seconds: 10,
            out: PathBuf::from("docs/benchmarks.md"),
            profiles: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().context("a value after the option");
            match *arg {
                "--invoices" => options.invoices = value()?.parse()?,
                "--clients" => options.clients = value()?.parse()?,
                "--seconds" => options.seconds = value()?.parse()?,
                "--out" => options.out = PathBuf::from(value()?),
                "--profiles" => options.profiles = Some(PathBuf::from(value()?)),
                other => bail!("unknown option {other}; usage: cargo xtask bench {USAGE}"),
            }
        }
        if options.clients < 2 || options.invoices < 2 * options.clients {
            bail!("give at least 2 clients and 2 invoices per client");
        }
        Ok(options)
    }
}

/// The bench's options, as its usage line gives them.
pub const USAGE: &str = "[--invoices N] [--clients C] [--seconds S] [--out FILE] [--profiles DIR]";

const PROVISIONING: &str = "bench-provisioning";
const ADMIN: &str = "bench-admin";
const VALIDATE: &str = "/api/v1/partner/validate";
/// Connections and threads of every workload.
const CONNECTIONS: u32 = 64;
const THREADS: u32 = 2;

/// One wrk run: throughput and latency.
#[derive(Clone, Debug, Default)]
struct Load {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
}

/// A server under test, started by the bench.
struct Server {
    name: &'static str,
    base: String,
    child: Child,
    /// Records the server under each workload, as `<prefix>-<workload>.svg`.
    profile: Option<(Rc<Profiler>, &'static str)>,
    /// How much the machine stalled over each workload measured, in order.
    stalls: std::cell::RefCell<Vec<(String, Stall)>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `command` and reads its standard output until a line holds `ready`; its address is
    /// the first `http://host:port` it printed.
    fn start(name: &'static str, mut command: Command, ready: &str) -> Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let mut out = BufReader::new(child.stdout.take().context("stdout")?);
        let mut banner = Vec::new();
        let mut base = None;
        loop {
            let mut line = String::new();
            if out.read_line(&mut line)? == 0 {
                bail!("{name} exited before it was serving: {banner:?}");
            }
            if base.is_none()
                && let Some(at) = line.find("http://")
            {
                let host: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == ':')
                    .collect();
                base = Some(format!("http://{host}"));
            }
            let done = line.contains(ready);
            banner.push(line.trim_end().to_string());
            if done {
                break;
            }
        }
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        Ok(Self {
            name,
            base: base.with_context(|| format!("{name} printed no address"))?,
            child,
            profile: None,
            stalls: Default::default(),
        })
    }

    /// Runs `workload`, recorded when this server is profiled.
    fn measure<T>(&self, workload: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
        let recording = self.start_recording(workload)?;
        let pressure = pressure::Snapshot::now();
        let result = run();
        self.note_stall(workload, pressure);
        self.stop_recording(recording);
        result
    }

    /// Keeps how much the machine stalled over `workload`, which began at `since`.
    fn note_stall(&self, workload: &str, since: Option<pressure::Snapshot>) {
        if let Some(stall) = since.and_then(|s| s.stall_since()) {
            self.stalls.borrow_mut().push((workload.to_string(), stall));
        }
    }

    /// Starts recording `workload` when this server is profiled.
    fn start_recording(&self, workload: &str) -> Result<Option<Recording>> {
        self.profile
            .as_ref()
            .map(|(profiler, prefix)| {
                profiler.start(
                    self.child.id(),
                    &format!("{prefix}-{workload}"),
                    &format!("{}: {workload}", self.name),
                )
            })
            .transpose()
    }

    /// Ends a recording; one that failed is reported, and the measurement stands.
    fn stop_recording(&self, recording: Option<Recording>) {
        if let (Some((profiler, _)), Some(recording)) = (&self.profile, recording)
            && let Err(err) = profiler.stop(recording)
        {
            eprintln!("bench: {err:#}");
        }
    }

    /// Peak resident memory so far (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> f64 {
        status_kib(self.child.id(), "VmHWM:") / 1024.0
    }

    fn rss_mib(&self) -> f64 {
        status_kib(self.child.id(), "VmRSS:") / 1024.0
    }
}

fn status_kib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0.0)
}

/// CPU time (user and system, in seconds) over one workload: the server's process, and every
/// process of PostgreSQL's on this machine (`None` where the server measured stores nothing
/// there).
#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    server: f64,
    postgres: Option<f64>,
    /// How long the workload ran (wrk's duration).
    seconds: f64,
}

/// The CPU ticks so far of a server's process and of each PostgreSQL process by its pid.
struct CpuSnapshot {
    server: f64,
    postgres: std::collections::BTreeMap<u32, f64>,
}

impl CpuSnapshot {
    fn now(pid: u32) -> Self {
        let postgres = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| {
                std::fs::read_to_string(entry.path().join("comm"))
                    .is_ok_and(|comm| comm.trim_end() == "postgres")
            })
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .map(|pid| (pid, cpu_ticks(pid)))
            .collect();
        Self {
            server: cpu_ticks(pid),
            postgres,
        }
    }

    /// The CPU time taken since `before`, over a workload of `seconds`: each PostgreSQL
    /// process's since then (all of it for one started since; one that ended meanwhile is not
    /// counted), when `postgres`.
    fn since(&self, before: &Self, seconds: u64, postgres: bool, ticks: f64) -> Cpu {
        let taken: f64 = self
            .postgres
            .iter()
            .map(|(pid, now)| now - before.postgres.get(pid).copied().unwrap_or(0.0))
            .sum();
        Cpu {
            server: (self.server - before.server) / ticks,
            postgres: postgres.then_some(taken / ticks),
            seconds: seconds as f64,
        }
    }
}

/// The clock ticks of CPU time `pid` has taken, user and system (`/proc/PID/stat`), or 0.
fn cpu_ticks(pid: u32) -> f64 {
    stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// The user and system ticks of a `/proc/PID/stat` line.
fn stat_ticks(stat: &str) -> f64 {
    // The fields after the command's name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |n: usize| fields.get(n).and_then(|v| v.parse::<f64>().ok());
    // utime and stime: the 14th and 15th fields, the 12th and 13th after the name.
    field(11).unwrap_or(0.0) + field(12).unwrap_or(0.0)
}

/// The kernel's clock ticks a second (`getconf CLK_TCK`; 100 where it cannot say).
fn clock_ticks() -> f64 {
    run_command(Command::new("getconf").arg("CLK_TCK"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `curl` with the sandbox's headers; the answer's JSON.
fn curl(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Result<Value> {
    let mut command = Command::new("curl");
    command.args(["-sS", "-X", method, url]);
    for (name, value) in headers {
        command.args(["-H", &format!("{name}: {value}")]);
    }
    if let Some(body) = body {
        command.args(["-H", "Content-Type: application/json", "--data-binary"]);
        command.arg(body.to_string());
    }
    let out = command.output().context("running curl")?;
    if !out.status.success() {
        bail!("curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{url} answered {}", String::from_utf8_lossy(&out.stdout)))
}

/// Runs wrk against `url` with `script` (from `xtask/bench/`) and the environment given.
fn wrk(url: &str, script: &str, seconds: u64, env: &[(&str, String)]) -> Result<Load> {
    wrk_with(THREADS, CONNECTIONS, url, script, seconds, env)
}

/// [`wrk`] with `threads` and `connections` of its own.
fn wrk_with(
    threads: u32,
    connections: u32,
    url: &str,
    script: &str,
    seconds: u64,
    env: &[(&str, String)],
) -> Result<Load> {
    let mut command = Command::new("wrk");
    command.args([
        &format!("-t{threads}"),
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
        "-s",
    ]);
    command.arg(Path::new("xtask/bench").join(script)).arg(url);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command
        .output()
        .context("running wrk (Debian: apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    parse_wrk(&text)
}

/// Reads wrk's report: requests/s, the latency distribution, errors.
fn parse_wrk(text: &str) -> Result<Load> {
    let ms = |value: &str| -> Option<f64> {
        let split = value.find(|c: char| c.is_ascii_alphabetic())?;
        let (number, unit) = value.split_at(split);
        let number: f64 = number.parse().ok()?;
        Some(match unit {
            "us" => number / 1000.0,
            "ms" => number,
            "s" => number * 1000.0,
            "m" => number * 60_000.0,
            _ => return None,
        })
    };
    let mut load = Load::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => load.requests_per_second = value.parse()?,
            ["50%", value] => load.p50_ms = ms(value).context("p50")?,
            ["99%", value] => load.p99_ms = ms(value).context("p99")?,
            ["Latency", _avg, _stdev, max, ..] => load.max_ms = ms(max).unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => load.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                load.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            ["bench-failed:", n] => load.errors = load.errors.max(n.parse()?),
            _ => {}
        }
    }
    if load.requests_per_second == 0.0 {
        bail!("wrk printed no throughput: {text}");
    }
    Ok(load)
}

/// A valid Finnish business ID from a seven-digit number (weights 7, 9, 10, 5, 8, 4, 2).
fn business_id(n: u64) -> Option<String> {
    let digits = format!("{:07}", n % 10_000_000);
    let sum: u32 = digits
        .bytes()
        .zip([7, 9, 10, 5, 8, 4, 2])
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match sum % 11 {
        0 => Some(format!("{digits}-0")),
        1 => None,
        r => Some(format!("{digits}-{}", 11 - r)),
    }
}

/// The spec's example body of `operation`, as the CLI prints it.
fn template(cli: &Path, subcommand: &str) -> Result<Value> {
    let out = Command::new(cli)
        .args([subcommand, "--body-template"])
        .output()
        .with_context(|| format!("running {}", cli.display()))?;
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// A sandbox's data for the read workloads: its clients' tokens and the invoice numbers made.
struct Seeded {
    /// The client holding half of the invoices, and its token.
    big_token: String,
    /// Invoices of the big client (numbers BASE + 100000000 + 1 ..= this).
    big_count: u64,
    created: u64,
    seconds: f64,
    /// The month of the invoices' date (`YYYY-MM`), for the page workload.
    month: String,
}

const BASE: u64 = 10_000_000_000;

/// The durable creates a second the issue asks for on SQLite and on PostgreSQL.
const SQLITE_CREATES: f64 = 10_000.0;
const POSTGRES_CREATES: f64 = 3_000.0;

fn seed(sandbox: &Server, cli: &Path, options: &Options, work: &Path) -> Result<Seeded> {
    let client_body = template(cli, "create-client")?;
    let mut invoice = template(cli, "create-invoice")?;
    invoice["invoice"]["references"]["payment"] = Value::Null;
    invoice["invoice"]["header"]["number"] = json!(424242424242u64);
    let text = invoice.to_string();
    let (prefix, suffix) = text
        .split_once("424242424242")
        .context("the invoice number in the body")?;
    let (prefix_file, suffix_file) = (work.join("prefix.json"), work.join("suffix.json"));
    std::fs::write(&prefix_file, prefix)?;
    std::fs::write(&suffix_file, suffix)?;
    let started = Instant::now();
    let mut tokens = Vec::new();
    let mut n = 3_000_000;
    while (tokens.len() as u64) < options.clients {
        n += 1;
        let Some(id) = business_id(n) else { continue };
        let mut body = client_body.clone();
        body["client"]["businessCode"] = json!(id);
        body["client"]["vatRegNbr"] = json!(format!("FI{}", id.replace('-', "")));
        let answer = curl(
            "POST",
            &format!("{}/api/v1/partner/client", sandbox.base),
            &[("X-Api-Key", PROVISIONING)],
            Some(&body),
        )?;
        let token = answer["accessToken"]
            .as_str()
            .with_context(|| format!("onboarding answered {answer}"))?;
        tokens.push(token.to_string());
    }
    // Half of the invoices on the first client, the rest spread over the others.
    let half = options.invoices / 2;
    let each = (options.invoices - half) / (options.clients - 1);
    let mut created = 0;
    for (i, token) in tokens.iter().enumerate() {
        let count = if i == 0 { half } else { each };
        // One thread, numbers BASE + 100000000 + 1 ..= count (and a few more in flight).
        let out = Command::new("wrk")
            .args([
                "-t1",
                &format!("-c{CONNECTIONS}"),
                "-d3600s",
                "-s",
                "xtask/bench/create.lua",
                &sandbox.base,
            ])
            .envs([
                ("BENCH_BODY_PREFIX", prefix_file.display().to_string()),
                ("BENCH_BODY_SUFFIX", suffix_file.display().to_string()),
                ("BENCH_BASE", BASE.to_string()),
                ("BENCH_MAX", count.to_string()),
                ("BENCH_KEY", token.clone()),
            ])
            .output()
            .context("running wrk (Debian: apt-get install wrk)")?;
        let text = String::from_utf8_lossy(&out.stdout);
        let failed: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("bench-failed: "))
            .and_then(|n| n.trim().parse().ok())
            .with_context(|| format!("wrk ended without its count: {text}"))?;
        if failed > 0 {
            bail!("{}: {failed} of the seeding creates failed", sandbox.name);
        }
        created += count;
    }
    let month = invoice["invoice"]["header"]["date"]
        .as_str()
        .and_then(|d| d.get(..7))
        .context("the example invoice's date")?
        .to_string();
    Ok(Seeded {
        month,
        big_token: tokens[0].clone(),
        big_count: half,
        created,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Everything measured on one target.
#[derive(Default)]
struct Report {
    validate: Option<Load>,
    lookup: Option<Load>,
    page: Option<Load>,
    create: Option<Load>,
    /// The same creates right after the advance, before PostgreSQL was settled (autovacuum
    /// cleaning up after the advance, checkpoints).
    create_after_advance: Option<Load>,
    /// How long `VACUUM (ANALYZE)` took between those creates and `create`.
    settle_seconds: Option<f64>,
    /// The CPU time the sandbox and PostgreSQL took over the lookups, the pages and the two
    /// rounds of creates.
    lookup_cpu: Option<Cpu>,
    page_cpu: Option<Cpu>,
    create_after_advance_cpu: Option<Cpu>,
    create_cpu: Option<Cpu>,
    /// On PostgreSQL, what its sessions were doing over each round of creates.
    create_waits: Vec<(&'static str, Vec<waits::Waited>)>,
    peak_rss_mib: f64,
    seeding: Option<(u64, f64)>,
    advance: Option<Advance>,
    restart: Option<Restart>,
    database_mib: Option<f64>,
    /// The same validate and create workloads through the validating proxy in front of it.
    proxied: Option<Proxied>,
    /// How much the machine stalled over each workload, in the order measured.
    stalls: Vec<(String, Stall)>,
    spaces: Option<SpacesMeasured>,
}

/// Spaces on a sandbox holding the seeded invoices.
struct SpacesMeasured {
    /// Making a space (with its demo client), one at a time: latencies only.
    create: Load,
    created: usize,
    /// Forking the default space, which holds more than `fork_invoices` invoices (the seeded
    /// ones, and those the creates made), and deleting the fork.
    fork_seconds: f64,
    fork_invoices: u64,
    delete_seconds: f64,
    /// Durable creates into one space through one replica, then into two spaces through two
    /// replicas at once (PostgreSQL): req/s each.
    replicas: Option<(Load, Load)>,
}

struct Proxied {
    validate: Load,
    create: Load,
    /// The same through Prism's validating proxy (`prism proxy`), the peer.
    prism: Option<(Load, Load)>,
    /// The same through a pass-through proxy on our stack that checks nothing (the example
    /// `bare_proxy`): what the extra hop costs by itself.
    bare: Option<(Load, Load)>,
    /// One request at a time (one connection), directly and through the proxy: validate, then
    /// create. The latency the proxy adds, without the queueing of 64 connections on 2 cores.
    one_at_a_time: [(Load, Load); 2],
}

struct Advance {
    seconds: f64,
    happened: Value,
    /// Validate requests sent all the while: the round with the worst latency.
    concurrent: Load,
    /// Durable creates sent every 100 ms all the while (each waits for the advance's batch in
    /// progress): the round with the worst latency.
    creates: Load,
}

struct Restart {
    seconds: f64,
    rss_mib: f64,
}

fn read_workloads(server: &Server, key: &str, seconds: u64, seeded: &Seeded) -> Result<Report> {
    fn env(key: &str, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
        let mut env = vec![("BENCH_KEY", key.to_string())];
        env.extend(extra.iter().cloned());
        env
    }
    let validate = server.measure("validate", || {
        wrk(
            &format!("{}{VALIDATE}", server.base),
            "get.lua",
            seconds,
            &env(key, &[]),
        )
    })?;
    let ticks = clock_ticks();
    let pid = server.child.id();
    let postgres = server.name.contains("PostgreSQL");
    let before = CpuSnapshot::now(pid);
    let lookup = server.measure("lookup", || {
        wrk(
            &server.base,
            "lookup.lua",
            seconds,
            &env(
                key,
                &[
                    ("BENCH_BASE", BASE.to_string()),
                    ("BENCH_COUNT", seeded.big_count.to_string()),
                    ("BENCH_THREADS", "1".to_string()),
                ],
            ),
        )
    })?;
    let lookup_cpu = CpuSnapshot::now(pid).since(&before, seconds, postgres, ticks);
    let before = CpuSnapshot::now(pid);
    let page = server.measure("page", || {
        wrk(
            &format!(
                "{}/api/v1/partner/invoice/distribution/v2?fromInvDate={}-01&toInvDate={}-28&page=2&pageSize=100",
                server.base, seeded.month, seeded.month
            ),
            "get.lua",
            seconds,
            &env(key, &[]),
        )
    })?;
    let page_cpu = CpuSnapshot::now(pid).since(&before, seconds, postgres, ticks);
    Ok(Report {
        validate: Some(validate),
        lookup: Some(lookup),
        page: Some(page),
        lookup_cpu: Some(lookup_cpu),
        page_cpu: Some(page_cpu),
        ..Default::default()
    })
}

fn create_workload(
    server: &Server,
    workload: &str,
    key: &str,
    seconds: u64,
    work: &Path,
    base: u64,
) -> Result<Load> {
    server.measure(workload, || {
        wrk(
            &server.base,
            "create.lua",
            seconds,
            &create_env(key, work, base),
        )
    })
}

/// The environment of `create.lua`: the body's files, the first number, the key.
fn create_env(key: &str, work: &Path, base: u64) -> Vec<(&'static str, String)> {
    vec![
        (
            "BENCH_BODY_PREFIX",
            work.join("prefix.json").display().to_string(),
        ),
        (
            "BENCH_BODY_SUFFIX",
            work.join("suffix.json").display().to_string(),
        ),
        ("BENCH_BASE", base.to_string()),
        ("BENCH_MAX", "0".into()),
        ("BENCH_KEY", key.to_string()),
    ]
}

/// An 18-day advance (everything is distributed, falls due and is reminded) while validate
/// requests keep coming from 64 connections, and a create every 100 ms, in rounds of a few
/// seconds until the advance has answered.
fn advance(server: &Server, key: &str, work: &Path) -> Result<Advance> {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Rounds of `run(round)` until the advance has answered: the one with the worst latency.
    let rounds = |run: Box<dyn Fn(u64) -> Result<Load> + Send>| {
        let answered = done.clone();
        std::thread::spawn(move || -> Result<Load> {
            let mut worst = Load::default();
            let mut round = 0;
            while !answered.load(std::sync::atomic::Ordering::SeqCst) {
                let load = run(round)?;
                round += 1;
                if load.max_ms > worst.max_ms {
                    worst = Load {
                        errors: worst.errors + load.errors,
                        ..load
                    };
                } else {
                    worst.errors += load.errors;
                }
            }
            Ok(worst)
        })
    };
    let (base, token) = (server.base.clone(), key.to_string());
    let concurrent = rounds(Box::new(move |_| {
        wrk(
            &format!("{base}{VALIDATE}"),
            "get.lua",
            3,
            &[("BENCH_KEY", token.clone())],
        )
    }));
    let prefix = std::fs::read_to_string(work.join("prefix.json"))?;
    let suffix = std::fs::read_to_string(work.join("suffix.json"))?;
    let (url, token) = (
        format!("{}/api/v1/partner/invoice", server.base),
        key.to_string(),
    );
    let creates = rounds(Box::new(move |round| {
        // A create every 100 ms for a few seconds, each with a number of its own: what a
        // create waits for while the advance runs, without keeping the writer busy itself.
        let mut times = Vec::new();
        for n in 0..30 {
            let number = BASE * 3 + round * 1_000 + n;
            times.push(timed_create(
                &url,
                &token,
                &format!("{prefix}{number}{suffix}"),
            )?);
            std::thread::sleep(Duration::from_millis(100));
        }
        times.sort_by(f64::total_cmp);
        Ok(Load {
            p50_ms: percentile(&times, 0.5),
            p99_ms: percentile(&times, 0.99),
            max_ms: percentile(&times, 1.0),
            ..Default::default()
        })
    }));
    std::thread::sleep(Duration::from_millis(500));
    let recording = server.start_recording("advance");
    let pressure = pressure::Snapshot::now();
    let started = Instant::now();
    let answer = curl(
        "POST",
        &format!("{}/sandbox/clock/advance", server.base),
        &[("X-Admin-Token", ADMIN)],
        Some(&json!({"days": 18})),
    );
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    server.note_stall("advance", pressure);
    match recording {
        Ok(recording) => server.stop_recording(recording),
        Err(err) => eprintln!("bench: {err:#}"),
    }
    let concurrent = concurrent
        .join()
        .map_err(|_| anyhow::anyhow!("wrk thread"))??;
    let creates = creates
        .join()
        .map_err(|_| anyhow::anyhow!("wrk thread"))??;
    let answer = answer?;
    Ok(Advance {
        seconds,
        happened: answer["happened"].clone(),
        concurrent,
        creates,
    })
}

/// `curl` timing one request (from the first byte sent to the last received, not the process's
/// start): milliseconds and the answer's text.
fn timed(method: &str, url: &str, body: Option<&Value>) -> Result<(f64, String)> {
    let mut command = Command::new("curl");
    command.args([
        "-sS",
        "-X",
        method,
        url,
        "-H",
        &format!("X-Admin-Token: {ADMIN}"),
    ]);
    command.args(["-w", "\n%{http_code} %{time_total}"]);
    if let Some(body) = body {
        command.args(["-H", "Content-Type: application/json", "--data-binary"]);
        command.arg(body.to_string());
    }
    let out = command.output().context("running curl")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (answer, last) = text.rsplit_once('\n').unwrap_or(("", &text));
    let (status, seconds) = last.split_once(' ').context("curl's timing")?;
    if !status.starts_with('2') {
        bail!("{method} {url} answered {status}: {answer}");
    }
    Ok((seconds.trim().parse::<f64>()? * 1000.0, answer.to_string()))
}

/// One create sent with `curl`, its body given: the milliseconds from its first byte sent to
/// the answer's last received; fails unless it is answered with success.
fn timed_create(url: &str, key: &str, body: &str) -> Result<f64> {
    use std::io::Write;
    let mut child = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{time_total}",
            "-X",
            "POST",
            url,
        ])
        .args(["-H", &format!("X-Api-Key: {key}")])
        .args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            "@-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("running curl")?;
    child
        .stdin
        .take()
        .context("curl's input")?
        .write_all(body.as_bytes())?;
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (status, seconds) = text.split_once(' ').context("curl's timing")?;
    if !status.starts_with('2') {
        bail!("POST {url} answered {status}");
    }
    Ok(seconds.trim().parse::<f64>()? * 1000.0)
}

/// Percentile `p` (0..=1) of sorted `values`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Makes spaces one at a time (then deletes them), forks the default space with everything the
/// seeding stored in it, and deletes the fork.
fn measure_spaces(server: &Server, invoices: u64) -> Result<SpacesMeasured> {
    const SPACES: usize = 100;
    let url = format!("{}/sandbox/spaces", server.base);
    let mut times = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..SPACES {
        let (ms, made) = timed("POST", &url, Some(&json!({})))?;
        let made: Value = serde_json::from_str(&made)?;
        ids.push(made["spaceId"].as_str().context("a space id")?.to_string());
        times.push(ms);
    }
    for id in &ids {
        timed("DELETE", &format!("{url}/{id}"), None)?;
    }
    times.sort_by(f64::total_cmp);
    let create = Load {
        requests_per_second: 0.0,
        p50_ms: percentile(&times, 0.5),
        p99_ms: percentile(&times, 0.99),
        max_ms: percentile(&times, 1.0),
        errors: 0,
    };
    let (fork_ms, fork) = timed("POST", &format!("{url}/default/fork"), None)?;
    let fork: Value = serde_json::from_str(&fork)?;
    let id = fork["spaceId"].as_str().context("the fork's id")?;
    let (delete_ms, _) = timed("DELETE", &format!("{url}/{id}"), None)?;
    Ok(SpacesMeasured {
        create,
        created: SPACES,
        fork_seconds: fork_ms / 1000.0,
        fork_invoices: invoices,
        delete_seconds: delete_ms / 1000.0,
        replicas: None,
    })
}

/// Durable creates into one space through one replica, then into two spaces through two
/// replicas of the same PostgreSQL database at once: whether writes to different spaces scale.
fn replica_scaling(
    binary: &Path,
    storage: &[String],
    seconds: u64,
    work: &Path,
) -> Result<(Load, Load)> {
    let a = Server::start("replica A", sandbox_command(binary, storage), SANDBOX_READY)?;
    let b = Server::start("replica B", sandbox_command(binary, storage), SANDBOX_READY)?;
    let token = |made: &Value| -> Result<String> {
        Ok(made["demoClient"]["accessToken"]
            .as_str()
            .context("a demo client")?
            .to_string())
    };
    let made = |server: &Server| -> Result<Value> {
        curl(
            "POST",
            &format!("{}/sandbox/spaces", server.base),
            &[("X-Admin-Token", ADMIN)],
            Some(&json!({})),
        )
    };
    let (one, two) = (token(&made(&a)?)?, token(&made(&b)?)?);
    let alone = create_workload(&a, "create", &one, seconds, work, BASE * 5)?;
    let env_a = create_env(&one, work, BASE * 6);
    let base_b = b.base.clone();
    let env_b = create_env(&two, work, BASE * 6);
    let other = std::thread::spawn(move || wrk(&base_b, "create.lua", seconds, &env_b));
    let first = wrk(&a.base, "create.lua", seconds, &env_a)?;
    let second = other.join().map_err(|_| anyhow::anyhow!("wrk thread"))??;
    let both = Load {
        requests_per_second: first.requests_per_second + second.requests_per_second,
        p50_ms: first.p50_ms.max(second.p50_ms),
        p99_ms: first.p99_ms.max(second.p99_ms),
        max_ms: first.max_ms.max(second.max_ms),
        errors: first.errors + second.errors,
    };
    Ok((alone, both))
}

fn sandbox_command(binary: &Path, storage: &[String]) -> Command {
    let mut command = Command::new(binary);
    command.args([
        "--listen",
        "127.0.0.1:0",
        "--provisioning-token",
        PROVISIONING,
        "--admin-token",
        ADMIN,
    ]);
    command.args(storage);
    command.env("RUST_LOG", "warn");
    command
}

/// Each workload as the ceiling tells it apart: a prefix of the request's path and query, and
/// the file of the sandbox's answer to it.
const CEILING_ROUTES: &[(&str, &str)] = &[
    (VALIDATE, "validate.json"),
    (
        "/api/v1/partner/invoice/distribution/v2?fromInvDate",
        "page.json",
    ),
    (
        "/api/v1/partner/invoice/distribution/v2?invoiceNumber",
        "lookup.json",
    ),
    ("/api/v1/partner/invoice", "create.json"),
];

/// The sandbox's own answer to one request of each workload, written where the ceiling reads
/// it ([`CEILING_ROUTES`]), so that the ceiling answers every workload with its own bytes.
fn capture_answers(server: &Server, seeded: &Seeded, work: &Path) -> Result<()> {
    let key = [("X-Api-Key", seeded.big_token.as_str())];
    let month = &seeded.month;
    let page = format!(
        "/api/v1/partner/invoice/distribution/v2?fromInvDate={month}-01&toInvDate={month}-28&page=2&pageSize=100"
    );
    let lookup = format!(
        "/api/v1/partner/invoice/distribution/v2?invoiceNumber={}",
        BASE + 100_000_000 + 1
    );
    let read = |name: &str| std::fs::read_to_string(work.join(name));
    let invoice: Value = serde_json::from_str(&format!(
        "{}{}{}",
        read("prefix.json")?,
        BASE * 9,
        read("suffix.json")?
    ))?;
    let requests = [
        ("GET", VALIDATE.to_string(), None),
        ("GET", page, None),
        ("GET", lookup, None),
        (
            "POST",
            "/api/v1/partner/invoice".to_string(),
            Some(&invoice),
        ),
    ];
    for ((method, path, body), (route, file)) in requests.into_iter().zip(CEILING_ROUTES) {
        debug_assert!(path.starts_with(route));
        let answer = curl(method, &format!("{}{path}", server.base), &key, body)?;
        std::fs::write(work.join(file), answer.to_string())?;
    }
    Ok(())
}

/// The last line of the sandbox's banner, printed once it serves.
const SANDBOX_READY: &str = "demo client";

#[allow(clippy::too_many_arguments)]
fn measure_sandbox(
    name: &'static str,
    binary: &Path,
    bare_proxy: &Path,
    prism: &Path,
    cli: &Path,
    storage: Vec<String>,
    settle: Option<&str>,
    options: &Options,
    work: &Path,
    profiler: Option<&Rc<Profiler>>,
    size: impl Fn() -> Option<f64>,
) -> Result<Report> {
    eprintln!("bench: {name}: seeding {} invoices", options.invoices);
    let mut server = Server::start(name, sandbox_command(binary, &storage), SANDBOX_READY)?;
    let seeded = seed(&server, cli, options, work)?;
    if let Some(profiler) = profiler {
        let prefix = if name.contains("PostgreSQL") {
            "postgresql"
        } else {
            "sqlite"
        };
        server.profile = Some((profiler.clone(), prefix));
    }
    capture_answers(&server, &seeded, work)?;
    eprintln!("bench: {name}: read workloads");
    let mut report = read_workloads(&server, &seeded.big_token, options.seconds, &seeded)?;
    // The advance over the invoices seeded, the scale asked for: after the creates below it
    // also went over theirs (on SQLite at a million, 1,283,392 instead of 999,950), as many as
    // the creates were fast.
    eprintln!("bench: {name}: an 18-day advance");
    report.advance = Some(advance(&server, &seeded.big_token, work)?);
    eprintln!("bench: {name}: creates right after the advance");
    let creates = |workload: &'static str, base: u64, report: &mut Report| -> Result<(Load, Cpu)> {
        let sampling = settle
            .map(|url| waits::start(url, options.seconds))
            .transpose()?;
        let before = CpuSnapshot::now(server.child.id());
        let load = create_workload(
            &server,
            workload,
            &seeded.big_token,
            options.seconds,
            work,
            base,
        )?;
        let cpu = CpuSnapshot::now(server.child.id()).since(
            &before,
            options.seconds,
            settle.is_some(),
            clock_ticks(),
        );
        if let Some(sampling) = sampling {
            match sampling.finish() {
                Ok(waited) => report.create_waits.push((workload, waited)),
                Err(err) => eprintln!("bench: {err:#}"),
            }
        }
        Ok((load, cpu))
    };
    let (load, cpu) = creates("create-after-advance", BASE * 4, &mut report)?;
    report.create_after_advance = Some(load);
    report.create_after_advance_cpu = Some(cpu);
    if let Some(url) = settle {
        // As pgbench does before it measures: what the advance left for autovacuum (it updated
        // every invoice) is cleaned up first, so that the creates below meet a database in a
        // known state instead of whichever part of autovacuum's work falls into their seconds
        // (the creates above show that part). No `CHECKPOINT`: the next one would begin with
        // the creates, and each page they first touch after it is written whole to the WAL.
        eprintln!("bench: {name}: VACUUM (ANALYZE)");
        let started = Instant::now();
        run_command(Command::new("psql").args([url, "-qc", "VACUUM (ANALYZE)"]))
            .context("settling PostgreSQL before the creates")?;
        report.settle_seconds = Some(started.elapsed().as_secs_f64());
    }
    eprintln!("bench: {name}: creates");
    let (load, cpu) = creates("create", BASE * 2, &mut report)?;
    report.create = Some(load);
    report.create_cpu = Some(cpu);
    report.seeding = Some((seeded.created, seeded.seconds));
    if !name.contains("PostgreSQL") {
        eprintln!("bench: {name}: validate and creates through the validating proxy");
        report.proxied = Some(through_proxy(
            binary, bare_proxy, prism, &server, &seeded, options, work,
        )?);
    }
    report.peak_rss_mib = server.peak_rss_mib();
    report.stalls = server.stalls.take();
    drop(server);
    report.database_mib = size();
    eprintln!("bench: {name}: restart");
    let started = Instant::now();
    let again = Server::start(name, sandbox_command(binary, &storage), SANDBOX_READY)?;
    let seconds = started.elapsed().as_secs_f64();
    curl(
        "GET",
        &format!("{}{VALIDATE}", again.base),
        &[("X-Api-Key", &seeded.big_token)],
        None,
    )?;
    report.restart = Some(Restart {
        seconds,
        rss_mib: again.rss_mib(),
    });
    // Spaces last: a deleted fork's rows are removed in the background (millions at this
    // scale), which would slow whatever was measured next, and its copy would count in the
    // database's size. Replicas first, then the fork of the default space as the advance left it.
    let replicas = if name.contains("PostgreSQL") {
        eprintln!("bench: {name}: creates into one space through one replica, two through two");
        Some(replica_scaling(binary, &storage, options.seconds, work)?)
    } else {
        None
    };
    eprintln!("bench: {name}: spaces (make, fork the default space, delete)");
    let mut spaces = measure_spaces(&again, seeded.created + 3)?;
    spaces.replicas = replicas;
    report.spaces = Some(spaces);
    drop(again);
    Ok(report)
}

/// The banner line of the validating proxy printed once it serves.
const PROXY_READY: &str = "recent exchanges";

/// Validate and creates through `confirma-sandbox proxy` in front of `server`, then through a
/// pass-through proxy that checks nothing (`bare`) and Prism's validating proxy (`prism`).
#[allow(clippy::too_many_arguments)]
fn through_proxy(
    binary: &Path,
    bare: &Path,
    prism: &Path,
    server: &Server,
    seeded: &Seeded,
    options: &Options,
    work: &Path,
) -> Result<Proxied> {
    let measure = |proxy: &Server, numbers: u64| -> Result<(Load, Load)> {
        let validate = wrk(
            &format!("{}{VALIDATE}", proxy.base),
            "get.lua",
            options.seconds,
            &[("BENCH_KEY", seeded.big_token.clone())],
        )?;
        let create = create_workload(
            proxy,
            "create",
            &seeded.big_token,
            options.seconds,
            work,
            numbers,
        )?;
        Ok((validate, create))
    };
    let mut command = Command::new(binary);
    command.args([
        "proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &server.base,
    ]);
    let ours = Server::start("validating proxy", command, PROXY_READY)?;
    let (validate, create) = measure(&ours, BASE * 4)?;
    let seconds = options.seconds.min(5);
    let key = [("BENCH_KEY", seeded.big_token.clone())];
    let single = |target: &Server, numbers: u64| -> Result<(Load, Load)> {
        let url = format!("{}{VALIDATE}", target.base);
        let validate = wrk_with(1, 1, &url, "get.lua", seconds, &key)?;
        let env = create_env(&seeded.big_token, work, numbers);
        let create = wrk_with(1, 1, &target.base, "create.lua", seconds, &env)?;
        Ok((validate, create))
    };
    let (direct_validate, direct_create) = single(server, BASE * 7)?;
    let (proxied_validate, proxied_create) = single(&ours, BASE * 8)?;
    let one_at_a_time = [
        (direct_validate, proxied_validate),
        (direct_create, proxied_create),
    ];
    drop(ours);
    let mut command = Command::new(bare);
    command.args(["127.0.0.1:0", &server.base]);
    let bare = Server::start("bare proxy", command, "listening")?;
    let bare = Some(measure(&bare, BASE * 6)?);
    let mut command = Command::new(prism);
    command.args(["proxy", "openapi/partner-api.yaml", &server.base]);
    command.args(["--host", "127.0.0.1", "--port", "4011"]);
    let peer = Server::start("Prism's validating proxy", command, "listening")
        .context("Prism's proxy did not start; is port 4011 free?")?;
    let prism = Some(measure(&peer, BASE * 5)?);
    Ok(Proxied {
        validate,
        create,
        prism,
        bare,
        one_at_a_time,
    })
}

fn measure_peer(server: Server, key: &str, options: &Options, work: &Path) -> Result<Report> {
    let seeded = Seeded {
        big_token: key.to_string(),
        big_count: 1,
        created: 0,
        seconds: 0.0,
        month: "2026-01".into(),
    };
    let mut report = read_workloads(&server, key, options.seconds, &seeded)?;
    report.create = Some(create_workload(
        &server,
        "create",
        key,
        options.seconds,
        work,
        BASE * 3,
    )?);
    report.peak_rss_mib = server.peak_rss_mib();
    report.stalls = server.stalls.take();
    drop(server);
    Ok(report)
}

fn run_command(command: &mut Command) -> Result<String> {
    let out = command.output()?;
    if !out.status.success() {
        bail!(
            "{:?}: {}",
            command,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn run(options: Options) -> Result<()> {
    let root = crate::project_root();
    std::env::set_current_dir(&root)?;
    eprintln!("bench: building (release)");
    run_command(Command::new(env!("CARGO")).args([
        "build",
        "--release",
        "--locked",
        "-q",
        "-p",
        "confirma-sandbox",
        "--bin",
        "confirma-sandbox",
        "--example",
        "ceiling",
        "--example",
        "bare_proxy",
        "-p",
        "confirma-cli",
        "--bin",
        "confirma",
    ]))?;
    let release = root.join("target/release");
    let (sandbox, cli, ceiling, bare_proxy) = (
        release.join("confirma-sandbox"),
        release.join("confirma"),
        release.join("examples/ceiling"),
        release.join("examples/bare_proxy"),
    );
    let prism = root.join(".ci/.tools/prism/node_modules/.bin/prism");
    if !prism.exists() {
        run_command(Command::new("npm").args([
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--prefix",
            ".ci/.tools/prism",
            "@stoplight/prism-cli@5.14.2",
        ]))?;
    }
    let work = std::env::temp_dir().join(format!("confirma-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let server_url = match std::env::var("CONFIRMA_BENCH_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => run_command(Command::new("bash").arg(".ci/postgres"))?,
    };
    let server = postgres_server(&server_url);
    let database = format!("bench_{}", std::process::id());
    run_command(Command::new("psql").args([
        &server_url,
        "-qc",
        &format!("CREATE DATABASE {database}"),
    ]))?;
    let pg_url = format!(
        "{}/{database}",
        server_url.rsplit_once('/').map_or(&*server_url, |(b, _)| b)
    );

    // Before any long work: a machine that cannot record says so at once.
    let profiler = options
        .profiles
        .as_deref()
        .map(|dir| Profiler::new(dir, &work))
        .transpose()?
        .map(Rc::new);
    let db_file = work.join("bench.db");
    let sqlite = measure_sandbox(
        "sandbox (SQLite)",
        &sandbox,
        &bare_proxy,
        &prism,
        &cli,
        vec!["--db".into(), db_file.display().to_string()],
        None,
        &options,
        &work,
        profiler.as_ref(),
        || {
            let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
            let wal = db_file.with_extension("db-wal");
            Some((size(&db_file) + size(&wal)) as f64 / 1048576.0)
        },
    )?;
    let postgres = measure_sandbox(
        "sandbox (PostgreSQL)",
        &sandbox,
        &bare_proxy,
        &prism,
        &cli,
        vec!["--database-url".into(), pg_url.clone()],
        Some(&pg_url),
        &options,
        &work,
        profiler.as_ref(),
        || {
            run_command(Command::new("psql").args([
                &server_url,
                "-Atc",
                &format!("SELECT pg_database_size('{database}')"),
            ]))
            .ok()?
            .parse::<f64>()
            .ok()
            .map(|b| b / 1048576.0)
        },
    )?;

    eprintln!("bench: Prism");
    let mut prism_command = Command::new(&prism);
    prism_command.args([
        "mock",
        "openapi/partner-api.yaml",
        "--host",
        "127.0.0.1",
        "--port",
        "4010",
    ]);
    let prism_server = Server::start("Prism", prism_command, "listening")
        .context("Prism did not start; is port 4010 free?")?;
    let prism_report = measure_peer(prism_server, "bench-key", &options, &work)?;

    eprintln!("bench: ceiling");
    // The sandbox's own answer to each workload, captured while it ran.
    let mut ceiling_command = Command::new(&ceiling);
    ceiling_command.arg("127.0.0.1:0");
    for (route, file) in CEILING_ROUTES {
        ceiling_command.arg(format!("{route}={}", work.join(file).display()));
    }
    let ceiling_server = Server::start("ceiling", ceiling_command, "listening")?;
    let ceiling_report = measure_peer(ceiling_server, "bench-key", &options, &work)?;

    let text = report(
        &options,
        &server,
        &[
            ("sandbox (SQLite)", &sqlite),
            ("sandbox (PostgreSQL)", &postgres),
            ("Prism 5.14.2 (mock)", &prism_report),
            ("bare axum (ceiling)", &ceiling_report),
        ],
    );
    // The report goes to standard output too, so that a run is never lost to a bad --out.
    println!("{text}");
    if let Some(dir) = options.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&options.out, &text)
        .with_context(|| format!("writing {}", options.out.display()))?;
    if let Some(profiler) = &profiler {
        profiler.draw();
    }
    let _ = run_command(Command::new("psql").args([
        &server_url,
        "-qc",
        &format!("DROP DATABASE IF EXISTS {database}"),
    ]));
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("bench: wrote {}", options.out.display());
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores ({cpu})")
}

/// The PostgreSQL server's version and the settings that move the sandbox's writes, for the
/// report: a run on a server configured otherwise is another run.
fn postgres_server(url: &str) -> String {
    let settings = run_command(Command::new("psql").args([
        url,
        "-qAt",
        "-F",
        " ",
        "-c",
        "SELECT name, current_setting(name) FROM pg_settings
         WHERE name IN ('server_version', 'shared_buffers', 'max_wal_size', 'wal_compression', 'backend_flush_after',
           'synchronous_commit', 'full_page_writes') ORDER BY name",
    ]));
    match settings {
        Ok(rows) => {
            let all: Vec<&str> = rows.lines().collect();
            format!("PostgreSQL server: {}", all.join(", "))
        }
        Err(e) => format!("PostgreSQL server: unknown ({e})"),
    }
}

/// Where each request's CPU time went, per request, against what a request may take at the
/// issue's target rate on this machine's cores.
fn request_cpu(out: &mut String, targets: &[(&str, &Report)], prism: Option<&Report>) {
    use std::fmt::Write;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let _ = writeln!(
        out,
        "## Where a request's CPU goes\n\n\
         CPU time per request over each workload above (user and system, from `/proc`): the \
         sandbox's process, and for the sandbox on PostgreSQL every PostgreSQL process on the machine; wrk's own \
         is not counted. `budget` is what a request may take of the {cores} cores, all told (wrk's \
         share too), at the target's rate: lookups 20× Prism's, pages 10× (as measured above), \
         creates {SQLITE_CREATES} a second on SQLite and {POSTGRES_CREATES} on PostgreSQL.\n\n\
         | target | workload | req/s | sandbox µs | PostgreSQL µs | both µs | budget at the target µs |\n\
         |---|---|---:|---:|---:|---:|---:|"
    );
    // A workload's load and CPU, and the rate its target asks for (none: unknown): of the
    // sandbox (on PostgreSQL or not), given Prism's.
    type Pick = for<'a> fn(
        &'a Report,
        Option<&Report>,
        bool,
    ) -> (Option<&'a Load>, Option<Cpu>, Option<f64>);
    fn creates(postgres: bool) -> f64 {
        if postgres {
            POSTGRES_CREATES
        } else {
            SQLITE_CREATES
        }
    }
    let workloads: [(&str, Pick); 4] = [
        ("lookup", |r, prism, _| {
            let rate = prism.and_then(|p| p.lookup.as_ref());
            (
                r.lookup.as_ref(),
                r.lookup_cpu,
                rate.map(|p| 20.0 * p.requests_per_second),
            )
        }),
        ("page of 100", |r, prism, _| {
            let rate = prism.and_then(|p| p.page.as_ref());
            (
                r.page.as_ref(),
                r.page_cpu,
                rate.map(|p| 10.0 * p.requests_per_second),
            )
        }),
        ("create after advance", |r, _, postgres| {
            let rate = Some(creates(postgres));
            (
                r.create_after_advance.as_ref(),
                r.create_after_advance_cpu,
                rate,
            )
        }),
        ("create", |r, _, postgres| {
            (r.create.as_ref(), r.create_cpu, Some(creates(postgres)))
        }),
    ];
    for (name, r) in targets.iter().filter(|(n, _)| n.starts_with("sandbox")) {
        let postgres = name.contains("PostgreSQL");
        for (workload, pick) in workloads {
            let (Some(load), Some(cpu), rate) = pick(r, prism, postgres) else {
                continue;
            };
            let requests = load.requests_per_second * cpu.seconds;
            let per = |seconds: f64| seconds * 1e6 / requests.max(1.0);
            let budget = rate.map_or("".into(), |rate| format!("{:.0}", cores * 1e6 / rate));
            let _ = writeln!(
                out,
                "| {name} | {workload} | {:.0} | {:.0} | {} | {:.0} | {budget} |",
                load.requests_per_second,
                per(cpu.server),
                cpu.postgres
                    .map_or("–".into(), |p| format!("{:.0}", per(p))),
                per(cpu.server + cpu.postgres.unwrap_or(0.0)),
            );
        }
    }
    let _ = writeln!(out);
}

/// What PostgreSQL's sessions were doing over each round of creates ([`waits`]).
fn create_waits(out: &mut String, targets: &[(&str, &Report)]) {
    use std::fmt::Write;
    let sampled: Vec<_> = targets
        .iter()
        .flat_map(|(name, r)| {
            r.create_waits
                .iter()
                .map(move |(w, waited)| (name, w, waited))
        })
        .collect();
    if sampled.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## What PostgreSQL's sessions did during the creates\n\n\
         `pg_stat_activity` sampled every 20 ms over each round of creates: the sessions of the \
         sandbox's database that were not idle, by state, wait event (none: on the CPU) and the \
         start of their statement, as how many sessions were so on average (the {} most \
         frequent). The writer's session idle in transaction waits for the sandbox's next \
         statement; at `IO:WALSync` it waits for its commit to reach the disk.\n\n\
         | target | workload | sessions | state, wait event, statement |\n|---|---|---:|---|",
        waits::SHOWN
    );
    for (name, workload, waited) in sampled {
        for w in waited {
            let _ = writeln!(
                out,
                "| {name} | {} | {:.2} | `{}` |",
                workload.replace('-', " "),
                w.sessions,
                w.state.replace('|', "\\|").replace('`', "'")
            );
        }
    }
    let _ = writeln!(out);
}

/// How much the machine stalled over each target's workloads.
fn stalls(out: &mut String, targets: &[(&str, &Report)]) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "## How much the machine stalled\n\n\
         The share of each workload's time in which tasks on this machine waited (Linux's \
         pressure stall information, `/proc/pressure`): on I/O, some of them (`io some`) or every \
         one that could run (`io full`), on memory, and on the CPU (some task ready to run found \
         both cores taken: high whenever a workload keeps them busy). A number measured while \
         the disk stalled tells of the disk as much as of the code.\n\n\
         | target | workload | io some | io full | memory some | cpu some |\n|---|---|---:|---:|---:|---:|"
    );
    let percent = |share: f64| format!("{:.0}%", share * 100.0);
    for (name, r) in targets {
        for (workload, stall) in &r.stalls {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} |",
                workload.replace('-', " "),
                percent(stall.io_some),
                percent(stall.io_full),
                percent(stall.memory_some),
                percent(stall.cpu_some),
            );
        }
    }
    let _ = writeln!(out);
}

/// The creates of each sandbox right after its advance, beside those measured once it settled.
fn creates_after_advance(out: &mut String, targets: &[(&str, &Report)]) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "The creates above were measured after the 18-day advance below, and on PostgreSQL after \
         `VACUUM (ANALYZE)` (as pgbench vacuums its tables before it measures): \
         the advance updated every invoice, and autovacuum visits those tables within a minute of \
         it. The same creates right after the advance, before that:\n\n\
         | target | req/s | p50 ms | p99 ms | errors | settling took s |\n|---|---:|---:|---:|---:|---:|"
    );
    for (name, r) in targets {
        let Some(load) = &r.create_after_advance else {
            continue;
        };
        let settled = r.settle_seconds.map_or("–".into(), |s| format!("{s:.1}"));
        let _ = writeln!(
            out,
            "| {name} | {:.0} | {:.2} | {:.2} | {} | {settled} |",
            load.requests_per_second, load.p50_ms, load.p99_ms, load.errors
        );
    }
    let _ = writeln!(out);
}

fn report(options: &Options, server: &str, targets: &[(&str, &Report)]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let date =
        run_command(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let _ = writeln!(
        out,
        "# Benchmarks\n\nWritten by `cargo xtask bench --invoices {} --clients {} --seconds {}` on {date}, {}; \
         wrk {THREADS} threads × {CONNECTIONS} connections on the same machine, loopback. \
         Half of the invoices belong to one client (the one every read and create below uses), so \
         that per-client work shows. {server} (`.ci/postgres` starts one so). Rerun it to \
         replace this file; the numbers are from one run.\n",
        options.invoices,
        options.clients,
        options.seconds,
        machine()
    );
    if let Some(dir) = &options.profiles {
        let _ = writeln!(
            out,
            "Run with `--profiles {0}`: a flame graph of the sandbox under each workload, per \
             backend, is in `{0}` (`sqlite-page.svg`, `postgresql-advance.svg`, ...), recorded \
             during the same run (perf at 199 Hz, for at most a workload's first 30 seconds; \
             the numbers below include what recording cost).\n",
            dir.display()
        );
    }
    let prism = targets
        .iter()
        .find(|(n, _)| n.starts_with("Prism"))
        .map(|t| t.1);
    let ceiling = targets
        .iter()
        .find(|(n, _)| n.starts_with("bare"))
        .map(|t| t.1);
    type Pick = fn(&Report) -> Option<&Load>;
    let workloads: [(&str, Pick); 4] = [
        ("validate (GET /validate)", |r| r.validate.as_ref()),
        ("point lookup (distribution v2 by invoice number)", |r| {
            r.lookup.as_ref()
        }),
        ("a page of 100 (distribution v2, one month)", |r| {
            r.page.as_ref()
        }),
        ("durable createInvoice, unique numbers", |r| {
            r.create.as_ref()
        }),
    ];
    for (title, pick) in workloads {
        let _ = writeln!(
            out,
            "## {title}\n\n| target | req/s | p50 ms | p99 ms | errors | × Prism | × ceiling |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        for (name, r) in targets {
            let Some(load) = pick(r) else { continue };
            let ratio = |peer: Option<&Report>| {
                peer.and_then(pick).map_or("".into(), |p| {
                    format!("{:.2}", load.requests_per_second / p.requests_per_second)
                })
            };
            let _ = writeln!(
                out,
                "| {name} | {:.0} | {:.2} | {:.2} | {} | {} | {} |",
                load.requests_per_second,
                load.p50_ms,
                load.p99_ms,
                load.errors,
                ratio(prism),
                ratio(ceiling)
            );
        }
        let _ = writeln!(out);
        if title.starts_with("durable createInvoice") {
            creates_after_advance(&mut out, targets);
        }
    }
    request_cpu(&mut out, targets, prism);
    create_waits(&mut out, targets);
    stalls(&mut out, targets);
    let _ = writeln!(
        out,
        "Prism and the ceiling answer without state: their createInvoice is not durable and Prism's \
         lookups find nothing; they are there for scale, not as equals. The ceiling answers each \
         workload with the bytes the sandbox answered it with (captured once per run), so `× ceiling` \
         is the share of what this stack carries for the same answer.\n\n## The sandbox at scale\n\n\
         | target | invoices seeded | seeding req/s | peak RSS MiB | database MiB | restart s | RSS after restart MiB | 18-day advance s | worst concurrent request ms | worst create during it ms | what the advance did |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for (name, r) in targets {
        let (Some((created, secs)), Some(advance), Some(restart)) =
            (r.seeding, r.advance.as_ref(), r.restart.as_ref())
        else {
            let _ = writeln!(
                out,
                "| {name} | – | – | {:.0} | – | – | – | – | – | – | – |",
                r.peak_rss_mib
            );
            continue;
        };
        let _ = writeln!(
            out,
            "| {name} | {created} | {:.0} | {:.0} | {} | {:.2} | {:.0} | {:.2} | {:.0} | {:.0} | `{}` |",
            created as f64 / secs,
            r.peak_rss_mib,
            r.database_mib.map_or("–".into(), |m| format!("{m:.0}")),
            restart.seconds,
            restart.rss_mib,
            advance.seconds,
            advance.concurrent.max_ms,
            advance.creates.max_ms,
            advance.happened
        );
    }
    for (name, r) in targets {
        let Some(proxied) = &r.proxied else { continue };
        let _ = writeln!(
            out,
            "\n## The validating proxy in front of the {name}\n\n`confirma-sandbox proxy` checking every exchange against the spec, against the same sandbox answering directly (measured just before, in the same run), a pass-through proxy on the same stack that checks nothing (the example `bare_proxy`: what the extra hop costs by itself) and Prism 5.14.2's validating proxy (`prism proxy`), each in front of it.\n\n| workload | direct req/s | through the proxy req/s | share | direct p50 ms | proxy p50 ms | added at p50 ms | proxy p99 ms | pass-through req/s | × pass-through | through Prism's proxy req/s | × Prism's proxy |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let (prism, bare) = (proxied.prism.as_ref(), proxied.bare.as_ref());
        let versus = |through: &Load, peer: Option<&Load>| {
            peer.map_or(("–".into(), "–".into()), |p| {
                (
                    format!("{:.0}", p.requests_per_second),
                    format!("{:.2}", through.requests_per_second / p.requests_per_second),
                )
            })
        };
        for (workload, direct, through, peer, hop) in [
            (
                "validate",
                r.validate.as_ref(),
                &proxied.validate,
                prism.map(|p| &p.0),
                bare.map(|p| &p.0),
            ),
            (
                "durable createInvoice",
                r.create.as_ref(),
                &proxied.create,
                prism.map(|p| &p.1),
                bare.map(|p| &p.1),
            ),
        ] {
            let Some(direct) = direct else { continue };
            let (hop_rate, hop_ratio) = versus(through, hop);
            let (peer_rate, peer_ratio) = versus(through, peer);
            let _ = writeln!(
                out,
                "| {workload} | {:.0} | {:.0} | {:.0}% | {:.2} | {:.2} | {:.2} | {:.2} | {hop_rate} | {hop_ratio} | {peer_rate} | {peer_ratio} |",
                direct.requests_per_second,
                through.requests_per_second,
                100.0 * through.requests_per_second / direct.requests_per_second,
                direct.p50_ms,
                through.p50_ms,
                through.p50_ms - direct.p50_ms,
                through.p99_ms,
            );
        }
        let _ = writeln!(
            out,
            "\nOne request at a time (wrk, 1 connection), the latency the proxy adds without the queueing of 64 connections on 2 cores:\n\n| workload | direct p50 ms | through the proxy p50 ms | added at p50 ms | direct p99 ms | through the proxy p99 ms |\n|---|---:|---:|---:|---:|---:|"
        );
        for (workload, (direct, through)) in ["validate", "durable createInvoice"]
            .iter()
            .zip(&proxied.one_at_a_time)
        {
            let _ = writeln!(
                out,
                "| {workload} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                direct.p50_ms,
                through.p50_ms,
                through.p50_ms - direct.p50_ms,
                direct.p99_ms,
                through.p99_ms
            );
        }
    }
    let _ = writeln!(
        out,
        "\n## Spaces\n\nMaking a space (with its demo client) one at a time, forking the default space with every invoice the seeding stored in it, as the advance left them (one transaction copying every row of the space), deleting the fork (its rows removed a bounded batch per transaction); on PostgreSQL, durable creates into one space through one replica against two spaces through two replicas of the database at once (each space has a write lock of its own).\n\n| target | make p50 ms | make p99 ms | make max ms | fork of | fork s | delete s | creates, one space / one replica req/s | two spaces / two replicas req/s | × |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for (name, r) in targets {
        let Some(spaces) = &r.spaces else { continue };
        let (one, two, times) = spaces.replicas.as_ref().map_or(
            ("–".to_string(), "–".to_string(), "–".to_string()),
            |(one, two)| {
                (
                    format!("{:.0}", one.requests_per_second),
                    format!("{:.0}", two.requests_per_second),
                    format!("{:.2}", two.requests_per_second / one.requests_per_second),
                )
            },
        );
        let _ = writeln!(
            out,
            "| {name} | {:.2} | {:.2} | {:.2} | over {} invoices | {:.2} | {:.2} | {one} | {two} | {times} |",
            spaces.create.p50_ms,
            spaces.create.p99_ms,
            spaces.create.max_ms,
            spaces.fork_invoices,
            spaces.fork_seconds,
            spaces.delete_seconds,
        );
        let _ = spaces.created;
    }
    let _ = writeln!(
        out,
        "\n## Targets (2 cores)\n\nThe scale targets are for `--invoices 1000000 --clients 100`; at a smaller scale they are shown but say little.\n\n| target | measured | met |\n|---|---|---|"
    );
    for (target, measured, met) in goals(targets_of(targets)) {
        let _ = writeln!(
            out,
            "| {target} | {measured} | {} |",
            if met { "yes" } else { "**no**" }
        );
    }
    // Why the targets this design misses are missed: kept by hand beside the bench.
    let _ = write!(out, "\n{}", include_str!("../bench/why.md"));
    out
}

/// The sandboxes, Prism and the ceiling, as the targets need them.
struct Measured<'a> {
    sandboxes: Vec<(&'a str, &'a Report)>,
    prism: Option<&'a Report>,
    ceiling: Option<&'a Report>,
}

fn targets_of<'a>(targets: &'a [(&'a str, &'a Report)]) -> Measured<'a> {
    Measured {
        sandboxes: targets
            .iter()
            .filter(|(n, _)| n.starts_with("sandbox"))
            .map(|&(n, r)| (n, r))
            .collect(),
        prism: targets
            .iter()
            .find(|(n, _)| n.starts_with("Prism"))
            .map(|t| t.1),
        ceiling: targets
            .iter()
            .find(|(n, _)| n.starts_with("bare"))
            .map(|t| t.1),
    }
}

/// Each target of the issue, with what was measured and whether it was met.
fn goals(m: Measured<'_>) -> Vec<(String, String, bool)> {
    let mut rows = Vec::new();
    type Pick = fn(&Report) -> Option<&Load>;
    // Issue 19's targets: (workload, its data, × Prism, share of the ceiling answering the same
    // bytes). Validate's share is for SQLite; PostgreSQL's is measured against SQLite below.
    let reads: [(&str, Pick, Option<f64>, Option<f64>); 3] = [
        ("validate", |r| r.validate.as_ref(), None, Some(0.6)),
        ("point lookup", |r| r.lookup.as_ref(), Some(20.0), None),
        ("page of 100", |r| r.page.as_ref(), Some(10.0), Some(0.15)),
    ];
    let sqlite_validate = m
        .sandboxes
        .iter()
        .find(|(n, _)| n.contains("SQLite"))
        .and_then(|(_, r)| r.validate.as_ref());
    for (name, report) in &m.sandboxes {
        let postgres = name.contains("PostgreSQL");
        for (read, pick, times_prism, share_of_ceiling) in reads {
            let Some(load) = pick(report) else { continue };
            if let (Some(want), Some(prism)) = (times_prism, m.prism.and_then(pick)) {
                let ratio = load.requests_per_second / prism.requests_per_second;
                rows.push((
                    format!("{name}: {read} ≥ {want}× Prism"),
                    format!("{ratio:.1}×"),
                    ratio >= want,
                ));
            }
            let Some(want) = share_of_ceiling else {
                continue;
            };
            if postgres && read == "validate" {
                if let Some(sqlite) = sqlite_validate {
                    let share = load.requests_per_second / sqlite.requests_per_second;
                    rows.push((
                        format!("{name}: {read} ≥ 50% of SQLite's"),
                        format!("{:.0}%", share * 100.0),
                        share >= 0.5,
                    ));
                }
            } else if let Some(ceiling) = m.ceiling.and_then(pick) {
                let share = load.requests_per_second / ceiling.requests_per_second;
                rows.push((
                    format!("{name}: {read} ≥ {:.0}% of the ceiling", want * 100.0),
                    format!("{:.0}%", share * 100.0),
                    share >= want,
                ));
            }
        }
        if let Some(create) = &report.create {
            let want = if postgres {
                POSTGRES_CREATES
            } else {
                SQLITE_CREATES
            };
            rows.push((
                format!("{name}: durable creates ≥ {want:.0}/s"),
                format!("{:.0}/s", create.requests_per_second),
                create.requests_per_second >= want,
            ));
        }
        let limit = |what: &str, value: Option<f64>, max: f64, unit: &str| {
            value.map(|v| {
                (
                    format!("{name}: {what} < {max} {unit}"),
                    format!("{v:.2} {unit}"),
                    v < max,
                )
            })
        };
        rows.extend(
            [
                limit(
                    "point lookup p99",
                    report.lookup.as_ref().map(|l| l.p99_ms),
                    if postgres { 10.0 } else { 5.0 },
                    "ms",
                ),
                limit(
                    "page of 100 p99",
                    report.page.as_ref().map(|l| l.p99_ms),
                    20.0,
                    "ms",
                ),
                limit("peak RSS", Some(report.peak_rss_mib), 256.0, "MiB"),
                limit(
                    "RSS after restart",
                    report.restart.as_ref().map(|r| r.rss_mib),
                    256.0,
                    "MiB",
                ),
                limit(
                    "database",
                    report.database_mib,
                    if postgres { 2560.0 } else { 1536.0 },
                    "MiB",
                ),
                limit(
                    "restart to serving",
                    report.restart.as_ref().map(|r| r.seconds),
                    2.0,
                    "s",
                ),
                limit(
                    "18-day advance",
                    report.advance.as_ref().map(|a| a.seconds),
                    if postgres { 120.0 } else { 60.0 },
                    "s",
                ),
                limit(
                    "worst request during the advance",
                    report.advance.as_ref().map(|a| a.concurrent.max_ms),
                    100.0,
                    "ms",
                ),
                limit(
                    "worst create during the advance",
                    report.advance.as_ref().map(|a| a.creates.max_ms),
                    100.0,
                    "ms",
                ),
            ]
            .into_iter()
            .flatten(),
        );
        if let Some(proxied) = &report.proxied {
            for ((workload, direct, through), (alone, alone_through)) in [
                ("validate", report.validate.as_ref(), &proxied.validate),
                ("durable creates", report.create.as_ref(), &proxied.create),
            ]
            .into_iter()
            .zip(&proxied.one_at_a_time)
            {
                let Some(direct) = direct else { continue };
                let share = through.requests_per_second / direct.requests_per_second;
                rows.push((
                    format!("{name}: {workload} through the validating proxy ≥ 50% of direct"),
                    format!("{:.0}%", share * 100.0),
                    share >= 0.5,
                ));
                let added = alone_through.p50_ms - alone.p50_ms;
                rows.push((
                    format!(
                        "{name}: the validating proxy adds < 1 ms at p50 ({workload}, one at a time)"
                    ),
                    format!("{added:.3} ms"),
                    added < 1.0,
                ));
            }
        }
        if let Some(spaces) = &report.spaces {
            rows.push((
                format!(
                    "{name}: fork of a space of over {} invoices < 2 s",
                    spaces.fork_invoices
                ),
                format!("{:.2} s", spaces.fork_seconds),
                spaces.fork_seconds < 2.0,
            ));
            if let Some((one, two)) = &spaces.replicas {
                let times = two.requests_per_second / one.requests_per_second;
                rows.push((
                    format!(
                        "{name}: durable creates, two spaces through two replicas ≥ 1.6× one through one"
                    ),
                    format!("{times:.2}×"),
                    times >= 1.6,
                ));
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_cpu_time_is_read_past_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 2411 0 0 0 1234 567 0 0 20 0 9 0 123 4567 89";
        assert_eq!(super::stat_ticks(stat), 1801.0);
        assert_eq!(super::stat_ticks(""), 0.0);
    }

    #[test]
    fn wrk_reports_are_read_with_their_units() {
        let text = "Running 1s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency   712.00us  300.00us   1.20s    90.00%\n    Req/Sec    40.00k     2.00k   45.00k    70.00%\n  Latency Distribution\n     50%  635.00us\n     75%  800.00us\n     90%    1.00ms\n     99%    2.47ms\n  80000 requests in 1.00s, 10.00MB read\n  Non-2xx or 3xx responses: 12\nRequests/sec:  80000.50\nTransfer/sec:     10.00MB\n";
        let load = parse_wrk(text).unwrap();
        assert_eq!(load.requests_per_second, 80000.5);
        assert!((load.p50_ms - 0.635).abs() < 1e-9);
        assert!((load.p99_ms - 2.47).abs() < 1e-9);
        assert!((load.max_ms - 1200.0).abs() < 1e-9);
        assert_eq!(load.errors, 12);
        assert!(parse_wrk("nothing").is_err());
    }

    #[test]
    fn each_target_says_whether_it_was_met() {
        let load = |rps: f64, p99: f64| Load {
            requests_per_second: rps,
            p99_ms: p99,
            ..Default::default()
        };
        let sandbox = Report {
            lookup: Some(load(9000.0, 10.0)),
            create: Some(load(12000.0, 3.0)),
            peak_rss_mib: 100.0,
            ..Default::default()
        };
        let prism = Report {
            lookup: Some(load(300.0, 50.0)),
            ..Default::default()
        };
        let rows = goals(Measured {
            sandboxes: vec![("sandbox (SQLite)", &sandbox)],
            prism: Some(&prism),
            ceiling: None,
        });
        let met = |target: &str| {
            rows.iter()
                .find(|(t, _, _)| t.contains(target))
                .map(|r| r.2)
                .unwrap_or_else(|| panic!("no row for {target}: {rows:?}"))
        };
        assert!(met("point lookup ≥ 20× Prism"));
        assert!(met("durable creates ≥ 10000/s"));
        assert!(!met("point lookup p99 < 5 ms"));
        assert!(met("peak RSS < 256 MiB"));
    }

    #[test]
    fn business_ids_carry_their_check_digit() {
        assert_eq!(business_id(2942108).as_deref(), Some("2942108-7"));
        assert_eq!(business_id(1234567).as_deref(), Some("1234567-1"));
    }
}
