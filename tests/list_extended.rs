//! LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and CREATE-SPECIAL-USE (RFC 6154)
//! over real sockets, at their edges: options that are refused, the bound on patterns,
//! shared folders the user holds no rights on, subscribed names without a mailbox, and
//! LIST-STATUS counting what STATUS counts, also while messages change.

use crate::harness::{Env, LineClient, Server};
use mailhive_protocol::imap::parser::MAX_LIST_PATTERNS;

/// karen's INBOX holds the demo messages; alice and bob have their own accounts.
fn users() -> (Env, Server) {
    let env = Env::new();
    for user in ["karen", "alice", "bob"] {
        env.add_user(user, "pw");
    }
    env.import("karen", "pop3.mbox");
    let server = env.serve(&[]);
    (env, server)
}

fn logged_in(server: &Server, user: &str) -> LineClient {
    LineClient::imap_login(server.imap, user, "pw")
}

#[test]
fn refused_options_and_items_are_tagged_bad_and_the_session_goes_on() {
    let (_env, server) = users();
    let mut alice = logged_in(&server, "alice");
    for command in [
        "LIST (SUBSCRIBED BOGUS) \"\" *",
        "LIST (RECURSIVEMATCH) \"\" *",
        "LIST \"\" * RETURN (BOGUS)",
        "LIST \"\" * RETURN (STATUS (MESSAGES NOTANITEM))",
        "LIST \"\" * RETURN (STATUS ())",
        "LIST \"\" * RETURN STATUS",
        "LIST (SUBSCRIBED \"\" *",
        "CREATE x (USE (\\Drafts)",
    ] {
        let answer = alice.imap_status(command);
        assert!(answer.starts_with("BAD "), "{command}: {answer}");
    }
    let patterns = |n: usize| vec!["x"; n].join(" ");
    let at_bound = alice.imap_status(&format!("LIST \"\" ({})", patterns(MAX_LIST_PATTERNS)));
    assert_eq!(at_bound, "OK LIST completed");
    let over = alice.imap_status(&format!("LIST \"\" ({})", patterns(MAX_LIST_PATTERNS + 1)));
    assert_eq!(over, format!("BAD more than {MAX_LIST_PATTERNS} patterns"));
    assert_eq!(alice.imap_status("NOOP"), "OK NOOP completed");
}

#[test]
fn another_users_folders_without_rights_match_nothing() {
    let (env, server) = users();
    env.grant("karen", "INBOX", "bob", "lr");
    let mut alice = logged_in(&server, "alice");
    for command in [
        "LIST \"\" \"#users/karen/INBOX\" RETURN (STATUS (MESSAGES))",
        "LIST (SUBSCRIBED RECURSIVEMATCH) \"#users/\" \"*\"",
        "LIST \"\" (\"#users/*\" \"#users/karen\" \"#users/karen/%\") RETURN (CHILDREN SUBSCRIBED)",
        "LIST (SPECIAL-USE) \"\" \"#users/karen/*\"",
    ] {
        assert_eq!(alice.imap_ok(command), Vec::<String>::new(), "{command}");
    }
    // What bob, who may read it, is answered, and STATUS agrees with LIST-STATUS.
    let mut bob = logged_in(&server, "bob");
    let listed = bob.imap_ok("LIST \"#users/\" \"*\" RETURN (STATUS (MESSAGES UNSEEN))");
    let status = bob.imap_ok("STATUS \"#users/karen/INBOX\" (MESSAGES UNSEEN)");
    assert_eq!(
        listed,
        [
            "* LIST (\\Noselect \\HasChildren) \"/\" \"#users/karen\"".to_owned(),
            "* LIST (\\HasNoChildren) \"/\" \"#users/karen/INBOX\"".to_owned(),
            status[0].clone(),
        ]
    );
    assert_eq!(
        status[0],
        "* STATUS \"#users/karen/INBOX\" (MESSAGES 3 UNSEEN 3)"
    );
}

#[test]
fn subscribed_names_without_a_mailbox_are_nonexistent_and_get_no_status() {
    let (_env, server) = users();
    let mut alice = logged_in(&server, "alice");
    alice.imap_ok("CREATE Gone/Child");
    alice.imap_ok("SUBSCRIBE Gone/Child");
    alice.imap_ok("SUBSCRIBE Never/Made");
    alice.imap_ok("DELETE Gone/Child");
    let listed = alice.imap_ok(
        "LIST (SUBSCRIBED) \"\" (\"Gone/*\" \"Never/*\") RETURN (STATUS (MESSAGES) CHILDREN)",
    );
    assert_eq!(
        listed,
        [
            "* LIST (\\NonExistent \\Subscribed) \"/\" \"Gone/Child\"",
            "* LIST (\\NonExistent \\Subscribed) \"/\" \"Never/Made\"",
        ]
    );
    // Not subscribed itself, the parent is listed only for RECURSIVEMATCH.
    let listed =
        alice.imap_ok("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (STATUS (MESSAGES))");
    assert!(
        listed.contains(
            &"* LIST (\\HasNoChildren) \"/\" \"Gone\" (\"CHILDINFO\" (\"SUBSCRIBED\"))".to_owned()
        ),
        "{listed:?}"
    );
    assert!(
        listed.contains(&"* STATUS \"Gone\" (MESSAGES 0)".to_owned()),
        "{listed:?}"
    );
    // Nor is the parent of one that was never made, which is not there at all.
    assert!(
        listed.contains(
            &"* LIST (\\NonExistent) \"/\" \"Never\" (\"CHILDINFO\" (\"SUBSCRIBED\"))".to_owned()
        ),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|l| l.starts_with("* STATUS \"Never")),
        "{listed:?}"
    );
    // A plain LIST does not show them.
    assert_eq!(alice.imap_ok("LIST \"\" \"Never*\""), Vec::<String>::new());
    assert_eq!(
        alice.imap_ok("LSUB \"\" \"Never/*\""),
        ["* LSUB () \"/\" \"Never/Made\""]
    );
}

#[test]
fn list_status_follows_changes_as_status_does() {
    let (_env, server) = users();
    let mut alice = logged_in(&server, "alice");
    let message = "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
    alice.send(&format!(
        "a1 APPEND Drafts {{{}+}}\r\n{message}",
        message.len()
    ));
    let (_, done) = alice.answer("a1");
    assert!(done.starts_with("a1 OK"), "{done}");
    alice.imap_ok("CREATE \"Old Drafts\" (USE (\\Drafts))");
    let items = "(MESSAGES UNSEEN SIZE UIDNEXT)";
    let listed = alice.imap_ok(&format!(
        "LIST (SPECIAL-USE) \"\" \"*Drafts\" RETURN (STATUS {items})"
    ));
    let mut status = alice.imap_ok(&format!("STATUS Drafts {items}"));
    status.extend(alice.imap_ok(&format!("STATUS \"Old Drafts\" {items}")));
    assert_eq!(
        listed,
        [
            "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"".to_owned(),
            status[0].clone(),
            "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Old Drafts\"".to_owned(),
            status[1].clone(),
        ]
    );
    assert_eq!(
        status[0],
        format!(
            "* STATUS \"Drafts\" (MESSAGES 1 UNSEEN 1 SIZE {} UIDNEXT 2)",
            message.len()
        )
    );
    // A special use CREATE refused creates nothing, in one's own namespace or another's.
    let refused = alice.imap_status("CREATE Both (USE (\\Sent \\Trash))");
    assert_eq!(refused, "NO [USEATTR] A mailbox takes one special use");
    assert_eq!(alice.imap_ok("LIST \"\" Both"), Vec::<String>::new());
}
