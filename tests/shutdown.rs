//! Graceful shutdown over real sockets: on SIGTERM the listeners close, running
//! commands finish, IMAP sessions hear `* BYE [UNAVAILABLE]`, POP3 sessions are closed
//! without UPDATE, and the process exits 0 within 10 s with everything acknowledged on
//! disk — also when a client does not read.

use crate::harness::{Env, LineClient, Server};
use mailhive_store::{MailboxName, Username};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const BYE: &str = "* BYE [UNAVAILABLE] Server shutting down";

/// The UIDs in `user`'s INBOX, read from the store (the server must have exited).
fn inbox_uids(env: &Env, user: &str) -> Vec<u32> {
    let store = env.store();
    let inbox = store
        .mailbox(&Username::parse(user).unwrap(), &MailboxName::inbox())
        .unwrap()
        .unwrap();
    store.uids(inbox.id).unwrap()
}

/// Waits for the server to exit after the signal sent at `signalled`: it must exit 0
/// within 10 s; returns how long it took.
fn exits_cleanly(server: &mut Server, signalled: Instant) -> Duration {
    let status = server.wait_exit(Duration::from_secs(11));
    let took = signalled.elapsed();
    let status = status.expect("the server still runs 11 s after SIGTERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(10), "exit took {took:?}");
    took
}

fn refused(addr: SocketAddr) {
    let connected = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
    assert!(
        connected.is_err(),
        "a new connection to {addr} was accepted during shutdown"
    );
}

/// A selected session, one in IDLE and one in the middle of a FETCH each get the BYE
/// (the FETCH first finishes), new connections are refused, and an APPEND acknowledged
/// just before the signal is in the store afterwards.
#[test]
fn sigterm_says_bye_after_running_commands_and_keeps_what_was_acknowledged() {
    let env = Env::new();
    env.add_user("ann", "pw");
    env.import("ann", "pop3.mbox");
    // Every FETCH first waits a second: long enough to be running at the signal.
    let mut server = env.serve_with_env(&[], &[("MAILHIVE_TEST_WORK_DELAY_MS", "1000")]);
    let selected = || {
        let mut client = LineClient::imap_login(server.imap, "ann", "pw");
        client.imap_ok("SELECT INBOX");
        client
    };
    let (mut quiet, mut idling, mut fetching) = (selected(), selected(), selected());
    idling.send("i IDLE");
    idling.expect("+ idling");
    quiet.send_bytes(b"a APPEND INBOX {20+}\r\nSubject: new\r\n\r\nhi\r\n\r\n");
    assert!(quiet.answer("a").1.starts_with("a OK [APPENDUID "));
    fetching.send("f FETCH 1:* (FLAGS)");
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    server.signal("TERM");
    for client in [&mut quiet, &mut idling] {
        let line = client.line();
        // The IDLE session may first hear of the APPEND.
        let line = match line.as_deref() {
            Some(l) if l.ends_with(" EXISTS") || l.ends_with(" RECENT") => client.line(),
            _ => line,
        };
        assert_eq!(line.as_deref(), Some(BYE));
        client.expect_closed();
    }
    let (fetched, done) = fetching.answer("f");
    assert_eq!(done, "f OK FETCH completed");
    // The three messages it had selected (the APPEND is announced after them).
    assert!(fetched.iter().filter(|l| l.contains(" FETCH (")).count() >= 3);
    fetching.expect(BYE);
    fetching.expect_closed();
    refused(server.imap);
    refused(server.pop3);
    exits_cleanly(&mut server, signalled);
    assert_eq!(inbox_uids(&env, "ann"), [1, 2, 3, 4]);
}

/// A POP3 session with deletions pending is closed without UPDATE: nothing is removed.
#[test]
fn sigterm_closes_pop3_sessions_without_update() {
    let env = Env::new();
    env.add_user("bob", "pw");
    env.import("bob", "pop3.mbox");
    let mut server = env.serve(&[]);
    let mut pop3 = LineClient::connect(server.pop3);
    pop3.expect_prefix("+OK");
    pop3.send("USER bob");
    pop3.expect_prefix("+OK");
    pop3.send("PASS pw");
    pop3.expect_prefix("+OK");
    pop3.send("DELE 1");
    pop3.expect("+OK message 1 deleted");
    let signalled = Instant::now();
    server.signal("TERM");
    pop3.expect("-ERR [SYS/TEMP] Server shutting down");
    pop3.expect_closed();
    exits_cleanly(&mut server, signalled);
    assert_eq!(inbox_uids(&env, "bob"), [1, 2, 3]);
    let mut again = env.serve(&[]);
    let mut pop3 = LineClient::connect(again.pop3);
    pop3.expect_prefix("+OK");
    pop3.send("USER bob");
    pop3.expect_prefix("+OK");
    pop3.send("PASS pw");
    pop3.expect("+OK bob's maildrop has 3 messages (289 octets)");
    drop(pop3);
    let signalled = Instant::now();
    again.signal("INT");
    exits_cleanly(&mut again, signalled);
}

/// A client that floods commands and never reads keeps its session busy: it cannot take
/// the goodbye, and the process exits at the deadline anyway; a reading client still
/// gets its BYE at once.
#[test]
fn a_client_that_does_not_read_does_not_hold_the_shutdown() {
    let env = Env::new();
    env.add_user("ann", "pw");
    let mut server = env.serve(&[]);
    let flood = LineClient::imap_login(server.imap, "ann", "pw").flood("a CAPABILITY");
    let mut idling = LineClient::imap_login(server.imap, "ann", "pw");
    idling.imap_ok("SELECT INBOX");
    idling.send("i IDLE");
    idling.expect("+ idling");
    // Long enough for the flood to fill the socket buffers and block its session.
    std::thread::sleep(Duration::from_secs(2));
    let signalled = Instant::now();
    server.signal("TERM");
    idling.expect(BYE);
    idling.expect_closed();
    assert!(signalled.elapsed() < Duration::from_secs(2));
    let took = exits_cleanly(&mut server, signalled);
    assert!(took >= Duration::from_secs(8), "exited after {took:?}");
    let (cut, _) = flood.join().expect("the flooding thread");
    assert!(cut - signalled < Duration::from_secs(11));
}
