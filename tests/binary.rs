//! BINARY (RFC 3516) over sockets: parts decoded from base64 and quoted-printable with
//! partial ranges, literal8 for NUL bytes, message/rfc822 parts and parts inside them,
//! invalid base64, parts that do not exist, `NO [UNKNOWN-CTE]` (never in the middle of
//! a message's FETCH), a large part decoded as it streams, and APPEND with a literal8
//! (also one large enough to be spooled).

use crate::hardening::peak_growth_kib;
use crate::harness::{Env, LineClient, Server};
use std::io::{Read, Write};
use std::net::TcpStream;

const QP: &[u8] = b"caf=C3=A9 =3D ok  \r\nsoft=\r\nbreak\r\n";
const WITH_NUL: &[u8] = b"\x00\x01binary\x00\xff\r\n";

/// A message with a quoted-printable part, a base64 part holding NUL bytes, an enclosed
/// message with a base64 part, invalid base64 and a part in x-uuencode (when `uuencode`).
fn message(uuencode: bool) -> Vec<u8> {
    let mut m = b"Subject: parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
    m.extend_from_slice(b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\n");
    m.extend_from_slice(QP);
    m.extend_from_slice(b"\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAFiaW5h\r\ncnkA/w0K\r\n");
    m.extend_from_slice(b"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Transfer-Encoding: base64\r\n\r\naW5uZXI=\r\n");
    m.extend_from_slice(b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\n!!aGk*=##\r\n");
    if uuencode {
        m.extend_from_slice(
            b"--b\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n`\r\nend\r\n",
        );
    }
    m.extend_from_slice(b"--b--\r\n");
    m
}

fn served() -> (Env, Server) {
    let env = Env::new();
    env.add_user("ann", "pw");
    let server = env.serve(&[]);
    (env, server)
}

/// A logged-in connection with INBOX selected, read byte for byte from now on.
fn selected(server: &Server, messages: &[Vec<u8>]) -> TcpStream {
    let mut client = LineClient::imap_login(server.imap, "ann", "pw");
    for m in messages {
        client.send(&format!("a APPEND INBOX {{{}+}}", m.len()));
        client.send_bytes(m);
        client.send("");
        client.expect_prefix("a OK [APPENDUID");
    }
    client.imap_ok("SELECT INBOX");
    client.into_stream()
}

/// Sends `t COMMAND` and returns the whole answer, the tagged line included.
fn exchange(stream: &mut TcpStream, command: &str) -> Vec<u8> {
    stream
        .write_all(format!("t {command}\r\n").as_bytes())
        .expect("send");
    let mut answer = Vec::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
        let body = answer.strip_suffix(b"\r\n").unwrap_or_default();
        let last = body.rsplit(|&b| b == b'\n').next().unwrap_or_default();
        if answer.ends_with(b"\r\n") && (last.starts_with(b"t ") || answer.starts_with(b"t ")) {
            return answer;
        }
    }
}

/// `item` followed by its value in `answer`: the literal's bytes, or the atom.
fn value<'a>(answer: &'a [u8], item: &str) -> &'a [u8] {
    let at = answer
        .windows(item.len() + 1)
        .position(|w| w == format!("{item} ").as_bytes())
        .unwrap_or_else(|| panic!("{item} not in {}", String::from_utf8_lossy(answer)));
    let rest = &answer[at + item.len() + 1..];
    let literal = rest.strip_prefix(b"~").unwrap_or(rest);
    if let Some(after) = literal.strip_prefix(b"{") {
        let close = after.iter().position(|&b| b == b'}').expect("literal size");
        let size: usize = std::str::from_utf8(&after[..close])
            .unwrap()
            .parse()
            .unwrap();
        return &after[close + 3..close + 3 + size];
    }
    let end = rest
        .iter()
        .position(|&b| b == b' ' || b == b')')
        .unwrap_or(rest.len());
    &rest[..end]
}

fn contains(answer: &[u8], text: &str) -> bool {
    answer.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn parts_come_decoded_with_their_sizes_and_partial_ranges() {
    let (_env, server) = served();
    let mut stream = selected(&server, &[message(false)]);
    let answer = exchange(
        &mut stream,
        "FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1] BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[2]<2.6>)",
    );
    let qp = "café = ok\r\nsoftbreak\r\n".as_bytes();
    assert_eq!(value(&answer, "BINARY[1]"), qp);
    assert_eq!(
        value(&answer, "BINARY.SIZE[1]"),
        qp.len().to_string().as_bytes()
    );
    assert_eq!(value(&answer, "BINARY[2]"), WITH_NUL);
    assert_eq!(value(&answer, "BINARY.SIZE[2]"), b"12");
    assert_eq!(value(&answer, "BINARY[2]<2>"), b"binary");
    // NUL bytes come as a literal8, text as a literal.
    assert!(
        contains(&answer, "BINARY[2] ~{12}\r\n"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(contains(&answer, "BINARY[2]<2> {6}\r\n"));
    assert!(contains(
        &answer,
        &format!("BINARY[1] {{{}}}\r\n", qp.len())
    ));
    assert!(answer.ends_with(b"t OK FETCH completed\r\n"));

    // A message/rfc822 part is the enclosed message as it is; its parts are decoded.
    let answer = exchange(
        &mut stream,
        "FETCH 1 (BINARY.PEEK[3] BINARY.PEEK[3.1] BINARY.SIZE[3.1])",
    );
    assert_eq!(
        value(&answer, "BINARY[3]"),
        b"Subject: inner\r\nContent-Transfer-Encoding: base64\r\n\r\naW5uZXI="
    );
    assert_eq!(value(&answer, "BINARY[3.1]"), b"inner");
    assert_eq!(value(&answer, "BINARY.SIZE[3.1]"), b"5");

    // Characters outside the base64 alphabet are ignored (RFC 2045 §6.8); a part that
    // does not exist is NIL, its size 0; BINARY[] is the message as BODY[] gives it.
    let answer = exchange(
        &mut stream,
        "FETCH 1 (BINARY.PEEK[4] BINARY.PEEK[9] BINARY.SIZE[9] BINARY.SIZE[])",
    );
    assert_eq!(value(&answer, "BINARY[4]"), b"hi");
    assert_eq!(value(&answer, "BINARY[9]"), b"NIL");
    assert_eq!(value(&answer, "BINARY.SIZE[9]"), b"0");
    assert_eq!(
        value(&answer, "BINARY.SIZE[]"),
        message(false).len().to_string().as_bytes()
    );

    // BINARY without PEEK sets \Seen; a section-binary takes part numbers only.
    let answer = exchange(&mut stream, "FETCH 1 (BINARY[4])");
    assert!(
        contains(&answer, "FLAGS (\\Seen"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let answer = exchange(&mut stream, "FETCH 1 (BINARY[1.TEXT])");
    assert!(
        answer.starts_with(b"t BAD "),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    server.stop();
}

/// An encoding mailhive cannot undo is `NO [UNKNOWN-CTE]`; the messages before are
/// answered whole and the one with the part is not begun.
#[test]
fn an_unknown_transfer_encoding_is_refused_before_its_message_is_begun() {
    let (_env, server) = served();
    let mut stream = selected(&server, &[message(false), message(true)]);
    let answer = exchange(&mut stream, "FETCH 1:2 (UID BINARY.PEEK[5])");
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("* 1 FETCH (UID 1 BINARY[5] NIL)\r\n"),
        "{text}"
    );
    assert!(!text.contains("* 2 FETCH"), "{text}");
    assert!(
        text.ends_with(
            "t NO [UNKNOWN-CTE] A part has a Content-Transfer-Encoding that cannot be decoded\r\n"
        ),
        "{text}"
    );
    let answer = exchange(&mut stream, "FETCH 2 (BINARY.SIZE[5])");
    assert!(String::from_utf8_lossy(&answer).starts_with("t NO [UNKNOWN-CTE]"));
    // BODY[] of the same part is its bytes as stored.
    let answer = exchange(&mut stream, "FETCH 2 (BODY.PEEK[5])");
    assert_eq!(value(&answer, "BODY[5]"), b"begin 644 x\r\n`\r\nend");
    server.stop();
}

/// A 3 MB attachment of every byte value, base64-encoded (4 MB): BINARY streams it
/// decoded from the store, whole or in part, as a literal8, holding a few MiB.
#[test]
fn a_large_base64_part_is_decoded_as_it_streams() {
    let (_env, server) = served();
    let bytes: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut m = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nsee attachment\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    mailhive_protocol::transfer::encode_base64_lines(&bytes, &mut m);
    m.extend_from_slice(b"\r\n--b--\r\n");
    let mut stream = selected(&server, &[m]);
    let mut answer = Vec::new();
    let grown = peak_growth_kib(&server, || {
        answer = exchange(
            &mut stream,
            "FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[2]<1000000.500000>)",
        );
    });
    assert_eq!(value(&answer, "BINARY.SIZE[2]"), b"3000000");
    assert!(contains(&answer, "BINARY[2] ~{3000000}\r\n"));
    assert!(
        value(&answer, "BINARY[2]") == bytes,
        "the part came back different"
    );
    assert!(value(&answer, "BINARY[2]<1000000>") == &bytes[1_000_000..1_500_000]);
    eprintln!("BINARY of a 4 MB base64 part: RSS grew {grown} KiB");
    assert!(grown < 24 * 1024, "the server grew by {grown} KiB");
    server.stop();
}

/// APPEND takes a literal8 (`~{n}`); parts that hold NUL bytes are stored base64, so
/// BODY[] never carries a NUL and BINARY[] gives the bytes back. A literal8 over 1 MiB
/// goes through the spool like any large APPEND.
#[test]
fn append_takes_a_literal8_small_or_spooled() {
    let (_env, server) = served();
    let mut client = LineClient::imap_login(server.imap, "ann", "pw");
    let header =
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n";
    // Every byte value but LF: a bare LF would come back as CRLF, BODY[]'s wire form.
    let body: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i % 251) as u8)
        .map(|b| if b == b'\n' { 0 } else { b })
        .collect();
    for size in [WITH_NUL.len(), body.len()] {
        let mut m = header.to_vec();
        m.extend_from_slice(if size == WITH_NUL.len() {
            WITH_NUL
        } else {
            &body
        });
        client.send(&format!("a APPEND INBOX ~{{{}}}", m.len()));
        client.expect("+ Ready for literal");
        client.send_bytes(&m);
        client.send("");
        client.expect_prefix("a OK [APPENDUID");
    }
    client.imap_ok("SELECT INBOX");
    let mut stream = client.into_stream();
    let answer = exchange(&mut stream, "FETCH 1 (BODY.PEEK[1] BINARY.PEEK[1])");
    assert_eq!(value(&answer, "BODY[1]"), b"AAFiaW5hcnkA/w==\r\n");
    assert_eq!(value(&answer, "BINARY[1]"), &WITH_NUL[..WITH_NUL.len() - 2]);
    let answer = exchange(
        &mut stream,
        "FETCH 2 (BINARY.SIZE[1] BINARY.PEEK[1]<1999990.100>)",
    );
    assert_eq!(value(&answer, "BINARY.SIZE[1]"), b"2000000");
    assert_eq!(value(&answer, "BINARY[1]<1999990>"), &body[1_999_990..]);
    let answer = exchange(&mut stream, "FETCH 2 (BODY.PEEK[1]<0.8>)");
    assert_eq!(value(&answer, "BODY[1]<0>"), b"AAECAwQF");
    server.stop();
}
