//! Helpers shared by the integration tests: a scratch data directory with its config
//! file, running the binary, and starting / stopping a server.

use mailhive::admin::client::AdminClient;
use mailhive::admin::Admin;
use mailhive::limiter::Counts;
use mailhive_store::Store;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// TOML lines added to each section of a test's configuration.
#[derive(Default)]
struct Sections<'a> {
    store: &'a str,
    pop3: &'a str,
    imap: &'a str,
    tls: &'a str,
    lmtp: &'a str,
    web: &'a str,
}

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

    /// An environment whose `[pop3]` and `[imap]` sections also hold these settings.
    pub fn with_settings(pop3: &str, imap: &str) -> Env {
        Env::with_sections(Sections {
            pop3,
            imap,
            ..Sections::default()
        })
    }

    /// An environment with this `[tls]` section.
    pub fn with_tls(tls: &str) -> Env {
        Env::with_sections(Sections {
            tls,
            ..Sections::default()
        })
    }

    /// An environment whose `[lmtp]` section also holds `settings` (TOML lines).
    pub fn with_lmtp(settings: &str) -> Env {
        Env::with_sections(Sections {
            lmtp: settings,
            ..Sections::default()
        })
    }

    /// An environment whose `[web]` section also holds `settings` (TOML lines).
    pub fn with_web(settings: &str) -> Env {
        Env::with_sections(Sections {
            web: settings,
            ..Sections::default()
        })
    }

    /// An environment with this `[tls]` section whose `[web]` section also holds `web`.
    pub fn with_tls_and_web(tls: &str, web: &str) -> Env {
        Env::with_sections(Sections {
            tls,
            web,
            ..Sections::default()
        })
    }

    /// An environment whose `[store]` section also holds `store` (TOML lines).
    pub fn with_store(store: &str) -> Env {
        Env::with_sections(Sections {
            store,
            ..Sections::default()
        })
    }

    fn with_sections(sections: Sections<'_>) -> Env {
        let Sections {
            store,
            pop3,
            imap,
            tls,
            lmtp,
            web,
        } = sections;
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("mailhive.toml");
        let data = dir.path().join("data");
        let text = format!(
            "[store]\npath = {:?}\n{store}\n\
             [pop3]\nlisten = [\"127.0.0.1:0\"]\ntls_listen = [\"127.0.0.1:0\"]\n{pop3}\n\
             [imap]\nlisten = [\"127.0.0.1:0\"]\ntls_listen = [\"127.0.0.1:0\"]\n{imap}\n\
             [tls]\n{tls}\n\
             [lmtp]\nlisten = [\"127.0.0.1:0\"]\n{lmtp}\n\
             [web]\nlisten = [\"127.0.0.1:0\"]\n{web}\n",
            data.display().to_string()
        );
        std::fs::write(&config, text).expect("config");
        Env { dir, config }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where a server started by [`Env::serve`] writes its standard error (its log).
    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Everything the server has logged so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailhive"));
        cmd.arg("--config").arg(&self.config).args(args);
        cmd.env_remove("RUST_LOG");
        cmd
    }

    /// The binary with `args`, then `--config` (which [`Env::command`] puts first).
    pub fn command_config_last(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailhive"));
        cmd.args(args).arg("--config").arg(&self.config);
        cmd.env_remove("RUST_LOG");
        cmd
    }

    /// Runs the binary with `stdin` as standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        run_with_input(self.command(args), stdin)
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

    /// Gives `user` `rights` on `owner`'s `mailbox` with `acl set`; returns what it printed.
    pub fn grant(&self, owner: &str, mailbox: &str, user: &str, rights: &str) -> String {
        self.ok(
            &[
                "acl",
                "set",
                "--owner",
                owner,
                "--mailbox",
                mailbox,
                "--user",
                user,
                "--rights",
                rights,
            ],
            "",
        )
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
        self.serve_with_env(args, &[])
    }

    /// [`Env::serve`] with environment variables for the server (the test hooks of
    /// `mailhive::testing`, `MAILHIVE__…` settings).
    pub fn serve_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Server {
        let log = std::fs::File::create(self.log_path()).expect("server log");
        let mut child = self
            .command(&[&["serve"], args].concat())
            .envs(vars.iter().copied())
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
        let (mut pop3, mut imap, mut pop3s, mut imaps) = (None, None, None, None);
        let (mut lmtp, mut web, mut webs) = (None, None, None);
        // Every listener is announced before the line that says the server serves.
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = received.recv_timeout(left) else {
                let log = self.server_log();
                let config = std::fs::read_to_string(&self.config).unwrap_or_default();
                panic!("server did not start listening; its log:\n{log}\nits config:\n{config}");
            };
            if let Some(addr) = line.strip_prefix("mailhive: POP3 listening on ") {
                pop3 = Some(addr.parse().expect("POP3 address"));
            }
            if let Some(addr) = line.strip_prefix("mailhive: IMAP listening on ") {
                imap = Some(addr.parse().expect("IMAP address"));
            }
            if let Some(addr) = line.strip_prefix("mailhive: POP3S listening on ") {
                pop3s = Some(addr.parse().expect("POP3S address"));
            }
            if let Some(addr) = line.strip_prefix("mailhive: IMAPS listening on ") {
                imaps = Some(addr.parse().expect("IMAPS address"));
            }
            if let Some(addr) = line.strip_prefix("mailhive: LMTP listening on ") {
                lmtp = addr.parse().ok();
            }
            if let Some(addr) = line.strip_prefix("mailhive: HTTP listening on ") {
                web = Some(addr.parse().expect("HTTP address"));
            }
            if let Some(addr) = line.strip_prefix("mailhive: HTTPS listening on ") {
                webs = Some(addr.parse().expect("HTTPS address"));
            }
            if line.starts_with("mailhive: serving") {
                break;
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
            pop3s: pop3s.expect("POP3S address"),
            imaps: imaps.expect("IMAPS address"),
            lmtp: lmtp.expect("LMTP address"),
            web: web.expect("HTTP address"),
            webs,
            admin_socket: socket,
        }
    }
}

/// Runs `cmd` with `stdin` as standard input (a command may exit without reading it).
pub fn run_with_input(mut cmd: Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mailhive");
    let written = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    child.wait_with_output().expect("wait")
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
    /// Where its implicit-TLS listeners are.
    pub pop3s: SocketAddr,
    pub imaps: SocketAddr,
    /// Where its LMTP listener (TCP) is.
    pub lmtp: SocketAddr,
    /// Where its web console listens (HTTP), and over HTTPS when configured.
    pub web: SocketAddr,
    pub webs: Option<SocketAddr>,
    admin_socket: PathBuf,
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

    /// What the server's Limiter counts now.
    pub fn counts(&self) -> Counts {
        AdminClient::connect(&self.admin_socket)
            .expect("admin socket")
            .status()
            .expect("status")
    }

    /// Waits up to ten seconds for the Limiter's counts to satisfy `done`; returns the
    /// last counts read.
    pub fn counts_until(&self, done: impl Fn(&Counts) -> bool) -> Counts {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let counts = self.counts();
            if done(&counts) || Instant::now() > deadline {
                return counts;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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

    /// Sends the server a signal (`HUP`, …).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{name} failed");
    }

    /// Waits up to `limit` for the server to exit by itself; its exit status, or `None`
    /// if it still runs.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
    messages_in("mail")
}

/// The messages (`*.eml`) of a directory under fixtures/ with their file names, in order.
pub fn messages_in(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(fixture(dir))
        .expect("a fixtures directory")
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

/// A client for either protocol that speaks in CRLF lines.
pub struct LineClient {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tags: u32,
}

impl LineClient {
    pub fn connect(addr: SocketAddr) -> LineClient {
        LineClient::over(TcpStream::connect(addr).expect("connect"))
    }

    /// Connects from another loopback address (`127.0.0.2`…), for per-address limits.
    pub fn connect_from(from: &str, addr: SocketAddr) -> LineClient {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let local: SocketAddr = format!("{from}:0").parse().expect("loopback address");
        socket.bind(&local.into()).expect("bind");
        socket.connect(&addr.into()).expect("connect");
        LineClient::over(socket.into())
    }

    /// The connection, for a test that reads raw bytes from now on.
    pub fn into_stream(self) -> TcpStream {
        self.writer
    }

    /// A client over a connection that is already open (the greeting not yet read).
    pub fn from_stream(stream: TcpStream) -> LineClient {
        LineClient::over(stream)
    }

    fn over(stream: TcpStream) -> LineClient {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        LineClient {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
            tags: 0,
        }
    }

    pub fn send(&mut self, line: &str) {
        self.send_bytes(format!("{line}\r\n").as_bytes());
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// The next line without its CRLF; `None` when the server closed the connection.
    pub fn line(&mut self) -> Option<String> {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => None,
            Ok(_) => Some(String::from_utf8_lossy(&line).trim_end().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => None,
            Err(e) => panic!("read: {e}"),
        }
    }

    /// Reads a line and asserts it is `want`.
    pub fn expect(&mut self, want: &str) {
        assert_eq!(self.line().as_deref(), Some(want));
    }

    /// Reads a line and asserts it starts with `prefix`; returns it.
    pub fn expect_prefix(&mut self, prefix: &str) -> String {
        let line = self.line().expect("a line, not the end");
        assert!(
            line.starts_with(prefix),
            "{line:?} does not start with {prefix:?}"
        );
        line
    }

    /// Asserts that the server closes the connection without saying more.
    pub fn expect_closed(&mut self) {
        assert_eq!(self.line(), None, "the connection should be closed");
    }

    /// Connects to the IMAP listener, checks the greeting and logs `user` in.
    pub fn imap_login(addr: SocketAddr, user: &str, password: &str) -> LineClient {
        let mut client = LineClient::connect(addr);
        client.expect_prefix("* OK ");
        let (_, done) = client.imap(&format!("LOGIN {user} {password}"));
        assert!(done.contains(" OK "), "{done}");
        client
    }

    /// One IMAP response line without its CRLF, with any literal it announces
    /// appended; panics when the server closed the connection.
    pub fn response(&mut self) -> String {
        let mut all = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = self.reader.read_until(b'\n', &mut line).expect("read");
            assert!(n > 0, "the server closed the connection");
            let literal_size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| l.trim_end().strip_suffix('}'))
                .and_then(|l| l.rsplit_once('{'))
                .and_then(|(_, n)| n.parse::<usize>().ok());
            all.extend_from_slice(&line);
            let Some(size) = literal_size else { break };
            let mut literal = vec![0; size];
            self.reader.read_exact(&mut literal).expect("literal");
            all.extend_from_slice(&literal);
        }
        String::from_utf8_lossy(&all).trim_end().to_owned()
    }

    /// Sends an IMAP command with a fresh tag; returns the untagged lines and the
    /// tagged one.
    pub fn imap(&mut self, command: &str) -> (Vec<String>, String) {
        self.tags += 1;
        let tag = format!("c{}", self.tags);
        self.send(&format!("{tag} {command}"));
        self.answer(&tag)
    }

    /// Reads responses up to the one tagged `tag`: the untagged ones before it, and it.
    pub fn answer(&mut self, tag: &str) -> (Vec<String>, String) {
        let mut untagged = Vec::new();
        loop {
            let line = self.response();
            if line.starts_with(&format!("{tag} ")) {
                return (untagged, line);
            }
            untagged.push(line);
        }
    }

    /// Runs an IMAP command that must succeed; returns its untagged lines.
    pub fn imap_ok(&mut self, command: &str) -> Vec<String> {
        let (untagged, done) = self.imap(command);
        assert!(done.contains(" OK "), "{command}: {done}");
        untagged
    }

    /// The tagged answer to `command`, without its tag.
    pub fn imap_status(&mut self, command: &str) -> String {
        let (_, done) = self.imap(command);
        done.split_once(' ')
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or(done)
    }

    /// Sends `line` over and over from a thread that never reads. The thread ends when a
    /// write fails — the server has closed the connection — or has been blocked for
    /// 30 s, and returns when and how.
    pub fn flood(self, line: &str) -> std::thread::JoinHandle<(Instant, std::io::ErrorKind)> {
        let chunk = format!("{line}\r\n").repeat(64 * 1024 / (line.len() + 2));
        let mut stream = self.writer;
        stream
            .set_write_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        std::thread::spawn(move || loop {
            if let Err(e) = stream.write_all(chunk.as_bytes()) {
                return (Instant::now(), e.kind());
            }
        })
    }

    /// Aborts the connection with a TCP reset instead of a close.
    pub fn reset(self) {
        let socket = socket2::SockRef::from(&self.writer);
        socket.set_linger(Some(Duration::ZERO)).expect("linger");
    }
}
