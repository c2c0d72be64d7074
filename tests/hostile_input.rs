//! The bug classes other IMAP servers shipped, each tried against the real server:
//! unbounded nesting of parentheses in commands, MIME trees thousands of levels deep,
//! thousands of RFC 2231 parameter continuations, and renaming or deleting a parent
//! mailbox to take a child along without the child's own rights.

use crate::harness::{Env, LineClient, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long one hostile command may take in a debug build (well under a second in a
/// release build).
const BOUND: Duration = Duration::from_secs(5);
/// How much the server's resident memory may grow over a test.
const RSS_GROWTH_KIB: u64 = 64 * 1024;

fn served(imap_settings: &str) -> (Env, Server) {
    let env = Env::with_imap_settings(imap_settings);
    env.add_user("hal", "pw");
    let server = env.serve(&[]);
    (env, server)
}

/// Sends `command`; returns its tagged answer (without the tag) and how long it took.
fn timed(client: &mut LineClient, command: &str) -> (String, Duration) {
    let started = Instant::now();
    let status = client.imap_status(command);
    (status, started.elapsed())
}

fn append(client: &mut LineClient, raw: &[u8]) -> Duration {
    let started = Instant::now();
    client.send(&format!("ap APPEND INBOX {{{}+}}", raw.len()));
    client.send_bytes(raw);
    client.send("");
    client.expect_prefix("ap OK");
    started.elapsed()
}

/// A second client logs in and is served while the first one misbehaves, and the
/// server grew less than [`RSS_GROWTH_KIB`] since it had `before` KiB.
fn still_serves(server: &Server, before: u64) {
    let mut other = LineClient::imap_login(server.imap, "hal", "pw");
    answered_quickly(&mut other, ["NOOP"], "OK");
    let after = server.rss_kib();
    assert!(
        after < before + RSS_GROWTH_KIB,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

/// Each of `commands` is answered with `status` (OK, BAD...) within [`BOUND`].
fn answered_quickly<C: AsRef<str>>(
    client: &mut LineClient,
    commands: impl IntoIterator<Item = C>,
    status: &str,
) {
    for command in commands {
        let command = command.as_ref();
        let shown = &command[..command.len().min(40)];
        let (answer, took) = timed(client, command);
        assert!(answer.starts_with(status), "{shown}: {answer}");
        assert!(took < BOUND, "{shown} took {took:?}");
    }
}

#[test]
fn nested_parentheses_in_every_command_are_refused_quickly_and_cheaply() {
    let (_env, server) = served("max_command_size = 16384");
    let mut hal = LineClient::imap_login(server.imap, "hal", "pw");
    append(&mut hal, b"Subject: one\r\n\r\nbody\r\n");
    hal.imap_ok("SELECT INBOX");
    let before = server.rss_kib();
    // As deep as the command size allows.
    let deep = "(".repeat(16_000);
    let commands = [
        format!("SEARCH {deep}ALL"),
        format!("FETCH 1 (BODY[HEADER.FIELDS {deep}"),
        format!("FETCH 1 {deep}"),
        format!("STORE 1 FLAGS {deep}"),
        format!("LIST {deep} \"\" *"),
        format!("STATUS INBOX {deep}"),
        format!("APPEND INBOX {deep}"),
        format!("UID SEARCH NOT OR {deep}"),
        // Deeper than the command size: too big, whatever it holds.
        format!("SEARCH {}ALL", "(".repeat(100_000)),
    ];
    answered_quickly(&mut hal, &commands, "BAD");
    still_serves(&server, before);

    // Ten megabytes of `(` without a line end.
    let mut raw = TcpStream::connect(server.imap).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut greeting = [0u8; 256];
    let _ = raw.read(&mut greeting).unwrap();
    raw.write_all(b"a LOGIN hal pw\r\n").unwrap();
    let started = Instant::now();
    let chunk = vec![b'('; 64 * 1024];
    for _ in 0..160 {
        // The server may close the connection once the command is too big.
        if raw.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = raw.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = raw.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.contains("BAD") || answer.contains("TOOBIG"),
        "{answer}"
    );
    assert!(started.elapsed() < BOUND * 2, "{:?}", started.elapsed());
    still_serves(&server, before);
    server.stop();
}

/// `levels` message/rfc822 parts, each inside the one before.
fn nested_messages(levels: usize) -> Vec<u8> {
    let mut raw = String::from("Subject: outer\r\n");
    for _ in 0..levels {
        raw.push_str("Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n");
    }
    raw.push_str("\r\nthe innermost body\r\n");
    raw.into_bytes()
}

/// `levels` multiparts, each the only part of the one before.
fn nested_multiparts(levels: usize) -> Vec<u8> {
    let mut raw = String::from("Subject: outer\r\n");
    for n in 0..levels {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{n}\"\r\n\r\n--b{n}\r\n"
        ));
    }
    raw.push_str("\r\nthe innermost body\r\n");
    for n in (0..levels).rev() {
        raw.push_str(&format!("--b{n}--\r\n"));
    }
    raw.into_bytes()
}

#[test]
fn mime_trees_thousands_deep_are_served_in_bounded_time() {
    let (_env, server) = served("");
    let mut hal = LineClient::imap_login(server.imap, "hal", "pw");
    let before = server.rss_kib();
    for raw in [nested_messages(5_000), nested_multiparts(5_000)] {
        let took = append(&mut hal, &raw);
        assert!(took < BOUND, "APPEND took {took:?}");
    }
    hal.imap_ok("SELECT INBOX");
    let deep_section = vec!["1"; 200].join(".");
    let commands = [
        "FETCH 1:2 BODYSTRUCTURE".to_owned(),
        "FETCH 1:2 BODY".to_owned(),
        format!("FETCH 1:2 BODY.PEEK[{deep_section}]"),
        format!("FETCH 1:2 BODY.PEEK[{deep_section}.HEADER]"),
        format!("FETCH 1:2 BODY.PEEK[{deep_section}.MIME]"),
        "SEARCH BODY innermost".to_owned(),
        "SEARCH TEXT inner".to_owned(),
        "SEARCH HEADER Subject inner".to_owned(),
    ];
    answered_quickly(&mut hal, &commands, "OK");
    still_serves(&server, before);
    server.stop();
}

/// A header field with RFC 2231 continuations of `param` at the indexes given, each a
/// hundred bytes long.
fn continuations(field: &str, value: &str, param: &str, indexes: &[u64]) -> String {
    let mut out = format!("{field}: {value}");
    let filler = "x".repeat(80);
    for index in indexes {
        out.push_str(&format!(";\r\n {param}*{index}=p{index}{filler}"));
    }
    out.push_str("\r\n");
    out
}

#[test]
fn thousands_of_rfc2231_continuations_are_parsed_in_bounded_time_and_memory() {
    let (_env, server) = served("");
    let mut hal = LineClient::imap_login(server.imap, "hal", "pw");
    let before = server.rss_kib();
    let in_order: Vec<u64> = (0..10_000).collect();
    let reversed: Vec<u64> = (0..10_000).rev().collect();
    let huge: Vec<u64> = (0..2_000)
        .map(|n| u64::from(u32::MAX) - n)
        .chain([0, u64::MAX, 99_999_999_999_999_999])
        .collect();
    for indexes in [&in_order, &reversed, &huge] {
        let raw = format!(
            "Subject: params\r\nMIME-Version: 1.0\r\n{}{}\r\nbody\r\n",
            continuations("Content-Type", "text/plain", "name", indexes),
            continuations("Content-Disposition", "attachment", "filename", indexes),
        );
        let took = append(&mut hal, raw.as_bytes());
        assert!(took < BOUND, "APPEND took {took:?}");
    }
    hal.imap_ok("SELECT INBOX");
    let commands = [
        "FETCH 1:* BODYSTRUCTURE",
        "FETCH 1:* BODY",
        "SEARCH TEXT p9999",
    ];
    answered_quickly(&mut hal, commands, "OK");
    still_serves(&server, before);
    server.stop();
}

#[test]
fn a_parent_cannot_take_a_child_along_without_the_childs_rights() {
    let env = Env::new();
    for user in ["karen", "alice"] {
        env.add_user(user, "pw");
    }
    let server = env.serve(&[]);
    let mut karen = LineClient::imap_login(server.imap, "karen", "pw");
    for name in ["Projects/Secret", "Projects/Open", "Other"] {
        karen.imap_ok(&format!("CREATE {name}"));
    }
    // alice may delete Projects and Projects/Open, but only look at Projects/Secret.
    env.grant("karen", "Projects", "alice", "lrxk");
    env.grant("karen", "Projects/Open", "alice", "lrx");
    env.grant("karen", "Projects/Secret", "alice", "lr");
    env.grant("karen", "Other", "alice", "lrxk");
    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    for command in [
        "DELETE \"#users/karen/Projects\"",
        "DELETE \"#users/karen/Projects/Secret\"",
        "RENAME \"#users/karen/Projects\" \"#users/karen/Other/Projects\"",
        "RENAME \"#users/karen/Projects\" \"#users/karen/Moved\"",
        "RENAME \"#users/karen/Projects\" Mine",
        "RENAME \"#users/karen/Projects/Secret\" \"#users/karen/Other/Secret\"",
        "RENAME \"#users/karen/Projects/Open\" \"#users/karen/Other/Open\"",
    ] {
        let status = alice.imap_status(command);
        assert!(status.starts_with("NO"), "{command}: {status}");
    }
    let listed = karen.imap_ok("LIST \"\" *");
    for name in [
        "\"Projects\"",
        "\"Projects/Secret\"",
        "\"Projects/Open\"",
        "\"Other\"",
    ] {
        assert!(
            listed.iter().any(|l| l.ends_with(name)),
            "{name} is still there: {listed:?}"
        );
    }
    assert!(
        !listed
            .iter()
            .any(|l| l.contains("Moved") || l.contains("Other/")),
        "{listed:?}"
    );
    let own = alice.imap_ok("LIST \"\" Mine*");
    assert!(own.is_empty(), "{own:?}");
    server.stop();
}
