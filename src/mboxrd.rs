//! Writing mboxrd, the format `import-mbox` reads by default (`src/mbox.rs`), one
//! message at a time and piece by piece, so a message is never whole in memory.
//!
//! A message is written as a `From ` line (the Return-Path address, else
//! `MAILER-DAEMON`, and the internal date in UTC in asctime form), its bytes with every
//! line that matches `>*From ` given one more `>` (exactly what the reader's mboxrd
//! unescaping removes), its `Status:` and `X-Status:` fields replaced by ones written
//! from its flags at the end of its header, a line break if it lacks a final one, and
//! the blank line that separates it from the next.

use mailhive_store::{InternalDate, SystemFlags};
use std::io::{self, Write};

/// The sender word of a `From ` line without a usable Return-Path.
const NO_SENDER: &str = "MAILER-DAEMON";

/// The `From ` line that starts a message, with its line break.
pub fn from_line(return_path: Option<&str>, date: InternalDate) -> String {
    let sender = return_path
        .map(|p| p.trim().trim_start_matches('<').trim_end_matches('>'))
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or(NO_SENDER);
    let when = chrono::DateTime::from_timestamp(date.unix_seconds, 0).unwrap_or_default();
    format!("From {sender} {}\n", when.format("%a %b %e %H:%M:%S %Y"))
}

/// `Status:` (R for \Seen, O: not new) and, with any letter to give, `X-Status:` (A
/// \Answered, F \Flagged, T \Draft, D \Deleted), as the reader turns them into flags.
fn status_fields(flags: SystemFlags, eol: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    out.extend_from_slice(if flags.contains(SystemFlags::SEEN) {
        b"Status: RO"
    } else {
        b"Status: O"
    });
    out.extend_from_slice(eol);
    let letters: String = [
        (SystemFlags::ANSWERED, 'A'),
        (SystemFlags::FLAGGED, 'F'),
        (SystemFlags::DRAFT, 'T'),
        (SystemFlags::DELETED, 'D'),
    ]
    .iter()
    .filter(|(flag, _)| flags.contains(*flag))
    .map(|(_, letter)| *letter)
    .collect();
    if !letters.is_empty() {
        out.extend_from_slice(b"X-Status: ");
        out.extend_from_slice(letters.as_bytes());
        out.extend_from_slice(eol);
    }
    out
}

/// Where the writer is within the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// At its start: what it is (escaped, dropped, a header's end) is not decided yet.
    Start,
    /// Written through to its end.
    Copy,
    /// Left out through to its end (a `Status:` or `X-Status:` field).
    Drop,
}

/// Header field names left out of the message (compared without case).
const REPLACED_FIELDS: [&[u8]; 2] = [b"status:", b"x-status:"];

/// Writes one message's bytes, given in pieces of any size, in mboxrd form.
#[derive(Debug)]
pub struct MessageWriter<W> {
    out: W,
    flags: SystemFlags,
    line: Line,
    in_header: bool,
    /// Inside a left-out field: its continuation lines go too.
    dropping: bool,
    /// `>` characters at the start of the current line, not yet written.
    quotes: usize,
    /// The bytes after them, not yet written (at most `x-status:`, 9 bytes).
    held: Vec<u8>,
    /// The line break of the message's first line, used for the fields written.
    eol: Option<&'static [u8]>,
    /// The last byte of the message given so far.
    last: Option<u8>,
}

impl<W: Write> MessageWriter<W> {
    /// Starts a message: writes its `From ` line.
    pub fn new(
        mut out: W,
        return_path: Option<&str>,
        date: InternalDate,
        flags: SystemFlags,
    ) -> io::Result<Self> {
        out.write_all(from_line(return_path, date).as_bytes())?;
        Ok(MessageWriter {
            out,
            flags,
            line: Line::Start,
            in_header: true,
            dropping: false,
            quotes: 0,
            held: Vec::with_capacity(16),
            eol: None,
            last: None,
        })
    }

    /// Writes the next piece of the message.
    pub fn write(&mut self, mut piece: &[u8]) -> io::Result<()> {
        while let Some(&byte) = piece.first() {
            match self.line {
                Line::Copy | Line::Drop => {
                    let end = piece
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(piece.len(), |i| i + 1);
                    if self.line == Line::Copy {
                        self.out.write_all(&piece[..end])?;
                    }
                    if piece[end - 1] == b'\n' {
                        let before = end.checked_sub(2).map_or(self.last, |i| Some(piece[i]));
                        self.note_line_end(before);
                        self.line = Line::Start;
                    }
                    self.last = Some(piece[end - 1]);
                    piece = &piece[end..];
                }
                Line::Start => {
                    if byte == b'\n' {
                        self.note_line_end(self.last);
                    }
                    self.start_byte(byte)?;
                    self.last = Some(byte);
                    piece = &piece[1..];
                }
            }
        }
        Ok(())
    }

    /// Takes the message's line break from its first line (`before`: the byte before
    /// that line's `\n`).
    fn note_line_end(&mut self, before: Option<u8>) {
        if self.eol.is_none() {
            self.eol = Some(if before == Some(b'\r') {
                b"\r\n"
            } else {
                b"\n"
            });
        }
    }

    /// Decides what a line is from its first bytes.
    fn start_byte(&mut self, byte: u8) -> io::Result<()> {
        let first = self.quotes == 0 && self.held.is_empty();
        if self.in_header && first {
            match byte {
                b' ' | b'\t' => {
                    self.line = if self.dropping {
                        Line::Drop
                    } else {
                        Line::Copy
                    };
                    if !self.dropping {
                        self.out.write_all(&[byte])?;
                    }
                    return Ok(());
                }
                b'\n' => return self.end_header(b"\n"),
                b'\r' => {
                    self.held.push(byte);
                    return Ok(());
                }
                _ => {}
            }
        }
        if self.in_header && self.quotes == 0 && self.held == b"\r" && byte == b'\n' {
            self.held.clear();
            return self.end_header(b"\r\n");
        }
        if byte == b'>' && self.held.is_empty() {
            self.quotes += 1;
            return Ok(());
        }
        self.held.push(byte);
        let held = self.held.as_slice();
        if self.in_header && self.quotes == 0 {
            if REPLACED_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(held)) {
                self.held.clear();
                self.dropping = true;
                self.line = Line::Drop;
                return Ok(());
            }
            let may_be_replaced = REPLACED_FIELDS
                .iter()
                .any(|f| f.len() > held.len() && f[..held.len()].eq_ignore_ascii_case(held));
            if may_be_replaced {
                return Ok(());
            }
        }
        if held.len() < 5 && b"From "[..held.len()] == *held && byte != b'\n' {
            return Ok(());
        }
        if self.in_header {
            // A new field (continuations were decided above): not one left out.
            self.dropping = false;
        }
        let escape = held == b"From ";
        self.flush_held(escape)?;
        self.line = if byte == b'\n' {
            Line::Start
        } else {
            Line::Copy
        };
        Ok(())
    }

    /// Writes the held start of a line, with one more `>` if it is to be escaped.
    fn flush_held(&mut self, escape: bool) -> io::Result<()> {
        let quotes = self.quotes + usize::from(escape);
        for _ in 0..quotes {
            self.out.write_all(b">")?;
        }
        self.out.write_all(&self.held)?;
        self.quotes = 0;
        self.held.clear();
        Ok(())
    }

    /// The blank line that ends the header: the status fields go before it.
    fn end_header(&mut self, blank: &[u8]) -> io::Result<()> {
        self.in_header = false;
        self.dropping = false;
        let eol = self.eol.unwrap_or(b"\n");
        self.out.write_all(&status_fields(self.flags, eol))?;
        self.out.write_all(blank)
    }

    /// Ends the message: the status fields if it had no body, a final line break (its
    /// own line ending) if it lacked one, and the separating blank line. Returns the
    /// output.
    pub fn finish(mut self) -> io::Result<W> {
        let eol = self.eol.unwrap_or(b"\n");
        if self.in_header && self.quotes == 0 && self.held == b"\r" {
            // A last line of a lone CR: the status fields go before it.
            self.held.clear();
            self.end_header(b"\r")?;
            self.line = Line::Copy;
        }
        if self.line == Line::Start && (self.quotes > 0 || !self.held.is_empty()) {
            self.flush_held(false)?;
            self.line = Line::Copy;
        }
        // A dropped last line left the output at a line start.
        if self.line == Line::Copy {
            self.out.write_all(eol)?;
        }
        if self.in_header {
            self.out.write_all(&status_fields(self.flags, eol))?;
        }
        self.out.write_all(b"\n")?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mbox::{Format, Item, MboxReader};

    const DATE: InternalDate = InternalDate {
        unix_seconds: 1_767_225_600, // Thu Jan  1 00:00:00 2026 UTC
        offset_minutes: 0,
    };

    /// The message written in pieces of `piece` bytes.
    fn written(raw: &[u8], flags: SystemFlags, piece: usize) -> Vec<u8> {
        let mut writer = MessageWriter::new(Vec::new(), Some("<a@b.example>"), DATE, flags)
            .expect("writing to memory");
        for part in raw.chunks(piece.max(1)) {
            writer.write(part).expect("writing to memory");
        }
        writer.finish().expect("writing to memory")
    }

    fn read_back(mbox: &[u8]) -> Vec<crate::mbox::MboxMessage> {
        MboxReader::new(mbox, Format::Mboxrd, 1 << 20)
            .expect("an mbox")
            .map(|item| match item.expect("read from memory") {
                Item::Message(m) => m,
                other => panic!("not a message: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn from_lines_name_the_return_path_or_the_mailer_daemon() {
        assert_eq!(
            from_line(Some("<a@b.example>"), DATE),
            "From a@b.example Thu Jan  1 00:00:00 2026\n"
        );
        for none in [None, Some("<>"), Some("two words"), Some("")] {
            assert_eq!(
                from_line(none, DATE),
                "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
            );
        }
    }

    #[test]
    fn escaping_is_what_the_reader_undoes_however_the_pieces_fall() {
        let raw = b"Subject: s\n\nFrom here\n>From there\n>>From afar\n>not from\nFro\nFrom\n>>>\n";
        for piece in 1..raw.len() + 1 {
            let mbox = written(raw, SystemFlags::empty(), piece);
            assert!(
                mbox.windows(16).any(|w| w == b"\n>>>From afar\n>n"),
                "{}",
                String::from_utf8_lossy(&mbox)
            );
            let back = read_back(&mbox);
            assert_eq!(back.len(), 1);
            assert_eq!(back[0].raw, b"Subject: s\nStatus: O\n\nFrom here\n>From there\n>>From afar\n>not from\nFro\nFrom\n>>>\n");
            assert_eq!(back[0].date, Some(DATE));
        }
    }

    #[test]
    fn status_fields_are_replaced_from_the_flags() {
        let raw =
            b"Status: O\nSubject: s\nX-Status: D\n  folded\nX-Statuses: kept\n\nStatus: body\n";
        let flags = SystemFlags::SEEN
            .union(SystemFlags::FLAGGED)
            .union(SystemFlags::ANSWERED);
        for piece in 1..raw.len() + 1 {
            let back = read_back(&written(raw, flags, piece));
            assert_eq!(
                back[0].raw,
                b"Subject: s\nX-Statuses: kept\nStatus: RO\nX-Status: AF\n\nStatus: body\n"
            );
            assert_eq!(back[0].flags.system, flags);
        }
    }

    #[test]
    fn crlf_messages_get_crlf_fields_and_keep_their_bytes() {
        let raw = b"Subject: c\r\n\r\nbody\r\n";
        let back = read_back(&written(raw, SystemFlags::DRAFT, 3));
        assert_eq!(
            back[0].raw,
            b"Subject: c\r\nStatus: O\r\nX-Status: T\r\n\r\nbody\r\n"
        );
    }

    #[test]
    fn a_message_without_a_final_line_break_or_a_body_is_still_one_message() {
        let mut mbox = written(b"Subject: a\n\nno end", SystemFlags::empty(), 4);
        mbox.extend(written(b"Subject: b", SystemFlags::SEEN, 4));
        mbox.extend(written(b"Subject: c\n\n\n", SystemFlags::empty(), 4));
        let back = read_back(&mbox);
        assert_eq!(back.len(), 3);
        assert_eq!(back[0].raw, b"Subject: a\nStatus: O\n\nno end\n");
        assert_eq!(back[1].raw, b"Subject: b\nStatus: RO\n");
        assert_eq!(back[2].raw, b"Subject: c\nStatus: O\n\n\n");
    }
}
