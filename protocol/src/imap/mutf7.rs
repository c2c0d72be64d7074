//! Modified UTF-7 (RFC 3501 §5.1.3), the encoding of non-ASCII mailbox names on the
//! wire: printable ASCII stands for itself (`&` as `&-`), anything else is UTF-16 in a
//! modified base64 between `&` and `-`.

use base64::alphabet::IMAP_MUTF7;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};
use base64::Engine;

const CODEC: GeneralPurpose = GeneralPurpose::new(&IMAP_MUTF7, NO_PAD);

/// Why a name is not valid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mailbox name is not valid modified UTF-7")]
pub struct InvalidUtf7;

/// How mailbox names are written on the wire: modified UTF-7, or UTF-8 once the client
/// has enabled UTF8=ACCEPT (RFC 6855 §3), when names go as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MailboxEncoding {
    #[default]
    ModifiedUtf7,
    Utf8,
}

/// Why a name a client sent cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error(transparent)]
    Utf7(#[from] InvalidUtf7),
    #[error("mailbox name is not valid UTF-8")]
    Utf8,
}

impl MailboxEncoding {
    /// The name a client wrote.
    pub fn decode(self, raw: &[u8]) -> Result<String, InvalidName> {
        match self {
            MailboxEncoding::ModifiedUtf7 => Ok(decode(raw)?),
            MailboxEncoding::Utf8 => String::from_utf8(raw.to_vec()).map_err(|_| InvalidName::Utf8),
        }
    }

    /// `name` as it goes on the wire.
    pub fn encode(self, name: &str) -> std::borrow::Cow<'_, str> {
        match self {
            MailboxEncoding::ModifiedUtf7 => encode(name).into(),
            MailboxEncoding::Utf8 => name.into(),
        }
    }
}

/// Encodes a UTF-8 name for the wire.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&CODEC.encode(bytes));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decodes a name from the wire, refusing anything a correct encoder would not write.
pub fn decode(wire: &[u8]) -> Result<String, InvalidUtf7> {
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if !(0x20..=0x7e).contains(&b) {
            return Err(InvalidUtf7);
        }
        if b != b'&' {
            out.push(b as char);
            continue;
        }
        let end = rest.iter().position(|&c| c == b'-').ok_or(InvalidUtf7)?;
        let (encoded, after) = (&rest[..end], &rest[end + 1..]);
        rest = after;
        if encoded.is_empty() {
            out.push('&');
            continue;
        }
        let bytes = CODEC.decode(encoded).map_err(|_| InvalidUtf7)?;
        if bytes.len() % 2 != 0 {
            return Err(InvalidUtf7);
        }
        let units = bytes
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]));
        for c in char::decode_utf16(units) {
            let c = c.map_err(|_| InvalidUtf7)?;
            // Printable ASCII must not be encoded.
            if (' '..='~').contains(&c) {
                return Err(InvalidUtf7);
            }
            out.push(c);
        }
        // Two encoded runs back to back should have been one.
        if rest.first() == Some(&b'&') && rest.get(1) != Some(&b'-') {
            return Err(InvalidUtf7);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc_examples() {
        let cases = [
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("Tom & Jerry", "Tom &- Jerry"),
            ("INBOX", "INBOX"),
            ("😀", "&2D3eAA-"),
        ];
        for (utf8, wire) in cases {
            assert_eq!(encode(utf8), wire);
            assert_eq!(decode(wire.as_bytes()).as_deref(), Ok(utf8));
        }
    }

    #[test]
    fn refuses_invalid_forms() {
        for bad in [
            &b"&Jjo"[..],
            b"&AGE-",
            b"&U,BTFw-&ZeVnLIqe-",
            b"caf\xc3\xa9",
            b"&2D0-",
            b"&AP-",
        ] {
            assert_eq!(decode(bad), Err(InvalidUtf7), "{}", bad.escape_ascii());
        }
    }
}
