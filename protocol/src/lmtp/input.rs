//! An LMTP connection's input, in the mode the session puts it in: command lines
//! (bounded by [`LineReader`]), the text after DATA (unstuffed by [`Unstuffer`]), or the
//! bytes of a BDAT chunk. The message is handed out in pieces as it arrives, never
//! gathered here; the session decides where it goes (memory, a spool file, nowhere).

use super::data::Unstuffer;
use crate::line::{Line, LineReader};
use bytes::BytesMut;

/// The longest command line: RFC 5321 §4.5.3.1.4's 512 bytes, and room for the
/// parameters of the extensions offered.
pub const MAX_LINE: usize = 2048;

/// What the input holds next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Line(Line),
    /// A piece of the message (DATA text unstuffed, or chunk bytes).
    Body(Vec<u8>),
    /// The DATA text's ending line, or the chunk's last byte, was read; the input reads
    /// command lines again.
    BodyEnd,
}

#[derive(Debug, Clone)]
enum Mode {
    Lines,
    Data(Unstuffer),
    /// A BDAT chunk, with the bytes still to come.
    Chunk(u64),
    /// The body ended; [`Event::BodyEnd`] is due.
    Ended,
}

/// Takes events off the front of the received bytes.
#[derive(Debug, Clone)]
pub struct Input {
    lines: LineReader,
    mode: Mode,
}

impl Default for Input {
    fn default() -> Self {
        Input {
            lines: LineReader::new(MAX_LINE),
            mode: Mode::Lines,
        }
    }
}

impl Input {
    /// After `354`: the DATA text follows.
    pub fn expect_data(&mut self) {
        self.mode = Mode::Data(Unstuffer::default());
    }

    /// After a BDAT line: `size` bytes follow, whatever the answer to it.
    pub fn expect_chunk(&mut self, size: u64) {
        self.mode = match size {
            0 => Mode::Ended,
            size => Mode::Chunk(size),
        };
    }

    /// The next event in `buf`, or `None` until more input arrives. What is handed out
    /// is removed from `buf`; in command mode `buf` stays within [`MAX_LINE`] + 2 bytes.
    pub fn next(&mut self, buf: &mut BytesMut) -> Option<Event> {
        match &mut self.mode {
            Mode::Lines => self.lines.next_line(buf).map(Event::Line),
            Mode::Ended => {
                self.mode = Mode::Lines;
                Some(Event::BodyEnd)
            }
            _ if buf.is_empty() => None,
            Mode::Data(unstuffer) => {
                let mut piece = Vec::with_capacity(buf.len());
                let fed = unstuffer.feed(buf, &mut piece);
                let _ = buf.split_to(fed.consumed);
                if fed.done {
                    self.mode = Mode::Ended;
                }
                match piece.is_empty() {
                    true => self.next(buf),
                    false => Some(Event::Body(piece)),
                }
            }
            Mode::Chunk(left) => {
                let n = (*left).min(buf.len() as u64);
                *left -= n;
                if *left == 0 {
                    self.mode = Mode::Ended;
                }
                // `n` is at most `buf.len()`, so it fits a usize.
                Some(Event::Body(buf.split_to(n as usize).to_vec()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Event {
        Event::Line(Line::Complete(BytesMut::from(s)))
    }

    /// Feeds `input` cut at `cut`, switching modes as a session would after DATA and
    /// BDAT lines; the events with the body pieces joined.
    fn events(input: &[u8], cut: usize) -> Vec<Event> {
        let mut reader = Input::default();
        let mut buf = BytesMut::new();
        let mut out: Vec<Event> = Vec::new();
        for piece in [&input[..cut], &input[cut..]] {
            buf.extend_from_slice(piece);
            while let Some(event) = reader.next(&mut buf) {
                if let Event::Line(Line::Complete(l)) = &event {
                    if l.as_ref() == b"DATA" {
                        reader.expect_data();
                    } else if let Some(size) = l.strip_prefix(b"BDAT ") {
                        let size = std::str::from_utf8(size).unwrap_or("0");
                        reader.expect_chunk(
                            size.split(' ').next().unwrap_or("0").parse().unwrap_or(0),
                        );
                    }
                }
                match (out.last_mut(), event) {
                    (Some(Event::Body(joined)), Event::Body(more)) => joined.extend(more),
                    (_, event) => out.push(event),
                }
            }
        }
        out
    }

    #[test]
    fn data_and_chunks_are_framed_alike_at_every_cut() {
        let input = b"DATA\r\nA: b\r\n\r\n..x\r\n.\r\nBDAT 4\r\nab\r\nBDAT 0 LAST\r\nQUIT\r\n";
        for cut in 0..=input.len() {
            assert_eq!(
                events(input, cut),
                vec![
                    line("DATA"),
                    Event::Body(b"A: b\r\n\r\n.x\r\n".to_vec()),
                    Event::BodyEnd,
                    line("BDAT 4"),
                    Event::Body(b"ab\r\n".to_vec()),
                    Event::BodyEnd,
                    line("BDAT 0 LAST"),
                    Event::BodyEnd,
                    line("QUIT"),
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn command_lines_are_bounded_but_message_lines_are_not() {
        let mut reader = Input::default();
        let mut buf = BytesMut::from(&vec![b'a'; 3 * MAX_LINE][..]);
        assert_eq!(reader.next(&mut buf), None);
        assert!(buf.len() <= MAX_LINE + 2);
        buf.extend_from_slice(b"\r\nNOOP\r\n");
        assert_eq!(reader.next(&mut buf), Some(Event::Line(Line::TooLong)));
        assert_eq!(reader.next(&mut buf), Some(line("NOOP")));
        reader.expect_data();
        let long = vec![b'b'; 3 * MAX_LINE];
        buf.extend_from_slice(&long);
        assert_eq!(reader.next(&mut buf), Some(Event::Body(long)));
    }
}
