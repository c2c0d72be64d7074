//! SORT and THREAD over the fixture mail answer what Dovecot answered, as recorded once
//! by `fixtures/record_dovecot_oracles.py` in `fixtures/oracles/sort-thread.txt`: the
//! same messages APPENDed in the same order with the same internal dates, then every
//! SORT key (also reversed) and both THREAD algorithms. Where Dovecot departs from RFC
//! 5256 the file gives, after a comment saying why, the RFC's answer on an `R:` line,
//! and that is what mailhive must answer. No Dovecot is needed to run this.

use crate::harness::{crlf, fixture, messages_in, Env, LineClient};

/// One recorded command: what it is, what Dovecot answered, what mailhive must answer.
struct Oracle {
    command: String,
    dovecot: String,
    expected: String,
}

fn oracles() -> Vec<Oracle> {
    let path = fixture("oracles/sort-thread.txt");
    let text = std::fs::read_to_string(&path).expect("the recorded oracles");
    let mut oracles: Vec<Oracle> = Vec::new();
    for line in text.lines() {
        if let Some(command) = line.strip_prefix("C: ") {
            oracles.push(Oracle {
                command: command.into(),
                dovecot: String::new(),
                expected: String::new(),
            });
        } else if let Some(answer) = line.strip_prefix("S: ") {
            let oracle = oracles.last_mut().expect("S: after its C: line");
            oracle.dovecot = answer.into();
            oracle.expected = answer.into();
        } else if let Some(answer) = line.strip_prefix("R: ") {
            let oracle = oracles.last_mut().expect("R: after its S: line");
            oracle.expected = answer.into();
        }
    }
    oracles
}

/// The internal date of the `n`th message, as the recording script gives it.
fn internal_date(n: i64) -> String {
    let date = chrono::DateTime::from_timestamp(1_700_000_000 + 60 * n, 0).expect("a date");
    date.format("%d-%b-%Y %H:%M:%S +0000").to_string()
}

#[test]
fn sort_and_thread_answer_what_dovecot_answered() {
    let env = Env::new();
    env.add_user("ann", "pw");
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, "ann", "pw");
    let messages = [messages_in("mail"), messages_in("mime")].concat();
    for (n, (name, raw)) in messages.iter().enumerate() {
        let raw = crlf(raw);
        let date = internal_date(n as i64 + 1);
        client.send(&format!("ap APPEND INBOX \"{date}\" {{{}+}}", raw.len()));
        client.send_bytes(&raw);
        client.send_bytes(b"\r\n");
        let (_, done) = client.answer("ap");
        assert!(done.starts_with("ap OK"), "{name}: {done}");
    }
    client.imap_ok("SELECT INBOX");
    let oracles = oracles();
    assert!(
        oracles.len() >= 20,
        "every key, reversed, and both algorithms"
    );
    let mut differ = Vec::new();
    for oracle in &oracles {
        let answer = client.imap_ok(&oracle.command);
        if answer != [oracle.expected.as_str()] {
            differ.push(format!(
                "{}\n  mailhive: {answer:?}\n  expected: {}\n  Dovecot:  {}",
                oracle.command, oracle.expected, oracle.dovecot
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
