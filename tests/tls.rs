//! TLS with real clients: Python's ssl module (imaplib, poplib), `openssl s_client` and
//! curl, over implicit TLS and STARTTLS/STLS; the plaintext-authentication policy;
//! commands smuggled across STARTTLS; certificate reloads; limits during the handshake.

use crate::harness::{Env, LineClient, Server};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `tests/clients/tls_session.py MODE` against `addr`; returns what it printed.
fn python(mode: &str, addr: SocketAddr, credentials: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/tls_session.py");
    let out = Command::new("python3")
        .arg(script)
        .args([mode, "127.0.0.1", &addr.port().to_string()])
        .args(credentials)
        .output()
        .expect("python3");
    assert_success(&format!("tls_session.py {mode}"), &out);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn served(env: Env) -> (Env, Server) {
    env.add_user("ann", "pw");
    env.import("ann", "corpus.mbox");
    let server = env.serve(&[]);
    (env, server)
}

#[test]
fn python_sessions_over_implicit_tls_and_starttls() {
    let (_env, server) = served(Env::new());
    let ann = ["ann", "pw"];
    python("imaps", server.imaps, &ann);
    python("imap-starttls", server.imap, &ann);
    python("pop3s", server.pop3s, &ann);
    python("pop3-stls", server.pop3, &ann);
    server.stop();
}

#[test]
fn curl_and_openssl_over_tls() {
    let (_env, server) = served(Env::new());
    let first = crate::harness::fixture_messages().remove(0).1;
    let curl = |url: String, extra: &[&str]| {
        let out = Command::new("curl")
            .args(["--silent", "--show-error", "--insecure", "--user", "ann:pw"])
            .args(extra)
            .arg(url)
            .output()
            .expect("curl");
        assert_success("curl", &out);
        out.stdout
    };
    let crlf = crate::harness::crlf(&first);
    let imaps = curl(format!("imaps://{}/INBOX;UID=1", server.imaps), &[]);
    assert!(imaps == crlf, "imaps:// fetched other bytes");
    let starttls = curl(
        format!("imap://{}/INBOX;UID=1", server.imap),
        &["--ssl-reqd"],
    );
    assert!(starttls == crlf, "STARTTLS fetched other bytes");
    let pop3s = curl(format!("pop3s://{}/1", server.pop3s), &[]);
    assert!(pop3s == crlf, "pop3s:// fetched other bytes");
    let stls = curl(format!("pop3://{}/1", server.pop3), &["--ssl-reqd"]);
    assert!(stls == crlf, "STLS fetched other bytes");

    for (protocol, addr, script) in [
        ("imap", server.imap, "a1 LOGIN ann pw\na2 LOGOUT\n"),
        ("pop3", server.pop3, "USER ann\nPASS pw\nQUIT\n"),
    ] {
        let mut openssl = Command::new("openssl")
            .args([
                "s_client",
                "-quiet",
                "-ign_eof",
                "-starttls",
                protocol,
                "-connect",
            ])
            .arg(addr.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl");
        openssl
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = openssl.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let logged_in = if protocol == "imap" {
            "a1 OK"
        } else {
            "+OK ann's maildrop"
        };
        assert!(
            said.contains(logged_in),
            "openssl -starttls {protocol}: {said}"
        );
    }
    server.stop();
}

#[test]
fn commands_pipelined_after_starttls_are_never_run_inside_tls() {
    let (_env, server) = served(Env::new());
    python("imap-inject", server.imap, &[]);
    python("pop3-inject", server.pop3, &[]);
    server.stop();
}

#[test]
fn plaintext_auth_never_requires_tls_first() {
    let (_env, server) = served(Env::with_tls("plaintext_auth = \"never\""));
    let ann = ["ann", "pw"];
    python("imap-never", server.imap, &ann);
    python("pop3-never", server.pop3, &ann);
    // Implicit TLS needs nothing more.
    python("imaps", server.imaps, &ann);
    python("pop3s", server.pop3s, &ann);
    let mut plain = LineClient::connect(server.imap);
    let greeting = plain.line().unwrap();
    assert!(greeting.contains(" LOGINDISABLED"), "{greeting}");
    let (_, refused) = plain.imap("AUTHENTICATE PLAIN AGFubgBwdw==");
    assert!(refused.starts_with("c1 NO [PRIVACYREQUIRED] "), "{refused}");
    server.stop();
}

/// A self-signed certificate and key for `localhost` made by openssl, in `dir`.
fn make_certificate(dir: &Path, name: &str) -> (String, String) {
    let cert = dir.join(format!("{name}-cert.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl req");
    assert_success("openssl req", &out);
    (cert.display().to_string(), key.display().to_string())
}

/// The SHA-256 of a PEM certificate's DER form, as the Python client prints it.
fn fingerprint_of(pem: &str) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in", pem])
        .output()
        .expect("openssl x509");
    assert_success("openssl x509", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.trim().rsplit('=').next().unwrap_or_default();
    hex.replace(':', "").to_lowercase()
}

#[test]
fn a_renewed_certificate_is_loaded_without_dropping_connections() {
    let work = tempfile::tempdir().unwrap();
    let (cert, key) = make_certificate(work.path(), "live");
    let (env, server) = served(Env::with_tls(&format!("cert = {cert:?}\nkey = {key:?}")));
    let first = fingerprint_of(&cert);
    assert_eq!(python("fingerprint", server.imaps, &[]), first);

    // An open session, logged in, over the first certificate.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/tls_session.py");
    let mut hold = Command::new("python3")
        .arg(script)
        .args([
            "hold",
            "127.0.0.1",
            &server.imaps.port().to_string(),
            "ann",
            "pw",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut said = BufReader::new(hold.stdout.take().unwrap());
    let mut line = String::new();
    said.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), first);

    // Renewed in place, as certbot does, then reloaded through the admin socket.
    let (renewed_cert, renewed_key) = make_certificate(work.path(), "renewed");
    std::fs::copy(&renewed_cert, &cert).unwrap();
    std::fs::copy(&renewed_key, &key).unwrap();
    assert_eq!(env.ok(&["tls", "reload"], ""), "TLS certificate reloaded\n");
    let second = fingerprint_of(&cert);
    assert_ne!(first, second);
    assert_eq!(python("fingerprint", server.imaps, &[]), second);
    assert_eq!(python("fingerprint", server.pop3s, &[]), second);

    // SIGHUP does the same.
    let (third_cert, third_key) = make_certificate(work.path(), "third");
    std::fs::copy(&third_cert, &cert).unwrap();
    std::fs::copy(&third_key, &key).unwrap();
    server.signal("HUP");
    let third = fingerprint_of(&cert);
    let deadline = Instant::now() + Duration::from_secs(10);
    while python("fingerprint", server.imaps, &[]) != third {
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload the certificate"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A broken file is refused and the certificate in use stays.
    std::fs::write(&key, "not a key").unwrap();
    let refused = env.fails(&["tls", "reload"], "");
    assert!(refused.contains("not reloaded"), "{refused}");
    assert_eq!(python("fingerprint", server.imaps, &[]), third);

    // The session opened before all this goes on.
    hold.stdin.take().unwrap().write_all(b"go on\n").unwrap();
    line.clear();
    said.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ok");
    assert!(hold.wait().unwrap().success());
    server.stop();
}

#[test]
fn the_handshake_is_bounded_and_counted() {
    let env = Env::with_settings(
        "",
        "pre_authenticated_connection_timeout = 1\nmax_connections = 1",
    );
    let (_env, server) = served(env);
    // A client that opens a TLS connection and never says a word holds a connection
    // (MaxConnections = 1): the next one is refused, after its handshake so that it
    // can read why.
    let mut silent = LineClient::connect(server.imaps);
    let refusal = python("refused", server.imaps, &[]);
    assert_eq!(
        refusal,
        "* BYE [UNAVAILABLE] Too many connections to this server"
    );
    // The silent one is dropped at PreAuthenticatedConnectionTimeout.
    silent.expect_closed();
    let counts = server.counts_until(|c| c.imap.connections == 0);
    assert_eq!(counts.imap.connections, 0);
    python("imaps", server.imaps, &["ann", "pw"]);
    server.stop();
}
