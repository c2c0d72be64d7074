//! The configuration loader, given files spelled with its sections, keys and values of
//! every kind: it loads or explains why not, and never panics.

use crate::tokens::expand;
use std::path::Path;

const TOKENS: [&[u8]; 24] = [
    b"[imap]\n",
    b"[pop3]\n",
    b"[tls]\n",
    b"[store]\n",
    b"listen = ",
    b"tls_listen = ",
    b"max_command_size = ",
    b"max_message_size = ",
    b"idle_keepalive_interval = ",
    b"login_failure_window = ",
    b"plaintext_auth = ",
    b"path = ",
    b"[\"127.0.0.1:0\", \"[::1]:143\"]",
    b"\"10s\"",
    b"\"1h 30m\"",
    b"18446744073709551616",
    b"-1",
    b"0",
    b"4096",
    b"\"never\"",
    b"\"\"",
    b"{ a = 1 }",
    b"\n",
    b"1.5e300",
];

#[test]
fn config() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let path = dir.path().join("mailhive.toml");
    bolero::check!(name = "config")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            std::fs::write(&path, expand(input, &TOKENS)).expect("writing the config file");
            let _ = mailhive::config::load(Some(Path::new(&path)));
        });
}
