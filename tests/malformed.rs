//! Messages whose MIME structure is broken in ways the fuzzers found are appended,
//! described and fetched like any other, over a real socket, and the session goes on.

use crate::harness::{Env, LineClient};

/// Inputs kept in the MIME fuzz target's corpus, as messages.
const MESSAGES: [&str; 2] = [
    // A message/rfc822 part without a header, inside another one without a header.
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\n\
     Content-Type: message/rfc822\r\n\n\r\n--b--\r\n",
    // A quoted-printable part whose soft line break runs into its boundary.
    "\0\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
     Content-Transfer-Encoding: quoted-printable\r\n\n=\r\n--b\r\n",
];

#[test]
fn broken_mime_is_stored_and_served() {
    let env = Env::new();
    env.add_user("alice", "pw");
    let server = env.serve(&[]);
    let mut client = LineClient::imap_login(server.imap, "alice", "pw");
    for message in MESSAGES {
        client.send(&format!("a APPEND INBOX {{{}+}}", message.len()));
        client.send(message);
        let (_, done) = client.answer("a");
        assert!(done.starts_with("a OK"), "{done}");
    }
    client.imap_ok("SELECT INBOX");
    let untagged = client.imap_ok("FETCH 1:* (BODYSTRUCTURE ENVELOPE BODY[1])");
    assert_eq!(untagged.len(), MESSAGES.len(), "{untagged:?}");
    client.imap_ok("NOOP");
}
