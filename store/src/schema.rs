//! The on-disk format: how keys are built and how values are encoded.
//!
//! Every key starts with a one-byte keyspace tag; numbers in keys are big-endian so that
//! scans come out in numeric order (messages of a mailbox by UID). Every value is a
//! format-version byte followed by a postcard encoding of one of the records below; a
//! record changes only together with a new version and a migration.
//!
//! | tag | key after the tag | value |
//! | --- | --- | --- |
//! | `C` | counter name | `u64` |
//! | `A` | user name | [`AccountRecord`], version [`ACCOUNT_VERSION`] (version 1, without the admin flag, reads as not an administrator) |
//! | `M` | mailbox id (u64) | [`MailboxRecord`] |
//! | `N` | owner, 0, mailbox name | mailbox id (u64) |
//! | `S` | owner, 0, mailbox name | subscription (empty) |
//! | `G` | grantee, 0, mailbox id (u64) | [`Rights`] granted to someone other than the owner |
//! | `U` | mailbox id (u64), UID (u32) | [`MessageRecord`] |
//! | `B` | blob id (u64) | [`BlobRecord`] |
//! | `P` | blob id (u64) | [`MessageSummary`] behind its length, compressed when large, version [`SUMMARY_VERSION`] |
//! | `D` | blob id (u64), chunk number (u32) | compressed body chunk (inline bodies) |
//! | `O` | scope, 0, setting name | `u64`: a setting persisted by `settings set` |
//! | `R` | mailbox id (u64), user name | [`crate::seen::UidSet`]: what a sharer has seen |
//! | `W` | mailbox id (u64) | `u32`: the first UID no session has claimed as \Recent |
//! | `V` | mailbox id (u64), modseq (u64), UID (u32) | `()`: the UID was expunged at that modseq |
//! | `X` | mailbox id (u64) | the bookkeeping of the mailbox's `V` entries (`crate::vanished`) |
//! | `Q` | user name | [`QuotaRecord`]: the account's usage and its own limits (`crate::quota`) |
//! | `H` | mailbox id (u64), 0, SHA-256 of the bytes (32), internal date (i64 seconds), UID (u32) | empty: the duplicate index (`crate::duplicates`) |
//! | `H` | mailbox id (u64), 1, UID (u32) | the 32-byte SHA-256 of the message's bytes, to find its row above |
//! | `K` | blob id (u64) | [`crate::sortkey::SortKeys`]: what SORT and THREAD compare, made with the summary |
//!
//! Migrations at open: summaries of an earlier MIME parse are made again (`crate::reparse`,
//! counter `summary-version`); a store without the counter `quota-usage` (written before
//! quotas) gets every account's `Q` usage counted once from its mailboxes' records; messages
//! stored before the duplicate index get their `H` rows once (`crate::duplicates`), and bodies
//! stored before sort keys their `K` record (`crate::sortkey`, counter `sort-keys-version`).

use crate::mime::MessageSummary;
use crate::types::{
    BlobId, Flags, InternalDate, MailboxId, MailboxName, Rights, SpecialUse, Username,
};
use crate::StoreError;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::borrow::Cow;

/// The value format written by this build.
pub const FORMAT_VERSION: u8 = 1;

pub mod key {
    //! Key builders, one per keyspace.
    use super::*;

    pub const COUNTER: u8 = b'C';
    pub const ACCOUNT: u8 = b'A';
    pub const MAILBOX: u8 = b'M';
    pub const MAILBOX_NAME: u8 = b'N';
    pub const SUBSCRIPTION: u8 = b'S';
    pub const GRANT: u8 = b'G';
    pub const MESSAGE: u8 = b'U';
    pub const BLOB: u8 = b'B';
    pub const SUMMARY: u8 = b'P';
    pub const CHUNK: u8 = b'D';
    pub const SETTING: u8 = b'O';
    pub const SEEN: u8 = b'R';
    pub const RECENT: u8 = b'W';
    pub const VANISHED: u8 = b'V';
    pub const EXPUNGE_LOG: u8 = b'X';
    pub const QUOTA: u8 = b'Q';
    pub const DUPLICATE: u8 = b'H';
    pub const SORT_KEYS: u8 = b'K';

    fn with(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
        k.push(tag);
        for p in parts {
            k.extend_from_slice(p);
        }
        k
    }

    pub fn counter(name: &str) -> Vec<u8> {
        with(COUNTER, &[name.as_bytes()])
    }
    pub fn account(user: &Username) -> Vec<u8> {
        with(ACCOUNT, &[user.as_str().as_bytes()])
    }
    pub fn accounts() -> Vec<u8> {
        vec![ACCOUNT]
    }
    pub fn quota(user: &Username) -> Vec<u8> {
        with(QUOTA, &[user.as_str().as_bytes()])
    }
    pub fn mailbox(id: MailboxId) -> Vec<u8> {
        with(MAILBOX, &[&id.0.to_be_bytes()])
    }
    /// All of `owner`'s mailbox names (with `name == None`) or one of them.
    pub fn mailbox_name(owner: &Username, name: Option<&MailboxName>) -> Vec<u8> {
        let name = name.map_or(&[][..], |n| n.as_str().as_bytes());
        with(MAILBOX_NAME, &[owner.as_str().as_bytes(), &[0], name])
    }
    pub fn subscription(owner: &Username, name: Option<&MailboxName>) -> Vec<u8> {
        let name = name.map_or(&[][..], |n| n.as_str().as_bytes());
        with(SUBSCRIPTION, &[owner.as_str().as_bytes(), &[0], name])
    }
    pub fn grant(grantee: &str, mailbox: Option<MailboxId>) -> Vec<u8> {
        let id = mailbox.map(|m| m.0.to_be_bytes());
        let id = id.as_ref().map_or(&[][..], |b| &b[..]);
        with(GRANT, &[grantee.as_bytes(), &[0], id])
    }
    pub fn message(mailbox: MailboxId, uid: u32) -> Vec<u8> {
        with(MESSAGE, &[&mailbox.0.to_be_bytes(), &uid.to_be_bytes()])
    }
    pub fn messages(mailbox: MailboxId) -> Vec<u8> {
        with(MESSAGE, &[&mailbox.0.to_be_bytes()])
    }
    pub fn blob(id: BlobId) -> Vec<u8> {
        with(BLOB, &[&id.0.to_be_bytes()])
    }
    pub fn summary(id: BlobId) -> Vec<u8> {
        with(SUMMARY, &[&id.0.to_be_bytes()])
    }
    pub fn sort_keys(id: BlobId) -> Vec<u8> {
        with(SORT_KEYS, &[&id.0.to_be_bytes()])
    }
    pub fn chunk(id: BlobId, n: u32) -> Vec<u8> {
        with(CHUNK, &[&id.0.to_be_bytes(), &n.to_be_bytes()])
    }
    /// All users' seen sets of `mailbox` (with `user == None`) or one of them.
    pub fn seen(mailbox: MailboxId, user: Option<&Username>) -> Vec<u8> {
        let user = user.map_or(&[][..], |u| u.as_str().as_bytes());
        with(SEEN, &[&mailbox.0.to_be_bytes(), user])
    }
    pub fn recent(mailbox: MailboxId) -> Vec<u8> {
        with(RECENT, &[&mailbox.0.to_be_bytes()])
    }
    pub fn vanished(mailbox: MailboxId, modseq: u64, uid: u32) -> Vec<u8> {
        with(
            VANISHED,
            &[
                &mailbox.0.to_be_bytes(),
                &modseq.to_be_bytes(),
                &uid.to_be_bytes(),
            ],
        )
    }
    /// Every `V` entry of `mailbox`.
    pub fn vanished_of(mailbox: MailboxId) -> Vec<u8> {
        with(VANISHED, &[&mailbox.0.to_be_bytes()])
    }
    pub fn expunge_log(mailbox: MailboxId) -> Vec<u8> {
        with(EXPUNGE_LOG, &[&mailbox.0.to_be_bytes()])
    }
    /// The modseq in a `V` key.
    pub fn modseq_of_vanished(vanished_key: &[u8]) -> Option<u64> {
        let bytes: [u8; 8] = vanished_key.get(9..17)?.try_into().ok()?;
        Some(u64::from_be_bytes(bytes))
    }
    /// The UID at the end of a `V` key.
    pub fn uid_of_vanished(vanished_key: &[u8]) -> Option<u32> {
        let bytes: [u8; 4] = vanished_key.get(17..21)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }
    /// The duplicate-index row of `uid` (with `uid == None`, every message of `mailbox`
    /// with these bytes and internal date).
    pub fn duplicate(
        mailbox: MailboxId,
        digest: &[u8; 32],
        unix_seconds: i64,
        uid: Option<u32>,
    ) -> Vec<u8> {
        let uid = uid.map(u32::to_be_bytes);
        let uid = uid.as_ref().map_or(&[][..], |b| &b[..]);
        with(
            DUPLICATE,
            &[
                &mailbox.0.to_be_bytes(),
                &[0],
                digest,
                &unix_seconds.to_be_bytes(),
                uid,
            ],
        )
    }
    /// Where the digest of message `uid` is kept.
    pub fn digest_of(mailbox: MailboxId, uid: u32) -> Vec<u8> {
        with(
            DUPLICATE,
            &[&mailbox.0.to_be_bytes(), &[1], &uid.to_be_bytes()],
        )
    }
    /// Every `H` row of `mailbox`.
    pub fn duplicates_of(mailbox: MailboxId) -> Vec<u8> {
        with(DUPLICATE, &[&mailbox.0.to_be_bytes()])
    }
    /// The UID at the end of a duplicate-index row.
    pub fn uid_of_duplicate(duplicate_key: &[u8]) -> Option<u32> {
        let bytes: [u8; 4] = duplicate_key.get(50..54)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }
    /// All settings of `scope` (with `name == None`) or one of them.
    pub fn setting(scope: &str, name: Option<&str>) -> Vec<u8> {
        let name = name.unwrap_or_default();
        with(SETTING, &[scope.as_bytes(), &[0], name.as_bytes()])
    }

    /// The UID at the end of a message key.
    pub fn uid_of(message_key: &[u8]) -> Option<u32> {
        let tail: [u8; 4] = message_key.get(9..13)?.try_into().ok()?;
        Some(u32::from_be_bytes(tail))
    }
    /// The mailbox id at the end of a grant key.
    pub fn mailbox_of_grant(grant_key: &[u8]) -> Option<MailboxId> {
        let tail: [u8; 8] = grant_key
            .get(grant_key.len().checked_sub(8)?..)?
            .try_into()
            .ok()?;
        Some(MailboxId(u64::from_be_bytes(tail)))
    }
}

/// An account: the argon2 hash of its password (PHC string format) and whether it
/// administers the server (the web console).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountRecord {
    pub password_hash: String,
    pub created: i64,
    pub admin: bool,
}

/// The version byte of an account record: 2 since accounts carry the admin flag.
/// Version 1 ([`FORMAT_VERSION`]) records are read as accounts without it and written
/// as version 2 at their next change.
pub const ACCOUNT_VERSION: u8 = 2;

/// An account record as version 1 wrote it.
#[derive(Deserialize)]
struct AccountRecordV1 {
    password_hash: String,
    created: i64,
}

impl AccountRecord {
    /// The record with [`ACCOUNT_VERSION`] in front.
    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        let mut out = vec![ACCOUNT_VERSION];
        out.extend(postcard::to_stdvec(self).map_err(|e| StoreError::Encode(e.to_string()))?);
        Ok(out)
    }

    /// A record of either version; `key` names it in errors.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<AccountRecord, StoreError> {
        match bytes.split_first() {
            Some((&ACCOUNT_VERSION, body)) => {
                postcard::from_bytes(body).map_err(|e| StoreError::corrupt(key, e))
            }
            Some((&FORMAT_VERSION, _)) => {
                let v1: AccountRecordV1 = decode(key, bytes)?;
                Ok(AccountRecord {
                    password_hash: v1.password_hash,
                    created: v1.created,
                    admin: false,
                })
            }
            Some((version, _)) => Err(StoreError::corrupt(
                key,
                format!("account version {version} is not supported by this build"),
            )),
            None => Err(StoreError::corrupt(key, "empty value")),
        }
    }
}

/// An account's quota: its usage, kept with every change, and the limits set for it alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QuotaRecord {
    pub usage: crate::quota::Usage,
    pub overrides: crate::quota::QuotaOverride,
}

/// A mailbox and the counters that make STATUS and SELECT O(1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailboxRecord {
    pub owner: Username,
    pub name: MailboxName,
    pub uid_validity: u32,
    pub uid_next: u32,
    pub highest_modseq: u64,
    /// Messages in the mailbox.
    pub messages: u32,
    /// Messages without \Seen.
    pub unseen: u32,
    /// Sum of the messages' sizes in wire form (STATUS SIZE).
    pub bytes: u64,
    pub special_use: Option<SpecialUse>,
    /// Keywords used in this mailbox (the FLAGS response), bounded by `MAX_KEYWORDS`.
    pub keywords: Vec<String>,
    /// Rights granted to identifiers other than the owner (RFC 4314).
    pub acl: Vec<(String, Rights)>,
}

/// One message in one mailbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub blob: BlobId,
    pub flags: Flags,
    pub internal_date: InternalDate,
    pub size: u32,
    /// The size in wire form (CRLF line endings), see [`crate::wire_size`].
    pub wire_size: u32,
    pub modseq: u64,
}

/// A stored message body, shared by every copy of the message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlobRecord {
    /// How many message records point here; the body is removed at zero.
    pub references: u32,
    pub size: u32,
    /// Uncompressed bytes per chunk (the last one may be shorter).
    pub chunk_size: u32,
    pub storage: BodyStorage,
}

/// Where a body's compressed chunks are.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum BodyStorage {
    /// Under `D` keys, one value per chunk (small bodies).
    Inline,
    /// Back to back in one engine object; chunk `n` ends at `chunk_ends[n]`.
    Object { id: u64, chunk_ends: Vec<u64> },
}

impl BlobRecord {
    pub fn chunks(&self) -> u32 {
        self.size.div_ceil(self.chunk_size.max(1))
    }
}

/// Encodes a record with the format version in front.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_VERSION];
    out.extend(postcard::to_stdvec(value).map_err(|e| StoreError::Encode(e.to_string()))?);
    Ok(out)
}

/// Decodes a record written by [`encode`]; `key` names it in errors.
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::corrupt(key, e))
        }
        Some((version, _)) => Err(StoreError::corrupt(
            key,
            format!("format version {version} is not supported by this build"),
        )),
        None => Err(StoreError::corrupt(key, "empty value")),
    }
}

/// The version byte of a summary: the MIME parse that made it. A summary from an
/// earlier parse is made again from its body when the store opens (`crate::reparse`),
/// since the parse decides the part offsets and header values FETCH and SEARCH serve.
/// Version 1 ([`FORMAT_VERSION`]) kept the line break after a nested close delimiter
/// out of its part, ended an enclosed multipart at its close delimiter, gave an empty
/// part's header the boundary's line break, read a boundary right after a part's
/// header as header, left out Content-MD5 and kept message ids without their angle
/// brackets.
pub const SUMMARY_VERSION: u8 = 2;

/// Summaries up to this size are stored as they are: SEARCH and FETCH read a summary
/// per message, and decompressing one this small costs more (zstd builds its tables
/// for every value) than the bytes it saves.
const RAW_SUMMARY_MAX: usize = 4096;
/// Set in the length prefix of a summary stored as it is.
const RAW_SUMMARY: u32 = 1 << 31;

/// Encodes a summary behind its length as a big-endian u32: a large one compressed
/// (summaries repeat header text and shrink well), a small one as it is, with
/// [`RAW_SUMMARY`] set in the length.
pub fn encode_summary(summary: &MessageSummary) -> Result<Vec<u8>, StoreError> {
    let mut plain = vec![SUMMARY_VERSION];
    plain.extend(postcard::to_stdvec(summary).map_err(|e| StoreError::Encode(e.to_string()))?);
    let len = u32::try_from(plain.len())
        .ok()
        .filter(|&len| len < RAW_SUMMARY)
        .ok_or_else(|| StoreError::Encode("summary over 2 GiB".into()))?;
    if plain.len() <= RAW_SUMMARY_MAX {
        let mut out = (len | RAW_SUMMARY).to_be_bytes().to_vec();
        out.extend(plain);
        return Ok(out);
    }
    let mut out = len.to_be_bytes().to_vec();
    out.extend(crate::codec::compress(&plain)?);
    Ok(out)
}

/// The version byte and postcard encoding of a summary written by [`encode_summary`].
fn summary_plain<'a>(key: &[u8], bytes: &'a [u8]) -> Result<Cow<'a, [u8]>, StoreError> {
    let (len, packed) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| StoreError::corrupt(key, "truncated summary"))?;
    let len = u32::from_be_bytes(*len);
    if len & RAW_SUMMARY != 0 {
        return Ok(Cow::Borrowed(packed));
    }
    Ok(Cow::Owned(crate::codec::decompress(packed, len as usize)?))
}

/// Which parse made a stored summary (its version byte).
pub fn summary_version(key: &[u8], bytes: &[u8]) -> Result<u8, StoreError> {
    summary_plain(key, bytes)?
        .first()
        .copied()
        .ok_or_else(|| StoreError::corrupt(key, "empty summary"))
}

pub fn decode_summary(key: &[u8], bytes: &[u8]) -> Result<MessageSummary, StoreError> {
    let plain = summary_plain(key, bytes)?;
    match plain.split_first() {
        Some((&SUMMARY_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::corrupt(key, e))
        }
        Some((version, _)) => Err(StoreError::corrupt(
            key,
            format!("summary version {version} is not this build's; the store parses it again when it opens"),
        )),
        None => Err(StoreError::corrupt(key, "empty summary")),
    }
}
