//! Networking shared by the protocol servers: accepting connections and spreading them
//! over one arbiter per core ([`listener`]), plain or TLS streams ([`stream`], [`tls`]),
//! a session's connection ([`connection`]): reading through a task that notices a peer
//! that has gone ([`reader`]), command lines through a bounded codec ([`codec`]), and
//! writing with backpressure ([`writer`]), and COMPRESS=DEFLATE on both sides of it
//! ([`deflate`], [`inflate`]).

pub mod codec;
pub mod connection;
pub mod deflate;
pub mod inflate;
pub mod listener;
pub mod reader;
pub mod stream;
pub mod tls;
pub mod writer;
