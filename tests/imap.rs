//! IMAP with real clients (Python imaplib, curl), between concurrent sessions, with
//! POP3 on the same INBOX, under SIGKILL, against malformed input, and with a FETCH
//! far larger than what the server may hold.

use crate::harness::{crlf, fixture_messages, messages_in, Env, LineClient, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

fn served_with(user: &str, mbox: Option<&str>) -> (Env, Server) {
    let env = Env::new();
    env.add_user(user, "pw");
    if let Some(mbox) = mbox {
        env.import(user, mbox);
    }
    let server = env.serve(&[]);
    (env, server)
}

#[test]
fn imaplib_session_over_every_fixture() {
    let (env, server) = served_with("ann", None);
    let out = env.dir.path().join("fetched");
    std::fs::create_dir(&out).unwrap();
    let fixtures: Vec<String> = {
        let dir = crate::harness::fixture("mail");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| p.display().to_string()).collect()
    };
    let script = crate::harness::fixture("../tests/clients/imap_session.py");
    let run = Command::new("python3")
        .arg(&script)
        .args(["127.0.0.1", &server.imap.port().to_string(), "ann", "pw"])
        .arg(&out)
        .args(&fixtures)
        .output()
        .expect("python3");
    assert!(
        run.status.success(),
        "imaplib session failed:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    for (n, (name, raw)) in fixture_messages().iter().enumerate() {
        let fetched = std::fs::read(out.join(format!("{:04}.eml", n + 1))).unwrap();
        assert!(
            fetched == crlf(raw),
            "{name}: BODY[] differs from what was appended"
        );
        let structure =
            std::fs::read_to_string(out.join(format!("{:04}.structure", n + 1))).unwrap();
        assert!(
            structure.contains("ENVELOPE (") && structure.contains("BODYSTRUCTURE ("),
            "{name}: {structure}"
        );
    }
    server.stop();
}

/// ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE and the body sections of every fixture
/// (the corpus in `fixtures/mail`, and `fixtures/mime`: MIME and address forms the
/// corpus lacks) are what Dovecot answers for the same message (`*.dovecot` beside each,
/// recorded once with `fixtures/record_dovecot_oracles.py`; each names the items fetched),
/// byte for byte but for one deliberate difference: where Dovecot sends a string
/// without line breaks as a literal (a folded header value, a name holding quotes),
/// mailhive sends the same string quoted.
#[test]
fn envelope_bodystructure_and_sections_match_dovecot() {
    let (_env, server) = served_with("ora", None);
    let mut client = LineClient::imap_login(server.imap, "ora", "pw");
    client.imap_ok("SELECT INBOX");
    let mut differences = Vec::new();
    let fixtures = ["mail", "mime"]
        .into_iter()
        .flat_map(|dir| messages_in(dir).into_iter().map(move |m| (dir, m)));
    for (n, (dir, (name, raw))) in fixtures.enumerate() {
        let message = crlf(&raw);
        client.send_bytes(format!("a{n} APPEND INBOX {{{}+}}\r\n", message.len()).as_bytes());
        client.send_bytes(&message);
        client.send_bytes(b"\r\n");
        let (_, done) = client.answer(&format!("a{n}"));
        assert!(done.contains(" OK "), "{name}: {done}");
        let oracle_path = crate::harness::fixture(dir).join(name.replace(".eml", ".dovecot"));
        let oracle = std::fs::read_to_string(&oracle_path).expect("oracle file");
        for expected in responses(&oracle) {
            let item = fetched_item(&expected);
            let untagged = client.imap_ok(&format!("FETCH {} ({item})", n + 1));
            let answer: String = untagged
                .iter()
                .filter(|l| l.contains(" FETCH ("))
                .map(|l| l.replace("\r\n", "\n"))
                .collect();
            if literals_as_quoted(&answer) != literals_as_quoted(&expected) {
                differences.push(format!(
                    "{name} {item}:\n  dovecot:  {expected}\n  mailhive: {answer}"
                ));
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    server.stop();
}

/// The length of `{N}` literal content in a recorded answer, where each line break
/// stands for CRLF: how many characters of `text` it spans.
fn literal_span(text: &str, octets: usize) -> usize {
    let mut counted = 0;
    for (i, c) in text.char_indices() {
        if counted >= octets {
            return i;
        }
        counted += if c == '\n' { 2 } else { c.len_utf8() };
    }
    text.len()
}

/// The literal announced at the start of `text` (`{N}` and a line break): its content
/// and what follows it.
fn literal_at(text: &str) -> Option<(&str, &str)> {
    let (digits, after) = text.strip_prefix('{')?.split_once("}\n")?;
    let octets = digits.parse().ok()?;
    let span = literal_span(after, octets);
    Some((&after[..span], &after[span..]))
}

/// The untagged answers of a recorded file, each without its final line break.
fn responses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let (line, after) = rest.split_at(line_end);
        current.push_str(line);
        rest = after;
        // A line ending in `{N}` goes on with N octets of literal.
        let octets = line
            .trim_end()
            .strip_suffix('}')
            .and_then(|l| l.rsplit_once('{'))
            .and_then(|(_, n)| n.parse::<usize>().ok());
        match octets {
            Some(octets) => {
                let span = literal_span(rest, octets);
                current.push_str(&rest[..span]);
                rest = &rest[span..];
            }
            None => out.push(std::mem::take(&mut current).trim_end().to_owned()),
        }
    }
    out
}

/// What to FETCH to get `answer` again: `* 1 FETCH (BODY[2.TEXT] {12}…` asks for
/// `BODY.PEEK[2.TEXT]`, `* 1 FETCH (ENVELOPE (…` for `ENVELOPE`.
fn fetched_item(answer: &str) -> String {
    let item = answer.split_once(" FETCH (").map_or("", |(_, item)| item);
    match item.strip_prefix("BODY[") {
        Some(section) => format!("BODY.PEEK[{}]", section.split(']').next().unwrap_or("")),
        None => item.split(' ').next().unwrap_or("").to_owned(),
    }
}

/// `text` with every literal that holds no line break written as the quoted string it
/// stands for.
fn literals_as_quoted(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        match literal_at(rest) {
            Some((content, after)) if !content.contains('\n') => {
                let escaped = content.replace('\\', "\\\\").replace('"', "\\\"");
                out.push_str(&format!("\"{escaped}\""));
                rest = after;
            }
            Some((content, after)) => {
                let header_len = rest.len() - after.len() - content.len();
                out.push_str(&rest[..header_len + content.len()]);
                rest = after;
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// mbsync (isync) mirrors the account into a local maildir, then pushes a flag set
/// locally and a message written locally; a third run has nothing left to do. It
/// compresses the connections (COMPRESS=DEFLATE).
#[test]
fn mbsync_mirrors_the_account_both_ways() {
    let (env, server) = served_with("mia", Some("corpus.mbox"));
    let local = env.dir.path().join("local");
    std::fs::create_dir(&local).unwrap();
    let rc = env.dir.path().join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount t\nHost 127.0.0.1\nPort {port}\nUser mia\nPass pw\nSSLType None\nAuthMechs LOGIN\n\n\
             IMAPStore remote\nAccount t\n\nMaildirStore local\nPath {dir}/\nInbox {dir}/INBOX\nSubFolders Verbatim\n\n\
             Channel c\nFar :remote:\nNear :local:\nPatterns *\nCreate Near\nSync All\nSyncState *\n",
            port = server.imap.port(),
            dir = local.display()
        ),
    )
    .unwrap();
    let sync = || {
        // -Dn prints the IMAP conversation (uncompressed) on standard output.
        let run = Command::new("mbsync")
            .args(["-Dn", "-c"])
            .arg(&rc)
            .arg("c")
            .output()
            .expect("mbsync (Debian package isync)");
        let said = String::from_utf8_lossy(&run.stderr).into_owned();
        assert!(run.status.success(), "mbsync failed: {said}");
        String::from_utf8_lossy(&run.stdout).into_owned() + &said
    };
    let said = sync();
    // mbsync compresses whenever the server offers COMPRESS=DEFLATE.
    assert!(said.contains(" COMPRESS DEFLATE\r\n"), "{said}");
    assert!(said.contains(" OK DEFLATE active"), "{said}");
    let inbox = local.join("INBOX");
    let files = |dir: &str| -> Vec<std::path::PathBuf> {
        let mut names: Vec<_> = std::fs::read_dir(inbox.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names
    };
    let pulled = [files("new"), files("cur")].concat();
    assert_eq!(pulled.len(), 10, "{pulled:?}");
    // mbsync writes maildir files with LF line endings and adds its own X-TUID header.
    let lf = |raw: &[u8]| String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let mut bodies: Vec<String> = pulled
        .iter()
        .map(|p| {
            let text = lf(&std::fs::read(p).unwrap());
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            lines.retain(|l| !l.starts_with("X-TUID: "));
            lines.concat()
        })
        .collect();
    let mut originals: Vec<String> = fixture_messages()
        .into_iter()
        .map(|(_, raw)| lf(&raw))
        .collect();
    bodies.sort();
    originals.sort();
    assert!(bodies == originals, "the mirrored messages differ");
    for dir in ["Sent", "Drafts", "Trash", "Junk", "Archive"] {
        assert!(local.join(dir).is_dir(), "{dir} was not mirrored");
    }

    // Mark UID 1 as seen locally (maildir flag S) and write a new message locally.
    let first = files("new")
        .into_iter()
        .find(|p| p.to_string_lossy().contains(",U=1:"))
        .expect("UID 1 in new/");
    let name = first.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::rename(&first, inbox.join("cur").join(format!("{name}S"))).unwrap();
    let written = b"From: mia@example.org\r\nSubject: written offline\r\n\r\nhello\r\n";
    std::fs::write(inbox.join("new").join("1700000000.local.host"), written).unwrap();
    // mbsync skips maildir entries changed within the last second.
    std::thread::sleep(Duration::from_millis(1100));
    sync();

    let mut client = LineClient::imap_login(server.imap, "mia", "pw");
    let untagged = client.imap_ok("SELECT INBOX");
    assert!(untagged.iter().any(|l| l == "* 11 EXISTS"), "{untagged:?}");
    let flags = client.imap_ok("UID FETCH 1 (FLAGS)");
    assert!(flags[0].contains("\\Seen"), "{flags:?}");
    let fetched = client.imap_ok("FETCH 11 (BODY.PEEK[])");
    assert!(
        fetched[0].contains("Subject: written offline"),
        "{fetched:?}"
    );
    drop(client);
    std::thread::sleep(Duration::from_millis(1100));
    let said = sync();
    let client_total =
        LineClient::imap_login(server.imap, "mia", "pw").imap_ok("STATUS INBOX (MESSAGES)");
    assert!(
        client_total[0].ends_with("(MESSAGES 11)"),
        "{client_total:?} {said}"
    );
    server.stop();
}

#[test]
fn curl_lists_and_fetches_messages_byte_exact() {
    let (_env, server) = served_with("ben", Some("corpus.mbox"));
    for (n, (name, raw)) in fixture_messages().iter().enumerate() {
        let url = format!("imap://{}/INBOX;UID={}", server.imap, n + 1);
        let run = Command::new("curl")
            .args(["-s", "--max-time", "20", "--user", "ben:pw", &url])
            .output()
            .expect("curl");
        assert!(run.status.success(), "curl {url}: {:?}", run.status);
        assert!(run.stdout == crlf(raw), "{name} differs over curl");
    }
    let list = Command::new("curl")
        .args(["-s", "--max-time", "20", "--user", "ben:pw"])
        .arg(format!("imap://{}/", server.imap))
        .output()
        .expect("curl");
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("\"INBOX\"") && list.contains("\\Sent"),
        "{list}"
    );
    server.stop();
}

#[test]
fn two_sessions_see_each_others_changes_and_idle_wakes_at_once() {
    let (_env, server) = served_with("cid", Some("pop3.mbox"));
    let mut a = LineClient::imap_login(server.imap, "cid", "pw");
    let mut b = LineClient::imap_login(server.imap, "cid", "pw");
    a.imap_ok("SELECT INBOX");
    b.imap_ok("SELECT INBOX");
    // B changes flags, expunges and appends; A learns at its next command.
    b.imap_ok("STORE 1 +FLAGS (\\Flagged)");
    b.imap_ok("STORE 2 +FLAGS (\\Deleted)");
    b.imap_ok("EXPUNGE");
    b.send_bytes(b"t99 APPEND INBOX {20+}\r\nSubject: new\r\n\r\nhi\r\n\r\n");
    assert!(b.answer("t99").1.starts_with("t99 OK [APPENDUID "));
    // EXISTS counts the appended message before the expunge is announced. A selected
    // first, so the three messages there are \Recent in A; B appended the fourth and
    // holds \Recent for it (A's count is unchanged: no RECENT line).
    let seen = a.imap_ok("NOOP");
    for expected in [
        "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))",
        "* 4 EXISTS",
        "* 2 EXPUNGE",
    ] {
        assert!(
            seen.iter().any(|l| l == expected),
            "{expected} missing: {seen:?}"
        );
    }
    // No EXPUNGE while A runs a command that uses sequence numbers.
    b.imap_ok("STORE 1 +FLAGS (\\Deleted)");
    b.imap_ok("EXPUNGE");
    let during_fetch = a.imap_ok("FETCH 1:* UID");
    assert!(
        !during_fetch.iter().any(|l| l.ends_with("EXPUNGE")),
        "{during_fetch:?}"
    );
    let after = a.imap_ok("NOOP");
    assert_eq!(after, vec!["* 1 EXPUNGE".to_owned()]);
    // IDLE: B's append reaches A without A asking.
    a.send_bytes(b"i1 IDLE\r\n");
    assert_eq!(a.response(), "+ idling");
    let start = Instant::now();
    b.send_bytes(b"t98 APPEND INBOX {20+}\r\nSubject: two\r\n\r\nhi\r\n\r\n");
    assert!(b.answer("t98").1.starts_with("t98 OK"));
    assert_eq!(a.response(), "* 3 EXISTS");
    assert_eq!(a.response(), "* 1 RECENT");
    let waited = start.elapsed();
    assert!(
        waited < Duration::from_secs(1),
        "IDLE woke after {waited:?}"
    );
    b.imap_ok("STORE 3 +FLAGS (\\Seen)");
    assert_eq!(a.response(), "* 3 FETCH (UID 5 FLAGS (\\Seen))");
    a.send_bytes(b"DONE\r\n");
    assert_eq!(a.response(), "i1 OK IDLE terminated");
    server.stop();
}

/// Two sessions with INBOX selected append to it at the same time. Each APPEND's
/// answer counts the new message (RFC 3501 §6.3.11: EXISTS at once), and no session
/// loses sight of the other's messages that were appended while its own APPEND ran: at
/// the end both know every message, in UID order.
#[test]
fn concurrent_appends_to_the_selected_mailbox_reach_both_sessions_in_order() {
    const EACH: usize = 60;
    let (_env, server) = served_with("dee", None);
    // Logged in and selected first (a login takes longer than the appends), then both
    // start at once.
    let start = std::sync::Arc::new(std::sync::Barrier::new(2));
    let session = |name: &'static str| {
        let mut client = LineClient::imap_login(server.imap, "dee", "pw");
        client.imap_ok("SELECT INBOX");
        let start = start.clone();
        std::thread::spawn(move || {
            start.wait();
            let mut exists = 0usize;
            for i in 0..EACH {
                let body = format!("Subject: {name} {i}\r\n\r\nhi\r\n");
                let tag = format!("a{i}");
                client.send(&format!("{tag} APPEND INBOX {{{}+}}", body.len()));
                client.send_bytes(format!("{body}\r\n").as_bytes());
                let (untagged, done) = client.answer(&tag);
                assert!(done.starts_with(&format!("{tag} OK [APPENDUID ")), "{done}");
                let told = untagged
                    .iter()
                    .filter_map(|l| l.strip_prefix("* ")?.strip_suffix(" EXISTS"))
                    .filter_map(|n| n.parse::<usize>().ok())
                    .max();
                let told = told.unwrap_or_else(|| panic!("{name}: no EXISTS: {untagged:?}"));
                assert!(told > exists, "{name}: EXISTS went from {exists} to {told}");
                exists = told;
            }
            client
        })
    };
    let (a, b) = (session("a"), session("b"));
    let mut clients = [a.join().expect("a"), b.join().expect("b")];
    for client in &mut clients {
        client.imap_ok("NOOP");
        let mut uids = Vec::new();
        for line in client.imap_ok("FETCH 1:* (UID)") {
            if let Some((_, uid)) = line.split_once("(UID ") {
                uids.push(uid.trim_end_matches(')').parse::<u32>().expect("a UID"));
            }
        }
        let every: Vec<u32> = (1..=2 * EACH as u32).collect();
        assert_eq!(
            uids, every,
            "a session does not know every message in order"
        );
    }
    server.stop();
}

#[test]
fn idle_sends_keepalives_at_the_configured_interval() {
    let env = Env::with_imap_settings("idle_keepalive_interval = 10");
    env.add_user("dee", "pw");
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, "dee", "pw");
    client.imap_ok("SELECT INBOX");
    client.send_bytes(b"i1 IDLE\r\n");
    assert_eq!(client.response(), "+ idling");
    let start = Instant::now();
    assert_eq!(client.response(), "* OK Still here");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(9) && waited < Duration::from_secs(15),
        "{waited:?}"
    );
    client.send_bytes(b"DONE\r\n");
    assert_eq!(client.response(), "i1 OK IDLE terminated");
    server.stop();
}

#[test]
fn pop3_deletions_reach_imap_as_expunges() {
    let (_env, server) = served_with("eve", Some("pop3.mbox"));
    let mut imap = LineClient::imap_login(server.imap, "eve", "pw");
    imap.imap_ok("SELECT INBOX");
    imap.send_bytes(b"i1 IDLE\r\n");
    assert_eq!(imap.response(), "+ idling");
    let mut pop3 = TcpStream::connect(server.pop3).unwrap();
    pop3.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    pop3.write_all(b"USER eve\r\nPASS pw\r\nDELE 2\r\nQUIT\r\n")
        .unwrap();
    let mut answer = String::new();
    pop3.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("(1 messages deleted)"), "{answer}");
    assert_eq!(imap.response(), "* 2 EXPUNGE");
    imap.send_bytes(b"DONE\r\n");
    assert_eq!(imap.response(), "i1 OK IDLE terminated");
    let uids = imap.imap_ok("FETCH 1:* UID");
    assert_eq!(uids, vec!["* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)"]);
    server.stop();
}

#[test]
fn acknowledged_appends_and_flags_survive_sigkill() {
    let (env, server) = served_with("fay", None);
    let mut client = LineClient::imap_login(server.imap, "fay", "pw");
    client.imap_ok("SELECT INBOX");
    for n in 0..20 {
        let message = format!("Subject: m{n}\r\n\r\nbody {n}\r\n");
        client.send_bytes(
            format!("a{n} APPEND INBOX {{{}+}}\r\n{message}\r\n", message.len()).as_bytes(),
        );
        let (_, done) = client.answer(&format!("a{n}"));
        assert!(done.starts_with(&format!("a{n} OK")), "{done}");
    }
    client.imap_ok("STORE 1:10 +FLAGS (\\Answered)");
    client.imap_ok("STORE 11 +FLAGS (\\Deleted)");
    client.imap_ok("EXPUNGE");
    server.kill();
    let store = env.store();
    let fay = mailhive_store::Username::parse("fay").unwrap();
    let inbox = store
        .mailbox(&fay, &mailhive_store::MailboxName::inbox())
        .unwrap()
        .unwrap();
    let messages: Vec<_> = store
        .messages(inbox.id, 1..=u32::MAX)
        .map(Result::unwrap)
        .collect();
    assert_eq!(messages.len(), 19);
    let answered = messages
        .iter()
        .filter(|m| {
            m.flags
                .system
                .contains(mailhive_store::SystemFlags::ANSWERED)
        })
        .count();
    assert_eq!(answered, 10);
}

#[test]
fn malformed_commands_answer_bad_and_the_connection_goes_on() {
    let (_env, server) = served_with("gus", Some("pop3.mbox"));
    let mut client = LineClient::imap_login(server.imap, "gus", "pw");
    client.imap_ok("SELECT INBOX");
    let table: &[&[u8]] = &[
        b"\r\n",
        b" NOOP\r\n",
        b"+tag NOOP\r\n",
        b"(t1) NOOP\r\n",
        b"t1\r\n",
        b"t1 \r\n",
        b"t1  NOOP\r\n",
        b"t1 FROB\r\n",
        b"t1 NOOP extra\r\n",
        b"t1 NO\x00OP\r\n",
        b"t1 FETCH\r\n",
        b"t1 FETCH 1\r\n",
        b"t1 FETCH 0 FLAGS\r\n",
        b"t1 FETCH 1:x FLAGS\r\n",
        b"t1 FETCH 1,,2 FLAGS\r\n",
        b"t1 FETCH 1: FLAGS\r\n",
        b"t1 FETCH 99999999999 FLAGS\r\n",
        b"t1 FETCH 1 (FLAGS\r\n",
        b"t1 FETCH 1 FLAGS)\r\n",
        b"t1 FETCH 1 (FLAGS UID))\r\n",
        b"t1 FETCH 1 BODY[1.HEADER.FIELDS ()]\r\n",
        b"t1 FETCH 1 BODY[0]\r\n",
        b"t1 FETCH 1 BODY[MIME]\r\n",
        b"t1 FETCH 1 BODY[]<5>\r\n",
        b"t1 FETCH 1 BODY[]<1.0>\r\n",
        b"t1 FETCH 1 FROB\r\n",
        b"t1 FETCH 9 FLAGS\r\n",
        b"t1 STORE 1 FLAGS (\\Bogus)\r\n",
        b"t1 STORE 1 +FLAGS (\\Recent)\r\n",
        b"t1 STORE 1 FLAGS.LOUD (\\Seen)\r\n",
        b"t1 SEARCH\r\n",
        b"t1 SEARCH FROB\r\n",
        b"t1 SEARCH (SEEN\r\n",
        b"t1 SEARCH OR SEEN\r\n",
        b"t1 SEARCH SINCE 31-Feb-2024\r\n",
        b"t1 SEARCH SINCE 1-Foo-2024\r\n",
        b"t1 SEARCH LARGER x\r\n",
        b"t1 SEARCH HEADER\r\n",
        b"t1 SELECT \"unterminated\r\n",
        b"t1 SELECT \"bad\\escape\"\r\n",
        b"t1 LOGIN {3+}\r\nab\r\n",
        b"t1 UID FROB 1\r\n",
        b"t1 UID EXPUNGE\r\n",
        b"t1 STATUS INBOX (FROB)\r\n",
        b"t1 STATUS INBOX ()\r\n",
        b"t1 APPEND INBOX (\\Seen) \"32-Jan-2024 00:00:00 +0000\" {3+}\r\nabc\r\n",
        b"t1 APPEND INBOX \"01-Jan-2024 25:00:00 +0000\" {3+}\r\nabc\r\n",
        b"t1 LIST (FROB) \"\" *\r\n",
        b"t1 ID (\"name\")\r\n",
        b"t1 ENABLE\r\n",
        b"t1 COPY 1\r\n",
    ];
    assert!(table.len() >= 40);
    for input in table {
        client.send_bytes(input);
        let answer = client.response();
        let tag_ok = answer.starts_with("t1 BAD ") || answer.starts_with("* BAD ");
        assert!(
            tag_ok,
            "{:?} was answered {answer:?}",
            String::from_utf8_lossy(input)
        );
        // Still working, and still in the selected state.
        let (_, done) = client.imap("NOOP");
        assert!(
            done.contains(" OK "),
            "after {:?}: {done}",
            String::from_utf8_lossy(input)
        );
    }
    // A name that is not valid modified UTF-7 follows the grammar: NO, as for a name
    // that cannot exist (RFC 3501 §5.1.3), in every command that takes one.
    for command in [
        "CREATE &Jjo",
        "CREATE \"&AGE-\"",
        "CREATE \"caf\u{e9}\"",
        "SELECT &Jjo",
        "STATUS \"&AGE\" (MESSAGES)",
        "DELETE &",
    ] {
        let done = client.imap_status(command);
        assert!(
            done.starts_with("NO [CANNOT] Invalid mailbox name"),
            "{command}: {done}"
        );
    }
    let uids = client.imap_ok("FETCH 1:* UID");
    assert_eq!(uids.len(), 3);
    server.stop();
}

#[test]
fn a_fetch_of_20000_messages_streams_with_bounded_memory() {
    let env = Env::new();
    env.add_user("hal", "pw");
    {
        let store = env.store();
        let hal = mailhive_store::Username::parse("hal").unwrap();
        let inbox = store
            .mailbox(&hal, &mailhive_store::MailboxName::inbox())
            .unwrap()
            .unwrap()
            .id;
        let filler = "All work and no play makes a dull message.\r\n".repeat(90);
        let bodies: Vec<String> = (0..20_000)
            .map(|n| format!("Subject: message {n}\r\nMessage-ID: <{n}@test>\r\n\r\n{filler}"))
            .collect();
        for chunk in bodies.chunks(1000) {
            let batch: Vec<mailhive_store::NewMessage<'_>> = chunk
                .iter()
                .map(|raw| mailhive_store::NewMessage {
                    raw: raw.as_bytes(),
                    flags: mailhive_store::Flags::default(),
                    internal_date: mailhive_store::InternalDate::now(),
                })
                .collect();
            store.append(inbox, &batch, &hal).unwrap().unwrap();
        }
    }
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, "hal", "pw");
    client.imap_ok("SELECT INBOX");
    let before = server.rss_kib();
    // About 80 MB of answer: the server may hold a batch of it, not the answer.
    client.send_bytes(b"f1 FETCH 1:* (UID RFC822.SIZE BODY.PEEK[])\r\n");
    let mut peak = before;
    let mut messages = 0;
    let mut total = 0usize;
    loop {
        let line = client.response();
        if line.starts_with("f1 ") {
            assert!(line.starts_with("f1 OK"), "{line}");
            break;
        }
        messages += 1;
        total += line.len();
        if messages % 500 == 0 {
            peak = peak.max(server.rss_kib());
            // A slow reader: the server must wait, not buffer.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert_eq!(messages, 20_000);
    assert!(total > 80_000_000, "{total}");
    let grown = peak.saturating_sub(before);
    assert!(
        grown < 40 * 1024,
        "RSS grew by {grown} KiB during the FETCH"
    );
    server.stop();
}
