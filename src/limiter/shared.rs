//! The limits several servers on one PostgreSQL store share (SPEC §10): connections per
//! address, logins per user, FETCH and SEARCH slots per user and failed logins (per
//! address, with its cool-down, and per account) are counted by every process for
//! itself, as before, and leased to the others through the database; a decision adds
//! what the other processes lease to this process's own count. The Limiter stays the one owner of the
//! decisions: every [`EXCHANGE`] the exchange task asks it for its counts, leases them
//! (for `LEASE_SECONDS`, 28 s: a process killed with SIGKILL frees what it held within
//! 30 s of its last renewal) and hands it the others' sums, which it uses until the next.
//! MaxConnections and MaxConcurrentFetchesPerServer stay per process.

use super::failures::{address_key, Foreign, Policy};
use super::slots::{Freed, SlotKind};
use super::{index, Limiter};
use crate::config::Protocol;
use actix::prelude::*;
use mailhive_store::engine::SharedCounts;
use mailhive_store::{Store, Username};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How often a process renews its leases and reads the others'.
pub const EXCHANGE: Duration = Duration::from_secs(1);

/// What the other processes hold, as of the last exchange.
#[derive(Debug, Default)]
pub(super) struct Elsewhere(SharedCounts);

fn address_scope(protocol: Protocol, ip: &IpAddr) -> String {
    format!("{} address {ip}", protocol.key())
}

fn user_scope(protocol: Protocol, user: &Username) -> String {
    format!("{} user {user}", protocol.key())
}

fn slot_scope(kind: SlotKind, user: &Username) -> String {
    let kind = match kind {
        SlotKind::Fetch => "fetch",
        SlotKind::Search => "search",
    };
    format!("{kind} user {user}")
}

/// Failed logins in the window from an address (by its [`address_key`]).
fn failing_address_scope(protocol: Protocol, key: &IpAddr) -> String {
    format!("{} failures address {key}", protocol.key())
}

/// 1 while an address (by its [`address_key`]) cools down.
fn cooled_address_scope(protocol: Protocol, key: &IpAddr) -> String {
    format!("{} cooled address {key}", protocol.key())
}

/// Failed logins in the window as an account.
fn failing_user_scope(protocol: Protocol, user: &Username) -> String {
    format!("{} failures user {user}", protocol.key())
}

impl Elsewhere {
    pub fn connections_from(&self, protocol: Protocol, ip: &IpAddr) -> u64 {
        self.count(&address_scope(protocol, ip))
    }

    pub fn logins_of(&self, protocol: Protocol, user: &Username) -> u64 {
        self.count(&user_scope(protocol, user))
    }

    /// `kind` commands `user` runs on the other servers.
    pub fn slots_of(&self, kind: SlotKind, user: &Username) -> u64 {
        self.count(&slot_scope(kind, user))
    }

    /// The failed logins the other servers count for a login from `ip` as `user`.
    pub fn failures(&self, protocol: Protocol, ip: IpAddr, user: Option<&Username>) -> Foreign {
        if self.0.is_empty() {
            return Foreign::default();
        }
        let key = address_key(ip);
        let number = |scope: String| usize::try_from(self.count(&scope)).unwrap_or(usize::MAX);
        Foreign {
            address_failures: number(failing_address_scope(protocol, &key)),
            address_cooled: self.count(&cooled_address_scope(protocol, &key)) > 0,
            user_failures: user.map_or(0, |u| number(failing_user_scope(protocol, u))),
        }
    }

    fn count(&self, scope: &str) -> u64 {
        self.0.get(scope).copied().unwrap_or(0)
    }
}

/// Asks the Limiter for this process's counts.
#[derive(Debug, Message)]
#[rtype(result = "SharedCounts")]
struct OwnCounts;

/// The other processes' counts, fresh from the database.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct CountedElsewhere(SharedCounts);

impl Handler<OwnCounts> for Limiter {
    type Result = MessageResult<OwnCounts>;

    fn handle(&mut self, _: OwnCounts, _: &mut Context<Self>) -> Self::Result {
        let mut counts = SharedCounts::new();
        let now = std::time::Instant::now();
        for protocol in Protocol::ALL {
            let connections = &self.connections[index(protocol)];
            for (ip, &n) in &connections.per_ip {
                counts.insert(address_scope(protocol, ip), n);
            }
            for (user, &n) in &connections.per_user {
                counts.insert(user_scope(protocol, user), n);
            }
            let policy = Policy::of(&self.settings(protocol));
            let failures = self.failures[index(protocol)].to_share(&policy, now);
            for (key, n, cooling) in failures.addresses {
                counts.insert(failing_address_scope(protocol, &key), n as u64);
                if cooling {
                    counts.insert(cooled_address_scope(protocol, &key), 1);
                }
            }
            for (user, n) in failures.users {
                counts.insert(failing_user_scope(protocol, &user), n as u64);
            }
        }
        for (kind, user, n) in self.slots.running_per_user() {
            counts.insert(slot_scope(kind, user), n);
        }
        MessageResult(counts)
    }
}

impl Handler<CountedElsewhere> for Limiter {
    type Result = ();

    fn handle(&mut self, CountedElsewhere(counts): CountedElsewhere, ctx: &mut Context<Self>) {
        self.elsewhere = Elsewhere(counts);
        // Slots the other servers held may be free now.
        self.serve_queue(Freed::Any, ctx.address());
    }
}

/// Exchanges the Limiter's counts with the other processes' through `store` every
/// [`EXCHANGE`], for as long as the Limiter runs.
pub fn share_through(limiter: Addr<Limiter>, store: Arc<Store>) {
    actix_rt::spawn(async move {
        let mut ticks = actix_rt::time::interval(EXCHANGE);
        loop {
            ticks.tick().await;
            let Ok(own) = limiter.send(OwnCounts).await else {
                return;
            };
            let store = store.clone();
            match crate::mailbox::blocking(move || store.exchange_leases(&own)).await {
                Ok(others) => limiter.do_send(CountedElsewhere(others)),
                Err(e) => tracing::warn!(error = %e, "could not exchange the shared counts"),
            }
        }
    });
}
