//! Encoding POP3 responses: status lines with optional RFC 2449 / RFC 3206 response
//! codes, and multi-line responses (dot-stuffed, ending with `.`).

use crate::text::one_line;
use crate::wire::WireEncoder;

/// A response code (RFC 2449 §8, RFC 3206).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `[IN-USE]`: the maildrop or a resource is busy.
    InUse,
    /// `[AUTH]`: the credentials were refused.
    Auth,
    /// `[SYS/TEMP]`: a temporary server problem.
    SysTemp,
    /// `[SYS/PERM]`: a permanent server problem.
    SysPerm,
}

impl Code {
    fn text(self) -> &'static str {
        match self {
            Code::InUse => "[IN-USE] ",
            Code::Auth => "[AUTH] ",
            Code::SysTemp => "[SYS/TEMP] ",
            Code::SysPerm => "[SYS/PERM] ",
        }
    }
}

/// `+OK text` (`+OK` alone when `text` is empty)
pub fn ok(text: &str) -> Vec<u8> {
    if text.is_empty() {
        return b"+OK\r\n".to_vec();
    }
    status_line("+OK ", "", text)
}

/// `-ERR [CODE] text`
pub fn err(code: Option<Code>, text: &str) -> Vec<u8> {
    status_line("-ERR ", code.map_or("", Code::text), text)
}

/// `start`, `code` and `text` made one line ([`one_line`]): whatever the text quotes, it
/// holds no line break, NUL or 8-bit byte.
fn status_line(start: &str, code: &str, text: &str) -> Vec<u8> {
    let mut out = format!("{start}{code}").into_bytes();
    out.extend(one_line(text));
    out.extend_from_slice(b"\r\n");
    out
}

/// A multi-line response whose lines are short text (CAPA, LIST, UIDL).
pub fn multiline<I, S>(first: &str, lines: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = ok(first);
    let mut encoder = WireEncoder::new(true);
    for line in lines {
        encoder.push(line.as_ref().as_bytes(), &mut out);
        encoder.push(b"\r\n", &mut out);
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// The line that ends a multi-line response.
pub const END: &[u8] = b".\r\n";

/// Cuts a message for `TOP n`: the header, the blank line after it, and the first `n`
/// body lines. Fed the raw message piece by piece; says when nothing more is needed.
#[derive(Debug, Clone)]
pub struct TopCutter {
    in_header: bool,
    /// Nothing but an optional CR seen on the current line yet.
    line_empty: bool,
    body_lines_left: u32,
    done: bool,
}

impl TopCutter {
    pub fn new(body_lines: u32) -> Self {
        TopCutter {
            in_header: true,
            line_empty: true,
            body_lines_left: body_lines,
            done: false,
        }
    }

    /// The part of `piece` that belongs to the answer.
    pub fn cut<'a>(&mut self, piece: &'a [u8]) -> &'a [u8] {
        if self.done {
            return &[];
        }
        for (i, &b) in piece.iter().enumerate() {
            if b == b'\n' {
                let ends_part = if self.in_header {
                    self.in_header = !self.line_empty;
                    !self.in_header && self.body_lines_left == 0
                } else {
                    self.body_lines_left -= 1;
                    self.body_lines_left == 0
                };
                if ends_part {
                    self.done = true;
                    return &piece[..=i];
                }
                self.line_empty = true;
            } else if b != b'\r' {
                self.line_empty = false;
            }
        }
        piece
    }

    /// True once everything the answer needs has been seen.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_and_codes() {
        assert_eq!(ok("ready"), b"+OK ready\r\n");
        assert_eq!(ok(""), b"+OK\r\n");
        assert_eq!(
            err(Some(Code::SysTemp), "busy"),
            b"-ERR [SYS/TEMP] busy\r\n"
        );
        assert_eq!(err(None, "no"), b"-ERR no\r\n");
        assert_eq!(ok("a\r\n+OK b\0\u{e9}"), b"+OK a  +OK b???\r\n");
    }

    #[test]
    fn top_keeps_the_header_and_n_body_lines_across_pieces() {
        let raw = b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\nl3\n";
        for (n, want) in [
            (0, &b"A: 1\r\nB: 2\r\n\r\n"[..]),
            (2, b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\n"),
            (9, raw),
        ] {
            for cut in 0..=raw.len() {
                let mut top = TopCutter::new(n);
                let mut out = top.cut(&raw[..cut]).to_vec();
                out.extend_from_slice(top.cut(&raw[cut..]));
                assert_eq!(out, want, "n={n} cut={cut}");
            }
        }
        let mut headers_only = TopCutter::new(3);
        assert_eq!(headers_only.cut(b"A: 1\n"), b"A: 1\n");
        assert!(!headers_only.is_done());
    }

    #[test]
    fn multiline_lists_are_terminated_and_stuffed() {
        assert_eq!(
            multiline("2 messages", ["1 10", ".x"]),
            b"+OK 2 messages\r\n1 10\r\n..x\r\n.\r\n"
        );
        assert_eq!(
            multiline("none", Vec::<String>::new()),
            b"+OK none\r\n.\r\n"
        );
    }
}
