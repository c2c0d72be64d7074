//! No secrets in the log: with debug and trace logging on, passwords (typed, as
//! literals, in SASL base64) and message bodies never appear in what the server logs.

use crate::harness::{Env, LineClient};
use mailhive_protocol::sasl::encode_plain;

const USER: &str = "alice";
const PASSWORD: &str = "Tr0ub4dor-Zq7731";
const WRONG: &str = "Wr0ngHorse-Kx4410";
const MARKER: &str = "Xylophone-Marker-55203";

/// Sends one IMAP line that ends announcing a synchronising literal, waits for the
/// continuation, then sends the literal and the rest of the command.
fn with_literal(client: &mut LineClient, head: &str, literal: &[u8], rest: &str) {
    client.send(&format!("{head} {{{}}}", literal.len()));
    client.expect_prefix("+");
    client.send_bytes(literal);
    client.send(rest);
}

fn imap_logins(addr: std::net::SocketAddr) {
    let plain = encode_plain(USER, PASSWORD);
    let mut client = LineClient::connect(addr);
    client.expect_prefix("* OK ");
    let done = client.imap_status(&format!("LOGIN {USER} {WRONG}"));
    assert!(done.starts_with("NO "), "{done}");
    let done = client.imap_status(&format!("LOGIN {USER} {PASSWORD}"));
    assert!(done.starts_with("OK "), "{done}");
    let message = format!("Subject: hi\r\n\r\n{MARKER}\r\n");
    with_literal(&mut client, "s1 APPEND INBOX", message.as_bytes(), "");
    let (_, done) = client.answer("s1");
    assert!(done.contains(" OK "), "{done}");
    client.send(&format!("s2 APPEND INBOX {{{}+}}", message.len()));
    client.send(&message);
    let (_, done) = client.answer("s2");
    assert!(done.contains(" OK "), "{done}");

    let mut client = LineClient::connect(addr);
    client.expect_prefix("* OK ");
    with_literal(
        &mut client,
        &format!("l1 LOGIN {USER}"),
        PASSWORD.as_bytes(),
        "",
    );
    let (_, done) = client.answer("l1");
    assert!(done.contains(" OK "), "{done}");

    let mut client = LineClient::connect(addr);
    client.expect_prefix("* OK ");
    let done = client.imap_status(&format!("AUTHENTICATE PLAIN {plain}"));
    assert!(done.starts_with("OK "), "{done}");

    let mut client = LineClient::connect(addr);
    client.expect_prefix("* OK ");
    client.send("p1 AUTHENTICATE PLAIN");
    client.expect_prefix("+");
    client.send(&plain);
    let (_, done) = client.answer("p1");
    assert!(done.contains(" OK "), "{done}");
}

fn pop3_logins(addr: std::net::SocketAddr) {
    let plain = encode_plain(USER, PASSWORD);
    let mut client = LineClient::connect(addr);
    client.expect_prefix("+OK");
    client.send(&format!("USER {USER}"));
    client.expect_prefix("+OK");
    client.send(&format!("PASS {WRONG}"));
    client.expect_prefix("-ERR");
    client.send(&format!("USER {USER}"));
    client.expect_prefix("+OK");
    client.send(&format!("PASS {PASSWORD}"));
    client.expect_prefix("+OK");
    client.send("QUIT");
    client.expect_prefix("+OK");

    let mut client = LineClient::connect(addr);
    client.expect_prefix("+OK");
    client.send(&format!("AUTH PLAIN {plain}"));
    client.expect_prefix("+OK");

    let mut client = LineClient::connect(addr);
    client.expect_prefix("+OK");
    client.send("AUTH PLAIN");
    client.expect_prefix("+");
    client.send(&plain);
    client.expect_prefix("+OK");
}

/// `bytes` as `Debug` writes a byte list, without the brackets: `84, 114, 48`.
fn byte_list(bytes: &[u8]) -> String {
    let list = format!("{bytes:?}");
    list.trim_matches(['[', ']']).to_owned()
}

#[test]
fn passwords_sasl_responses_and_messages_never_reach_the_log() {
    for level in ["debug", "trace"] {
        let env = Env::new();
        env.add_user(USER, PASSWORD);
        let server = env.serve_with_env(&[], &[("RUST_LOG", level)]);
        imap_logins(server.imap);
        pop3_logins(server.pop3);
        server.stop();
        let log = env.server_log();
        assert!(
            log.contains("imap login"),
            "{level}: nothing logged?\n{log}"
        );
        assert!(
            log.contains("pop3 login"),
            "{level}: nothing logged?\n{log}"
        );
        let plain = encode_plain(USER, PASSWORD);
        let wrong = encode_plain(USER, WRONG);
        for secret in [
            PASSWORD.to_owned(),
            WRONG.to_owned(),
            MARKER.to_owned(),
            plain.clone(),
            wrong,
            byte_list(PASSWORD.as_bytes()),
            byte_list(plain.as_bytes()),
            byte_list(MARKER.as_bytes()),
        ] {
            let lines: Vec<&str> = log.lines().filter(|l| l.contains(&secret)).collect();
            assert!(
                lines.is_empty(),
                "{level}: {secret:?} is in the log:\n{}",
                lines.join("\n")
            );
        }
    }
}
