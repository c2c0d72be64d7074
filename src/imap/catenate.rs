//! CATENATE's URL parts (RFC 4469 §5): the bytes of a message, or of one of its
//! sections, that the user may read, taken as FETCH BODY.PEEK[section]<partial> would
//! give them (wire form, \Seen untouched). A URL that does not parse, names another
//! user, a mailbox the user may not read (answered as one that does not exist), another
//! UIDVALIDITY, a message or section that is not there, is refused: `[BADURL]`.

use super::fetch::section_bytes;
use super::namespace::{self, Found};
use super::section::{locate, Located};
use mailhive_protocol::imap::url;
use mailhive_store::{Store, StoreError, Username};

/// The bytes `text` names for `user`, or `None` for a URL that is refused.
pub fn resolve(store: &Store, user: &Username, text: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let Ok(named) = url::parse(text) else {
        return Ok(None);
    };
    if named
        .user
        .as_deref()
        .is_some_and(|u| !u.eq_ignore_ascii_case(user.as_str()))
    {
        return Ok(None);
    }
    let Ok(name) = namespace::parse(&named.mailbox, user) else {
        return Ok(None);
    };
    let mailbox = match namespace::find(store, user, name)? {
        Found::Mailbox(m) if m.rights.contains('r') => m,
        _ => return Ok(None),
    };
    if named
        .uid_validity
        .is_some_and(|v| v != mailbox.info.uid_validity)
    {
        return Ok(None);
    }
    let Some(record) = store.message(mailbox.info.id, named.uid)? else {
        return Ok(None);
    };
    let located = match &named.section {
        None => Located {
            range: 0..record.size,
            fields: None,
        },
        Some(section) => match locate(&store.summary(record.blob)?, section, record.size) {
            Some(located) => located,
            None => return Ok(None),
        },
    };
    let partial = named
        .partial
        .map(|(offset, length)| (offset, length.unwrap_or(u32::MAX)));
    Ok(Some(section_bytes(store, &record, located, partial)?))
}
