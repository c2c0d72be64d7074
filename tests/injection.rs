//! Responses cannot be injected: CR, LF, NUL and 8-bit bytes sent to every command that
//! echoes what it was given (as literals where IMAP allows them, quoted or raw where it
//! does not) come back encoded or not at all, and every response line stays well formed.

use crate::harness::Env;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What a client tries to smuggle in: a line of its own after a break.
const PAYLOADS: [&[u8]; 6] = [
    b"x\r\n* BYE injected",
    b"x\n* BYE injected",
    b"x\r* BYE injected",
    b"x\0* BYE injected",
    b"x\xc3\xa9\xff* BYE injected",
    b"x\r\nc99 OK injected",
];

/// No failed login slows or locks out the test's own logins.
const SETTINGS: &str = "max_failed_logins = 1000\nmax_login_failures_from_single_ip = 1000\n\
                        max_login_failures_per_user = 1000\nlogin_failure_delay = 0";

/// A connection that reads responses byte by byte, literals apart.
struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Raw {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// One CRLF-terminated line, checked: no bare CR or LF, no NUL, no 8-bit byte.
    fn line(&mut self, context: &str) -> Vec<u8> {
        let mut line = Vec::new();
        let n = self.reader.read_until(b'\n', &mut line).expect("read");
        assert!(n > 0, "{context}: the server closed the connection");
        let text = line
            .strip_suffix(b"\r\n")
            .unwrap_or_else(|| panic!("{context}: bare LF in {:?}", line.escape_ascii()));
        assert!(
            text.iter()
                .all(|&b| (0x20..0x7f).contains(&b) || b == b'\t'),
            "{context}: control or 8-bit byte in {:?}",
            line.escape_ascii().to_string()
        );
        text.to_vec()
    }

    /// One IMAP response: its text with each literal's payload left out (the literal
    /// itself is read, whatever it holds).
    fn response(&mut self, context: &str) -> String {
        let mut text = Vec::new();
        loop {
            let line = self.line(context);
            text.extend_from_slice(&line);
            let size = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| l.strip_suffix('}'))
                .and_then(|l| l.rsplit_once('{'))
                .and_then(|(_, n)| n.parse::<usize>().ok());
            let Some(size) = size else { break };
            let mut literal = vec![0; size];
            self.reader.read_exact(&mut literal).expect("literal");
        }
        String::from_utf8(text).expect("ASCII")
    }

    /// Sends a command (without CRLF) and checks every response up to the tagged one:
    /// each starts with `*`, `+` or the tag, and none is a line the client wrote.
    fn imap(&mut self, tag: &str, command: &[u8]) -> String {
        let mut bytes = format!("{tag} ").into_bytes();
        bytes.extend_from_slice(command);
        bytes.extend_from_slice(b"\r\n");
        self.send(&bytes);
        let context = format!("{:?}", bytes.escape_ascii().to_string());
        loop {
            let response = self.response(&context);
            assert!(
                !response.contains("injected"),
                "{context}: injected {response:?}"
            );
            if let Some(rest) = response.strip_prefix(&format!("{tag} ")) {
                return rest.to_owned();
            }
            // A raw line break makes the rest a command of its own, with an answer
            // of its own (`c99 BAD …`), just not the one the payload spells.
            assert!(
                response.starts_with("* ") || response.starts_with('+') || tagged(&response),
                "{context}: malformed {response:?}"
            );
        }
    }
}

/// Whether `response` starts with a tag and a space.
fn tagged(response: &str) -> bool {
    response.split_once(' ').is_some_and(|(tag, _)| {
        !tag.is_empty()
            && tag
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"(){%*\"\\+".contains(&b))
    })
}

/// `{n+}` CRLF and the bytes: a non-synchronising literal.
fn literal(bytes: &[u8]) -> Vec<u8> {
    let mut out = format!("{{{}+}}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out
}

/// `"…"` with the bytes as they are (the parser refuses CR, LF and NUL in them).
fn quoted(bytes: &[u8]) -> Vec<u8> {
    [b"\"", bytes, b"\""].concat()
}

/// Every command whose answer may echo an argument, with `s` as that argument.
fn imap_commands(s: &[u8]) -> Vec<Vec<u8>> {
    let cat = |parts: &[&[u8]]| parts.concat();
    vec![
        cat(&[b"LISTRIGHTS INBOX ", s]),
        cat(&[b"SETACL INBOX ", s, b" lr"]),
        cat(&[b"SETACL INBOX bob ", s]),
        cat(&[b"DELETEACL INBOX ", s]),
        cat(&[b"GETACL ", s]),
        cat(&[b"MYRIGHTS ", s]),
        cat(&[b"STATUS ", s, b" (MESSAGES)"]),
        cat(&[b"CREATE ", s]),
        cat(&[b"DELETE ", s]),
        cat(&[b"RENAME ", s, b" ", s]),
        cat(&[b"SUBSCRIBE ", s]),
        cat(&[b"LIST \"\" ", s]),
        cat(&[b"LIST ", s, b" *"]),
        cat(&[b"LSUB \"\" ", s]),
        cat(&[b"APPEND ", s, b" {3+}\r\nhi!"]),
        cat(&[b"ID (\"name\" ", s, b")"]),
        cat(&[b"ID (", s, b" \"x\")"]),
        cat(&[b"ENABLE ", s]),
        cat(&[b"SEARCH CHARSET ", s, b" ALL"]),
        cat(&[b"SEARCH HEADER ", s, b" x"]),
        cat(&[b"SEARCH SUBJECT ", s]),
        cat(&[b"SEARCH KEYWORD ", s]),
        cat(&[b"FETCH 1 (BODY.PEEK[HEADER.FIELDS (", s, b")])"]),
        cat(&[b"STORE 1 +FLAGS (", s, b")"]),
        cat(&[b"COPY 1 ", s]),
        cat(&[b"EXAMINE ", s]),
        cat(&[b"SELECT ", s]),
    ]
}

#[test]
fn imap_echoes_nothing_raw() {
    let env = Env::with_settings(SETTINGS, SETTINGS);
    env.add_user("alice", "pw");
    env.add_user("bob", "pw");
    let server = env.serve(&[]);

    // The reported case, with a synchronising literal.
    let mut client = Raw::connect(server.imap);
    let _ = client.response("greeting");
    assert!(client.imap("l", b"LOGIN alice pw").starts_with("OK"));
    client.send(b"a LISTRIGHTS INBOX {17}\r\n");
    assert!(client.response("continuation").starts_with('+'));
    client.send(b"x\r\n* BYE injected\r\n");
    let mut answer = Vec::new();
    loop {
        let response = client.response("LISTRIGHTS");
        answer.push(response.clone());
        if response.starts_with("a ") {
            break;
        }
        assert!(!response.contains("injected"), "{answer:?}");
    }
    assert_eq!(
        answer,
        [
            "* LISTRIGHTS \"INBOX\" {17} \"\" l r s w i p k x t e a",
            "a OK LISTRIGHTS completed"
        ]
    );

    assert!(client
        .imap("a", b"APPEND INBOX {15+}\r\nSubject: hi\r\n\r\n")
        .starts_with("OK"));
    assert!(client.imap("s", b"SELECT INBOX").starts_with("OK"));
    let forms = PAYLOADS
        .iter()
        .flat_map(|p| [literal(p), quoted(p), p.to_vec()]);
    for (i, form) in forms.enumerate() {
        for (j, command) in imap_commands(&form).iter().enumerate() {
            client.imap(&format!("t{i}x{j}"), command);
        }
        // Before login too, with a fresh connection each time.
        let mut fresh = Raw::connect(server.imap);
        let _ = fresh.response("greeting");
        fresh.imap("u", &[b"LOGIN ", &form[..], b" pw"].concat());
        fresh.imap("p", &[b"LOGIN alice ", &form[..]].concat());
        fresh.imap("i", &[b"ID (\"name\" ", &form[..], b")"].concat());
    }
    // A tag with such bytes.
    for payload in PAYLOADS {
        let mut bytes = payload.to_vec();
        bytes.extend_from_slice(b" NOOP\r\n");
        client.send(&bytes);
    }
    assert!(client.imap("n", b"NOOP").starts_with("OK"));
}

#[test]
fn pop3_echoes_nothing_raw() {
    let env = Env::with_settings(SETTINGS, SETTINGS);
    env.add_user("alice", "pw");
    let server = env.serve(&[]);
    let commands: [&[u8]; 12] = [
        b"USER ",
        b"PASS ",
        b"AUTH ",
        b"AUTH PLAIN ",
        b"APOP ",
        b"LIST ",
        b"RETR ",
        b"TOP 1 ",
        b"UIDL ",
        b"DELE ",
        b"",
        b"CAPA ",
    ];
    for payload in PAYLOADS {
        for (before_login, command) in [true, false]
            .into_iter()
            .flat_map(|b| commands.iter().map(move |c| (b, c)))
        {
            let mut client = Raw::connect(server.pop3);
            let context = format!("{:?} {:?}", command.escape_ascii(), payload.escape_ascii());
            assert!(client.line(&context).starts_with(b"+OK"));
            if !before_login {
                client.send(b"USER alice\r\nPASS pw\r\n");
                assert!(client.line(&context).starts_with(b"+OK"));
                assert!(client.line(&context).starts_with(b"+OK"));
            }
            client.send(&[command, payload, b"\r\nQUIT\r\n"].concat());
            // The answers to the line (or lines) sent, up to the QUIT's.
            loop {
                let line = client.line(&context);
                let line = String::from_utf8(line).expect("ASCII");
                assert!(!line.contains("injected"), "{context}: {line:?}");
                assert!(
                    line.starts_with("+OK") || line.starts_with("-ERR") || line.starts_with('+'),
                    "{context}: malformed {line:?}"
                );
                if line.contains("signing off") {
                    break;
                }
            }
        }
    }
}
