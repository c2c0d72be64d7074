//! The Limiter over real sockets: SPEC §4's connection rows on both protocols, settings
//! changed on a running server, counters that never leak, the FETCH and SEARCH queues,
//! failed logins across connections, and input that must not make the server buffer.

use crate::harness::{Env, LineClient, Server};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The two protocols' listeners, greetings and refusal texts.
struct Protocol {
    name: &'static str,
    greeting: &'static str,
    server_full: &'static str,
    address_full: &'static str,
}

const IMAP: Protocol = Protocol {
    name: "imap",
    greeting: "* OK ",
    server_full: "* BYE [UNAVAILABLE] Too many connections to this server",
    address_full: "* BYE [UNAVAILABLE] Too many connections from this address!",
};

const POP3: Protocol = Protocol {
    name: "pop3",
    greeting: "+OK ",
    server_full: "-ERR [SYS/TEMP] Too many connections to this server",
    address_full: "-ERR [SYS/TEMP] Too many connections from this address!",
};

impl Protocol {
    fn addr(&self, server: &Server) -> SocketAddr {
        if self.name == "imap" {
            server.imap
        } else {
            server.pop3
        }
    }

    fn greeted(&self, mut client: LineClient) -> LineClient {
        client.expect_prefix(self.greeting);
        client
    }

    /// Logs `user` in; returns the server's answer.
    fn log_in(&self, client: &mut LineClient, user: &str, password: &str) -> String {
        if self.name == "imap" {
            client.imap_status(&format!("LOGIN {user} {password}"))
        } else {
            client.send(&format!("USER {user}"));
            client.expect_prefix("+OK");
            client.send(&format!("PASS {password}"));
            client.line().expect("an answer to PASS")
        }
    }
}

/// Connects until the server admits the connection (a released slot is given back
/// asynchronously), at most for ten seconds.
fn connect_when_admitted(protocol: &Protocol, addr: SocketAddr) -> LineClient {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut client = LineClient::connect(addr);
        let line = client.line().expect("a greeting or a refusal");
        if line.starts_with(protocol.greeting) {
            return client;
        }
        assert!(Instant::now() < deadline, "never admitted: {line}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_full_server_says_so_and_closes() {
    let env = Env::with_settings("max_connections = 2", "max_connections = 2");
    let server = env.serve(&[]);
    for protocol in [IMAP, POP3] {
        let addr = protocol.addr(&server);
        let first = protocol.greeted(LineClient::connect(addr));
        let _second = protocol.greeted(LineClient::connect(addr));
        let mut third = LineClient::connect(addr);
        third.expect(protocol.server_full);
        third.expect_closed();
        drop(first);
        let _again = connect_when_admitted(&protocol, addr);
    }
    server.stop();
}

#[test]
fn a_full_address_says_so_and_closes_while_others_get_in() {
    let limit = "max_connections_from_single_ip = 1";
    let env = Env::with_settings(limit, limit);
    let server = env.serve(&[]);
    for protocol in [IMAP, POP3] {
        let addr = protocol.addr(&server);
        let _first = protocol.greeted(LineClient::connect_from("127.0.0.1", addr));
        let mut second = LineClient::connect_from("127.0.0.1", addr);
        second.expect(protocol.address_full);
        second.expect_closed();
        let _neighbour = protocol.greeted(LineClient::connect_from("127.0.0.2", addr));
    }
    server.stop();
}

#[test]
fn a_user_at_max_logins_is_refused_and_stays_connected() {
    // One failed login would close the connection: the refusal must not count as one.
    let limits = "max_connections_per_user = 1\nmax_failed_logins = 1";
    let env = Env::with_settings(limits, limits);
    env.add_user("ann", "pw");
    let server = env.serve(&[]);

    let mut first = IMAP.greeted(LineClient::connect(server.imap));
    assert!(IMAP.log_in(&mut first, "ann", "pw").starts_with("OK "));
    let mut second = IMAP.greeted(LineClient::connect(server.imap));
    let (_, refused) = second.imap("LOGIN ann pw");
    assert_eq!(refused, "c1 NO [LIMIT] Too many logins for this user");
    assert!(
        second.imap_status("SELECT INBOX").starts_with("BAD "),
        "not logged in"
    );
    assert_eq!(second.imap_status("NOOP"), "OK NOOP completed");
    first.imap("LOGOUT");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !IMAP.log_in(&mut second, "ann", "pw").starts_with("OK ") {
        assert!(Instant::now() < deadline, "the login was never given back");
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut first = POP3.greeted(LineClient::connect(server.pop3));
    assert!(POP3.log_in(&mut first, "ann", "pw").starts_with("+OK"));
    let mut second = POP3.greeted(LineClient::connect(server.pop3));
    assert_eq!(
        POP3.log_in(&mut second, "ann", "pw"),
        "-ERR [IN-USE] Too many logins for this user"
    );
    second.send("NOOP");
    second.expect_prefix("-ERR"); // NOOP is a TRANSACTION command: still not logged in
    second.send("CAPA");
    second.expect_prefix("+OK");
    server.stop();
}

/// The `Name : value (source)` line of `setting` in `settings show` output.
fn shown<'a>(listing: &'a str, setting: &str) -> &'a str {
    listing
        .lines()
        .find(|l| l.starts_with(&format!("{setting} : ")))
        .unwrap_or_else(|| panic!("{setting} not listed in:\n{listing}"))
}

#[test]
fn settings_apply_to_a_running_server_and_survive_a_restart() {
    let env = Env::with_settings("", "max_failed_logins = 5");
    let server = env.serve_with_env(&[], &[("MAILHIVE__IMAP__IDLE_KEEPALIVE_INTERVAL", "30")]);
    let out = env.ok(&["settings", "set", "imap", "--max-connections", "3"], "");
    assert_eq!(out, "MaxConnections : 3 (set)\n");
    let open: Vec<LineClient> = (0..3)
        .map(|_| IMAP.greeted(LineClient::connect(server.imap)))
        .collect();
    let mut fourth = LineClient::connect(server.imap);
    fourth.expect(IMAP.server_full);

    // Out of range: refused with the range, and nothing of the command changed.
    let refused = env.fails(&["settings", "set", "imap", "--max-connections", "0"], "");
    assert!(refused.contains("between 1 and 2147483647"), "{refused}");
    let refused = env.fails(
        &[
            "settings",
            "set",
            "imap",
            "--max-connections=9",
            "--max-command-size",
            "10",
        ],
        "",
    );
    assert!(
        refused.contains("MaxCommandSize = 10 is out of range"),
        "{refused}"
    );
    assert!(refused.contains("between 1024 and 16384"), "{refused}");
    let refused = env.fails(&["settings", "set", "pop3", "--idle-enabled", "false"], "");
    assert!(
        refused.contains("IdleEnabled is not a pop3 setting"),
        "{refused}"
    );

    let listing = env.ok(&["settings", "show", "imap"], "");
    assert_eq!(
        shown(&listing, "MaxConnections"),
        "MaxConnections : 3 (set)"
    );
    assert_eq!(
        shown(&listing, "MaxFailedLogins"),
        "MaxFailedLogins : 5 (config)"
    );
    assert_eq!(
        shown(&listing, "IdleKeepaliveInterval"),
        "IdleKeepaliveInterval : 30 (env)"
    );
    assert_eq!(
        shown(&listing, "IdleEnabled"),
        "IdleEnabled : true (default)"
    );
    assert_eq!(
        listing.lines().count(),
        23,
        "every IMAP setting:\n{listing}"
    );
    let pop3 = env.ok(&["settings", "show", "pop3"], "");
    assert!(!pop3.contains("IdleEnabled"), "{pop3}");
    assert_eq!(
        shown(&pop3, "MaxCommandSize"),
        "MaxCommandSize : 512 (default)"
    );
    assert_eq!(pop3.lines().count(), 12, "every POP3 setting:\n{pop3}");
    drop(open);
    server.stop();

    // Persisted: shown by a stopped server's store, and in force after a restart.
    let listing = env.ok(&["settings", "show", "imap"], "");
    assert_eq!(
        shown(&listing, "MaxConnections"),
        "MaxConnections : 3 (set)"
    );
    let server = env.serve(&[]);
    let _open: Vec<LineClient> = (0..3)
        .map(|_| IMAP.greeted(LineClient::connect(server.imap)))
        .collect();
    LineClient::connect(server.imap).expect(IMAP.server_full);
    let out = env.ok(&["settings", "reset", "imap", "max-connections"], "");
    assert_eq!(out, "MaxConnections : 2000 (default)\n");
    let _fourth = IMAP.greeted(LineClient::connect(server.imap));
    server.stop();
}

/// Ends one connection the way `way` says (see [`counters_never_leak`]); `user`'s
/// password is `pw`.
fn end_connection(server: &Server, way: usize, user: &str) {
    let imap = || IMAP.greeted(LineClient::connect(server.imap));
    let pop3 = || POP3.greeted(LineClient::connect(server.pop3));
    let logged_in = || {
        let mut client = imap();
        assert!(IMAP.log_in(&mut client, user, "pw").starts_with("OK "));
        client
    };
    let selected = || {
        let mut client = logged_in();
        assert!(client.imap_status("SELECT INBOX").starts_with("OK "));
        client
    };
    let wrong_password = |protocol: &Protocol, addr| {
        let mut client = protocol.greeted(LineClient::connect_from("127.0.0.9", addr));
        let answer = protocol.log_in(&mut client, "nobody", "wrong");
        assert!(
            answer.contains("NO") || answer.starts_with("-ERR"),
            "{answer}"
        );
        if protocol.name == "imap" {
            client.expect("* BYE Too many failed login attempts");
        }
        client.expect_closed();
    };
    match way {
        0 => {
            let mut client = imap();
            client.imap("LOGOUT");
            client.expect_closed();
        }
        1 => {
            let mut client = selected();
            client.imap("LOGOUT");
            client.expect_closed();
        }
        2 => drop(logged_in()),
        3 => logged_in().reset(),
        4 => {
            let mut client = logged_in();
            client.send("p1 XPANIC");
            client.expect_closed();
        }
        5 => {
            let mut client = selected();
            client.send("f1 FETCH 1:* (FLAGS BODY.PEEK[])");
            std::thread::sleep(Duration::from_millis(20));
        }
        6 => {
            let mut client = selected();
            client.send("s1 SEARCH TEXT nothing-matches-this");
            std::thread::sleep(Duration::from_millis(20));
        }
        7 => wrong_password(&IMAP, server.imap),
        8 => {
            let mut client = pop3();
            assert!(POP3.log_in(&mut client, user, "pw").starts_with("+OK"));
            client.send("QUIT");
            client.expect_prefix("+OK");
            client.expect_closed();
        }
        9 => {
            let mut client = pop3();
            assert!(POP3.log_in(&mut client, user, "pw").starts_with("+OK"));
        }
        10 => pop3().reset(),
        _ => wrong_password(&POP3, server.pop3),
    }
}

/// 2,000 connections ended every way there is — LOGOUT/QUIT, a dropped or reset
/// connection, a panic in a handler, a FETCH or SEARCH cut off by its client, a close by
/// the server after a failed login, an idle time-out — and every counter reads zero.
#[test]
fn counters_never_leak() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 238;
    const IDLE: usize = 2_000 - THREADS * PER_THREAD;
    // Refused logins (127.0.0.9 is soon cooled down) are answered without delay. The
    // idle connections time out after 5 s, a margin no busy test machine stalls a
    // logging-in client for.
    let limits = "pre_authenticated_connection_timeout = 5\nmax_failed_logins = 1\n\
                  login_failure_delay = 0";
    let env = Env::with_settings(limits, limits);
    for t in 0..THREADS {
        env.add_user(&format!("u{t}"), "pw");
        env.import(&format!("u{t}"), "corpus.mbox");
    }
    let server = env.serve_with_env(
        &[],
        &[
            ("MAILHIVE_TEST_PANIC_COMMAND", "1"),
            ("MAILHIVE_TEST_WORK_DELAY_MS", "200"),
        ],
    );
    // Connections that say nothing until the server times them out.
    let idle: Vec<LineClient> = (0..IDLE)
        .map(|i| {
            let protocol = if i % 2 == 0 { &IMAP } else { &POP3 };
            protocol.greeted(LineClient::connect(protocol.addr(&server)))
        })
        .collect();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let server = &server;
            scope.spawn(move || {
                for i in 0..PER_THREAD {
                    end_connection(server, (t + i) % 12, &format!("u{t}"));
                }
            });
        }
    });
    for (i, mut client) in idle.into_iter().enumerate() {
        if i % 2 == 0 {
            client.expect("* BYE Autologout; idle for too long");
        }
        client.expect_closed();
    }
    let counts = server.counts_until(|c| c.is_idle());
    assert!(counts.is_idle(), "counters left: {counts:?}");
    server.stop();
}

/// Logs `clients` sessions of ann in and selects INBOX.
fn selected_sessions(server: &Server, clients: usize) -> Vec<LineClient> {
    (0..clients)
        .map(|_| {
            let mut client = IMAP.greeted(LineClient::connect(server.imap));
            assert!(IMAP.log_in(&mut client, "ann", "pw").starts_with("OK "));
            assert!(client.imap_status("SELECT INBOX").starts_with("OK "));
            client
        })
        .collect()
}

/// A server where every FETCH and SEARCH holds its slot for `delay_ms` first.
fn slow_server(imap_settings: &str, delay_ms: &str) -> (Env, Server) {
    let env = Env::with_imap_settings(imap_settings);
    env.add_user("ann", "pw");
    env.import("ann", "corpus.mbox");
    let server = env.serve_with_env(&[], &[("MAILHIVE_TEST_WORK_DELAY_MS", delay_ms)]);
    (env, server)
}

/// The FETCH or SEARCH queue: one slot per user, each command holding it 1.5 s, a queue
/// time-out of 2 s. The first runs; the second waits and is served when the first
/// ends; the third gives up after 2 s with SPEC §4's text; a fourth that disconnects
/// while waiting leaves the queue at once.
fn queue_serves_in_order_and_times_out(kind: &str, commands: [&str; 4], busy: &str) {
    let settings = format!(
        "max_concurrent_{kind}_per_user = 1\n{}_queue_timeout = 2",
        if kind == "fetches" { "fetch" } else { "search" }
    );
    let (_env, server) = slow_server(&settings, "1500");
    let [mut first, mut second, mut third, mut fourth] =
        <[LineClient; 4]>::try_from(selected_sessions(&server, 4))
            .ok()
            .unwrap();
    // (running, queued) of this kind.
    let slots = |c: &mailhive::limiter::Counts| {
        if kind == "fetches" {
            (c.fetches_running, c.fetches_queued)
        } else {
            (c.searches_running, c.searches_queued)
        }
    };
    let started = Instant::now();
    // One at a time, so that the queue order is the order of sending.
    for (n, (client, command)) in [&mut first, &mut second, &mut third, &mut fourth]
        .into_iter()
        .zip(commands)
        .enumerate()
    {
        client.send(&format!("q {command}"));
        let counts = server.counts_until(|c| slots(c) == (1, n as u64));
        assert_eq!(slots(&counts), (1, n as u64), "{counts:?}");
    }
    drop(fourth);
    let counts = server.counts_until(|c| slots(c).1 == 2);
    assert_eq!(slots(&counts), (1, 2), "{counts:?}");

    let done = |client: &mut LineClient| loop {
        let line = client.line().expect("an answer");
        if line.starts_with("q ") {
            return line;
        }
    };
    assert!(done(&mut first).starts_with("q OK "));
    assert_eq!(done(&mut third), format!("q NO [LIMIT] {busy}"));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "it waited its time-out"
    );
    assert!(
        done(&mut second).starts_with("q OK "),
        "served after the first"
    );
    let counts = server.counts_until(|c| slots(c) == (0, 0));
    assert_eq!(slots(&counts), (0, 0), "{counts:?}");
    server.stop();
}

#[test]
fn the_fetch_queue_serves_in_order_and_times_out() {
    queue_serves_in_order_and_times_out(
        "fetches",
        [
            "FETCH 1 (FLAGS)",
            "FETCH 2 (FLAGS)",
            "FETCH 3 (FLAGS)",
            "FETCH 4 (FLAGS)",
        ],
        "Too many current FETCHes active",
    );
}

#[test]
fn the_search_queue_serves_in_order_and_times_out() {
    queue_serves_in_order_and_times_out(
        "searches",
        [
            "SEARCH ALL",
            "SEARCH SEEN",
            "SEARCH UNSEEN",
            "SEARCH FLAGGED",
        ],
        "Too many concurrent searches - try again later",
    );
}

#[test]
fn identical_searches_share_one_execution() {
    let (_env, server) = slow_server("max_concurrent_searches_per_user = 1", "1500");
    let mut clients = selected_sessions(&server, 2);
    for client in &mut clients {
        client.send("s SEARCH TEXT the");
    }
    let counts = server.counts_until(|c| c.searches_running == 1);
    assert_eq!((counts.searches_running, counts.searches_queued), (1, 0));
    let answers: Vec<Vec<String>> = clients
        .iter_mut()
        .map(|client| {
            let mut lines = vec![client.line().unwrap()];
            lines.push(client.line().unwrap());
            lines
        })
        .collect();
    assert!(answers[0][0].starts_with("* SEARCH "), "{answers:?}");
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0][1], "s OK SEARCH completed");
    server.stop();
}

/// A client that disconnects stops its running work: the slot, which the work holds
/// until it stops, comes back long before the work's 10 s would have passed.
#[test]
fn a_client_that_goes_cancels_its_running_fetch_and_search() {
    let (_env, server) = slow_server("", "10000");
    for command in [
        "FETCH 1:* (BODY.PEEK[])",
        "SEARCH BODY nothing-matches-this",
    ] {
        let mut client = selected_sessions(&server, 1).remove(0);
        client.send(&format!("w {command}"));
        let counts = server.counts_until(|c| c.fetches_running + c.searches_running == 1);
        assert_eq!(counts.fetches_running + counts.searches_running, 1);
        let gone = Instant::now();
        drop(client);
        let counts = server.counts_until(|c| c.fetches_running + c.searches_running == 0);
        assert_eq!(
            counts.fetches_running + counts.searches_running,
            0,
            "{command}"
        );
        assert!(gone.elapsed() < Duration::from_secs(5), "{command} ran on");
    }
    server.stop();
}

/// Logs in as `user` from the loopback address `from`; returns the answer and how long
/// it took.
fn timed_login(
    protocol: &Protocol,
    server: &Server,
    from: &str,
    user: &str,
    password: &str,
) -> (String, Duration) {
    let mut client = protocol.greeted(LineClient::connect_from(from, protocol.addr(server)));
    let started = Instant::now();
    let answer = protocol.log_in(&mut client, user, password);
    (answer, started.elapsed())
}

#[test]
fn failed_logins_count_across_connections_per_address_and_per_account() {
    let limits = "max_login_failures_from_single_ip = 3\nmax_login_failures_per_user = 2\n\
                  login_failure_delay = 1\nlogin_cooldown = 60\nmax_failed_logins = 10";
    let env = Env::with_settings(limits, limits);
    env.add_user("ann", "pw");
    env.add_user("karen", "pw");
    let server = env.serve(&[]);
    let delay = Duration::from_millis(900);
    let cooling = "NO [UNAVAILABLE] Too many failed logins; try again later";

    // An address that failed three times is cooled down, even with the right password.
    for n in 0..3 {
        let (answer, _) = timed_login(&IMAP, &server, "127.0.0.2", &format!("nobody{n}"), "guess");
        assert_eq!(answer, "NO [AUTHENTICATIONFAILED] Authentication failed");
    }
    let (answer, took) = timed_login(&IMAP, &server, "127.0.0.2", "ann", "pw");
    assert_eq!(answer, cooling);
    assert!(took >= delay, "the refusal is delayed: {took:?}");
    let (answer, _) = timed_login(&IMAP, &server, "127.0.0.3", "ann", "pw");
    assert!(answer.starts_with("OK "), "a neighbour gets in: {answer}");

    // An attacked account refuses the addresses that failed on it, not its owner.
    for bot in ["127.0.0.4", "127.0.0.5"] {
        let (answer, _) = timed_login(&IMAP, &server, bot, "karen", "guess");
        assert!(answer.starts_with("NO [AUTHENTICATIONFAILED]"), "{answer}");
    }
    let (answer, _) = timed_login(&IMAP, &server, "127.0.0.4", "karen", "pw");
    assert_eq!(answer, cooling);
    let (answer, _) = timed_login(&IMAP, &server, "127.0.0.6", "karen", "pw");
    assert!(answer.starts_with("OK "), "the owner gets in: {answer}");
    let (answer, took) = timed_login(&IMAP, &server, "127.0.0.6", "karen", "typo");
    assert!(answer.starts_with("NO [AUTHENTICATIONFAILED]"), "{answer}");
    assert!(
        took >= delay,
        "a wrong password on an attacked account is slowed: {took:?}"
    );

    // POP3 counts its own failures the same way.
    for n in 0..3 {
        let (answer, _) = timed_login(&POP3, &server, "127.0.0.7", &format!("nobody{n}"), "guess");
        assert_eq!(answer, "-ERR [AUTH] Authentication failed");
    }
    let (answer, _) = timed_login(&POP3, &server, "127.0.0.7", "ann", "pw");
    assert_eq!(
        answer,
        "-ERR [SYS/TEMP] Too many failed logins; try again later"
    );
    let counts = server.counts();
    assert!(counts.imap.failing_addresses >= 4 && counts.imap.failing_users >= 1);
    server.stop();
}

/// Sends `megabytes` MiB of `x` in 64 KiB writes.
fn stream_junk(client: &mut LineClient, megabytes: usize) {
    let junk = vec![b'x'; 64 * 1024];
    for _ in 0..megabytes * 16 {
        client.send_bytes(&junk);
    }
}

/// A 100 MB line and a 1 GB literal: discarded as they arrive, never buffered.
#[test]
fn huge_lines_and_literals_do_not_grow_the_server() {
    let env = Env::new();
    env.add_user("ann", "pw");
    let server = env.serve(&[]);
    let mut imap = IMAP.greeted(LineClient::connect(server.imap));
    assert!(IMAP.log_in(&mut imap, "ann", "pw").starts_with("OK "));
    let mut pop3 = POP3.greeted(LineClient::connect(server.pop3));
    // Warm up the paths measured below, so that their first use is not counted.
    imap.send_bytes(b"w NOOP ");
    stream_junk(&mut imap, 1);
    imap.send("");
    imap.expect("w BAD [TOOBIG] Command line too long");
    let before = server.rss_kib();

    imap.send_bytes(b"a NOOP ");
    stream_junk(&mut imap, 100);
    let during = server.rss_kib();
    imap.send("");
    imap.expect("a BAD [TOOBIG] Command line too long");
    assert_eq!(imap.imap_status("NOOP"), "OK NOOP completed");

    imap.send("b APPEND INBOX {1073741824}");
    imap.expect("b NO [TOOBIG] Message too large");
    assert_eq!(imap.imap_status("NOOP"), "OK NOOP completed");
    imap.send("c APPEND INBOX {1073741824+}");
    stream_junk(&mut imap, 100);
    let literal = server.rss_kib();

    stream_junk(&mut pop3, 100);
    pop3.send("");
    pop3.expect("-ERR Command line too long");
    pop3.send("CAPA");
    pop3.expect_prefix("+OK");
    let after = server.rss_kib();
    for (when, rss) in [
        ("during the line", during),
        ("in the literal", literal),
        ("after", after),
    ] {
        assert!(
            rss < before + 8 * 1024,
            "RSS {when}: {rss} KiB, from {before} KiB before"
        );
    }
    server.stop();
}

/// AuthenticatedConnectionTimeout ends an idle session with SPEC §4's text, but a
/// session in IDLE is not idle: it stays while its peer is there.
#[test]
fn the_idle_time_out_spares_a_session_in_idle() {
    let env = Env::with_imap_settings("authenticated_connection_timeout = 1");
    env.add_user("ann", "pw");
    let server = env.serve(&[]);
    let mut quiet = IMAP.greeted(LineClient::connect(server.imap));
    assert!(IMAP.log_in(&mut quiet, "ann", "pw").starts_with("OK "));
    let mut idling = selected_sessions(&server, 1).remove(0);
    idling.send("i IDLE");
    idling.expect("+ idling");
    quiet.expect("* BYE Autologout; idle for too long");
    quiet.expect_closed();
    std::thread::sleep(Duration::from_millis(1500));
    idling.send("DONE");
    idling.expect("i OK IDLE terminated");
    assert_eq!(idling.imap_status("NOOP"), "OK NOOP completed");
    server.stop();
}

/// MaxConcurrentSearchesPerServer: with one search slot for the whole server, a second
/// user's SEARCH waits in the same fair queue until the first user's ends, and raising
/// the limit on the running server serves the queue at once.
#[test]
fn searches_of_all_users_share_the_server_limit() {
    let (env, server) = slow_server(
        "max_concurrent_searches_per_server = 1\nmax_concurrent_searches_per_user = 4",
        "3000",
    );
    env.add_user("bea", "pw");
    let mut ann = selected_sessions(&server, 1).remove(0);
    let mut bea = IMAP.greeted(LineClient::connect(server.imap));
    assert!(IMAP.log_in(&mut bea, "bea", "pw").starts_with("OK "));
    assert!(bea.imap_status("SELECT INBOX").starts_with("OK "));
    ann.send("s1 SEARCH ALL");
    server.counts_until(|c| c.searches_running == 1);
    bea.send("s2 SEARCH ALL");
    let counts = server.counts_until(|c| c.searches_queued == 1);
    assert_eq!((counts.searches_running, counts.searches_queued), (1, 1));
    env.ok(
        &[
            "settings",
            "set",
            "imap",
            "--max-concurrent-searches-per-server",
            "2",
        ],
        "",
    );
    let counts = server.counts_until(|c| c.searches_running == 2);
    assert_eq!(counts.searches_queued, 0);
    assert_eq!(ann.answer("s1").1, "s1 OK SEARCH completed");
    assert_eq!(bea.answer("s2").1, "s2 OK SEARCH completed");
    server.stop();
}

/// A client that sends commands but never reads holds its connection no longer than
/// the idle time-out of its state: PreAuthenticatedConnectionTimeout before login (its
/// answers pile up unread and the server gives up on them), AuthenticatedConnectionTimeout
/// after; then its count is given back.
#[test]
fn a_client_that_never_reads_is_dropped_at_the_time_out_of_its_state() {
    let limits = "pre_authenticated_connection_timeout = 2\nauthenticated_connection_timeout = 10";
    let env = Env::with_settings(limits, limits);
    env.add_user("ann", "pw");
    let server = env.serve(&[]);
    let floods = [(&IMAP, false), (&POP3, false), (&IMAP, true), (&POP3, true)].map(
        |(protocol, logged_in)| {
            let mut client = protocol.greeted(LineClient::connect(protocol.addr(&server)));
            if logged_in {
                let answer = protocol.log_in(&mut client, "ann", "pw");
                assert!(answer.starts_with("OK ") || answer.starts_with("+OK"));
            }
            // Answers of a few hundred bytes fill the socket buffers in a second or two.
            let command = if protocol.name == "imap" {
                "a CAPABILITY"
            } else {
                "CAPA"
            };
            (
                protocol.name,
                logged_in,
                Instant::now(),
                client.flood(command),
            )
        },
    );
    let mut ended = Vec::new();
    for (name, logged_in, started, flood) in floods {
        let (cut, how) = flood.join().expect("the flooding thread");
        let took = cut - started;
        let (least, most) = if logged_in { (9.5, 18.0) } else { (2.0, 8.0) };
        assert!(
            took >= Duration::from_secs_f64(least) && took < Duration::from_secs_f64(most),
            "{name} (logged in: {logged_in}) was cut after {took:?} ({how:?})"
        );
        ended.push(logged_in);
        if ended == [false, false] {
            let counts =
                server.counts_until(|c| c.imap.connections == 1 && c.pop3.connections == 1);
            assert_eq!((counts.imap.connections, counts.pop3.connections), (1, 1));
        }
    }
    let counts = server.counts_until(|c| c.is_idle());
    assert!(counts.is_idle(), "counters left: {counts:?}");
    server.stop();
}
