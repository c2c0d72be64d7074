//! `mailhive deliver` as an MTA's mailbox_command: the message on standard input stored
//! as LMTP stores it, with the server stopped (the store opened directly) and running
//! (through the admin socket: a session in IDLE sees it at once), and the exit statuses
//! MTAs read (67 unknown user, 75 try again, 65 a message that cannot be taken).

use crate::harness::{run_with_input, Env, LineClient};
use crate::lmtp::messages;

fn deliver(env: &Env, args: &[&str], sender: Option<&str>, message: &str) -> (i32, String) {
    let mut command = env.command(&[&["deliver"], args].concat());
    command.env_remove("SENDER");
    if let Some(sender) = sender {
        command.env("SENDER", sender);
    }
    let out = run_with_input(command, message);
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn deliver_stores_with_trace_fields_and_answers_in_sysexits() {
    let env = Env::new();
    env.add_user("alice", "pw");
    let alice = mailhive_store::Username::parse("alice").expect("name");
    let lists = mailhive_store::MailboxName::parse("lists").expect("name");
    env.store()
        .ensure_mailbox(&alice, &lists)
        .expect("store")
        .expect("created");
    let message = "From bounce@example.net Tue Dec  1 10:00:00 2026\nSubject: piped\n\nhello\n";
    assert_eq!(
        deliver(
            &env,
            &["--user", "alice"],
            Some("bounce@example.net"),
            message
        )
        .0,
        0
    );
    assert_eq!(
        deliver(
            &env,
            &["--user", "Alice", "--mailbox", "lists"],
            None,
            "A: b\n\nx\n"
        )
        .0,
        0
    );
    assert_eq!(
        deliver(
            &env,
            &["--user", "alice", "--mailbox", "nosuch"],
            None,
            "C: d\n\ny\n"
        )
        .0,
        0
    );
    let (code, reason) = deliver(&env, &["--user", "nobody"], None, "A: b\n\nx\n");
    assert_eq!(
        (code, reason.as_str()),
        (67, "mailhive: nobody: no such user")
    );
    let (code, reason) = deliver(&env, &["--user", "alice"], None, "");
    assert_eq!(
        (code, reason.as_str()),
        (65, "mailhive: the message is empty")
    );

    let server = env.serve(&[]);
    assert_eq!(
        messages(&server, "alice", "INBOX"),
        [
            "Return-Path: <bounce@example.net>\r\nDelivered-To: alice\r\nSubject: piped\r\n\r\nhello\r\n",
            "Return-Path: <>\r\nDelivered-To: alice\r\nC: d\r\n\r\ny\r\n",
        ]
    );
    assert_eq!(
        messages(&server, "alice", "lists"),
        ["Return-Path: <>\r\nDelivered-To: alice\r\nA: b\r\n\r\nx\r\n"]
    );
}

#[test]
fn deliver_through_the_running_server_reaches_a_session_in_idle() {
    let env = Env::with_imap_settings("max_message_size = 100");
    env.add_user("bob", "pw");
    let server = env.serve(&[]);
    let mut idle = LineClient::imap_login(server.imap, "bob", "pw");
    idle.imap_ok("SELECT INBOX");
    idle.send("i1 IDLE");
    idle.expect_prefix("+ ");
    assert_eq!(
        deliver(
            &env,
            &["--user", "bob"],
            Some("s@x"),
            "Subject: live\n\nnow\n"
        )
        .0,
        0
    );
    idle.expect("* 1 EXISTS");
    idle.expect("* 1 RECENT");
    idle.send("DONE");
    idle.expect("i1 OK IDLE terminated");
    let (code, _) = deliver(&env, &["--user", "nobody"], None, "A: b\n\nx\n");
    assert_eq!(code, 67);
    let (code, reason) = deliver(&env, &["--user", "bob"], None, &"x".repeat(101));
    assert_eq!(
        (code, reason.as_str()),
        (65, "mailhive: message too big: MaxMessageSize is 100 bytes")
    );
    assert_eq!(messages(&server, "bob", "INBOX").len(), 1);
}

#[test]
fn a_store_that_cannot_be_reached_is_a_temporary_failure() {
    let env = Env::new();
    // The data directory is a file: neither an admin socket nor a store is there.
    std::fs::write(env.data(), "not a directory").expect("write");
    let (code, reason) = deliver(&env, &["--user", "alice"], None, "A: b\n\nx\n");
    assert_eq!(code, 75, "{reason}");
}
