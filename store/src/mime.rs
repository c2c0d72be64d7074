//! What the server needs to answer FETCH ENVELOPE / BODYSTRUCTURE and header SEARCH
//! without parsing the message again: computed once, at append, with mail-parser.
//!
//! Values that IMAP returns verbatim (envelope fields, Content-ID, Content-Description…)
//! are kept raw — unfolded, encoded words intact — as RFC 3501 asks; header text for
//! SEARCH is kept decoded. Every part records its byte offsets in the raw message, so
//! `BODY[1.2.MIME]` or `BODY[2.TEXT]` is a range read.
//!
//! Part boundaries are Dovecot's: the line break before a boundary belongs to the
//! boundary (also when it ends the header of an empty part), except the one after a
//! nested multipart's close delimiter; an enclosed message runs to its part's end.
//!
//! Parsing is bounded like Dovecot's: at most [`MAX_DEPTH`] nesting levels and
//! [`MAX_PARTS`] parts. A part beyond either limit is described as one opaque
//! `application/octet-stream` part covering its bytes.

use mail_parser::{
    HeaderName, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};
use serde::{Deserialize, Serialize};

/// MIME nesting levels kept; deeper parts are opaque.
pub const MAX_DEPTH: usize = 100;
/// MIME parts kept per message; later parts are folded into opaque ones.
pub const MAX_PARTS: usize = 10_000;

/// The parsed facts about one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSummary {
    pub envelope: Envelope,
    pub body: MimePart,
    /// Top-level header fields in order, values decoded (RFC 2047) and unfolded.
    pub headers: Vec<HeaderField>,
    /// True when no header block could be parsed: the message is one opaque text part.
    pub unparsed: bool,
    /// True when [`MAX_DEPTH`] or [`MAX_PARTS`] cut the structure short.
    pub truncated: bool,
}

/// RFC 3501 ENVELOPE fields, as raw unfolded header values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub sender: Option<String>,
    pub reply_to: Option<String>,
    pub to: Option<String>,
    pub cc: Option<String>,
    pub bcc: Option<String>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// One header field for SEARCH: the name as written, the value decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderField {
    pub name: String,
    pub value: String,
}

/// One MIME part: its BODYSTRUCTURE fields and where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MimePart {
    /// Lower-case media type and subtype (`text`, `plain`).
    pub media_type: String,
    pub media_subtype: String,
    /// Content-Type parameters, names lower-cased, values decoded (RFC 2231).
    pub params: Vec<(String, String)>,
    pub id: Option<String>,
    pub description: Option<String>,
    /// Content-Transfer-Encoding as written; `None` means 7bit.
    pub encoding: Option<String>,
    pub md5: Option<String>,
    /// Content-Disposition value and parameters.
    pub disposition: Option<(String, Vec<(String, String)>)>,
    pub language: Vec<String>,
    pub location: Option<String>,
    /// Offset of the part's first header line (equal to `body_start` without headers).
    pub header_start: u32,
    pub body_start: u32,
    pub body_end: u32,
    /// Lines in the body (text and message parts).
    pub lines: u32,
    pub kind: PartKind,
}

/// What a part contains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartKind {
    /// A leaf: text, an attachment, or an opaque part.
    Single,
    /// `multipart/*` with its children in order.
    Multipart(Vec<MimePart>),
    /// `message/rfc822` (or `message/global`) with the enclosed message's envelope and body.
    Message(Box<Envelope>, Box<MimePart>),
}

impl MessageSummary {
    /// Parses `raw` once and keeps what IMAP needs.
    pub fn parse(raw: &[u8]) -> MessageSummary {
        match MessageParser::default().parse(raw) {
            Some(message) if !message.parts.is_empty() => {
                let mut walk = Walk {
                    raw,
                    parts_left: MAX_PARTS,
                    truncated: false,
                };
                let root = &message.parts[0];
                let body = walk.part(&message, root, 0, None, root.offset_end);
                MessageSummary {
                    envelope: envelope(raw, &root.headers),
                    headers: header_fields(raw, &root.headers),
                    body,
                    unparsed: false,
                    truncated: walk.truncated,
                }
            }
            _ => MessageSummary::opaque(raw),
        }
    }

    /// A message without a usable header block: one text/plain part.
    fn opaque(raw: &[u8]) -> MessageSummary {
        let mut body = MimePart::leaf("text", "plain", 0, 0, raw.len() as u32);
        body.params = vec![us_ascii()];
        body.lines = count_lines(raw, true);
        MessageSummary {
            envelope: Envelope::default(),
            body,
            headers: Vec::new(),
            unparsed: true,
            truncated: false,
        }
    }

    /// The decoded value of the first header field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

impl MimePart {
    fn leaf(
        media_type: &str,
        subtype: &str,
        header_start: u32,
        body_start: u32,
        body_end: u32,
    ) -> Self {
        MimePart {
            media_type: media_type.to_owned(),
            media_subtype: subtype.to_owned(),
            params: Vec::new(),
            id: None,
            description: None,
            encoding: None,
            md5: None,
            disposition: None,
            language: Vec::new(),
            location: None,
            header_start,
            body_start,
            body_end,
            lines: 0,
            kind: PartKind::Single,
        }
    }

    /// The number of parts in this subtree, this one included.
    pub fn part_count(&self) -> usize {
        1 + match &self.kind {
            PartKind::Single => 0,
            PartKind::Multipart(children) => children.iter().map(MimePart::part_count).sum(),
            PartKind::Message(_, body) => body.part_count(),
        }
    }

    /// The maximum nesting depth of this subtree (a leaf has depth 1).
    pub fn depth(&self) -> usize {
        1 + match &self.kind {
            PartKind::Single => 0,
            PartKind::Multipart(children) => {
                children.iter().map(MimePart::depth).max().unwrap_or(0)
            }
            PartKind::Message(_, body) => body.depth(),
        }
    }
}

/// The state of one walk over mail-parser's flat part list.
struct Walk<'a> {
    raw: &'a [u8],
    parts_left: usize,
    truncated: bool,
}

impl Walk<'_> {
    /// Describes `part`, whose body ends at `end` (where its container says it ends).
    fn part(
        &mut self,
        message: &Message<'_>,
        part: &MessagePart<'_>,
        depth: usize,
        parent_digest: Option<bool>,
        end: u32,
    ) -> MimePart {
        // A boundary right after the header takes the header's last line break (the
        // one before a boundary belongs to it): the body is empty and starts there.
        let header_start = part.offset_header;
        let body_start = part.offset_body.min(end);
        let body_end = end.max(body_start);
        self.parts_left = self.parts_left.saturating_sub(1);
        if depth >= MAX_DEPTH {
            self.truncated = true;
            return MimePart::leaf(
                "application",
                "octet-stream",
                header_start,
                body_start,
                body_end,
            );
        }

        let (media_type, media_subtype, params) = content_type(part, parent_digest == Some(true));
        let mut out = MimePart::leaf(
            &media_type,
            &media_subtype,
            header_start,
            body_start,
            body_end,
        );
        out.params = params;
        for h in &part.headers {
            let text = || raw_value(self.raw, h.offset_start, h.offset_end);
            match &h.name {
                HeaderName::ContentId => out.id = Some(text()),
                HeaderName::ContentDescription => out.description = Some(text()),
                HeaderName::ContentTransferEncoding => out.encoding = Some(text()),
                HeaderName::ContentLocation => out.location = Some(text()),
                HeaderName::ContentLanguage => {
                    out.language = text()
                        .split(',')
                        .map(|l| l.trim().to_owned())
                        .filter(|l| !l.is_empty())
                        .collect()
                }
                HeaderName::ContentDisposition => {
                    if let HeaderValue::ContentType(ct) = &h.value {
                        out.disposition = Some((ct.c_type.to_ascii_lowercase(), attributes(ct)));
                    }
                }
                HeaderName::ContentMd5 => out.md5 = Some(text()),
                _ => {}
            }
        }
        let body = self
            .raw
            .get(body_start as usize..body_end as usize)
            .unwrap_or_default();
        let lines = count_lines(body, body_end as usize >= self.raw.len());
        out.kind = match &part.body {
            PartType::Multipart(children) if !children.is_empty() => {
                let digest = media_subtype == "digest";
                let boundary = out
                    .params
                    .iter()
                    .find(|(name, _)| name == "boundary")
                    .map(|(_, value)| value.clone());
                let mut kids = Vec::new();
                for child in children
                    .iter()
                    .filter_map(|&id| message.parts.get(id as usize))
                {
                    if self.parts_left == 0 {
                        // The remaining children stay readable as the multipart's text.
                        self.truncated = true;
                        break;
                    }
                    let end = self.end_in_multipart(child, boundary.as_deref());
                    kids.push(self.part(message, child, depth + 1, Some(digest), end));
                }
                PartKind::Multipart(kids)
            }
            PartType::Message(nested)
                if is_identity(out.encoding.as_deref())
                    && !nested.parts.is_empty()
                    && self.parts_left > 0 =>
            {
                out.lines = lines;
                let root = &nested.parts[0];
                // The enclosed message is the whole body: an epilogue is its text too.
                let inner = self.part(nested, root, depth + 1, None, body_end);
                PartKind::Message(Box::new(envelope(self.raw, &root.headers)), Box::new(inner))
            }
            _ => {
                if out.media_type == "text" {
                    out.lines = lines;
                }
                PartKind::Single
            }
        };
        if let (PartKind::Single, "multipart") = (&out.kind, out.media_type.as_str()) {
            // A multipart whose boundary never occurs is all preamble: it holds one empty
            // part of the default type (BODYSTRUCTURE needs at least one), as in Dovecot.
            let mut empty = MimePart::leaf("text", "plain", body_end, body_end, body_end);
            empty.params = vec![us_ascii()];
            out.lines = 0;
            out.kind = PartKind::Multipart(vec![empty]);
        }
        out
    }
}

impl Walk<'_> {
    /// Where a part of a multipart delimited by `boundary` ends. The line break before
    /// the next boundary is the boundary's, also when it ends the header of a part with
    /// an empty body, or when the boundary comes before the header's blank line; but
    /// after the close delimiter of a multipart the part ends with (its own or its
    /// enclosed message's) that line is the part's, as in Dovecot.
    fn end_in_multipart(&self, part: &MessagePart<'_>, boundary: Option<&str>) -> u32 {
        let end = part.offset_end;
        let header = self
            .raw
            .get(part.offset_header as usize..part.offset_body as usize)
            .unwrap_or_default();
        if let Some(line) = boundary.and_then(|b| delimiter_line(header, b)) {
            return part.offset_header + line - line_break_before(&header[..line as usize]);
        }
        if end <= part.offset_body {
            return part.offset_body - line_break_before(header);
        }
        let Some(nested) = last_boundary(part) else {
            return end;
        };
        let before = self.raw.get(..end as usize).unwrap_or_default();
        if !before.ends_with(format!("--{nested}--").as_bytes()) {
            return end;
        }
        let after = self.raw.get(end as usize..).unwrap_or_default();
        end + if after.starts_with(b"\r\n") {
            2
        } else {
            u32::from(after.starts_with(b"\n"))
        }
    }
}

/// The length of the line break `bytes` end with.
fn line_break_before(bytes: &[u8]) -> u32 {
    if bytes.ends_with(b"\r\n") {
        2
    } else {
        u32::from(bytes.ends_with(b"\n"))
    }
}

/// Where in `header` a line holds the delimiter (or close delimiter) of `boundary`.
fn delimiter_line(header: &[u8], boundary: &str) -> Option<u32> {
    let mut start = 0;
    for line in header.split_inclusive(|&b| b == b'\n') {
        let rest = line
            .trim_ascii_end()
            .strip_prefix(b"--")
            .and_then(|l| l.strip_prefix(boundary.as_bytes()));
        if matches!(rest, Some(b"" | b"--")) {
            return u32::try_from(start).ok();
        }
        start += line.len();
    }
    None
}

/// The boundary of the multipart `part` ends with: its own, or its enclosed message's.
fn last_boundary(part: &MessagePart<'_>) -> Option<String> {
    match &part.body {
        PartType::Multipart(_) => part
            .content_type()?
            .attribute("boundary")
            .map(str::to_owned),
        PartType::Message(nested) => last_boundary(nested.parts.first()?),
        _ => None,
    }
}

/// The part's media type: its Content-Type, or the default of its context
/// (`message/rfc822` inside multipart/digest, `text/plain; charset=us-ascii` elsewhere).
fn content_type(
    part: &MessagePart<'_>,
    in_digest: bool,
) -> (String, String, Vec<(String, String)>) {
    let declared = part.headers.iter().find_map(|h| match (&h.name, &h.value) {
        (HeaderName::ContentType, HeaderValue::ContentType(ct)) => Some(ct),
        _ => None,
    });
    let (media_type, media_subtype, mut params) = match declared {
        Some(ct) => (
            ct.c_type.to_ascii_lowercase(),
            ct.c_subtype
                .as_deref()
                .unwrap_or_default()
                .to_ascii_lowercase(),
            attributes(ct),
        ),
        None if in_digest => ("message".into(), "rfc822".into(), Vec::new()),
        None => ("text".into(), "plain".into(), Vec::new()),
    };
    // RFC 2045 §5.2: text without a charset is US-ASCII; said explicitly, as Dovecot does.
    if media_type == "text" && !params.iter().any(|(name, _)| name == "charset") {
        params.push(us_ascii());
    }
    (media_type, media_subtype, params)
}

/// The charset parameter of text that names none (RFC 2045 §5.2).
fn us_ascii() -> (String, String) {
    ("charset".into(), "us-ascii".into())
}

fn attributes(ct: &mail_parser::ContentType<'_>) -> Vec<(String, String)> {
    ct.attributes
        .iter()
        .flatten()
        .map(|a| (a.name.to_ascii_lowercase(), a.value.to_string()))
        .collect()
}

fn is_identity(encoding: Option<&str>) -> bool {
    encoding.is_none_or(|e| matches!(e.to_ascii_lowercase().as_str(), "7bit" | "8bit" | "binary"))
}

fn envelope(raw: &[u8], headers: &[mail_parser::Header<'_>]) -> Envelope {
    let first = |name: HeaderName<'_>| {
        headers
            .iter()
            .find(|h| h.name == name)
            .map(|h| raw_value(raw, h.offset_start, h.offset_end))
    };
    Envelope {
        date: first(HeaderName::Date),
        subject: first(HeaderName::Subject),
        from: first(HeaderName::From),
        sender: first(HeaderName::Sender),
        reply_to: first(HeaderName::ReplyTo),
        to: first(HeaderName::To),
        cc: first(HeaderName::Cc),
        bcc: first(HeaderName::Bcc),
        in_reply_to: first(HeaderName::InReplyTo),
        message_id: first(HeaderName::MessageId),
    }
}

fn header_fields(raw: &[u8], headers: &[mail_parser::Header<'_>]) -> Vec<HeaderField> {
    headers
        .iter()
        .map(|h| HeaderField {
            name: h.name.as_str().to_owned(),
            value: decoded_value(raw, h),
        })
        .collect()
}

/// A header value as a person reads it: encoded words decoded, addresses written out,
/// message ids as written (with their angle brackets).
fn decoded_value(raw: &[u8], h: &mail_parser::Header<'_>) -> String {
    if matches!(
        h.name,
        HeaderName::MessageId
            | HeaderName::InReplyTo
            | HeaderName::References
            | HeaderName::ResentMessageId
    ) {
        return raw_value(raw, h.offset_start, h.offset_end);
    }
    let addr = |a: &mail_parser::Addr<'_>| match (&a.name, &a.address) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n.to_string(),
        (None, Some(e)) => e.to_string(),
        (None, None) => String::new(),
    };
    match &h.value {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(list) => list.join(", "),
        HeaderValue::Address(mail_parser::Address::List(list)) => {
            list.iter().map(addr).collect::<Vec<_>>().join(", ")
        }
        HeaderValue::Address(mail_parser::Address::Group(groups)) => groups
            .iter()
            .map(|g| {
                let members = g.addresses.iter().map(addr).collect::<Vec<_>>().join(", ");
                format!("{}: {members};", g.name.as_deref().unwrap_or_default())
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => raw_value(raw, h.offset_start, h.offset_end),
    }
}

/// The raw header value between two offsets, unfolded and trimmed.
fn raw_value(raw: &[u8], start: u32, end: u32) -> String {
    let bytes = raw.get(start as usize..end as usize).unwrap_or_default();
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 && !line.starts_with([' ', '\t']) && !line.trim().is_empty() {
            out.push(' ');
        }
        out.push_str(line.trim_end_matches('\r'));
    }
    out.trim().to_owned()
}

/// The text of every text part of a message (nested messages included, to
/// [`MAX_DEPTH`]), with transfer encodings and charsets decoded to UTF-8.
pub fn text_parts(raw: &[u8]) -> Vec<String> {
    fn collect(message: &Message<'_>, depth: usize, out: &mut Vec<String>) {
        for part in &message.parts {
            match &part.body {
                PartType::Text(text) | PartType::Html(text) => out.push(text.to_string()),
                PartType::Message(nested) if depth < MAX_DEPTH => collect(nested, depth + 1, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    if let Some(message) = MessageParser::default().parse(raw) {
        collect(&message, 0, &mut out);
    }
    out
}

/// The length of `raw` in wire form: every bare LF sent as CRLF, and a final CRLF added
/// when the message does not end with a line break. Both protocols send that form, and
/// announce this size (POP3 LIST and STAT, IMAP RFC822.SIZE).
pub fn wire_size(raw: &[u8]) -> u64 {
    let final_break = if raw.last().is_some_and(|&b| b != b'\n') {
        2
    } else {
        0
    };
    crlf_len(raw) + final_break
}

/// The length of `raw` with every bare LF counted as CRLF (a part of a message in wire
/// form, without the final line break [`wire_size`] adds to a whole message).
pub fn crlf_len(raw: &[u8]) -> u64 {
    let mut size = raw.len() as u64;
    let mut previous = 0u8;
    for &b in raw {
        if b == b'\n' && previous != b'\r' {
            size += 1;
        }
        previous = b;
    }
    size
}

/// The line count of BODYSTRUCTURE: the line breaks of the part in wire form, as
/// Dovecot counts them. The line break before a boundary belongs to the boundary
/// (RFC 2046 §5.1.1), so a part's last line counts only at the end of the message, where
/// the wire form adds a final line break when it is missing.
fn count_lines(body: &[u8], at_message_end: bool) -> u32 {
    let newlines = body.iter().filter(|&&b| b == b'\n').count();
    let unterminated = usize::from(at_message_end && body.last().is_some_and(|&b| b != b'\n'));
    (newlines + unterminated) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_message_envelope_and_body() {
        let raw = b"From: Karen <karen@example.org>\r\nTo: a@b.c\r\nSubject: Hi\r\n there\r\nMessage-ID: <1@x>\r\n\r\nline1\r\nline2\r\n";
        let s = MessageSummary::parse(raw);
        assert_eq!(
            s.envelope.from.as_deref(),
            Some("Karen <karen@example.org>")
        );
        assert_eq!(s.envelope.subject.as_deref(), Some("Hi there"));
        assert_eq!(s.envelope.message_id.as_deref(), Some("<1@x>"));
        assert_eq!(
            (s.body.media_type.as_str(), s.body.media_subtype.as_str()),
            ("text", "plain")
        );
        assert_eq!(s.body.lines, 2);
        assert_eq!(
            &raw[s.body.body_start as usize..s.body.body_end as usize],
            b"line1\r\nline2\r\n"
        );
        assert_eq!(s.header("subject"), Some("Hi there"));
        assert_eq!(
            s.header("Message-ID"),
            Some("<1@x>"),
            "ids keep their brackets"
        );
    }

    #[test]
    fn encoded_words_are_raw_in_envelope_and_decoded_for_search() {
        let raw = b"Subject: =?UTF-8?B?SMOpbGxv?=\r\n\r\nx\r\n";
        let s = MessageSummary::parse(raw);
        assert_eq!(s.envelope.subject.as_deref(), Some("=?UTF-8?B?SMOpbGxv?="));
        assert_eq!(s.header("Subject"), Some("Héllo"));
    }

    #[test]
    fn multipart_children_and_offsets() {
        let raw = b"Content-Type: multipart/mixed; boundary=XX\r\n\r\npre\r\n--XX\r\nContent-Type: text/plain\r\n\r\none\r\n--XX\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBO\r\n--XX--\r\n";
        let s = MessageSummary::parse(raw);
        let PartKind::Multipart(kids) = &s.body.kind else {
            panic!("not multipart: {:?}", s.body)
        };
        assert_eq!(kids.len(), 2);
        assert_eq!(
            &raw[kids[0].body_start as usize..kids[0].body_end as usize],
            b"one"
        );
        assert_eq!(kids[1].encoding.as_deref(), Some("base64"));
        assert_eq!(
            &raw[kids[1].body_start as usize..kids[1].body_end as usize],
            b"iVBO"
        );
    }

    fn nested_multipart(levels: usize) -> Vec<u8> {
        let mut raw = Vec::new();
        for i in 0..levels {
            raw.extend(
                format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        raw.extend(b"Content-Type: text/plain\r\n\r\ndeep\r\n");
        for i in (0..levels).rev() {
            raw.extend(format!("--b{i}--\r\n").as_bytes());
        }
        raw
    }

    #[test]
    fn nesting_beyond_the_limit_becomes_opaque() {
        let ok = MessageSummary::parse(&nested_multipart(20));
        assert!(!ok.truncated);
        assert_eq!(ok.body.depth(), 21);
        let deep = MessageSummary::parse(&nested_multipart(MAX_DEPTH + 50));
        assert!(deep.truncated);
        assert!(deep.body.depth() <= MAX_DEPTH + 1);
    }

    #[test]
    fn part_count_is_bounded() {
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for _ in 0..(MAX_PARTS + 100) {
            raw.extend(b"--b\r\n\r\nx\r\n");
        }
        raw.extend(b"--b--\r\n");
        let s = MessageSummary::parse(&raw);
        assert!(s.truncated);
        assert_eq!(s.body.part_count(), MAX_PARTS);
    }

    #[test]
    fn wire_sizes() {
        assert_eq!(wire_size(b""), 0);
        assert_eq!(wire_size(b"\n"), 2);
        assert_eq!(wire_size(b"a\nb\r\n"), 6);
        assert_eq!(wire_size(b"x\r"), 4);
    }

    #[test]
    fn headerless_input_is_one_opaque_text_part() {
        let s = MessageSummary::parse(b"");
        assert!(s.unparsed);
        assert_eq!(s.body.media_type, "text");
    }

    #[test]
    fn nested_messages_end_where_dovecot_ends_them() {
        let raw = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\
            Content-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n\
            --i\r\nContent-MD5: bWQ1\r\n\r\none\r\n--i--\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n\
            Content-Type: multipart/mixed; boundary=j\r\n\r\n--j\r\n\r\ntwo\r\n--j--\r\nepilogue\r\n\
            --o\r\nContent-Description: empty\r\n\r\n--o--\r\n";
        let s = MessageSummary::parse(raw);
        let text = |start: u32, end: u32| &raw[start as usize..end as usize];
        let PartKind::Multipart(kids) = &s.body.kind else {
            panic!("not multipart: {:?}", s.body)
        };
        // The close delimiter's line break is the message part's, not the boundary's.
        assert!(text(kids[0].body_start, kids[0].body_end).ends_with(b"--i--\r\n"));
        let PartKind::Message(_, inner) = &kids[0].kind else {
            panic!("not a message: {:?}", kids[0])
        };
        assert_eq!(inner.body_end, kids[0].body_end);
        let PartKind::Multipart(inner_kids) = &inner.kind else {
            panic!("not multipart: {inner:?}")
        };
        assert_eq!(inner_kids[0].md5.as_deref(), Some("bWQ1"));
        // The enclosed message's text keeps its multipart's epilogue.
        let PartKind::Message(_, second) = &kids[1].kind else {
            panic!("not a message: {:?}", kids[1])
        };
        assert!(text(second.body_start, second.body_end).ends_with(b"--j--\r\nepilogue"));
        // An empty body: the header's blank line is the boundary's line break.
        assert_eq!(kids[2].body_start, kids[2].body_end);
        assert_eq!(
            text(kids[2].header_start, kids[2].body_start),
            b"Content-Description: empty\r\n"
        );
    }

    #[test]
    fn a_header_cut_short_by_a_boundary_ends_there() {
        let raw = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\r\none\r\n\
            --o\r\nContent-Type: application/octet-stream\r\n--o--\r\n\r\nepilogue\r\n";
        let s = MessageSummary::parse(raw);
        let PartKind::Multipart(kids) = &s.body.kind else {
            panic!("not multipart: {:?}", s.body)
        };
        let last = &kids[1];
        assert_eq!(
            &raw[last.header_start as usize..last.body_start as usize],
            b"Content-Type: application/octet-stream"
        );
        assert_eq!(last.body_start, last.body_end);
    }

    #[test]
    fn a_multipart_without_its_boundary_holds_one_empty_text_part() {
        let raw = b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n\
            Content-Type: multipart/alternative; boundary=YY\r\n\r\nno YY here\r\n\
            --XX\r\nContent-Type: text/plain\r\n\r\none\r\ntwo\r\n--XX--\r\n";
        let s = MessageSummary::parse(raw);
        let PartKind::Multipart(kids) = &s.body.kind else {
            panic!("not multipart: {:?}", s.body)
        };
        let PartKind::Multipart(inner) = &kids[0].kind else {
            panic!("the broken multipart is still a multipart: {:?}", kids[0])
        };
        assert_eq!(kids[0].media_subtype, "alternative");
        assert_eq!(inner.len(), 1);
        assert_eq!(inner[0].body_start, inner[0].body_end);
        assert_eq!(inner[0].params, [us_ascii()]);
        // The line break before the boundary is the boundary's: one line, not two.
        assert_eq!(kids[1].lines, 1);
        assert_eq!(kids[1].params, [us_ascii()], "text names its charset");
    }
}
