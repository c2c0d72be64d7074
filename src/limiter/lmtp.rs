//! LMTP connections in the Limiter: one count, bounded by `[lmtp] max_connections`
//! (read from the configuration at each admission), given back by a [`Permit`] like
//! every other grant, and waited for by a shutdown like IMAP's and POP3's.

use super::{Grant, Limiter, Permit};
use actix::prelude::*;

/// Admits an LMTP connection while fewer than `max` are open.
#[derive(Debug, Message)]
#[rtype(result = "Option<Permit>")]
pub struct AdmitLmtp {
    pub max: u64,
}

impl Handler<AdmitLmtp> for Limiter {
    type Result = Option<Permit>;

    fn handle(&mut self, admit: AdmitLmtp, ctx: &mut Context<Self>) -> Self::Result {
        if self.lmtp_connections >= admit.max {
            return None;
        }
        self.lmtp_connections += 1;
        Some(Permit::new(ctx.address(), Grant::LmtpConnection))
    }
}

impl Limiter {
    /// Gives back an LMTP connection's place.
    pub(super) fn release_lmtp(&mut self) {
        self.lmtp_connections = self.lmtp_connections.saturating_sub(1);
        self.tell_if_drained();
    }
}

/// Admits an LMTP connection; a Limiter that does not answer admits nobody.
pub async fn admit_lmtp(limiter: &Addr<Limiter>, max: u64) -> Option<Permit> {
    match limiter.send(AdmitLmtp { max }).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "the limiter does not answer");
            None
        }
    }
}
