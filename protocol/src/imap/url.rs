//! IMAP URLs (RFC 5092) naming a message or a part of one, as CATENATE's URL parts
//! carry them (RFC 4469 §5): absolute (`imap://user@host/INBOX;UIDVALIDITY=7/;UID=3`)
//! or relative to the server (`/INBOX/;UID=3/;SECTION=1.2`). Mailbox names and sections are percent-decoded UTF-8. URLAUTH and EXPIRE
//! (RFC 4467) are not taken: such a URL is refused.

use super::command::Section;
use super::parser::parse_section;

/// What a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageUrl {
    /// The user of an absolute URL's authority, if it names one.
    pub user: Option<String>,
    pub mailbox: String,
    pub uid_validity: Option<u32>,
    pub uid: u32,
    pub section: Option<Section>,
    /// `;PARTIAL=offset[.length]`: bytes from offset, to the end without a length.
    pub partial: Option<(u32, Option<u32>)>,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(&'static str);

/// Reads a URL (see the module comment).
pub fn parse(url: &str) -> Result<MessageUrl, UrlError> {
    let (user, path) = match strip_prefix_ignore_case(url, "imap://") {
        Some(rest) => {
            let (authority, path) = rest.split_once('/').ok_or(UrlError("no mailbox"))?;
            let user = match authority.rsplit_once('@') {
                Some((userinfo, _host)) => {
                    let name = userinfo.split(';').next().unwrap_or_default();
                    Some(decode(name)?).filter(|n| !n.is_empty())
                }
                None => None,
            };
            (user, path)
        }
        None => (
            None,
            url.strip_prefix('/').ok_or(UrlError("not an IMAP URL"))?,
        ),
    };
    let (mailbox, parameters) = path.split_once(';').ok_or(UrlError("no UID"))?;
    let mailbox = decode(mailbox.strip_suffix('/').unwrap_or(mailbox))?;
    if mailbox.is_empty() {
        return Err(UrlError("no mailbox"));
    }
    let mut named = MessageUrl {
        user,
        mailbox,
        uid_validity: None,
        uid: 0,
        section: None,
        partial: None,
    };
    for (i, parameter) in parameters.split(';').enumerate() {
        let parameter = parameter.strip_suffix('/').unwrap_or(parameter);
        let (name, value) = parameter
            .split_once('=')
            .ok_or(UrlError("malformed parameter"))?;
        match name.to_ascii_uppercase().as_str() {
            "UIDVALIDITY" if i == 0 => {
                named.uid_validity = Some(nz_number(value)?);
            }
            "UID" if named.uid == 0 => named.uid = nz_number(value)?,
            "SECTION" if named.uid != 0 && named.section.is_none() => {
                let text = decode(value)?;
                named.section =
                    Some(parse_section(&text).map_err(|_| UrlError("invalid section"))?);
            }
            "PARTIAL" if named.uid != 0 && named.partial.is_none() => {
                let (offset, length) = match value.split_once('.') {
                    Some((offset, length)) => (number(offset)?, Some(nz_number(length)?)),
                    None => (number(value)?, None),
                };
                named.partial = Some((offset, length));
            }
            "URLAUTH" | "EXPIRE" => return Err(UrlError("URLAUTH is not supported")),
            _ => return Err(UrlError("malformed parameter")),
        }
    }
    if named.uid == 0 {
        return Err(UrlError("no UID"));
    }
    Ok(named)
}

/// `url` as it may stand in a response code (`[BADURL url]`): every byte that is not
/// printable ASCII, and a space, bracket, quote or backslash, percent-encoded (the
/// escapes already there stay as they are).
pub fn echo(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for &b in url.as_bytes() {
        if b.is_ascii_graphic() && !matches!(b, b']' | b'[' | b'"' | b'\\') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn number(text: &str) -> Result<u32, UrlError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError("invalid number"));
    }
    text.parse().map_err(|_| UrlError("invalid number"))
}

fn nz_number(text: &str) -> Result<u32, UrlError> {
    match number(text)? {
        0 => Err(UrlError("invalid number")),
        n => Ok(n),
    }
}

/// Percent-decoding to UTF-8.
fn decode(text: &str) -> Result<String, UrlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or(UrlError("invalid escape"))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UrlError("invalid escape"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError("not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::command::SectionText;

    #[test]
    fn the_forms_of_rfc5092_that_catenate_takes() {
        let url =
            parse("/Drafts%20old;UIDVALIDITY=385759045/;UID=20/;SECTION=1.HEADER/;PARTIAL=0.100")
                .expect("parsed");
        assert_eq!(url.mailbox, "Drafts old");
        assert_eq!((url.uid_validity, url.uid), (Some(385759045), 20));
        let section = url.section.expect("a section");
        assert_eq!(
            (section.part, section.text),
            (vec![1], Some(SectionText::Header))
        );
        assert_eq!(url.partial, Some((0, Some(100))));
        let url = parse("imap://alice;AUTH=*@mail.example.org/INBOX/;uid=3/;section=text")
            .expect("parsed");
        assert_eq!(url.user.as_deref(), Some("alice"));
        assert_eq!((url.mailbox.as_str(), url.uid), ("INBOX", 3));
        let url = parse("/a/b/;uid=2/;partial=5").expect("parsed");
        assert_eq!(
            (url.mailbox.as_str(), url.partial),
            ("a/b", Some((5, None)))
        );
        for bad in [
            "INBOX/;UID=1",
            "/INBOX",
            "/INBOX/;UID=0",
            "/INBOX/;UID=1/;SECTION=BOGUS",
            "/INBOX/;UID=1/;URLAUTH=anonymous:internal:abc",
            "/INBOX/;SECTION=1/;UID=1",
            "/IN%ZZBOX/;UID=1",
            "/INBOX/;UID=1;UIDVALIDITY=3",
            "/;UID=1",
            ";UID=1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn echoed_urls_cannot_break_out_of_their_response_code() {
        assert_eq!(echo("/INBOX/;UID=1"), "/INBOX/;UID=1");
        assert_eq!(echo("/a] b\r\n\"ü"), "/a%5D%20b%0D%0A%22%C3%BC");
    }
}
