//! POP3 with real clients (Python poplib, curl, fetchmail) and under SIGKILL.

use crate::harness::{crlf, fixture_messages, Env, Server};
use mailhive_store::{MailboxName, Username};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The corpus messages' bytes, in mbox order.
fn originals() -> Vec<Vec<u8>> {
    fixture_messages().into_iter().map(|(_, raw)| raw).collect()
}

/// `raw` with every line ending made LF.
fn lf(raw: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(raw)
        .replace("\r\n", "\n")
        .into_bytes()
}

fn mailbox_with_corpus() -> Env {
    let env = Env::new();
    env.add_user("ben", "pw");
    env.import("ben", "corpus.mbox");
    env
}

fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn poplib_retrieves_every_fixture_message_byte_exact() {
    let env = mailbox_with_corpus();
    let server = env.serve(&[]);
    let out = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/pop3_fetch_all.py");
    let port = server.pop3.port().to_string();
    let run = Command::new("python3")
        .arg(&script)
        .args(["127.0.0.1", &port, "ben", "pw"])
        .arg(out.path())
        .output()
        .expect("python3");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let fetched = files_in(out.path());
    let originals = originals();
    assert_eq!(fetched.len(), originals.len());
    for (i, (got, original)) in fetched.iter().zip(&originals).enumerate() {
        assert!(*got == crlf(original), "message {} differs", i + 1);
    }
}

#[test]
fn curl_retrieves_every_fixture_message_byte_exact() {
    let env = mailbox_with_corpus();
    let server = env.serve(&[]);
    for (i, original) in originals().iter().enumerate() {
        let url = format!("pop3://{}/{}", server.pop3, i + 1);
        let run = Command::new("curl")
            .args(["-s", "--user", "ben:pw", &url])
            .output()
            .expect("curl");
        assert!(
            run.status.success(),
            "curl {url}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            run.stdout == crlf(original),
            "message {} differs over curl",
            i + 1
        );
    }
    let list = Command::new("curl")
        .args([
            "-s",
            "--user",
            "ben:pw",
            &format!("pop3://{}/", server.pop3),
        ])
        .output()
        .expect("curl");
    let listing = String::from_utf8_lossy(&list.stdout);
    for (i, original) in originals().iter().enumerate() {
        let line = format!("{} {}\r\n", i + 1, crlf(original).len());
        assert!(listing.contains(&line), "LIST lacks {line:?}: {listing}");
    }
}

#[test]
/// fetchmail upgrades to TLS with STLS by itself (the certificate is self-signed, so it
/// is told not to check it), then delivers every message once.
fn fetchmail_delivers_everything_once_thanks_to_uidl() {
    let env = mailbox_with_corpus();
    let server = env.serve(&[]);
    let work = tempfile::tempdir().unwrap();
    let delivered = work.path().join("delivered");
    std::fs::create_dir(&delivered).unwrap();
    let mda = work.path().join("mda.sh");
    std::fs::write(
        &mda,
        format!(
            "#!/bin/sh\nn=$(ls {dir} | wc -l)\ncat > {dir}/$(printf %04d \"$n\").eml\n",
            dir = delivered.display()
        ),
    )
    .unwrap();
    let rc = work.path().join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no syslog\npoll 127.0.0.1 with protocol pop3 and port {} uidl\n  user \"ben\" there with password \"pw\" is \"ben\" here\n  options keep no rewrite no sslcertck mda \"/bin/sh {}\"\n",
            server.pop3.port(),
            mda.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    let fetch = || {
        Command::new("fetchmail")
            .arg("-f")
            .arg(&rc)
            .arg("--idfile")
            .arg(work.path().join("ids"))
            .arg("--invisible")
            .arg("--pidfile")
            .arg(work.path().join("pid"))
            .env("HOME", work.path())
            .output()
            .expect("fetchmail")
    };
    let first = fetch();
    assert!(
        first.status.success(),
        "fetchmail: {}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr)
    );
    let got = files_in(&delivered);
    let originals = originals();
    assert_eq!(got.len(), originals.len());
    for (i, (got, original)) in got.iter().zip(&originals).enumerate() {
        assert!(
            *got == lf(original),
            "message {} differs through fetchmail",
            i + 1
        );
    }
    let second = fetch();
    // Exit status 1 is fetchmail's "no mail".
    assert_eq!(
        second.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        files_in(&delivered).len(),
        originals.len(),
        "the second run fetched again"
    );
}

/// A line-at-a-time POP3 conversation for the crash tests.
struct Pop3 {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Pop3 {
    fn login(addr: SocketAddr, user: &str, password: &str) -> Pop3 {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut pop3 = Pop3 {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        assert!(pop3.answer().starts_with("+OK"));
        assert!(pop3.command(&format!("USER {user}")).starts_with("+OK"));
        assert!(pop3.command(&format!("PASS {password}")).starts_with("+OK"));
        pop3
    }

    fn answer(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        line
    }

    fn command(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.answer()
    }
}

/// A server where bob's INBOX holds the three messages of `fixtures/pop3.mbox`.
fn bob_with_three_messages() -> (Env, Server) {
    let env = Env::new();
    env.add_user("bob", "pw");
    env.import("bob", "pop3.mbox");
    let server = env.serve(&[]);
    (env, server)
}

fn inbox_uids(env: &Env) -> Vec<u32> {
    let store = env.store();
    let inbox = store
        .mailbox(&Username::parse("bob").unwrap(), &MailboxName::inbox())
        .unwrap()
        .unwrap();
    store.uids(inbox.id).unwrap()
}

#[test]
fn sigkill_between_dele_and_quit_deletes_nothing() {
    let (env, server) = bob_with_three_messages();
    let mut pop3 = Pop3::login(server.pop3, "bob", "pw");
    assert!(pop3.command("DELE 1").starts_with("+OK"));
    assert!(pop3.command("DELE 3").starts_with("+OK"));
    server.kill();
    assert_eq!(inbox_uids(&env), [1, 2, 3]);
}

#[test]
fn quit_deletions_survive_sigkill_right_after_ok() {
    let (env, server) = bob_with_three_messages();
    let mut pop3 = Pop3::login(server.pop3, "bob", "pw");
    assert!(pop3.command("DELE 1").starts_with("+OK"));
    assert!(pop3.command("DELE 3").starts_with("+OK"));
    let quit = pop3.command("QUIT");
    assert_eq!(
        quit,
        "+OK mailhive POP3 server signing off (2 messages deleted)\r\n"
    );
    server.kill();
    assert_eq!(inbox_uids(&env), [2]);
}

#[test]
fn a_dropped_connection_deletes_nothing() {
    let (env, server) = bob_with_three_messages();
    let mut pop3 = Pop3::login(server.pop3, "bob", "pw");
    assert!(pop3.command("DELE 2").starts_with("+OK"));
    drop(pop3);
    let mut again = Pop3::login(server.pop3, "bob", "pw");
    assert_eq!(again.command("STAT"), "+OK 3 289\r\n");
    drop(again);
    server.stop();
    assert_eq!(inbox_uids(&env), [1, 2, 3]);
}

#[test]
fn a_message_removed_by_another_session_is_refused_not_broken() {
    let (env, server) = bob_with_three_messages();
    let mut first = Pop3::login(server.pop3, "bob", "pw");
    let mut second = Pop3::login(server.pop3, "bob", "pw");
    assert!(first.command("DELE 1").starts_with("+OK"));
    assert!(first.command("QUIT").starts_with("+OK"));
    // The second session's snapshot still numbers the message; reading it is refused.
    assert_eq!(
        second.command("RETR 1"),
        "-ERR message was removed by another session\r\n"
    );
    assert_eq!(second.command("LIST 1"), "+OK 1 136\r\n");
    assert!(second.command("RETR 2").starts_with("+OK 90 octets"));
    let mut rest = String::new();
    while rest != ".\r\n" {
        rest = second.answer();
    }
    // Its own deletion of the removed message commits without error.
    assert!(second.command("DELE 1").starts_with("+OK"));
    assert_eq!(
        second.command("QUIT"),
        "+OK mailhive POP3 server signing off (0 messages deleted)\r\n"
    );
    drop(server);
    assert_eq!(inbox_uids(&env), [2, 3]);
}

#[test]
fn an_idle_connection_is_closed_without_update() {
    let env = Env::with_pop3_settings(
        "pre_authenticated_connection_timeout = 1\nauthenticated_connection_timeout = 1",
    );
    env.add_user("bob", "pw");
    env.import("bob", "pop3.mbox");
    let server = env.serve(&[]);
    let mut idle = Pop3::login(server.pop3, "bob", "pw");
    assert!(idle.command("DELE 1").starts_with("+OK"));
    let started = std::time::Instant::now();
    assert_eq!(idle.answer(), "", "the server closes the idle connection");
    assert!(started.elapsed() >= Duration::from_millis(900));
    let mut silent = TcpStream::connect(server.pop3).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut silent, &mut bytes).unwrap();
    assert!(
        bytes.starts_with(b"+OK"),
        "greeting, then closed before login"
    );
    drop(server);
    assert_eq!(inbox_uids(&env), [1, 2, 3], "a time-out deletes nothing");
}

#[test]
fn a_client_that_stops_reading_cannot_make_the_server_buffer_a_large_message() {
    let env = Env::new();
    env.add_user("bob", "pw");
    let work = tempfile::tempdir().unwrap();
    let mbox = work.path().join("big.mbox");
    let mut raw = b"From x Mon Feb  2 10:00:00 2026\nSubject: big\n\n".to_vec();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    while raw.len() < 30 << 20 {
        for _ in 0..75 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            raw.push(b'a' + (x % 26) as u8);
        }
        raw.push(b'\n');
    }
    std::fs::write(&mbox, &raw).unwrap();
    env.ok(
        &["import-mbox", "--user", "bob", mbox.to_str().unwrap()],
        "",
    );
    let server = env.serve(&[]);
    let mut pop3 = Pop3::login(server.pop3, "bob", "pw");
    let before = server.rss_kib();
    pop3.writer.write_all(b"RETR 1\r\n").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let stalled = server.rss_kib();
    assert!(
        stalled < before + 16 * 1024,
        "RSS grew from {before} KiB to {stalled} KiB while the client read nothing"
    );
    let first = pop3.answer();
    let size: usize = first.split(' ').nth(1).unwrap().parse().unwrap();
    let mut received = 0;
    loop {
        let line = pop3.answer();
        if line == ".\r\n" {
            break;
        }
        received += line.len();
    }
    assert_eq!(received, size, "LIST/RETR size matches the bytes sent");
}
