//! Quota (SPEC §7): the `[quota]` defaults, `mailhive quota set|show|reset` with the
//! server stopped and running, and what IMAP, import and LMTP answer at the limit.

use crate::harness::Env;
use std::io::Write;

/// An environment whose config also has this `[quota]` section (TOML lines).
pub fn env_with_quota(section: &str) -> Env {
    let env = Env::new();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&env.config)
        .expect("config");
    writeln!(file, "[quota]\n{section}").expect("config");
    env
}

fn show(env: &Env, user: &str) -> String {
    env.ok(&["quota", "show", "--user", user], "")
}

/// The corpus fixture's 10 messages, in wire form.
fn corpus_usage(env: &Env) -> u64 {
    let store = env.store();
    let alice = mailhive_store::Username::parse("alice").unwrap();
    let inbox = store
        .mailbox(&alice, &mailhive_store::MailboxName::inbox())
        .unwrap()
        .unwrap();
    assert_eq!(inbox.messages, 10);
    inbox.bytes
}

#[test]
fn quota_commands_with_the_server_stopped() {
    let env = env_with_quota("storage = \"10M\"\nmessages = 0");
    env.add_user("alice", "pw");
    env.import("alice", "corpus.mbox");
    let bytes = corpus_usage(&env);
    assert_eq!(
        show(&env, "alice"),
        format!(
            "StorageUsed : {bytes} bytes\nStorageLimit : 10485760 bytes (default)\n\
             MessagesUsed : 10\nMessagesLimit : unlimited (default)\n"
        )
    );
    let set = env.ok(&["quota", "set", "--user", "ALICE", "--messages", "50"], "");
    assert!(set.contains("MessagesLimit : 50 (set)\n"), "{set}");
    assert!(
        set.contains("StorageLimit : 10485760 bytes (default)\n"),
        "{set}"
    );
    let set = env.ok(&["quota", "set", "--user", "alice", "--storage", "0"], "");
    assert!(set.contains("StorageLimit : unlimited (set)\n"), "{set}");
    assert!(set.contains("MessagesLimit : 50 (set)\n"), "{set}");
    let reset = env.ok(&["quota", "reset", "--user", "alice"], "");
    assert!(
        reset.contains("StorageLimit : 10485760 bytes (default)\n"),
        "{reset}"
    );
    assert!(
        reset.contains("MessagesLimit : unlimited (default)\n"),
        "{reset}"
    );
}

#[test]
fn quota_commands_through_the_running_server() {
    let env = env_with_quota("storage = \"1K\"");
    env.add_user("alice", "pw");
    let server = env.serve(&[]);
    let set = env.ok(
        &[
            "quota",
            "set",
            "--user",
            "alice",
            "--storage",
            "2G",
            "--messages",
            "3",
        ],
        "",
    );
    assert!(
        set.contains("StorageLimit : 2147483648 bytes (set)\n"),
        "{set}"
    );
    assert!(show(&env, "alice").contains("MessagesLimit : 3 (set)\n"));
    let line = env.fails(&["quota", "show", "--user", "nobody"], "");
    assert!(line.contains("nobody: no such user"), "{line}");
    server.stop();
    // What the running server changed is in the store.
    let quota = env
        .store()
        .quota(&mailhive_store::Username::parse("alice").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        (quota.overrides.storage, quota.overrides.messages),
        (Some(2 << 30), Some(3))
    );
}

#[test]
fn bad_quota_input_fails_with_one_line() {
    let env = Env::new();
    env.add_user("alice", "pw");
    let cases: [(&[&str], &str); 5] = [
        (
            &["quota", "set", "--user", "alice", "--storage", "10X"],
            "--storage: \"10X\" is not a size: use a number of bytes, or one with K, M or G",
        ),
        (
            &[
                "quota",
                "set",
                "--user",
                "alice",
                "--storage",
                "99999999999G",
            ],
            "--storage: \"99999999999G\" is too large",
        ),
        (
            &["quota", "set", "--user", "alice"],
            "nothing to set: give --storage, --messages or both",
        ),
        (
            &["quota", "reset", "--user", "nobody"],
            "nobody: no such user",
        ),
        (&["quota", "show", "--user", "../x"], "\"../x\""),
    ];
    for (args, reason) in cases {
        let line = env.fails(args, "");
        assert!(line.contains(reason), "{args:?}: {line:?} lacks {reason:?}");
    }
}

#[test]
fn a_bad_quota_section_names_its_keys() {
    let env = env_with_quota("storage = \"lots\"\nmessages = -1\nbytes = 5");
    let line = env.fails(&["user", "list"], "");
    for part in [
        "quota.storage: \"lots\" is not a size",
        "quota.messages must be a whole number of messages (0 = unlimited)",
        "unknown key quota.bytes",
    ] {
        assert!(line.contains(part), "{line:?} lacks {part:?}");
    }
}

/// The byte offsets of the corpus fixture's valid messages (its `From sender@` lines).
fn corpus_offsets() -> Vec<u64> {
    let text = std::fs::read(crate::harness::fixture("corpus.mbox")).expect("corpus");
    let mut offsets = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From sender@") {
            offsets.push(at as u64);
        }
        at += line.len();
    }
    offsets
}

#[test]
fn import_stops_at_the_message_that_would_pass_the_quota() {
    let env = env_with_quota("messages = 7");
    env.add_user("alice", "pw");
    let corpus = crate::harness::fixture("corpus.mbox");
    let corpus = corpus.to_str().expect("UTF-8 path");
    let out = env.run(&["import-mbox", "--user", "alice", corpus], "");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let offset = corpus_offsets()[7];
    assert_eq!(
        last,
        format!(
            "mailhive: {corpus}: message at byte {offset} not imported: alice's quota would be exceeded \
             (7 messages imported before it)"
        )
    );
    assert!(show(&env, "alice").contains("MessagesUsed : 7\n"));
    // Through the running server the same: nothing more fits, and nothing is added.
    let server = env.serve(&[]);
    let out = env.run(&["import-mbox", "--user", "alice", corpus], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = corpus_offsets()[0];
    assert!(
        stderr.trim_end().ends_with(&format!(
            "message at byte {first} not imported: alice's quota would be exceeded \
             (0 messages imported before it)"
        )),
        "{stderr}"
    );
    assert!(show(&env, "alice").contains("MessagesUsed : 7\n"));
    server.stop();
}

/// Sends `lines` to the LMTP listener after LHLO, reading one reply line per line sent
/// (the DATA text as one), and returns the replies.
fn lmtp(server: &crate::harness::Server, steps: &[(&str, usize)]) -> Vec<String> {
    let mut client = crate::harness::LineClient::connect(server.lmtp);
    client.expect_prefix("220 ");
    client.send("LHLO mx.example.org");
    while client.line().expect("LHLO reply").starts_with("250-") {}
    let mut replies = Vec::new();
    for (text, expected) in steps {
        client.send_bytes(text.as_bytes());
        for _ in 0..*expected {
            replies.push(client.line().expect("a reply"));
        }
    }
    replies
}

#[test]
fn lmtp_refuses_only_the_recipient_over_quota_and_deliver_exits_73() {
    let env = env_with_quota("storage = \"1K\"");
    for user in ["full", "small", "roomy"] {
        env.add_user(user, "pw");
    }
    env.ok(&["quota", "set", "--user", "roomy", "--storage", "0"], "");
    // full holds one message and may hold no more; small has 1 KiB of room.
    env.ok(&["quota", "set", "--user", "full", "--messages", "1"], "");
    let mut deliver = env.command(&["deliver", "--user", "full"]);
    deliver.env_remove("SENDER");
    let out = crate::harness::run_with_input(deliver, "Subject: first\n\nhello\n");
    assert!(out.status.success(), "{out:?}");
    let server = env.serve(&[]);
    let big = format!("Subject: big\r\n\r\n{}\r\n.\r\n", "x".repeat(2000));
    let replies = lmtp(
        &server,
        &[
            ("MAIL FROM:<sender@example.net>\r\n", 1),
            ("RCPT TO:<full@example.org>\r\n", 1),
            ("RCPT TO:<small@example.org>\r\n", 1),
            ("RCPT TO:<roomy@example.org>\r\n", 1),
            ("DATA\r\n", 1),
            (&big, 2),
        ],
    );
    assert_eq!(
        replies,
        [
            "250 2.1.0 Ok",
            "552 5.2.2 <full@example.org> Mailbox full",
            "250 2.1.5 Ok",
            "250 2.1.5 Ok",
            "354 Start mail input; end with <CRLF>.<CRLF>",
            "552 5.2.2 <small@example.org> Mailbox full",
            "250 2.0.0 <roomy@example.org> Saved",
        ]
    );
    assert!(show(&env, "small").contains("MessagesUsed : 0\n"));
    assert!(show(&env, "roomy").contains("MessagesUsed : 1\n"));
    // `mailhive deliver` through the running server: EX_CANTCREAT for a full account.
    let mut deliver = env.command(&["deliver", "--user", "full"]);
    deliver.env_remove("SENDER");
    let out = crate::harness::run_with_input(deliver, "Subject: second\n\nhello\n");
    assert_eq!(out.status.code(), Some(73));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end(), "mailhive: full: Quota exceeded");
    server.stop();
    // And with the server stopped.
    let mut deliver = env.command(&["deliver", "--user", "full"]);
    deliver.env_remove("SENDER");
    let out = crate::harness::run_with_input(deliver, "Subject: third\n\nhello\n");
    assert_eq!(out.status.code(), Some(73));
    assert!(show(&env, "full").contains("MessagesUsed : 1\n"));
}
