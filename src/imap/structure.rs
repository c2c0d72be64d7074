//! ENVELOPE and BODYSTRUCTURE (RFC 3501 §7.4.2) from the summary the store made at
//! append. Header values are sent as they were written (encoded words intact); address
//! fields are split into (name route mailbox host) here, groups included.

use mailhive_protocol::imap::response::{nstring, string};
use mailhive_store::{Envelope, MimePart, PartKind};

/// `(date subject from sender reply-to to cc bcc in-reply-to message-id)`
pub fn envelope(out: &mut Vec<u8>, envelope: &Envelope) {
    let text = |out: &mut Vec<u8>, value: &Option<String>| {
        nstring(out, value.as_deref().map(str::as_bytes));
    };
    out.push(b'(');
    text(out, &envelope.date);
    out.push(b' ');
    text(out, &envelope.subject);
    let from = envelope.from.as_deref();
    // Sender and Reply-To default to From (RFC 3501).
    for field in [
        from,
        envelope.sender.as_deref().or(from),
        envelope.reply_to.as_deref().or(from),
        envelope.to.as_deref(),
        envelope.cc.as_deref(),
        envelope.bcc.as_deref(),
    ] {
        out.push(b' ');
        addresses(out, field);
    }
    out.push(b' ');
    text(out, &envelope.in_reply_to);
    out.push(b' ');
    text(out, &envelope.message_id);
    out.push(b')');
}

/// One entry of an address list as ENVELOPE writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Mailbox {
        name: Option<String>,
        route: Option<String>,
        local: String,
        host: Option<String>,
    },
    GroupStart(String),
    GroupEnd,
}

fn addresses(out: &mut Vec<u8>, field: Option<&str>) {
    let entries = field.map(parse_addresses).unwrap_or_default();
    if entries.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for entry in entries {
        out.push(b'(');
        match entry {
            Entry::Mailbox {
                name,
                route,
                local,
                host,
            } => {
                nstring(out, name.as_deref().map(str::as_bytes));
                out.push(b' ');
                nstring(out, route.as_deref().map(str::as_bytes));
                out.push(b' ');
                string(out, local.as_bytes());
                out.push(b' ');
                nstring(out, host.as_deref().map(str::as_bytes));
            }
            Entry::GroupStart(name) => {
                out.extend_from_slice(b"NIL NIL ");
                string(out, name.as_bytes());
                out.extend_from_slice(b" NIL");
            }
            Entry::GroupEnd => out.extend_from_slice(b"NIL NIL NIL NIL"),
        }
        out.push(b')');
    }
    out.push(b')');
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Angle(String),
    Special(char),
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                chars.next();
            }
            '"' => {
                chars.next();
                let mut value = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => value.extend(chars.next()),
                        _ => value.push(c),
                    }
                }
                out.push(Token::Quoted(value));
            }
            '(' => {
                let mut depth = 0;
                while let Some(c) = chars.next() {
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        '\\' => {
                            chars.next();
                        }
                        _ => {}
                    }
                }
            }
            '<' => {
                chars.next();
                let mut value = String::new();
                let mut comment_depth = 0usize;
                for c in chars.by_ref() {
                    match c {
                        '>' if comment_depth == 0 => break,
                        '(' => comment_depth += 1,
                        ')' => comment_depth = comment_depth.saturating_sub(1),
                        _ if comment_depth > 0 || c.is_whitespace() => {}
                        _ => value.push(c),
                    }
                }
                out.push(Token::Angle(value));
            }
            ',' | ':' | ';' => {
                chars.next();
                out.push(Token::Special(c));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "\"(<,:;".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    out
}

/// Splits an address header into mailboxes and groups (RFC 5322 §3.4), leniently.
fn parse_addresses(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut phrase: Vec<Token> = Vec::new();
    let mut angle: Option<String> = None;
    let mut in_group = false;
    let flush = |phrase: &mut Vec<Token>, angle: &mut Option<String>, out: &mut Vec<Entry>| {
        let words: Vec<Token> = std::mem::take(phrase);
        match angle.take() {
            Some(address) => {
                let name = display_name(&words);
                out.push(mailbox(name, &address));
            }
            None if !words.is_empty() => {
                // A bare addr-spec: its pieces are written without spaces.
                let spec: String = words
                    .iter()
                    .map(|t| match t {
                        Token::Word(w) => w.clone(),
                        Token::Quoted(q) => format!("\"{q}\""),
                        _ => String::new(),
                    })
                    .collect();
                out.push(mailbox(None, &spec));
            }
            None => {}
        }
    };
    for token in tokens(text) {
        match token {
            Token::Special(':') if !in_group && angle.is_none() => {
                let name = display_name(&phrase).unwrap_or_default();
                phrase.clear();
                out.push(Entry::GroupStart(name));
                in_group = true;
            }
            Token::Special(';') if in_group => {
                flush(&mut phrase, &mut angle, &mut out);
                out.push(Entry::GroupEnd);
                in_group = false;
            }
            Token::Special(',') => flush(&mut phrase, &mut angle, &mut out),
            Token::Special(_) => {}
            Token::Angle(address) => angle = Some(address),
            word => phrase.push(word),
        }
    }
    flush(&mut phrase, &mut angle, &mut out);
    if in_group {
        out.push(Entry::GroupEnd);
    }
    out
}

fn display_name(words: &[Token]) -> Option<String> {
    let parts: Vec<&str> = words
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) | Token::Quoted(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn mailbox(name: Option<String>, address: &str) -> Entry {
    let (route, spec) = match address.strip_prefix('@').and(address.split_once(':')) {
        Some((route, spec)) => (Some(route.to_owned()), spec),
        None => (None, address),
    };
    let (local, host) = match spec.rsplit_once('@') {
        Some((local, host)) => (local.trim_matches('"').to_owned(), Some(host.to_owned())),
        None => (spec.to_owned(), None),
    };
    Entry::Mailbox {
        name,
        route,
        local,
        host,
    }
}

/// BODYSTRUCTURE (`extended`) or BODY. `wire_len(start, end)` is the size on the wire
/// of a range of the stored message.
pub fn body(
    out: &mut Vec<u8>,
    part: &MimePart,
    extended: bool,
    wire_len: &dyn Fn(u32, u32) -> u64,
) {
    out.push(b'(');
    match &part.kind {
        PartKind::Multipart(children) => {
            for child in children {
                body(out, child, extended, wire_len);
            }
            out.push(b' ');
            string(out, part.media_subtype.as_bytes());
            if extended {
                out.push(b' ');
                params(out, &part.params);
                extension(out, part);
            }
        }
        kind => {
            string(out, part.media_type.as_bytes());
            out.push(b' ');
            string(out, part.media_subtype.as_bytes());
            out.push(b' ');
            params(out, &part.params);
            out.push(b' ');
            nstring(out, part.id.as_deref().map(str::as_bytes));
            out.push(b' ');
            nstring(out, part.description.as_deref().map(str::as_bytes));
            out.push(b' ');
            string(out, part.encoding.as_deref().unwrap_or("7bit").as_bytes());
            let size = wire_len(part.body_start, part.body_end);
            out.extend_from_slice(format!(" {size}").as_bytes());
            if let PartKind::Message(inner_envelope, inner) = kind {
                out.push(b' ');
                envelope(out, inner_envelope);
                out.push(b' ');
                body(out, inner, extended, wire_len);
                out.extend_from_slice(format!(" {}", part.lines).as_bytes());
            } else if part.media_type == "text" {
                out.extend_from_slice(format!(" {}", part.lines).as_bytes());
            }
            if extended {
                out.push(b' ');
                nstring(out, part.md5.as_deref().map(str::as_bytes));
                extension(out, part);
            }
        }
    }
    out.push(b')');
}

/// Disposition, language and location: the extension data every part ends with.
fn extension(out: &mut Vec<u8>, part: &MimePart) {
    out.push(b' ');
    match &part.disposition {
        Some((kind, parameters)) => {
            out.push(b'(');
            string(out, kind.as_bytes());
            out.push(b' ');
            params(out, parameters);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match part.language.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => string(out, one.as_bytes()),
        many => {
            out.push(b'(');
            for (i, language) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                string(out, language.as_bytes());
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    nstring(out, part.location.as_deref().map(str::as_bytes));
}

fn params(out: &mut Vec<u8>, params: &[(String, String)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        string(out, name.as_bytes());
        out.push(b' ');
        string(out, value.as_bytes());
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(field: &str) -> String {
        let mut out = Vec::new();
        addresses(&mut out, Some(field));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn splits_address_fields() {
        assert_eq!(
            rendered("\"Joe Q. Public\" <john.q.public@example.com>"),
            r#"(("Joe Q. Public" NIL "john.q.public" "example.com"))"#
        );
        assert_eq!(
            rendered("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>"),
            r#"(("Mary Smith" NIL "mary" "x.test")(NIL NIL "jdoe" "example.org")("Who?" NIL "one" "y.test"))"#
        );
        assert_eq!(
            rendered("A Group:Ed Jones <c@a.test>,joe@where.test;, x@y"),
            r#"((NIL NIL "A Group" NIL)("Ed Jones" NIL "c" "a.test")(NIL NIL "joe" "where.test")(NIL NIL NIL NIL)(NIL NIL "x" "y"))"#
        );
        assert_eq!(
            rendered("undisclosed-recipients:;"),
            r#"((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))"#
        );
        assert_eq!(
            rendered("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"),
            r#"(("Pete" NIL "pete" "silly.test"))"#
        );
        assert_eq!(
            rendered("<@route.test:user@host.test>"),
            r#"((NIL "@route.test" "user" "host.test"))"#
        );
    }
}
