//! SORT (RFC 5256), SORT=DISPLAY (RFC 5957) and ESORT (RFC 5267 §3) over sockets:
//! base subjects of encoded and marked-up subjects, addresses and groups, the Date that
//! does not parse, ties in sequence order, UID SORT, search criteria and `$`, ESEARCH in
//! sort order, and malformed requests.

use crate::harness::{Env, LineClient, Server};

fn served() -> (Env, Server, LineClient) {
    let env = Env::new();
    env.add_user("ann", "pw");
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, "ann", "pw");
    client.imap_ok("SELECT INBOX");
    (env, server, client)
}

fn append(client: &mut LineClient, date: &str, message: &str) {
    client.send(&format!(
        "ap APPEND INBOX \"{date}\" {{{}+}}",
        message.len()
    ));
    client.send_bytes(format!("{message}\r\n").as_bytes());
    let (_, done) = client.answer("ap");
    assert!(done.starts_with("ap OK "), "{done}");
}

#[test]
fn sorts_by_every_key_from_what_was_stored_at_append() {
    let (_env, _server, mut client) = served();
    let messages = [
        // 1
        (
            "02-Feb-2026 10:00:00 +0000",
            "From: Zoe <zoe@b.example>\r\nTo: x@y\r\nCc: team: carl@c.example;\r\n\
             Date: Mon, 02 Feb 2026 09:00:00 +0000\r\nSubject: =?utf-8?q?Re:_[list]_budget?=",
        ),
        // 2
        (
            "01-Feb-2026 10:00:00 +0000",
            "From: =?iso-8859-1?q?Andr=E9?= <andre@a.example>\r\nTo: bob@y\r\n\
             Date: not a date\r\nSubject: [fwd: Budget] (fwd)",
        ),
        // 3
        (
            "03-Feb-2026 10:00:00 +0000",
            "From: mia@a.example\r\nTo: al@y\r\nCc: beth@c.example\r\n\
             Date: Sun, 01 Feb 2026 08:00:00 -0300\r\nSubject: Agenda",
        ),
    ];
    for (date, header) in messages {
        append(&mut client, date, &format!("{header}\r\n\r\nbody\r\n"));
    }
    client.imap_ok("NOOP");
    for (program, order) in [
        // "budget", "Budget", "Agenda": ties by sequence number.
        ("SUBJECT", "3 1 2"),
        ("REVERSE SUBJECT", "1 2 3"),
        ("SUBJECT ARRIVAL", "3 2 1"),
        ("SUBJECT REVERSE ARRIVAL", "3 1 2"),
        ("ARRIVAL", "2 1 3"),
        // Message 2's Date does not parse: its internal date stands in; message 3's
        // is in -0300.
        ("DATE", "2 3 1"),
        ("FROM", "2 3 1"),
        ("TO", "3 2 1"),
        // No Cc sorts first; a group sorts by its name.
        ("CC", "2 3 1"),
        ("DISPLAYFROM", "2 3 1"),
        ("REVERSE DISPLAYTO", "1 2 3"),
        ("SIZE REVERSE DATE", ""),
    ] {
        let lines = client.imap_ok(&format!("SORT ({program}) UTF-8 ALL"));
        assert_eq!(lines.len(), 1, "{program}: {lines:?}");
        if !order.is_empty() {
            assert_eq!(lines[0], format!("* SORT {order}"), "{program}");
        }
    }
    // Search criteria, UID SORT and `$`.
    assert_eq!(
        client.imap_ok("SORT (SUBJECT) US-ASCII 1:2"),
        ["* SORT 1 2"]
    );
    assert_eq!(
        client.imap_ok("UID SORT (ARRIVAL) UTF-8 NOT 3"),
        ["* SORT 2 1"]
    );
    client.imap_ok("SEARCH RETURN (SAVE) FROM a.example");
    assert_eq!(
        client.imap_ok("SORT (REVERSE FROM) UTF-8 $"),
        ["* SORT 3 2"]
    );
    assert_eq!(
        client.imap_ok("SORT (FROM) UTF-8 SUBJECT nothing"),
        ["* SORT"]
    );
    // ESORT (RFC 5267 §3): ESEARCH in sort order, MIN and MAX the first and last sorted.
    client.send("e1 SORT RETURN (MIN MAX COUNT ALL) (REVERSE ARRIVAL) UTF-8 ALL");
    let (lines, done) = client.answer("e1");
    assert_eq!(
        lines,
        ["* ESEARCH (TAG \"e1\") MIN 3 MAX 2 ALL 3,1:2 COUNT 3"]
    );
    assert_eq!(done, "e1 OK SORT completed");
    client.send("e2 UID SORT RETURN () (SUBJECT) UTF-8 ALL");
    assert_eq!(
        client.answer("e2").0,
        ["* ESEARCH (TAG \"e2\") UID ALL 3,1:2"]
    );
    client.imap_ok("UID SORT RETURN (SAVE MAX) (DATE) UTF-8 ALL");
    assert_eq!(client.imap_ok("FETCH $ UID"), ["* 1 FETCH (UID 1)"]);
    // CONTEXT=SORT: PARTIAL counts in sort order.
    client.send("e3 SORT RETURN (PARTIAL -2:-1) (REVERSE ARRIVAL) UTF-8 ALL");
    assert_eq!(
        client.answer("e3").0,
        ["* ESEARCH (TAG \"e3\") PARTIAL (-1:-2 1:2)"]
    );
}

#[test]
fn sorted_results_kept_up_to_date_name_positions_in_sort_order() {
    let (_env, server, mut client) = served();
    for (day, subject) in [(1, "b"), (2, "d"), (3, "f")] {
        let internal = format!("0{day}-Mar-2026 10:00:00 +0000");
        append(
            &mut client,
            &internal,
            &format!("Subject: {subject}\r\n\r\nbody\r\n"),
        );
    }
    client.imap_ok("NOOP");
    client.send("c1 UID SORT RETURN (UPDATE COUNT) (SUBJECT) UTF-8 UNSEEN");
    let (lines, done) = client.answer("c1");
    assert_eq!(lines, ["* ESEARCH (TAG \"c1\") UID COUNT 3"]);
    assert!(done.starts_with("c1 OK"), "{done}");
    client.send("c2 SORT RETURN (UPDATE) (REVERSE ARRIVAL) UTF-8 ALL");
    assert_eq!(client.answer("c2").0, ["* ESEARCH (TAG \"c2\")"]);
    let mut other = LineClient::imap_login(server.imap, "ann", "pw");
    other.imap_ok("SELECT INBOX");
    // An arrival goes where its keys put it: between "b" and "d"; first by REVERSE
    // ARRIVAL. The updates follow the EXISTS.
    let internal = "04-Mar-2026 10:00:00 +0000";
    append(&mut other, internal, "Subject: c\r\n\r\nbody\r\n");
    let lines = client.imap_ok("NOOP");
    let at = |line: &str| lines.iter().position(|l| l == line);
    let exists = at("* 4 EXISTS").unwrap_or_else(|| panic!("{lines:?}"));
    let c1 = at("* ESEARCH (TAG \"c1\") UID ADDTO (2 4)");
    let c2 = at("* ESEARCH (TAG \"c2\") ADDTO (1 4)");
    assert!(
        c1.is_some_and(|c| c > exists) && c2.is_some_and(|c| c > exists),
        "{lines:?}"
    );
    // A flag change takes "d" (UID 2, third of b c d f) out of UNSEEN and back in.
    other.imap_ok("STORE 2 +FLAGS (\\Seen)");
    let lines = client.imap_ok("NOOP");
    assert!(
        lines.contains(&"* ESEARCH (TAG \"c1\") UID REMOVEFROM (3 2)".to_owned()),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("\"c2\"")), "{lines:?}");
    other.imap_ok("STORE 2 -FLAGS (\\Seen)");
    let lines = client.imap_ok("NOOP");
    assert!(
        lines.contains(&"* ESEARCH (TAG \"c1\") UID ADDTO (3 2)".to_owned()),
        "{lines:?}"
    );
    // An expunge of "d" and "b" (sequence 2 and 1): each leaves from where it is once
    // the one before it in the line has left, before the EXPUNGE lines.
    other.imap_ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)");
    other.imap_ok("EXPUNGE");
    let lines = client.imap_ok("NOOP");
    let at = |line: &str| lines.iter().position(|l| l == line);
    let c1 = at("* ESEARCH (TAG \"c1\") UID REMOVEFROM (1 1 2 2)");
    let c2 = at("* ESEARCH (TAG \"c2\") REMOVEFROM (3 2 3 1)");
    let expunge = at("* 1 EXPUNGE").unwrap_or_else(|| panic!("{lines:?}"));
    assert!(
        c1.is_some_and(|c| c < expunge) && c2.is_some_and(|c| c < expunge),
        "{lines:?}"
    );
    // What is left, in order, is what a new SORT answers.
    client.send("c3 UID SORT RETURN (ALL) (SUBJECT) UTF-8 UNSEEN");
    assert_eq!(
        client.answer("c3").0,
        ["* ESEARCH (TAG \"c3\") UID ALL 4,3"]
    );
    client.imap_ok("CANCELUPDATE \"c1\" \"c2\"");
}

#[test]
fn sort_keys_kept_in_memory_follow_arrivals_and_expunges() {
    let (_env, server, mut client) = served();
    let message = |date: &str, subject: &str, ids: &str| {
        format!("Date: {date}\r\nSubject: {subject}\r\n{ids}\r\nbody\r\n")
    };
    let internal = "01-Mar-2026 10:00:00 +0000";
    let first = message(
        "Tue, 03 Mar 2026 10:00:00 +0000",
        "b",
        "Message-ID: <1@x>\r\n",
    );
    let second = message(
        "Wed, 04 Mar 2026 10:00:00 +0000",
        "c",
        "Message-ID: <2@x>\r\n",
    );
    append(&mut client, internal, &first);
    append(&mut client, internal, &second);
    client.imap_ok("NOOP");
    // The first sort makes the mailbox's keys; what arrives later, also from another
    // session, is sorted at its place.
    assert_eq!(client.imap_ok("SORT (DATE) UTF-8 ALL"), ["* SORT 1 2"]);
    let mut other = LineClient::imap_login(server.imap, "ann", "pw");
    let early = message(
        "Mon, 02 Mar 2026 10:00:00 +0000",
        "a",
        "In-Reply-To: <2@x>\r\n",
    );
    append(&mut other, internal, &early);
    client.imap_ok("NOOP");
    assert_eq!(client.imap_ok("SORT (DATE) UTF-8 ALL"), ["* SORT 3 1 2"]);
    assert_eq!(
        client.imap_ok("SORT (REVERSE SUBJECT) UTF-8 ALL"),
        ["* SORT 2 1 3"]
    );
    assert_eq!(
        client.imap_ok("THREAD REFERENCES UTF-8 ALL"),
        ["* THREAD (1)(2 3)"]
    );
    // An expunged message leaves the answers; the others are numbered anew.
    client.imap_ok("STORE 1 +FLAGS (\\Deleted)");
    client.imap_ok("EXPUNGE");
    assert_eq!(client.imap_ok("SORT (DATE) UTF-8 ALL"), ["* SORT 2 1"]);
    assert_eq!(
        client.imap_ok("UID SORT (SUBJECT) UTF-8 ALL"),
        ["* SORT 3 2"]
    );
}

#[test]
fn malformed_sorts_are_refused() {
    let (_env, _server, mut client) = served();
    for bad in [
        "SORT () UTF-8 ALL",
        "SORT (REVERSE) UTF-8 ALL",
        "SORT (SUBJECT REVERSE) UTF-8 ALL",
        "SORT (RANDOM) UTF-8 ALL",
        "SORT SUBJECT UTF-8 ALL",
        "SORT (SUBJECT) ALL",
        "SORT (SUBJECT) UTF-8",
        "SORT RETURN (FOO) (SUBJECT) UTF-8 ALL",
        "SORT RETURN (PARTIAL 1:*) (SUBJECT) UTF-8 ALL",
        "SORT RETURN (ALL PARTIAL 1:2) (SUBJECT) UTF-8 ALL",
    ] {
        let (lines, done) = client.imap(bad);
        assert!(done.split(' ').nth(1) == Some("BAD"), "{bad}: {done}");
        assert!(lines.is_empty(), "{bad}: {lines:?}");
    }
    let done = client.imap_status("SORT (SUBJECT) ISO-2022-JP ALL");
    assert!(
        done.starts_with("NO [BADCHARSET (UTF-8 US-ASCII)]"),
        "{done}"
    );
    client.imap_ok("UNSELECT");
    let done = client.imap_status("SORT (SUBJECT) UTF-8 ALL");
    assert!(done.starts_with("BAD "), "{done}");
}

#[test]
fn threads_by_ordered_subject() {
    let (_env, _server, mut client) = served();
    for (date, subject) in [
        ("05-Feb-2026 10:00:00 +0000", "plans"),
        ("01-Feb-2026 10:00:00 +0000", "Lunch"),
        ("03-Feb-2026 10:00:00 +0000", "Re: plans"),
        ("02-Feb-2026 10:00:00 +0000", "re: lunch"),
        ("04-Feb-2026 10:00:00 +0000", "Fwd: Re: lunch"),
        ("06-Feb-2026 10:00:00 +0000", "alone"),
    ] {
        append(
            &mut client,
            date,
            &format!("Subject: {subject}\r\n\r\nx\r\n"),
        );
    }
    client.imap_ok("NOOP");
    // Threads in the order of their first message's date; a thread of two is flat, a
    // longer one has its first message as every other's parent.
    assert_eq!(
        client.imap_ok("THREAD ORDEREDSUBJECT UTF-8 ALL"),
        ["* THREAD (2 (4)(5))(3 1)(6)"]
    );
    assert_eq!(
        client.imap_ok("UID THREAD ORDEREDSUBJECT UTF-8 NOT 4"),
        ["* THREAD (2 5)(3 1)(6)"]
    );
    assert_eq!(
        client.imap_ok("THREAD ORDEREDSUBJECT UTF-8 SUBJECT nothing"),
        ["* THREAD"]
    );
    let done = client.imap_status("THREAD REFS UTF-8 ALL");
    assert!(done.starts_with("BAD "), "{done}");
}

#[test]
fn threads_by_references() {
    let (_env, _server, mut client) = served();
    for (date, header) in [
        // 1: a thread's start; 2 answers 1; 3 answers 2 and names 1 before it.
        (
            "01-Feb-2026 10:00:00 +0000",
            "Message-ID: <a@x>\r\nSubject: plan",
        ),
        (
            "02-Feb-2026 10:00:00 +0000",
            "Message-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\nSubject: Re: plan",
        ),
        (
            "03-Feb-2026 10:00:00 +0000",
            "Message-ID: <c@x>\r\nReferences: <a@x> <b@x>\r\nSubject: Re: plan",
        ),
        // 4 and 5 answer <gone@x>, which is not here: a dummy parent holds them.
        (
            "04-Feb-2026 10:00:00 +0000",
            "Message-ID: <d@x>\r\nReferences: <gone@x>\r\nSubject: lost",
        ),
        (
            "05-Feb-2026 10:00:00 +0000",
            "Message-ID: <e@x>\r\nReferences: <gone@x>\r\nSubject: lost",
        ),
        // 6 has no references but the subject of 1's thread, as a reply: it joins it.
        (
            "06-Feb-2026 10:00:00 +0000",
            "Message-ID: <f@x>\r\nSubject: Fwd: plan",
        ),
        // 7 stands alone.
        ("00:00:00", ""),
    ] {
        if date == "00:00:00" {
            append(
                &mut client,
                "07-Feb-2026 10:00:00 +0000",
                "Subject: other\r\n\r\nx\r\n",
            );
            continue;
        }
        append(&mut client, date, &format!("{header}\r\n\r\nx\r\n"));
    }
    client.imap_ok("NOOP");
    assert_eq!(
        client.imap_ok("THREAD REFERENCES UTF-8 ALL"),
        ["* THREAD (1 (2 3)(6))((4)(5))(7)"]
    );
    assert_eq!(
        client.imap_ok("UID THREAD REFERENCES UTF-8 NOT 2"),
        ["* THREAD (1 (3)(6))((4)(5))(7)"]
    );
}

/// A reply chain deeper than a link may walk, and a References field of 10,000 ids:
/// answered at once, every message once, no stack spent on the depth.
#[test]
fn deep_reply_chains_are_threaded_in_bounded_work() {
    let env = Env::new();
    env.add_user("ann", "pw");
    let mut mbox = String::new();
    for i in 1..=1_000 {
        let references = if i == 1 {
            (0..10_000)
                .map(|n| format!("<x{n}@y>"))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            format!("<m{}@y>", i - 1)
        };
        mbox.push_str(&format!(
            "From ann@example.org Mon Feb  2 10:00:00 2026\nMessage-ID: <m{i}@y>\n\
             References: {references}\nSubject: chain\n\nbody\n\n"
        ));
    }
    let path = env.dir.path().join("chain.mbox");
    std::fs::write(&path, mbox).expect("chain mbox");
    env.ok(
        &[
            "import-mbox",
            "--user",
            "ann",
            path.to_str().expect("UTF-8"),
        ],
        "",
    );
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, "ann", "pw");
    client.imap_ok("SELECT INBOX");
    let started = std::time::Instant::now();
    let lines = client.imap_ok("THREAD REFERENCES UTF-8 ALL");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("* THREAD ((1 2 3 4 5 "),
        "{}",
        &lines[0][..60]
    );
    let numbers: Vec<u32> = lines[0]
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers, (1..=1_000).collect::<Vec<u32>>());
}
