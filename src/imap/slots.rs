//! FETCH and SEARCH run holding a slot of the Limiter (MaxConcurrentFetchesPerUser and
//! PerServer, MaxConcurrentSearchesPerUser and PerServer). Without a free slot a command waits in the
//! Limiter's queue up to FetchQueueTimeout / SearchQueueTimeout and is then answered
//! with SPEC §4's text; a client that goes away while waiting leaves the queue and its
//! session ends.

use super::session::{ImapSession, Work};
use crate::config::Setting;
use crate::limiter::{acquire_slot, NoSlot, Permit, SlotKind};
use actix::prelude::*;
use mailhive_store::Username;
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The tagged NO of a command that found no slot in time (SPEC §4).
pub(super) fn busy_text(kind: SlotKind) -> &'static str {
    match kind {
        SlotKind::Fetch => "Too many current FETCHes active",
        SlotKind::Search => "Too many concurrent searches - try again later",
    }
}

impl ImapSession {
    /// Waits for a `kind` slot of the logged-in user, until `cancel` is cancelled.
    pub(super) fn wait_for_slot(
        &self,
        kind: SlotKind,
        user: Username,
        cancel: CancellationToken,
    ) -> impl Future<Output = Result<Permit, NoSlot>> + 'static {
        let limiter = self.context.gate.limiter.clone();
        let timeout = Duration::from_secs(self.setting(match kind {
            SlotKind::Fetch => Setting::FetchQueueTimeout,
            SlotKind::Search => Setting::SearchQueueTimeout,
        }));
        async move { acquire_slot(&limiter, kind, user, timeout, &cancel).await }
    }

    /// Runs `work` holding a `kind` slot of `user`, given back when the work ends.
    pub(super) fn with_slot(
        &mut self,
        kind: SlotKind,
        user: Username,
        tag: String,
        work: impl FnOnce(&mut Self, String) -> Work + 'static,
    ) -> Work {
        Box::pin(
            self.wait_for_slot(kind, user, self.gone.clone())
                .into_actor(self)
                .then(move |slot, act, ctx| match slot {
                    Ok(permit) => Box::pin(work(act, tag).map(move |(), _, _| drop(permit))),
                    Err(NoSlot::Busy) => act.no(&tag, Some("LIMIT"), busy_text(kind)),
                    Err(NoSlot::Gone) => {
                        ctx.stop();
                        Box::pin(actix::fut::ready(())) as Work
                    }
                }),
        )
    }
}
