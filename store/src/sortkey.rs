//! The sort keys of a stored body: what SORT (RFC 5256, RFC 5957) and THREAD compare —
//! the sent date, the base subject, the first addresses, the display names, the message
//! ids — made from its summary once, when the body is stored, and kept beside it under
//! `K` (in the transaction that stores the summary), so that a sort reads one small
//! record per message and never a summary or a body. Text keys are folded for
//! i;ascii-casemap (ASCII letters upper-cased) when they are made.
//!
//! Stores from before the keys existed, and keys made by an earlier derivation
//! ([`SORT_KEYS_VERSION`]), are brought up to date when the store opens, once (a counter
//! remembers), as [`crate::reparse`] does for summaries: a whole pass over the summaries
//! costs less than sorting a large mailbox twice from them. A body whose keys are
//! missing all the same has them made from its summary when asked.

pub mod subject;

use crate::address;
use crate::mime::MessageSummary;
use crate::schema::{decode, encode, key};
use crate::types::BlobId;
use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// The derivation the stored keys come from; keys of another are made again at open.
pub const SORT_KEYS_VERSION: u64 = 1;
/// References of one message kept (the last ones), which THREAD links.
pub const MAX_REFERENCES: usize = 20;
/// The counter holding the derivation every `K` record of the store comes from.
const DERIVED_BY: &str = "sort-keys-version";
/// Bodies whose keys are written per transaction when the store catches up.
const BATCH: usize = 1024;

/// What SORT and THREAD compare of one message body (the internal date and size are
/// the message record's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortKeys {
    /// The Date header in seconds since the epoch, when there is one that parses (RFC
    /// 5256 §2.2: else the internal date stands in).
    pub sent: Option<i64>,
    /// The base subject (RFC 5256 §2.1), folded.
    pub subject: String,
    /// Reply or forward markers came off the subject (THREAD REFERENCES merges by it).
    pub reply: bool,
    /// The mailbox (local part) of the first From, To and Cc address (a group's name
    /// for a group), folded.
    pub from: String,
    pub to: String,
    pub cc: String,
    /// RFC 5957: the display name of the first From and To address, else its
    /// `mailbox@domain`, folded.
    pub display_from: String,
    pub display_to: String,
    /// The first id of Message-ID.
    pub message_id: Option<String>,
    /// The last [`MAX_REFERENCES`] ids of References, or the first In-Reply-To id when
    /// there are none.
    pub references: Vec<String>,
}

impl SortKeys {
    /// The keys of the message `summary` describes.
    pub fn of(summary: &MessageSummary) -> SortKeys {
        let envelope = &summary.envelope;
        let first = |field: Option<&str>| field.and_then(|f| address::parse(f).into_iter().next());
        let first_mailbox = |field: &Option<String>| {
            let mailbox = first(field.as_deref()).and_then(|a| a.mailbox);
            mailbox.unwrap_or_default().to_ascii_uppercase()
        };
        let display = |name: &str| {
            let shown = first(summary.header(name)).map_or(String::new(), |a| {
                match (a.name, a.mailbox, a.domain) {
                    (Some(name), _, _) if !name.trim().is_empty() => name,
                    (_, Some(mailbox), Some(domain)) => format!("{mailbox}@{domain}"),
                    (_, mailbox, _) => mailbox.unwrap_or_default(),
                }
            });
            shown.to_ascii_uppercase()
        };
        let (subject, reply) = subject::extract(summary.header("Subject").unwrap_or_default());
        let mut references = summary
            .header("References")
            .map(message_ids)
            .unwrap_or_default();
        if references.is_empty() {
            references = envelope
                .in_reply_to
                .as_deref()
                .map(message_ids)
                .unwrap_or_default();
            references.truncate(1);
        }
        references.drain(..references.len().saturating_sub(MAX_REFERENCES));
        SortKeys {
            sent: envelope
                .date
                .as_deref()
                .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
                .map(|d| d.timestamp()),
            subject: subject.to_ascii_uppercase(),
            reply,
            from: first_mailbox(&envelope.from),
            to: first_mailbox(&envelope.to),
            cc: first_mailbox(&envelope.cc),
            display_from: display("From"),
            display_to: display("To"),
            message_id: envelope
                .message_id
                .as_deref()
                .and_then(|m| message_ids(m).into_iter().next()),
            references,
        }
    }
}

/// The `<…>` message ids in `field`, in order.
pub fn message_ids(field: &str) -> Vec<String> {
    field
        .split('<')
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(id, _)| id.trim()))
        .filter(|id| !id.is_empty())
        .map(|id| format!("<{id}>"))
        .collect()
}

/// The encoded `K` record of a body with this summary.
pub(crate) fn encode_keys(summary: &MessageSummary) -> Result<Vec<u8>, StoreError> {
    encode(&SortKeys::of(summary))
}

impl Store {
    /// The sort keys of a stored body.
    pub fn sort_keys(&self, id: BlobId) -> Result<SortKeys, StoreError> {
        match self.read(&key::sort_keys(id))? {
            Some(keys) => Ok(keys),
            None => Ok(SortKeys::of(&self.summary(id)?)),
        }
    }

    /// The sort keys of each of `ids`, in their order: one scan over the `K` records
    /// they span when they are most of it (the bodies of one mailbox, stored together),
    /// else one read each.
    pub fn sort_keys_of(&self, ids: &[BlobId]) -> Result<Vec<SortKeys>, StoreError> {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&i| ids[i]);
        let (Some(&first), Some(&last)) = (order.first(), order.last()) else {
            return Ok(Vec::new());
        };
        let (first, last) = (ids[first].0, ids[last].0);
        let mut out: Vec<Option<SortKeys>> = vec![None; ids.len()];
        if last - first < 4 * ids.len() as u64 {
            let end = key::sort_keys(BlobId(last.saturating_add(1)));
            let mut wanted = order.iter().peekable();
            for entry in self
                .engine()
                .scan_range(&key::sort_keys(BlobId(first)), &end)
            {
                let (k, v) = entry?;
                let id = k
                    .get(1..9)
                    .and_then(|b| b.try_into().ok())
                    .map(|b| BlobId(u64::from_be_bytes(b)))
                    .ok_or_else(|| StoreError::corrupt(&k, "sort keys without a blob id"))?;
                while wanted.next_if(|&&i| ids[i] < id).is_some() {}
                let mut decoded = None;
                while let Some(&i) = wanted.next_if(|&&i| ids[i] == id) {
                    if decoded.is_none() {
                        decoded = Some(decode::<SortKeys>(&k, &v)?);
                    }
                    out[i] = decoded.clone();
                }
            }
        }
        out.into_iter()
            .zip(ids)
            .map(|(keys, &id)| keys.map_or_else(|| self.sort_keys(id), Ok))
            .collect()
    }

    /// Makes the sort keys of every body whose keys are missing or come from another
    /// derivation; returns how many were made.
    pub(crate) fn derive_missing_sort_keys(&self) -> Result<usize, StoreError> {
        let counter = key::counter(DERIVED_BY);
        if self.read::<u64>(&counter)? == Some(SORT_KEYS_VERSION) {
            return Ok(0);
        }
        let mut blobs = Vec::new();
        for entry in self.engine().scan_prefix(&[key::SUMMARY]) {
            let (k, _) = entry?;
            let id: [u8; 8] = k
                .get(1..9)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| StoreError::corrupt(&k, "summary key without a blob id"))?;
            blobs.push(BlobId(u64::from_be_bytes(id)));
        }
        for batch in blobs.chunks(BATCH) {
            let keys = batch
                .iter()
                .map(|&id| Ok((key::sort_keys(id), encode_keys(&self.summary(id)?)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.write(|tx| {
                for (k, v) in keys {
                    tx.put(k, v);
                }
                Ok(Ok(()))
            })?
            .map_err(|refusal| StoreError::Encode(refusal.to_string()))?;
        }
        self.write(|tx| {
            tx.put_record(counter, &SORT_KEYS_VERSION)?;
            Ok(Ok(()))
        })?
        .map_err(|refusal| StoreError::Encode(refusal.to_string()))?;
        if !blobs.is_empty() {
            tracing::info!(
                bodies = blobs.len(),
                "made the sort keys of stored messages"
            );
        }
        Ok(blobs.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Flags, InternalDate, MailboxName, Username};
    use crate::NewMessage;

    const RAW: &[u8] = b"From: \"Ann Example\" <ann@example.org>\r\n\
        To: bob@example.net, carl@example.net\r\n\
        Subject: Re: [list] =?utf-8?q?caf=C3=A9?= (fwd)\r\n\
        Date: Tue, 1 Dec 2026 10:00:00 +0100\r\n\
        Message-ID: <m2@x>\r\n\
        In-Reply-To: <m1@x>\r\n\r\nbody\r\n";

    #[test]
    fn keys_are_folded_and_derived_as_sort_compares_them() {
        let keys = SortKeys::of(&MessageSummary::parse(RAW));
        assert_eq!(keys.sent, Some(1_796_115_600));
        assert_eq!((keys.subject.as_str(), keys.reply), ("CAFé", true));
        assert_eq!(
            (keys.from.as_str(), keys.to.as_str(), keys.cc.as_str()),
            ("ANN", "BOB", "")
        );
        assert_eq!(keys.display_from, "ANN EXAMPLE");
        assert_eq!(keys.display_to, "BOB@EXAMPLE.NET");
        assert_eq!(keys.message_id.as_deref(), Some("<m2@x>"));
        assert_eq!(keys.references, ["<m1@x>"]);
        let many: String = (0..30).map(|n| format!("<r{n}@x> ")).collect();
        let raw = format!("References: {many}\r\nIn-Reply-To: <other@x>\r\n\r\nbody\r\n");
        let keys = SortKeys::of(&MessageSummary::parse(raw.as_bytes()));
        assert_eq!(keys.references.len(), MAX_REFERENCES);
        assert_eq!(keys.references.last().map(String::as_str), Some("<r29@x>"));
        assert_eq!(keys.sent, None);
    }

    #[test]
    fn keys_are_stored_with_the_body_and_made_again_for_an_older_store() {
        let dir = tempfile::tempdir().unwrap();
        let user = Username::parse("ann").unwrap();
        let blob = {
            let store = Store::open(dir.path()).unwrap();
            store.add_user(&user, "pw").unwrap().unwrap();
            let inbox = store
                .mailbox(&user, &MailboxName::inbox())
                .unwrap()
                .unwrap()
                .id;
            let message = NewMessage {
                raw: RAW,
                flags: Flags::default(),
                internal_date: InternalDate::now(),
            };
            let uid = store.append(inbox, &[message], &user).unwrap().unwrap()[0];
            let blob = store.message(inbox, uid).unwrap().unwrap().blob;
            let stored: Option<SortKeys> = store.read(&key::sort_keys(blob)).unwrap();
            assert_eq!(stored, Some(SortKeys::of(&MessageSummary::parse(RAW))));
            // As a store from before the keys: none, and no counter.
            store
                .write(|tx| {
                    tx.delete(key::sort_keys(blob));
                    tx.delete(key::counter(DERIVED_BY));
                    Ok(Ok(()))
                })
                .unwrap()
                .unwrap();
            assert_eq!(store.sort_keys(blob).unwrap().subject, "CAFé");
            blob
        };
        let store = Store::open(dir.path()).unwrap();
        let stored: Option<SortKeys> = store.read(&key::sort_keys(blob)).unwrap();
        assert_eq!(stored.map(|k| k.from), Some("ANN".into()));
        assert_eq!(store.derive_missing_sort_keys().unwrap(), 0, "once");
    }
}
