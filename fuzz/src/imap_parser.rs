//! The IMAP command parser: no input panics it, neither raw bytes nor the commands the
//! framer cuts from them, and every parsed command can be printed (the session logs it).

use bytes::{Bytes, BytesMut};
use mailhive_protocol::imap::framer::{CommandFramer, Frame};
use mailhive_protocol::imap::parser::parse;

/// Command names, so that random arguments reach every command's grammar.
const COMMANDS: [&str; 24] = [
    "LOGIN",
    "AUTHENTICATE PLAIN",
    "SELECT",
    "LIST",
    "LSUB",
    "STATUS",
    "APPEND",
    "ID",
    "ENABLE",
    "SETACL",
    "DELETEACL",
    "LISTRIGHTS",
    "GETACL",
    "MYRIGHTS",
    "RENAME",
    "FETCH",
    "UID FETCH",
    "STORE",
    "SEARCH",
    "UID SEARCH",
    "COPY",
    "MOVE",
    "UID EXPUNGE",
    "CREATE",
];

fn parse_and_print(command: &Bytes) {
    if let Ok(request) = parse(command) {
        let _ = format!("{request:?}");
    }
}

#[test]
fn imap_parser() {
    bolero::check!(name = "imap_parser")
        .with_test_time(crate::SHORT_RUN)
        .for_each(|input: &[u8]| {
            parse_and_print(&Bytes::copy_from_slice(input));
            let Some((&pick, rest)) = input.split_first() else {
                return;
            };
            let name = COMMANDS[usize::from(pick) % COMMANDS.len()];
            let mut framer = CommandFramer::new(4096, 4096);
            let mut buf = BytesMut::from(format!("a {name} ").as_bytes());
            buf.extend_from_slice(rest);
            buf.extend_from_slice(b"\r\n");
            while let Some(frame) = framer.next_frame(&mut buf) {
                if let Frame::Command(command) = frame {
                    parse_and_print(&command);
                }
            }
        });
}
