//! LMTP delivery (RFC 2033, SPEC §8) over real sockets: per-recipient replies in RCPT
//! order, what is stored and where (trace fields, +detail), pipelining, BDAT, the
//! bounds (SIZE, line length, recipients, connections, a client that never ends its
//! data), the Unix socket, IDLE seeing a delivery at once, and a 250 that survives
//! SIGKILL.

use crate::harness::{Env, LineClient, Server};
use std::time::Duration;

/// An environment with users alice (who has a mailbox `lists`) and bob.
pub(crate) fn accounts(env: &Env) {
    env.add_user("alice", "pw");
    env.add_user("bob", "pw");
    let alice = mailhive_store::Username::parse("alice").expect("name");
    let lists = mailhive_store::MailboxName::parse("lists").expect("name");
    env.store()
        .ensure_mailbox(&alice, &lists)
        .expect("store")
        .expect("created");
}

/// Connects, reads the greeting and says LHLO; returns the client and the LHLO lines.
fn lhlo(server: &Server) -> (LineClient, Vec<String>) {
    let mut client = LineClient::connect(server.lmtp);
    client.expect_prefix("220 ");
    client.send("LHLO mx.example.org");
    let extensions = replies(&mut client);
    (client, extensions)
}

/// The lines of one (possibly multi-line) reply.
fn replies(client: &mut LineClient) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = client.line().expect("a reply");
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line);
        if last {
            return lines;
        }
    }
}

/// The messages of `mailbox` over IMAP, as `user` sees them: each one's BODY[].
pub(crate) fn messages(server: &Server, user: &str, mailbox: &str) -> Vec<String> {
    let mut imap = LineClient::imap_login(server.imap, user, "pw");
    imap.imap_ok(&format!("EXAMINE {mailbox}"));
    let (fetched, done) = imap.imap("FETCH 1:* (BODY.PEEK[])");
    if done.contains("BAD") {
        return Vec::new(); // an empty mailbox has no message 1
    }
    fetched
        .iter()
        .map(|line| match line.split_once("}\r\n") {
            Some((_, body)) => body.trim_end_matches(')').to_owned(),
            None => panic!("no literal in {line:?}"),
        })
        .collect()
}

#[test]
fn each_recipient_gets_its_reply_in_rcpt_order_and_its_own_copy() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let (mut client, extensions) = lhlo(&server);
    assert_eq!(
        extensions[1..],
        [
            "250-PIPELINING",
            "250-ENHANCEDSTATUSCODES",
            "250-8BITMIME",
            "250-SIZE 67108864",
            "250 CHUNKING"
        ]
    );
    client.send("MAIL FROM:<sender@example.net> BODY=8BITMIME");
    client.expect("250 2.1.0 Ok");
    for (rcpt, want) in [
        ("alice@example.org", "250 2.1.5 Ok"),
        (
            "nobody@example.org",
            "550 5.1.1 <nobody@example.org> User unknown",
        ),
        ("Alice+lists@example.org", "250 2.1.5 Ok"),
        ("alice+nosuch@example.org", "250 2.1.5 Ok"),
        ("bob", "250 2.1.5 Ok"),
    ] {
        client.send(&format!("RCPT TO:<{rcpt}>"));
        client.expect(want);
    }
    client.send("DATA");
    client.expect("354 Start mail input; end with <CRLF>.<CRLF>");
    client.send_bytes(b"Subject: hello\r\n\r\n..a stuffed line\r\nlast\r\n.\r\n");
    for rcpt in [
        "alice@example.org",
        "Alice+lists@example.org",
        "alice+nosuch@example.org",
        "bob",
    ] {
        client.expect(&format!("250 2.0.0 <{rcpt}> Saved"));
    }
    client.send("QUIT");
    client.expect("221 2.0.0 Bye");
    client.expect_closed();

    let copy = |to: &str| {
        format!(
            "Return-Path: <sender@example.net>\r\nDelivered-To: {to}\r\nSubject: hello\r\n\r\n\
             .a stuffed line\r\nlast\r\n"
        )
    };
    assert_eq!(
        messages(&server, "alice", "INBOX"),
        [copy("alice@example.org"), copy("alice+nosuch@example.org")]
    );
    assert_eq!(
        messages(&server, "alice", "lists"),
        [copy("Alice+lists@example.org")]
    );
    assert_eq!(messages(&server, "bob", "INBOX"), [copy("bob")]);
}

#[test]
fn pipelined_commands_are_answered_in_order_and_idle_sees_the_delivery() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let mut idle = LineClient::imap_login(server.imap, "bob", "pw");
    idle.imap_ok("SELECT INBOX");
    idle.send("i1 IDLE");
    idle.expect_prefix("+ ");

    let mut client = LineClient::connect(server.lmtp);
    client.expect_prefix("220 ");
    client.send_bytes(
        b"LHLO a\r\nMAIL FROM:<>\r\nRCPT TO:<nobody>\r\nRCPT TO:<bob@x>\r\nNOOP\r\nDATA\r\n",
    );
    let lhlo = replies(&mut client);
    assert_eq!(lhlo.last().map(String::as_str), Some("250 CHUNKING"));
    for want in [
        "250 2.1.0 Ok",
        "550 5.1.1 <nobody> User unknown",
        "250 2.1.5 Ok",
        "250 2.0.0 Ok",
        "354 Start mail input; end with <CRLF>.<CRLF>",
    ] {
        client.expect(want);
    }
    client.send_bytes(b"Subject: push\r\n\r\nbody\r\n.\r\nRSET\r\nQUIT\r\n");
    client.expect("250 2.0.0 <bob@x> Saved");
    client.expect("250 2.0.0 Ok");
    client.expect("221 2.0.0 Bye");
    idle.expect("* 1 EXISTS");
    idle.expect("* 1 RECENT");
    idle.send("DONE");
    idle.expect("i1 OK IDLE terminated");
}

#[test]
fn bdat_chunks_make_one_message_and_a_refused_chunk_is_still_read() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let (mut client, _) = lhlo(&server);
    // Without a recipient the chunk is read and dropped, then refused.
    client.send_bytes(b"MAIL FROM:<s@x>\r\nBDAT 6 LAST\r\nA: b\r\n");
    client.expect("250 2.1.0 Ok");
    client.expect("503 5.5.1 No valid recipients");
    client.send("RSET");
    client.expect("250 2.0.0 Ok");
    client.send_bytes(b"MAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\n");
    client.expect("250 2.1.0 Ok");
    client.expect("250 2.1.5 Ok");
    // A chunk's bytes are the message's as they are: no dot-stuffing, any line.
    client.send_bytes(b"BDAT 14\r\nSubject: c\r\n\r\n");
    client.expect("250 2.0.0 14 octets received");
    client.send_bytes(b"BDAT 10 LAST\r\n.\r\nend\r\n\r\n");
    client.expect("250 2.0.0 <alice> Saved");
    client.send("BDAT x");
    client.expect("501 5.5.4 Invalid chunk size");
    client.expect_closed();
    assert_eq!(
        messages(&server, "alice", "INBOX"),
        ["Return-Path: <s@x>\r\nDelivered-To: alice\r\nSubject: c\r\n\r\n.\r\nend\r\n\r\n"]
    );
}

#[test]
fn a_message_over_size_is_refused_at_mail_or_after_its_data() {
    let env = Env::with_imap_settings("max_message_size = 1000");
    accounts(&env);
    let server = env.serve(&[]);
    let (mut client, extensions) = lhlo(&server);
    assert!(
        extensions.contains(&"250-SIZE 1000".to_owned()),
        "{extensions:?}"
    );
    client.send("MAIL FROM:<s@x> SIZE=1001");
    client.expect("552 5.3.4 Message too big");
    client.send("MAIL FROM:<s@x> SIZE=1000");
    client.expect("250 2.1.0 Ok");
    client.send("RCPT TO:<alice>");
    client.expect("250 2.1.5 Ok");
    client.send("RCPT TO:<bob>");
    client.expect("250 2.1.5 Ok");
    client.send("DATA");
    client.expect_prefix("354 ");
    let line = format!("{}\r\n", "x".repeat(98));
    client.send_bytes(format!("Subject: big\r\n\r\n{}.\r\n", line.repeat(20)).as_bytes());
    client.expect("552 5.3.4 Message too big");
    client.expect("552 5.3.4 Message too big");
    client.send("NOOP");
    client.expect("250 2.0.0 Ok");
    assert!(messages(&server, "alice", "INBOX").is_empty());
}

#[test]
fn bad_commands_get_clear_replies_and_the_connection_goes_on() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let mut client = LineClient::connect(server.lmtp);
    client.expect_prefix("220 ");
    for (line, want) in [
        ("MAIL FROM:<a@b>", "503 5.5.1 Send LHLO first"),
        ("HELO x", "500 5.5.2 Command not recognized"),
        ("LHLO x", "250-"),
        ("RCPT TO:<alice>", "503 5.5.1 Send MAIL first"),
        ("DATA", "503 5.5.1 Send MAIL first"),
        (
            "MAIL FROM:<a@b> RET=FULL",
            "555 5.5.4 Unsupported parameter",
        ),
        ("MAIL FROM:a@b", "501 5.5.4 A path is written <address>"),
        ("MAIL FROM:<a@b>", "250 2.1.0 Ok"),
        ("MAIL FROM:<a@b>", "503 5.5.1 Nested MAIL command"),
        ("DATA", "503 5.5.1 No valid recipients"),
        ("RCPT TO:<a\u{e9}@b>", "501 5.5.4 Not printable ASCII"),
        (
            "VRFY alice",
            "252 2.5.2 Cannot verify the user; send the message",
        ),
    ] {
        client.send(line);
        if want.ends_with('-') {
            replies(&mut client);
        } else {
            client.expect(want);
        }
    }
    client.send(&"NOOP ".repeat(2000));
    client.expect("500 5.5.2 Line too long");
    client.send("NOOP");
    client.expect("250 2.0.0 Ok");
}

#[test]
fn recipients_are_bounded_and_many_are_delivered() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let (mut client, _) = lhlo(&server);
    client.send("MAIL FROM:<s@x>");
    client.expect("250 2.1.0 Ok");
    let all: String = (0..1001)
        .map(|i| format!("RCPT TO:<bob+{i}@x>\r\n"))
        .collect();
    client.send_bytes(all.as_bytes());
    for _ in 0..1000 {
        client.expect("250 2.1.5 Ok");
    }
    client.expect("452 4.5.3 Too many recipients");
    client.send("RSET");
    client.expect("250 2.0.0 Ok");
    client.send("MAIL FROM:<s@x>");
    client.expect("250 2.1.0 Ok");
    let some: String = (0..60)
        .map(|i| format!("RCPT TO:<alice+{i}>\r\n"))
        .collect();
    client.send_bytes(some.as_bytes());
    for _ in 0..60 {
        client.expect("250 2.1.5 Ok");
    }
    client.send_bytes(b"DATA\r\n");
    client.expect_prefix("354 ");
    client.send_bytes(b"Subject: many\r\n\r\nhi\r\n.\r\n");
    for i in 0..60 {
        client.expect(&format!("250 2.0.0 <alice+{i}> Saved"));
    }
    assert_eq!(messages(&server, "alice", "INBOX").len(), 60);
}

#[test]
fn a_client_that_never_ends_its_data_is_timed_out_and_nothing_is_stored() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve_with_env(&[], &[("MAILHIVE_TEST_LMTP_TIMEOUT_MS", "700")]);
    let (mut client, _) = lhlo(&server);
    client.send_bytes(b"MAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\nDATA\r\n");
    client.expect("250 2.1.0 Ok");
    client.expect("250 2.1.5 Ok");
    client.expect_prefix("354 ");
    client.send_bytes(b"Subject: never ends\r\n\r\nsome text");
    client.expect("421 4.4.2 Idle for too long, closing connection");
    client.expect_closed();
    assert!(messages(&server, "alice", "INBOX").is_empty());
}

#[test]
fn a_saved_message_survives_sigkill_right_after_its_reply() {
    let env = Env::new();
    accounts(&env);
    let server = env.serve(&[]);
    let (mut client, _) = lhlo(&server);
    client.send_bytes(b"MAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\nDATA\r\n");
    client.expect("250 2.1.0 Ok");
    client.expect("250 2.1.5 Ok");
    client.expect_prefix("354 ");
    client.send_bytes(b"Subject: durable\r\n\r\nkept\r\n.\r\n");
    client.expect("250 2.0.0 <alice> Saved");
    server.kill();
    let server = env.serve(&[]);
    assert_eq!(
        messages(&server, "alice", "INBOX"),
        ["Return-Path: <s@x>\r\nDelivered-To: alice\r\nSubject: durable\r\n\r\nkept\r\n"]
    );
}

#[test]
fn the_unix_socket_delivers_and_connections_are_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("lmtp.sock");
    let env = Env::with_lmtp(&format!(
        "socket = {:?}\nmax_connections = 1",
        path.display().to_string()
    ));
    accounts(&env);
    let server = env.serve(&[]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);

    let first = std::os::unix::net::UnixStream::connect(&path).expect("connect");
    first
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut reader = std::io::BufReader::new(first.try_clone().expect("clone"));
    let mut writer = first;
    let mut line = || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).expect("read");
        line.trim_end().to_owned()
    };
    assert!(line().starts_with("220 "));
    // The Limiter counts it, as it counts IMAP's and POP3's.
    assert_eq!(server.counts().lmtp_connections, 1);
    // One connection is open: the next one, on TCP, is told so and closed.
    let mut second = LineClient::connect(server.lmtp);
    second.expect("421 4.3.2 Too many connections to this server");
    second.expect_closed();
    std::io::Write::write_all(
        &mut writer,
        b"LHLO a\r\nMAIL FROM:<s@x>\r\nRCPT TO:<bob>\r\nDATA\r\n",
    )
    .expect("send");
    while line() != "250 CHUNKING" {}
    assert_eq!(line(), "250 2.1.0 Ok");
    assert_eq!(line(), "250 2.1.5 Ok");
    assert!(line().starts_with("354 "));
    std::io::Write::write_all(&mut writer, b"Subject: unix\r\n\r\nhi\r\n.\r\n").expect("send");
    assert_eq!(line(), "250 2.0.0 <bob> Saved");
    assert_eq!(messages(&server, "bob", "INBOX").len(), 1);
    drop((reader, writer));
    let counts = server.counts_until(|c| c.lmtp_connections == 0);
    assert!(counts.is_idle(), "counters left: {counts:?}");
}
