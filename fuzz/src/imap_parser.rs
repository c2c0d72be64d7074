//! The IMAP command parser: no input panics it, neither raw bytes nor commands spelled
//! with the grammar's tokens and cut by the framer, and every parsed command can be
//! printed (the session logs it).

use crate::tokens::expand;
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

/// The grammar's tokens other than command names.
const TOKENS: [&[u8]; 46] = [
    b" ",
    b"(",
    b")",
    b"[",
    b"]",
    b"<",
    b">",
    b".",
    b"\"",
    b"\\",
    b"{3}\r\n",
    b"{0+}\r\n",
    b"{4294967295}\r\n",
    b"\r\n",
    b"*",
    b":",
    b",",
    b"4294967295",
    b"99999999999",
    b"0",
    b"BODY.PEEK[",
    b"HEADER.FIELDS.NOT (",
    b"MIME",
    b"TEXT",
    b"NOT ",
    b"OR ",
    b"FLAGS ",
    b"+FLAGS.SILENT ",
    b"CHARSET ",
    b"RETURN (STATUS (",
    b"(SUBSCRIBED RECURSIVEMATCH) ",
    b"(USE (\\Drafts)",
    b"CATENATE (",
    b"URL \"/INBOX/;UID=1\"",
    b"TEXT ",
    b"{spooled}\r\n",
    b"NIL",
    b"\\Seen",
    b"1-Feb-1994",
    b"\" 7-Feb-2024 13:05:09 -0130\"",
    b"&APw-",
    b"&",
    b"#users/",
    b"INBOX",
    b"UID ",
    b"\0",
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
            buf.extend_from_slice(&expand(rest, &TOKENS));
            buf.extend_from_slice(b"\r\n");
            while let Some(frame) = framer.next_frame(&mut buf) {
                if let Frame::Command(command) = frame {
                    parse_and_print(&command);
                }
            }
        });
}
