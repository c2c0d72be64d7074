//! Account and ACL commands through the CLI, with the server stopped.

use crate::harness::Env;
use mailhive_store::Username;

#[test]
fn user_add_list_passwd_remove() {
    let env = Env::new();
    env.add_user("Alice", "first");
    env.add_user("bob", "pw");
    assert_eq!(env.ok(&["user", "list"], ""), "alice\nbob\n");
    env.ok(&["user", "passwd", "ALICE", "--password-stdin"], "second\n");
    {
        let store = env.store();
        let alice = Username::parse("alice").unwrap();
        assert!(store.verify_password(&alice, "second").unwrap());
        assert!(!store.verify_password(&alice, "first").unwrap());
    }
    env.ok(&["user", "remove", "bob"], "");
    assert_eq!(env.ok(&["user", "list"], ""), "alice\n");
}

#[test]
fn bad_account_input_fails_with_one_line() {
    let env = Env::new();
    env.add_user("alice", "pw");
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &["user", "add", "alice", "--password-stdin"],
            "x\n",
            "alice: user already exists",
        ),
        (
            &["user", "add", "../etc", "--password-stdin"],
            "x\n",
            "starts with a letter or a digit",
        ),
        (
            &["user", "add", "carol", "--password-stdin"],
            "\n",
            "the password is empty",
        ),
        (
            &["user", "passwd", "nobody", "--password-stdin"],
            "x\n",
            "nobody: no such user",
        ),
        (&["user", "remove", "nobody"], "", "nobody: no such user"),
        (&["user", "add", "dave"], "", "use --password-stdin"),
    ];
    for (args, stdin, reason) in cases {
        let line = env.fails(args, stdin);
        assert!(line.contains(reason), "{args:?}: {line:?} lacks {reason:?}");
    }
}

#[test]
fn an_invalid_config_names_the_key_and_range() {
    let env = Env::new();
    std::fs::write(&env.config, "[imap]\nmax_command_size = 5\n").unwrap();
    let line = env.fails(&["user", "list"], "");
    assert!(line.contains("imap.max_command_size"), "{line}");
    assert!(line.contains("between 1024 and 16384"), "{line}");
    let mut cmd = env.command(&["user", "list"]);
    std::fs::write(&env.config, "").unwrap();
    let out = cmd
        .env("MAILHIVE__POP3__MAX_FAILED_LOGINS", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pop3.max_failed_logins"));
}

#[test]
fn acl_set_and_show_with_the_server_stopped() {
    let env = Env::new();
    env.add_user("karen", "pw");
    env.add_user("alice", "pw");
    let acl = |user: &str, rights: &str| env.grant("karen", "INBOX", user, rights);
    assert_eq!(acl("alice", "lr"), "karen lrswipkxtea\nalice lr\n");
    assert_eq!(acl("alice", "+sw"), "karen lrswipkxtea\nalice lrsw\n");
    assert_eq!(acl("alice", "-r"), "karen lrswipkxtea\nalice lsw\n");
    let shown = env.ok(
        &["acl", "show", "--owner", "karen", "--mailbox", "inbox"],
        "",
    );
    assert_eq!(shown, "karen lrswipkxtea\nalice lsw\n");
    assert_eq!(acl("alice", ""), "karen lrswipkxtea\n");
    let set = ["acl", "set", "--owner", "karen", "--mailbox"];
    for (args, reason) in [
        (
            vec!["INBOX", "--user", "alice", "--rights", "lz"],
            "'z' is not a right",
        ),
        (
            vec!["INBOX", "--user", "nobody", "--rights", "lr"],
            "nobody: no such user",
        ),
        (
            vec!["Nope", "--user", "alice", "--rights", "lr"],
            "karen/Nope: no such mailbox",
        ),
        (
            vec!["INBOX", "--user", "karen", "--rights", "lr"],
            "the owner's rights cannot be changed",
        ),
    ] {
        let line = env.fails(&[&set[..], &args[..]].concat(), "");
        assert!(line.contains(reason), "{args:?}: {line}");
    }
}
