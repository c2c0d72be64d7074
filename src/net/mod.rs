//! Networking shared by the protocol servers: accepting connections and spreading them
//! over one arbiter per core ([`listener`]), reading command lines through a bounded
//! codec ([`codec`]) and writing with backpressure ([`writer`]).

pub mod codec;
pub mod listener;
pub mod writer;
