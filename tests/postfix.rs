//! A real MTA delivering into mailhive: a private Postfix instance (its own main.cf,
//! master.cf, queue and log in a temporary directory, SMTP on a free loopback port,
//! `virtual_transport = lmtp:inet:…` pointing at the test server) takes a message for
//! five recipients over SMTP from Python's smtplib and hands it over LMTP; the known
//! recipients' copies arrive over IMAP, the unknown one is bounced with our 550 and the
//! one whose quota the message would pass with our 552 (SPEC §7). The
//! instance is stopped by its master's PID. `./test` installs Postfix when it is missing;
//! starting a Postfix instance needs root.

use crate::harness::{Env, LineClient, Server};
use crate::lmtp::accounts;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const POSTFIX: &str = "/usr/sbin/postfix";

/// A Postfix instance of its own; stopped (by its master's PID) when dropped.
struct Postfix {
    dir: tempfile::TempDir,
    smtp_port: u16,
}

/// The daemons a relay to LMTP needs, none chrooted (their paths are the test's).
const MASTER_CF: &str = "\
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
";

impl Postfix {
    /// Starts Postfix relaying mail for example.org to the LMTP listener `lmtp`.
    fn start(lmtp: std::net::SocketAddr) -> Postfix {
        assert!(
            Path::new(POSTFIX).exists(),
            "Postfix is not installed: run ./test, which installs it"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path();
        let smtp_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // postfix-script makes the data directory, owned by the postfix user, itself.
        for sub in ["etc", "queue"] {
            std::fs::create_dir(base.join(sub)).expect("mkdir");
        }
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {base}/queue\n\
             data_directory = {base}/data\n\
             maillog_file = {base}/maillog\n\
             maillog_file_prefixes = {base}\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             myhostname = mx.test\n\
             mydestination =\n\
             mynetworks = 127.0.0.0/8\n\
             smtpd_relay_restrictions = permit_mynetworks, reject\n\
             alias_maps =\n\
             smtp_dns_support_level = disabled\n\
             virtual_mailbox_domains = example.org\n\
             virtual_transport = lmtp:inet:{lmtp}\n",
            base = base.display()
        );
        std::fs::write(base.join("etc/main.cf"), main_cf).expect("main.cf");
        let smtpd = format!("127.0.0.1:{smtp_port} inet n - n - - smtpd\n");
        std::fs::write(base.join("etc/master.cf"), smtpd + MASTER_CF).expect("master.cf");
        let postfix = Postfix { dir, smtp_port };
        let started = postfix.command("start").status().expect("run postfix");
        assert!(started.success(), "postfix start failed: {}", postfix.log());
        postfix
    }

    fn command(&self, verb: &str) -> Command {
        let mut command = Command::new(POSTFIX);
        command.arg("-c").arg(self.dir.path().join("etc")).arg(verb);
        command
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    fn master_pid(&self) -> Option<String> {
        let file: PathBuf = self.dir.path().join("queue/pid/master.pid");
        let pid = std::fs::read_to_string(file).ok()?;
        Some(pid.trim().to_owned()).filter(|p| !p.is_empty())
    }

    /// Waits up to 30 s for the log to satisfy `done`; returns the log.
    fn log_until(&self, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.log();
            if done(&log) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        if let Some(pid) = self.master_pid() {
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// How many messages `user` has in `mailbox`.
fn count(server: &Server, user: &str, mailbox: &str) -> usize {
    let mut imap = LineClient::imap_login(server.imap, user, "pw");
    let status = imap.imap_ok(&format!("STATUS {mailbox} (MESSAGES)"));
    status
        .iter()
        .find_map(|l| l.split("(MESSAGES ").nth(1))
        .and_then(|n| n.trim_end_matches(')').parse().ok())
        .expect("a MESSAGES count")
}

#[test]
fn postfix_delivers_over_lmtp_and_bounces_the_unknown_and_the_over_quota_recipient() {
    let env = Env::new();
    accounts(&env);
    env.add_user("carol", "pw");
    env.ok(&["quota", "set", "--user", "carol", "--storage", "10"], "");
    let server = env.serve(&[]);
    let postfix = Postfix::start(server.lmtp);

    let script = format!(
        "import smtplib\n\
         s = smtplib.SMTP('127.0.0.1', {port})\n\
         refused = s.sendmail('sender@mx.test', ['alice@example.org', 'alice+lists@example.org', \
         'nobody@example.org', 'bob@example.org', 'carol@example.org'], b'Subject: via postfix\\r\\n\\r\\nhello\\r\\n')\n\
         assert refused == {{}}, refused\n\
         s.quit()\n",
        port = postfix.smtp_port
    );
    let sent = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );

    let log = postfix.log_until(|log| {
        log.matches("status=sent").count() >= 3 && log.matches("status=bounced").count() >= 2
    });
    assert_eq!(log.matches("status=sent").count(), 3, "{log}");
    assert!(
        log.contains("to=<carol@example.org>")
            && log.contains("552 5.2.2 <carol@example.org> Mailbox full"),
        "{log}"
    );
    assert!(
        log.contains("to=<nobody@example.org>")
            && log.contains("550 5.1.1 <nobody@example.org> User unknown"),
        "{log}"
    );
    assert!(
        log.contains("2.0.0 <alice+lists@example.org> Saved"),
        "{log}"
    );
    assert_eq!(count(&server, "alice", "INBOX"), 1);
    assert_eq!(count(&server, "alice", "lists"), 1);
    assert_eq!(count(&server, "bob", "INBOX"), 1);
    assert_eq!(count(&server, "carol", "INBOX"), 0);
    let pid = postfix.master_pid().expect("the master's PID");
    drop(postfix);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "Postfix still runs"
    );
}
