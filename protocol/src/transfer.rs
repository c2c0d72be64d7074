//! Undoing a part's Content-Transfer-Encoding (RFC 2045 §6) piece by piece, for IMAP's
//! BINARY (RFC 3516): base64 and quoted-printable are decoded, the identity encodings
//! (7bit, 8bit, binary, or none) give the wire form of the bytes as BODY[] does. Each
//! decoder holds a few bytes of state between pieces, so a part of any size is decoded
//! in bounded memory, and decoding never fails: what RFC 2045 tells a decoder to ignore
//! (characters outside the base64 alphabet, a `=` that starts no escape) is ignored or
//! kept as it is.

use crate::wire::WireEncoder;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Whitespace held back at most, waiting to see whether it ends its line (trailing
/// whitespace is removed from quoted-printable, RFC 2045 §6.7 rule 3).
const MAX_HELD_WHITESPACE: usize = 1024;

/// A part's body decoded as its Content-Transfer-Encoding says.
#[derive(Debug, Clone)]
pub enum Decoder {
    /// 7bit, 8bit, binary: the bytes in wire form (bare LF as CRLF).
    Identity(WireEncoder),
    Base64(Base64),
    QuotedPrintable(QuotedPrintable),
}

impl Decoder {
    /// The decoder for a Content-Transfer-Encoding as written (`None`: 7bit); `None`
    /// for one it does not know (answered `NO [UNKNOWN-CTE]`).
    pub fn for_encoding(encoding: Option<&str>) -> Option<Decoder> {
        let name = encoding.unwrap_or("7bit").trim().to_ascii_lowercase();
        Some(match name.as_str() {
            "7bit" | "8bit" | "binary" => Decoder::Identity(WireEncoder::new(false)),
            "base64" => Decoder::Base64(Base64::default()),
            "quoted-printable" => Decoder::QuotedPrintable(QuotedPrintable::default()),
            _ => return None,
        })
    }

    /// Appends the decoded form of `input`, the next piece of the body, to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match self {
            Decoder::Identity(wire) => wire.push(input, out),
            Decoder::Base64(base64) => base64.push(input, out),
            Decoder::QuotedPrintable(qp) => qp.push(input, out),
        }
    }

    /// Ends the body. `message_end`: the body ends the message, whose wire form ends
    /// with a line break.
    pub fn finish(&mut self, out: &mut Vec<u8>, message_end: bool) {
        match self {
            Decoder::Identity(wire) if message_end => wire.finish(out),
            Decoder::Identity(_) => {}
            Decoder::Base64(base64) => base64.finish(out),
            Decoder::QuotedPrintable(qp) => qp.finish(out),
        }
    }
}

/// `bytes` base64-encoded in lines of 76 characters joined by CRLF (RFC 2045 §6.8),
/// without a line break after the last.
pub fn encode_base64_lines(bytes: &[u8], out: &mut Vec<u8>) {
    for (i, line) in bytes.chunks(57).enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(STANDARD.encode(line).as_bytes());
    }
}

/// Base64 (RFC 2045 §6.8): characters outside the alphabet are ignored, `=` ends a
/// group (what follows is decoded as more groups), an incomplete last group gives
/// the bytes it holds whole.
#[derive(Debug, Clone, Default)]
pub struct Base64 {
    /// The sextets of the group being read.
    group: u32,
    sextets: u8,
}

impl Base64 {
    fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() / 4 * 3 + 3);
        for &b in input {
            let value = match b {
                b'A'..=b'Z' => b - b'A',
                b'a'..=b'z' => b - b'a' + 26,
                b'0'..=b'9' => b - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => {
                    self.finish(out);
                    continue;
                }
                _ => continue,
            };
            self.group = (self.group << 6) | u32::from(value);
            self.sextets += 1;
            if self.sextets == 4 {
                out.extend_from_slice(&self.group.to_be_bytes()[1..]);
                self.group = 0;
                self.sextets = 0;
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        match self.sextets {
            2 => out.push((self.group >> 4) as u8),
            3 => out.extend_from_slice(&((self.group >> 2) as u16).to_be_bytes()),
            _ => {}
        }
        self.group = 0;
        self.sextets = 0;
    }
}

/// Where a quoted-printable decoder is in its input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Qp {
    #[default]
    Text,
    /// After a CR: a line end if an LF follows.
    Cr,
    /// After `=`.
    Equals,
    /// After `=` and a hex digit.
    Hex(u8),
    /// After `=` and whitespace: a soft line break if the line ends here.
    Soft,
    /// After `=`, perhaps whitespace, and a CR.
    SoftCr,
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` is the byte, `=` at a line's end (after
/// optional whitespace) joins the lines, whitespace at a line's end is removed, a
/// line end is CRLF; a `=` that starts none of these is kept as it is.
#[derive(Debug, Clone, Default)]
pub struct QuotedPrintable {
    state: Qp,
    /// Whitespace not yet known to be inside its line.
    whitespace: Vec<u8>,
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

impl QuotedPrintable {
    fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len());
        for &b in input {
            self.byte(b, out);
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        match (self.state, b) {
            (Qp::Text, b' ' | b'\t') => {
                if self.whitespace.len() == MAX_HELD_WHITESPACE {
                    out.append(&mut self.whitespace);
                }
                self.whitespace.push(b);
            }
            (Qp::Text, b'\r') => self.state = Qp::Cr,
            (Qp::Text | Qp::Cr, b'\n') => {
                self.whitespace.clear();
                out.extend_from_slice(b"\r\n");
                self.state = Qp::Text;
            }
            (Qp::Text, b'=') => {
                out.append(&mut self.whitespace);
                self.state = Qp::Equals;
            }
            (Qp::Text, _) => {
                out.append(&mut self.whitespace);
                out.push(b);
            }
            (Qp::Cr, _) => {
                out.append(&mut self.whitespace);
                out.push(b'\r');
                self.state = Qp::Text;
                self.byte(b, out);
            }
            (Qp::Equals, _) if hex_value(b).is_some() => self.state = Qp::Hex(b),
            (Qp::Equals | Qp::Soft | Qp::SoftCr, b'\n') => self.state = Qp::Text,
            (Qp::Equals | Qp::Soft, b'\r') => self.state = Qp::SoftCr,
            (Qp::Equals | Qp::Soft, b' ' | b'\t') => self.state = Qp::Soft,
            (Qp::Hex(high), _) => {
                self.state = Qp::Text;
                match (hex_value(high), hex_value(b)) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => {
                        out.extend_from_slice(&[b'=', high]);
                        self.byte(b, out);
                    }
                }
            }
            (Qp::Equals | Qp::Soft | Qp::SoftCr, _) => {
                out.push(b'=');
                self.state = Qp::Text;
                self.byte(b, out);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        match self.state {
            Qp::Cr => out.push(b'\r'),
            Qp::Hex(high) => out.extend_from_slice(&[b'=', high]),
            Qp::Text | Qp::Equals | Qp::Soft | Qp::SoftCr => {}
        }
        self.whitespace.clear();
        self.state = Qp::Text;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` as `encoding`, cut into two pieces at every position.
    fn decoded(encoding: &str, input: &[u8]) -> Vec<u8> {
        let mut results = (0..=input.len()).map(|cut| {
            let mut decoder = Decoder::for_encoding(Some(encoding)).unwrap();
            let mut out = Vec::new();
            decoder.push(&input[..cut], &mut out);
            decoder.push(&input[cut..], &mut out);
            decoder.finish(&mut out, false);
            out
        });
        let first = results.next().unwrap();
        assert!(
            results.all(|r| r == first),
            "{encoding}: depends on the cut"
        );
        first
    }

    #[test]
    fn base64_ignores_what_is_outside_its_alphabet() {
        assert_eq!(decoded("base64", b"aGVs\r\nbG8gd29y\nbGQ="), b"hello world");
        assert_eq!(
            decoded("BASE64", b"  aGVs    \n bG8g  \n d29y \t\n bGQ= \n"),
            b"hello world"
        );
        assert_eq!(
            decoded("base64", b"YWJjZGVmZw1oaWprbA0KbW5vCnBxcnN0dXZxeHl6").len(),
            30
        );
        // Padding ends a group; a second block goes on; a lone sextet is dropped.
        assert_eq!(decoded("base64", b"aGk=aGk=Q"), b"hihi");
        assert_eq!(
            decoded("base64", b"!!not*base64??"),
            decoded("base64", b"notbase64")
        );
    }

    #[test]
    fn quoted_printable_as_rfc_2045_says() {
        let input = b"hello  \nbar=\n\nfoo\t=\nbar\nfoo\t \t= \n=62\nfoo = \t\nbar\nfoo =\r\n=62\nfoo  \nbar=\n\nfoo_bar\n";
        assert_eq!(
            decoded("quoted-printable", input),
            b"hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\nfoo b\r\nfoo\r\nbar\r\nfoo_bar\r\n"
        );
        // Escapes in either case; a `=` that starts none is kept; a lone CR stays.
        assert_eq!(
            decoded("quoted-printable", b"=3d=3D=4x=\x01a\rb=G"),
            b"===4x=\x01a\rb=G"
        );
    }

    #[test]
    fn identity_encodings_give_the_wire_form_and_others_are_unknown() {
        assert_eq!(decoded("8bit", b"a\nb\r\n\0c"), b"a\r\nb\r\n\0c");
        let mut decoder = Decoder::for_encoding(None).unwrap();
        let mut out = Vec::new();
        decoder.push(b"no line end", &mut out);
        decoder.finish(&mut out, true);
        assert_eq!(out, b"no line end\r\n");
        assert!(Decoder::for_encoding(Some("x-uuencode")).is_none());
    }

    #[test]
    fn base64_lines_decode_back() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut lines = Vec::new();
        encode_base64_lines(&bytes, &mut lines);
        assert!(lines.split(|&b| b == b'\n').all(|l| l.len() <= 77));
        assert!(!lines.ends_with(b"\n"));
        assert_eq!(decoded("base64", &lines), bytes);
    }

    #[test]
    fn held_whitespace_is_bounded() {
        let mut decoder = Decoder::for_encoding(Some("quoted-printable")).unwrap();
        let mut out = Vec::new();
        decoder.push(&vec![b' '; 1 << 20], &mut out);
        let Decoder::QuotedPrintable(qp) = &decoder else {
            unreachable!()
        };
        assert!(qp.whitespace.len() <= MAX_HELD_WHITESPACE);
        assert_eq!(out.len() + qp.whitespace.len(), 1 << 20);
    }
}
