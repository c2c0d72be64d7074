//! Graceful shutdown, as sessions see it: the [`Shutdown`] message and the
//! [`ShutdownSignal`] that delivers it to every session, also to one that starts after
//! the signal was given (a connection accepted just before the listeners closed).
//!
//! A session handles [`Shutdown`] like any message: only between commands, because a
//! running command holds the actor under `ctx.wait` — so a command finishes first and
//! the session says goodbye after it. The server's side (closing the listeners, waiting
//! for the Limiter's connection count to reach zero under a deadline, flushing the
//! store) is in [`crate::serve`].

use actix::prelude::*;
use tokio_util::sync::CancellationToken;

/// The server is shutting down: say so and close the connection.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Tells every subscribed session, once, that the server is shutting down.
#[derive(Debug, Clone, Default)]
pub struct ShutdownSignal {
    /// Cancelled when the shutdown begins; each subscriber waits on a clone.
    begun: CancellationToken,
}

impl ShutdownSignal {
    /// Gives the signal: every subscriber, present and future, gets [`Shutdown`].
    pub fn trigger(&self) {
        self.begun.cancel();
    }

    /// Delivers [`Shutdown`] to the actor of `ctx` when the signal is given (at once if
    /// it was given already).
    pub fn subscribe<A>(&self, ctx: &mut Context<A>)
    where
        A: Actor<Context = Context<A>> + Handler<Shutdown>,
    {
        let begun = self.begun.clone();
        ctx.add_message_stream(futures_util::stream::once(async move {
            begun.cancelled().await;
            Shutdown
        }));
    }
}
