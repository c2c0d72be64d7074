//! The grammar of APPEND with MULTIAPPEND (RFC 3502 §6) and CATENATE (RFC 4469 §5):
//! one or more messages, each with its flags and date, and each a literal or the
//! TEXT and URL parts of CATENATE. A literal the framer spooled stands in the command
//! as [`SPOOLED_LITERAL`]. The number of messages and of parts is bounded, so that no
//! command asks for unbounded work.

use super::{Cursor, MailboxEncoding, Parsed};
use crate::imap::command::{AppendMessage, AppendPart, Command, Flag, Literal, Section};
use crate::imap::framer::SPOOLED_LITERAL;
use crate::redacted::Payload;
use bytes::Bytes;

/// The most messages one APPEND may carry.
pub const MAX_APPEND_MESSAGES: usize = 1_000;
/// The most parts one CATENATE may join.
pub const MAX_CATENATE_PARTS: usize = 100;

impl Cursor<'_> {
    /// ```text
    /// append = "APPEND" SP mailbox 1*append-message
    /// append-message = append-opts SP append-data
    /// append-opts = [SP flag-list] [SP date-time]
    /// append-data = literal / literal8 / "CATENATE" SP "(" cat-part *(SP cat-part) ")"
    /// ```
    pub(super) fn append(&mut self) -> Parsed<Command> {
        self.sp()?;
        let mailbox = self.mailbox()?;
        let mut messages = Vec::new();
        while self.eat(b' ') {
            if messages.len() == MAX_APPEND_MESSAGES {
                return Err(format!("more than {MAX_APPEND_MESSAGES} messages"));
            }
            messages.push(self.append_message()?);
        }
        if messages.is_empty() {
            return Err("missing arguments".into());
        }
        Ok(Command::Append { mailbox, messages })
    }

    fn append_message(&mut self) -> Parsed<AppendMessage> {
        let mut flags = Vec::new();
        if self.peek() == Some(b'(') {
            flags = self.list(true, Self::flag)?;
            if flags.contains(&Flag::Recent) {
                return Err("\\Recent cannot be set".into());
            }
            self.sp()?;
        }
        let mut date = None;
        if self.peek() == Some(b'"') {
            date = Some(self.date_time()?);
            self.sp()?;
        }
        let parts = if matches!(self.peek(), Some(b'{' | b'~')) {
            vec![AppendPart::Text(self.append_literal()?)]
        } else {
            match self.word()?.as_str() {
                "UTF8" => vec![AppendPart::Text(self.utf8_literal()?)],
                "CATENATE" => {
                    self.sp()?;
                    let parts = self.list(false, Self::cat_part)?;
                    if parts.len() > MAX_CATENATE_PARTS {
                        return Err(format!("more than {MAX_CATENATE_PARTS} CATENATE parts"));
                    }
                    parts
                }
                _ => return Err("expected a literal, UTF8 or CATENATE".into()),
            }
        };
        Ok(AppendMessage { flags, date, parts })
    }

    /// `cat-part = "TEXT" SP literal / "URL" SP astring / "UTF8" SP "(" literal8 ")"`
    fn cat_part(&mut self) -> Parsed<AppendPart> {
        let name = self.word()?;
        if name == "UTF8" {
            return Ok(AppendPart::Text(self.utf8_literal()?));
        }
        self.sp()?;
        match name.as_str() {
            "TEXT" => Ok(AppendPart::Text(self.append_literal()?)),
            "URL" => Ok(AppendPart::Url(self.text()?)),
            other => Err(format!("unknown CATENATE part {other}")),
        }
    }

    /// ` (literal8)` after `UTF8` (RFC 6855 §4): a message with UTF-8 headers, allowed
    /// once the client has enabled UTF8=ACCEPT.
    fn utf8_literal(&mut self) -> Parsed<Literal> {
        if self.names != MailboxEncoding::Utf8 {
            return Err("UTF8 message data needs ENABLE UTF8=ACCEPT".into());
        }
        self.sp()?;
        self.expect(b'(')?;
        if self.peek() != Some(b'~') {
            return Err("UTF8 message data is a literal8".into());
        }
        let literal = self.append_literal()?;
        self.expect(b')')?;
        Ok(literal)
    }

    /// A literal, or the place of one the framer spooled; `~` before it makes it a
    /// literal8 (RFC 3516), which may hold NUL bytes like every APPEND literal.
    fn append_literal(&mut self) -> Parsed<Literal> {
        self.eat(b'~');
        if self.rest().starts_with(SPOOLED_LITERAL) {
            self.pos += SPOOLED_LITERAL.len();
            return Ok(Literal::Spooled);
        }
        Ok(Literal::Inline(Payload(self.literal(true)?)))
    }
}

/// A section as an IMAP URL's `;SECTION=` gives it (RFC 5092 §4, already
/// percent-decoded): the text between FETCH's brackets.
pub fn parse_section(text: &str) -> Result<Section, String> {
    let input = Bytes::from(format!("[{text}]"));
    let mut cursor = Cursor {
        input: &input,
        pos: 0,
        invalid_name: None,
        names: MailboxEncoding::ModifiedUtf7,
    };
    let section = cursor.section()?;
    match cursor.rest().is_empty() {
        true => Ok(section),
        false => Err("unexpected characters after the section".into()),
    }
}

#[cfg(test)]
mod tests {
    use crate::imap::command::{AppendPart, Command, Literal, SectionText};
    use crate::imap::parser::parse;
    use bytes::Bytes;

    fn parsed(input: &[u8]) -> Result<Command, String> {
        parse(&Bytes::copy_from_slice(input))
            .map(|r| r.command)
            .map_err(|e| e.reason)
    }

    #[test]
    fn several_messages_and_catenate_parts() {
        let Ok(Command::Append { mailbox, messages }) = parsed(
            b"a APPEND Sent (\\Seen) {2}\r\nhi {spooled}\r\n CATENATE (URL \"/INBOX/;UID=3/;SECTION=1\" TEXT {1+}\r\nx)\r\n",
        ) else {
            panic!("not parsed")
        };
        assert_eq!(mailbox, "Sent");
        assert_eq!(messages.len(), 3);
        assert!(
            matches!(&messages[0].parts[..], [AppendPart::Text(Literal::Inline(p))] if &p[..] == b"hi")
        );
        assert_eq!(messages[1].parts, [AppendPart::Text(Literal::Spooled)]);
        assert!(messages[1].flags.is_empty());
        assert!(matches!(
            &messages[2].parts[..],
            [AppendPart::Url(url), AppendPart::Text(Literal::Inline(x))] if url == "/INBOX/;UID=3/;SECTION=1" && &x[..] == b"x"
        ));
        for bad in [
            &b"a APPEND INBOX\r\n"[..],
            b"a APPEND INBOX CATENATE ()\r\n",
            b"a APPEND INBOX CATENATE (FILE \"x\")\r\n",
            b"a APPEND INBOX (\\Recent) {1}\r\nx\r\n",
            b"a APPEND INBOX {1}\r\nx x\r\n",
        ] {
            assert!(
                parsed(bad).is_err(),
                "{:?} parsed",
                String::from_utf8_lossy(bad)
            );
        }
        let many = " URL x".repeat(super::MAX_CATENATE_PARTS + 1);
        let input = format!("a APPEND INBOX CATENATE ({})\r\n", many.trim_start());
        assert_eq!(
            parsed(input.as_bytes()),
            Err(format!(
                "more than {} CATENATE parts",
                super::MAX_CATENATE_PARTS
            ))
        );
    }

    #[test]
    fn url_sections() {
        let section = super::parse_section("1.2.HEADER.FIELDS (From To)").expect("parsed");
        assert_eq!(section.part, [1, 2]);
        assert!(matches!(
            section.text,
            Some(SectionText::HeaderFields { not: false, .. })
        ));
        assert_eq!(
            super::parse_section("TEXT").expect("parsed").text,
            Some(SectionText::Text)
        );
        for bad in ["1.]", "HEADER] x", "BOGUS", "0"] {
            assert!(super::parse_section(bad).is_err(), "{bad:?} parsed");
        }
    }
}
