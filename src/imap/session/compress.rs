//! COMPRESS (RFC 4978): after login, over plain TCP or TLS, the connection switches to
//! raw deflate both ways, once. The tagged OK is the last thing sent uncompressed and
//! the command's line the last thing read uncompressed: the input's framer inflates
//! from the next byte on (also what the client pipelined after the command), and the
//! output goes through a new writer that deflates it.

use super::{send_all, ImapSession, Mode, Work};
use crate::net::writer;
use actix::prelude::*;
use mailhive_protocol::imap::response::{status, Status};
use std::sync::atomic::Ordering;

impl ImapSession {
    /// `COMPRESS mechanism`: `OK`, then compression; `NO [COMPRESSIONACTIVE]` once it
    /// is on, `BAD` for a mechanism other than DEFLATE.
    pub(super) fn compress(&mut self, tag: &str, mechanism: &str) -> Work {
        if mechanism != "DEFLATE" {
            return self.bad(tag, "Unknown compression mechanism");
        }
        // After login only COMPRESS takes the connection over.
        let Some(handover) = self.handover.take() else {
            return self.no(
                tag,
                Some("COMPRESSIONACTIVE"),
                "DEFLATE compression is active already",
            );
        };
        let mut answer = self.announcements();
        answer.extend(status(Some(tag), Status::Ok, None, "DEFLATE active"));
        let out = std::mem::replace(&mut self.out, writer::closed());
        // The input framer looks at this before it reads the next command.
        self.compressed.store(true, Ordering::Relaxed);
        let stall = self.idle_timeout();
        let switch = async move {
            if !send_all(out.clone(), answer).await {
                return None;
            }
            handover.compress(out, stall).await
        };
        Box::pin(switch.into_actor(self).map(|out, act, ctx| match out {
            Some(out) => act.out = out,
            None => {
                act.mode = Mode::Closing;
                ctx.stop();
            }
        }))
    }
}
