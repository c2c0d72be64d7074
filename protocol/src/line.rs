//! Command lines, bounded. [`LineReader::next_line`] takes complete lines off the front
//! of an input buffer. A line longer than the limit is not kept: its bytes are dropped
//! as they arrive and [`Line::TooLong`] is returned when its end is seen, so the answer
//! to it comes in order with the answers to the commands around it.

use bytes::BytesMut;

/// What [`LineReader::next_line`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line without its CRLF (or bare LF) terminator.
    Complete(BytesMut),
    /// A line over the limit ended; its bytes were discarded.
    TooLong,
}

/// Splits lines off an input buffer, never holding more than `max` bytes of one.
#[derive(Debug, Clone)]
pub struct LineReader {
    /// The longest line kept, terminator excluded.
    max: usize,
    /// The current line is over the limit: drop input until its end.
    discarding: bool,
    /// Bytes of the buffer already searched for a line end.
    scanned: usize,
}

impl LineReader {
    pub fn new(max: usize) -> Self {
        LineReader {
            max,
            discarding: false,
            scanned: 0,
        }
    }

    /// Changes the limit from the next line on (settings apply without restart).
    pub fn set_max(&mut self, max: usize) {
        self.max = max;
    }

    /// The next line in `buf`, or `None` until more input arrives. Over-long input is
    /// removed from `buf` as it is seen, so `buf` stays within `max` + 2 bytes.
    pub fn next_line(&mut self, buf: &mut BytesMut) -> Option<Line> {
        match buf[self.scanned..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let end = self.scanned + i;
                self.scanned = 0;
                let mut line = buf.split_to(end + 1);
                if std::mem::take(&mut self.discarding) {
                    return Some(Line::TooLong);
                }
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.truncate(end - 1);
                }
                if line.len() > self.max {
                    return Some(Line::TooLong);
                }
                Some(Line::Complete(line))
            }
            None => {
                // Room for the limit and a CRLF: a longer partial line cannot fit.
                if self.discarding || buf.len() > self.max + 2 {
                    self.discarding = true;
                    buf.clear();
                    self.scanned = 0;
                } else {
                    self.scanned = buf.len();
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(reader: &mut LineReader, chunks: &[&[u8]]) -> Vec<Line> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(line) = reader.next_line(&mut buf) {
                out.push(line);
            }
            assert!(buf.len() <= 12, "buffer grew to {}", buf.len());
        }
        out
    }

    fn complete(s: &str) -> Line {
        Line::Complete(BytesMut::from(s))
    }

    #[test]
    fn splits_on_crlf_and_lf_at_every_boundary() {
        let input = b"USER a\r\nPASS b\nQUIT\r\n";
        for cut in 0..input.len() {
            let got = lines(&mut LineReader::new(10), &[&input[..cut], &input[cut..]]);
            assert_eq!(
                got,
                vec![complete("USER a"), complete("PASS b"), complete("QUIT")],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_over_long_line_is_discarded_and_reported_once_in_order() {
        let mut reader = LineReader::new(10);
        let got = lines(
            &mut reader,
            &[b"NOOP\r\nAAAAAAAA", b"AAAAAAAAAAAA", b"AAAA\r\nSTAT\r\n"],
        );
        assert_eq!(got, vec![complete("NOOP"), Line::TooLong, complete("STAT")]);
        // Exactly at the limit is fine; one more byte is not.
        let got = lines(&mut LineReader::new(4), &[b"ABCD\r\nABCDE\r\n"]);
        assert_eq!(got, vec![complete("ABCD"), Line::TooLong]);
    }
}
