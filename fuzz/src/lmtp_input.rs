//! LMTP input: command lines, DATA text and BDAT chunks framed as a session frames them
//! (DATA and BDAT lines switch the mode): no input panics the parser or the framing, a
//! command line is never kept past its bound, the events are the same however the input
//! is cut, and dot-stuffed text unstuffs to what was stuffed.

use crate::chunks::cut;
use bytes::BytesMut;
use mailhive_protocol::line::Line;
use mailhive_protocol::lmtp::command::{parse, Command};
use mailhive_protocol::lmtp::data::Unstuffer;
use mailhive_protocol::lmtp::input::{Event, Input, MAX_LINE};

/// The events `pieces` make, body pieces joined, switching modes as a session does.
fn events(pieces: &[&[u8]]) -> Vec<Event> {
    let mut input = Input::default();
    let mut buf = BytesMut::new();
    let mut out: Vec<Event> = Vec::new();
    let mut lines = true;
    for piece in pieces {
        buf.extend_from_slice(piece);
        while let Some(event) = input.next(&mut buf) {
            match &event {
                Event::Line(Line::Complete(line)) => {
                    assert!(line.len() <= MAX_LINE);
                    match parse(line) {
                        Ok(Command::Data) => {
                            input.expect_data();
                            lines = false;
                        }
                        // Small chunks only, so that the input can end them.
                        Ok(Command::Bdat { size, .. }) => {
                            input.expect_chunk(size % 4096);
                            lines = size % 4096 == 0;
                        }
                        _ => {}
                    }
                }
                Event::BodyEnd => lines = true,
                _ => {}
            }
            match (out.last_mut(), event) {
                (Some(Event::Body(joined)), Event::Body(more)) => joined.extend(more),
                (_, event) => out.push(event),
            }
        }
        if lines {
            assert!(buf.len() <= MAX_LINE + 2, "{} bytes kept", buf.len());
        }
    }
    out
}

/// `message` dot-stuffed and ended, as an MTA sends it after DATA.
fn stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[test]
fn lmtp_input() {
    bolero::check!(name = "lmtp_input")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            let (data, pieces) = cut(input);
            assert_eq!(events(&pieces), events(&[data]));

            // Lines that end in LF, so that the text can end with the `.` line.
            let mut message: Vec<u8> = data.to_vec();
            if message.last().is_some_and(|&b| b != b'\n') {
                message.extend_from_slice(b"\r\n");
            }
            let text = stuffed(&message);
            let mut unstuffer = Unstuffer::default();
            let mut out = Vec::new();
            let fed = unstuffer.feed(&text, &mut out);
            assert!(fed.done && fed.consumed == text.len());
            assert_eq!(out, message);
        });
}
