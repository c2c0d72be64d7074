//! A load generator for mailhive's benchmarks, run against mailhive and Dovecot alike.
//! Single-threaded tokio, so the client costs less CPU than the server it measures.
//! Every loop is bounded by a time limit or a count and stops by itself; only loopback
//! targets make sense (the benchmarks start both servers on this machine).
//!
//! - `run WORKLOAD`: CLIENTS clients for SECONDS, RUNS times; the rate of operations.
//!   - `imap-login`: LOGIN and LOGOUT (sessions/s); `pop3-login`: USER, PASS, QUIT.
//!   - `pop3`: full POP3 sessions — STAT, UIDL, RETR of every message, QUIT.
//!   - `mixed`: what a mail client does on reconnecting (commands/s, see `workloads`).
//!   - `append`: APPEND of the fixture messages, each acknowledged durably (appends/s).
//!   - `imaps-handshake`: TLS handshakes and greetings on an implicit-TLS port.
//!   - `lmtp`: LMTP deliveries to RECIPIENTS accounts each, every recipient's 250 read
//!     (messages/s).
//! - `idle`: N logged-in connections in IDLE; the server's memory per connection.
//! - `search`: one SEARCH over a large mailbox, timed RUNS times after a warm-up.
//! - `corpus`: writes the large mailbox, as an mbox and as a maildir.
//!
//! Each figure is printed with its runs, then as a machine-readable line
//! `RESULT workload=… server=… median=… min=… max=… unit=…`.

mod conn;
mod corpus;
mod memory;
mod tls;
mod workloads;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use conn::Conn;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};
use workloads::Client;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    ImapLogin,
    Pop3Login,
    Pop3,
    Mixed,
    Append,
    ImapsHandshake,
    Lmtp,
}

impl Workload {
    fn unit(self) -> &'static str {
        match self {
            Workload::Mixed => "commands/s",
            Workload::Append => "appends/s",
            Workload::ImapsHandshake => "handshakes/s",
            Workload::Lmtp => "messages/s",
            _ => "sessions/s",
        }
    }
}

/// Where to connect and as whom.
#[derive(Debug, Clone, clap::Args)]
struct Target {
    /// Address of the server (loopback).
    #[arg(long)]
    addr: SocketAddr,
    /// Name printed in the RESULT line (mailhive, dovecot).
    #[arg(long, default_value = "server")]
    server: String,
    /// The account, or with --accounts N the prefix of accounts USER0 … USER(N-1).
    #[arg(long, default_value = "bench")]
    user: String,
    #[arg(long, default_value_t = 1)]
    accounts: usize,
    #[arg(long, default_value = "bench")]
    password: String,
}

impl Target {
    /// The account client `n` uses.
    fn user(&self, n: usize) -> String {
        if self.accounts > 1 {
            format!("{}{}", self.user, n % self.accounts)
        } else {
            self.user.clone()
        }
    }
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Drives one timed workload.
    Run {
        #[arg(value_enum)]
        workload: Workload,
        #[command(flatten)]
        target: Target,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Length of one run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Runs; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Messages (.eml) that `mixed` and `append` append and `lmtp` delivers.
        #[arg(long, default_value = "fixtures/mail")]
        messages: PathBuf,
        /// Recipients of each `lmtp` message: the accounts after the client's own.
        #[arg(long, default_value_t = 1)]
        recipients: usize,
        /// Name of the figure in the RESULT line (default: the workload's).
        #[arg(long)]
        name: Option<String>,
    },
    /// Holds N connections in IDLE and reports the server's memory per connection.
    Idle {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 500)]
        connections: usize,
        /// The server's process (its descendants are counted too).
        #[arg(long)]
        pid: u32,
    },
    /// Times one SEARCH, SORT or THREAD in INBOX.
    Search {
        #[command(flatten)]
        target: Target,
        /// SEARCH, SORT or THREAD.
        #[arg(long, default_value = "SEARCH")]
        command: String,
        /// Its arguments, e.g. `BODY quetzal` or `(DATE) UTF-8 ALL`.
        #[arg(long)]
        query: String,
        /// Name of the figure in the RESULT line.
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Writes the SEARCH benchmark's mailbox.
    Corpus {
        #[arg(long, default_value_t = 100_000)]
        messages: u64,
        #[arg(long)]
        mbox: PathBuf,
        #[arg(long)]
        maildir: PathBuf,
    },
}

#[derive(Debug, Parser)]
#[command(about = "Drives one benchmark workload against a mail server on this machine")]
struct Args {
    #[command(subcommand)]
    task: Task,
}

/// Prints the runs' median and spread, and the RESULT line.
fn report(workload: &str, server: &str, mut values: Vec<f64>, unit: &str) {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    let (min, max) = (values[0], values[values.len() - 1]);
    println!("{workload} {server}: median {median:.1} {unit} (spread {min:.1} – {max:.1})");
    println!(
        "RESULT workload={workload} server={server} median={median:.1} min={min:.1} max={max:.1} unit={unit}"
    );
}

/// The fixture messages with CRLF line endings.
fn read_messages(dir: &PathBuf) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    let messages: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read(p)?;
            let text = String::from_utf8_lossy(&text).replace("\r\n", "\n");
            Ok(text.replace('\n', "\r\n").into_bytes())
        })
        .collect::<std::io::Result<_>>()?;
    if messages.is_empty() {
        bail!("no .eml messages in {}", dir.display());
    }
    Ok(messages)
}

/// One run of `workload` with `clients` clients until `deadline`; operations per second.
async fn run_once(
    workload: Workload,
    target: Rc<Target>,
    clients: usize,
    seconds: u64,
    messages: Rc<Vec<Vec<u8>>>,
    recipients: usize,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let connector = Rc::new(tls::tls_connector()?);
    let tasks: Vec<_> = (0..clients)
        .map(|n| {
            let (target, messages, connector) =
                (target.clone(), messages.clone(), connector.clone());
            tokio::task::spawn_local(async move {
                let mut client = Client {
                    addr: target.addr,
                    user: target.user(n),
                    password: target.password.clone(),
                    messages: messages.to_vec(),
                    seed: n as u64 * 7919 + 1,
                    recipients: (n..n + recipients).map(|r| target.user(r)).collect(),
                };
                let mut operations = 0u64;
                while Instant::now() < deadline {
                    operations += match workload {
                        Workload::ImapLogin => client.imap_login_session().await?,
                        Workload::Pop3Login => client.pop3_login_session().await?,
                        Workload::Pop3 => client.pop3_session().await?,
                        Workload::Mixed => client.mixed_session().await?,
                        Workload::Append => client.append_session(deadline).await?,
                        Workload::Lmtp => client.lmtp_session(deadline).await?,
                        Workload::ImapsHandshake => {
                            tls::imaps_handshake(target.addr, &connector).await?
                        }
                    };
                }
                Ok::<_, anyhow::Error>(operations)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.context("client task failed")??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Holds `connections` sessions in IDLE; returns the server's memory growth per
/// connection in KiB. Every account logs in once first, so that what a first login
/// costs once (mailhive's argon2 memory, Dovecot's auth process) is not counted.
async fn idle(target: &Target, connections: usize, pid: u32) -> anyhow::Result<f64> {
    for n in 0..target.accounts {
        let mut conn = Conn::open(target.addr).await?;
        conn.greeting("* OK").await?;
        conn.imap(&format!("LOGIN {} {}", target.user(n), target.password))
            .await?;
        conn.imap_logout().await?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = memory::tree_pss_kib(pid)?;
    let mut open = Vec::with_capacity(connections);
    for n in 0..connections {
        let mut conn = Conn::open(target.addr).await?;
        conn.greeting("* OK").await?;
        conn.imap(&format!("LOGIN {} {}", target.user(n), target.password))
            .await?;
        conn.imap("SELECT INBOX").await?;
        conn.send(b"i IDLE\r\n").await?;
        let go_on = conn.read_line().await?;
        if !go_on.starts_with('+') {
            bail!("IDLE: {go_on}");
        }
        open.push(conn);
    }
    // Let every process settle (Dovecot's start on demand).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = memory::tree_pss_kib(pid)?;
    for mut conn in open {
        conn.send(b"DONE\r\n").await?;
    }
    Ok(after.saturating_sub(before) as f64 / connections as f64)
}

/// Times `command query` (SEARCH, SORT, THREAD) in INBOX: one warm-up (which lets
/// Dovecot build its caches), then `runs` timed; milliseconds each.
async fn search(
    target: &Target,
    command: &str,
    query: &str,
    runs: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut conn = Conn::open(target.addr).await?;
    conn.greeting("* OK").await?;
    conn.imap(&format!("LOGIN {} {}", target.user(0), target.password))
        .await?;
    conn.imap("SELECT INBOX").await?;
    let warm = conn.imap(&format!("{command} {query}")).await?;
    let answer = format!("* {command}");
    let found = warm
        .iter()
        .find(|l| l.to_ascii_uppercase().starts_with(&answer))
        .map_or(0, |l| {
            l.split(|c: char| !c.is_ascii_digit())
                .filter(|n| !n.is_empty())
                .count()
        });
    println!("{command} {query}: {found} messages found");
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        conn.imap(&format!("{command} {query}")).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    conn.imap_logout().await?;
    Ok(times)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    match args.task {
        Task::Run {
            workload,
            target,
            clients,
            seconds,
            runs,
            messages,
            recipients,
            name,
        } => {
            let messages = Rc::new(read_messages(&messages)?);
            let target = Rc::new(target);
            let name = name.unwrap_or_else(|| {
                let workload_name = workload
                    .to_possible_value()
                    .map(|v| v.get_name().to_owned())
                    .unwrap_or_default();
                match workload {
                    Workload::Lmtp => format!("{workload_name}-{recipients}rcpt"),
                    _ => workload_name,
                }
            });
            let mut rates = Vec::new();
            for run in 1..=runs {
                let once = run_once(
                    workload,
                    target.clone(),
                    clients,
                    seconds,
                    messages.clone(),
                    recipients,
                );
                let rate = local.block_on(&runtime, once)?;
                println!(
                    "{name} {} run {run}: {rate:.1} {}",
                    target.server,
                    workload.unit()
                );
                rates.push(rate);
            }
            report(&name, &target.server, rates, workload.unit());
        }
        Task::Idle {
            target,
            connections,
            pid,
        } => {
            let per_connection = local.block_on(&runtime, idle(&target, connections, pid))?;
            println!("{connections} connections in IDLE: {per_connection:.1} KiB each");
            report(
                "idle",
                &target.server,
                vec![per_connection],
                "KiB/connection",
            );
        }
        Task::Search {
            target,
            command,
            query,
            name,
            runs,
        } => {
            let times = local.block_on(&runtime, search(&target, &command, &query, runs))?;
            report(&name, &target.server, times, "ms");
        }
        Task::Corpus {
            messages,
            mbox,
            maildir,
        } => {
            corpus::write(messages, &mbox, &maildir)?;
            println!(
                "{messages} messages written to {} and {}",
                mbox.display(),
                maildir.display()
            );
        }
    }
    Ok(())
}
