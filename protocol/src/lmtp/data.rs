//! The DATA text of RFC 5321 §4.5.2: lines that start with `.` carry an extra one
//! (dot-stuffing), and a line holding `.` alone ends the message. [`Unstuffer`] undoes
//! the stuffing on input of any size, cut anywhere, without holding any of it: what it
//! reads goes to the caller's buffer at once, and it remembers only where in a line it
//! is. The CRLF before the ending `.` is the message's own last line end and is kept.
//! A bare LF ends a line too, as many MTAs write it.

/// Where the unstuffer is within the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// At the start of a line.
    LineStart,
    /// After a `.` at the start of a line (not copied).
    Dot,
    /// After `.` CR at the start of a line (neither copied).
    DotCr,
    /// Inside a line.
    Middle,
    /// After a CR inside a line.
    Cr,
}

/// Undoes dot-stuffing until the ending `.` line.
#[derive(Debug, Clone)]
pub struct Unstuffer {
    at: At,
}

/// What [`Unstuffer::feed`] did with its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fed {
    /// Bytes of the input read (all of it, unless the end came first).
    pub consumed: usize,
    /// The ending `.` line was read: the message is complete.
    pub done: bool,
}

impl Default for Unstuffer {
    fn default() -> Self {
        Unstuffer { at: At::LineStart }
    }
}

impl Unstuffer {
    /// Appends the message bytes in `input` to `out`, up to the ending line.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Fed {
        for (i, &b) in input.iter().enumerate() {
            match self.at {
                At::LineStart if b == b'.' => self.at = At::Dot,
                At::Dot if b == b'\r' => self.at = At::DotCr,
                At::Dot | At::DotCr if b == b'\n' => {
                    self.at = At::LineStart;
                    return Fed {
                        consumed: i + 1,
                        done: true,
                    };
                }
                At::DotCr => {
                    // `.` CR and something else: a line of its own, its dot stuffed.
                    out.push(b'\r');
                    self.at = At::Cr;
                    self.copy(b, out);
                }
                _ => self.copy(b, out),
            }
        }
        Fed {
            consumed: input.len(),
            done: false,
        }
    }

    fn copy(&mut self, b: u8, out: &mut Vec<u8>) {
        out.push(b);
        self.at = match (self.at, b) {
            (_, b'\n') => At::LineStart,
            (_, b'\r') => At::Cr,
            _ => At::Middle,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message in `input` fed in two pieces cut at `cut`, and what followed it.
    fn unstuff(input: &[u8], cut: usize) -> (Vec<u8>, Option<usize>) {
        let mut unstuffer = Unstuffer::default();
        let mut out = Vec::new();
        let first = unstuffer.feed(&input[..cut], &mut out);
        if first.done {
            return (out, Some(first.consumed));
        }
        let second = unstuffer.feed(&input[cut..], &mut out);
        (out, second.done.then_some(cut + second.consumed))
    }

    #[test]
    fn stuffed_dots_are_removed_and_the_end_line_found_at_every_cut() {
        let cases: [(&[u8], &[u8]); 7] = [
            (b".\r\n", b""),
            (b"a\r\n.\r\n", b"a\r\n"),
            (b"..a\r\n.\r\n", b".a\r\n"),
            (b"a\r\n..\r\n.\r\n", b"a\r\n.\r\n"),
            (b"a.b\r\n .\r\n.\r\n", b"a.b\r\n .\r\n"),
            (b"x\n..y\n.\n", b"x\n.y\n"),
            (b".\rx\r\n.\r\n", b"\rx\r\n"),
        ];
        for (input, want) in cases {
            let mut with_tail = input.to_vec();
            with_tail.extend_from_slice(b"QUIT\r\n");
            for cut in 0..=with_tail.len() {
                let (out, end) = unstuff(&with_tail, cut);
                assert_eq!(
                    out,
                    want,
                    "{:?} cut at {cut}",
                    String::from_utf8_lossy(input)
                );
                assert_eq!(end, Some(input.len()), "end of {input:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn text_without_its_end_line_is_not_complete() {
        for input in [
            &b"a\r\n"[..],
            b"a\r\n.",
            b"a\r\n.\r",
            b"a.\r\n",
            b"a\r\n. \r\n",
        ] {
            let (_, end) = unstuff(input, input.len() / 2);
            assert_eq!(end, None, "{input:?}");
        }
    }
}
