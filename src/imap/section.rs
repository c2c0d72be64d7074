//! BODY[section] (RFC 3501 §6.4.5): which bytes of the stored message a section names,
//! found from the part offsets in the summary, and the HEADER.FIELDS filter.

use mailhive_protocol::imap::command::{Section, SectionText};
use mailhive_store::{MessageSummary, MimePart, PartKind};
use std::ops::Range;

/// Where a section's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Byte range of the stored message.
    pub range: Range<u32>,
    /// HEADER.FIELDS: keep only these fields (`not`: all but these).
    pub fields: Option<(bool, Vec<String>)>,
}

/// The part a path names; `[]` is the message itself.
pub(super) fn find_part<'a>(root: &'a MimePart, path: &[u32]) -> Option<&'a MimePart> {
    let mut part = root;
    for (depth, &n) in path.iter().enumerate() {
        // Inside a message/rfc822 part, numbers count the enclosed message's parts.
        let container = match &part.kind {
            PartKind::Message(_, inner) if depth > 0 => inner.as_ref(),
            _ => part,
        };
        part = match &container.kind {
            PartKind::Multipart(children) => children.get((n as usize).checked_sub(1)?)?,
            _ if n == 1 => container,
            _ => return None,
        };
    }
    Some(part)
}

/// The bytes `section` names in a message of `size` bytes, or `None` if the message
/// has no such part.
pub fn locate(summary: &MessageSummary, section: &Section, size: u32) -> Option<Located> {
    let root = &summary.body;
    let whole = |range: Range<u32>| Located {
        range,
        fields: None,
    };
    if section.part.is_empty() {
        return Some(match &section.text {
            None => whole(0..size),
            Some(SectionText::Text) => whole(root.body_start..size),
            Some(SectionText::Header) => whole(0..root.body_start),
            Some(SectionText::HeaderFields { not, fields }) => Located {
                range: 0..root.body_start,
                fields: Some((*not, fields.clone())),
            },
            Some(SectionText::Mime) => return None,
        });
    }
    let part = find_part(root, &section.part)?;
    let enclosed = || match &part.kind {
        PartKind::Message(_, inner) => Some(inner.as_ref()),
        _ => None,
    };
    Some(match &section.text {
        None => whole(part.body_start..part.body_end),
        Some(SectionText::Mime) => whole(part.header_start..part.body_start),
        Some(SectionText::Header) => {
            let inner = enclosed()?;
            whole(inner.header_start..inner.body_start)
        }
        Some(SectionText::Text) => {
            let inner = enclosed()?;
            whole(inner.body_start..inner.body_end)
        }
        Some(SectionText::HeaderFields { not, fields }) => {
            let inner = enclosed()?;
            Located {
                range: inner.header_start..inner.body_start,
                fields: Some((*not, fields.clone())),
            }
        }
    })
}

/// The header fields of `header` that are (or with `not`, are not) in `names`, each
/// with its continuation lines, followed by the blank line that ends a header. As in
/// Dovecot, HEADER.FIELDS.NOT keeps the header's own end: a message that has no body
/// and no blank line gets none (RFC 3501 §6.4.5).
pub fn filter_fields(header: &[u8], not: bool, names: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    let mut blank_line = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            blank_line = true;
            break;
        }
        if !matches!(content[0], b' ' | b'\t') {
            let name = content.split(|&b| b == b':').next().unwrap_or_default();
            let name = name.trim_ascii_end();
            let listed = names
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(name));
            keep = listed != not;
        }
        if keep {
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
    }
    if blank_line || !not {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// How a section is written back in the FETCH answer: `1.2.HEADER.FIELDS (From)`.
pub fn section_name(section: &Section) -> String {
    let mut out: Vec<String> = section.part.iter().map(u32::to_string).collect();
    match &section.text {
        None => {}
        Some(SectionText::Header) => out.push("HEADER".into()),
        Some(SectionText::Text) => out.push("TEXT".into()),
        Some(SectionText::Mime) => out.push("MIME".into()),
        Some(SectionText::HeaderFields { not, fields }) => {
            let mut names = Vec::new();
            for field in fields {
                let mut quoted = Vec::new();
                mailhive_protocol::imap::response::astring(&mut quoted, field.as_bytes());
                names.push(String::from_utf8_lossy(&quoted).into_owned());
            }
            let kind = if *not {
                "HEADER.FIELDS.NOT"
            } else {
                "HEADER.FIELDS"
            };
            out.push(format!("{kind} ({})", names.join(" ")));
        }
    }
    out.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_header_fields_with_continuations() {
        let header = b"From: a@b\r\nSubject: one\r\n two\r\nTo: c@d\nX-Y: z\r\n\r\n";
        assert_eq!(
            filter_fields(header, false, &["subject".into(), "TO".into()]),
            b"Subject: one\r\n two\r\nTo: c@d\r\n\r\n"
        );
        assert_eq!(
            filter_fields(header, true, &["subject".into(), "TO".into()]),
            b"From: a@b\r\nX-Y: z\r\n\r\n"
        );
        let without_blank_line = b"From: a@b\r\nSubject: one\r\n";
        assert_eq!(
            filter_fields(without_blank_line, true, &["subject".into()]),
            b"From: a@b\r\n"
        );
        assert_eq!(
            filter_fields(without_blank_line, false, &["subject".into()]),
            b"Subject: one\r\n\r\n"
        );
    }

    #[test]
    fn finds_parts_of_nested_messages() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--b--\r\n";
        let summary = MessageSummary::parse(raw);
        let text = |part: Vec<u32>, text: Option<SectionText>| {
            let located = locate(&summary, &Section { part, text }, raw.len() as u32).unwrap();
            String::from_utf8_lossy(&raw[located.range.start as usize..located.range.end as usize])
                .into_owned()
        };
        assert_eq!(text(vec![1], None), "one");
        assert_eq!(
            text(vec![2], Some(SectionText::Header)),
            "Subject: inner\r\n\r\n"
        );
        assert_eq!(text(vec![2, 1], None), "inner body");
        assert_eq!(
            text(vec![2], Some(SectionText::Mime)),
            "Content-Type: message/rfc822\r\n\r\n"
        );
        assert!(locate(
            &summary,
            &Section {
                part: vec![3],
                text: None
            },
            0
        )
        .is_none());
    }
}
