//! Writing IMAP responses: strings in the cheapest form that carries them (atom,
//! quoted string or literal), mailbox names in modified UTF-7, flag lists, and the
//! response lines themselves.
//!
//! A string a client sent reaches the wire only through [`astring`] in response data
//! (or [`mailbox`] for a mailbox name, which is modified UTF-7 first), and through
//! [`status`], which makes response text one line ([`crate::text::one_line`]), in text:
//! never formatted into a line as it is.

use super::command::Flag;
use super::mutf7::MailboxEncoding;
use crate::text::one_line;

/// A status response's condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    Bye,
    PreAuth,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::Bye => "BYE",
            Status::PreAuth => "PREAUTH",
        }
    }
}

/// `TAG OK [CODE] text` (`*` without a tag), CRLF-terminated.
pub fn status(tag: Option<&str>, status: Status, code: Option<&str>, text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + text.len());
    out.extend_from_slice(tag.unwrap_or("*").as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.word().as_bytes());
    if let Some(code) = code {
        out.extend_from_slice(b" [");
        out.extend_from_slice(code.as_bytes());
        out.push(b']');
    }
    out.push(b' ');
    out.extend(one_line(text));
    out.extend_from_slice(b"\r\n");
    out
}

/// `* ` followed by `data` and CRLF.
pub fn untagged(data: &str) -> Vec<u8> {
    format!("* {data}\r\n").into_bytes()
}

fn is_atom_safe(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !b"(){%*\"\\]".contains(&b)
}

/// Whether `bytes` can go out as a quoted string (with `utf8`, one holding UTF-8 as
/// RFC 6855 allows once UTF8=ACCEPT is enabled).
fn quotable(bytes: &[u8], utf8: bool) -> bool {
    bytes.len() <= 1024
        && bytes
            .iter()
            .all(|&b| b != 0 && b != b'\r' && b != b'\n' && (b < 0x80 || utf8))
}

/// A string as a quoted string or, if it cannot be one, a literal.
pub fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    quoted_or_literal(out, bytes, false);
}

fn quoted_or_literal(out: &mut Vec<u8>, bytes: &[u8], utf8: bool) {
    if quotable(bytes, utf8) {
        out.push(b'"');
        for &b in bytes {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        literal_header(out, bytes.len());
        out.extend_from_slice(bytes);
    }
}

/// `{n}` CRLF, the start of a literal of n bytes.
pub fn literal_header(out: &mut Vec<u8>, size: usize) {
    out.extend_from_slice(format!("{{{size}}}\r\n").as_bytes());
}

/// An nstring: `NIL` or a string.
pub fn nstring(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(bytes) => string(out, bytes),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// An astring: an atom when possible, else a quoted string, else a literal. This is how
/// a string a client sent goes back on the wire in response data (ACL identifiers,
/// header field names…): never raw, so no CR, LF or NUL can start a line of its own.
pub fn astring(out: &mut Vec<u8>, bytes: &[u8]) {
    let atom = !bytes.is_empty()
        && !bytes.eq_ignore_ascii_case(b"NIL")
        && bytes.iter().all(|&b| is_atom_safe(b) || b == b']');
    if atom {
        out.extend_from_slice(bytes);
    } else {
        string(out, bytes);
    }
}

/// A mailbox name in the session's encoding (modified UTF-7, or UTF-8 after ENABLE
/// UTF8=ACCEPT), always quoted (as most servers do, so that clients with weak parsers
/// cope with names holding spaces or brackets).
pub fn mailbox(out: &mut Vec<u8>, name: &str, encoding: MailboxEncoding) {
    let utf8 = encoding == MailboxEncoding::Utf8;
    quoted_or_literal(out, encoding.encode(name).as_bytes(), utf8);
}

/// The name of a flag on the wire.
pub fn flag_name(flag: &Flag) -> &str {
    match flag {
        Flag::Seen => "\\Seen",
        Flag::Answered => "\\Answered",
        Flag::Flagged => "\\Flagged",
        Flag::Deleted => "\\Deleted",
        Flag::Draft => "\\Draft",
        Flag::Recent => "\\Recent",
        Flag::Keyword(k) => k,
    }
}

/// `(\Seen $Label1)`
pub fn flag_list<'a>(out: &mut Vec<u8>, flags: impl IntoIterator<Item = &'a Flag>) {
    out.push(b'(');
    for (i, flag) in flags.into_iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(flag_name(flag).as_bytes());
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn chooses_atom_quoted_or_literal() {
        assert_eq!(encoded(|o| astring(o, b"INBOX")), "INBOX");
        assert_eq!(encoded(|o| astring(o, b"NIL")), "\"NIL\"");
        assert_eq!(encoded(|o| astring(o, b"")), "\"\"");
        assert_eq!(encoded(|o| astring(o, b"a b")), "\"a b\"");
        assert_eq!(
            encoded(|o| string(o, b"say \"hi\" \\o/")),
            r#""say \"hi\" \\o/""#
        );
        assert_eq!(
            encoded(|o| string(o, b"two\r\nlines")),
            "{10}\r\ntwo\r\nlines"
        );
        assert_eq!(encoded(|o| string(o, "café".as_bytes())), "{5}\r\ncafé");
        assert_eq!(encoded(|o| nstring(o, None)), "NIL");
        assert_eq!(
            encoded(|o| mailbox(o, "Entwürfe", MailboxEncoding::ModifiedUtf7)),
            "\"Entw&APw-rfe\""
        );
        assert_eq!(
            encoded(|o| mailbox(o, "Entwürfe", MailboxEncoding::Utf8)),
            "\"Entwürfe\""
        );
        assert_eq!(
            status(Some("a1"), Status::No, Some("TOOBIG"), "Message too large"),
            b"a1 NO [TOOBIG] Message too large\r\n"
        );
        assert_eq!(
            status(None, Status::No, None, "x\r\n* BYE\0caf\u{e9}"),
            b"* NO x  * BYE?caf??\r\n"
        );
        assert_eq!(
            encoded(|o| astring(o, b"x\r\n* BYE injected")),
            "{17}\r\nx\r\n* BYE injected"
        );
    }
}
