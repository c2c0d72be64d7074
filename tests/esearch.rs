//! Extended SEARCH over sockets: ESEARCH answers and their malformed requests
//! (RFC 4731, PARTIAL of RFC 5267 and RFC 9394), `$` (RFC 5182) before any SAVE, after
//! an expunge, after a failed search and behind a pipelined SAVE, searches kept up to
//! date (RFC 5267 §4.3) by this session's and another session's changes, in IDLE, past
//! the bound on their number and on the work of one update, CANCELUPDATE, and WITHIN
//! (RFC 5032).

use crate::harness::{Env, LineClient, Server};

/// A server with user `ann` whose INBOX holds `count` messages with subjects `m1`...
/// (imported before it starts), and a session that has it selected.
fn served(count: usize) -> (Env, Server, LineClient) {
    let env = Env::new();
    env.add_user("ann", "pw");
    if count > 0 {
        let mbox: String = (1..=count)
            .map(|i| {
                format!(
                    "From ann@example.org Mon Feb  2 10:00:00 2026\nSubject: m{i}\n\nbody {i}\n\n"
                )
            })
            .collect();
        let path = env.dir.path().join("seed.mbox");
        std::fs::write(&path, mbox).expect("seed mbox");
        let path = path.to_str().expect("UTF-8 path");
        env.ok(&["import-mbox", "--user", "ann", path], "");
    }
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, "ann", "pw");
    client.imap_ok("SELECT INBOX");
    (env, server, client)
}

/// APPEND to INBOX, with `date` (`"05-Mar-2021 10:00:00 +0000" ` or empty).
fn append(client: &mut LineClient, date: &str, message: &str) {
    client.send(&format!("ap APPEND INBOX {date}{{{}+}}", message.len()));
    client.send_bytes(format!("{message}\r\n").as_bytes());
    let (_, done) = client.answer("ap");
    assert!(done.starts_with("ap OK "), "{done}");
}

fn second_session(server: &Server) -> LineClient {
    let mut other = LineClient::imap_login(server.imap, "ann", "pw");
    other.imap_ok("SELECT INBOX");
    other
}

/// Sends `command` tagged `tag`; its untagged lines and its tagged answer.
fn tagged(client: &mut LineClient, tag: &str, command: &str) -> (Vec<String>, String) {
    client.send(&format!("{tag} {command}"));
    client.answer(tag)
}

/// The tagged answer's status word and text, after the tag.
fn status(done: &str) -> &str {
    done.split_once(' ').map_or(done, |(_, rest)| rest)
}

#[test]
fn esearch_answers_what_was_asked_and_refuses_malformed_options() {
    let (_env, _server, mut client) = served(6);
    client.imap_ok("STORE 2,4 +FLAGS.SILENT (\\Seen)");
    let (lines, done) = client.imap("SEARCH RETURN (MIN MAX COUNT ALL) SEEN");
    assert!(done.ends_with("OK SEARCH completed"), "{done}");
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].ends_with(") MIN 2 MAX 4 ALL 2,4 COUNT 2"),
        "{lines:?}"
    );
    let lines = client.imap_ok("UID SEARCH RETURN () 1:3,5");
    assert!(lines[0].ends_with(") UID ALL 1:3,5"), "{lines:?}");
    // Nothing matched: MIN, MAX and ALL are left out, COUNT is 0.
    let lines = client.imap_ok("SEARCH RETURN (MIN MAX ALL COUNT) KEYWORD none");
    assert!(lines[0].ends_with(") COUNT 0"), "{lines:?}");
    // PARTIAL past the end is NIL; negative ranges count from the last result.
    let lines = client.imap_ok("SEARCH RETURN (PARTIAL 7:9) ALL");
    assert!(lines[0].ends_with(") PARTIAL (7:9 NIL)"), "{lines:?}");
    let lines = client.imap_ok("SEARCH RETURN (PARTIAL -2:-1 COUNT) ALL");
    assert!(
        lines[0].ends_with(") PARTIAL (-1:-2 5:6) COUNT 6"),
        "{lines:?}"
    );
    for bad in [
        "SEARCH RETURN (NEWEST) ALL",
        "SEARCH RETURN (PARTIAL 0:2) ALL",
        "SEARCH RETURN (PARTIAL 1:*) ALL",
        "SEARCH RETURN (PARTIAL 1:-2) ALL",
        "SEARCH RETURN (PARTIAL 99999999999:1) ALL",
        "SEARCH RETURN (ALL PARTIAL 1:2) ALL",
        "SEARCH RETURN (MIN",
        "SEARCH RETURN ALL",
    ] {
        let (lines, done) = client.imap(bad);
        assert!(status(&done).starts_with("BAD "), "{bad}: {done}");
        assert!(lines.is_empty(), "{bad}: {lines:?}");
    }
}

#[test]
fn saved_results_follow_rfc_5182() {
    let (_env, _server, mut client) = served(5);
    // Before any SAVE, `$` names no message: nothing is fetched, stored or copied.
    for command in [
        "FETCH $ FLAGS",
        "STORE $ +FLAGS (\\Flagged)",
        "UID COPY $ Archive",
    ] {
        let lines = client.imap_ok(command);
        assert!(lines.is_empty(), "{command}: {lines:?}");
    }
    assert_eq!(client.imap_ok("SEARCH FLAGGED"), ["* SEARCH"]);
    // SAVE alone answers no ESEARCH; a command pipelined behind it sees its result.
    client.send("s1 SEARCH RETURN (SAVE) 2:4\r\ns2 FETCH $ (UID)");
    let (lines, done) = client.answer("s1");
    assert!(
        lines.is_empty() && done.starts_with("s1 OK"),
        "{lines:?} {done}"
    );
    let (lines, done) = client.answer("s2");
    assert_eq!(
        lines,
        [
            "* 2 FETCH (UID 2)",
            "* 3 FETCH (UID 3)",
            "* 4 FETCH (UID 4)"
        ]
    );
    assert!(done.starts_with("s2 OK"), "{done}");
    // After an expunge, `$` holds what is left, renumbered.
    client.imap_ok("STORE 3 +FLAGS.SILENT (\\Deleted)");
    client.imap_ok("EXPUNGE");
    assert_eq!(client.imap_ok("SEARCH $"), ["* SEARCH 2 3"]);
    assert_eq!(client.imap_ok("UID SEARCH UID $"), ["* SEARCH 2 4"]);
    assert_eq!(
        client.imap_ok("UID STORE $ +FLAGS (\\Flagged)"),
        [
            "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))",
            "* 3 FETCH (UID 4 FLAGS (\\Flagged \\Recent))"
        ]
    );
    // SAVE with MIN and MAX keeps only those two.
    client.imap_ok("SEARCH RETURN (SAVE MIN MAX) ALL");
    assert_eq!(client.imap_ok("UID SEARCH $"), ["* SEARCH 1 5"]);
    // A saving SEARCH that fails leaves `$` empty.
    let done = client.imap_status("SEARCH RETURN (SAVE) CHARSET KOI8-R ALL");
    assert!(done.starts_with("NO [BADCHARSET"), "{done}");
    assert!(client.imap_ok("FETCH $ UID").is_empty());
    // `$` is one whole set, and belongs to the selected mailbox.
    assert!(status(&client.imap("FETCH 1,$ UID").1).starts_with("BAD "));
    client.imap_ok("SEARCH RETURN (SAVE) ALL");
    client.imap_ok("SELECT INBOX");
    assert!(client.imap_ok("FETCH $ UID").is_empty());
}

#[test]
fn updating_searches_follow_every_change_until_cancelled() {
    let (_env, server, mut client) = served(4);
    let (lines, _) = tagged(&mut client, "u1", "SEARCH RETURN (UPDATE ALL) SEEN");
    assert_eq!(lines, ["* ESEARCH (TAG \"u1\")"]);
    let search = "UID SEARCH RETURN (UPDATE) OR SUBJECT m2 FLAGGED";
    let (lines, _) = tagged(&mut client, "u2", search);
    assert_eq!(lines, ["* ESEARCH (TAG \"u2\") UID"]);
    // The tag of a search kept up to date cannot name another one.
    let (_, done) = tagged(&mut client, "u2", "SEARCH RETURN (UPDATE) ALL");
    assert!(done.starts_with("u2 BAD"), "{done}");
    // This session's own STORE.
    let lines = client.imap_ok("STORE 1,3 +FLAGS (\\Seen)");
    assert!(
        lines.contains(&"* ESEARCH (TAG \"u1\") ADDTO (0 1,3)".to_owned()),
        "{lines:?}"
    );
    // Another session's changes, told at this session's next command.
    let mut other = second_session(&server);
    other.imap_ok("STORE 4 +FLAGS (\\Flagged)");
    other.imap_ok("STORE 1 -FLAGS (\\Seen)");
    append(&mut other, "", "Subject: m2 again\r\n\r\nnew\r\n");
    let lines = client.imap_ok("NOOP");
    let exists = lines
        .iter()
        .position(|l| l == "* 5 EXISTS")
        .expect("EXISTS");
    let added = lines
        .iter()
        .position(|l| l == "* ESEARCH (TAG \"u2\") UID ADDTO (0 4:5)")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(exists < added, "ADDTO follows EXISTS: {lines:?}");
    assert!(
        lines.contains(&"* ESEARCH (TAG \"u1\") REMOVEFROM (0 1)".to_owned()),
        "{lines:?}"
    );
    // An expunge elsewhere leaves the searches before its EXPUNGE, numbered as before.
    other.imap_ok("STORE 2:3 +FLAGS.SILENT (\\Deleted)");
    other.imap_ok("EXPUNGE");
    let lines = client.imap_ok("NOOP");
    assert_eq!(
        lines,
        [
            "* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent))",
            "* 3 FETCH (UID 3 FLAGS (\\Deleted \\Seen \\Recent))",
            "* ESEARCH (TAG \"u1\") REMOVEFROM (0 3)",
            "* ESEARCH (TAG \"u2\") UID REMOVEFROM (0 2)",
            "* 2 EXPUNGE",
            "* 2 EXPUNGE"
        ]
    );
    // In IDLE, at once.
    client.send("i1 IDLE");
    client.expect("+ idling");
    other.imap_ok("STORE 1 +FLAGS (\\Flagged)");
    client.expect("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))");
    client.expect("* ESEARCH (TAG \"u2\") UID ADDTO (0 1)");
    client.send("DONE");
    client.expect("i1 OK IDLE terminated");
    // CANCELUPDATE: an unknown tag cancels nothing; a known one stops its updates.
    let done = client.imap_status("CANCELUPDATE \"u2\" \"nope\"");
    assert!(done.starts_with("BAD ") && done.contains("nope"), "{done}");
    client.imap_ok("CANCELUPDATE \"u2\"");
    other.imap_ok("STORE 1 -FLAGS (\\Flagged)");
    other.imap_ok("STORE 1 +FLAGS (\\Seen)");
    let lines = client.imap_ok("NOOP");
    assert_eq!(
        lines,
        [
            "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))",
            "* ESEARCH (TAG \"u1\") ADDTO (0 1)"
        ]
    );
    // Closing the mailbox ends them all.
    client.imap_ok("UNSELECT");
    client.imap_ok("SELECT INBOX");
    assert!(status(&client.imap("CANCELUPDATE \"u1\"").1).starts_with("BAD "));
}

#[test]
fn updating_searches_are_bounded_in_number_and_in_work() {
    let (_env, server, mut client) = served(1_001);
    for i in 0..10 {
        let key = if i == 0 { "SUBJECT m" } else { "FLAGGED" };
        let search = format!("UID SEARCH RETURN (UPDATE COUNT) {key}");
        let (lines, _) = tagged(&mut client, &format!("b{i}"), &search);
        assert_eq!(lines.len(), 1, "{lines:?}");
    }
    let (lines, done) = tagged(&mut client, "b10", "SEARCH RETURN (UPDATE COUNT) FLAGGED");
    assert_eq!(
        lines,
        [
            "* ESEARCH (TAG \"b10\") COUNT 0",
            "* NO [NOUPDATE \"b10\"] Too many searches are kept up to date already"
        ]
    );
    assert!(done.starts_with("b10 OK"), "{done}");
    // 1,001 changed messages at once: the search that reads headers is dropped, the
    // nine on flags keep up.
    let mut other = second_session(&server);
    other.imap_ok("STORE 1:* +FLAGS.SILENT (\\Flagged)");
    let lines = client.imap_ok("NOOP");
    let tell = |l: &&String| l.starts_with("* ESEARCH") || l.starts_with("* NO");
    let told: Vec<&String> = lines.iter().filter(tell).collect();
    assert_eq!(told.len(), 10, "{told:?}");
    assert!(
        told[0].starts_with("* NO [NOUPDATE \"b0\"] Too many messages changed"),
        "{told:?}"
    );
    for line in &told[1..] {
        assert!(line.ends_with("UID ADDTO (0 1:1001)"), "{line}");
    }
    assert!(status(&client.imap("CANCELUPDATE \"b0\"").1).starts_with("BAD "));
    client.imap_ok("CANCELUPDATE \"b1\"");
    // A sorted context that 1,001 messages enter at once is dropped too: placing them
    // would be the work of a new SORT.
    let sort = "UID SORT RETURN (UPDATE COUNT) (ARRIVAL) UTF-8 SEEN";
    let (lines, _) = tagged(&mut client, "s1", sort);
    assert_eq!(lines, ["* ESEARCH (TAG \"s1\") UID COUNT 0"]);
    other.imap_ok("STORE 1:* +FLAGS.SILENT (\\Seen)");
    let lines = client.imap_ok("NOOP");
    let told: Vec<&String> = lines.iter().filter(tell).collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].starts_with("* NO [NOUPDATE \"s1\"] Too many messages changed"),
        "{told:?}"
    );
}

#[test]
fn within_compares_the_internal_date_with_now() {
    let (_env, _server, mut client) = served(0);
    append(
        &mut client,
        "\"05-Mar-2021 10:00:00 +0000\" ",
        "Subject: old\r\n\r\nx\r\n",
    );
    append(&mut client, "", "Subject: new\r\n\r\ny\r\n");
    client.imap_ok("NOOP");
    assert_eq!(client.imap_ok("SEARCH YOUNGER 3600"), ["* SEARCH 2"]);
    assert_eq!(client.imap_ok("SEARCH OLDER 3600"), ["* SEARCH 1"]);
    assert_eq!(
        client.imap_ok("SEARCH OR OLDER 3600 YOUNGER 3600"),
        ["* SEARCH 1 2"]
    );
    assert!(status(&client.imap("SEARCH YOUNGER 0").1).starts_with("BAD "));
    assert!(status(&client.imap("SEARCH OLDER").1).starts_with("BAD "));
    // A search on time changes without any change to the mailbox: not kept up to date.
    let (lines, _) = tagged(&mut client, "w1", "SEARCH RETURN (UPDATE COUNT) YOUNGER 60");
    assert_eq!(lines[0], "* ESEARCH (TAG \"w1\") COUNT 1");
    assert!(lines[1].starts_with("* NO [NOUPDATE \"w1\"]"), "{lines:?}");
}
