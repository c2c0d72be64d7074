//! Helpers shared by the integration tests: a scratch data directory with its config
//! file, running the binary, and starting / stopping a server.

use mailhive_store::Store;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A data directory and a config file naming it; listeners on free loopback ports.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        Env::with_settings("", "")
    }

    /// An environment whose `[pop3]` section also holds `settings` (TOML lines).
    pub fn with_pop3_settings(settings: &str) -> Env {
        Env::with_settings(settings, "")
    }

    /// An environment whose `[imap]` section also holds `settings` (TOML lines).
    pub fn with_imap_settings(settings: &str) -> Env {
        Env::with_settings("", settings)
    }

    fn with_settings(pop3: &str, imap: &str) -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("mailhive.toml");
        let data = dir.path().join("data");
        let text = format!(
            "[store]\npath = {:?}\n[pop3]\nlisten = [\"127.0.0.1:0\"]\n{pop3}\n\
             [imap]\nlisten = [\"127.0.0.1:0\"]\n{imap}\n",
            data.display().to_string()
        );
        std::fs::write(&config, text).expect("config");
        Env { dir, config }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailhive"));
        cmd.arg("--config").arg(&self.config).args(args);
        cmd.env_remove("RUST_LOG");
        cmd
    }

    /// Runs the binary with `stdin` as standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mailhive");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait")
    }

    /// Runs the binary and asserts success.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "mailhive {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs the binary, asserts failure with a one-line reason, and returns that line.
    pub fn fails(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            !out.status.success(),
            "mailhive {args:?} should have failed"
        );
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "want a one-line reason, got {stderr:?}"
        );
        stderr.trim_end().to_owned()
    }

    pub fn add_user(&self, name: &str, password: &str) {
        self.ok(
            &["user", "add", name, "--password-stdin"],
            &format!("{password}\n"),
        );
    }

    /// Opens the store directly (no server may be running).
    pub fn store(&self) -> Store {
        Store::open(&self.data()).expect("open store")
    }

    /// Imports a fixture mbox into `user`'s INBOX.
    pub fn import(&self, user: &str, fixture_name: &str) {
        let path = fixture(fixture_name);
        self.ok(
            &[
                "import-mbox",
                "--user",
                user,
                path.to_str().expect("UTF-8 path"),
            ],
            "",
        );
    }

    /// Starts `serve` with `args` and waits until it listens and its admin socket answers.
    pub fn serve(&self, args: &[&str]) -> Server {
        let log_path = self.dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).expect("server log");
        let mut child = self
            .command(&[&["serve"], args].concat())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn server");
        let (lines, received) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let reader = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                let _ = lines.send(line);
            }
            all
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut pop3, mut imap) = (None, None);
        while pop3.is_none() || imap.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = received.recv_timeout(left) else {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let config = std::fs::read_to_string(&self.config).unwrap_or_default();
                panic!("server did not start listening; its log:\n{log}\nits config:\n{config}");
            };
            if let Some(addr) = line.strip_prefix("mailhive: POP3 listening on ") {
                pop3 = Some(addr.parse().expect("POP3 address"));
            }
            if let Some(addr) = line.strip_prefix("mailhive: IMAP listening on ") {
                imap = Some(addr.parse().expect("IMAP address"));
            }
        }
        let socket = self.data().join("admin.sock");
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "server did not open its admin socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            child,
            reader: Some(reader),
            pop3: pop3.expect("POP3 address"),
            imap: imap.expect("IMAP address"),
        }
    }
}

/// A running server; stopped with SIGTERM when dropped.
pub struct Server {
    child: Child,
    /// Collects everything the server prints.
    reader: Option<std::thread::JoinHandle<String>>,
    /// Where its POP3 listener is.
    pub pop3: SocketAddr,
    /// Where its IMAP listener is.
    pub imap: SocketAddr,
}

impl Server {
    /// Stops the server with SIGTERM and returns what it printed.
    pub fn stop(mut self) -> String {
        self.terminate();
        self.reader
            .take()
            .map(|r| r.join().unwrap_or_default())
            .unwrap_or_default()
    }

    /// The server's resident memory, in KiB (from /proc).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc")
    }

    /// Kills the server with SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// The corpus messages (`fixtures/mail/*.eml`) with their file names, in mbox order.
pub fn fixture_messages() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(fixture("mail"))
        .expect("fixtures/mail")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).expect("fixture message"))
        })
        .collect()
}

/// A file under fixtures/.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// `raw` with every line ending made CRLF.
pub fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' && (i == 0 || raw[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}
