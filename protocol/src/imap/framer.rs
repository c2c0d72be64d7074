//! Cutting IMAP input into whole commands, bounded. A command is one or more lines
//! joined by literals (`{n}` synchronising, `{n+}` LITERAL+); [`CommandFramer`] returns
//! it whole, literals inline exactly as sent, for the parser. It asks for the `+`
//! continuation when a synchronising literal is announced, and it never holds more than
//! the line limit of a command's text (literal payloads excluded) nor more than the
//! message limit of APPEND's literals together: anything larger is discarded as it arrives and
//! reported in order with the commands around it.
//!
//! Before login a literal is accepted only in the commands of that state whose grammar
//! takes one (LOGIN's user and password, ID's values), and counts against the line
//! limit like every literal but APPEND's; any other literal is refused without `+`
//! (a non-synchronising one is discarded as it arrives), so nobody who has not logged
//! in can make the server hold more than a command line.

use bytes::{Bytes, BytesMut};

/// What [`CommandFramer::next_frame`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete command, terminator included, literals inline.
    Command(Bytes),
    /// A synchronising literal was announced and accepted: send `+` now.
    Continue,
    /// The command's text is over the line limit; the rest of it was discarded.
    TooLong { tag: Option<String> },
    /// An APPEND literal is over the message limit; the command was dropped (a
    /// synchronising literal is refused before the client sends it).
    TooBig { tag: Option<String> },
    /// A literal in a command that takes none before login; the command was dropped
    /// (a synchronising literal is refused before the client sends it).
    NotLoggedIn { tag: Option<String> },
    /// An APPEND literal too large to keep in memory begins: the caller starts a new
    /// place (a spool file) for the [`Frame::Spooled`] pieces that follow.
    SpoolStart,
    /// The next bytes of that literal: the caller stores them as they come.
    Spooled(Bytes),
    /// A complete command whose APPEND literals were handed out as [`Frame::Spooled`]
    /// pieces; in the command each stands as [`SPOOLED_LITERAL`], in order.
    SpooledCommand(Bytes),
}

/// What stands in a command for a literal handed out in pieces. It is not a literal
/// (no digits between the braces), so no client can send it and have it taken for one.
pub const SPOOLED_LITERAL: &[u8] = b"{spooled}\r\n";

/// The commands that may carry literals before login.
const BEFORE_LOGIN: [&[u8]; 2] = [b"LOGIN", b"ID"];

/// Bytes of a discarded line kept to see whether it ends announcing a literal.
const TAIL: usize = 24;
/// The longest tag reported back for a discarded command.
const MAX_TAG: usize = 64;

#[derive(Debug, Clone)]
enum State {
    /// Reading command text up to a line end.
    Line,
    /// Copying this many more literal bytes into the command.
    Literal(usize),
    /// Handing out this many more literal bytes as [`Frame::Spooled`], after a
    /// [`Frame::SpoolStart`] unless `started`.
    Spool { remaining: usize, started: bool },
    /// Dropping input up to the line end; `tail` holds its last bytes.
    Discard { tail: Vec<u8> },
    /// Dropping this many more bytes of a refused non-synchronising literal.
    DiscardLiteral(usize),
}

/// What reading a line led to.
enum Step {
    Frame(Frame),
    NeedInput,
    /// A non-synchronising literal follows: go on reading.
    Go,
}

/// Splits commands off an input buffer (see the module comment).
#[derive(Debug, Clone)]
pub struct CommandFramer {
    max_line: usize,
    max_literal: usize,
    /// The command read so far.
    command: Vec<u8>,
    /// Bytes of `command` that count against the line limit.
    counted: usize,
    /// Bytes of APPEND literals, kept or spooled: together within the message limit.
    appended: usize,
    /// Bytes of APPEND literals kept in `command`: together within the spool threshold.
    kept: usize,
    state: State,
    /// Bytes of the input already searched for a line end.
    scanned: usize,
    /// The session has logged in: every command may carry literals.
    logged_in: bool,
    /// An APPEND literal is handed out in pieces, not kept, when the command's kept
    /// literals would be larger than this with it.
    spool_from: usize,
    /// The command being read has spooled literals.
    spooled: bool,
}

impl CommandFramer {
    /// `max_line` bounds a command's text (literals of commands other than APPEND count
    /// too), `max_literal` an APPEND literal.
    pub fn new(max_line: usize, max_literal: usize) -> Self {
        CommandFramer {
            max_line,
            max_literal,
            command: Vec::new(),
            counted: 0,
            appended: 0,
            kept: 0,
            state: State::Line,
            scanned: 0,
            logged_in: false,
            spool_from: usize::MAX,
            spooled: false,
        }
    }

    /// APPEND literals are handed out as they arrive ([`Frame::Spooled`]) instead of
    /// being kept in the command when those kept would be more than `bytes` with them.
    pub fn spool_from(&mut self, bytes: usize) {
        self.spool_from = bytes;
    }

    /// The session logged in: from the next literal on, every command may carry one.
    pub fn set_logged_in(&mut self, logged_in: bool) {
        self.logged_in = logged_in;
    }

    /// Changes the limits from the next command on (settings apply without restart).
    pub fn set_limits(&mut self, max_line: usize, max_literal: usize) {
        self.max_line = max_line;
        self.max_literal = max_literal;
    }

    /// The next frame in `buf`, or `None` until more input arrives. Input that is kept
    /// moves out of `buf`, input that is refused is dropped from it.
    pub fn next_frame(&mut self, buf: &mut BytesMut) -> Option<Frame> {
        loop {
            match &mut self.state {
                State::Line => match self.line(buf) {
                    Step::Frame(frame) => return Some(frame),
                    Step::NeedInput => return None,
                    Step::Go => {}
                },
                State::Literal(remaining) => {
                    let take = (*remaining).min(buf.len());
                    self.command.extend_from_slice(&buf.split_to(take));
                    *remaining -= take;
                    if *remaining > 0 {
                        return None;
                    }
                    self.state = State::Line;
                }
                State::Spool { remaining, started } => {
                    if !*started {
                        *started = true;
                        return Some(Frame::SpoolStart);
                    }
                    if buf.is_empty() {
                        return None;
                    }
                    let take = (*remaining).min(buf.len());
                    *remaining -= take;
                    if *remaining == 0 {
                        self.state = State::Line;
                    }
                    return Some(Frame::Spooled(buf.split_to(take).freeze()));
                }
                State::DiscardLiteral(remaining) => {
                    let take = (*remaining).min(buf.len());
                    let _ = buf.split_to(take);
                    *remaining -= take;
                    if *remaining > 0 {
                        return None;
                    }
                    self.state = State::Discard { tail: Vec::new() };
                }
                State::Discard { tail } => {
                    let Some(i) = buf.iter().position(|&b| b == b'\n') else {
                        keep_tail(tail, buf);
                        buf.clear();
                        return None;
                    };
                    keep_tail(tail, &buf[..i]);
                    let announced = literal_at_end(trim_line_end(tail));
                    let _ = buf.split_to(i + 1);
                    self.state = match announced {
                        Some((n, false)) => State::DiscardLiteral(n),
                        // A refused client waits for a `+` that never comes; it has had
                        // its tagged answer.
                        _ => State::Line,
                    };
                }
            }
        }
    }

    fn line(&mut self, buf: &mut BytesMut) -> Step {
        let Some(i) = buf[self.scanned..].iter().position(|&b| b == b'\n') else {
            if self.counted + buf.len() > self.max_line + 2 {
                let tag = self.tag(buf);
                let mut tail = Vec::new();
                keep_tail(&mut tail, buf);
                buf.clear();
                self.reset(State::Discard { tail });
                return Step::Frame(Frame::TooLong { tag });
            }
            self.scanned = buf.len();
            return Step::NeedInput;
        };
        let end = self.scanned + i + 1;
        self.scanned = 0;
        let line = buf.split_to(end);
        let text = trim_line_end(&line);
        self.counted += text.len();
        if self.counted > self.max_line {
            let tag = self.tag(&line);
            let state = match literal_at_end(text) {
                Some((n, false)) => State::DiscardLiteral(n),
                _ => State::Line,
            };
            self.reset(state);
            return Step::Frame(Frame::TooLong { tag });
        }
        self.command.extend_from_slice(&line);
        let Some((size, synchronising)) = literal_at_end(text) else {
            let command = Bytes::from(std::mem::take(&mut self.command));
            let spooled = std::mem::take(&mut self.spooled);
            self.reset(State::Line);
            return Step::Frame(if spooled {
                Frame::SpooledCommand(command)
            } else {
                Frame::Command(command)
            });
        };
        if !self.logged_in && !self.literal_allowed_before_login() {
            let tag = self.tag(&[]);
            let state = if synchronising {
                State::Line
            } else {
                State::DiscardLiteral(size)
            };
            self.reset(state);
            return Step::Frame(Frame::NotLoggedIn { tag });
        }
        let append = self.logged_in && self.is_append();
        let room = if append {
            self.max_literal.saturating_sub(self.appended)
        } else {
            self.max_line.saturating_sub(self.counted)
        };
        if size > room {
            let tag = self.tag(&[]);
            let state = if synchronising {
                State::Line
            } else {
                State::DiscardLiteral(size)
            };
            self.reset(state);
            return Step::Frame(if append {
                Frame::TooBig { tag }
            } else {
                Frame::TooLong { tag }
            });
        }
        if append {
            self.appended += size;
        } else {
            self.counted += size;
        }
        self.state = State::Literal(size);
        if append && size > self.spool_from.saturating_sub(self.kept) {
            // The literal's place is marked in the command; its bytes go out in pieces.
            let brace = text.iter().rposition(|&b| b == b'{').unwrap_or(text.len());
            let header_start = self.command.len() - line.len() + brace;
            self.command.truncate(header_start);
            self.command.extend_from_slice(SPOOLED_LITERAL);
            self.spooled = true;
            self.state = State::Spool {
                remaining: size,
                started: false,
            };
        } else if append {
            self.kept += size;
        }
        if synchronising {
            Step::Frame(Frame::Continue)
        } else {
            Step::Go
        }
    }

    fn reset(&mut self, state: State) {
        self.command.clear();
        self.counted = 0;
        self.appended = 0;
        self.kept = 0;
        self.scanned = 0;
        self.spooled = false;
        self.state = state;
    }

    /// The tag of the command being read (from `more` if nothing is kept yet).
    fn tag(&self, more: &[u8]) -> Option<String> {
        let start = if self.command.is_empty() {
            more
        } else {
            &self.command
        };
        let end = start.iter().position(|&b| b == b' ')?;
        let tag = &start[..end.min(MAX_TAG)];
        (end <= MAX_TAG && !tag.is_empty() && tag.iter().all(|&b| super::parser::is_tag_char(b)))
            .then(|| String::from_utf8_lossy(tag).into_owned())
    }

    /// Whether the command being read is an APPEND (`tag APPEND ...`, any case).
    /// The command's name (its second word), as far as it has been read.
    fn command_name(&self) -> &[u8] {
        let mut words = self.command.splitn(3, |&b| b == b' ');
        let _tag = words.next();
        let name = words.next().unwrap_or_default();
        name.strip_suffix(b"\n")
            .map(|n| n.strip_suffix(b"\r").unwrap_or(n))
            .unwrap_or(name)
    }

    fn is_append(&self) -> bool {
        self.command_name().eq_ignore_ascii_case(b"APPEND")
    }

    fn literal_allowed_before_login(&self) -> bool {
        let name = self.command_name();
        BEFORE_LOGIN.iter().any(|c| name.eq_ignore_ascii_case(c))
    }
}

/// A line without its CRLF or bare LF.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `{n}` (synchronising) or `{n+}` at the end of a line: the size and whether the
/// client waits for a continuation.
fn literal_at_end(text: &[u8]) -> Option<(usize, bool)> {
    let inner = text.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let (digits, synchronising) = match digits.strip_suffix(b"+") {
        Some(d) => (d, false),
        None => (digits, true),
    };
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let size = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((size, synchronising))
}

/// Keeps the last [`TAIL`] bytes of a discarded line in `tail`, `more` appended. Only the
/// line's end decides what the tail announces: a CR is kept, since only the one right
/// before the LF belongs to the line end (a piece may end between CR and LF).
fn keep_tail(tail: &mut Vec<u8>, more: &[u8]) {
    tail.extend_from_slice(&more[more.len().saturating_sub(TAIL)..]);
    let excess = tail.len().saturating_sub(TAIL);
    tail.drain(..excess);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut CommandFramer, chunks: &[&[u8]]) -> Vec<Frame> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(frame) = framer.next_frame(&mut buf) {
                out.push(frame);
            }
        }
        out
    }

    fn command(s: &str) -> Frame {
        Frame::Command(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn joins_literals_and_asks_for_synchronising_ones_at_every_cut() {
        let input = b"a LOGIN {3}\r\nbob {2+}\r\npw\r\nb NOOP\r\n";
        for cut in 0..input.len() {
            let got = frames(
                &mut CommandFramer::new(100, 100),
                &[&input[..cut], &input[cut..]],
            );
            assert_eq!(
                got,
                vec![
                    Frame::Continue,
                    command("a LOGIN {3}\r\nbob {2+}\r\npw\r\n"),
                    command("b NOOP\r\n")
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_over_long_line_is_reported_with_its_tag_and_never_kept() {
        let mut framer = CommandFramer::new(16, 100);
        let mut buf = BytesMut::new();
        buf.extend_from_slice(b"x1 NOOP\r\nx2 SEARCH ");
        assert_eq!(framer.next_frame(&mut buf), Some(command("x1 NOOP\r\n")));
        assert_eq!(framer.next_frame(&mut buf), None);
        buf.extend_from_slice(&[b'A'; 4096]);
        assert_eq!(
            framer.next_frame(&mut buf),
            Some(Frame::TooLong {
                tag: Some("x2".into())
            })
        );
        assert!(buf.is_empty());
        buf.extend_from_slice(b"AAAA\r\nx3 NOOP\r\n");
        assert_eq!(framer.next_frame(&mut buf), Some(command("x3 NOOP\r\n")));
    }

    #[test]
    fn literals_of_other_commands_count_against_the_line_limit() {
        let got = frames(
            &mut CommandFramer::new(20, 1000),
            &[b"a LOGIN {500+}\r\n", &[b'x'; 500], b" pw\r\nb NOOP\r\n"],
        );
        assert_eq!(
            got,
            vec![
                Frame::TooLong {
                    tag: Some("a".into())
                },
                command("b NOOP\r\n")
            ]
        );
    }

    #[test]
    fn a_discarded_line_ending_in_cr_crlf_announces_no_literal_at_any_cut() {
        let mut input = vec![b'x'; 40];
        input.extend_from_slice(b"{3+}\r\r\nb NOOP\r\n");
        for cut in 0..input.len() {
            let got = frames(
                &mut CommandFramer::new(16, 100),
                &[&input[..cut], &input[cut..]],
            );
            assert_eq!(
                got,
                vec![Frame::TooLong { tag: None }, command("b NOOP\r\n")],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn append_literals_together_stay_within_the_message_limit() {
        let got = frames(
            &mut logged_in(100, 10),
            &[b"a APPEND INBOX {6+}\r\nhello {6+}\r\nworld!\r\nb NOOP\r\n"],
        );
        assert_eq!(
            got,
            vec![
                Frame::TooBig {
                    tag: Some("a".into())
                },
                command("b NOOP\r\n")
            ]
        );
    }

    #[test]
    fn an_append_literal_over_the_limit_is_refused_or_discarded() {
        // Synchronising: refused before the client sends it.
        let got = frames(
            &mut logged_in(100, 10),
            &[b"a APPEND INBOX {11}\r\nb NOOP\r\n"],
        );
        assert_eq!(
            got,
            vec![
                Frame::TooBig {
                    tag: Some("a".into())
                },
                command("b NOOP\r\n")
            ]
        );
        // Non-synchronising: read and dropped, with the rest of its line.
        let got = frames(
            &mut logged_in(100, 10),
            &[
                b"a APPEND INBOX {11+}\r\n",
                b"hello world",
                b" more\r\nb NOOP\r\n",
            ],
        );
        assert_eq!(
            got,
            vec![
                Frame::TooBig {
                    tag: Some("a".into())
                },
                command("b NOOP\r\n")
            ]
        );
        // At the limit it is taken.
        let got = frames(
            &mut logged_in(100, 11),
            &[b"a APPEND INBOX {11}\r\nhello world\r\n"],
        );
        assert_eq!(
            got,
            vec![
                Frame::Continue,
                command("a APPEND INBOX {11}\r\nhello world\r\n")
            ]
        );
    }

    #[test]
    fn before_login_only_login_and_id_take_literals() {
        // APPEND before login: refused without `+`, the literal never read.
        let got = frames(
            &mut CommandFramer::new(100, 1000),
            &[
                b"a APPEND INBOX {60000000}\r\nb LOGIN {3}\r\n",
                b"bob pw\r\n",
            ],
        );
        assert_eq!(
            got,
            vec![
                Frame::NotLoggedIn {
                    tag: Some("a".into())
                },
                Frame::Continue,
                command("b LOGIN {3}\r\nbob pw\r\n")
            ]
        );
        // A non-synchronising one is dropped as it arrives, never kept.
        let mut framer = CommandFramer::new(100, 1000);
        let mut buf = BytesMut::new();
        buf.extend_from_slice(b"a SELECT {100000+}\r\n");
        assert_eq!(
            framer.next_frame(&mut buf),
            Some(Frame::NotLoggedIn {
                tag: Some("a".into())
            })
        );
        for _ in 0..10 {
            buf.extend_from_slice(&[b'x'; 10_000]);
            assert_eq!(framer.next_frame(&mut buf), None);
            assert!(buf.is_empty());
        }
        buf.extend_from_slice(b"\r\nc ID ({2}\r\n");
        assert_eq!(framer.next_frame(&mut buf), Some(Frame::Continue));
        // After login APPEND may carry its message.
        framer.set_logged_in(true);
        buf.clear();
        let got = frames(&mut framer, &[b"d APPEND INBOX {5}\r\nhello\r\n"]);
        assert_eq!(got[0], Frame::Continue);
    }

    #[test]
    fn large_append_literals_are_handed_out_in_pieces() {
        let mut framer = logged_in(100, 1000);
        framer.spool_from(4);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in [
            &b"a APPEND INBOX (\\Seen) {11}\r\n"[..],
            b"hello",
            b" worl",
            b"d\r\nb NOOP\r\n",
        ] {
            buf.extend_from_slice(chunk);
            while let Some(frame) = framer.next_frame(&mut buf) {
                out.push(frame);
            }
            assert!(buf.len() < 16, "kept {} bytes", buf.len());
        }
        assert_eq!(
            out,
            vec![
                Frame::Continue,
                Frame::SpoolStart,
                Frame::Spooled(Bytes::from_static(b"hello")),
                Frame::Spooled(Bytes::from_static(b" worl")),
                Frame::Spooled(Bytes::from_static(b"d")),
                Frame::SpooledCommand(Bytes::from_static(
                    b"a APPEND INBOX (\\Seen) {spooled}\r\n\r\n"
                )),
                command("b NOOP\r\n"),
            ]
        );
        // A small one stays in the command.
        let got = frames(&mut framer, &[b"c APPEND INBOX {3+}\r\nabc\r\n"]);
        assert_eq!(got, vec![command("c APPEND INBOX {3+}\r\nabc\r\n")]);
        // Of several, each is spooled that would take the kept ones over the threshold
        // (four bytes here).
        let got = frames(
            &mut framer,
            &[b"d APPEND INBOX {2+}\r\nab {3+}\r\ncde {2+}\r\nfg CATENATE (TEXT {1+}\r\nh)\r\n"],
        );
        assert_eq!(
            got,
            vec![
                Frame::SpoolStart,
                Frame::Spooled(Bytes::from_static(b"cde")),
                Frame::SpoolStart,
                Frame::Spooled(Bytes::from_static(b"h")),
                Frame::SpooledCommand(Bytes::from_static(
                    b"d APPEND INBOX {2+}\r\nab {spooled}\r\n {2+}\r\nfg CATENATE (TEXT {spooled}\r\n)\r\n"
                )),
            ]
        );
    }

    fn logged_in(max_line: usize, max_literal: usize) -> CommandFramer {
        let mut framer = CommandFramer::new(max_line, max_literal);
        framer.set_logged_in(true);
        framer
    }
}
