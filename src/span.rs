//! Running an actor's futures inside its tracing span, so that every event a session
//! logs — also from the parts of a command that run after an await — carries the
//! session's fields (its number, address and user).

use actix::{Actor, ActorFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use tracing::Span;

/// `inner`, polled inside `span`.
#[derive(Debug)]
pub struct InSpan<F> {
    span: Span,
    inner: F,
}

impl<F> InSpan<F> {
    pub fn new(span: Span, inner: F) -> Self {
        InSpan { span, inner }
    }
}

impl<A: Actor, F: ActorFuture<A> + Unpin> ActorFuture<A> for InSpan<F> {
    type Output = F::Output;

    fn poll(
        self: Pin<&mut Self>,
        actor: &mut A,
        ctx: &mut A::Context,
        task: &mut Context<'_>,
    ) -> Poll<F::Output> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        Pin::new(&mut this.inner).poll(actor, ctx, task)
    }
}
