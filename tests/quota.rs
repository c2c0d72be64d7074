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
