//! The limits several servers on one PostgreSQL store share (SPEC §10): connections per
//! address and logins per user are counted by every process for itself, as before,
//! and leased to the others through the database; a decision adds what the other
//! processes lease to this process's own count. The Limiter stays the one owner of the
//! decisions: every [`EXCHANGE`] the exchange task asks it for its counts, leases them
//! (for `LEASE_SECONDS`, 28 s: a process killed with SIGKILL frees what it held within
//! 30 s of its last renewal) and hands it the others' sums, which it uses until the next.
//! MaxConnections and MaxConcurrentFetchesPerServer stay per process.

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

impl Elsewhere {
    pub fn connections_from(&self, protocol: Protocol, ip: &IpAddr) -> u64 {
        self.0
            .get(&address_scope(protocol, ip))
            .copied()
            .unwrap_or(0)
    }

    pub fn logins_of(&self, protocol: Protocol, user: &Username) -> u64 {
        self.0
            .get(&user_scope(protocol, user))
            .copied()
            .unwrap_or(0)
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
        for protocol in Protocol::ALL {
            let connections = &self.connections[index(protocol)];
            for (ip, &n) in &connections.per_ip {
                counts.insert(address_scope(protocol, ip), n);
            }
            for (user, &n) in &connections.per_user {
                counts.insert(user_scope(protocol, user), n);
            }
        }
        MessageResult(counts)
    }
}

impl Handler<CountedElsewhere> for Limiter {
    type Result = ();

    fn handle(&mut self, CountedElsewhere(counts): CountedElsewhere, _: &mut Context<Self>) {
        self.elsewhere = Elsewhere(counts);
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
