//! QUOTA over IMAP sockets (RFC 9208, SPEC §7): what Python's imaplib reads from
//! GETQUOTAROOT and GETQUOTA, MULTIAPPEND and CATENATE refused whole at the limit, a
//! limit changed on the running server applying at once, and a shared mailbox answered
//! with its owner's root and counted against its owner's quota.

use crate::harness::{LineClient, Server};
use crate::quota::env_with_quota;
use std::process::Command;

/// A message of 40 bytes.
const MESSAGE: &str = "Subject: q\r\n\r\nthe body of the message.\r\n";

/// `{n+}` and the bytes: a non-synchronising literal.
fn literal(bytes: &str) -> String {
    format!("{{{}+}}\r\n{bytes}", bytes.len())
}

/// Sends `tag APPEND rest` and returns the tagged answer without the tag.
fn append(client: &mut LineClient, tag: &str, rest: &str) -> String {
    client.send_bytes(format!("{tag} APPEND {rest}\r\n").as_bytes());
    let (_, done) = client.answer(tag);
    done.strip_prefix(&format!("{tag} "))
        .unwrap_or(&done)
        .to_owned()
}

fn messages(client: &mut LineClient, mailbox: &str) -> String {
    client.imap_ok(&format!("STATUS {mailbox} (MESSAGES)"))[0].clone()
}

#[test]
fn imaplib_reads_the_quota_root_and_its_resources() {
    let env = env_with_quota("storage = \"1M\"\nmessages = 100");
    env.add_user("alice", "pw");
    env.import("alice", "pop3.mbox");
    let server = env.serve(&[]);
    let script = r#"
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
assert "QUOTA" not in m.capabilities, m.capabilities
m.login("alice", "pw")
caps = m.capability()[1][0].split()
assert caps[-3:] == [b"QUOTA", b"QUOTA=RES-STORAGE", b"QUOTA=RES-MESSAGE"], caps
print(m.getquotaroot("INBOX"))
print(m.getquota('""'))
m.logout()
"#;
    let run = Command::new("python3")
        .args(["-c", script, &server.imap.port().to_string()])
        .output()
        .expect("python3");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        out,
        "('OK', [[b'\"INBOX\" \"\"'], [b'\"\" (STORAGE 1 1024 MESSAGE 3 100)']])\n\
         ('OK', [b'\"\" (STORAGE 1 1024 MESSAGE 3 100)'])\n"
    );
    server.stop();
}

#[test]
fn multiappend_and_catenate_are_refused_whole_and_limits_change_at_once() {
    let env = env_with_quota("messages = 3");
    env.add_user("alice", "pw");
    let server = env.serve(&[]);
    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    let two = format!("INBOX {} {}", literal(MESSAGE), literal(MESSAGE));
    assert!(append(&mut alice, "a1", &two).starts_with("OK [APPENDUID "));
    let three = format!("{two} {}", literal(MESSAGE));
    let three = three.replacen("INBOX", "Archive", 1);
    assert_eq!(
        append(&mut alice, "a2", &three),
        "NO [OVERQUOTA] Quota exceeded"
    );
    assert_eq!(
        messages(&mut alice, "Archive"),
        "* STATUS \"Archive\" (MESSAGES 0)"
    );
    let catenate = format!(
        "Archive CATENATE (URL \"/INBOX/;UID=1\" TEXT {}) CATENATE (URL \"/INBOX/;UID=2\")",
        literal("\r\nmore\r\n")
    );
    assert_eq!(
        append(&mut alice, "a3", &catenate),
        "NO [OVERQUOTA] Quota exceeded"
    );
    assert_eq!(
        messages(&mut alice, "Archive"),
        "* STATUS \"Archive\" (MESSAGES 0)"
    );
    // The administrator raises alice's limit while she is logged in: it applies at once.
    env.ok(&["quota", "set", "--user", "alice", "--messages", "4"], "");
    assert!(append(
        &mut alice,
        "a4",
        &catenate.replacen(") CATENATE (URL \"/INBOX/;UID=2\")", ")", 1)
    )
    .starts_with("OK [APPENDUID "));
    alice.imap_ok("SELECT INBOX");
    assert!(
        alice
            .imap_status("COPY 1 Trash")
            .starts_with("OK [COPYUID "),
        "exactly 4"
    );
    assert_eq!(
        alice.imap_status("COPY 1 Trash"),
        "NO [OVERQUOTA] Quota exceeded"
    );
    alice.imap_ok("STORE 1 +FLAGS.SILENT (\\Deleted)");
    alice.imap_ok("EXPUNGE");
    assert!(alice
        .imap_status("COPY 1 Trash")
        .starts_with("OK [COPYUID "));
    let root = alice.imap_ok("GETQUOTAROOT Trash");
    assert_eq!(
        root,
        ["* QUOTAROOT \"Trash\" \"\"", "* QUOTA \"\" (MESSAGE 4 4)"]
    );
    // Without any limit there is no resource to report: the root, and no QUOTA line.
    env.ok(&["quota", "set", "--user", "alice", "--messages", "0"], "");
    assert_eq!(
        alice.imap_ok("GETQUOTAROOT INBOX"),
        ["* QUOTAROOT \"INBOX\" \"\""]
    );
    assert!(alice.imap_ok("GETQUOTA \"\"").is_empty());
    server.stop();
}

fn shared(server: &Server, user: &str) -> LineClient {
    LineClient::imap_login(server.imap, user, "pw")
}

#[test]
fn a_shared_mailbox_has_its_owners_root_and_counts_against_the_owner() {
    let env = env_with_quota("storage = \"10M\"");
    env.add_user("karen", "pw");
    env.add_user("alice", "pw");
    env.import("karen", "pop3.mbox");
    env.grant("karen", "INBOX", "alice", "lrwi");
    env.ok(&["quota", "set", "--user", "karen", "--messages", "3"], "");
    let server = env.serve(&[]);
    let mut alice = shared(&server, "alice");
    assert_eq!(
        alice.imap_ok("GETQUOTAROOT \"#users/karen/INBOX\""),
        [
            "* QUOTAROOT \"#users/karen/INBOX\" #users/karen",
            "* QUOTA #users/karen (STORAGE 1 10240 MESSAGE 3 3)"
        ]
    );
    assert_eq!(
        alice.imap_ok("GETQUOTA #users/karen"),
        ["* QUOTA #users/karen (STORAGE 1 10240 MESSAGE 3 3)"]
    );
    let into_karens = format!("\"#users/karen/INBOX\" {}", literal(MESSAGE));
    assert_eq!(
        append(&mut alice, "s1", &into_karens),
        "NO [OVERQUOTA] Quota exceeded"
    );
    assert!(
        append(&mut alice, "s2", &format!("INBOX {}", literal(MESSAGE)))
            .starts_with("OK [APPENDUID ")
    );
    assert_eq!(
        alice.imap_ok("GETQUOTA \"\""),
        ["* QUOTA \"\" (STORAGE 1 10240)"]
    );
    // A MOVE from alice's INBOX into karen's moves the usage: karen's limit refuses it.
    alice.imap_ok("SELECT INBOX");
    assert_eq!(
        alice.imap_status("MOVE 1 \"#users/karen/INBOX\""),
        "NO [OVERQUOTA] Quota exceeded"
    );
    // An account that shares nothing with alice has no root she may read.
    env.add_user("bob", "pw");
    assert_eq!(
        alice.imap_status("GETQUOTA \"#users/bob\""),
        "NO [NONEXISTENT] No such quota root"
    );
    assert_eq!(
        alice.imap_status("GETQUOTAROOT \"#users/bob/INBOX\""),
        "NO [NONEXISTENT] No such mailbox"
    );
    server.stop();
}
