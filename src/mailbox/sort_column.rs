//! What a Mailbox actor keeps for SORT and THREAD while it runs: for every message the
//! first sort found (by UID), its body, internal date and size — read from the message
//! records once — and, each made the first time a sort needs it, the sent dates, one
//! text key (base subject, an address, a display name) or what THREAD links by, from
//! the bodies' sort keys ([`mailhive_store::sortkey`]). Sorts compare numbers only: a
//! text as its rank among the column's distinct texts ([`Ranked`]), a message id as its
//! place among the column's ids ([`Threads`]). A mailbox read by sorts costs 24 bytes a
//! message, plus 8 with DATE, 4 and each distinct text once per text key asked for, and
//! the message ids with THREAD; a mailbox nobody sorts costs nothing.
//!
//! The column never changes once made, so every sort shares it without a lock: a
//! message's keys never change, messages expunged since are never asked for, and those
//! appended since are read from the store by the sort that finds them (the actor makes
//! a new column once many have come or gone, see `SORT_STALE_AFTER`).

use mailhive_store::sortkey::SortKeys;
use mailhive_store::{BlobId, MailboxId, Store, StoreError};
use std::sync::OnceLock;

/// A text key of RFC 5256 and RFC 5957.
#[derive(Debug, Clone, Copy)]
pub enum TextKey {
    Subject,
    From,
    To,
    Cc,
    DisplayFrom,
    DisplayTo,
}

/// What THREAD REFERENCES links a message by (its base subject is the SUBJECT key's),
/// its message ids as positions in [`Threads::ids`].
#[derive(Debug)]
pub struct ThreadKeys {
    /// The subject was a reply or a forward.
    pub reply: bool,
    pub id: Option<u32>,
    pub references: Box<[u32]>,
}

/// What THREAD links the messages of a column by, with the message ids they name, each
/// once, so that threading compares numbers rather than hashing ids.
#[derive(Debug, Default)]
pub struct Threads {
    pub messages: Vec<ThreadKeys>,
    /// Ascending, without repeats.
    pub ids: Vec<Box<str>>,
}

impl Threads {
    /// Where `id` is in [`Threads::ids`].
    pub fn position(&self, id: &str) -> Option<u32> {
        self.ids
            .binary_search_by(|d| (**d).cmp(id))
            .ok()
            .map(|i| i as u32)
    }
}

#[derive(Debug, Default)]
pub struct SortColumn {
    /// Ascending.
    pub uids: Vec<u32>,
    blobs: Vec<BlobId>,
    pub arrival: Vec<i64>,
    pub sizes: Vec<u32>,
    /// The sent date, or the internal date for a message without one (RFC 5256 §2.2).
    sent: OnceLock<Vec<i64>>,
    /// One per [`TextKey`], in its order.
    texts: [OnceLock<Ranked>; 6],
    threads: OnceLock<Threads>,
}

impl SortColumn {
    /// The messages of `mailbox`, or only those of `uids` (ascending) that are there.
    pub fn load(
        store: &Store,
        mailbox: MailboxId,
        uids: Option<&[u32]>,
    ) -> Result<SortColumn, StoreError> {
        let mut column = SortColumn::default();
        let mut add = |message: mailhive_store::MessageInfo| {
            column.uids.push(message.uid);
            column.blobs.push(message.blob);
            column.arrival.push(message.internal_date.unix_seconds);
            column.sizes.push(message.wire_size);
        };
        match uids {
            None => {
                for message in store.messages(mailbox, 1..=u32::MAX) {
                    add(message?);
                }
            }
            Some(uids) => {
                for &uid in uids {
                    if let Some(message) = store.message(mailbox, uid)? {
                        add(message);
                    }
                }
            }
        }
        Ok(column)
    }

    /// Where message `uid` is in the column.
    pub fn position(&self, uid: u32) -> Option<usize> {
        self.uids.binary_search(&uid).ok()
    }

    /// The sent dates (the internal date standing in for a missing one).
    pub fn sent(&self, store: &Store) -> Result<&[i64], StoreError> {
        self.made(&self.sent, store, |(keys, arrival)| {
            keys.sent.unwrap_or(arrival)
        })
    }

    /// The values of a text key (folded for i;ascii-casemap), ranked.
    pub fn text(&self, store: &Store, key: TextKey) -> Result<&Ranked, StoreError> {
        let cell = &self.texts[key as usize];
        if cell.get().is_none() {
            let texts = self.made_once(store, |(keys, _)| match key {
                TextKey::Subject => keys.subject,
                TextKey::From => keys.from,
                TextKey::To => keys.to,
                TextKey::Cc => keys.cc,
                TextKey::DisplayFrom => keys.display_from,
                TextKey::DisplayTo => keys.display_to,
            })?;
            // Two sorts may make it at once; either is the same.
            let _ = cell.set(Ranked::new(texts));
        }
        Ok(cell.get().unwrap_or(&EMPTY))
    }

    /// What THREAD REFERENCES links by.
    pub fn threads(&self, store: &Store) -> Result<&Threads, StoreError> {
        if self.threads.get().is_none() {
            let links = self.made_once(store, |(keys, _)| {
                (keys.reply, keys.message_id, keys.references)
            })?;
            let mut ids: Vec<Box<str>> = links
                .iter()
                .flat_map(|(_, id, references)| id.iter().chain(references))
                .map(|id| id.as_str().into())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let mut threads = Threads {
                messages: Vec::with_capacity(links.len()),
                ids,
            };
            for (reply, id, references) in links {
                let at = |id: &str| threads.position(id).unwrap_or_default();
                let keys = ThreadKeys {
                    reply,
                    id: id.as_deref().map(at),
                    references: references.iter().map(|r| at(r)).collect(),
                };
                threads.messages.push(keys);
            }
            // Two sorts may make it at once; either is the same.
            let _ = self.threads.set(threads);
        }
        Ok(self.threads.get().unwrap_or(&NO_THREADS))
    }

    /// The list in `cell`, made from every message's sort keys (and internal date) the
    /// first time it is asked for.
    fn made<'a, T>(
        &self,
        cell: &'a OnceLock<Vec<T>>,
        store: &Store,
        make: impl Fn((SortKeys, i64)) -> T,
    ) -> Result<&'a [T], StoreError> {
        if cell.get().is_none() {
            // Two sorts may make it at once; either list is the same.
            let _ = cell.set(self.made_once(store, make)?);
        }
        Ok(cell.get().map_or(&[][..], Vec::as_slice))
    }

    /// `make` of every message's sort keys (and internal date).
    fn made_once<T>(
        &self,
        store: &Store,
        make: impl Fn((SortKeys, i64)) -> T,
    ) -> Result<Vec<T>, StoreError> {
        let keys = store.sort_keys_of(&self.blobs)?;
        Ok(keys
            .into_iter()
            .zip(self.arrival.iter().copied())
            .map(make)
            .collect())
    }
}

static NO_THREADS: Threads = Threads {
    messages: Vec::new(),
    ids: Vec::new(),
};

static EMPTY: Ranked = Ranked {
    ranks: Vec::new(),
    distinct: Vec::new(),
};

/// The values of a text key as ranks among the distinct values, so that a sort
/// compares numbers, as it does dates (Dovecot keeps sort ranks in its index alike):
/// message `i` has the text `distinct[ranks[i]]`.
#[derive(Debug, Default)]
pub struct Ranked {
    ranks: Vec<u32>,
    /// Ascending, without repeats.
    distinct: Vec<Box<str>>,
}

impl Ranked {
    fn new(texts: Vec<String>) -> Ranked {
        let mut distinct: Vec<Box<str>> = texts.iter().map(|t| t.as_str().into()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let ranks = texts
            .iter()
            .map(|t| distinct.partition_point(|d| **d < **t) as u32)
            .collect();
        Ranked { ranks, distinct }
    }

    /// Message `i`'s text.
    pub fn text(&self, i: usize) -> &str {
        &self.distinct[self.ranks[i] as usize]
    }

    /// Message `i`'s text as its place among the distinct texts.
    pub fn rank(&self, i: usize) -> u32 {
        self.ranks[i]
    }

    /// The place of `text` among the distinct texts, if it is one of them.
    pub fn position(&self, text: &str) -> Option<u32> {
        let at = self.distinct.binary_search_by(|d| (**d).cmp(text));
        at.ok().map(|i| i as u32)
    }

    /// How many distinct texts there are.
    pub fn distinct(&self) -> usize {
        self.distinct.len()
    }

    /// Message `i`'s text as a number that orders as the text does: odd for the texts
    /// of this column, so that [`Ranked::order_of`] can put any text between them.
    pub fn order(&self, i: usize) -> i64 {
        2 * i64::from(self.ranks[i]) + 1
    }

    /// Where `text` falls among this column's texts, as [`Ranked::order`] numbers them.
    pub fn order_of(&self, text: &str) -> i64 {
        let at = self.distinct.partition_point(|d| **d < *text);
        let equal = self.distinct.get(at).is_some_and(|d| **d == *text);
        2 * at as i64 + i64::from(equal)
    }
}
