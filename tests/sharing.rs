//! Shared mailboxes with three users over real sockets (SPEC §5): rights as RFC 4314
//! has them, privacy for those who hold none, IDLE across users, \Seen per user, and
//! COPY/MOVE out of a shared mailbox with and without CopyKeepsMetadata; a sharer's
//! APPEND, STORE and CREATE.

use crate::harness::{Env, LineClient, Server};
use std::time::{Duration, Instant};

/// karen's INBOX holds the ten corpus messages; alice and bob have their own accounts.
fn three_users(imap_settings: &str) -> (Env, Server) {
    let env = Env::with_imap_settings(imap_settings);
    for user in ["karen", "alice", "bob"] {
        env.add_user(user, "pw");
    }
    env.import("karen", "corpus.mbox");
    let server = env.serve(&[]);
    (env, server)
}

fn grant(env: &Env, user: &str, rights: &str) {
    env.grant("karen", "INBOX", user, rights);
}

fn logged_in(server: &Server, user: &str) -> LineClient {
    LineClient::imap_login(server.imap, user, "pw")
}

/// The untagged lines and the tagged status (without its tag) of `command`.
fn answer(client: &mut LineClient, command: &str) -> (Vec<String>, String) {
    let (untagged, done) = client.imap(command);
    let status = done
        .split_once(' ')
        .map(|(_, s)| s.to_owned())
        .unwrap_or(done);
    (untagged, status)
}

const SHARED: &str = "\"#users/karen/INBOX\"";

#[test]
fn rights_decide_what_a_sharer_may_do_and_others_learn_nothing() {
    let (env, server) = three_users("");
    grant(&env, "alice", "lr");
    let mut alice = logged_in(&server, "alice");
    let (listed, _) = answer(&mut alice, "LIST \"\" \"*\"");
    assert!(listed.iter().any(|l| l.ends_with(SHARED)), "{listed:?}");
    let (_, selected) = answer(&mut alice, &format!("SELECT {SHARED}"));
    assert!(selected.starts_with("OK [READ-ONLY]"), "{selected}");
    let (fetched, _) = answer(&mut alice, "FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])");
    assert!(
        fetched.concat().contains("Lunch on Thursday?"),
        "{fetched:?}"
    );
    let (flags, _) = answer(&mut alice, "FETCH 1 (FLAGS)");
    assert!(
        !flags[0].contains("\\Seen"),
        "no s right, no \\Seen: {flags:?}"
    );
    for command in ["STORE 1 +FLAGS (\\Flagged)", "EXPUNGE"] {
        let (_, refused) = answer(&mut alice, command);
        assert!(
            refused.starts_with("NO [READ-ONLY]"),
            "{command}: {refused}"
        );
    }

    // With lrsw alice may flag, but neither delete nor expunge.
    let mut karen = logged_in(&server, "karen");
    assert!(answer(&mut karen, "SETACL INBOX alice lrsw")
        .1
        .starts_with("OK"));
    let (_, selected) = answer(&mut alice, &format!("SELECT {SHARED}"));
    assert!(selected.starts_with("OK [READ-WRITE]"), "{selected}");
    assert!(answer(&mut alice, "STORE 1 +FLAGS (\\Flagged)")
        .1
        .starts_with("OK"));
    for command in ["STORE 1 +FLAGS (\\Deleted)", "EXPUNGE"] {
        let (_, refused) = answer(&mut alice, command);
        assert_eq!(refused, "NO [NOPERM] Permission denied", "{command}");
    }
    answer(&mut karen, "SELECT INBOX");
    let (flags, _) = answer(&mut karen, "FETCH 1 (FLAGS)");
    assert!(
        flags[0].contains("\\Flagged"),
        "karen sees alice's flag: {flags:?}"
    );

    // Bob holds nothing: karen's mailboxes are what a mailbox that does not exist is.
    let mut bob = logged_in(&server, "bob");
    let (listed, _) = answer(&mut bob, "LIST \"\" \"*\"");
    assert!(!listed.iter().any(|l| l.contains("#users")), "{listed:?}");
    for verb in [
        "SELECT {}",
        "EXAMINE {}",
        "STATUS {} (MESSAGES)",
        "MYRIGHTS {}",
        "GETACL {}",
        "DELETE {}",
    ] {
        let answers: Vec<(Vec<String>, String)> =
            [SHARED, "\"#users/karen/Nope\"", "\"#users/nobody/INBOX\""]
                .into_iter()
                .map(|name| answer(&mut bob, &verb.replace("{}", name)))
                .collect();
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "{verb}: {answers:?}"
        );
        assert!(
            answers[0].1.starts_with("NO [NONEXISTENT]"),
            "{verb}: {answers:?}"
        );
    }
    for name in [SHARED, "\"#users/karen/Nope\""] {
        bob.send(&format!("ap APPEND {name} {{11+}}"));
        bob.send("Subject: x\r");
        assert_eq!(
            bob.line().unwrap(),
            "ap NO [TRYCREATE] Mailbox does not exist"
        );
    }
    // Names are names: nothing reaches another user's data through them.
    for hostile in [
        "\"#users/karen/../bob/INBOX\"",
        "\"#users/karen/INBOX/../../bob\"",
        "\"../karen/INBOX\"",
        "\"#users/*/INBOX\"",
    ] {
        let (_, refused) = answer(&mut bob, &format!("SELECT {hostile}"));
        assert!(refused.starts_with("NO "), "{hostile}: {refused}");
    }
    server.stop();
}

#[test]
fn a_sharer_in_idle_wakes_at_once_and_seen_is_per_user() {
    let (env, server) = three_users("");
    grant(&env, "alice", "lrs");
    let mut karen = logged_in(&server, "karen");
    answer(&mut karen, "SELECT INBOX");
    let mut alice = logged_in(&server, "alice");
    answer(&mut alice, &format!("SELECT {SHARED}"));
    alice.send("i IDLE");
    alice.expect("+ idling");

    let message = "Subject: news\r\n\r\nhello\r\n";
    karen.send(&format!("ap APPEND INBOX {{{}+}}", message.len()));
    karen.send_bytes(message.as_bytes());
    karen.send("");
    let appended = Instant::now();
    alice.expect("* 11 EXISTS");
    assert!(
        appended.elapsed() < Duration::from_secs(1),
        "IDLE woke late"
    );
    karen.expect_prefix("* 11 EXISTS");
    // Karen selected first and appended: \Recent is hers for all eleven.
    karen.expect("* 11 RECENT");
    karen.expect_prefix("ap OK [APPENDUID");
    alice.send("DONE");
    alice.expect("i OK IDLE terminated");

    // Alice reads it: her \Seen, not karen's.
    let unseen = |client: &mut LineClient, name: &str| -> String {
        let (status, _) = answer(client, &format!("STATUS {name} (UNSEEN)"));
        status[0].rsplit_once(' ').unwrap().1.to_owned()
    };
    let (karens_before, alices_before) = (unseen(&mut karen, "INBOX"), unseen(&mut alice, SHARED));
    assert_eq!(alices_before, "11)", "alice has read nothing yet");
    let (fetched, _) = answer(&mut alice, "FETCH 11 (BODY[] FLAGS)");
    assert!(fetched.concat().contains("\\Seen"), "{fetched:?}");
    let (flags, _) = answer(&mut alice, "FETCH 11 (FLAGS)");
    assert!(flags[0].contains("\\Seen"), "{flags:?}");
    let (flags, _) = answer(&mut karen, "FETCH 11 (FLAGS)");
    assert!(
        !flags[0].contains("\\Seen"),
        "karen has not read it: {flags:?}"
    );
    assert_eq!(unseen(&mut karen, "INBOX"), karens_before);
    assert_eq!(unseen(&mut alice, SHARED), "10)");
    // And the other way round: karen's \Seen does not become alice's.
    answer(&mut karen, "STORE 10 +FLAGS (\\Seen)");
    answer(&mut alice, "NOOP");
    let (flags, _) = answer(&mut alice, "FETCH 10 (FLAGS)");
    assert!(!flags[0].contains("\\Seen"), "{flags:?}");
    server.stop();
}

/// A sharer's APPEND with \Seen, STORE +FLAGS (\Seen \Flagged) and CREATE below a
/// shared mailbox: each one change in the store, and each seen as before by both users.
#[test]
fn a_sharers_append_store_and_create_keep_seen_and_rights_their_own() {
    let (env, server) = three_users("");
    grant(&env, "alice", "lrswik");
    let mut alice = logged_in(&server, "alice");
    let message = "Subject: from alice\r\n\r\nhello\r\n";
    alice.send(&format!(
        "ap APPEND {SHARED} (\\Seen) {{{}+}}",
        message.len()
    ));
    alice.send_bytes(message.as_bytes());
    alice.send("");
    alice.expect_prefix("ap OK [APPENDUID");
    answer(&mut alice, &format!("SELECT {SHARED}"));
    let (flags, _) = answer(&mut alice, "FETCH 11 (FLAGS)");
    assert!(
        flags[0].contains("\\Seen"),
        "alice appended it seen: {flags:?}"
    );
    let (stored, done) = answer(&mut alice, "STORE 1 +FLAGS (\\Seen \\Flagged)");
    assert!(done.starts_with("OK"), "{done}");
    assert!(
        stored[0].contains("\\Seen") && stored[0].contains("\\Flagged"),
        "{stored:?}"
    );

    let mut karen = logged_in(&server, "karen");
    answer(&mut karen, "SELECT INBOX");
    let (flags, _) = answer(&mut karen, "FETCH 1,11 (FLAGS)");
    assert!(
        flags[0].contains("\\Flagged"),
        "\\Flagged is shared: {flags:?}"
    );
    assert!(
        flags.iter().all(|f| !f.contains("\\Seen")),
        "alice's \\Seen is hers: {flags:?}"
    );
    let (status, _) = answer(&mut alice, &format!("STATUS {SHARED} (UNSEEN)"));
    assert!(status[0].ends_with("(UNSEEN 9)"), "{status:?}");

    // A mailbox alice creates below karen's INBOX has the INBOX's rights.
    let child = "\"#users/karen/INBOX/notes\"";
    assert!(answer(&mut alice, &format!("CREATE {child}"))
        .1
        .starts_with("OK"));
    let (acl, _) = answer(&mut karen, "GETACL INBOX/notes");
    assert_eq!(
        acl,
        ["* ACL \"INBOX/notes\" karen lrswipkxtea alice lrswik"]
    );
    server.stop();
}

/// INTERNALDATE and FLAGS of message `n` of the selected mailbox.
fn metadata(client: &mut LineClient, n: u32) -> String {
    let (lines, _) = answer(client, &format!("FETCH {n} (INTERNALDATE FLAGS)"));
    let line = lines
        .into_iter()
        .find(|l| l.contains("INTERNALDATE"))
        .unwrap();
    line.split_once(" FETCH ").unwrap().1.to_owned()
}

fn copied_from_shared(keep: bool) {
    let setting = format!("copy_keeps_metadata = {keep}");
    let (env, server) = three_users(&setting);
    grant(&env, "alice", "lrswte");
    let mut karen = logged_in(&server, "karen");
    answer(&mut karen, "SELECT INBOX");
    answer(&mut karen, "STORE 1:2 +FLAGS (\\Flagged $Work)");
    let mut alice = logged_in(&server, "alice");
    answer(&mut alice, &format!("SELECT {SHARED}"));
    answer(&mut alice, "STORE 1:2 +FLAGS (\\Seen)");
    let originals = [metadata(&mut alice, 1), metadata(&mut alice, 2)];
    assert!(originals[0].contains("\\Seen") && originals[0].contains("$Work"));
    assert!(answer(&mut alice, "COPY 1 INBOX")
        .1
        .starts_with("OK [COPYUID"));
    assert!(answer(&mut alice, "UID MOVE 2 INBOX")
        .1
        .starts_with("OK MOVE"));
    answer(&mut alice, "SELECT INBOX");
    for (n, original) in [1, 2].into_iter().zip(&originals) {
        // The copies are new in Alice's INBOX: \Recent in this session.
        let copy = metadata(&mut alice, n);
        assert!(copy.contains("\\Recent"), "message {n}: {copy}");
        let copy = copy.replace(" \\Recent", "").replace("\\Recent", "");
        if keep {
            assert_eq!(&copy, original, "message {n} keeps date and flags");
        } else {
            assert!(copy.ends_with("FLAGS ())"), "message {n}: {copy}");
            assert_ne!(copy.split(" FLAGS").next(), original.split(" FLAGS").next());
        }
    }
    server.stop();
}

#[test]
fn copy_and_move_out_of_a_shared_mailbox_keep_date_and_flags() {
    copied_from_shared(true);
}

#[test]
fn without_copy_keeps_metadata_copies_start_fresh() {
    copied_from_shared(false);
}

#[test]
fn the_demo_shows_karens_inbox_to_demo() {
    let env = Env::new();
    let server = env.serve(&["--demo"]);
    let mut demo = LineClient::connect(server.imap);
    demo.expect_prefix("* OK ");
    assert!(demo.imap_status("LOGIN demo demo").starts_with("OK "));
    let (listed, _) = answer(&mut demo, "LIST \"\" \"*\"");
    assert!(listed.iter().any(|l| l.ends_with(SHARED)), "{listed:?}");
    let (status, _) = answer(&mut demo, &format!("STATUS {SHARED} (MESSAGES)"));
    assert!(status[0].ends_with("(MESSAGES 8)"), "{status:?}");
    server.stop();
}
