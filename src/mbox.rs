//! Reading mbox files, one message at a time with bounded memory.
//!
//! A message starts at a `From ` line that carries a date (`From sender Thu Jan  1
//! 00:00:00 2026`); a body line that merely begins with "From " but has no date does not
//! split messages, which keeps unescaped mboxes readable. The blank line that mbox
//! writers put between messages is removed, `>From ` lines are unescaped as the chosen
//! format defines, and `Status:` / `X-Status:` become flags (the headers stay in the
//! message). A message with no header fields, or larger than the size limit, is returned
//! as [`Item::Malformed`] with its byte offset, never dropped silently.

use chrono::NaiveDateTime;
use mailhive_store::{Flags, InternalDate, SystemFlags};
use std::io::{self, BufRead};

/// How `From ` lines inside messages were escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `>From `, `>>From `, …: one `>` is removed from every such line.
    Mboxrd,
    /// Only `>From ` is unescaped to `From `; `>>From ` stays as it is.
    Mboxo,
}

/// One message read from an mbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    /// Byte offset of its `From ` line in the file.
    pub offset: u64,
    /// The message as it was before mbox escaping.
    pub raw: Vec<u8>,
    /// The `From ` line's date, read as UTC, if it had one.
    pub date: Option<InternalDate>,
    pub flags: Flags,
}

/// What the reader yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Message(MboxMessage),
    Malformed { offset: u64, reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum MboxError {
    #[error("not an mbox file: it does not start with a \"From \" line")]
    NotMbox,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// An iterator over the messages of an mbox stream.
#[derive(Debug)]
pub struct MboxReader<R> {
    input: R,
    format: Format,
    /// Largest message kept; larger ones are skipped and reported.
    max_message_size: usize,
    /// Bytes consumed so far.
    offset: u64,
    /// The `From ` line that starts the next message, with its offset.
    next_from: Option<(u64, Vec<u8>)>,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(mut input: R, format: Format, max_message_size: usize) -> Result<Self, MboxError> {
        let mut first = Vec::new();
        let mut skipped = 0u64;
        loop {
            first.clear();
            let n = read_line(&mut input, &mut first, max_message_size)?;
            if n == 0 {
                return Err(MboxError::NotMbox);
            }
            if !first.iter().all(|b| b.is_ascii_whitespace()) {
                break;
            }
            skipped += n as u64;
        }
        if !first.starts_with(b"From ") {
            return Err(MboxError::NotMbox);
        }
        let offset = skipped + first.len() as u64;
        Ok(MboxReader {
            input,
            format,
            max_message_size,
            offset,
            next_from: Some((skipped, first)),
        })
    }

    /// Bytes of input consumed so far (for progress).
    pub fn position(&self) -> u64 {
        self.offset
    }

    fn read_message(&mut self, offset: u64, from_line: &[u8]) -> io::Result<Item> {
        let date = from_line_date(from_line);
        let mut raw = Vec::new();
        let mut oversize = false;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = read_line(&mut self.input, &mut line, self.max_message_size + 1)?;
            if n == 0 {
                break;
            }
            let line_offset = self.offset;
            self.offset += n as u64;
            if line.starts_with(b"From ") && from_line_date(&line).is_some() {
                self.next_from = Some((line_offset, std::mem::take(&mut line)));
                break;
            }
            if oversize {
                continue;
            }
            raw.extend_from_slice(unescape(&line, self.format));
            oversize = raw.len() > self.max_message_size;
            if oversize {
                raw = Vec::new();
            }
        }
        if oversize {
            return Ok(Item::Malformed {
                offset,
                reason: format!("larger than the {} byte limit", self.max_message_size),
            });
        }
        strip_separator(&mut raw);
        if raw.is_empty() {
            return Ok(Item::Malformed {
                offset,
                reason: "empty message".into(),
            });
        }
        if !starts_with_header_field(&raw) {
            return Ok(Item::Malformed {
                offset,
                reason: "no header fields before the body".into(),
            });
        }
        let flags = status_flags(&raw);
        Ok(Item::Message(MboxMessage {
            offset,
            raw,
            date,
            flags,
        }))
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = io::Result<Item>;

    fn next(&mut self) -> Option<Self::Item> {
        let (offset, from_line) = self.next_from.take()?;
        Some(self.read_message(offset, &from_line))
    }
}

/// Reads one line (up to and including `\n`) into `out`, keeping at most `cap` bytes of
/// it and discarding the rest; returns the bytes consumed.
fn read_line(input: &mut impl BufRead, out: &mut Vec<u8>, cap: usize) -> io::Result<usize> {
    let mut consumed = 0;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(consumed);
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = cap.saturating_sub(out.len()).min(take);
        out.extend_from_slice(&buf[..room]);
        input.consume(take);
        consumed += take;
        if done {
            return Ok(consumed);
        }
    }
}

fn unescape(line: &[u8], format: Format) -> &[u8] {
    let quoted = line.iter().take_while(|&&b| b == b'>').count();
    let escaped = match format {
        Format::Mboxrd => quoted >= 1,
        Format::Mboxo => quoted == 1,
    };
    if escaped && line[quoted..].starts_with(b"From ") {
        &line[1..]
    } else {
        line
    }
}

/// Removes the blank line that separates a message from the next `From ` line.
fn strip_separator(raw: &mut Vec<u8>) {
    if raw.ends_with(b"\r\n\r\n") {
        raw.truncate(raw.len() - 2);
    } else if raw.ends_with(b"\n\n") {
        raw.truncate(raw.len() - 1);
    } else if raw == b"\n" || raw == b"\r\n" {
        raw.clear();
    }
}

/// True when the first line is a header field (`Name: value`) — RFC 5322 §2.2.
fn starts_with_header_field(raw: &[u8]) -> bool {
    let first = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    match first.iter().position(|&b| b == b':') {
        Some(colon) => colon > 0 && first[..colon].iter().all(|&b| (33..=126).contains(&b)),
        None => false,
    }
}

/// `Status: RO` and `X-Status: AFTD` from the header block, as flags.
fn status_flags(raw: &[u8]) -> Flags {
    let mut system = SystemFlags::empty();
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let letters: &[(u8, SystemFlags)] = if name.eq_ignore_ascii_case(b"Status") {
            &[(b'R', SystemFlags::SEEN)]
        } else if name.eq_ignore_ascii_case(b"X-Status") {
            &[
                (b'A', SystemFlags::ANSWERED),
                (b'F', SystemFlags::FLAGGED),
                (b'D', SystemFlags::DELETED),
                (b'T', SystemFlags::DRAFT),
            ]
        } else {
            continue;
        };
        for (letter, flag) in letters {
            if value.contains(letter) {
                system.insert(*flag);
            }
        }
    }
    Flags::new(system, [])
}

/// The date of a `From sender Www Mmm dd hh:mm:ss [zone] yyyy` line, read as UTC.
pub fn from_line_date(line: &[u8]) -> Option<InternalDate> {
    let text = std::str::from_utf8(line.strip_prefix(b"From ")?).ok()?;
    let words: Vec<&str> = text.split_whitespace().collect();
    // The sender is usually the first word, but may be missing.
    (0..=1).find_map(|skip| {
        let w = words.get(skip..)?;
        let (day, month, date, time) = (w.first()?, w.get(1)?, w.get(2)?, w.get(3)?);
        let year = w
            .get(4..)?
            .iter()
            .find(|t| t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))?;
        let text = format!("{day} {month} {date} {time} {year}");
        let parsed = NaiveDateTime::parse_from_str(&text, "%a %b %e %H:%M:%S %Y")
            .or_else(|_| NaiveDateTime::parse_from_str(&text, "%a %b %e %H:%M %Y"))
            .ok()?;
        Some(InternalDate {
            unix_seconds: parsed.and_utc().timestamp(),
            offset_minutes: 0,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], format: Format) -> Vec<Item> {
        MboxReader::new(input, format, 1 << 20)
            .unwrap()
            .collect::<io::Result<_>>()
            .unwrap()
    }

    fn message(item: &Item) -> &MboxMessage {
        match item {
            Item::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn splits_on_dated_from_lines_and_strips_the_separator() {
        let mbox = b"From a@b Thu Jan  1 00:00:00 2026\nSubject: one\n\nFrom the desk of nobody\nbody\n\nFrom c@d Fri Jan  2 10:20:30 2026\nSubject: two\n\nx\n";
        let items = read_all(mbox, Format::Mboxrd);
        assert_eq!(items.len(), 2);
        let first = message(&items[0]);
        assert_eq!(
            first.raw,
            b"Subject: one\n\nFrom the desk of nobody\nbody\n"
        );
        assert_eq!(first.date.unwrap().unix_seconds, 1_767_225_600);
        assert_eq!(first.offset, 0);
        let second = message(&items[1]);
        assert_eq!(second.raw, b"Subject: two\n\nx\n");
        assert_eq!(second.offset, 78);
        assert_eq!(second.date.unwrap().unix_seconds, 1_767_349_230);
    }

    #[test]
    fn mboxrd_and_mboxo_unescape_differently() {
        let mbox = b"From a Thu Jan  1 00:00:00 2026\nSubject: s\n\n>From x\n>>From y\n>not from\n";
        let rd = read_all(mbox, Format::Mboxrd);
        assert_eq!(
            message(&rd[0]).raw,
            b"Subject: s\n\nFrom x\n>From y\n>not from\n"
        );
        let o = read_all(mbox, Format::Mboxo);
        assert_eq!(
            message(&o[0]).raw,
            b"Subject: s\n\nFrom x\n>>From y\n>not from\n"
        );
    }

    #[test]
    fn status_headers_become_flags_and_stay_in_the_message() {
        let mbox =
            b"From a Thu Jan  1 00:00:00 2026\nStatus: RO\nX-Status: AF\nSubject: s\n\nStatus: D\n";
        let items = read_all(mbox, Format::Mboxrd);
        let m = message(&items[0]);
        let s = m.flags.system;
        assert!(
            s.contains(SystemFlags::SEEN)
                && s.contains(SystemFlags::ANSWERED)
                && s.contains(SystemFlags::FLAGGED)
        );
        assert!(
            !s.contains(SystemFlags::DELETED),
            "a Status line in the body does not count"
        );
        assert!(m.raw.starts_with(b"Status: RO\n"));
    }

    #[test]
    fn malformed_and_oversize_messages_are_reported_with_offsets() {
        let mbox = b"From a Thu Jan  1 00:00:00 2026\nnot a header line\n\nFrom b Thu Jan  1 00:00:00 2026\nSubject: ok\n\nfine\n";
        let items = read_all(mbox, Format::Mboxrd);
        assert_eq!(
            items[0],
            Item::Malformed {
                offset: 0,
                reason: "no header fields before the body".into()
            }
        );
        assert_eq!(message(&items[1]).raw, b"Subject: ok\n\nfine\n");

        let big = [
            &b"From a Thu Jan  1 00:00:00 2026\nSubject: big\n\n"[..],
            &[b'x'; 200],
            b"\n",
        ]
        .concat();
        let items: Vec<Item> = MboxReader::new(&big[..], Format::Mboxrd, 100)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            matches!(&items[0], Item::Malformed { offset: 0, reason } if reason.contains("100 byte limit"))
        );
    }

    #[test]
    fn a_file_that_is_not_an_mbox_is_refused() {
        assert!(matches!(
            MboxReader::new(&b"Subject: x\n\nbody\n"[..], Format::Mboxrd, 100),
            Err(MboxError::NotMbox)
        ));
        assert!(matches!(
            MboxReader::new(&b""[..], Format::Mboxrd, 100),
            Err(MboxError::NotMbox)
        ));
    }

    #[test]
    fn from_line_dates_in_common_shapes() {
        let d = |s: &str| from_line_date(s.as_bytes()).map(|d| d.unix_seconds);
        assert_eq!(
            d("From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n"),
            Some(1_310_126_914)
        );
        assert_eq!(
            d("From x@y Fri Jul 08 12:08:34 +0000 2011"),
            Some(1_310_126_914)
        );
        assert_eq!(d("From Fri Jul  8 12:08:34 2011"), Some(1_310_126_914));
        assert_eq!(d("From the desk of the editor"), None);
    }

    #[test]
    fn crlf_messages_keep_their_line_endings() {
        let mbox = b"From a Thu Jan  1 00:00:00 2026\r\nSubject: c\r\n\r\nbody\r\n\r\nFrom b Thu Jan  1 00:00:00 2026\r\nSubject: d\r\n\r\nx\r\n";
        let items = read_all(mbox, Format::Mboxrd);
        assert_eq!(message(&items[0]).raw, b"Subject: c\r\n\r\nbody\r\n");
    }
}
