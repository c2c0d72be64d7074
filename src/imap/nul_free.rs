//! What APPEND stores of a message that holds NUL bytes (a literal8 brings them, RFC
//! 3516): each part whose body holds one is stored base64-encoded, its
//! Content-Transfer-Encoding field replaced, as Dovecot does. BODY[] then never carries
//! a NUL, which an IMAP literal cannot, and BINARY[] gives the part's bytes back (in
//! their wire form, CRLF line ends). A message without NUL bytes is stored as it came.

use bytes::Bytes;
use mailhive_protocol::transfer::encode_base64_lines;
use mailhive_protocol::wire::WireEncoder;
use mailhive_store::{MessageSummary, MimePart, PartKind};

/// `raw`, with the parts that hold NUL bytes base64-encoded.
pub fn nul_free(raw: Bytes) -> Bytes {
    if !raw.contains(&0) {
        return raw;
    }
    let summary = MessageSummary::parse(&raw);
    let mut parts = Vec::new();
    holding_nul(&summary.body, &raw, &mut parts);
    let mut out = Vec::with_capacity(raw.len() / 3 * 4 + 1024);
    let mut copied = 0;
    for part in parts {
        let (header, body, end) = (
            part.header_start as usize,
            part.body_start as usize,
            part.body_end as usize,
        );
        // A part without a header of its own has nowhere to say its new encoding.
        if header < copied || header >= body || end > raw.len() {
            continue;
        }
        // The message's own last line break stays outside the encoded text, as in
        // Dovecot: what BINARY gives back is the part's bytes before it.
        let end = match &raw[body..end] {
            [.., b'\r', b'\n'] if end == raw.len() => end - 2,
            [.., b'\n'] if end == raw.len() => end - 1,
            _ => end,
        };
        out.extend_from_slice(&raw[copied..header]);
        header_saying_base64(&raw[header..body], &mut out);
        let mut wire = Vec::with_capacity(end - body + 64);
        WireEncoder::new(false).push(&raw[body..end], &mut wire);
        encode_base64_lines(&wire, &mut out);
        copied = end;
    }
    out.extend_from_slice(&raw[copied..]);
    Bytes::from(out)
}

/// The leaf parts under `part` whose bodies hold a NUL byte, in message order.
fn holding_nul<'a>(part: &'a MimePart, raw: &[u8], out: &mut Vec<&'a MimePart>) {
    match &part.kind {
        PartKind::Multipart(children) => {
            for child in children {
                holding_nul(child, raw, out);
            }
        }
        PartKind::Message(_, inner) => holding_nul(inner, raw, out),
        PartKind::Single => {
            let body = raw.get(part.body_start as usize..part.body_end as usize);
            if body.is_some_and(|b| b.contains(&0)) {
                out.push(part);
            }
        }
    }
}

/// `header` (ending with its blank line) without its Content-Transfer-Encoding field
/// and with `Content-Transfer-Encoding: base64` as its last field.
fn header_saying_base64(header: &[u8], out: &mut Vec<u8>) {
    let mut dropping = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !matches!(line[0], b' ' | b'\t') {
            let name = line.split(|&b| b == b':').next().unwrap_or_default();
            dropping = name
                .trim_ascii()
                .eq_ignore_ascii_case(b"Content-Transfer-Encoding");
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_with_nul_bytes_are_stored_base64() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nplain\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\0-\xe4\n\r\n--b--\r\n";
        let stored = nul_free(Bytes::from_static(raw));
        assert!(!stored.contains(&0));
        let text = String::from_utf8_lossy(&stored);
        assert!(
            text.contains("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAC3kDQo=\r\n--b--"),
            "{text}"
        );
        assert!(!text.contains("binary"));
        assert!(text
            .starts_with("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nplain\r\n"));
        // The message's last line break stays as it is.
        let single = nul_free(Bytes::from_static(
            b"Content-Transfer-Encoding: binary\r\n\r\n\0\n\n",
        ));
        assert_eq!(
            &single[..],
            b"Content-Transfer-Encoding: base64\r\n\r\nAA0K\n"
        );
        let plain = Bytes::from_static(b"Subject: x\r\n\r\nno nul\r\n");
        assert_eq!(nul_free(plain.clone()), plain);
    }
}
