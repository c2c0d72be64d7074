//! What a hostile client cannot make the server hold or compute: literals before login,
//! FETCH answers built in bounded pieces, SEARCH cost, and the work a change costs
//! sessions that watch the mailbox. Each test shows its bound over a real socket.

use crate::harness::{Env, LineClient, Server};
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The highest RSS of `server` while `work` runs, in KiB above what it was before.
pub(crate) fn peak_growth_kib(server: &Server, work: impl FnOnce() + Send) -> u64 {
    let before = server.rss_kib();
    let mut peak = before;
    std::thread::scope(|scope| {
        let running = scope.spawn(work);
        while !running.is_finished() {
            peak = peak.max(server.rss_kib());
            std::thread::sleep(Duration::from_millis(20));
        }
        running.join().expect("the work panicked");
    });
    peak.max(server.rss_kib()).saturating_sub(before)
}

/// A message of exactly `size` bytes of text lines, ending with CRLF.
pub(crate) fn message_of(size: usize) -> Vec<u8> {
    let line = "0123456789 ".repeat(9) + "\r\n";
    let mut message = b"Subject: big\r\n\r\n".to_vec();
    while message.len() + line.len() <= size {
        message.extend_from_slice(line.as_bytes());
    }
    message.resize(size - 2, b'.');
    message.extend_from_slice(b"\r\n");
    message
}

/// APPENDs `message` to INBOX with a non-synchronising literal.
pub(crate) fn append(client: &mut LineClient, message: &[u8]) {
    client.send(&format!("a APPEND INBOX {{{}+}}", message.len()));
    client.send_bytes(message);
    client.send("");
    client.expect_prefix("a OK [APPENDUID");
}

/// Before login a literal is taken only where the grammar has one (LOGIN, ID): APPEND's
/// is refused without `+`, and ten connections streaming 20 MB each into
/// non-synchronising literals make the server hold nothing of it.
#[test]
fn literals_before_login_are_refused_and_never_held() {
    let env = Env::new();
    env.add_user("ann", "pw");
    let server = env.serve(&[]);
    let mut client = LineClient::connect(server.imap);
    client.expect_prefix("* OK ");
    client.send("a APPEND INBOX {60000000}");
    client.expect_prefix("a BAD Log in first");
    client.send("b NOOP");
    client.expect("b OK NOOP completed");
    const MB: usize = 1024 * 1024;
    let grown = peak_growth_kib(&server, || {
        std::thread::scope(|scope| {
            for _ in 0..10 {
                scope.spawn(|| {
                    let mut stream = TcpStream::connect(server.imap).expect("connect");
                    stream
                        .write_all(b"x APPEND INBOX {20971520+}\r\n")
                        .expect("announce");
                    let chunk = vec![b'm'; MB];
                    for _ in 0..20 {
                        stream.write_all(&chunk).expect("stream the literal");
                    }
                    stream.write_all(b"\r\ny NOOP\r\n").expect("end");
                    let mut client = LineClient::from_stream(stream);
                    client.expect_prefix("* OK ");
                    client.expect_prefix("x BAD Log in first");
                    client.expect("y OK NOOP completed");
                });
            }
        });
    });
    eprintln!("10 x 20 MB of pre-login literals: RSS grew {grown} KiB");
    assert!(grown < 30 * 1024, "the server grew by {grown} KiB");
    // LOGIN still takes its literals.
    client.send("c LOGIN {3}");
    client.expect("+ Ready for literal");
    client.send("ann {2}");
    client.expect("+ Ready for literal");
    client.send("pw");
    client.expect_prefix("c OK ");
    let started = Instant::now();
    client.send("d APPEND INBOX {5}");
    client.expect("+ Ready for literal");
    client.send("hello");
    client.expect_prefix("d OK [APPENDUID");
    assert!(started.elapsed() < Duration::from_secs(5));
    server.stop();
}

/// `FETCH 1 (BODY.PEEK[] × 400)` of a 1,000,000-byte message: the answer (400 MB) is
/// built in pieces of about 256 KiB and sent as the client reads, so a client that
/// reads late makes the server hold a few MiB, not the answer.
#[test]
fn a_fetch_answer_is_built_in_bounded_pieces() {
    let env = Env::new();
    env.add_user("ben", "pw");
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, "ben", "pw");
    append(&mut client, &message_of(1_000_000));
    client.send("b SELECT INBOX");
    while !client.line().expect("SELECT answer").starts_with("b OK") {}
    let items = vec!["BODY.PEEK[]"; 400].join(" ");
    let (held, received) =
        fetch_left_unread(&server, client.into_stream(), &format!("1 ({items})"));
    eprintln!("FETCH of 400 x 1 MB unread for 2 s: the server held {held} KiB more");
    assert!(received > 400 * 1_000_000, "only {received} bytes");
    assert!(held < 24 * 1024, "the server held {held} KiB of the answer");
    server.stop();
}

/// Sends `count` STOREs on message 1, pipelined, and reads their answers.
fn toggle_flag(client: &mut LineClient, count: usize) {
    let mut commands = String::new();
    for i in 0..count {
        let sign = if i % 2 == 0 { '+' } else { '-' };
        commands.push_str(&format!("t{i} STORE 1 {sign}FLAGS.SILENT (\\Flagged)\r\n"));
    }
    client.send_bytes(commands.as_bytes());
    for i in 0..count {
        let tag = format!("t{i}");
        assert!(client.answer(&tag).1.starts_with(&format!("{tag} OK")));
    }
}

/// Changes others make while a session waits between commands are merged, one entry
/// per message: 2,001 flag changes reach it as one FETCH.
#[test]
fn changes_waiting_for_a_session_are_merged() {
    let env = Env::new();
    env.add_user("cy", "pw");
    env.import("cy", "pop3.mbox");
    let server = env.serve(&[]);
    let mut idle = LineClient::imap_login(server.imap, "cy", "pw");
    idle.imap_ok("SELECT INBOX");
    let mut busy = LineClient::imap_login(server.imap, "cy", "pw");
    busy.imap_ok("SELECT INBOX");
    toggle_flag(&mut busy, 2001);
    let seen = idle.imap_ok("NOOP");
    assert_eq!(
        seen,
        vec!["* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))".to_owned()]
    );
    server.stop();
}

/// A session stuck behind a client that does not read (here in a 20 MB FETCH answer)
/// is not sent changes without bound: once its queue of 1,024 is full the Mailbox
/// actor drops it, and the session ends with a BYE when its command ends.
#[test]
fn a_session_that_falls_behind_its_mailbox_is_ended() {
    let env = Env::new();
    env.add_user("dy", "pw");
    let server = env.serve(&[]);
    let mut busy = LineClient::imap_login(server.imap, "dy", "pw");
    append(&mut busy, &message_of(1_000_000));
    busy.imap_ok("SELECT INBOX");
    let mut slow = LineClient::imap_login(server.imap, "dy", "pw");
    slow.imap_ok("SELECT INBOX");
    let items = vec!["BODY.PEEK[]"; 20].join(" ");
    let mut stuck = slow.into_stream();
    stuck
        .write_all(format!("f FETCH 1 ({items})\r\n").as_bytes())
        .expect("send FETCH");
    std::thread::sleep(Duration::from_millis(500));
    toggle_flag(&mut busy, 1100);
    let mut answer = Vec::new();
    std::io::Read::read_to_end(&mut stuck, &mut answer).expect("read to the end");
    let tail = String::from_utf8_lossy(&answer[answer.len().saturating_sub(200)..]).into_owned();
    assert!(
        tail.ends_with(
            "f OK FETCH completed\r\n* BYE [UNAVAILABLE] The mailbox changed faster than \
             this session could be told\r\n"
        ),
        "{tail:?}"
    );
    server.stop();
}

/// APPEND literals over 1 MiB go to the spool as they arrive: ten 20 MB uploads in
/// flight make the server hold a few MiB, not 200; a client that goes away mid-upload
/// leaves no file behind, and the others' messages arrive whole.
#[test]
fn large_append_literals_are_spooled_not_held() {
    const SIZE: usize = 20 * 1024 * 1024;
    let env = Env::new();
    env.add_user("ed", "pw");
    let server = env.serve(&[]);
    let spool = env.data().join("spool");
    let message = message_of(SIZE);
    let nine_tenths = SIZE / 10 * 9;
    let mut uploads: Vec<LineClient> = (0..10)
        .map(|_| {
            let mut client = LineClient::imap_login(server.imap, "ed", "pw");
            client.send(&format!("u APPEND INBOX {{{SIZE}}}"));
            client.expect("+ Ready for literal");
            client
        })
        .collect();
    let before = server.rss_kib();
    for client in &mut uploads {
        client.send_bytes(&message[..nine_tenths]);
    }
    // Every upload is in flight: its bytes are on disk, not in the server.
    let spooled = || std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while spooled() < 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let held = server.rss_kib().saturating_sub(before);
    eprintln!("10 x 18 MB of APPEND literals in flight: RSS grew {held} KiB");
    assert_eq!(spooled(), 10);
    assert!(
        held < 40 * 1024,
        "the server held {held} KiB of the uploads"
    );
    // One goes away mid-upload: its file goes with it.
    drop(uploads.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    while spooled() > 9 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(spooled(), 9);
    for client in &mut uploads {
        client.send_bytes(&message[nine_tenths..]);
        client.send("");
    }
    for client in &mut uploads {
        let done = client.answer("u").1;
        let log = std::fs::read_to_string(env.dir.path().join("server.log")).unwrap_or_default();
        assert!(done.starts_with("u OK [APPENDUID"), "{done}: {log}");
    }
    assert_eq!(spooled(), 0);
    let mut check = LineClient::imap_login(server.imap, "ed", "pw");
    check.imap_ok("SELECT INBOX");
    let sizes = check.imap_ok("FETCH 1:* RFC822.SIZE");
    assert_eq!(sizes.len(), 9, "{sizes:?}");
    assert!(
        sizes
            .iter()
            .all(|l| l.ends_with(&format!("RFC822.SIZE {SIZE})"))),
        "{sizes:?}"
    );
    server.stop();
}

/// Sends `FETCH what` (tagged `f`) on `stream` and leaves the answer unread for 2 s,
/// then reads all of it: how much the server's RSS grew meanwhile (KiB), and how many
/// bytes the answer had.
pub(crate) fn fetch_left_unread(server: &Server, mut stream: TcpStream, what: &str) -> (u64, u64) {
    stream
        .write_all(format!("f FETCH {what}\r\n").as_bytes())
        .expect("send FETCH");
    let before = server.rss_kib();
    std::thread::sleep(Duration::from_secs(2));
    let held = server.rss_kib().saturating_sub(before);
    let mut received = 0u64;
    let mut tail = Vec::new();
    let mut buf = vec![0; 1 << 20];
    let end = b"f OK FETCH completed\r\n";
    while !tail.ends_with(end) {
        let n = std::io::Read::read(&mut stream, &mut buf).expect("read the answer");
        assert!(n > 0, "the server closed after {received} bytes");
        received += n as u64;
        tail.extend_from_slice(&buf[..n]);
        tail.drain(..tail.len().saturating_sub(end.len()));
    }
    (held, received)
}
