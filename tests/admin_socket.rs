//! Admin commands while the server runs: they go through its admin socket (sled lets
//! only the server open the store), and `serve --demo` is idempotent.

use crate::harness::{fixture, Env};
use mailhive_store::{MailboxName, Username};

#[test]
fn commands_work_through_the_running_servers_socket() {
    let env = Env::new();
    let server = env.serve(&[]);
    env.add_user("alice", "pw");
    assert_eq!(env.ok(&["user", "list"], ""), "alice\n");
    let corpus = fixture("corpus.mbox");
    let out = env.ok(
        &["import-mbox", "--user", "alice", corpus.to_str().unwrap()],
        "",
    );
    assert!(out.starts_with("imported 10 messages"), "{out}");
    let line = env.fails(&["user", "remove", "nobody"], "");
    assert!(line.contains("nobody: no such user"), "{line}");
    // The store is the server's: opening it from here must fail while it runs.
    assert!(mailhive_store::Store::open(&env.data()).is_err());
    let banner = server.stop();
    assert!(banner.contains("mailhive: serving."), "{banner}");

    let store = env.store();
    let alice = Username::parse("alice").unwrap();
    assert!(store.verify_password(&alice, "pw").unwrap());
    assert_eq!(
        store
            .mailbox(&alice, &MailboxName::inbox())
            .unwrap()
            .unwrap()
            .messages,
        10
    );
}

#[test]
fn serve_demo_prepares_once() {
    let env = Env::new();
    let first = env.serve(&["--demo"]).stop();
    assert!(
        first.contains("2 new users, 44 messages imported"),
        "{first}"
    );
    let second = env.serve(&["--demo"]).stop();
    assert!(
        second.contains("0 new users, 0 messages imported"),
        "{second}"
    );
    let store = env.store();
    let (demo, karen) = (
        Username::parse("demo").unwrap(),
        Username::parse("karen").unwrap(),
    );
    assert_eq!(
        store
            .mailbox(&demo, &MailboxName::inbox())
            .unwrap()
            .unwrap()
            .messages,
        36
    );
    let shared = store.shared_with("demo").unwrap();
    assert_eq!(shared.len(), 1);
    assert_eq!(
        (shared[0].0.owner.clone(), shared[0].1.to_string()),
        (karen, "lr".to_owned())
    );
}

/// A login the server remembers (no argon2 the second time) is forgotten the moment its
/// password changes or its account goes, through the admin socket.
#[test]
fn a_changed_password_or_a_removed_account_stops_a_remembered_login() {
    use crate::harness::LineClient;
    let env = Env::new();
    let server = env.serve(&[]);
    env.add_user("alice", "first");
    let login = |password: &str| {
        let mut client = LineClient::connect(server.pop3);
        client.expect_prefix("+OK");
        client.send("USER alice");
        client.expect_prefix("+OK");
        client.send(&format!("PASS {password}"));
        client.line().unwrap_or_default().starts_with("+OK")
    };
    assert!(login("first"));
    assert!(login("first"), "remembered");
    env.ok(&["user", "passwd", "alice", "--password-stdin"], "second\n");
    assert!(!login("first"), "the old password stops working at once");
    assert!(login("second"));
    env.ok(&["user", "remove", "alice"], "");
    assert!(!login("second"), "a removed account cannot log in");
    server.stop();
}
