//! Helpers shared by the integration tests: a scratch data directory with its config
//! file, running the binary, and starting / stopping a server.

use mailhive_store::Store;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A data directory and a config file naming it.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("mailhive.toml");
        let data = dir.path().join("data");
        std::fs::write(
            &config,
            format!("[store]\npath = {:?}\n", data.display().to_string()),
        )
        .expect("config");
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

    /// Starts `serve` with `args` and waits until its admin socket answers.
    pub fn serve(&self, args: &[&str]) -> Server {
        let child = self
            .command(&[&["serve"], args].concat())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let socket = self.data().join("admin.sock");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "server did not open its admin socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child }
    }
}

/// A running server; stopped with SIGTERM when dropped.
pub struct Server {
    child: Child,
}

impl Server {
    /// Stops the server with SIGTERM and returns what it printed.
    pub fn stop(mut self) -> String {
        self.terminate();
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            use std::io::Read;
            let _ = stdout.read_to_string(&mut out);
        }
        out
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

/// A file under fixtures/.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}
