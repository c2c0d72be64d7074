//! LMTP replies: a code, an enhanced status code (RFC 3463, offered as
//! ENHANCEDSTATUSCODES) and text made one line of printable ASCII. The texts SPEC §8
//! fixes are here, once.

use crate::text::one_line;

/// `code status text` on one line.
pub fn reply(code: u16, status: &str, text: &str) -> Vec<u8> {
    let mut out = format!("{code} {status} ").into_bytes();
    out.extend(one_line(text));
    out.extend_from_slice(b"\r\n");
    out
}

/// The greeting (RFC 5321 §4.2: no enhanced code).
pub fn greeting(host: &str) -> Vec<u8> {
    let mut out = b"220 ".to_vec();
    out.extend(one_line(host));
    out.extend_from_slice(b" mailhive LMTP ready\r\n");
    out
}

/// The answer to LHLO: the host, then the extensions offered.
pub fn lhlo(host: &str, max_size: u64) -> Vec<u8> {
    let size = format!("SIZE {max_size}");
    let lines = [
        host,
        "PIPELINING",
        "ENHANCEDSTATUSCODES",
        "8BITMIME",
        &size,
        "CHUNKING",
    ];
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        out.extend_from_slice(if i + 1 < lines.len() {
            b"250-"
        } else {
            b"250 "
        });
        out.extend(one_line(line));
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The go-ahead after DATA: an intermediate reply, without an enhanced code (RFC 2034
/// §3 gives them to 2xx, 4xx and 5xx replies only).
pub fn start_data() -> Vec<u8> {
    b"354 Start mail input; end with <CRLF>.<CRLF>\r\n".to_vec()
}

/// A recipient's message is durable in its mailbox.
pub fn saved(rcpt: &str) -> Vec<u8> {
    reply(250, "2.0.0", &format!("<{rcpt}> Saved"))
}

/// No account takes this recipient.
pub fn user_unknown(rcpt: &str) -> Vec<u8> {
    reply(550, "5.1.1", &format!("<{rcpt}> User unknown"))
}

/// The recipient's account is over its quota (SPEC §7); the MTA bounces the message.
pub fn mailbox_full(rcpt: &str) -> Vec<u8> {
    reply(552, "5.2.2", &format!("<{rcpt}> Mailbox full"))
}

/// The message is over SIZE (MaxMessageSize).
pub fn too_big() -> Vec<u8> {
    reply(552, "5.3.4", "Message too big")
}

/// Storing for this recipient failed; the MTA tries again later.
pub fn temporary_failure(rcpt: &str) -> Vec<u8> {
    reply(
        451,
        "4.3.0",
        &format!("<{rcpt}> Temporary failure, try again later"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_carry_their_codes_and_one_line_of_text() {
        assert_eq!(saved("a@b"), b"250 2.0.0 <a@b> Saved\r\n");
        assert_eq!(user_unknown("x@y"), b"550 5.1.1 <x@y> User unknown\r\n");
        assert_eq!(too_big(), b"552 5.3.4 Message too big\r\n");
        assert_eq!(reply(250, "2.0.0", "a\r\n250 b"), b"250 2.0.0 a  250 b\r\n");
        assert_eq!(
            lhlo("mx", 10),
            b"250-mx\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n\
              250-SIZE 10\r\n250 CHUNKING\r\n"
                .to_vec()
        );
    }
}
