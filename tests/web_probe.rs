//! `/healthz` and `/metrics` over a real socket: the health answer and the security
//! headers, the metrics' bearer token, and the exact differences known traffic makes
//! in the scraped samples (logins ok and failed, a refused connection, commands, an
//! LMTP delivery, the store's size).

use crate::harness::{Env, LineClient, Server};
use crate::http::{get, sample};

fn scrape(server: &Server) -> String {
    let answer = get(server.web, "/metrics", &[]);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{answer:?}"
    );
    assert!(answer.body.ends_with("# EOF\n"), "{}", answer.body);
    answer.body
}

#[test]
fn healthz_answers_ok_with_the_security_headers() {
    let env = Env::new();
    let server = env.serve(&[]);
    let answer = get(server.web, "/healthz", &[]);
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(answer.header(name), Some(value), "{answer:?}");
    }
    assert_eq!(get(server.web, "/nowhere", &[]).status, 404);
}

#[test]
fn metrics_want_the_bearer_token_when_one_is_set() {
    let env = Env::with_web("metrics_token = \"t0ken-9\"");
    let server = env.serve(&[]);
    let refused = get(server.web, "/metrics", &[]);
    assert_eq!(refused.status, 401);
    assert!(!refused.body.contains("mailhive_"), "{refused:?}");
    let wrong = get(
        server.web,
        "/metrics",
        &[("Authorization", "Bearer t0ken-8")],
    );
    assert_eq!(wrong.status, 401);
    let right = get(
        server.web,
        "/metrics",
        &[("Authorization", "Bearer t0ken-9")],
    );
    assert_eq!(right.status, 200);
    assert!(right.body.contains("mailhive_store_messages "), "{right:?}");
    assert_eq!(get(server.web, "/healthz", &[]).status, 200);
}

#[test]
fn metrics_count_known_traffic_exactly() {
    let env = Env::new();
    crate::lmtp::accounts(&env);
    let server = env.serve(&[]);
    let before = scrape(&server);

    let mut alice = LineClient::imap_login(server.imap, "alice", "pw");
    for _ in 0..3 {
        alice.imap_ok("NOOP");
    }
    let mut wrong = LineClient::connect(server.imap);
    wrong.expect_prefix("* OK");
    wrong.send("w1 LOGIN alice not-her-password");
    wrong.expect_prefix("w1 NO [AUTHENTICATIONFAILED]");
    env.ok(
        &[
            "settings",
            "set",
            "imap",
            "--max-connections-from-single-ip",
            "2",
        ],
        "",
    );
    let mut third = LineClient::connect(server.imap);
    third.expect("* BYE [UNAVAILABLE] Too many connections from this address!");
    env.ok(
        &["settings", "reset", "imap", "MaxConnectionsFromSingleIP"],
        "",
    );
    let mut pop3 = LineClient::connect(server.pop3);
    pop3.expect_prefix("+OK");
    for line in ["USER bob", "PASS pw", "STAT", "STAT"] {
        pop3.send(line);
        pop3.expect_prefix("+OK");
    }
    let mut lmtp = LineClient::connect(server.lmtp);
    lmtp.expect_prefix("220 ");
    lmtp.send("LHLO mx.example.org");
    while lmtp.line().is_some_and(|l| l.starts_with("250-")) {}
    for line in [
        "MAIL FROM:<carol@example.org>",
        "RCPT TO:<bob@example.org>",
        "DATA",
    ] {
        lmtp.send(line);
        lmtp.line().expect("a reply");
    }
    lmtp.send("Subject: counted\r\n\r\nhello\r\n.");
    lmtp.expect_prefix("250 2.0.0 <bob@example.org> Saved");

    let after = scrape(&server);
    let grew = |series: &str| sample(&after, series) - sample(&before, series);
    for (series, by) in [
        (
            "mailhive_logins_total{protocol=\"imap\",result=\"ok\"}",
            1.0,
        ),
        (
            "mailhive_logins_total{protocol=\"imap\",result=\"failed\"}",
            1.0,
        ),
        (
            "mailhive_logins_total{protocol=\"imap\",result=\"refused\"}",
            0.0,
        ),
        (
            "mailhive_commands_total{protocol=\"imap\",command=\"NOOP\"}",
            3.0,
        ),
        (
            "mailhive_commands_total{protocol=\"imap\",command=\"LOGIN\"}",
            2.0,
        ),
        (
            "mailhive_command_duration_seconds_count{protocol=\"imap\",command=\"NOOP\"}",
            3.0,
        ),
        (
            "mailhive_limit_refusals_total{protocol=\"imap\",limit=\"MaxConnectionsFromSingleIP\"}",
            1.0,
        ),
        (
            "mailhive_limit_refusals_total{protocol=\"imap\",limit=\"MaxConnections\"}",
            0.0,
        ),
        (
            "mailhive_logins_total{protocol=\"pop3\",result=\"ok\"}",
            1.0,
        ),
        (
            "mailhive_commands_total{protocol=\"pop3\",command=\"STAT\"}",
            2.0,
        ),
        (
            "mailhive_command_duration_seconds_count{protocol=\"pop3\",command=\"PASS\"}",
            1.0,
        ),
        ("mailhive_lmtp_deliveries_total{result=\"ok\"}", 1.0),
        ("mailhive_store_messages", 1.0),
    ] {
        assert_eq!(grew(series), by, "{series} in\n{after}");
    }
    assert!(grew("mailhive_store_bytes") > 0.0, "{after}");
    assert_eq!(
        sample(&after, "mailhive_connections{protocol=\"imap\"}"),
        2.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, "mailhive_connections{protocol=\"pop3\"}"),
        1.0,
        "{after}"
    );
    for state in ["busy", "queued"] {
        let series = format!("mailhive_fetch_slots{{state=\"{state}\"}}");
        assert_eq!(sample(&after, &series), 0.0, "{after}");
    }
}
