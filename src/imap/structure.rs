//! ENVELOPE and BODYSTRUCTURE (RFC 3501 §7.4.2) from the summary the store made at
//! append. Header values are sent as they were written (encoded words intact); address
//! fields are split into (name route mailbox host) entries by [`super::address`].

use super::address::{self, Address};
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
    match &envelope.subject {
        Some(subject) => for_humans(out, subject),
        None => out.extend_from_slice(b"NIL"),
    }
    let list = |field: &Option<String>| field.as_deref().map(address::parse).unwrap_or_default();
    let from = list(&envelope.from);
    let (sender, reply_to) = (list(&envelope.sender), list(&envelope.reply_to));
    // Sender and Reply-To default to From (RFC 3501), also when they hold no address.
    let from_if_empty = |entries: &'_ [Address]| entries.is_empty().then_some(&from[..]);
    for entries in [
        &from[..],
        from_if_empty(&sender).unwrap_or(&sender),
        from_if_empty(&reply_to).unwrap_or(&reply_to),
        &list(&envelope.to),
        &list(&envelope.cc),
        &list(&envelope.bcc),
    ] {
        out.push(b' ');
        addresses(out, entries);
    }
    out.push(b' ');
    text(out, &envelope.in_reply_to);
    out.push(b' ');
    text(out, &envelope.message_id);
    out.push(b')');
}

/// An address list: `NIL` when it holds no address.
fn addresses(out: &mut Vec<u8>, entries: &[Address]) {
    if entries.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for entry in entries {
        out.push(b'(');
        match &entry.name {
            Some(name) => for_humans(out, name),
            None => out.extend_from_slice(b"NIL"),
        }
        for part in [&entry.route, &entry.mailbox, &entry.domain] {
            out.push(b' ');
            nstring(out, part.as_deref().map(str::as_bytes));
        }
        out.push(b')');
    }
    out.push(b')');
}

/// Text meant to be read (a subject, a display name) as Dovecot sends it: every run of
/// white space and line breaks one space, none at either end.
fn for_humans(out: &mut Vec<u8>, value: &str) {
    let mut collapsed = Vec::with_capacity(value.len());
    for &b in value.as_bytes() {
        if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
            if collapsed.last().is_some_and(|&last| last != b' ') {
                collapsed.push(b' ');
            }
        } else {
            collapsed.push(b);
        }
    }
    if collapsed.last() == Some(&b' ') {
        collapsed.pop();
    }
    string(out, &collapsed);
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

    fn rendered(envelope_of: Envelope) -> String {
        let mut out = Vec::new();
        envelope(&mut out, &envelope_of);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_names_groups_and_defaults() {
        let fields = Envelope {
            subject: Some("Two  spaces,\ta tab".into()),
            from: Some("user@domain (Real  Name)".into()),
            sender: Some("".into()),
            to: Some("group: g1@d1.org, \"G. Two\" <g2@d2.org>;".into()),
            ..Envelope::default()
        };
        assert_eq!(
            rendered(fields),
            concat!(
                r#"(NIL "Two spaces, a tab" (("Real Name" NIL "user" "domain")) "#,
                r#"(("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) "#,
                r#"((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")("G. Two" NIL "g2" "d2.org")(NIL NIL NIL NIL)) "#,
                "NIL NIL NIL NIL)"
            )
        );
    }
}
