//! Quota (RFC 9208): what each account holds and what it may hold.
//!
//! An account's usage is the number of messages in its mailboxes and the sum of their
//! sizes in wire form (RFC822.SIZE, which is what RFC 9208's STORAGE counts), kept as a
//! counter in one `Q` record per account beside the administrator's overrides of the
//! default limits. Every change that adds or removes messages charges the mailbox's
//! owner in its own transaction ([`Tx::charge`]); when the transaction ends its charges
//! are settled ([`settle`]): the counters are written in the same batch as the change,
//! and a charge that raises a resource over its limit refuses the whole transaction
//! with [`Refusal::OverQuota`]. The check runs under the writer lock, so two changes
//! that only fit one at a time cannot both pass it. Nothing is ever counted by a scan,
//! except once, when a store written before quotas existed is opened ([`Store::count_usage_once`]).

use crate::schema::{key, MailboxRecord, QuotaRecord};
use crate::tx::Tx;
use crate::types::Username;
use crate::{Outcome, Refusal, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counter that says the `Q` records hold every account's usage.
const USAGE_COUNTED: &str = "quota-usage";

/// Limits on an account; 0 is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaLimits {
    /// Bytes: the sum of the messages' sizes in wire form.
    pub storage: u64,
    pub messages: u64,
}

/// What an account holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// The sum of the messages' sizes in wire form (RFC822.SIZE).
    pub bytes: u64,
    pub messages: u64,
}

/// An account's own limits, each replacing the default where set (0: unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaOverride {
    pub storage: Option<u64>,
    pub messages: Option<u64>,
}

/// An account's quota as `quota show` and GETQUOTA report it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub usage: Usage,
    /// The limits in force: the overrides where set, else the defaults.
    pub limits: QuotaLimits,
    pub overrides: QuotaOverride,
}

/// The limits of accounts without overrides (the server's `[quota]` section).
#[derive(Debug, Default)]
pub(crate) struct DefaultLimits {
    storage: AtomicU64,
    messages: AtomicU64,
}

impl DefaultLimits {
    fn get(&self) -> QuotaLimits {
        QuotaLimits {
            storage: self.storage.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
        }
    }
}

/// Usage changes a transaction makes, by account.
#[derive(Debug, Default)]
pub(crate) struct Charges(BTreeMap<Username, Delta>);

#[derive(Debug, Default, Clone, Copy)]
struct Delta {
    bytes: i64,
    messages: i64,
}

impl Charges {
    pub fn add(&mut self, owner: &Username, bytes: i64, messages: i64) {
        let delta = self.0.entry(owner.clone()).or_default();
        delta.bytes = delta.bytes.saturating_add(bytes);
        delta.messages = delta.messages.saturating_add(messages);
    }
}

fn apply(value: u64, delta: i64) -> u64 {
    if delta >= 0 {
        value.saturating_add(delta.unsigned_abs())
    } else {
        value.saturating_sub(delta.unsigned_abs())
    }
}

/// Whether a change of `delta` raised a resource to `value`, over `limit` (reaching the
/// limit is allowed; a change that lowers usage, or leaves it, is never refused).
fn raised_over(value: u64, delta: i64, limit: u64) -> bool {
    delta > 0 && limit != 0 && value > limit
}

impl Quota {
    /// Whether no message fits any more: a resource is at its limit (every message adds
    /// one message and at least one byte).
    pub fn is_full(&self) -> bool {
        let at = |used: u64, limit: u64| limit != 0 && used >= limit;
        at(self.usage.bytes, self.limits.storage) || at(self.usage.messages, self.limits.messages)
    }
}

impl QuotaRecord {
    fn limits(&self, defaults: QuotaLimits) -> QuotaLimits {
        QuotaLimits {
            storage: self.overrides.storage.unwrap_or(defaults.storage),
            messages: self.overrides.messages.unwrap_or(defaults.messages),
        }
    }

    fn quota(&self, defaults: QuotaLimits) -> Quota {
        Quota {
            usage: self.usage,
            limits: self.limits(defaults),
            overrides: self.overrides,
        }
    }
}

/// Writes the usage `charges` leave on each account, in the transaction's batch; refuses
/// the transaction when one raises a resource over its limit. An account the
/// transaction removed keeps no record.
pub(crate) fn settle(tx: &mut Tx<'_>, charges: Charges, defaults: QuotaLimits) -> Outcome<()> {
    let charged: Vec<(Username, Delta)> = charges
        .0
        .into_iter()
        .filter(|(_, delta)| delta.bytes != 0 || delta.messages != 0)
        .collect();
    let keys = charged
        .iter()
        .flat_map(|(owner, _)| [key::account(owner), key::quota(owner)]);
    tx.read_ahead(keys.collect())?;
    for (owner, delta) in charged {
        if tx.get(&key::account(&owner))?.is_none() {
            continue;
        }
        let k = key::quota(&owner);
        let mut record: QuotaRecord = tx.record(&k)?.unwrap_or_default();
        record.usage.bytes = apply(record.usage.bytes, delta.bytes);
        record.usage.messages = apply(record.usage.messages, delta.messages);
        let limits = record.limits(defaults);
        if raised_over(record.usage.bytes, delta.bytes, limits.storage)
            || raised_over(record.usage.messages, delta.messages, limits.messages)
        {
            return Ok(Err(Refusal::OverQuota));
        }
        tx.put_record(k, &record)?;
    }
    Ok(Ok(()))
}

impl Store {
    /// Sets the limits of every account without overrides of its own.
    pub fn set_default_quota(&self, limits: QuotaLimits) {
        self.default_limits
            .storage
            .store(limits.storage, Ordering::Relaxed);
        self.default_limits
            .messages
            .store(limits.messages, Ordering::Relaxed);
    }

    pub(crate) fn default_quota(&self) -> QuotaLimits {
        self.default_limits.get()
    }

    /// `user`'s usage and limits.
    pub fn quota(&self, user: &Username) -> Outcome<Quota> {
        if !self.user_exists(user)? {
            return Ok(Err(Refusal::NoSuchUser));
        }
        let record: QuotaRecord = self.read(&key::quota(user))?.unwrap_or_default();
        Ok(Ok(record.quota(self.default_quota())))
    }

    /// Gives `user` the overrides set in `change` (the others stay as they are); with
    /// `reset`, first drops every override, back to the defaults.
    pub fn change_quota(
        &self,
        user: &Username,
        change: QuotaOverride,
        reset: bool,
    ) -> Outcome<Quota> {
        let defaults = self.default_quota();
        self.write(|tx| {
            if tx.get(&key::account(user))?.is_none() {
                return Ok(Err(Refusal::NoSuchUser));
            }
            let k = key::quota(user);
            let mut record: QuotaRecord = tx.record(&k)?.unwrap_or_default();
            if reset {
                record.overrides = QuotaOverride::default();
            }
            record.overrides.storage = change.storage.or(record.overrides.storage);
            record.overrides.messages = change.messages.or(record.overrides.messages);
            tx.put_record(k, &record)?;
            Ok(Ok(record.quota(defaults)))
        })
    }

    /// Counts every account's usage from its mailboxes' counters, once: a store written
    /// before quotas existed has no `Q` records. Returns whether it counted.
    pub(crate) fn count_usage_once(&self) -> Result<bool, StoreError> {
        let counted = key::counter(USAGE_COUNTED);
        if self.read::<u64>(&counted)?.is_some() {
            return Ok(false);
        }
        let mut usage: BTreeMap<Username, Usage> = BTreeMap::new();
        for entry in self.engine().scan_prefix(&[key::MAILBOX]) {
            let (k, v) = entry?;
            let mailbox: MailboxRecord = crate::schema::decode(&k, &v)?;
            let account = usage.entry(mailbox.owner).or_default();
            account.bytes = account.bytes.saturating_add(mailbox.bytes);
            account.messages = account.messages.saturating_add(u64::from(mailbox.messages));
        }
        let users = self.users()?;
        self.write(|tx| {
            for user in &users {
                let k = key::quota(user);
                let mut record: QuotaRecord = tx.record(&k)?.unwrap_or_default();
                record.usage = usage.get(user).copied().unwrap_or_default();
                tx.put_record(k, &record)?;
            }
            tx.put_record(counted, &1u64)?;
            Ok(Ok(()))
        })?
        .map_err(|refusal| StoreError::Encode(refusal.to_string()))?;
        tracing::info!(accounts = users.len(), "counted each account's quota usage");
        Ok(true)
    }
}

/// Forgets `user`'s quota record (the account is being removed).
pub(crate) fn forget_user(tx: &mut Tx<'_>, user: &Username) {
    tx.delete(key::quota(user));
}
