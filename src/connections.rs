//! Every open IMAP and POP3 session as the console's connections page lists it — its
//! protocol, address, start, user, state and the command it runs — and the way to end
//! one. A session takes a [`Seat`] when it starts (dropped, whatever way the session
//! ends, it leaves the list) and tells it when a command begins and ends; ending a
//! seat's session sends the session [`End`], which it handles between commands like a
//! shutdown, with its own goodbye.

use crate::config::Protocol;
use actix::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// An administrator ended the session: say so and close the connection.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct End;

/// One session, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// What [`Connections::end`] takes.
    pub id: u64,
    /// `imap` or `pop3`.
    pub protocol: String,
    pub peer: String,
    /// The listener's address it came in on.
    pub listener: String,
    /// When it connected, in seconds since the Unix epoch.
    pub since: i64,
    pub user: Option<String>,
    /// The session's state after its last command (`not authenticated`, `selected`…).
    pub state: String,
    /// The command running now, if any.
    pub command: Option<String>,
}

#[derive(Debug)]
struct Entry {
    listed: Connection,
    end: CancellationToken,
}

/// The open sessions.
#[derive(Debug, Default)]
pub struct Connections {
    next: AtomicU64,
    open: Mutex<BTreeMap<u64, Entry>>,
}

impl Connections {
    /// Lists a new session of `protocol` from `peer` on the listener at `listener`.
    pub fn seat(
        self: &Arc<Self>,
        protocol: Protocol,
        peer: SocketAddr,
        listener: Option<SocketAddr>,
    ) -> Seat {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let end = CancellationToken::new();
        let listed = Connection {
            id,
            protocol: protocol.key().into(),
            peer: peer.to_string(),
            listener: listener.map(|l| l.to_string()).unwrap_or_default(),
            since: chrono::Utc::now().timestamp(),
            user: None,
            state: match protocol {
                Protocol::Imap => "not authenticated",
                Protocol::Pop3 => "authorization",
            }
            .into(),
            command: None,
        };
        let entry = Entry {
            listed,
            end: end.clone(),
        };
        self.lock().insert(id, entry);
        Seat {
            id,
            connections: self.clone(),
            end,
        }
    }

    /// Every open session, the oldest first.
    pub fn list(&self) -> Vec<Connection> {
        self.lock().values().map(|e| e.listed.clone()).collect()
    }

    /// Ends session `id`; false when there is no such session.
    pub fn end(&self, id: u64) -> bool {
        match self.lock().get(&id) {
            Some(entry) => {
                entry.end.cancel();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A session's place in the list; leaving it when dropped.
#[derive(Debug)]
pub struct Seat {
    id: u64,
    connections: Arc<Connections>,
    end: CancellationToken,
}

impl Seat {
    /// Delivers [`End`] to the session of `ctx` when an administrator ends it.
    pub fn deliver_end<A>(&self, ctx: &mut Context<A>)
    where
        A: Actor<Context = Context<A>> + Handler<End>,
    {
        let end = self.end.clone();
        ctx.add_message_stream(futures_util::stream::once(async move {
            end.cancelled().await;
            End
        }));
    }

    /// A command began.
    pub fn began(&self, command: &str) {
        self.update(|c| c.command = Some(command.to_owned()));
    }

    /// The last command ended, leaving the session in `state` with `user` logged in.
    pub fn ended(&self, user: Option<&str>, state: &str) {
        self.update(|c| {
            c.command = None;
            c.user = user.map(str::to_owned);
            state.clone_into(&mut c.state);
        });
    }

    fn update(&self, change: impl FnOnce(&mut Connection)) {
        if let Some(entry) = self.connections.lock().get_mut(&self.id) {
            change(&mut entry.listed);
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seat_is_listed_until_dropped_and_can_be_ended() {
        let connections = Arc::new(Connections::default());
        let peer: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let listener = "127.0.0.1:143".parse().ok();
        let first = connections.seat(Protocol::Imap, peer, listener);
        let second = connections.seat(Protocol::Pop3, peer, None);
        assert_eq!(connections.list()[0].listener, "127.0.0.1:143");
        first.began("LOGIN");
        assert_eq!(connections.list()[0].command.as_deref(), Some("LOGIN"));
        first.ended(Some("alice"), "authenticated");
        let listed = connections.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(
            (listed[0].user.as_deref(), listed[0].state.as_str()),
            (Some("alice"), "authenticated")
        );
        assert_eq!(
            (listed[0].command.as_ref(), listed[1].protocol.as_str()),
            (None, "pop3")
        );
        assert!(connections.end(listed[1].id));
        assert!(second.end.is_cancelled());
        assert!(!first.end.is_cancelled());
        drop(second);
        assert_eq!(connections.list().len(), 1);
        assert!(!connections.end(99));
    }
}
