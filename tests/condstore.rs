//! CONDSTORE and QRESYNC (RFC 7162) over real sockets: the resynchronisation Thunderbird
//! and K-9 do (ENABLE QRESYNC, SELECT with QRESYNC, UID FETCH CHANGEDSINCE), run twice
//! against a mailbox changed in between, returns only the changes; other sessions hear
//! of changes with their MODSEQ and of expunges as VANISHED; a sharer's own \Seen gets a
//! modseq; UNCHANGEDSINCE loses to a change made in between; modseqs and the expunge
//! log survive a SIGKILL.

use crate::harness::{Env, LineClient, Server};

fn with_corpus() -> (Env, Server) {
    let env = Env::new();
    env.add_user("karen", "pw");
    env.add_user("alice", "pw");
    env.import("karen", "corpus.mbox");
    let server = env.serve(&[]);
    (env, server)
}

/// The number after `name` in the first of `lines` that holds it: `[UIDVALIDITY 7]`,
/// `HIGHESTMODSEQ 9`.
fn number_after(lines: &[String], name: &str) -> u64 {
    lines
        .iter()
        .find_map(|l| {
            let (_, rest) = l.split_once(&format!("{name} "))?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
}

/// What a client remembers between two sessions.
struct Cache {
    uid_validity: u64,
    highest_modseq: u64,
}

/// Logs in, resynchronises INBOX from `cache` as Thunderbird does, returns the lines the
/// SELECT added after HIGHESTMODSEQ, what UID FETCH CHANGEDSINCE answers (the CONDSTORE
/// way, K-9's), and the new cache.
fn resync(server: &Server, cache: &Cache) -> (Vec<String>, Vec<String>, Cache) {
    let mut client = LineClient::imap_login(server.imap, "karen", "pw");
    assert_eq!(client.imap_ok("ENABLE QRESYNC"), ["* ENABLED QRESYNC"]);
    let selected = client.imap_ok(&format!(
        "SELECT INBOX (QRESYNC ({} {}))",
        cache.uid_validity, cache.highest_modseq
    ));
    let after_highest: Vec<String> = selected
        .iter()
        .skip_while(|l| !l.contains("[HIGHESTMODSEQ"))
        .skip(1)
        .cloned()
        .collect();
    let changed = client.imap_ok(&format!(
        "UID FETCH 1:* (FLAGS) (CHANGEDSINCE {} VANISHED)",
        cache.highest_modseq
    ));
    let next = Cache {
        uid_validity: number_after(&selected, "UIDVALIDITY"),
        highest_modseq: number_after(&selected, "HIGHESTMODSEQ"),
    };
    client.imap_ok("LOGOUT");
    (after_highest, changed, next)
}

#[test]
fn a_resync_twice_over_a_changed_mailbox_returns_only_the_changes() {
    let (_env, server) = with_corpus();
    let mut first = LineClient::imap_login(server.imap, "karen", "pw");
    let selected = first.imap_ok("SELECT INBOX (CONDSTORE)");
    let mut cache = Cache {
        uid_validity: number_after(&selected, "UIDVALIDITY"),
        highest_modseq: number_after(&selected, "HIGHESTMODSEQ"),
    };
    first.imap_ok("LOGOUT");

    // Another client changes the mailbox: flags on two messages, one expunged.
    let mut other = LineClient::imap_login(server.imap, "karen", "pw");
    other.imap_ok("SELECT INBOX");
    other.imap_ok("UID STORE 2,7 +FLAGS.SILENT (\\Flagged)");
    other.imap_ok("UID STORE 4 +FLAGS.SILENT (\\Deleted)");
    other.imap_ok("EXPUNGE");

    let (select_lines, fetched, next) = resync(&server, &cache);
    assert_eq!(next.uid_validity, cache.uid_validity);
    assert!(next.highest_modseq > cache.highest_modseq);
    assert_eq!(select_lines.len(), 3, "{select_lines:?}");
    assert_eq!(select_lines[0], "* VANISHED (EARLIER) 4");
    assert!(
        select_lines[1].contains("UID 2 FLAGS (\\Flagged)"),
        "{select_lines:?}"
    );
    assert!(
        select_lines[2].contains("UID 7 FLAGS (\\Flagged)"),
        "{select_lines:?}"
    );
    assert_eq!(fetched.len(), 3, "{fetched:?}");
    assert_eq!(fetched[0], "* VANISHED (EARLIER) 4");
    assert!(
        fetched[1..].iter().all(|l| l.contains("MODSEQ (")),
        "{fetched:?}"
    );
    cache = next;

    // The second round: one more flag change and a new message; nothing else returns.
    other.imap_ok("UID STORE 9 +FLAGS.SILENT (\\Seen)");
    let message = "Subject: later\r\n\r\nnew\r\n";
    other.send(&format!("ap APPEND INBOX {{{}+}}", message.len()));
    other.send_bytes(message.as_bytes());
    other.send("");
    let (_, appended) = other.answer("ap");
    assert!(appended.contains("OK [APPENDUID"), "{appended}");
    let (select_lines, fetched, last) = resync(&server, &cache);
    assert_eq!(select_lines.len(), 2, "{select_lines:?}");
    assert!(
        select_lines[0].contains("UID 9 FLAGS (\\Seen)"),
        "{select_lines:?}"
    );
    assert!(
        select_lines[1].contains("UID 11 FLAGS ()"),
        "{select_lines:?}"
    );
    assert_eq!(fetched.len(), 2, "{fetched:?}");
    // Nothing changed since the last resync: nothing comes back.
    let (select_lines, fetched, _) = resync(&server, &last);
    assert!(
        select_lines.is_empty() && fetched.is_empty(),
        "{select_lines:?} {fetched:?}"
    );
    server.stop();
}

#[test]
fn another_session_hears_changes_with_their_modseq_and_expunges_as_vanished() {
    let (_env, server) = with_corpus();
    let mut watcher = LineClient::imap_login(server.imap, "karen", "pw");
    watcher.imap_ok("ENABLE QRESYNC");
    watcher.imap_ok("SELECT INBOX");
    watcher.send("i IDLE");
    watcher.expect("+ idling");
    let mut other = LineClient::imap_login(server.imap, "karen", "pw");
    other.imap_ok("SELECT INBOX");
    other.imap_ok("STORE 3 +FLAGS.SILENT (\\Answered \\Deleted)");
    let heard =
        watcher.expect_prefix("* 3 FETCH (UID 3 FLAGS (\\Answered \\Deleted \\Recent) MODSEQ (");
    let modseq = number_after(&[heard.replace('(', "")], "MODSEQ");
    other.imap_ok("EXPUNGE");
    watcher.expect("* VANISHED 3");
    watcher.send("DONE");
    watcher.expect("i OK IDLE terminated");
    let (_, done) = watcher.imap("EXPUNGE");
    let highest = number_after(std::slice::from_ref(&done), "HIGHESTMODSEQ");
    assert!(highest > modseq, "{done}");
    server.stop();
}

#[test]
fn unchanged_since_loses_to_a_change_made_in_between() {
    let (_env, server) = with_corpus();
    let mut slow = LineClient::imap_login(server.imap, "karen", "pw");
    slow.imap_ok("SELECT INBOX");
    let fetched = slow.imap_ok("FETCH 5 (MODSEQ)");
    let seen_at = number_after(&[fetched[0].replace('(', "")], "MODSEQ");
    let mut quick = LineClient::imap_login(server.imap, "karen", "pw");
    quick.imap_ok("SELECT INBOX");
    quick.imap_ok("STORE 5 +FLAGS.SILENT ($Label1)");
    let (untagged, done) = slow.imap(&format!(
        "STORE 5,6 (UNCHANGEDSINCE {seen_at}) +FLAGS (\\Deleted)"
    ));
    assert!(
        done.ends_with("OK [MODIFIED 5] Conditional STORE failed"),
        "{done}"
    );
    let stored: Vec<&String> = untagged
        .iter()
        .filter(|l| l.starts_with("* 6 FETCH"))
        .collect();
    assert_eq!(stored.len(), 1, "{untagged:?}");
    assert!(stored[0].contains("\\Deleted") && stored[0].contains("MODSEQ ("));
    let five = slow.imap_ok("FETCH 5 (FLAGS)");
    assert!(!five.concat().contains("\\Deleted"), "{five:?}");
    server.stop();
}

#[test]
fn a_sharers_own_seen_gets_a_modseq_the_sharer_finds() {
    let (env, server) = with_corpus();
    env.grant("karen", "INBOX", "alice", "lrs");
    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    let selected = alice.imap_ok("SELECT \"#users/karen/INBOX\" (CONDSTORE)");
    let before = number_after(&selected, "HIGHESTMODSEQ");
    alice.imap_ok("STORE 2 +FLAGS.SILENT (\\Seen)");
    let changed = alice.imap_ok(&format!("FETCH 1:* (FLAGS) (CHANGEDSINCE {before})"));
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(
        changed[0].starts_with("* 2 FETCH (FLAGS (\\Seen \\Recent) MODSEQ ("),
        "{changed:?}"
    );
    let mut karen = LineClient::imap_login(server.imap, "karen", "pw");
    karen.imap_ok("SELECT INBOX");
    let flags = karen.imap_ok("FETCH 2 (FLAGS)");
    assert!(
        !flags[0].contains("\\Seen"),
        "alice's \\Seen is hers: {flags:?}"
    );
    server.stop();
}

#[test]
fn modseqs_and_the_expunge_log_survive_a_sigkill() {
    let (env, server) = with_corpus();
    let mut client = LineClient::imap_login(server.imap, "karen", "pw");
    let selected = client.imap_ok("SELECT INBOX (CONDSTORE)");
    let cache = Cache {
        uid_validity: number_after(&selected, "UIDVALIDITY"),
        highest_modseq: number_after(&selected, "HIGHESTMODSEQ"),
    };
    client.imap_ok("STORE 1 +FLAGS.SILENT (\\Deleted)");
    client.imap_ok("EXPUNGE");
    client.imap_ok("UID STORE 8 +FLAGS.SILENT ($Later)");
    server.kill();
    let server = env.serve(&[]);
    let (select_lines, _, next) = resync(&server, &cache);
    assert!(
        next.highest_modseq >= cache.highest_modseq + 3,
        "{} then {}: {select_lines:?}",
        cache.highest_modseq,
        next.highest_modseq
    );
    assert_eq!(select_lines[0], "* VANISHED (EARLIER) 1");
    assert!(
        select_lines[1].starts_with("* 7 FETCH (UID 8 FLAGS (")
            && select_lines[1].ends_with(" $Later) MODSEQ (5))"),
        "{select_lines:?}"
    );
    server.stop();
}
