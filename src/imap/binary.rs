//! BINARY[section-binary] and BINARY.SIZE (RFC 3516): which bytes a part number names
//! and how they are decoded. A part's body is decoded as its Content-Transfer-Encoding
//! says (base64, quoted-printable; 7bit, 8bit and binary are the bytes as BODY[] gives
//! them); an empty part number is the whole message, and a message/rfc822 or multipart
//! part is its bytes as they are. An encoding mailhive does not know is
//! `NO [UNKNOWN-CTE]` for the whole FETCH.

use super::section::{find_part, locate, Located};
use mailhive_protocol::imap::command::{FetchItem, Section};
use mailhive_protocol::transfer::Decoder;
use mailhive_store::MessageSummary;

/// The part's Content-Transfer-Encoding is not one mailhive can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown Content-Transfer-Encoding")]
pub struct UnknownCte;

/// The bytes `part` names in a message of `size` bytes and their decoder; `None` if
/// the message has no such part.
pub fn target(
    summary: Option<&MessageSummary>,
    part: &[u32],
    size: u32,
) -> Result<Option<(Located, Decoder)>, UnknownCte> {
    let identity = || Decoder::for_encoding(None).ok_or(UnknownCte);
    let Some(summary) = summary.filter(|_| !part.is_empty()) else {
        let whole = Located {
            range: 0..size,
            fields: None,
        };
        return Ok(Some((whole, identity()?)));
    };
    let Some(mime) = find_part(&summary.body, part) else {
        return Ok(None);
    };
    let section = Section {
        part: part.to_vec(),
        text: None,
    };
    let Some(located) = locate(summary, &section, size) else {
        return Ok(None);
    };
    let decoder = Decoder::for_encoding(mime.encoding.as_deref()).ok_or(UnknownCte)?;
    Ok(Some((located, decoder)))
}

/// Whether every BINARY item of `items` can be answered for this message.
pub fn decodable(items: &[FetchItem], summary: Option<&MessageSummary>, size: u32) -> bool {
    items.iter().all(|item| match item {
        FetchItem::Binary { part, .. } | FetchItem::BinarySize { part } => {
            target(summary, part, size).is_ok()
        }
        _ => true,
    })
}

/// How a part number is written back: `1.2`.
pub fn part_name(part: &[u32]) -> String {
    part.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_parts_and_their_decoders() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n--b--\r\n";
        let summary = MessageSummary::parse(raw);
        let size = raw.len() as u32;
        let (located, decoder) = target(Some(&summary), &[1], size).unwrap().unwrap();
        assert_eq!(
            &raw[located.range.start as usize..located.range.end as usize],
            b"aGk="
        );
        assert!(matches!(decoder, Decoder::Base64(_)));
        assert_eq!(target(Some(&summary), &[2], size).unwrap_err(), UnknownCte);
        assert!(target(Some(&summary), &[3], size).unwrap().is_none());
        let (whole, decoder) = target(Some(&summary), &[], size).unwrap().unwrap();
        assert_eq!(whole.range, 0..size);
        assert!(matches!(decoder, Decoder::Identity(_)));
        let items = [FetchItem::BinarySize { part: vec![2] }];
        assert!(!decodable(&items, Some(&summary), size));
        assert_eq!(part_name(&[2, 1]), "2.1");
    }
}
