//! COMPRESS=DEFLATE (RFC 4978) over sockets: Python's imaplib and zlib over plain TCP,
//! STARTTLS and implicit TLS; commands pipelined behind COMPRESS; refusals (before
//! login, a second time, an unknown mechanism); the input bounds on the decompressed
//! stream (an over-long line, a decompression bomb); corrupt input; IDLE; and a FETCH
//! left unread.
//! Most tests talk to the server through [`compressed`], a relay that deflates what
//! the test writes and inflates what the server answers.

use crate::hardening::{append, fetch_left_unread, message_of, peak_growth_kib};
use crate::harness::{crlf, fixture, fixture_messages, Env, LineClient, Server};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn served() -> (Env, Server) {
    let env = Env::new();
    env.add_user("ann", "pw");
    env.import("ann", "corpus.mbox");
    let server = env.serve(&[]);
    (env, server)
}

/// Compressed bytes a relay moved each way.
#[derive(Default)]
struct Moved {
    sent: AtomicU64,
    received: AtomicU64,
}

/// A client whose connection to the server is compressed from now on: a relay deflates
/// what the client writes with `deflate` (a sync flush after each write) and inflates
/// what `server` sends. `deflate` may have compressed input already (pipelined behind
/// COMPRESS); the relay goes on with its stream.
fn compressed(server: TcpStream, deflate: DeflateEncoder<Vec<u8>>) -> (LineClient, Arc<Moved>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let near = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
    let (far, _) = listener.accept().expect("accept");
    let moved = Arc::new(Moved::default());
    let (mut up_from, mut up_to) = (
        far.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    let up_moved = moved.clone();
    std::thread::spawn(move || {
        let mut deflate = deflate;
        let mut buf = vec![0; 1 << 20];
        loop {
            let n = up_from.read(&mut buf).unwrap_or(0);
            if n == 0 {
                let _ = up_to.shutdown(Shutdown::Write);
                return;
            }
            deflate.write_all(&buf[..n]).expect("deflate");
            deflate.flush().expect("sync flush");
            let out = std::mem::take(deflate.get_mut());
            up_moved.sent.fetch_add(out.len() as u64, Ordering::Relaxed);
            if up_to.write_all(&out).is_err() {
                return;
            }
        }
    });
    let down_moved = moved.clone();
    let mut down_to = far;
    std::thread::spawn(move || {
        let mut inflate = DeflateDecoder::new(server);
        let mut buf = vec![0; 1 << 16];
        loop {
            let n = inflate.read(&mut buf).unwrap_or(0);
            down_moved
                .received
                .store(inflate.total_in(), Ordering::Relaxed);
            if n == 0 || down_to.write_all(&buf[..n]).is_err() {
                let _ = down_to.shutdown(Shutdown::Write);
                return;
            }
        }
    });
    (LineClient::from_stream(near), moved)
}

fn deflater() -> DeflateEncoder<Vec<u8>> {
    DeflateEncoder::new(Vec::new(), Compression::default())
}

/// Logs ann in and compresses the connection.
fn compressed_session(server: &Server) -> (LineClient, Arc<Moved>) {
    let mut client = LineClient::imap_login(server.imap, "ann", "pw");
    client.send("z COMPRESS DEFLATE");
    client.expect("z OK DEFLATE active");
    compressed(client.into_stream(), deflater())
}

/// Reads one line of `stream` a byte at a time, so that nothing after it is read.
fn plain_line(stream: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0];
    while !line.ends_with(b"\n") {
        stream.read_exact(&mut byte).expect("a line");
        line.push(byte[0]);
    }
    String::from_utf8_lossy(&line).trim_end().to_owned()
}

/// Python's imaplib over Python's zlib appends every fixture through a compressed
/// connection and fetches it back, over plain TCP, after STARTTLS and over implicit TLS;
/// it also checks that COMPRESS is offered only after login and refused a second time.
#[test]
fn imaplib_compresses_over_plain_tcp_starttls_and_implicit_tls() {
    let env = Env::new();
    env.add_user("ann", "pw");
    let server = env.serve(&[]);
    let script = fixture("../tests/clients/compress_session.py");
    let mut names: Vec<_> = std::fs::read_dir(fixture("mail"))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    let originals = fixture_messages();
    for (mode, addr) in [
        ("plain", server.imap),
        ("starttls", server.imap),
        ("imaps", server.imaps),
    ] {
        let out = env.dir.path().join(mode);
        std::fs::create_dir(&out).expect("output directory");
        let run = Command::new("python3")
            .arg(&script)
            .args([mode, "127.0.0.1", &addr.port().to_string(), "ann", "pw"])
            .arg(&out)
            .args(&names)
            .output()
            .expect("python3");
        assert!(
            run.status.success(),
            "{mode}: {}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        for (n, (name, raw)) in originals.iter().enumerate() {
            let fetched = std::fs::read(out.join(format!("{:04}.eml", n + 1))).expect("fetched");
            assert!(fetched == crlf(raw), "{mode}: {name} came back different");
        }
        // Each run appends the fixtures again: start the next one from an empty INBOX.
        let mut client = LineClient::imap_login(server.imap, "ann", "pw");
        client.imap_ok("SELECT INBOX");
        client.imap_ok("STORE 1:* +FLAGS.SILENT (\\Deleted)");
        client.imap_ok("CLOSE");
    }
    server.stop();
}

/// The commands a client pipelines behind COMPRESS, in the same packet, are read as
/// compressed input; the OK comes uncompressed, everything after it compressed.
#[test]
fn commands_pipelined_behind_compress_are_read_compressed() {
    let (_env, server) = served();
    let mut stream = LineClient::imap_login(server.imap, "ann", "pw").into_stream();
    let mut deflate = deflater();
    deflate
        .write_all(b"y SELECT INBOX\r\nx NOOP\r\n")
        .expect("deflate");
    deflate.flush().expect("sync flush");
    let mut packet = b"z COMPRESS DEFLATE\r\n".to_vec();
    packet.append(deflate.get_mut());
    stream.write_all(&packet).expect("send");
    assert_eq!(plain_line(&mut stream), "z OK DEFLATE active");
    let (mut client, _) = compressed(stream, deflate);
    let (untagged, done) = client.answer("y");
    assert!(done.starts_with("y OK [READ-WRITE]"), "{done}");
    assert!(untagged.iter().any(|l| l == "* 10 EXISTS"), "{untagged:?}");
    client.expect("x OK NOOP completed");
    server.stop();
}

/// COMPRESS before login, with another mechanism or without one is BAD; after login
/// it is offered, and once on, a second one is `NO [COMPRESSIONACTIVE]`.
#[test]
fn compress_runs_after_login_once_and_with_deflate_only() {
    let (_env, server) = served();
    let mut client = LineClient::connect(server.imap);
    let greeting = client.expect_prefix("* OK [CAPABILITY ");
    assert!(!greeting.contains("COMPRESS"), "{greeting}");
    client.send("a COMPRESS DEFLATE");
    client.expect("a BAD Log in first");
    client.send("b LOGIN ann pw");
    let logged_in = client.expect_prefix("b OK [CAPABILITY ");
    assert!(logged_in.contains(" COMPRESS=DEFLATE"), "{logged_in}");
    client.send("c COMPRESS LZ4");
    client.expect("c BAD Unknown compression mechanism");
    client.send("d COMPRESS");
    client.expect_prefix("d BAD ");
    client.send("e COMPRESS DEFLATE");
    client.expect("e OK DEFLATE active");
    let (mut client, _) = compressed(client.into_stream(), deflater());
    client.send("f COMPRESS DEFLATE");
    client.expect("f NO [COMPRESSIONACTIVE] DEFLATE compression is active already");
    client.send("g LOGOUT");
    client.expect("* BYE mailhive IMAP4rev1 server logging out");
    client.expect("g OK LOGOUT completed");
    client.expect_closed();
    server.stop();
}

/// A command line over MaxCommandSize inside the compressed stream gets the usual
/// `BAD [TOOBIG]`, and the session goes on.
#[test]
fn an_over_long_line_inside_the_compressed_stream_is_refused() {
    let (_env, server) = served();
    let (mut client, _) = compressed_session(&server);
    client.send(&format!("a NOOP {}", "x".repeat(20_000)));
    client.expect("a BAD [TOOBIG] Command line too long");
    client.send("b NOOP");
    client.expect("b OK NOOP completed");
    server.stop();
}

/// About a megabyte of compressed input that inflates to 1.25 GiB — a 256 MiB command
/// line and a 1 GiB APPEND literal over MaxMessageSize — is cut by the usual bounds as
/// it inflates: the server's memory stays where it was and the session goes on.
#[test]
fn a_decompression_bomb_is_cut_by_the_input_bounds() {
    let (_env, server) = served();
    let (mut client, moved) = compressed_session(&server);
    let mib = vec![b'x'; 1 << 20];
    let started = Instant::now();
    let grown = peak_growth_kib(&server, || {
        client.send_bytes(b"a NOOP ");
        for _ in 0..256 {
            client.send_bytes(&mib);
        }
        client.send("");
        client.expect("a BAD [TOOBIG] Command line too long");
        client.send("b APPEND INBOX {1073741824+}");
        for _ in 0..1024 {
            client.send_bytes(&mib);
        }
        client.send("");
        client.expect("b NO [TOOBIG] Message too large");
        client.send("c NOOP");
        client.expect("c OK NOOP completed");
    });
    let sent = moved.sent.load(Ordering::Relaxed);
    eprintln!(
        "1.25 GiB inflated from {sent} compressed bytes in {:?}: RSS grew {grown} KiB",
        started.elapsed()
    );
    assert!(sent < 4 << 20, "{sent} compressed bytes");
    assert!(grown < 16 * 1024, "the server grew by {grown} KiB");
    server.stop();
}

/// Input that is not deflate ends the connection with a BYE (compressed, like all
/// output after COMPRESS): a deflate stream cannot be resumed.
#[test]
fn corrupt_compressed_input_ends_the_connection_with_bye() {
    let (_env, server) = served();
    let mut client = LineClient::imap_login(server.imap, "ann", "pw");
    client.send("z COMPRESS DEFLATE");
    client.expect("z OK DEFLATE active");
    let mut stream = client.into_stream();
    stream
        .write_all(b"\xff\xff\xff\xff not deflate\r\n")
        .expect("send");
    let mut said = Vec::new();
    stream.read_to_end(&mut said).expect("read until closed");
    let mut bye = Vec::with_capacity(1024);
    flate2::Decompress::new(false)
        .decompress_vec(&said, &mut bye, flate2::FlushDecompress::Sync)
        .expect("a compressed answer");
    assert_eq!(bye, b"* BYE [PARSE] Invalid compressed input\r\n");
    server.stop();
}

/// IDLE on a compressed connection: another session's APPEND reaches it at once (the
/// writer flushes the compressor after each batch), and DONE ends it.
#[test]
fn idle_inside_compression_is_told_at_once() {
    let (_env, server) = served();
    let (mut client, _) = compressed_session(&server);
    client.imap_ok("SELECT INBOX");
    client.send("i IDLE");
    client.expect("+ idling");
    let mut other = LineClient::imap_login(server.imap, "ann", "pw");
    let appended = Instant::now();
    append(&mut other, b"Subject: new\r\n\r\nhello\r\n");
    client.expect("* 11 EXISTS");
    assert!(appended.elapsed() < Duration::from_secs(2));
    client.send("DONE");
    client.expect("* 11 RECENT");
    client.expect("i OK IDLE terminated");
    server.stop();
}

/// A 2,000,000-byte APPEND over a compressed connection (spooled as it inflates), then
/// `FETCH 11 (BODY.PEEK[] × 50)` of it left unread for 2 s: the compressed writer holds
/// as little as the plain one, and the whole answer arrives, compressed to under a third.
#[test]
fn a_compressed_fetch_answer_is_held_back_by_a_client_that_does_not_read() {
    let (_env, server) = served();
    let (mut client, moved) = compressed_session(&server);
    append(&mut client, &message_of(2_000_000));
    client.imap_ok("SELECT INBOX");
    let items = vec!["BODY.PEEK[]"; 50].join(" ");
    let (held, received) =
        fetch_left_unread(&server, client.into_stream(), &format!("11 ({items})"));
    let wire = moved.received.load(Ordering::Relaxed);
    eprintln!(
        "compressed FETCH of 50 x 2 MB unread for 2 s: held {held} KiB; {received} bytes as {wire}"
    );
    assert!(received > 50 * 2_000_000, "only {received} bytes");
    assert!(
        wire * 3 < received,
        "{received} bytes took {wire} on the wire"
    );
    assert!(held < 24 * 1024, "the server held {held} KiB of the answer");
    server.stop();
}
