//! Invalid SASL responses fail only their own exchange: garbage, over-long and
//! odd-length base64 in AUTHENTICATE PLAIN (with SASL-IR and after the continuation) and
//! in POP3 AUTH PLAIN get an error answer, the session goes on as before the command,
//! and another session on the server keeps working throughout.

use crate::harness::{Env, LineClient};
use mailhive_protocol::sasl::encode_plain;

/// Responses that are not a PLAIN message, each for its own reason.
fn garbage() -> Vec<String> {
    vec![
        "!!!!".into(),
        "Q".into(),
        "QQ".into(),
        "QQ=".into(),
        "QUJD=".into(),
        "====".into(),
        "A===".into(),
        "AGFsaWNlAHB3".trim_end_matches('=').to_owned() + "A",
        "AG Fs aWNl".into(),
        "AAAA".into(),
        // Decodes to bytes that are not UTF-8, and to a message without NULs.
        "AP8A/g==".into(),
        "bm9udWxz".into(),
        "A".repeat(4097),
        "QUJD".repeat(20_000),
        "=".repeat(100_001),
    ]
}

/// Answers with `-ERR`/`BAD`/`NO` and nothing else is fine; what matters is that the
/// session is back in its usual state and `other` still works.
fn other_still_works(other: &mut LineClient) {
    let done = other.imap_status("NOOP");
    assert!(done.starts_with("OK"), "{done}");
}

#[test]
fn imap_sasl_garbage_fails_only_its_own_exchange() {
    let env = Env::with_imap_settings("max_failed_logins = 1000");
    env.add_user("alice", "pw");
    let server = env.serve(&[]);
    let mut other = LineClient::imap_login(server.imap, "alice", "pw");
    let mut client = LineClient::connect(server.imap);
    client.expect_prefix("* OK ");
    for response in garbage() {
        let short = &response[..response.len().min(20)];
        let done = client.imap_status(&format!("AUTHENTICATE PLAIN {response}"));
        assert!(
            done.starts_with("BAD") || done.starts_with("NO"),
            "SASL-IR {short}: {done}"
        );
        other_still_works(&mut other);

        client.send("a AUTHENTICATE PLAIN");
        client.expect_prefix("+");
        client.send(&response);
        let (untagged, done) = client.answer("a");
        assert!(untagged.is_empty(), "{short}: {untagged:?}");
        assert!(
            done.starts_with("a BAD") || done.starts_with("a NO"),
            "continuation {short}: {done}"
        );
        // The next line is a command again, not a SASL response.
        let done = client.imap_status("NOOP");
        assert!(done.starts_with("OK"), "after {short}: {done}");
        other_still_works(&mut other);
    }
    let done = client.imap_status(&format!(
        "AUTHENTICATE PLAIN {}",
        encode_plain("alice", "pw")
    ));
    assert!(done.starts_with("OK"), "{done}");
}

#[test]
fn pop3_sasl_garbage_fails_only_its_own_exchange() {
    let env = Env::with_settings("max_failed_logins = 1000", "");
    env.add_user("alice", "pw");
    let server = env.serve(&[]);
    let mut other = LineClient::imap_login(server.imap, "alice", "pw");
    let mut pop3_other = LineClient::connect(server.pop3);
    pop3_other.expect_prefix("+OK");
    let mut client = LineClient::connect(server.pop3);
    client.expect_prefix("+OK");
    for response in garbage() {
        let short = &response[..response.len().min(20)];
        client.send(&format!("AUTH PLAIN {response}"));
        client.expect_prefix("-ERR");
        client.send("AUTH PLAIN");
        client.expect_prefix("+");
        client.send(&response);
        let answer = client.line().expect("an answer");
        assert!(answer.starts_with("-ERR"), "{short}: {answer}");
        // The next line is a command again, not a SASL response.
        client.send("USER alice");
        client.expect("+OK send PASS");
        other_still_works(&mut other);
        pop3_other.send("USER alice");
        pop3_other.expect("+OK send PASS");
    }
    client.send(&format!("AUTH PLAIN {}", encode_plain("alice", "pw")));
    client.expect_prefix("+OK");
}
