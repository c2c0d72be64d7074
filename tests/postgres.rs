//! Several servers on one PostgreSQL database (SPEC §10): two `mailhive serve` processes
//! on a private PostgreSQL cluster, each with its own data directory (admin socket,
//! certificate, spool) and the same `store.postgres_url`.

#[path = "../store/tests/support/private_postgres.rs"]
mod private_postgres;

use crate::harness::{Env, LineClient, Server};
use std::collections::BTreeSet;

/// Two front ends' environments on one new database; `None` without PostgreSQL.
fn front_ends() -> Option<(private_postgres::Database, Env, Env)> {
    let database = private_postgres::database()?;
    let store = format!("engine = \"postgres\"\npostgres_url = {:?}", database.url);
    let (one, two) = (Env::with_store(&store), Env::with_store(&store));
    one.add_user("alice", "pw");
    Some((database, one, two))
}

const MESSAGE: &str = "From: a@example.org\r\nSubject: shared\r\n\r\nbody\r\n";

/// APPENDs one message to INBOX; returns its UID from APPENDUID.
fn append(client: &mut LineClient) -> u32 {
    client.send(&format!(
        "a APPEND INBOX {{{}+}}\r\n{MESSAGE}",
        MESSAGE.len()
    ));
    let (_, done) = client.answer("a");
    let uid = done
        .strip_prefix("a OK [APPENDUID ")
        .and_then(|rest| rest.split([' ', ']']).nth(1))
        .and_then(|uid| uid.parse().ok());
    uid.unwrap_or_else(|| panic!("no APPENDUID in {done:?}"))
}

/// The UIDs of INBOX as a new session on `server` sees them.
fn uids(server: &Server) -> Vec<u32> {
    let mut client = LineClient::imap_login(server.imap, "alice", "pw");
    client.imap("SELECT INBOX");
    let (lines, done) = client.imap("UID SEARCH ALL");
    assert!(done.contains(" OK "), "{done}");
    let found = lines
        .iter()
        .find_map(|l| l.strip_prefix("* SEARCH"))
        .unwrap_or_default();
    found
        .split_whitespace()
        .map(|u| u.parse().unwrap())
        .collect()
}

#[test]
fn what_one_server_stores_a_new_session_on_the_other_sees() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    let (first, second) = (one.serve(&[]), two.serve(&[]));
    let mut client = LineClient::imap_login(first.imap, "alice", "pw");
    let uid = append(&mut client);
    assert_eq!(uids(&second), vec![uid]);
}

#[test]
fn concurrent_appends_through_both_servers_get_unique_increasing_uids() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    let servers = [one.serve(&[]), two.serve(&[])];
    const PER_CLIENT: usize = 25;
    let per_client: Vec<Vec<u32>> = std::thread::scope(|scope| {
        let clients: Vec<_> = servers
            .iter()
            .flat_map(|server| [server.imap, server.imap])
            .map(|addr| {
                scope.spawn(move || {
                    let mut client = LineClient::imap_login(addr, "alice", "pw");
                    (0..PER_CLIENT).map(|_| append(&mut client)).collect()
                })
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for uids in &per_client {
        assert!(
            uids.windows(2).all(|w| w[0] < w[1]),
            "one client's UIDs increase: {uids:?}"
        );
    }
    let all: BTreeSet<u32> = per_client.iter().flatten().copied().collect();
    assert_eq!(all.len(), 4 * PER_CLIENT, "every UID is given once");
    let expected: Vec<u32> = all.into_iter().collect();
    for server in &servers {
        assert_eq!(uids(server), expected, "both servers hold every append");
    }
}

#[test]
fn idle_on_one_server_wakes_within_a_second_for_a_change_through_the_other() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    let (first, second) = (one.serve(&[]), two.serve(&[]));
    let mut writer = LineClient::imap_login(first.imap, "alice", "pw");
    let old = append(&mut writer);
    let mut watcher = LineClient::imap_login(second.imap, "alice", "pw");
    watcher.imap("SELECT INBOX");
    watcher.send("i IDLE");
    watcher.expect_prefix("+ ");
    let started = std::time::Instant::now();
    let new = append(&mut writer);
    watcher.expect("* 2 EXISTS");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "IDLE woke after {:?}",
        started.elapsed()
    );
    watcher.expect("* 2 RECENT");
    writer.imap("SELECT INBOX");
    let (_, done) = writer.imap(&format!("UID STORE {old} +FLAGS (\\Flagged)"));
    assert!(done.contains(" OK "), "{done}");
    watcher.expect("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))");
    writer.imap(&format!("UID STORE {new} +FLAGS.SILENT (\\Deleted)"));
    watcher.expect("* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent))");
    writer.imap("EXPUNGE");
    watcher.expect("* 2 EXPUNGE");
    watcher.send("DONE");
    watcher.expect("i OK IDLE terminated");
}

#[test]
fn every_append_acknowledged_by_a_server_killed_mid_stream_is_there_through_the_other() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    let (doomed, survivor) = (one.serve(&[]), two.serve(&[]));
    let addr = doomed.imap;
    // Two clients append as fast as they can until their server dies under them.
    let appenders: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let mut client = LineClient::imap_login(addr, "alice", "pw");
                let mut acknowledged = Vec::new();
                loop {
                    client.send(&format!(
                        "a APPEND INBOX {{{}+}}\r\n{MESSAGE}",
                        MESSAGE.len()
                    ));
                    match client.line() {
                        Some(done) if done.starts_with("a OK [APPENDUID ") => {
                            let uid = done.split([' ', ']']).nth(4).and_then(|u| u.parse().ok());
                            acknowledged.push(uid.unwrap_or_else(|| panic!("{done:?}")));
                        }
                        _ => return acknowledged,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    doomed.kill();
    let acknowledged: BTreeSet<u32> = appenders
        .into_iter()
        .flat_map(|a| a.join().unwrap())
        .collect();
    assert!(
        acknowledged.len() > 10,
        "appends went through before the kill"
    );
    let present: BTreeSet<u32> = uids(&survivor).into_iter().collect();
    let lost: Vec<_> = acknowledged.difference(&present).collect();
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
    // The survivor goes on giving UIDs above every one given before.
    let mut client = LineClient::imap_login(survivor.imap, "alice", "pw");
    let next = append(&mut client);
    assert!(present.iter().all(|&uid| uid < next));
}

#[test]
fn settings_set_through_one_server_reaches_the_other_at_once() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    let (first, _second) = (one.serve(&[]), two.serve(&[]));
    two.ok(
        &["settings", "set", "imap", "--max-connections-per-user", "1"],
        "",
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    let _held = LineClient::imap_login(first.imap, "alice", "pw");
    loop {
        let mut client = LineClient::connect(first.imap);
        client.expect_prefix("* OK ");
        let (_, done) = client.imap("LOGIN alice pw");
        if done.ends_with("NO [LIMIT] Too many logins for this user") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other server still lets alice in twice: {done}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let shown = one.ok(&["settings", "show", "imap"], "");
    assert!(shown.contains("MaxConnectionsPerUser : 1 (set)"), "{shown}");
}

/// What a client that caches sees of alice's INBOX: UIDVALIDITY, HIGHESTMODSEQ, and
/// every message's UID, flags, modseq, internal date and bytes.
fn cached_view(server: &Server) -> (Vec<String>, Vec<String>) {
    let mut client = LineClient::imap_login(server.imap, "alice", "pw");
    let (selected, _) = client.imap("SELECT INBOX (CONDSTORE)");
    let codes = selected
        .into_iter()
        .filter(|l| l.contains("[UIDVALIDITY") || l.contains("[HIGHESTMODSEQ"))
        .collect();
    let (messages, done) = client.imap("UID FETCH 1:* (FLAGS MODSEQ INTERNALDATE BODY.PEEK[])");
    assert!(done.contains(" OK "), "{done}");
    (codes, messages)
}

/// A message of about 130 KB that does not compress: its body is a large object.
fn large_message() -> String {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut body = String::new();
    for _ in 0..1700 {
        for _ in 0..76 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            body.push(char::from(b'A' + (state % 26) as u8));
        }
        body.push_str("\r\n");
    }
    format!("From: a@example.org\r\nSubject: large\r\n\r\n{body}")
}

#[test]
fn store_copy_moves_a_sled_store_to_postgres_and_back_and_clients_keep_their_caches() {
    let Some(database) = private_postgres::database() else {
        return;
    };
    let sled = Env::new();
    sled.add_user("alice", "pw");
    sled.import("alice", "corpus.mbox");
    let before = {
        let server = sled.serve(&[]);
        let mut client = LineClient::imap_login(server.imap, "alice", "pw");
        let large = large_message();
        client.send(&format!(
            "a APPEND INBOX (\\Flagged) {{{}+}}\r\n{large}",
            large.len()
        ));
        assert!(client.answer("a").1.starts_with("a OK"));
        client.imap("SELECT INBOX");
        client.imap("STORE 2:4 +FLAGS (\\Answered $Label1)");
        client.imap("STORE 3 +FLAGS.SILENT (\\Deleted)");
        client.imap("EXPUNGE");
        let view = cached_view(&server);
        server.stop();
        view
    };
    let store = format!("engine = \"postgres\"\npostgres_url = {:?}", database.url);
    let postgres = Env::with_store(&store);
    let copied = sled.ok(
        &["store", "copy", "--to", postgres.config.to_str().unwrap()],
        "",
    );
    assert!(copied.starts_with("copied "), "{copied}");
    let on_postgres = {
        let server = postgres.serve(&[]);
        let view = cached_view(&server);
        server.stop();
        view
    };
    assert_eq!(on_postgres, before, "the same mailbox on PostgreSQL");

    let back = Env::new();
    postgres.ok(
        &["store", "copy", "--to", back.config.to_str().unwrap()],
        "",
    );
    let server = back.serve(&[]);
    assert_eq!(
        cached_view(&server),
        before,
        "the same mailbox back on sled"
    );
    server.stop();

    let refused = back.fails(
        &["store", "copy", "--to", sled.config.to_str().unwrap()],
        "",
    );
    assert!(
        refused.contains("the target store is not empty"),
        "{refused}"
    );
}

/// Logs alice in on `server`, retrying for up to `within` until the answer ends with
/// `want`; returns the client (logged in or not).
fn login_until(server: &Server, want: &str, within: std::time::Duration) -> LineClient {
    let deadline = std::time::Instant::now() + within;
    loop {
        let mut client = LineClient::connect(server.imap);
        client.expect_prefix("* OK ");
        let (_, done) = client.imap("LOGIN alice pw");
        if done.ends_with(want) {
            return client;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {done:?}, not {want:?}"
        );
        drop(client);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn logins_per_user_are_counted_across_servers_and_a_killed_one_frees_its_own_within_30_s() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    one.ok(
        &["settings", "set", "imap", "--max-connections-per-user", "2"],
        "",
    );
    let (first, second) = (one.serve(&[]), two.serve(&[]));
    let _on_first = LineClient::imap_login(first.imap, "alice", "pw");
    let _on_second = LineClient::imap_login(second.imap, "alice", "pw");
    let refused = "NO [LIMIT] Too many logins for this user";
    let wait = std::time::Duration::from_secs(5);
    login_until(&first, refused, wait);
    login_until(&second, refused, wait);
    first.kill();
    let freed = std::time::Instant::now();
    let _again = login_until(&second, "] Logged in", std::time::Duration::from_secs(35));
    let took = freed.elapsed();
    assert!(
        took <= std::time::Duration::from_secs(30),
        "freed after {took:?}"
    );
}

#[test]
fn a_password_changed_through_one_server_is_the_only_one_the_other_takes() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    let (first, _second) = (one.serve(&[]), two.serve(&[]));
    // The first server now remembers alice's verified login.
    drop(LineClient::imap_login(first.imap, "alice", "pw"));
    two.ok(&["user", "passwd", "alice", "--password-stdin"], "new\n");
    std::thread::sleep(std::time::Duration::from_secs(1));
    let mut client = LineClient::connect(first.imap);
    client.expect_prefix("* OK ");
    let (_, done) = client.imap("LOGIN alice pw");
    assert!(
        done.ends_with("NO [AUTHENTICATIONFAILED] Authentication failed"),
        "{done}"
    );
    drop(LineClient::imap_login(first.imap, "alice", "new"));
}

#[test]
fn a_users_search_slots_are_counted_across_servers() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    one.ok(
        &[
            "settings",
            "set",
            "imap",
            "--max-concurrent-searches-per-user",
            "1",
            "--search-queue-timeout",
            "2",
        ],
        "",
    );
    // Every SEARCH holds its slot for 6 s before it runs.
    let slow = [("MAILHIVE_TEST_WORK_DELAY_MS", "6000")];
    let (first, second) = (
        one.serve_with_env(&[], &slow),
        two.serve_with_env(&[], &slow),
    );
    let mut running = LineClient::imap_login(first.imap, "alice", "pw");
    running.imap("SELECT INBOX");
    running.send("s SEARCH ALL\r\n");
    // Two exchanges of the leases: the second server knows of the running search.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let mut waiting = LineClient::imap_login(second.imap, "alice", "pw");
    waiting.imap("SELECT INBOX");
    let (_, refused) = waiting.imap("SEARCH ALL");
    assert!(
        refused.ends_with("NO [LIMIT] Too many concurrent searches - try again later"),
        "{refused}"
    );
    let (_, done) = running.answer("s");
    assert!(done.starts_with("s OK "), "{done}");
    // Freed on the first server: the second's next search waits at most one exchange.
    let (_, done) = waiting.imap("SEARCH ALL");
    assert!(done.contains(" OK "), "{done}");
}

/// Fails one login as alice on `server`, on a connection of its own; returns the answer.
fn failed_login(server: &Server) -> String {
    let mut client = LineClient::connect(server.imap);
    client.expect_prefix("* OK ");
    client.imap("LOGIN alice wrong").1
}

#[test]
fn failed_logins_through_both_servers_cool_the_address_down_on_both() {
    let Some((_database, one, two)) = front_ends() else {
        return;
    };
    one.ok(
        &[
            "settings",
            "set",
            "imap",
            "--max-login-failures-from-single-ip",
            "3",
            "--login-failure-delay",
            "0",
        ],
        "",
    );
    let (first, second) = (one.serve(&[]), two.serve(&[]));
    let failed = "NO [AUTHENTICATIONFAILED] Authentication failed";
    for _ in 0..2 {
        let answer = failed_login(&first);
        assert!(answer.ends_with(failed), "{answer}");
    }
    // The second server learns of them at its next exchange; its own failure is then
    // the address's third.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let answer = failed_login(&second);
    assert!(answer.ends_with(failed), "{answer}");
    let cooled = "NO [UNAVAILABLE] Too many failed logins; try again later";
    let mut on_second = LineClient::connect(second.imap);
    on_second.expect_prefix("* OK ");
    let (_, refused) = on_second.imap("LOGIN alice pw");
    assert!(refused.ends_with(cooled), "{refused}");
    // The first server is told of the cool-down within a second or two.
    login_until(&first, cooled, std::time::Duration::from_secs(5));
}
