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

fn ok_config_last(env: &Env, args: &[&str], stdin: &str) -> String {
    let out = crate::harness::run_with_input(env.command_config_last(args), stdin);
    assert!(
        out.status.success(),
        "{args:?} with --config last: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every command finds the configuration when `--config FILE` comes after its own
/// arguments, `settings set`'s `--NAME VALUE` pairs included (SPEC §2).
#[test]
fn config_is_taken_after_every_command() {
    let env = Env::new();
    let mbox = crate::harness::fixture("pop3.mbox");
    let mbox = mbox.to_str().expect("UTF-8 path");
    ok_config_last(&env, &["user", "add", "zoe", "--password-stdin"], "pw\n");
    ok_config_last(&env, &["user", "add", "yan", "--password-stdin"], "pw\n");
    ok_config_last(
        &env,
        &["user", "passwd", "zoe", "--password-stdin"],
        "pw2\n",
    );
    assert_eq!(ok_config_last(&env, &["user", "list"], ""), "yan\nzoe\n");
    ok_config_last(&env, &["import-mbox", "--user", "zoe", mbox], "");
    let set = ["settings", "set", "imap", "--max-connections", "5"];
    ok_config_last(&env, &set, "");
    let shown = ok_config_last(&env, &["settings", "show", "imap"], "");
    assert!(shown.contains("MaxConnections : 5 (set)"), "{shown}");
    ok_config_last(&env, &["settings", "reset", "imap", "MaxConnections"], "");
    let acl = ["acl", "set", "--owner", "zoe", "--mailbox", "INBOX"];
    ok_config_last(
        &env,
        &[&acl[..], &["--user", "yan", "--rights", "lr"]].concat(),
        "",
    );
    let show = ["acl", "show", "--owner", "zoe", "--mailbox", "INBOX"];
    assert_eq!(ok_config_last(&env, &show, ""), "zoe lrswipkxtea\nyan lr\n");
    ok_config_last(&env, &["user", "remove", "yan"], "");
    // The server, and the commands that need it running.
    let mut serve = env
        .command_config_last(&["serve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let stdout = serve.stdout.take().expect("stdout");
    let serving = std::io::BufRead::lines(std::io::BufReader::new(stdout))
        .map_while(Result::ok)
        .any(|line| line.starts_with("mailhive: serving"));
    assert!(serving, "serve with --config last did not start");
    let status = ok_config_last(&env, &["status"], "");
    assert!(status.contains("imap"), "{status}");
    ok_config_last(&env, &["tls", "reload"], "");
    let _ = serve.kill();
    let _ = serve.wait();
}
