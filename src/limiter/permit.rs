//! Permits: what the Limiter granted, as owned values. Dropping a permit gives the grant
//! back, whatever way its holder ends — a finished command, a closed connection, a
//! time-out, a panic that unwinds through a session — so the Limiter's counters can
//! neither leak nor go negative.

use super::{Limiter, SlotKind};
use crate::config::Protocol;
use actix::prelude::*;
use mailhive_store::Username;
use std::net::IpAddr;

/// What a permit holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// An open connection from `ip` (MaxConnections, MaxConnectionsFromSingleIP).
    Connection { protocol: Protocol, ip: IpAddr },
    /// A logged-in session of `user` (MaxConnectionsPerUser).
    Login { protocol: Protocol, user: Username },
    /// A running FETCH or SEARCH of `user`.
    Slot { kind: SlotKind, user: Username },
    /// An open LMTP connection (`[lmtp] max_connections`).
    LmtpConnection,
}

/// Gives a grant back (sent by a dropped [`Permit`]).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Release(pub Grant);

/// A grant of the Limiter, given back when dropped.
#[derive(Debug)]
#[must_use = "dropping a permit gives its grant back at once"]
pub struct Permit {
    limiter: Addr<Limiter>,
    /// `None` once given back by other means ([`Permit::into_grant`]).
    grant: Option<Grant>,
}

impl Permit {
    pub(super) fn new(limiter: Addr<Limiter>, grant: Grant) -> Permit {
        Permit {
            limiter,
            grant: Some(grant),
        }
    }

    /// The grant, without giving it back: the caller takes over its release.
    pub(super) fn into_grant(mut self) -> Option<Grant> {
        self.grant.take()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(grant) = self.grant.take() {
            // A small fire-and-forget message: it is queued even when the Limiter's
            // mailbox is full, and ignored only when the Limiter itself has stopped.
            self.limiter.do_send(Release(grant));
        }
    }
}
