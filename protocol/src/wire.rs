//! The canonical wire form of a stored message: every bare LF becomes CRLF, and a final
//! CRLF is added if the message does not end with a line break. Both protocols send
//! this form, and the sizes they announce (POP3 LIST, IMAP RFC822.SIZE) are its length,
//! which the store computes once at append (`mailhive_store::wire_size`).

/// Converts a message to wire form piece by piece, with POP3 dot-stuffing if asked.
#[derive(Debug, Clone)]
pub struct WireEncoder {
    /// Double a `.` at the start of a line (POP3 multi-line responses).
    dot_stuff: bool,
    /// The next byte starts a line.
    at_line_start: bool,
    /// The previous byte was a CR.
    after_cr: bool,
    /// Bytes of input seen (to know whether anything was sent).
    seen: u64,
}

impl WireEncoder {
    pub fn new(dot_stuff: bool) -> Self {
        WireEncoder {
            dot_stuff,
            at_line_start: true,
            after_cr: false,
            seen: 0,
        }
    }

    /// Appends the wire form of `input` (the next piece of the message) to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 32);
        for &b in input {
            if self.at_line_start && self.dot_stuff && b == b'.' {
                out.push(b'.');
            }
            if b == b'\n' && !self.after_cr {
                out.push(b'\r');
            }
            out.push(b);
            self.after_cr = b == b'\r';
            self.at_line_start = b == b'\n';
        }
        self.seen += input.len() as u64;
    }

    /// Ends the message: adds the final CRLF if the last line had none.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.seen > 0 && !self.at_line_start {
            out.extend_from_slice(b"\r\n");
            self.at_line_start = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(raw: &[u8], dot_stuff: bool, cut: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = WireEncoder::new(dot_stuff);
        enc.push(&raw[..cut], &mut out);
        enc.push(&raw[cut..], &mut out);
        enc.finish(&mut out);
        out
    }

    #[test]
    fn normalises_line_ends_and_stuffs_dots_at_every_split() {
        let raw = b"a\nb\r\n.dot\n..two\r\nlast";
        for cut in 0..=raw.len() {
            assert_eq!(
                encode(raw, false, cut),
                b"a\r\nb\r\n.dot\r\n..two\r\nlast\r\n",
                "cut {cut}"
            );
            assert_eq!(
                encode(raw, true, cut),
                b"a\r\nb\r\n..dot\r\n...two\r\nlast\r\n",
                "cut {cut}"
            );
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(encode(b"", true, 0), b"");
        assert_eq!(encode(b"\n", false, 0), b"\r\n");
        assert_eq!(encode(b"x\r", false, 1), b"x\r\r\n");
    }
}
