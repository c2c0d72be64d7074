//! Summaries made by an earlier MIME parse are made again from their bodies when the
//! store opens, and their sort keys with them ([`crate::sortkey`]). A counter records the parse every summary of the store comes from, so
//! an up-to-date store costs one read at open; an older one is brought up to date once,
//! a batch of summaries per transaction (a crash in between only repeats the work).

use crate::mime::MessageSummary;
use crate::schema::{encode_summary, key, summary_version, SUMMARY_VERSION};
use crate::sortkey::encode_keys;
use crate::types::BlobId;
use crate::{Store, StoreError};

/// The counter holding the parse every summary of the store comes from.
const PARSED_BY: &str = "summary-version";
/// Summaries rewritten per transaction.
const BATCH: usize = 256;

impl Store {
    /// Makes every summary of an earlier parse again; returns how many there were.
    pub(crate) fn reparse_old_summaries(&self) -> Result<usize, StoreError> {
        let counter = key::counter(PARSED_BY);
        let parsed_by: Option<u64> = self.read(&counter)?;
        if parsed_by == Some(u64::from(SUMMARY_VERSION)) {
            return Ok(0);
        }
        let mut stale = Vec::new();
        for entry in self.engine().scan_prefix(&[key::SUMMARY]) {
            let (k, v) = entry?;
            if summary_version(&k, &v)? != SUMMARY_VERSION {
                let id: [u8; 8] = k
                    .get(1..9)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| StoreError::corrupt(&k, "summary key without a blob id"))?;
                stale.push(BlobId(u64::from_be_bytes(id)));
            }
        }
        for batch in stale.chunks(BATCH) {
            let fresh = batch
                .iter()
                .map(|&id| {
                    let summary = MessageSummary::parse(&self.read_body(id)?);
                    Ok((id, encode_summary(&summary)?, encode_keys(&summary)?))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.write(|tx| {
                for (id, summary, sort_keys) in fresh {
                    tx.put(key::summary(id), summary);
                    tx.put(key::sort_keys(id), sort_keys);
                }
                Ok(Ok(()))
            })?
            .map_err(|refusal| StoreError::Encode(refusal.to_string()))?;
        }
        self.write(|tx| {
            tx.put_record(counter, &u64::from(SUMMARY_VERSION))?;
            Ok(Ok(()))
        })?
        .map_err(|refusal| StoreError::Encode(refusal.to_string()))?;
        if !stale.is_empty() {
            tracing::info!(
                summaries = stale.len(),
                "parsed messages again with this build's MIME parser"
            );
        }
        Ok(stale.len())
    }
}

#[cfg(test)]
mod tests {
    use crate::schema::{encode, key};
    use crate::types::{Flags, InternalDate, MailboxName, Username};
    use crate::{MessageSummary, NewMessage, Store};

    #[test]
    fn summaries_of_an_earlier_parse_are_made_again_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let raw = b"Message-ID: <id@x>\r\nSubject: s\r\n\r\nbody\r\n";
        let user = Username::parse("alice").unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.add_user(&user, "pw").unwrap().unwrap();
            let inbox = store
                .mailbox(&user, &MailboxName::inbox())
                .unwrap()
                .unwrap();
            let message = NewMessage {
                raw,
                flags: Flags::default(),
                internal_date: InternalDate {
                    unix_seconds: 1_700_000_000,
                    offset_minutes: 0,
                },
            };
            store.append(inbox.id, &[message], &user).unwrap().unwrap();
            let record = store.message(inbox.id, 1).unwrap().unwrap();
            // What the first parse wrote: format version 1, the id without brackets.
            let mut old = store.summary(record.blob).unwrap();
            old.headers[0].value = "id@x".into();
            let mut bytes = (encode(&old).unwrap().len() as u32 | 1 << 31)
                .to_be_bytes()
                .to_vec();
            bytes.extend(encode(&old).unwrap());
            store
                .write(|tx| {
                    tx.put(key::summary(record.blob), bytes);
                    tx.delete(key::counter(super::PARSED_BY));
                    Ok(Ok(()))
                })
                .unwrap()
                .unwrap();
            assert!(store.summary(record.blob).is_err(), "not this build's");
        }
        let store = Store::open(dir.path()).unwrap();
        let inbox = store
            .mailbox(&user, &MailboxName::inbox())
            .unwrap()
            .unwrap();
        let record = store.message(inbox.id, 1).unwrap().unwrap();
        assert_eq!(
            store.summary(record.blob).unwrap(),
            MessageSummary::parse(raw)
        );
        assert_eq!(store.reparse_old_summaries().unwrap(), 0, "once only");
    }
}
