//! MULTIAPPEND (RFC 3502) and CATENATE (RFC 4469) over real sockets: several messages
//! in one APPEND stored together with one APPENDUID, none when one of them is refused;
//! literals over the spool threshold going through the spool, whatever their place;
//! URL parts taken from mailboxes the user may read, and refused with BADURL from those
//! they may not; sections and partial ranges; MaxMessageSize on what URLs add.

use crate::harness::{Env, LineClient, Server};
use mailhive::spool::SPOOL_FROM;

/// karen's INBOX holds the demo messages, shared with alice (`lr`) and listed only to
/// bob (`l`); alice's own INBOX is empty.
fn users(imap_settings: &str) -> (Env, Server) {
    let env = Env::with_imap_settings(imap_settings);
    for user in ["karen", "alice", "bob"] {
        env.add_user(user, "pw");
    }
    env.import("karen", "pop3.mbox");
    env.grant("karen", "INBOX", "alice", "lr");
    env.grant("karen", "INBOX", "bob", "l");
    let server = env.serve(&[]);
    (env, server)
}

fn message(subject: &str, body: &str) -> String {
    format!("From: a@example.org\r\nSubject: {subject}\r\n\r\n{body}\r\n")
}

/// `{n+}` and the bytes: a non-synchronising literal.
pub(crate) fn literal(bytes: &str) -> String {
    format!("{{{}+}}\r\n{bytes}", bytes.len())
}

/// Sends `tag APPEND rest` and returns the tagged answer without the tag.
pub(crate) fn append(client: &mut LineClient, tag: &str, rest: &str) -> String {
    client.send_bytes(format!("{tag} APPEND {rest}\r\n").as_bytes());
    let (_, done) = client.answer(tag);
    done.strip_prefix(&format!("{tag} "))
        .unwrap_or(&done)
        .to_owned()
}

fn count(client: &mut LineClient, mailbox: &str) -> String {
    client.imap_ok(&format!("STATUS {mailbox} (MESSAGES UIDNEXT)"))[0].clone()
}

/// The UIDVALIDITY of `client`'s INBOX, as STATUS gives it.
fn uid_validity(client: &mut LineClient) -> String {
    let status = client.imap_ok("STATUS INBOX (UIDVALIDITY)")[0].clone();
    status
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn three_messages_are_stored_together_with_one_uid_set() {
    let (_env, server) = users("");
    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    let validity = uid_validity(&mut alice);
    let answer = append(
        &mut alice,
        "m1",
        &format!(
            "INBOX (\\Seen) {} (\\Flagged $Work) \"07-Feb-2024 13:05:09 +0100\" {} {}",
            literal(&message("one", "1")),
            literal(&message("two", "2")),
            literal(&message("three", "3"))
        ),
    );
    assert_eq!(
        answer,
        format!("OK [APPENDUID {validity} 1:3] APPEND completed")
    );
    alice.imap_ok("SELECT INBOX");
    let fetched =
        alice.imap_ok("FETCH 1:3 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    let joined = fetched.join("\n");
    for (n, subject) in ["one", "two", "three"].iter().enumerate() {
        assert!(
            fetched[n].contains(&format!("Subject: {subject}")),
            "{joined}"
        );
    }
    assert!(fetched[0].contains("\\Seen"), "{joined}");
    assert!(
        fetched[1].contains("\\Flagged")
            && fetched[1].contains("$Work")
            && fetched[1].contains("07-Feb-2024 13:05:09 +0100"),
        "{joined}"
    );
}

#[test]
fn one_refused_message_stores_none_of_them() {
    let (_env, server) = users("");
    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    let before = count(&mut alice, "INBOX");
    let (one, three) = (
        literal(&message("one", "1")),
        literal(&message("three", "3")),
    );
    for (middle, want) in [
        (
            "{0+}\r\n".to_owned(),
            "NO [CANNOT] An empty message cannot be appended",
        ),
        (
            "CATENATE (URL \"/#users/karen/INBOX/;UID=99\")".to_owned(),
            "NO [BADURL /#users/karen/INBOX/;UID=99] The URL names nothing that can be read",
        ),
        (
            format!("\"31-Feb-2024 00:00:00 +0000\" {}", literal("x")),
            "BAD invalid date",
        ),
    ] {
        let answer = append(&mut alice, "m", &format!("INBOX {one} {middle} {three}"));
        assert_eq!(answer, want);
        assert_eq!(count(&mut alice, "INBOX"), before);
    }
    // A target that does not exist is answered first, whatever the parts.
    let answer = append(
        &mut alice,
        "m",
        &format!("Nowhere {one} CATENATE (URL \"/INBOX/;UID=7\")"),
    );
    assert_eq!(answer, "NO [TRYCREATE] Mailbox does not exist");
}

#[test]
fn spooled_literals_anywhere_in_the_command_go_through_the_spool() {
    let (env, server) = users("");
    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    let big = |fill: char| message("big", &fill.to_string().repeat(SPOOL_FROM + 1000));
    let (first, second) = (big('a'), big('b'));
    let small = message("small", "s");
    let answer = append(
        &mut alice,
        "m1",
        &format!(
            "INBOX {} {} CATENATE (TEXT {} URL \"/#users/karen/INBOX/;UID=1/;SECTION=TEXT\") {}",
            literal(&first),
            literal(&small),
            literal(&second),
            literal(&small)
        ),
    );
    assert!(answer.starts_with("OK [APPENDUID "), "{answer}");
    assert_eq!(
        std::fs::read_dir(env.data().join("spool"))
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "spool files left behind"
    );
    alice.imap_ok("SELECT INBOX");
    let sizes = alice.imap_ok("FETCH 1:4 (RFC822.SIZE)");
    let karen_text = {
        let mut karen = LineClient::imap_login(server.imap, "karen", "pw");
        karen.imap_ok("EXAMINE INBOX");
        let text = karen.imap_ok("FETCH 1 (BODY.PEEK[TEXT])");
        let announced = text[0]
            .split('{')
            .nth(1)
            .and_then(|s| s.split('}').next())
            .unwrap_or("0");
        announced.parse::<usize>().unwrap_or(0)
    };
    assert_eq!(
        sizes,
        [
            format!("* 1 FETCH (RFC822.SIZE {})", first.len()),
            format!("* 2 FETCH (RFC822.SIZE {})", small.len()),
            format!("* 3 FETCH (RFC822.SIZE {})", second.len() + karen_text),
            format!("* 4 FETCH (RFC822.SIZE {})", small.len()),
        ]
    );
    let tail = alice.imap_ok(&format!("FETCH 3 (BODY.PEEK[]<{}.8>)", second.len() - 10));
    assert!(tail[0].ends_with("bbbbbbbb)"), "{tail:?}");
}

#[test]
fn urls_reach_what_the_user_may_read_and_nothing_else() {
    let (_env, server) = users("max_message_size = 2000");
    let mut karen = LineClient::imap_login(server.imap, "karen", "pw");
    karen.imap_ok("EXAMINE INBOX");
    let header = karen.imap_ok("FETCH 1 (BODY.PEEK[HEADER])").join("");
    let subject = karen
        .imap_ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        .join("");
    let literal_of = |answer: &str| {
        answer
            .split_once("}\r\n")
            .map(|(_, s)| s.trim_end_matches(')').to_owned())
    };
    let (header, subject) = (literal_of(&header), literal_of(&subject));
    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    let validity = uid_validity(&mut karen);
    let shared = "/%23users/karen/INBOX";
    let answer = append(
        &mut alice,
        "c1",
        &format!(
            "INBOX CATENATE (URL \"{shared};UIDVALIDITY={validity}/;UID=1/;SECTION=HEADER\" TEXT {}) CATENATE (URL \"imap://alice@localhost{shared}/;UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)\" TEXT {} URL \"{shared}/;UID=1/;SECTION=HEADER/;PARTIAL=0.6\")",
            literal("mine\r\n"),
            literal("\r\nbody\r\n")
        ),
    );
    assert!(answer.starts_with("OK [APPENDUID "), "{answer}");
    alice.imap_ok("SELECT INBOX");
    let first = alice.imap_ok("FETCH 1 (BODY.PEEK[])").join("");
    let second = alice.imap_ok("FETCH 2 (BODY.PEEK[])").join("");
    let (header, subject) = (header.expect("a header"), subject.expect("a subject"));
    assert!(first.ends_with(&format!("{header}mine\r\n)")), "{first:?}");
    assert!(
        // The stored message gets the line break it lacks.
        second.ends_with(&format!("{subject}\r\nbody\r\n{}\r\n)", &header[..6])),
        "{second:?}"
    );
    // Karen's \Seen is untouched by what alice took.
    assert!(!karen.imap_ok("FETCH 1 (FLAGS)")[0].contains("\\Seen"));
    for url in [
        format!("{shared};UIDVALIDITY=1/;UID=1"),
        format!("{shared}/;UID=1/;SECTION=9"),
        format!("{shared}/;UID=1/;SECTION=BOGUS"),
        "imap://karen@localhost/INBOX/;UID=1".to_owned(),
        "/%23users/bob/INBOX/;UID=1".to_owned(),
        "/INBOX/;UID=1/;URLAUTH=anonymous:internal:0".to_owned(),
    ] {
        let answer = append(&mut alice, "c2", &format!("INBOX CATENATE (URL \"{url}\")"));
        assert_eq!(
            answer,
            format!("NO [BADURL {url}] The URL names nothing that can be read")
        );
    }
    // bob may list karen's INBOX, not read it: the same answer as for no mailbox.
    let mut bob = LineClient::imap_login(server.imap, "bob", "pw");
    let url = format!("{shared}/;UID=1");
    let answer = append(&mut bob, "c3", &format!("INBOX CATENATE (URL \"{url}\")"));
    assert_eq!(
        answer,
        format!("NO [BADURL {url}] The URL names nothing that can be read")
    );
    // A URL echoed in the response code cannot break out of it.
    let answer = append(&mut bob, "c4", "INBOX CATENATE (URL \"/a] b/;UID=1\")");
    assert_eq!(
        answer,
        "NO [BADURL /a%5D%20b/;UID=1] The URL names nothing that can be read"
    );
    // What URLs add counts against MaxMessageSize (2,000 here), per message and together.
    let size: usize = karen.imap_ok("FETCH 1 (RFC822.SIZE)")[0]
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a size");
    let urls = |n: usize| vec![format!("URL \"{shared}/;UID=1\""); n].join(" ");
    let one = format!("INBOX CATENATE ({})", urls(2000 / size + 1));
    assert_eq!(
        append(&mut alice, "c5", &one),
        "NO [TOOBIG] Message too large"
    );
    let half = urls(2000 / size / 2 + 1);
    let two = format!("INBOX CATENATE ({half}) CATENATE ({half})");
    assert_eq!(
        append(&mut alice, "c6", &two),
        "NO [TOOBIG] Message too large"
    );
    let fits = format!("INBOX CATENATE ({half})");
    assert!(append(&mut alice, "c7", &fits).starts_with("OK [APPENDUID "));
    assert_eq!(
        count(&mut alice, "INBOX"),
        "* STATUS \"INBOX\" (MESSAGES 3 UIDNEXT 4)"
    );
}

/// Many literals each under the spool threshold do not add up in memory: once the
/// command's kept literals would pass 1 MiB, each goes to a spool file of its own, and
/// a client that leaves mid-command leaves none behind.
#[test]
fn many_small_literals_in_flight_are_spooled_not_held() {
    const EACH: usize = SPOOL_FROM - 100;
    const COUNT: usize = 24;
    let (env, server) = users("");
    let spool = env.data().join("spool");
    let spooled = || std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    let body = message("part", &"p".repeat(EACH - 40));
    let before = server.rss_kib();
    alice.send_bytes(b"m1 APPEND INBOX");
    for _ in 0..COUNT {
        alice.send_bytes(format!(" {}", literal(&body)).as_bytes());
    }
    // The command is not complete: everything but the first literal is on disk.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while spooled() < COUNT - 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let held = server.rss_kib().saturating_sub(before);
    eprintln!("{COUNT} literals of 1 MiB in one APPEND in flight: RSS grew {held} KiB");
    assert_eq!(spooled(), COUNT - 1);
    assert!(held < 8 * 1024, "the server held {held} KiB of the upload");
    drop(alice);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while spooled() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(spooled(), 0, "spool files left behind");
}
