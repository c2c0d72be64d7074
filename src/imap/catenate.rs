//! CATENATE's URL parts (RFC 4469 §5): the bytes of a message, or of one of its
//! sections, that the user may read, taken as FETCH BODY.PEEK[section]<partial> would
//! give them (wire form, \Seen untouched). A URL that does not parse, names another
//! user, a mailbox the user may not read (answered as one that does not exist), another
//! UIDVALIDITY, a message or section that is not there, is refused: `[BADURL]`. A
//! section larger than what the APPEND may still take is not read at all.

use super::fetch::{section_bytes, wire};
use super::namespace::{self, Found};
use super::section::{locate, Located};
use mailhive_protocol::imap::url;
use mailhive_store::{MessageInfo, Store, StoreError, Username};

/// What a URL part gives.
#[derive(Debug)]
pub enum Resolved {
    Bytes(Vec<u8>),
    /// Refused: `[BADURL]`.
    Refused,
    /// More than `room` bytes.
    TooBig,
}

/// The bytes `text` names for `user`, if they are at most `room` bytes.
pub fn resolve(
    store: &Store,
    user: &Username,
    text: &str,
    room: u64,
) -> Result<Resolved, StoreError> {
    Ok(match locate_url(store, user, text)? {
        None => Resolved::Refused,
        Some(target) if target.at_least() > room => Resolved::TooBig,
        Some(target) => {
            let bytes = section_bytes(
                store,
                &target.record,
                target.located,
                wire(),
                target.partial,
            )?;
            match bytes.len() as u64 > room {
                true => Resolved::TooBig,
                false => Resolved::Bytes(bytes),
            }
        }
    })
}

/// The message, section and partial range (offset, length) a URL names.
struct Target {
    record: MessageInfo,
    located: Located,
    partial: Option<(u32, u32)>,
}

impl Target {
    /// Bytes the URL gives at least: the wire form is at least as long as the stored
    /// bytes, unless HEADER.FIELDS leaves fields out.
    fn at_least(&self) -> u64 {
        if self.located.fields.is_some() {
            return 0;
        }
        let stored = u64::from(
            self.located
                .range
                .end
                .saturating_sub(self.located.range.start),
        );
        match self.partial {
            None => stored,
            Some((offset, length)) => stored.saturating_sub(offset.into()).min(length.into()),
        }
    }
}

/// What a URL names, if the user may read it.
fn locate_url(store: &Store, user: &Username, text: &str) -> Result<Option<Target>, StoreError> {
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
    Ok(Some(Target {
        record,
        located,
        partial,
    }))
}
