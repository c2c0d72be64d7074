//! The console in a real browser: headless Chromium driven over WebDriver by
//! `tests/browser/console.py` (Debian's chromium, chromium-driver and python3-selenium,
//! which `./test` installs when missing). A screenshot of each page is saved in the
//! test's temporary directory (`MAILHIVE_SCREENSHOTS=DIR` keeps a copy there).
//! Without the browser the test says so and skips, except under `CI`, where it fails.

use crate::harness::Env;
use std::path::Path;
use std::process::Command;

/// Debian's Python, the one python3-selenium installs for.
const PYTHON: &str = "/usr/bin/python3";

/// Whether Chromium, its driver and selenium are installed.
fn browser_installed() -> bool {
    let selenium = Command::new(PYTHON)
        .args(["-c", "import selenium"])
        .status()
        .is_ok_and(|s| s.success());
    Path::new("/usr/bin/chromium").exists()
        && Path::new("/usr/bin/chromedriver").exists()
        && selenium
}

#[test]
fn an_administrator_uses_the_console_in_chromium() {
    if !browser_installed() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium, chromium-driver and python3-selenium are needed under CI (./test installs them)"
        );
        eprintln!("SKIPPED: chromium, chromium-driver or python3-selenium is not installed (./test installs them as root)");
        return;
    }
    let env = Env::new();
    env.ok(
        &["user", "add", "root", "--admin", "--password-stdin"],
        "rootpw\n",
    );
    env.add_user("alice", "alicepw");
    env.import("alice", "corpus.mbox");
    let server = env.serve(&[]);
    let shots = env.dir.path().join("screenshots");
    let profile = env.dir.path().join("chromium-profile");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let out = Command::new(PYTHON)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/console.py"))
        .args(["--url", &format!("http://{}", server.web)])
        .args(["--imap", &server.imap.to_string()])
        .args(["--user", "root", "--password", "rootpw"])
        .arg("--shots")
        .arg(&shots)
        .arg("--profile")
        .arg(&profile)
        .output()
        .expect("run the browser script");
    let log = env.server_log();
    assert!(
        out.status.success(),
        "{}\n{}\nserver log:\n{log}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for page in [
        "login",
        "dashboard",
        "settings-refused",
        "settings",
        "connections",
        "users",
        "sharing",
    ] {
        let png = std::fs::read(shots.join(format!("{page}.png"))).expect("a screenshot");
        assert!(png.starts_with(b"\x89PNG"), "{page}.png is not a PNG");
        if let Some(keep) = std::env::var_os("MAILHIVE_SCREENSHOTS") {
            std::fs::write(Path::new(&keep).join(format!("{page}.png")), png).expect("copy");
        }
    }
}
