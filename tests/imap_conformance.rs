//! IMAP answers where RFC 3501 and Dovecot leave no room: address lists of any size in
//! ENVELOPE, SEARCH on message ids and sent dates, and LSUB.

use crate::harness::{Env, LineClient, Server};
use std::time::{Duration, Instant};

fn served(user: &str) -> (Env, Server, LineClient) {
    let env = Env::new();
    env.add_user(user, "pw");
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, user, "pw");
    client.imap_ok("SELECT INBOX");
    (env, server, client)
}

fn append(client: &mut LineClient, message: &[u8]) {
    append_dated(client, "", message);
}

/// APPEND with `date` (`"05-Mar-2021 10:00:00 +0000" `, or empty) before the literal.
fn append_dated(client: &mut LineClient, date: &str, message: &[u8]) {
    client.send_bytes(format!("a1 APPEND INBOX {date}{{{}+}}\r\n", message.len()).as_bytes());
    client.send_bytes(message);
    client.send_bytes(b"\r\n");
    let (_, done) = client.answer("a1");
    assert!(done.starts_with("a1 OK "), "{done}");
}

/// A To: of 100,000 addresses, each named by a comment, is appended and its ENVELOPE
/// fetched in well under a second of server time: the address parser reads the field
/// once (Dovecot's was quadratic, CVE-2024-23184), and every name is kept.
#[test]
fn an_address_list_of_100000_is_parsed_in_linear_time() {
    let (_env, server, mut client) = served("ada");
    let to: Vec<String> = (0..100_000)
        .map(|i| format!("u{i}@example.org (User {i})"))
        .collect();
    let message = format!(
        "From: ada@example.org\r\nTo: {}\r\nSubject: everyone\r\n\r\nhello\r\n",
        to.join(",\r\n ")
    );
    let start = Instant::now();
    append(&mut client, message.as_bytes());
    let answer = client.imap_ok("FETCH 1 (ENVELOPE)");
    let took = start.elapsed();
    let envelope = answer.concat();
    assert_eq!(
        envelope.matches("\" NIL \"u").count(),
        100_000,
        "every address has its name"
    );
    assert!(
        envelope.contains(r#"("User 0" NIL "u0" "example.org")("User 1" NIL "u1" "example.org")"#)
            && envelope
                .ends_with(r#"("User 99999" NIL "u99999" "example.org")) NIL NIL NIL NIL))"#),
        "{}",
        &envelope[..300]
    );
    // Debug builds take about 0.6 s; a parser that rescans the field takes minutes.
    assert!(
        took < Duration::from_secs(2),
        "APPEND and FETCH took {took:?}"
    );
    server.stop();
}

fn search(client: &mut LineClient, criteria: &str) -> String {
    let found = client.imap_ok(&format!("SEARCH {criteria}"));
    assert_eq!(found.len(), 1, "{criteria}: {found:?}");
    found[0].clone()
}

/// SEARCH HEADER finds a Message-ID as written, angle brackets included, also in a
/// message whose body has lines starting with "From "; the SENT keys fall back to the
/// internal date when the Date header is missing or does not parse, as in Dovecot.
#[test]
fn search_finds_message_ids_and_sent_dates_of_undated_messages() {
    let (_env, server, mut client) = served("sid");
    append(
        &mut client,
        b"Date: Sun, 18 Jan 2026 12:00:00 +0000\r\nFrom: poet@example.org\r\n\
          Message-ID: <from-lines@example.org>\r\nSubject: verse\r\n\r\n\
          From here to there,\r\nFrom there to here.\r\n",
    );
    append_dated(
        &mut client,
        "\"05-Mar-2021 10:00:00 +0000\" ",
        b"From: a@example.org\r\nSubject: no date\r\n\r\nx\r\n",
    );
    append_dated(
        &mut client,
        "\"06-Mar-2021 23:30:00 +0000\" ",
        b"Date: sometime last week\r\nFrom: a@example.org\r\nSubject: bad date\r\n\r\nx\r\n",
    );
    assert_eq!(
        search(&mut client, "HEADER Message-ID <from-lines@example.org>"),
        "* SEARCH 1"
    );
    assert_eq!(
        search(&mut client, "HEADER Message-ID \"lines@example.org>\""),
        "* SEARCH 1"
    );
    assert_eq!(search(&mut client, "SENTON 5-Mar-2021"), "* SEARCH 2");
    assert_eq!(search(&mut client, "SENTBEFORE 6-Mar-2021"), "* SEARCH 2");
    assert_eq!(search(&mut client, "SENTSINCE 6-Mar-2021"), "* SEARCH 1 3");
    assert_eq!(search(&mut client, "SENTSINCE 1-Jan-2026"), "* SEARCH 1");
    server.stop();
}

/// LSUB (RFC 3501 §6.3.9): every subscribed name is listed, also one whose mailbox was
/// deleted; with `%`, a subscribed name's parent that is not subscribed itself is
/// listed `\Noselect`, whether or not it exists.
#[test]
fn lsub_lists_subscriptions_and_their_unsubscribed_parents() {
    let (_env, server, mut client) = served("lu");
    client.imap_ok("CREATE proj/a");
    client.imap_ok("CREATE gone");
    client.imap_ok("SUBSCRIBE proj/a");
    client.imap_ok("SUBSCRIBE gone");
    client.imap_ok("SUBSCRIBE ghost/x");
    client.imap_ok("DELETE gone");
    let mut top = client.imap_ok("LSUB \"\" %");
    top.retain(|l| !l.contains("\"INBOX\"") && !l.contains("\\HasNoChildren \\"));
    top.sort();
    assert_eq!(
        top,
        vec![
            "* LSUB () \"/\" \"gone\"",
            "* LSUB (\\Noselect) \"/\" \"ghost\"",
            "* LSUB (\\Noselect) \"/\" \"proj\"",
        ],
        "{top:?}"
    );
    let all = client.imap_ok("LSUB \"\" *");
    for name in ["ghost/x", "proj/a", "gone"] {
        let listed = all.iter().any(|l| l.ends_with(&format!(" \"{name}\"")));
        assert!(listed, "{name}: {all:?}");
    }
    assert!(!all.iter().any(|l| l.ends_with(" \"proj\"")), "{all:?}");
    server.stop();
}
