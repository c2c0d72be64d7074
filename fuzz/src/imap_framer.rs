//! The IMAP command framer, fed inputs built from IMAP's own tokens (literal
//! announcements, line ends, APPEND…) so that random bytes reach its corners: it never
//! keeps more input than its limits allow, never returns a command larger than they
//! allow, and frames the same commands however the input is cut.

use crate::chunks::cut;
use bytes::BytesMut;
use mailhive_protocol::imap::framer::{CommandFramer, Frame};

/// Turns fuzz bytes into IMAP-ish input: most bytes pick a token, some stand for
/// themselves.
pub fn imapish(program: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut bytes = program.iter().copied();
    while let Some(b) = bytes.next() {
        let mut arg = || bytes.next().unwrap_or(0);
        match b % 16 {
            0 => out.push(b' '),
            1 => out.extend_from_slice(b"\r\n"),
            2 => out.push(b'\n'),
            3 => out.extend_from_slice(format!("{{{}}}", arg() % 48).as_bytes()),
            4 => out.extend_from_slice(format!("{{{}+}}", arg() % 48).as_bytes()),
            5 => out.extend_from_slice(b"APPEND"),
            6 => out.extend_from_slice(b"a1 "),
            7 => out.extend_from_slice(b"LOGIN"),
            8 => out.push(b'\r'),
            9 => out.extend(std::iter::repeat_n(b'x', usize::from(arg()))),
            10 => out.push(b'}'),
            11 => out.push(b'{'),
            12 => out.extend_from_slice(b"99999999999"),
            _ => out.push(arg()),
        }
    }
    out
}

/// The frames `pieces` make, checking the bounds after every call.
fn frames(max_line: usize, max_literal: usize, logged_in: bool, pieces: &[&[u8]]) -> Vec<Frame> {
    // A command's text counts against `max_line`, so it has at most `max_line / 3`
    // literals (`{n}` is three bytes at least), each line ends with at most two bytes,
    // and APPEND's literals together are within `max_literal`.
    let largest = max_line + max_literal + 2 * (max_line / 3 + 1);
    let mut framer = CommandFramer::new(max_line, max_literal);
    framer.set_logged_in(logged_in);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        while let Some(frame) = framer.next_frame(&mut buf) {
            if let Frame::Command(command) = &frame {
                assert!(command.len() <= largest, "a command of {}", command.len());
            }
            out.push(frame);
        }
        assert!(buf.len() <= max_line + 2, "{} bytes kept", buf.len());
    }
    out
}

#[test]
fn imap_framer() {
    bolero::check!(name = "imap_framer")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let [line, literal, program @ ..] = input else {
                return;
            };
            // Lines of at least 64 bytes: an over-long command's tag (at most 64 bytes)
            // is then always seen, however the input is cut.
            let max_line = 64 + usize::from(line % 64);
            let max_literal = usize::from(literal % 64);
            // Before login and after: literals are allowed in different commands.
            let logged_in = line & 0x80 != 0;
            let (control, program) = program.split_at(program.len().min(1));
            let wire = [control, &imapish(program)].concat();
            let (data, pieces) = cut(&wire);
            assert_eq!(
                frames(max_line, max_literal, logged_in, &pieces),
                frames(max_line, max_literal, logged_in, &[data])
            );
        });
}
