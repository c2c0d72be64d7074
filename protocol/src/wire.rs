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

    /// Appends the wire form of `input` (the next piece of the message) to `out`, a
    /// line at a time: the line breaks are found with `memchr` and everything between
    /// them is copied whole.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 32 + 2);
        let mut rest = input;
        while let Some(&first) = rest.first() {
            if self.at_line_start && self.dot_stuff && first == b'.' {
                out.push(b'.');
            }
            let Some(lf) = memchr::memchr(b'\n', rest) else {
                out.extend_from_slice(rest);
                self.after_cr = rest.last() == Some(&b'\r');
                self.at_line_start = false;
                break;
            };
            let line = &rest[..lf];
            out.extend_from_slice(line);
            // The CR may have ended the previous piece.
            let has_cr = line.last().map_or(self.after_cr, |&b| b == b'\r');
            if !has_cr {
                out.push(b'\r');
            }
            out.push(b'\n');
            self.after_cr = false;
            self.at_line_start = true;
            rest = &rest[lf + 1..];
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

    /// The rule byte by byte, as the definition to check the line-at-a-time code against.
    fn reference(raw: &[u8], dot_stuff: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let (mut at_line_start, mut after_cr) = (true, false);
        for &b in raw {
            if at_line_start && dot_stuff && b == b'.' {
                out.push(b'.');
            }
            if b == b'\n' && !after_cr {
                out.push(b'\r');
            }
            out.push(b);
            after_cr = b == b'\r';
            at_line_start = b == b'\n';
        }
        if !raw.is_empty() && !at_line_start {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn agrees_with_the_byte_by_byte_rule_on_random_input_and_splits() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2_000 {
            let len = (next() % 40) as usize;
            let raw: Vec<u8> = (0..len)
                .map(|_| b"\r\n.ab"[(next() % 5) as usize])
                .collect();
            let cut = (next() as usize) % (len + 1);
            for dot_stuff in [false, true] {
                assert_eq!(
                    encode(&raw, dot_stuff, cut),
                    reference(&raw, dot_stuff),
                    "{raw:?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(encode(b"", true, 0), b"");
        assert_eq!(encode(b"\n", false, 0), b"\r\n");
        assert_eq!(encode(b"x\r", false, 1), b"x\r\r\n");
    }
}
