//! A private PostgreSQL for tests: a cluster made with initdb in a temporary directory,
//! run by an unprivileged user (PostgreSQL refuses to run as root) on a free loopback
//! port, and stopped with pg_ctl when the test process exits. Each test takes a
//! database of its own, dropped when the test is done.
//!
//! The binaries are Debian's (`/usr/lib/postgresql/<version>/bin`, the newest found) or
//! those `MAILHIVE_PG_BIN` names. Without them the PostgreSQL runs are skipped, except
//! under `CI`, where a missing PostgreSQL fails the test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The user tests run PostgreSQL as when they run as root.
const UNPRIVILEGED: &str = "nobody";
/// The cluster's superuser, which the tests connect as (trust authentication on loopback).
const SUPERUSER: &str = "mailhive";

/// A running cluster.
#[derive(Debug)]
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

/// A database of the private cluster, dropped with this value.
#[derive(Debug)]
pub struct Database {
    name: String,
    pub url: String,
}

static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// A new, empty database, or `None` when PostgreSQL is not installed (outside CI).
pub fn database() -> Option<Database> {
    let cluster = CLUSTER.get_or_init(Cluster::start).as_ref()?;
    let name = format!(
        "t{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    cluster.run(
        "createdb",
        &[
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            SUPERUSER,
            &name,
        ],
    );
    Some(Database {
        url: format!("postgresql://{SUPERUSER}@127.0.0.1:{}/{name}", cluster.port),
        name,
    })
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(Some(cluster)) = CLUSTER.get() {
            let port = cluster.port.to_string();
            // Best effort: the cluster goes with the test process anyway.
            let _ = cluster
                .command(
                    "dropdb",
                    &[
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &port,
                        "-U",
                        SUPERUSER,
                        "--force",
                        &self.name,
                    ],
                )
                .output();
        }
    }
}

/// The directory of the newest PostgreSQL binaries installed.
fn binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MAILHIVE_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let Some(bin) = binaries() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL is not installed (/usr/lib/postgresql/*/bin): under CI its tests must run"
            );
            eprintln!("PostgreSQL is not installed: its runs are skipped");
            return None;
        };
        let data = std::env::temp_dir().join(format!("mailhive-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).expect("a directory for the cluster");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Cluster { bin, data, port };
        if is_root() {
            let status = Command::new("chown")
                .args([
                    &format!("{UNPRIVILEGED}:"),
                    cluster.data.to_str().expect("a UTF-8 path"),
                ])
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of the cluster directory");
        }
        let pgdata = cluster.pgdata();
        cluster.run(
            "initdb",
            &[
                "-D",
                &pgdata,
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        let settings = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n\
             max_connections = 300\nfsync = off\n"
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(Path::new(&pgdata).join("postgresql.conf"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, settings.as_bytes()))
            .expect("the cluster's settings");
        let log = format!("{}/log", cluster.data.display());
        cluster.run("pg_ctl", &["-D", &pgdata, "-l", &log, "-w", "start"]);
        register_stop_at_exit();
        Some(cluster)
    }

    fn pgdata(&self) -> String {
        format!("{}/pgdata", self.data.display())
    }

    /// `program` of the cluster's binaries, run as the unprivileged user when root.
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", UNPRIVILEGED, "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        command.args(args).current_dir(&self.data);
        command
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let output = self.command(program, args).output().expect(program);
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn stop(&self) {
        let _ = self
            .command(
                "pg_ctl",
                &["-D", &self.pgdata(), "-m", "immediate", "-w", "stop"],
            )
            .output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

extern "C" fn stop_cluster() {
    if let Some(Some(cluster)) = CLUSTER.get() {
        cluster.stop();
    }
}

/// Stops the cluster when the test process exits: a static is never dropped.
fn register_stop_at_exit() {
    extern "C" {
        fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
    }
    // SAFETY: `stop_cluster` is a plain function that lives as long as the process.
    let registered = unsafe { atexit(stop_cluster) };
    assert_eq!(registered, 0, "atexit");
}
